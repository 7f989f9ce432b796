"""Evidence (证据): what the phone recorded at the shutter (capture hash, position, time, who), and the files that
arrive for it, each kept with its own SHA-256. Photos now; `kind` leaves room for audio and video."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow

EVIDENCE_KINDS = ("photo",)
# original: the camera file, byte for byte (its SHA-256 is the capture hash); display: the 1920 px copy the phone
# made (or the server, from the original); thumbnail: 320 px, the server's; watermark: the burned-in copy.
FILE_ROLES = ("original", "display", "thumbnail", "watermark")
UPLOADED_ROLES = ("original", "display")  # what a client may send; the others are derived here


class Evidence(Base):
    __tablename__ = "evidence"
    __table_args__ = (CheckConstraint("kind IN ('photo')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)  # made by the phone: retries return this row
    kind: Mapped[str] = mapped_column(String(16), default="photo")
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    squad_id: Mapped[int | None] = mapped_column(ForeignKey("squads.id"), index=True)  # the uploader's, at capture
    # The phone's own record at the shutter: the primary record (apps strip EXIF; EXIF only corroborates).
    captured_at: Mapped[datetime] = mapped_column(index=True)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    sha256: Mapped[str] = mapped_column(String(64), index=True)  # of the camera file's exact bytes
    expected: Mapped[list] = mapped_column(JSON, default=list)  # roles still to arrive (UPLOADED_ROLES)
    exif: Mapped[dict | None] = mapped_column(JSON)  # geo.exif.ExifFacts of the first file that carried EXIF
    checks: Mapped[dict] = mapped_column(JSON, default=dict)  # EXIF vs device: distance_m, time_diff_s, flags
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    files: Mapped[list[EvidenceFile]] = relationship(
        lazy="selectin", order_by="EvidenceFile.id", back_populates="evidence", cascade="all, delete-orphan")

    def file(self, role: str) -> EvidenceFile | None:
        return next((f for f in self.files if f.role == role), None)


class EvidenceFile(Base):
    __tablename__ = "evidence_files"
    __table_args__ = (
        UniqueConstraint("evidence_id", "role"),  # one file per role: a retried upload finds it, never a second
        CheckConstraint("role IN ('original','display','thumbnail','watermark')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    storage_key: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))  # not unique: two identical photos in one case are fine
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(64))
    width: Mapped[int | None]
    height: Mapped[int | None]
    made_by: Mapped[str] = mapped_column(String(8), default="client")  # client (sent as is) or server (derived)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    evidence: Mapped[Evidence] = relationship(back_populates="files", lazy="raise")


class Upload(Base):
    """A resumable upload (tus 1.0) of one file of one evidence record: the bytes so far sit in the upload
    directory until the last one arrives; then the file is taken in as a multipart upload would be."""

    __tablename__ = "uploads"
    __table_args__ = (CheckConstraint("role IN ('original','display')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(43), unique=True)  # the URL's secret part: not guessable
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    length: Mapped[int] = mapped_column(BigInteger)
    received: Mapped[int] = mapped_column(BigInteger, default=0)  # the tus Upload-Offset
    meta: Mapped[dict] = mapped_column(JSON, default=dict)  # Upload-Metadata as sent, decoded
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    completed_at: Mapped[datetime | None]
