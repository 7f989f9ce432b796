"""Patrols: start, send fixes (idempotent batches), end, read, track as GeoJSON. Scoped by policies."""
from __future__ import annotations

from datetime import datetime, UTC

from flask import Response, current_app
from werkzeug.datastructures import FileStorage
from flask.views import MethodView
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...context import client_addr, current_user
from ...extensions.api import Blueprint, link, links, page_of
from ...extensions import plain_sql
from ...extensions.database import get_session
from ...errors import InvalidInput
from ...limits import INT_MAX
from ...models import Patrol, User
from ...policies import area_scope, require_patrol_officer, require_planner, require_track_importer, scoped_patrols
from ...services.patrol import coverage_reader, exports, intake, positions
from ...services.patrol.running import PatrolRunning
from .schemas import (
    BatchAnswerSchema, GpxImportAnswerSchema, PatrolCoverageSchema, PositionsQuerySchema, PositionsSchema,
    TrackQuerySchema, GpxImportSchema, PatrolEndSchema, PatrolQuerySchema, PatrolSchema, PatrolStartSchema, PointsBatchSchema,
)

blp = Blueprint("patrols", __name__, url_prefix="/api/v1/patrols", description="Patrols (网格巡查)")


def _patrol_links(pointer: str) -> dict:
    p = "/api/v1/patrols/{patrol_id}"
    return {"get": link(p, "get", "The patrol", patrol_id=pointer),
            "points": link(f"{p}/points", "post", "Send a batch of fixes", patrol_id=pointer),
            "end": link(f"{p}/end", "post", "End it", patrol_id=pointer),
            "track": link(f"{p}/track", "get", "Its track", patrol_id=pointer),
            "coverage": link(f"{p}/coverage", "get", "The grids it covered", patrol_id=pointer)}


@blp.route("")
class Patrols(MethodView):
    @blp.arguments(PatrolQuerySchema, location="query")
    @blp.response(200, PatrolSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=500)
    def get(self, query, pagination_parameters):
        """Patrols the caller may see, newest first."""
        stmt = scoped_patrols(select(Patrol), current_user())
        if "officer" in query:
            stmt = stmt.where(Patrol.officer_id == query["officer"])
        if "squad" in query:
            stmt = stmt.where(Patrol.squad_id == query["squad"])
        if "active" in query:
            stmt = stmt.where(Patrol.ended_at.is_(None) if query["active"] else Patrol.ended_at.is_not(None))
        return page_of(get_session(), stmt, pagination_parameters, Patrol.started_at.desc(), Patrol.id.desc())

    @blp.arguments(PatrolStartSchema)
    @blp.doc(**links(201, **_patrol_links("$response.body#/id")))
    @blp.response(201, PatrolSchema)
    @blp.alt_response(200, schema=PatrolSchema, description="A retry: the patrol this client id started")
    def post(self, data):
        """Start a patrol (officers). Idempotent on client_id. While another patrol of the officer runs (another
        phone), a new client_id is a 409 `patrol_running` whose details hold that patrol: resume or end it."""
        session, user = get_session(), current_user()
        require_patrol_officer(user)
        try:
            patrol, created = intake.start_patrol(session, user, area_scope(session, user), data, client_addr(),
                                                  idle_s=current_app.config["GRIDPATROL"].patrol_idle_end_s)
        except PatrolRunning as running:
            session.commit()  # stale patrols it ended on the way stay ended
            running.details = {"patrol": PatrolSchema().dump(running.patrol)}
            raise
        session.commit()
        return patrol, 201 if created else 200


@blp.route("/import", methods=["POST"])
@blp.arguments(GpxImportSchema, location="multipart")
@blp.doc(**links(201, **_patrol_links("$response.body#/patrol_id")))
@blp.response(201, GpxImportAnswerSchema)
@blp.alt_response(200, schema=GpxImportAnswerSchema, description="The same file again: the patrol it created")
def import_gpx(form):
    """A GPX 1.0/1.1 file from a GPS logger or body camera as one patrol of `officer` (leaders, commanders, admins)."""
    session, actor = get_session(), current_user()
    require_planner(actor)
    upload = form.get("file")
    if not isinstance(upload, FileStorage):
        raise InvalidInput("file_required", details={"fields": {"file": "required"}})
    officer = _officer(session, form["officer"])
    require_track_importer(actor, officer)
    if officer is None or not officer.has_role("officer"):
        raise InvalidInput("validation_error", details={"fields": {"officer": "not_an_officer"}})
    _, answer, created = intake.import_gpx(session, actor, officer, upload.read(), upload.filename, client_addr())
    session.commit()
    return answer, 201 if created else 200


