"""Evidence files out: the app's storage, a file served to who may see it, and a record's hashes rechecked."""
from __future__ import annotations

import hashlib
import io
import logging

from flask import Flask, Response
from PIL import Image
from sqlalchemy.orm import Session

from ...errors import NotFound, Unavailable
from ...models import Evidence, EvidenceFile, User
from . import images
from .intake import add_watermark
from .storage import Storage, storage_from_settings

log = logging.getLogger(__name__)


def storage(app: Flask) -> Storage:
    """One storage object per app (the S3 client keeps its connection pool)."""
    found = app.extensions.get("gridpatrol_storage")
    if found is None:
        found = app.extensions["gridpatrol_storage"] = storage_from_settings(app.config["GRIDPATROL"])
    return found


def send(app: Flask, stored: EvidenceFile) -> Response:
    try:
        chunks = storage(app).stream(stored.storage_key)
    except FileNotFoundError:
        # The row is there, the file is not: storage lost it (or someone removed it). Say so, loudly.
        log.error("evidence file missing from storage: evidence %s %s at %s", stored.evidence_id, stored.role,
                  stored.storage_key)
        raise NotFound("evidence_file_lost") from None
    response = Response(chunks, mimetype=stored.media_type)
    response.content_length = stored.size_bytes
    response.headers["X-Content-Type-Options"] = "nosniff"  # a file is only ever what its media type says
    response.headers["Cache-Control"] = "private, max-age=86400, immutable"  # keys change with the bytes
    response.headers["ETag"] = f'"{stored.sha256}"'
    response.headers["Content-Disposition"] = f'inline; filename="evidence-{stored.evidence_id}-{stored.role}.' \
                                              f'{stored.storage_key.rsplit(".", 1)[-1]}"'
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def verify(app: Flask, evidence: Evidence) -> dict:
    store = storage(app)
    checks = []
    for f in evidence.files:
        digest = hashlib.sha256()
        try:
            for chunk in store.stream(f.storage_key):
                digest.update(chunk)
            computed: str | None = digest.hexdigest()
        except OSError:  # FileNotFoundError included: a missing file fails the check, it does not stop it
            computed = None
        checks.append({"role": f.role, "recorded_sha256": f.sha256, "computed_sha256": computed,
                       "ok": computed == f.sha256})
    original = next((c for c in checks if c["role"] == "original"), None)
    return {"evidence_id": evidence.id, "capture_sha256": evidence.sha256,
            "original_matches_capture": None if original is None else original["computed_sha256"] == evidence.sha256,
            "ok": all(c["ok"] for c in checks), "files": checks}


def ensure_watermark(app: Flask, session: Session, evidence: Evidence) -> EvidenceFile:
    """The watermark copy, made now when it is missing (a record from before a font was installed)."""
    found = evidence.file("watermark")
    if found is not None:
        return found
    display = evidence.file("display")
    if display is None:
        raise NotFound("evidence_file_missing")
    uploader = session.get(User, evidence.uploaded_by_id)
    assert uploader is not None  # the foreign key
    shown = images.fit(images.upright_rgb(Image.open(io.BytesIO(storage(app).read(display.storage_key)))),
                       images.DISPLAY_LONG_EDGE_PX)
    if not add_watermark(session, storage(app), app.config["GRIDPATROL"], uploader, evidence, shown):
        raise Unavailable("watermark_unavailable")
    session.commit()
    made = evidence.file("watermark")
    assert made is not None
    return made


def public_copy(app: Flask, evidence: Evidence) -> Response:
    """The display copy re-encoded here, so nothing the phone put in the file (EXIF, XMP, ICC, comments) leaves with
    it: what public answers (Open311) link to."""
    stored = evidence.file("display")
    if stored is None:
        raise NotFound("evidence_file_missing")
    try:
        data = storage(app).read(stored.storage_key)
    except FileNotFoundError:
        raise NotFound("evidence_file_lost") from None
    with Image.open(io.BytesIO(data)) as picture:
        copy = images.encode_jpeg(images.upright_rgb(picture), images.DISPLAY_QUALITY)
    response = Response(copy.data, mimetype="image/jpeg")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
