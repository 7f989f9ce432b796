"""flask-smorest subclassed once: the Api, Blueprint and Schema every resource uses, and the input bounds they all
apply (backend.limits): no string with NUL, no integer the columns cannot hold, no time Python cannot convert,
in bodies, query strings, forms and paths alike. Refused values are 400s naming the field, in both languages."""
from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import flask_smorest
import flask_smorest.pagination
import marshmallow as ma
import orjson
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session
from webargs import core as webargs_core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.routing import IntegerConverter

from ..errors import InvalidInput, Text
from ..limits import (
    EARLIEST_DATE, EARLIEST_UTC, INT_MAX, INT_MIN, LATEST_DATE, LATEST_UTC, NUL, date_in_range, datetime_in_range,
)

NO_NUL_PATTERN = "^[^\x00]*$"

_INT_RANGE = Text(f"须为 {INT_MIN} 到 {INT_MAX} 之间的整数", f"Must be an integer between {INT_MIN} and {INT_MAX}.")
_NUL = Text("不能包含空字符（U+0000）", "Must not contain the NUL character (U+0000).")
_DATETIME_RANGE = Text(
    f"时间须在 {EARLIEST_UTC:%Y-%m-%d} 到 {LATEST_UTC:%Y-%m-%d}（UTC）之间",
    f"Must lie between {EARLIEST_UTC:%Y-%m-%d} and {LATEST_UTC:%Y-%m-%d} (UTC).",
)
_DATE_RANGE = Text(f"日期须在 {EARLIEST_DATE} 到 {LATEST_DATE} 之间",
                   f"Must lie between {EARLIEST_DATE} and {LATEST_DATE}.")


class Api(flask_smorest.Api):
    ERROR_SCHEMA: type[ma.Schema] | None = None  # set below, once ErrorSchema exists

    def init_app(self, app, *, spec_kwargs=None):
        # Path ids through the same bounds as every other input (they are ids of INTEGER columns).
        app.url_map.converters["int"] = IdConverter
        app.url_value_preprocessor(_check_path_values)
        super().init_app(app, spec_kwargs=spec_kwargs)
        self.register_converter(IdConverter, lambda _conv: {"type": "integer", "minimum": 0, "maximum": INT_MAX})

    def _register_error_handlers(self):
        # Errors are rendered by extensions.http_errors in one shape; flask-smorest's own handler is not used.
        pass

    def _register_pagination_header(self):
        # The header is one JSON text; documented as an object, clients (and schemathesis) read it as the
        # comma-separated "simple" style of OpenAPI headers.
        self.spec.components.header("PAGINATION", {
            "description": "JSON: {total, total_pages, first_page, last_page, page, previous_page, next_page}",
            "schema": {"type": "string"}}, lazy=True)


PUBLIC: dict[str, list[Any]] = {"security": []}  # blp.doc(**PUBLIC) on the routes reachable without a token (context.PUBLIC_ENDPOINTS)


def link(path: str, method: str, description: str, request_body: dict[str, Any] | None = None,
         **parameters: str) -> dict[str, Any]:
    """An OpenAPI link to another operation, its parameters taken from this answer (e.g. "$response.body#/id"):
    how a client (and schemathesis' stateful phase) goes from a created thing to what can be done with it."""
    pointer = path.replace("~", "~0").replace("/", "~1")
    out: dict[str, Any] = {"operationRef": f"#/paths/{pointer}/{method}", "description": description}
    if parameters:
        out["parameters"] = parameters
    if request_body is not None:
        out["requestBody"] = request_body
    return out


def links(status: int, **named: dict[str, Any]) -> dict[str, Any]:
    """blp.doc(**links(201, name=link(...))): the links of one answer (the status an int, as flask-smorest's)."""
    return {"responses": {status: {"links": named}}}


class IdConverter(IntegerConverter):
    """`<int:...>` in routes: werkzeug's, documented with the bound that _check_path_values applies (a converter
    cannot name its parameter in an error, and an out-of-range id is a bad request, not a missing page)."""


def _check_path_values(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    bad = {name: [_INT_RANGE] for name, value in (values or {}).items()
           if isinstance(value, int) and not INT_MIN <= value <= INT_MAX}
    if bad:
        raise InvalidInput("validation_error", details={"fields": bad})


class OrjsonParser(FlaskParser):
    """Request bodies through orjson: webargs parses with the standard library, 4-5 ms of a 2,000-fix batch
    (orjson: about 1 ms). Invalid JSON still takes webargs' own error path: orjson.JSONDecodeError is a
    json.JSONDecodeError. Validation failures are 400s, as documented (webargs says 422)."""

    DEFAULT_VALIDATION_STATUS = 400
    __location_map__ = {**FlaskParser.__location_map__, "multipart": "load_multipart"}

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return webargs_core.missing
        data = req.get_data(cache=True)
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            # webargs takes an error whose `doc` is empty for "no body"; orjson leaves it empty for bytes that
            # are not UTF-8, which let an invalid body through as none at all.
            if not data:
                raise
            raise json.JSONDecodeError(exc.msg, data.decode("utf-8", "replace"), exc.pos) from exc

    def load_multipart(self, req, schema):
        """Form fields and files of a multipart upload as one schema: OpenAPI 3 describes them as one
        multipart/form-data body (two schemas became an OpenAPI 2 `formData` parameter, which is invalid)."""
        return self._makeproxy(CombinedMultiDict([req.form, req.files]), schema)


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = OrjsonParser()
    PAGINATION_ARGUMENTS_PARSER = OrjsonParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **flask_smorest.Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING, "multipart": "multipart/form-data"}


