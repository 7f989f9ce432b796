"""The demo town as users meet it: sized from DOMAIN.md, every demo account signs in and sees its areas."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from backend.demo.loader import DEMO_ACCOUNTS
from backend.extensions.database import get_session
from backend.models import Area, Department, Squad, User


def test_demo_town_is_sized_like_a_real_town(shared_app):
    with shared_app.app_context():
        s = get_session()
        counts = dict(s.execute(select(Area.kind, func.count()).group_by(Area.kind)).all())
        town_m2 = s.scalar(select(Area.area_m2).where(Area.kind == "town"))
        grid_m2 = sorted(s.scalars(select(Area.area_m2).where(Area.kind == "grid")))
        squads = s.scalars(select(Squad)).all()
        officers = s.scalars(select(User).where(User.certificate_no.is_not(None))).all()
        supervisors = s.scalars(select(User).where(User.village_id.is_not(None))).all()
        departments = s.scalar(select(func.count(Department.id)))
    assert counts == {"town": 1, "zone": 4, "grid": 243, "village": 76}
    assert 88e6 < town_m2 < 92e6
    assert grid_m2[0] < 10e4 < 100e4 < grid_m2[-1]  # a few hectares in the centre, km² in farmland
    assert len(squads) == 4 and all(len(sq.areas) == 1 and sq.areas[0].kind == "zone" for sq in squads)
    assert all(u.certificate_expires_on for u in officers) and len(officers) >= 24
    assert len({u.village_id for u in supervisors}) == 76
    assert departments >= 5


@pytest.mark.parametrize("username", DEMO_ACCOUNTS)
def test_every_demo_account_signs_in_with_a_chinese_name(shared_auth, username):
    user = shared_auth.user(username)
    assert user["username"] == username
    assert all("\u4e00" <= ch <= "\u9fff" for ch in user["display_name"])
