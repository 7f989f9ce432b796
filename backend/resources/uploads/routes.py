"""Resumable uploads (tus 1.0: core, creation, checksum, expiration, termination) of evidence files, with the
caller's token like every other route. Declare the evidence first (POST /api/v1/evidence without a file), then
create an upload with Upload-Metadata `evidence` (its client_id) and `role` (original or display)."""
from __future__ import annotations

import re
from email.utils import format_datetime

from flask import Response, current_app, request
from flask.views import MethodView
from werkzeug.exceptions import ClientDisconnected

from ...context import client_addr, current_user
from ...errors import Conflict, DomainError, InvalidInput, Text, UnsupportedMedia
from ...extensions.api import PUBLIC, Blueprint
from ...extensions.database import get_session

from ...models import Upload
from ...policies import require_evidence_uploader
from ...services.evidence import files as evidence_files
from ...services.evidence import uploads

blp = Blueprint("uploads", __name__, url_prefix="/api/v1/uploads",
                description="Resumable uploads of evidence files (tus 1.0)")

OFFSET_TYPE = "application/offset+octet-stream"
# tus answers a missing or other version with 412 (not a 400), so the header is documented as a string the
# server checks, not as a required enum that a client tool would reject before sending.
_TUS_HEADER = {"name": "Tus-Resumable", "in": "header", "required": False, "schema": {"type": "string"},
               "description": f"`{uploads.TUS_VERSION}`, as tus requires; without it or with another version: 412"}
_TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")
_TOKEN = {"name": "token", "in": "path", "required": True,
          "schema": {"type": "string", "pattern": f"^{_TOKEN_PATTERN.pattern}$"}}
_NOT_A_TOKEN = Text("不是有效的上传地址，请重新开始上传", "Not an upload address; start the upload again.")


@blp.before_request
def _protocol_version():
    if request.method != "OPTIONS" and request.headers.get("Tus-Resumable") != uploads.TUS_VERSION:
        raise uploads.WrongProtocol(version=uploads.TUS_VERSION)
    token = (request.view_args or {}).get("token")
    if token is not None and not _TOKEN_PATTERN.fullmatch(token):
        # never a lookup: a NUL cannot even be sent to PostgreSQL
        raise InvalidInput("validation_error", details={"fields": {"token": [_NOT_A_TOKEN]}})


@blp.after_request
def _tus_headers(response: Response) -> Response:
    # On every answer, errors included: a 412 for another protocol version must name the one spoken here.
    response.headers["Tus-Resumable"] = uploads.TUS_VERSION
    response.headers["Tus-Version"] = uploads.TUS_VERSION
    response.headers["Cache-Control"] = "no-store"  # offsets must never come from a cache
    return response


def _expires(upload: Upload) -> str:
    return format_datetime(upload.expires_at, usegmt=True)


def _int_header(name: str, required: bool = True) -> int | None:
    raw = request.headers.get(name)
    if raw is None:
        if required:
            raise InvalidInput("validation_error", details={"fields": {name: "required"}})
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise InvalidInput("validation_error", details={"fields": {name: "not a non-negative integer"}})
    return int(raw)


class _Body:
    """request.stream with a dropped connection as an OSError, which the core understands (it knows no werkzeug)."""

    def __init__(self, stream: uploads.Readable) -> None:
        self.stream = stream

    def read(self, size: int = -1) -> bytes:
        try:
            return self.stream.read(size)
        except ClientDisconnected as exc:
            raise ConnectionError("client disconnected") from exc


@blp.route("", methods=["OPTIONS"])
@blp.doc(**PUBLIC, responses={204: {"description": "What this server speaks: Tus-Version, Tus-Extension, "
                                                   "Tus-Max-Size, Tus-Checksum-Algorithm"}})
def discover():
    """The tus protocol's discovery."""
    response = Response(status=204)
    response.headers.update({"Tus-Version": uploads.TUS_VERSION, "Tus-Extension": ",".join(uploads.TUS_EXTENSIONS),
                             "Tus-Max-Size": str(current_app.config["GRIDPATROL"].evidence_max_bytes),
                             "Tus-Checksum-Algorithm": ",".join(uploads.CHECKSUMS)})
    return response


