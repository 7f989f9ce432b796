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
    """Build the towns' rasters now (0.3–0.6 s each) rather than in the first patrol batches a worker receives."""
    from sqlalchemy import inspect

    from .extensions.database import get_db, get_session
    from .services.patrol.coverage_regions import warm_up

    with app.app_context():
        if not inspect(get_db().engine).has_table("coverage_lattices"):
            return  # not migrated yet: the first request will say so
        session = get_session()
        warm_up(session)
        session.commit()  # the lattice rows, at their first use


try:
    _warm_up()
except Exception:  # noqa: BLE001 - a warm-up is an optimisation: the first request builds the raster instead
    logging.getLogger(__name__).warning("warming up the coverage raster failed", exc_info=True)

# Everything loaded so far (the app, SQLAlchemy's mappers, the raster) lives as long as the worker: keep it out
# of the cycle collector, whose full passes over ~120,000 objects were 100-150 ms pauses inside random requests.
gc.collect()
gc.freeze()