def _officer(session: Session, ref: str) -> User | None:
    """The user a username or id names, None for nobody (whether it is an officer is checked after the policy)."""
    # ASCII digits only: '²'.isdigit() is true and int() refuses it; an id past INTEGER names nobody.
    by_id = ref.isascii() and ref.isdigit()
    if by_id and int(ref) > INT_MAX:
        return None
    return session.scalar(select(User).where(User.id == int(ref) if by_id else User.username == ref))


@blp.route("/<int:patrol_id>")
@blp.response(200, PatrolSchema)
def get_patrol(patrol_id):
    """One patrol with its summary: fixes stored, distance, duration, moving time, gaps, flags."""
    return intake.visible_patrol(get_session(), current_user(), patrol_id)


@blp.route("/<int:patrol_id>/points", methods=["POST"])
@blp.arguments(PointsBatchSchema)
@blp.response(200, BatchAnswerSchema)
def add_points(data, patrol_id):
    """Up to 5,000 fixes. Idempotent on batch_id: the same batch again changes nothing and answers the same."""
    session, user = get_session(), current_user()
    with plain_sql.deferred_writes(session):  # the hot path: writes nobody reads travel with the COMMIT
        patrol = intake.visible_patrol(session, user, patrol_id, for_update=True)
        answer = intake.add_points(session, user, patrol, data["batch_id"], data["points"], client_addr())
        plain_sql.commit(session)
    return answer


@blp.route("/<int:patrol_id>/end", methods=["POST"])
@blp.arguments(PatrolEndSchema, required=False)
@blp.response(200, PatrolSchema)
def end_patrol(data, patrol_id):
    """End the patrol; fixes after the end are no longer stored."""
    session, user = get_session(), current_user()
    patrol = intake.visible_patrol(session, user, patrol_id)
    intake.end_patrol(session, user, patrol, data.get("ended_at") or datetime.now(UTC), client_addr())
    session.commit()
    return patrol


@blp.route("/<int:patrol_id>/track")
@blp.arguments(TrackQuerySchema, location="query")
@blp.response(200)
def get_track(query, patrol_id):
    """The track. GeoJSON: kept lines (never across a gap), gaps, dropped fixes with their reason. GPX and KML:
    the kept lines, one segment per unbroken part."""
    session = get_session()
    patrol = intake.visible_patrol(session, current_user(), patrol_id)
    if query["format"] == "gpx":
        return Response(exports.track_gpx(session, patrol), mimetype="application/gpx+xml", headers={
            "Content-Disposition": f'attachment; filename="patrol-{patrol.id}.gpx"'})
    if query["format"] == "kml":
        return Response(exports.track_kml(session, patrol), mimetype="application/vnd.google-earth.kml+xml",
                        headers={"Content-Disposition": f'attachment; filename="patrol-{patrol.id}.kml"'})
    return exports.track_geojson(session, patrol)


@blp.route("/<int:patrol_id>/coverage")
@blp.response(200, PatrolCoverageSchema)
def get_patrol_coverage(patrol_id):
    """Covered share and m² of each grid this patrol's kept track came within R of."""
    session = get_session()
    return {"items": coverage_reader.patrol_coverage(session, intake.visible_patrol(session, current_user(), patrol_id))}


@blp.route("/positions")
@blp.arguments(PositionsQuerySchema, location="query")
@blp.response(200, PositionsSchema)
def get_positions(query):
    """Each visible officer's last kept fix and time, from their latest patrol (leaders: their squad)."""
    return {"items": positions.last_positions(get_session(), current_user(), query.get("squad"))}
