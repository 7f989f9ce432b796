"""Evidence in: the record a phone declares at the shutter, then its files, in any order and any number of retries.

Exactly once: the client id is unique, so ten racing copies of one declaration make one record (the losers read it
back); the same declaration again answers the stored record, a different one under the same id is a 409. Files are
unique per (record, role): the same bytes again change nothing, other bytes for a role already filled are a 409.
A file is written to storage, whole, before its row commits; a row never names a file that is not there.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...errors import Conflict, InvalidInput, NotAllowed
from ...models import UPLOADED_ROLES, Evidence, EvidenceFile, User
from ...policies import may_add_files
from ...settings import Settings
from ..core import audit
from ...policies import AreaScope
from ..core.areas import locate
from . import credentials, images, watermark
from .storage import Storage, evidence_key
from geo.exif import ExifFacts, edited_by
from geo.projection import geodesic_distance_m

log = logging.getLogger(__name__)
LOCAL_TZ = ZoneInfo("Asia/Shanghai")  # a camera's wall clock without an offset is read as the township's time
DECLARED = ("captured_at", "lon", "lat", "accuracy_m", "sha256")


@dataclass(frozen=True)
class Declaration:
    client_id: str
    captured_at: datetime
    sha256: str
    lon: float | None = None
    lat: float | None = None
    accuracy_m: float | None = None
    expected: tuple[str, ...] = UPLOADED_ROLES


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=0, abs_tol=1e-9)
    return a == b


def declare(session: Session, user: User, d: Declaration, client_addr: str | None) -> tuple[Evidence, bool]:
    """(record, created). The files the declaration expects are listed until they arrive."""
    existing = _by_client_id(session, user, d)
    if existing is not None:
        return existing, False
    evidence = Evidence(
        client_id=d.client_id, kind="photo", uploaded_by_id=user.id, squad_id=user.squad_id,
        captured_at=d.captured_at.astimezone(UTC), lon=d.lon, lat=d.lat, accuracy_m=d.accuracy_m, sha256=d.sha256,
        expected=[r for r in UPLOADED_ROLES if r in d.expected], checks={}, files=[])
    try:
        with session.begin_nested():  # the unique client id decides between racing retries
            session.add(evidence)
    except IntegrityError:
        existing = _by_client_id(session, user, d)
        if existing is None:
            raise
        return existing, False
    audit.record(session, "evidence.create", "evidence", evidence.id, actor=user, client_addr=client_addr,
                 after={"client_id": d.client_id, "captured_at": d.captured_at.isoformat(), "sha256": d.sha256,
                        "lon": d.lon, "lat": d.lat, "accuracy_m": d.accuracy_m})
    return evidence, True


def _by_client_id(session: Session, user: User, d: Declaration) -> Evidence | None:
    existing = session.scalar(select(Evidence).where(Evidence.client_id == d.client_id))
    if existing is None:
        return None
    if existing.uploaded_by_id != user.id:
        raise Conflict("duplicate", field="client_id", value=d.client_id)
    differing = [name for name in DECLARED if not _same(getattr(existing, name), getattr(d, name))]
    if differing:
        raise Conflict("evidence_declaration_differs", details={"fields": differing})
    return existing


def receive_file(session: Session, storage: Storage, settings: Settings, user: User, evidence: Evidence,
                 role: str, data: bytes, client_addr: str | None) -> bool:
    """Store a file the client sent for `role` ('original' or 'display'); True when something changed. The
    original must hash to the capture hash; from it (or from the display copy, until it comes) the server makes
    what is missing: the display copy and the thumbnail."""
    if not may_add_files(user, evidence):
        raise NotAllowed()
    if role not in UPLOADED_ROLES:
        raise InvalidInput("validation_error", details={"fields": {"role": list(UPLOADED_ROLES)}})
    digest = images.sha256_hex(data)
    if role == "original" and digest != evidence.sha256:
        raise InvalidInput("evidence_hash_mismatch", details={"expected": evidence.sha256, "received": digest})
    present = evidence.file(role)
    if present is not None:
        if present.sha256 == digest or present.made_by == "server":
            _arrived(evidence, role)  # the server's own display copy stands; the original is what proves
            return False
        raise Conflict("evidence_file_differs", role=role)
    checked = images.check_image(data, max_bytes=settings.evidence_max_bytes,
                                 max_pixels=settings.evidence_max_pixels, local_tz=LOCAL_TZ)
    stored = _store(storage, evidence, role, data, digest, checked.media_type, checked.width, checked.height,
                    made_by="client")
    if not _insert_file(session, evidence, stored):
        return False  # a racing retry stored it first
    if checked.exif.has_exif and (evidence.exif is None or role == "original"):
        evidence.exif = checked.exif.as_json()
    if role == "original" or evidence.checks == {}:
        # Content credentials are the camera file's: a display copy (canvas, WeChat) never keeps them.
        c2pa = credentials.read(data, checked.media_type) if role == "original" else None
        evidence.checks = corroborate(evidence, checked.exif, settings, c2pa)
    upright = images.upright_rgb(checked.picture)
    shown = images.fit(upright, images.DISPLAY_LONG_EDGE_PX)  # what people see: the base of every other copy
    if evidence.file("display") is None:
        _insert_derived(session, storage, evidence, "display", images.encode_jpeg(shown, images.DISPLAY_QUALITY))
    if evidence.file("thumbnail") is None:
        _insert_derived(session, storage, evidence, "thumbnail", images.thumbnail(shown))
    if evidence.file("watermark") is None:
        add_watermark(session, storage, settings, user, evidence, shown)
    _arrived(evidence, role)
    if role == "original":
        _arrived(evidence, "display")  # the server made it from the original: nothing more is needed
    audit.record(session, "evidence.file", "evidence", evidence.id, actor=user, client_addr=client_addr,
                 after={"role": role, "sha256": digest, "size_bytes": len(data), "media_type": checked.media_type})
    return True


def _insert_derived(session: Session, storage: Storage, evidence: Evidence, role: str, copy: images.Derived) -> None:
    _insert_file(session, evidence, _store(storage, evidence, role, copy.data, images.sha256_hex(copy.data),
                                           copy.media_type, copy.width, copy.height, made_by="server"))


def add_watermark(session: Session, storage: Storage, settings: Settings, officer: User, evidence: Evidence,
                  shown: images.Image.Image) -> bool:
    """The watermark copy (水印相机) from the picture as shown; False when the deployment has no CJK font."""
    font = watermark.find_font(settings.watermark_font)
    if font is None:
        log.warning("no CJK font for watermark copies: install fonts-noto-cjk or set WATERMARK_FONT")
        return False
    place = None
    if evidence.lon is not None and evidence.lat is not None:
        found = locate(session, AreaScope(True, frozenset()), evidence.lon, evidence.lat)
        place = " · ".join(a["name"] for a in (found["town"], found["village"], found["grid"]) if a) or None
    stamp = watermark.stamp_for(evidence.captured_at, evidence.lon, evidence.lat, evidence.accuracy_m, place,
                                officer.display_name, officer.certificate_no, evidence.id, evidence.sha256)
    _insert_derived(session, storage, evidence, "watermark", watermark.burn(shown, stamp, font))
    return True


def _arrived(evidence: Evidence, role: str) -> None:
    if role in evidence.expected:
        evidence.expected = [r for r in evidence.expected if r != role]


def _store(storage: Storage, evidence: Evidence, role: str, data: bytes, digest: str, media_type: str,
           width: int | None, height: int | None, made_by: str) -> EvidenceFile:
    key = evidence_key(evidence.id, role, digest, images.EXTENSIONS[media_type])
    storage.put(key, data, media_type)
    return EvidenceFile(evidence_id=evidence.id, role=role, storage_key=key, sha256=digest, size_bytes=len(data),
                        media_type=media_type, width=width, height=height, made_by=made_by)


def _insert_file(session: Session, evidence: Evidence, row: EvidenceFile) -> bool:
    try:
        with session.begin_nested():  # unique (evidence, role): a racing retry's row wins, ours is dropped
            session.add(row)
    except IntegrityError:
        session.expire(evidence, ["files"])
        return False
    evidence.files.append(row)
    return True


def corroborate(evidence: Evidence, exif: ExifFacts, settings: Settings, c2pa: dict | None = None) -> dict:
    """How far EXIF and the phone's own record disagree, and the flags past the configured limits; the original's
    C2PA content credentials (credentials.read) when it has any, flagged when they do not hold."""
    checks: dict = {"exif": "present" if exif.has_exif else "absent", "flags": []}
    if exif.lon is not None and exif.lat is not None and evidence.lon is not None and evidence.lat is not None:
        distance = geodesic_distance_m(evidence.lon, evidence.lat, exif.lon, exif.lat)
        checks["position_gap_m"] = round(distance, 1)
        if distance > settings.evidence_position_gap_m:
            checks["flags"].append("exif_position_far")
    if exif.taken_at is not None:
        gap = (exif.taken_at - evidence.captured_at).total_seconds()
        checks["time_gap_s"] = round(gap, 1)
        checks["time_source"] = exif.time_source
        if abs(gap) > settings.evidence_time_gap_s:
            checks["flags"].append("exif_time_far")
    if evidence.lon is None or evidence.lat is None:
        checks["flags"].append("no_device_position")
    if edited_by(exif.software):
        checks["flags"].append("edited_software")
    if c2pa is not None:
        checks["c2pa"] = c2pa
        if c2pa["state"] == "invalid":
            checks["flags"].append("c2pa_invalid")
    return checks


def visible_evidence(session: Session, user: User, evidence_id: int) -> Evidence:
    from ...errors import NotFound
    from ...policies import scoped_evidence

    evidence = session.scalar(scoped_evidence(select(Evidence).where(Evidence.id == evidence_id), user))
    if evidence is None:
        raise NotFound()
    return evidence
