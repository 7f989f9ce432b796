"""Coverage per grid over a period, grids not visited for N days, and the coverage map as PNG tiles."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, UTC
from typing import Any

import numpy as np
from flask import Response, jsonify
from sqlalchemy import Row
from sqlalchemy.orm import Session

from ...context import current_user
from ...errors import NotFound
from ...extensions.api import Blueprint
from ...extensions.database import get_session
from ...models import Area, User
from ...policies import area_scope, coverage_filters, grids_under
from ...services.patrol import coverage_map, coverage_reader
from .schemas import CoverageQuerySchema, CoverageSchema, TileQuerySchema, UnvisitedQuerySchema, UnvisitedSchema

blp = Blueprint("coverage", __name__, url_prefix="/api/v1/coverage", description="Patrol coverage (巡查覆盖)")


def _grids(session: Session, user: User, area_id: int | None) -> Sequence[Row[Any]]:
    """(id, name, code) of the grids the caller may see, under `area` when given; Core rows, not Area objects
    (loading them with their geometry cost more than the whole coverage computation)."""
    stmt = grids_under(session, area_scope(session, user), area_id).order_by(Area.id)
    return session.connection().execute(stmt).all()


def _iso_utc(seconds: np.ndarray) -> list[str | None]:
    """Unix seconds as ISO 8601 UTC ('2026-11-20T08:00:00+00:00'), None for NaN; vectorized for a town's grids."""
    known = ~np.isnan(seconds)
    text = np.char.add(np.datetime_as_string(np.where(known, seconds, 0).astype("datetime64[s]"), unit="s"), "+00:00")
    return [t if k else None for t, k in zip(text.tolist(), known.tolist(), strict=True)]


def _period(query):
    day_from = query.get("date_from") or coverage_reader.today_local()
    return day_from, query.get("date_to") or day_from


@blp.route("")
@blp.arguments(CoverageQuerySchema, location="query")
@blp.response(200, CoverageSchema)
def get_coverage(query):
    """Per grid: covered share and m², patrols, officers and last visit over local days [from, to]."""
    session, user = get_session(), current_user()
    squad_id, officer_id = coverage_filters(user, query.get("squad"), query.get("officer"))
    grids = _grids(session, user, query.get("area"))
    day_from, day_to = _period(query)
    ids, names, codes = (list(column) for column in zip(*grids)) if grids else ([], [], [])
    table = coverage_reader.coverage_by_grid(session, ids, day_from, day_to, squad_id, officer_id)
    # Serialised by hand from columns: marshmallow took longer than the query for a town's grids (the schema
    # documents the shape), and reading fields off a thousand rows cost 2 ms.
    ratios = np.round(table.covered_ratio, 5).tolist()
    covered_m2 = np.round(table.covered_m2, 1).tolist()
    items = [{"grid_id": grid_id, "name": name, "code": code, "area_m2": area, "covered_ratio": ratio,
              "covered_m2": m2, "patrols": patrols, "officers": officers, "last_visited_at": last}
             for grid_id, name, code, ratio, m2, area, patrols, officers, last in zip(
                 ids, names, codes, ratios, covered_m2, table.area_m2, table.patrols, table.officers,
                 _iso_utc(table.last_visited_s), strict=True)]
    return jsonify({"from": day_from.isoformat(), "to": day_to.isoformat(), "items": items})


@blp.route("/unvisited")
@blp.arguments(UnvisitedQuerySchema, location="query")
@blp.response(200, UnvisitedSchema)
def get_unvisited(query):
    """Grids nobody (in the squad or officer filter) came within R of in the last `days` days; never first."""
    session, user = get_session(), current_user()
    squad_id, officer_id = coverage_filters(user, query.get("squad"), query.get("officer"))
    grids = _grids(session, user, query.get("area"))
    last = coverage_reader.last_visits(session, [g.id for g in grids], squad_id, officer_id)
    now = datetime.now(UTC)
    cutoff = now - timedelta(days=query["days"])
    items = [{"grid_id": g.id, "name": g.name, "code": g.code, "last_visited_at": last.get(g.id),
              "days_since": (now - last[g.id]).days if g.id in last else None}
             for g in grids if g.id not in last or last[g.id] < cutoff]
    items.sort(key=lambda i: (i["last_visited_at"] is not None, i["last_visited_at"] or now))
    return {"days": query["days"], "items": items}


@blp.route("/tiles/<int:z>/<int:x>/<int:y>.png")
@blp.arguments(TileQuerySchema, location="query")
@blp.response(200, description="256×256 PNG: covered cells green, uncovered red, transparent elsewhere")
def get_tile(query, z, x, y):
    """The coverage map for the same query as GET /coverage, as Web Mercator XYZ tiles."""
    session, user = get_session(), current_user()
    squad_id, officer_id = coverage_filters(user, query.get("squad"), query.get("officer"))
    if not (0 <= z <= 22 and 0 <= x < 2**z and 0 <= y < 2**z):
        raise NotFound()
    grids = _grids(session, user, query.get("area"))
    day_from, day_to = _period(query)
    png = coverage_map.render_tile(session, z, x, y, [g.id for g in grids], day_from, day_to, squad_id, officer_id,
                                   gcj02=query["crs"] == "gcj02")
    return Response(png, mimetype="image/png", headers={"Cache-Control": "private, max-age=60"})