@blp.route("", methods=["POST"])
@blp.doc(parameters=[_TUS_HEADER,
                     {"name": "Upload-Length", "in": "header", "required": True,
                      "schema": {"type": "integer", "minimum": 1}},
                     {"name": "Upload-Metadata", "in": "header", "required": True, "schema": {"type": "string"},
                      "description": "base64 pairs: `evidence` (the record's client_id), `role` (original | display)"}],
         responses={201: {"description": "Created: Location is the upload's URL",
                          "headers": {"Location": {"schema": {"type": "string"}},
                                      "Upload-Expires": {"schema": {"type": "string"}}}}})
def create_upload():
    """Create an upload for one file of an evidence record the caller declared."""
    session, user = get_session(), current_user()
    require_evidence_uploader(user)
    if request.headers.get("Upload-Defer-Length"):
        raise InvalidInput("upload_length_required")
    length = _int_header("Upload-Length")
    assert length is not None
    if length < 1:
        raise InvalidInput("image_empty")
    upload = uploads.create(session, current_app.config["GRIDPATROL"], user, length,
                            uploads.parse_metadata(request.headers.get("Upload-Metadata")))
    session.commit()
    response = Response(status=201)
    response.headers["Location"] = f"/api/v1/uploads/{upload.token}"
    response.headers["Upload-Expires"] = _expires(upload)
    return response


@blp.route("/<token>", methods=["HEAD", "PATCH", "DELETE"])
class UploadResource(MethodView):
    def head(self, token):
        """Where the upload stands: Upload-Offset and Upload-Length."""
        upload = uploads.visible_upload(get_session(), current_user(), token)
        response = Response(status=200)
        response.headers.update({"Upload-Offset": str(upload.received), "Upload-Length": str(upload.length),
                                 "Upload-Expires": _expires(upload)})
        return response

    @blp.doc(parameters=[_TUS_HEADER, _TOKEN,
                         {"name": "Upload-Offset", "in": "header", "required": True,
                          "schema": {"type": "integer", "minimum": 0}},
                         {"name": "Upload-Checksum", "in": "header", "required": False,
                          "schema": {"type": "string"}, "description": "`sha1|sha256|md5 base64(digest)` of this chunk"}],
             requestBody={"required": True, "content": {OFFSET_TYPE: {"schema": {"type": "string",
                                                                                 "format": "binary"}}}},
             responses={204: {"description": "Appended",
                              "headers": {"Upload-Offset": {"schema": {"type": "integer"}},
                                          "Upload-Expires": {"schema": {"type": "string"}}}},
                        460: {"description": "The chunk does not match its Upload-Checksum: nothing was kept"}})
    def patch(self, token):
        """Append bytes at Upload-Offset. The last byte turns the upload into the evidence file (hash and image
        checks as for a multipart upload; a refused file ends the upload)."""
        if request.mimetype != OFFSET_TYPE:
            raise UnsupportedMedia("upload_content_type", content_type=OFFSET_TYPE)
        session, user, settings = get_session(), current_user(), current_app.config["GRIDPATROL"]
        offset = _int_header("Upload-Offset")
        checksum = uploads.parse_checksum(request.headers.get("Upload-Checksum"))
        upload = uploads.visible_upload(session, user, token, for_update=True)
        try:
            uploads.append(session, evidence_files.storage(current_app), settings, user, upload, offset or 0,
                           _Body(request.stream), request.content_length, checksum, client_addr())
        except DomainError as refused:
            if upload.received + (request.content_length or 0) >= upload.length and not isinstance(
                    refused, (uploads.ChecksumMismatch, Conflict)):
                # The whole file arrived and was refused (not an image, not the captured file): retrying
                # cannot help, so the upload ends here; the evidence record stays as it was.
                session.rollback()
                stale = session.get(Upload, upload.id)
                if stale is not None:
                    uploads.terminate(session, settings, stale)
                    session.commit()
            raise
        session.commit()
        if upload.completed_at is not None:
            uploads.discard_file(settings, upload)
        response = Response(status=204)
        response.headers.update({"Upload-Offset": str(upload.received), "Upload-Expires": _expires(upload)})
        return response

    @blp.doc(parameters=[_TUS_HEADER, _TOKEN], responses={204: {"description": "Terminated: its bytes are gone"}})
    def delete(self, token):
        """Terminate the upload (tus termination); a finished upload's evidence file stays."""
        session = get_session()
        upload = uploads.visible_upload(session, current_user(), token)
        uploads.terminate(session, current_app.config["GRIDPATROL"], upload)
        session.commit()
        return Response(status=204)
