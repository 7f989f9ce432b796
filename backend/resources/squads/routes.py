"""Squads (中队): leaders, members, assigned zones and grids."""
from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...context import client_addr, current_user
from ...errors import NotFound
from ...extensions.api import Blueprint, link, links, page_of
from ...extensions.database import get_session
from ...models import Squad, User
from ...policies import require_admin, scoped_squads
from ...services.core import people
from .schemas import SquadCreateSchema, SquadSchema, SquadUpdateSchema

blp = Blueprint("squads", __name__, url_prefix="/api/v1/squads", description="Squads (中队)")


def _with_people(session: Session, squads: list[Squad]) -> list[Squad]:
    ids = [s.id for s in squads]
    members = session.scalars(select(User).where(User.squad_id.in_(ids), User.active).order_by(User.id)).all()
    for squad in squads:
        squad.members = [u for u in members if u.squad_id == squad.id]
        squad.leaders = [u for u in squad.members if u.has_role("squad_leader")]
    return squads


def _visible_squad(squad_id: int) -> Squad:
    session = get_session()
    squad = session.scalar(scoped_squads(select(Squad).where(Squad.id == squad_id), current_user()))
    if squad is None:
        raise NotFound()
    return squad


@blp.route("")
class Squads(MethodView):
    @blp.response(200, SquadSchema(many=True))
    @blp.paginate(page_size=100, max_page_size=500)
    def get(self, pagination_parameters):
        """Squads the caller may see, with leaders and members."""
        session = get_session()
        stmt = scoped_squads(select(Squad), current_user())
        return _with_people(session, page_of(session, stmt, pagination_parameters, Squad.id))

    @blp.arguments(SquadCreateSchema)
    @blp.doc(**links(201, get=link("/api/v1/squads/{squad_id}", "get", "The squad", squad_id="$response.body#/id"),
                     update=link("/api/v1/squads/{squad_id}", "patch", "Change it", squad_id="$response.body#/id")))
    @blp.response(201, SquadSchema)
    def post(self, data):
        """Create a squad and assign zones and grids (admins)."""
        session, actor = get_session(), current_user()
        require_admin(actor)
        squad = people.create_squad(session, actor, data, client_addr())
        session.commit()
        return _with_people(session, [squad])[0]


@blp.route("/<int:squad_id>")
class SquadById(MethodView):
    @blp.etag
    @blp.response(200, SquadSchema)
    def get(self, squad_id):
        """One squad."""
        return _with_people(get_session(), [_visible_squad(squad_id)])[0]

    @blp.etag
    @blp.arguments(SquadUpdateSchema)
    @blp.response(200, SquadSchema)
    def patch(self, data, squad_id):
        """Rename, reassign areas or deactivate a squad (admins; If-Match required)."""
        session, actor = get_session(), current_user()
        require_admin(actor)
        squad = _with_people(session, [_visible_squad(squad_id)])[0]
        blp.check_etag(squad, SquadSchema)
        people.update_squad(session, actor, squad, data, client_addr())
        session.commit()
        return _with_people(session, [squad])[0]
