"""The edge between the core and HTTP: domain errors (backend.errors) become HTTP statuses and the one JSON error
shape, {code, message, details}, in the language the request asks for (Accept-Language: zh-CN by default)."""
from __future__ import annotations

import logging

import psycopg
from flask import Flask, has_request_context, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import DataError, IntegrityError
from werkzeug.exceptions import HTTPException

from ..errors import (
    Conflict, DomainError, InvalidInput, Locked, NotAllowed, NotAuthenticated, NotFound, TooLarge, TooManyAttempts,
    Unavailable, Unprocessable, UnsupportedMedia,
)
from ..i18n import error_message, field_texts, localize, message
from ..services.evidence.uploads import ChecksumMismatch, WrongProtocol
from .database import sqlite_dbapi_module

log = logging.getLogger(__name__)

STATUS: dict[type[DomainError], int] = {
    InvalidInput: 400, Unprocessable: 422, NotAuthenticated: 401, NotAllowed: 403, NotFound: 404, Conflict: 409, TooLarge: 413,
    UnsupportedMedia: 415, Locked: 423, ChecksumMismatch: 460, WrongProtocol: 412, Unavailable: 503,
    TooManyAttempts: 429,
}

_HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    409: "conflict", 412: "precondition_failed", 413: "payload_too_large", 415: "unsupported_media_type",
    428: "precondition_required", 429: "too_many_requests",
}


def request_language() -> str:
    """'en' when the request prefers English, else 'zh-CN' (also outside a request: the CLI speaks Chinese)."""
    if not has_request_context():
        return "zh-CN"
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"], default="zh-CN")
    return "en" if best == "en" else "zh-CN"


def localized(value):
    """A value for the response, every Text in it in the request's language."""
    return localize(value, request_language())


def status_of(error: DomainError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def error_body(code: str, text: str, details: dict | None = None) -> dict:
    return {"code": code, "message": text, "details": details or {}}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError) -> ResponseReturnValue:
        lang = request_language()
        return jsonify(error_body(exc.code, error_message(exc, lang), localize(exc.details, lang))), status_of(exc)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> ResponseReturnValue:
        status = exc.code or 500
        lang = request_language()
        if status == 422 or (status == 400 and getattr(exc, "data", None)):
            # webargs/marshmallow validation failures: field details, never the raw exception text
            messages = (getattr(exc, "data", None) or {}).get("messages", {})
            fields = {}
            for location in messages.values():
                if isinstance(location, dict):
                    fields.update(location)
                else:  # a body that is not JSON at all: webargs names no field
                    fields.setdefault("_schema", []).extend(location)
            return jsonify(error_body("validation_error", message("validation_error", lang),
                                      {"fields": localize(field_texts(fields), lang)})), 400
        code = _HTTP_CODES.get(status, "bad_request" if status < 500 else "internal_error")
        # Keep what the exception says in headers besides its body's type: Allow on a 405 (RFC 9110).
        headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
        return jsonify(error_body(code, message(code, lang))), status, headers

    def _integrity_error(exc: Exception) -> ResponseReturnValue:
        log.info("integrity error: %s", getattr(exc, "orig", exc))
        return jsonify(error_body("conflict", message("conflict", request_language()))), 409

    # SQLAlchemy's, and the drivers' own from the plain SQL of the batch path (extensions.plain_sql).
    for integrity_error in (IntegrityError, psycopg.IntegrityError, sqlite_dbapi_module().IntegrityError):
        app.register_error_handler(integrity_error, _integrity_error)

    def _data_error(exc: Exception) -> ResponseReturnValue:
        # A value the database refused (out of range, too long, NUL) that the edge's bounds (extensions.api) did
        # not catch: still the client's input, so a 400 and nothing stored; logged as the bug in the bounds it is.
        log.error("the database refused a value the input bounds let through: %s", getattr(exc, "orig", exc))
        return jsonify(error_body("bad_request", message("bad_request", request_language()))), 400

    for data_error in (DataError, psycopg.DataError, sqlite_dbapi_module().DataError):
        app.register_error_handler(data_error, _data_error)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> ResponseReturnValue:
        log.exception("unhandled error")
        return jsonify(error_body("internal_error", message("internal_error", request_language()))), 500
