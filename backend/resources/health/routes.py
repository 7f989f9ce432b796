"""GET /api/health: liveness with the database kind, schema revision and version."""
from __future__ import annotations

from sqlalchemy import text

from ... import __version__
from ...extensions.api import PUBLIC, Blueprint
from ...extensions.database import get_db, get_session

blp = Blueprint("health", __name__, url_prefix="/api", description="Service health")


@blp.route("/health")
@blp.doc(**PUBLIC)
@blp.response(200)
def health():
    """Database kind, schema revision and version."""
    session = get_session()
    try:
        revision = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # noqa: BLE001 - an unmigrated database is reported, not an error
        session.rollback()
        revision = None
    return {"status": "ok", "database": get_db().kind, "revision": revision, "version": __version__}