# --- bounds on every field -----------------------------------------------------------------------------------

def _no_nul(value: object) -> None:
    if isinstance(value, str) and NUL in value:
        raise ma.ValidationError([_NUL])


class _IntRange(ma.validate.Range):
    """A Range, so that the OpenAPI document states it (apispec keeps the tightest of several), whose message
    is in both languages."""

    def __call__(self, value):
        if isinstance(value, int) and not INT_MIN <= value <= INT_MAX:
            raise ma.ValidationError([_INT_RANGE])
        return value


def _datetime_in_range(value: datetime) -> None:
    if not datetime_in_range(value):
        raise ma.ValidationError([_DATETIME_RANGE])


def _date_in_range(value: date) -> None:
    if not date_in_range(value):
        raise ma.ValidationError([_DATE_RANGE])


def bound_field(field: ma.fields.Field) -> None:
    """Add the storage bounds to a field and to the fields inside it (list items, dict keys and values)."""
    if isinstance(field, ma.fields.List):
        bound_field(field.inner)
    elif isinstance(field, ma.fields.Tuple):
        for inner in field.tuple_fields:
            bound_field(inner)
    elif isinstance(field, ma.fields.Mapping):
        for key_or_value in (field.key_field, field.value_field):
            if key_or_value is not None:
                bound_field(key_or_value)
    elif isinstance(field, ma.fields.String):
        field.validators.append(_no_nul)
        if not any(isinstance(v, ma.validate.Regexp) for v in field.validators):  # apispec documents one pattern
            field.metadata = {**field.metadata, "pattern": NO_NUL_PATTERN}
    elif isinstance(field, ma.fields.Integer):
        field.validators.append(_IntRange(INT_MIN, INT_MAX))
    elif isinstance(field, ma.fields.DateTime):
        field.validators.append(_datetime_in_range)
    elif isinstance(field, ma.fields.Date):
        field.validators.append(_date_in_range)


class Schema(ma.Schema):
    class Meta:
        ordered = True
        unknown = ma.RAISE

    def on_bind_field(self, field_name: str, field_obj: ma.fields.Field) -> None:
        bound_field(field_obj)


class ErrorSchema(Schema):
    """Every error answer, whatever its status (extensions.http_errors renders them)."""

    code = ma.fields.Str(required=True, metadata={"description": "what went wrong, e.g. validation_error, "
                                                                 "invalid_credentials, account_locked, not_found"})
    message = ma.fields.Str(required=True, metadata={"description": "for people, in the request's language"})
    details = ma.fields.Dict(required=True, metadata={
        "description": "machine-readable specifics; `fields` names each refused field"})


Api.ERROR_SCHEMA = ErrorSchema


def _pagination_schema(def_page, def_page_size, def_max_page_size):
    """flask-smorest's pagination parameters, on our Schema: a page number the OFFSET can hold."""

    class PaginationParametersSchema(Schema):
        class Meta:
            unknown = ma.EXCLUDE

        page = ma.fields.Integer(load_default=def_page, validate=ma.validate.Range(min=1))
        page_size = ma.fields.Integer(load_default=def_page_size,
                                      validate=ma.validate.Range(min=1, max=def_max_page_size))

        @ma.post_load
        def make_paginator(self, data, **kwargs):
            return flask_smorest.pagination.PaginationParameters(**data)

    return PaginationParametersSchema


# Blueprint.paginate builds its schema through this module function; ours bounds `page` like every integer
# (page 2^62 × page_size overflowed OFFSET on both databases). tests/extensions/test_api.py fails if it stops working.
flask_smorest.pagination._pagination_parameters_schema_factory = _pagination_schema


def page_of(session: Session, stmt: Select[Any], pagination_parameters: Any, *order_by: Any) -> list[Any]:
    """One page of a select's rows, setting the total that flask-smorest puts in the X-Pagination header."""
    pagination_parameters.item_count = session.scalar(select(func.count()).select_from(stmt.subquery()))
    page, size = pagination_parameters.page, pagination_parameters.page_size
    return list(session.scalars(stmt.order_by(*order_by).limit(size).offset((page - 1) * size)))
