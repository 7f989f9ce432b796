"""Schemas for evidence: the multipart upload, the record with its files, the verification report."""
from __future__ import annotations

import marshmallow as ma

from ...extensions.api import Schema
from ...models import FILE_ROLES, UPLOADED_ROLES

SHA256_HEX = ma.validate.Regexp(r"^[0-9a-f]{64}$", error="Must be a SHA-256: 64 lowercase hexadecimal digits.")


class EvidenceUploadSchema(Schema):
    """multipart/form-data: the phone's record at the shutter and, optionally, one file. The same client_id may be
    sent again with the other file (display copy first, original later)."""

    class Meta:
        unknown = ma.EXCLUDE

    client_id = ma.fields.Str(required=True, validate=ma.validate.Length(8, 64),
                              metadata={"description": "made by the phone; retries with it never duplicate"})
    captured_at = ma.fields.AwareDateTime(required=True, metadata={"description": "the phone's time at the shutter"})
    lon = ma.fields.Float(load_default=None, allow_nan=False, validate=ma.validate.Range(-180, 180))
    lat = ma.fields.Float(load_default=None, allow_nan=False, validate=ma.validate.Range(-90, 90))
    accuracy_m = ma.fields.Float(load_default=None, allow_nan=False, validate=ma.validate.Range(0, 100000))
    sha256 = ma.fields.Str(required=True, validate=SHA256_HEX,
                           metadata={"description": "SHA-256 of the camera file's exact bytes (the original)"})
    role = ma.fields.Str(load_default="original", validate=ma.validate.OneOf(UPLOADED_ROLES),
                         metadata={"description": "what `file` is: the original or the phone's display copy"})
    expected = ma.fields.List(ma.fields.Str(validate=ma.validate.OneOf(UPLOADED_ROLES)), load_default=None,
                              validate=ma.validate.Length(max=2),
                              metadata={"description": "files that will follow (default: original and display, "
                                                       "less the one sent now); set on the first request only"})
    file = ma.fields.Raw(metadata={"type": "string", "format": "binary",
                                   "description": "JPEG, PNG, WebP or HEIC"})

    @ma.validates_schema
    def _position_pair(self, data, **kwargs):
        if (data.get("lon") is None) != (data.get("lat") is None):
            raise ma.ValidationError("Give lon and lat together, or neither.", "lon")


class EvidenceFileSchema(Schema):
    role = ma.fields.Str(metadata={"enum": list(FILE_ROLES)})
    sha256 = ma.fields.Str()
    size_bytes = ma.fields.Int()
    media_type = ma.fields.Str()
    width = ma.fields.Int(allow_none=True)
    height = ma.fields.Int(allow_none=True)
    made_by = ma.fields.Str(metadata={"description": "client (as sent) or server (derived here)"})
    url = ma.fields.Method("_url")

    def _url(self, f):
        return f"/api/v1/evidence/{f.evidence_id}/files/{f.role}"


class UploaderSchema(Schema):
    id = ma.fields.Int()
    display_name = ma.fields.Str()


class C2paErrorSchema(Schema):
    code = ma.fields.Str(metadata={"description": "a C2PA validation status code (assertion.dataHash.mismatch: the "
                                                  "image bytes changed after signing; claimSignature.mismatch: the "
                                                  "signature does not verify), or manifest.unreadable (c2pa could "
                                                  "not parse the manifest) or manifest.remote (kept at a URL, not "
                                                  "fetched)"})
    explanation = ma.fields.Str(allow_none=True, metadata={"description": "c2pa's own words, in English"})


class SignerSchema(Schema):
    common_name = ma.fields.Str(allow_none=True, metadata={"description": "the signing certificate's CN"})
    organization = ma.fields.Str(allow_none=True,
                                 metadata={"description": "the signing certificate's organisation (c2pa's "
                                                          "signature_info.issuer)"})


