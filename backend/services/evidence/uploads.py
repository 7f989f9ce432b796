"""Resumable uploads, the tus 1.0 protocol (core, creation, checksum, expiration, termination), for evidence files
sent from phones on weak networks: each upload names its evidence record (the phone's client id) and the file's
role; its bytes gather in the upload directory and, once the last one is in, go through the same intake as a
multipart upload (hash check, image checks, copies). Until then nothing of it is visible as evidence.

A PATCH cut off half-way keeps what arrived (the client asks HEAD for the offset and goes on from there), unless
it carried an Upload-Checksum: then the chunk is all or nothing. The file is cut back to the recorded offset before
every append, so bytes written by a request whose transaction did not commit never count.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import Conflict, DomainError, InvalidInput, NotFound, TooLarge
from ...models import UPLOADED_ROLES, Evidence, Upload, User
from ...settings import Settings
from .intake import receive_file
from .storage import Storage

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = ("creation", "checksum", "expiration", "termination")
CHECKSUMS: dict[str, Callable[[], Any]] = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "md5": hashlib.md5}
READ_CHUNK = 256 * 1024
log = logging.getLogger(__name__)


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class ChecksumMismatch(DomainError):
    code = "upload_checksum_mismatch"  # tus' 460


class WrongProtocol(DomainError):
    code = "tus_version"  # 412


def parse_metadata(header: str | None) -> dict[str, str]:
    """Upload-Metadata: comma-separated `key base64(value)` pairs (a key alone means an empty value).

    >>> parse_metadata("evidence ZXYtMDAwMQ==,role b3JpZ2luYWw=,is_confidential")
    {'evidence': 'ev-0001', 'role': 'original', 'is_confidential': ''}
    """
    out: dict[str, str] = {}
    for pair in (header or "").split(","):
        pair = pair.strip()
        if not pair:
            continue
        key, _, encoded = pair.partition(" ")
        try:
            value = base64.b64decode(encoded.strip(), validate=True).decode("utf-8") if encoded.strip() else ""
        except (binascii.Error, UnicodeDecodeError):
            raise InvalidInput("upload_metadata_invalid", key=key) from None
        if not key or key in out or "\x00" in value:
            raise InvalidInput("upload_metadata_invalid", key=key)
        out[key] = value
    return out


def parse_checksum(header: str | None) -> tuple[str, bytes] | None:
    if not header:
        return None
    algorithm, _, encoded = header.strip().partition(" ")
    if algorithm not in CHECKSUMS:
        raise InvalidInput("upload_checksum_algorithm", algorithms=",".join(CHECKSUMS))
    try:
        return algorithm, base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise InvalidInput("upload_checksum_invalid") from None


def _path(settings: Settings, upload: Upload) -> Path:
    return Path(settings.upload_dir) / upload.token


def create(session: Session, settings: Settings, user: User, length: int, meta: dict[str, str]) -> Upload:
    client_id, role = meta.get("evidence", ""), meta.get("role", "original")
    if role not in UPLOADED_ROLES:
        raise InvalidInput("upload_role_invalid")
    evidence = session.scalar(select(Evidence).where(Evidence.client_id == client_id)) if client_id else None
    if evidence is None or evidence.uploaded_by_id != user.id:
        raise InvalidInput("upload_evidence_unknown", client_id=client_id or "?")
    if length > settings.evidence_max_bytes:
        raise TooLarge("image_too_large", max_mb=settings.evidence_max_bytes // (1024 * 1024))
    now = datetime.now(UTC)
    upload = Upload(token=secrets.token_urlsafe(32), user_id=user.id, evidence_id=evidence.id, role=role,
                    length=length, received=0, meta=meta, created_at=now,
                    expires_at=now + timedelta(seconds=settings.upload_expiry_s))
    path = _path(settings, upload)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o640)
    session.add(upload)
    session.flush()
    return upload


def visible_upload(session: Session, user: User, token: str, *, for_update: bool = False) -> Upload:
    """The caller's own upload, unexpired; anything else is not found (tokens cannot be probed)."""
    stmt = select(Upload).where(Upload.token == token, Upload.user_id == user.id)
    if for_update:
        stmt = stmt.with_for_update()
    upload = session.scalar(stmt)
    if upload is None or (upload.completed_at is None and upload.expires_at <= datetime.now(UTC)):
        raise NotFound("upload_not_found")
    return upload


def append(session: Session, storage: Storage, settings: Settings, user: User, upload: Upload, offset: int,
           body: Readable, declared_length: int | None, checksum: tuple[str, bytes] | None,
           client_addr: str | None) -> None:
    """Append a PATCH's bytes at `offset`; when the last byte is in, take the file in as evidence."""
    if upload.completed_at is not None or offset != upload.received:
        raise Conflict("upload_offset_mismatch", expected=upload.received)
    room = upload.length - upload.received
    if declared_length is not None and declared_length > room:
        raise InvalidInput("upload_past_length", length=upload.length)
    digest = CHECKSUMS[checksum[0]]() if checksum else None
    path = _path(settings, upload)
    written = 0
    cut_off = False
    with path.open("r+b" if path.exists() else "w+b") as out:
        out.truncate(upload.received)  # bytes past the recorded offset never committed: drop them
        out.seek(upload.received)
        try:
            while written < room:
                chunk = body.read(min(READ_CHUNK, room - written))
                if not chunk:
                    break
                out.write(chunk)
                written += len(chunk)
                if digest is not None:
                    digest.update(chunk)
            if written == room and body.read(1):
                out.truncate(upload.received)
                raise InvalidInput("upload_past_length", length=upload.length)
        except OSError:  # werkzeug's ClientDisconnected: the phone lost its connection mid-chunk
            cut_off = True
        if digest is not None and (cut_off or digest.digest() != checksum[1]):  # type: ignore[index]
            out.truncate(upload.received)  # a checksummed chunk counts whole or not at all
            if cut_off:
                return
            raise ChecksumMismatch()
        out.flush()
        os.fsync(out.fileno())
    upload.received += written
    upload.expires_at = datetime.now(UTC) + timedelta(seconds=settings.upload_expiry_s)
    if upload.received == upload.length and not cut_off:
        _complete(session, storage, settings, user, upload, client_addr)


def _complete(session: Session, storage: Storage, settings: Settings, user: User, upload: Upload,
              client_addr: str | None) -> None:
    evidence = session.get(Evidence, upload.evidence_id)
    assert evidence is not None  # the upload's foreign key
    data = _path(settings, upload).read_bytes()
    receive_file(session, storage, settings, user, evidence, upload.role, data, client_addr)
    upload.completed_at = datetime.now(UTC)


def discard_file(settings: Settings, upload: Upload) -> None:
    _path(settings, upload).unlink(missing_ok=True)


def terminate(session: Session, settings: Settings, upload: Upload) -> None:
    session.delete(upload)
    session.flush()
    discard_file(settings, upload)


def sweep_expired(session: Session, settings: Settings, now: datetime | None = None) -> int:
    """Remove uploads past their expiry (unfinished) and the files of finished ones; returns how many rows went."""
    now = now or datetime.now(UTC)
    expired = list(session.scalars(select(Upload).where(Upload.expires_at <= now)))
    for upload in expired:
        session.delete(upload)
    session.flush()
    for upload in expired:
        discard_file(settings, upload)
    return len(expired)
