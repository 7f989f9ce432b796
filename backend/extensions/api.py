"""flask-smorest subclassed once: the Api, Blueprint and Schema every resource uses."""
from __future__ import annotations

import flask_smorest
import marshmallow as ma
from sqlalchemy import func, select


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



def page_of(session, stmt, pagination_parameters, *order_by) -> list:
    """One page of a select's rows, setting the total that flask-smorest puts in the X-Pagination header."""
    pagination_parameters.item_count = session.scalar(select(func.count()).select_from(stmt.subquery()))
    page, size = pagination_parameters.page, pagination_parameters.page_size
    return list(session.scalars(stmt.order_by(*order_by).limit(size).offset((page - 1) * size)))
