"""WSGI entry point for gunicorn: `gunicorn backend.wsgi:app`."""
import gc
import logging

from . import create_app
from .extensions.database import start_wal_checkpoints
from .housekeeping import start_housekeeping

app = create_app()
start_wal_checkpoints(app.extensions["gridpatrol_db"].engine)
start_housekeeping(app)


def _warm_up() -> None:
    """Build the town raster now (0.4–0.6 s) rather than in the first patrol batch a worker receives."""
    from sqlalchemy import inspect

    from .extensions.database import get_db, get_session
    from .services.patrol.coverage import town_raster

    with app.app_context():
        if not inspect(get_db().engine).has_table("coverage_lattice"):
            return  # not migrated yet: the first request will say so
        session = get_session()
        town_raster(session)
        session.commit()  # the lattice row, when this is the first use


try:
    _warm_up()
except Exception:  # noqa: BLE001 - a warm-up is an optimisation: the first request builds the raster instead
    logging.getLogger(__name__).warning("warming up the coverage raster failed", exc_info=True)

# Everything loaded so far (the app, SQLAlchemy's mappers, the raster) lives as long as the worker: keep it out
# of the cycle collector, whose full passes over ~120,000 objects were 100-150 ms pauses inside random requests.
gc.collect()
gc.freeze()
