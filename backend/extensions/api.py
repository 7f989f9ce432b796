"""flask-smorest subclassed once: the Api, Blueprint and Schema every resource uses."""
from __future__ import annotations

import flask_smorest
import marshmallow as ma
import orjson
from sqlalchemy import func, select
from webargs import core as webargs_core
from webargs.flaskparser import FlaskParser, is_json_request


class Api(flask_smorest.Api):
    def _register_error_handlers(self):
        # Errors are rendered by backend.errors in one shape; flask-smorest's own handler is not used.
        pass


class OrjsonParser(FlaskParser):
    """Request bodies through orjson: webargs parses with the standard library, 4-5 ms of a 2,000-fix batch
    (orjson: about 1 ms). Invalid JSON still takes webargs' own error path: orjson.JSONDecodeError is a
    json.JSONDecodeError."""

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return webargs_core.missing
        return orjson.loads(req.get_data(cache=True))


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = OrjsonParser()


class Schema(ma.Schema):
    class Meta:
        ordered = True
        unknown = ma.RAISE



def page_of(session, stmt, pagination_parameters, *order_by) -> list:
    """One page of a select's rows, setting the total that flask-smorest puts in the X-Pagination header."""
    pagination_parameters.item_count = session.scalar(select(func.count()).select_from(stmt.subquery()))
    page, size = pagination_parameters.page, pagination_parameters.page_size
    return list(session.scalars(stmt.order_by(*order_by).limit(size).offset((page - 1) * size)))