class ContentCredentialsSchema(Schema):
    """C2PA content credentials (内容凭证) of the original, when it carries a manifest."""

    state = ma.fields.Str(metadata={
        "enum": ["valid", "invalid", "unverified"],
        "description": "valid: the claim signature verifies and every hash binding matches the file's bytes; "
                       "invalid: a signature or hash does not hold, or the manifest is malformed (flag "
                       "c2pa_invalid); unverified: the manifest is at a remote URL, which is never fetched"})
    trust = ma.fields.Str(metadata={
        "enum": ["not_checked", "trusted", "untrusted"],
        "description": "whether the signer's certificate chains to a configured trust list; not_checked when no "
                       "list is configured: a valid signature then says the file is unchanged since signing, "
                       "not who may be believed"})
    claim_generator = ma.fields.Str(allow_none=True, metadata={"description": "the app or camera that signed"})
    signer = ma.fields.Nested(SignerSchema, allow_none=True)
    signed_at = ma.fields.Str(allow_none=True,
                              metadata={"description": "a time-stamp authority's time of signing, when it has one"})
    title = ma.fields.Str(allow_none=True)
    actions = ma.fields.List(ma.fields.Str(), metadata={"description": "c2pa.created, c2pa.edited, ..., in order"})
    digital_source_type = ma.fields.Str(allow_none=True, metadata={
        "description": "of the c2pa.created action, IPTC's term: digitalCapture, trainedAlgorithmicMedia (made by "
                       "AI), ..."})
    errors = ma.fields.List(ma.fields.Nested(C2paErrorSchema), metadata={"description": "why it is not valid"})


class EvidenceSchema(Schema):
    id = ma.fields.Int()
    client_id = ma.fields.Str()
    kind = ma.fields.Str()
    captured_at = ma.fields.AwareDateTime()
    lon = ma.fields.Float(allow_none=True)
    lat = ma.fields.Float(allow_none=True)
    accuracy_m = ma.fields.Float(allow_none=True)
    sha256 = ma.fields.Str()
    uploaded_by_id = ma.fields.Int()
    expected = ma.fields.List(ma.fields.Str(), metadata={"description": "files still to arrive"})
    files = ma.fields.List(ma.fields.Nested(EvidenceFileSchema))
    exif = ma.fields.Dict(allow_none=True, metadata={"description": "what the photo's EXIF says (corroboration only)"})
    checks = ma.fields.Dict(metadata={"description": "EXIF against the phone's record: position_gap_m, time_gap_s, "
                                                     "flags (exif_position_far, exif_time_far, no_device_position, "
                                                     "edited_software, c2pa_invalid); c2pa: as content_credentials"})
    content_credentials = ma.fields.Nested(
        ContentCredentialsSchema, attribute="checks.c2pa", allow_none=True, dump_default=None,
        metadata={"description": "the original's C2PA content credentials, checked when it arrived; null when it "
                                 "has none (most photos: WeChat and the browser's canvas strip them) or has not "
                                 "arrived yet"})
    created_at = ma.fields.AwareDateTime()


class EvidenceQuerySchema(Schema):
    client_id = ma.fields.Str(validate=ma.validate.Length(1, 64))
    uploaded_by = ma.fields.Int()


class FileCheckSchema(Schema):
    role = ma.fields.Str()
    recorded_sha256 = ma.fields.Str()
    computed_sha256 = ma.fields.Str(allow_none=True, metadata={"description": "null when the file is missing"})
    ok = ma.fields.Bool()


class LedgerProofSchema(Schema):
    day = ma.fields.Date(metadata={"description": "the day (Beijing time) the server received the record"})
    sealed = ma.fields.Bool(metadata={"description": "false until the day is over and sealed"})
    leaf = ma.fields.Str(metadata={"description": "SHA-256(0x00 || canonical JSON of the capture facts), hex"})
    index = ma.fields.Int(allow_none=True)
    size = ma.fields.Int(allow_none=True, metadata={"description": "records in the day's tree"})
    path = ma.fields.List(ma.fields.Str(), metadata={"description": "RFC 9162 inclusion proof, leaf to root"})
    root = ma.fields.Str(allow_none=True, metadata={"description": "the day's sealed Merkle root"})
    audit_entry_id = ma.fields.Int(allow_none=True, metadata={"description": "the audit row that holds the root"})
    timestamped = ma.fields.Bool(metadata={"description": "a timestamp authority signed the root (RFC 3161)"})
    algorithm = ma.fields.Str()
    ok = ma.fields.Bool(metadata={"description": "the day's records still give the sealed root"})
    problem = ma.fields.Str(allow_none=True)


class VerifySchema(Schema):
    evidence_id = ma.fields.Int()
    capture_sha256 = ma.fields.Str(metadata={"description": "what the phone hashed at capture"})
    original_matches_capture = ma.fields.Bool(allow_none=True,
                                              metadata={"description": "null while the original has not arrived"})
    ok = ma.fields.Bool(metadata={"description": "every stored file hashes to its record"})
    files = ma.fields.List(ma.fields.Nested(FileCheckSchema))
    ledger = ma.fields.Nested(LedgerProofSchema, metadata={
        "description": "where the record stands in the daily Merkle roots (`gridpatrol evidence verify` checks a "
                       "file against it, the signed anchor and the timestamp)"})
