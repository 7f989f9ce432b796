"""Typed domain errors and the one JSON error shape: {code, message, details}."""
from __future__ import annotations

import logging

import psycopg
from flask import Flask, jsonify
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from .extensions.database import sqlite_dbapi_module
from .i18n import message

log = logging.getLogger(__name__)


class AppError(Exception):
    """A domain error a service raises; turned into an HTTP answer in one place."""

    status = 400
    code = "bad_request"

    def __init__(self, code: str | None = None, *, details: dict | None = None, text: str | None = None, **params):
        super().__init__(code or self.code)
        self.code = code or self.code
        self.details = details or {}
        self.text = text  # an already-translated message, when a lower layer supplies one
        self.params = params

    def message(self) -> str:
        return self.text or message(self.code, **self.params)


class BadRequest(AppError):
    status, code = 400, "bad_request"


class Unauthorized(AppError):
    status, code = 401, "unauthorized"


class Forbidden(AppError):
    status, code = 403, "forbidden"


class NotFound(AppError):
    status, code = 404, "not_found"


class Conflict(AppError):
    status, code = 409, "conflict"


class Locked(AppError):
    status, code = 423, "account_locked"


class Unprocessable(AppError):
    status, code = 422, "validation_error"


_HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    409: "conflict", 412: "precondition_failed", 413: "payload_too_large", 415: "unsupported_media_type",
    428: "precondition_required", 429: "too_many_requests",
}


def error_body(code: str, text: str, details: dict | None = None) -> dict:
    return {"code": code, "message": text, "details": details or {}}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(AppError)
    def _app_error(exc: AppError):
        return jsonify(error_body(exc.code, exc.message(), exc.details)), exc.status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        if status == 422 or (status == 400 and getattr(exc, "data", None)):
            # webargs/marshmallow validation failures: field details, never the raw exception text
            messages = (getattr(exc, "data", None) or {}).get("messages", {})
            fields = {}
            for location in messages.values():
                if isinstance(location, dict):
                    fields.update(location)
                else:  # a body that is not JSON at all: webargs names no field
                    fields.setdefault("_schema", []).extend(location)
            return jsonify(error_body("validation_error", message("validation_error"), {"fields": fields})), 400
        code = _HTTP_CODES.get(status, "bad_request" if status < 500 else "internal_error")
        return jsonify(error_body(code, message(code))), status

    def _integrity_error(exc: Exception):
        log.info("integrity error: %s", getattr(exc, "orig", exc))
        return jsonify(error_body("conflict", message("conflict"))), 409

    # SQLAlchemy's, and the drivers' own from the plain SQL of the hot paths (extensions.plain_sql).
    for integrity_error in (IntegrityError, psycopg.IntegrityError, sqlite_dbapi_module().IntegrityError):
        app.register_error_handler(integrity_error, _integrity_error)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return jsonify(error_body("internal_error", message("internal_error"))), 500
