"""flask-smorest subclassed once: the Api, Blueprint and Schema every resource uses."""
from __future__ import annotations

import flask_smorest
import marshmallow as ma


class Api(flask_smorest.Api):
    def _register_error_handlers(self):
        # Errors are rendered by backend.errors in one shape; flask-smorest's own handler is not used.
        pass


class Blueprint(flask_smorest.Blueprint):
    pass


class Schema(ma.Schema):
    class Meta:
        ordered = True
        unknown = ma.RAISE

