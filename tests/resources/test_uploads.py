"""tus 1.0 uploads of evidence files, header by header (the real tus-js-client is in pwa/tests/e2e/uploads.test.mjs):
discovery, creation, offsets, checksums, expiry, termination, and the hand-over to the evidence intake."""
from __future__ import annotations

import base64
import hashlib
import os
from datetime import UTC, datetime, timedelta

import pytest

from .test_evidence import media_files, phone_display_copy, post_evidence

TUS = {"Tus-Resumable": "1.0.0"}
PHOTO = "exif-samples__hdr_iphone_hdr_YES.jpg"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def create(client, headers, client_id: str, length: int, role: str = "original"):
    return client.post("/api/v1/uploads", headers={
        **headers, **TUS, "Upload-Length": str(length),
        "Upload-Metadata": f"evidence {b64(client_id)},role {b64(role)},filename {b64('相片.jpg')}"})


def patch(client, headers, url: str, offset: int, data: bytes, **extra):
    return client.patch(url, data=data, headers={
        **headers, **TUS, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream", **extra})


@pytest.fixture
def original(shared_data) -> bytes:
    return (shared_data / "photos" / PHOTO).read_bytes()


def test_discovery_needs_no_token(client):
    r = client.options("/api/v1/uploads")
    assert r.status_code == 204 and r.headers["Tus-Version"] == "1.0.0"
    assert set(r.headers["Tus-Extension"].split(",")) == {"creation", "checksum", "expiration", "termination"}
    assert "sha1" in r.headers["Tus-Checksum-Algorithm"].split(",") and int(r.headers["Tus-Max-Size"]) > 0


def test_an_upload_in_three_chunks(app, client, auth, original):
    headers = auth.headers("officer1")
    declared = post_evidence(client, headers, "ev-tus-00001", None, declared=original).get_json()
    made = create(client, headers, "ev-tus-00001", len(original))
    assert made.status_code == 201 and made.headers["Tus-Resumable"] == "1.0.0"
    url = made.headers["Location"]
    assert url.startswith("/api/v1/uploads/") and "GMT" in made.headers["Upload-Expires"]
    head = client.head(url, headers={**headers, **TUS})
    assert head.status_code == 200 and head.headers["Upload-Offset"] == "0"
    assert head.headers["Upload-Length"] == str(len(original)) and head.headers["Cache-Control"] == "no-store"

    third = len(original) // 3
    first = patch(client, headers, url, 0, original[:third])
    assert first.status_code == 204 and first.headers["Upload-Offset"] == str(third)
    assert client.get(f"/api/v1/evidence/{declared['id']}", headers=headers).get_json()["files"] == []
    stale = patch(client, headers, url, 0, original[:third])  # a retry of a chunk that did arrive
    assert stale.status_code == 409 and stale.get_json()["details"] == {} and str(third) in stale.get_json()["message"]
    sha1 = base64.b64encode(hashlib.sha1(original[third:2 * third]).digest()).decode()
    second = patch(client, headers, url, third, original[third:2 * third], **{"Upload-Checksum": f"sha1 {sha1}"})
    assert second.status_code == 204
    last = patch(client, headers, url, 2 * third, original[2 * third:])
    assert last.status_code == 204 and last.headers["Upload-Offset"] == str(len(original))

    record = client.get(f"/api/v1/evidence/{declared['id']}", headers=headers).get_json()
    files = {f["role"]: f for f in record["files"]}
    assert files["original"]["sha256"] == hashlib.sha256(original).hexdigest() and record["expected"] == []
    assert record["exif"]["model"] == "iPhone 6"
    assert client.get(files["original"]["url"], headers=headers).data == original
    done = client.head(url, headers={**headers, **TUS})  # a phone that lost the last answer asks again
    assert done.status_code == 200 and done.headers["Upload-Offset"] == str(len(original))
    assert os.listdir(app.config["GRIDPATROL"].upload_dir) == []  # the gathered bytes are gone once taken in


def test_protocol_errors(client, auth, original):
    headers = auth.headers("officer1")
    post_evidence(client, headers, "ev-tus-00002", None, declared=original)
    url = create(client, headers, "ev-tus-00002", len(original)).headers["Location"]
    no_version = client.head(url, headers=headers)
    assert no_version.status_code == 412 and no_version.headers["Tus-Version"] == "1.0.0"
    wrong_type = client.patch(url, data=b"xx", headers={**headers, **TUS, "Upload-Offset": "0",
                                                          "Content-Type": "application/octet-stream"})
    assert wrong_type.status_code == 415
    bad_sum = base64.b64encode(hashlib.sha1(b"other").digest()).decode()
    mismatch = patch(client, headers, url, 0, original[:1000], **{"Upload-Checksum": f"sha1 {bad_sum}"})
    assert mismatch.status_code == 460 and mismatch.get_json()["code"] == "upload_checksum_mismatch"
    assert client.head(url, headers={**headers, **TUS}).headers["Upload-Offset"] == "0"  # nothing kept
    unknown_algo = patch(client, headers, url, 0, b"x", **{"Upload-Checksum": "crc32 AAAA"})
    assert unknown_algo.status_code == 400
    too_long = patch(client, headers, url, 0, original + b"extra")
    assert too_long.status_code == 400 and too_long.get_json()["code"] == "upload_past_length"
    assert create(client, headers, "ev-nobody-001", 10).status_code == 400
    bad_meta = client.post("/api/v1/uploads", headers={**headers, **TUS, "Upload-Length": "10",
                                                        "Upload-Metadata": "evidence ***"})
    assert bad_meta.status_code == 400 and bad_meta.get_json()["code"] == "upload_metadata_invalid"
    assert client.post("/api/v1/uploads", headers={**headers, **TUS, "Upload-Defer-Length": "1"}).status_code == 400
    big = create(client, headers, "ev-tus-00002", 10**12)
    assert big.status_code == 413


def test_someone_elses_upload_is_not_found(client, auth, original):
    headers = auth.headers("officer1")
    post_evidence(client, headers, "ev-tus-00003", None, declared=original)
    url = create(client, headers, "ev-tus-00003", len(original)).headers["Location"]
    for user in ("leader1", "admin"):
        other = auth.headers(user)
        assert client.head(url, headers={**other, **TUS}).status_code == 404
        assert patch(client, other, url, 0, original[:10]).status_code == 404
    assert create(client, auth.headers("officer2"), "ev-tus-00003", len(original)).status_code == 400


def test_termination(app, client, auth, original):
    headers = auth.headers("officer1")
    post_evidence(client, headers, "ev-tus-00004", None, declared=original)
    url = create(client, headers, "ev-tus-00004", len(original)).headers["Location"]
    patch(client, headers, url, 0, original[:5000])
    gone = client.delete(url, headers={**headers, **TUS})
    assert gone.status_code == 204
    assert client.head(url, headers={**headers, **TUS}).status_code == 404
    assert os.listdir(app.config["GRIDPATROL"].upload_dir) == []


def test_expiry_and_the_sweep(app, client, auth, original):
    from backend.extensions.database import get_session
    from backend.models import Upload

    headers = auth.headers("officer1")
    post_evidence(client, headers, "ev-tus-00005", None, declared=original)
    url = create(client, headers, "ev-tus-00005", len(original)).headers["Location"]
    patch(client, headers, url, 0, original[:5000])
    with app.app_context():
        session = get_session()
        upload = session.query(Upload).one()
        upload.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        session.commit()
    assert client.head(url, headers={**headers, **TUS}).status_code == 404
    from backend.housekeeping import sweep_uploads

    assert sweep_uploads(app) == 1
    with app.app_context():
        assert get_session().query(Upload).count() == 0
    assert os.listdir(app.config["GRIDPATROL"].upload_dir) == []


def test_a_refused_file_ends_its_upload(app, client, auth, original, shared_data):
    """The last byte of an 'original' that is not the captured file: 400, the upload ends, the record stays."""
    headers = auth.headers("officer1")
    other = (shared_data / "photos" / "exif-samples__gps_DSCN0010.jpg").read_bytes()
    declared = post_evidence(client, headers, "ev-tus-00006", None, declared=original).get_json()
    url = create(client, headers, "ev-tus-00006", len(other)).headers["Location"]
    r = patch(client, headers, url, 0, other)
    assert r.status_code == 400 and r.get_json()["code"] == "evidence_hash_mismatch"
    assert client.head(url, headers={**headers, **TUS}).status_code == 404
    record = client.get(f"/api/v1/evidence/{declared['id']}", headers=headers).get_json()
    assert record["files"] == [] and record["expected"] == ["original", "display"]
    assert media_files(app) == []


def test_display_copy_by_tus(client, auth, original):
    headers = auth.headers("officer1")
    display = phone_display_copy(original)
    post_evidence(client, headers, "ev-tus-00007", None, declared=original)
    url = create(client, headers, "ev-tus-00007", len(display), role="display").headers["Location"]
    assert patch(client, headers, url, 0, display).status_code == 204
    record = client.get("/api/v1/evidence?client_id=ev-tus-00007", headers=headers).get_json()[0]
    assert {f["role"]: f["made_by"] for f in record["files"]} == {"display": "client", "thumbnail": "server",
                                                                 "watermark": "server"}
    assert record["expected"] == ["original"]
