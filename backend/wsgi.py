"""WSGI entry point for gunicorn: `gunicorn backend.wsgi:app`."""
from . import create_app
from .extensions.database import start_wal_checkpoints

app = create_app()
start_wal_checkpoints(app.extensions["gridpatrol_db"].engine)
