"""C2PA content credentials through the API: read from the original as it arrives (multipart or tus), kept in the
record's checks, flagged when they do not hold, shown on the record and on its case; never a 500 for a bad one."""
from __future__ import annotations

import pytest

from tests.content_credentials import CAMERA, SIGNER_ORG, break_manifest, change_pixels, sign

from .test_cases import SQUAD1, ok, report
from .test_evidence import phone_display_copy, post_evidence, sha
from .test_uploads import create, patch

PHOTO = "exif-samples__gps_DSCN0010.jpg"


@pytest.fixture(scope="module")
def signed(shared_data) -> bytes:
    return sign((shared_data / "photos" / PHOTO).read_bytes(), title="DSCN0010.jpg")


def test_a_signed_photo_shows_valid_credentials(client, auth, signed):
    headers = auth.headers("officer1")
    body = ok(post_evidence(client, headers, "ev-c2pa-valid", signed, filename="DSCN0010.jpg"))
    shown = body["content_credentials"]
    assert shown["state"] == "valid" and shown["trust"] == "not_checked"  # no trust list configured
    assert shown["claim_generator"] == f"{CAMERA} 1.0" and shown["signer"]["organization"] == SIGNER_ORG
    assert shown["actions"] == ["c2pa.created"] and shown["errors"] == []
    assert body["checks"]["c2pa"] == shown and "c2pa_invalid" not in body["checks"]["flags"]
    again = ok(client.get(f"/api/v1/evidence/{body['id']}", headers=headers), 200)
    assert again["content_credentials"] == shown
    original = next(f for f in body["files"] if f["role"] == "original")
    assert client.get(original["url"], headers=headers).data == signed  # the manifest stays in the original


@pytest.mark.parametrize("damage, code", [
    (change_pixels, "assertion.dataHash.mismatch"),  # a few bits of the scan flipped after signing
    (break_manifest, "manifest.unreadable"),  # garbage in the manifest store
])
def test_damaged_credentials_are_invalid_and_flagged(client, auth, signed, damage, code):
    damaged = damage(signed)
    r = post_evidence(client, auth.headers("officer1"), f"ev-c2pa-{damage.__name__[:20]}", damaged)
    body = ok(r)  # the photo itself is whole: it is taken, and what its credentials say is kept
    assert body["sha256"] == sha(damaged)
    assert body["content_credentials"]["state"] == "invalid"
    assert [e["code"] for e in body["content_credentials"]["errors"]] == [code]
    assert "c2pa_invalid" in body["checks"]["flags"]


@pytest.mark.parametrize("name", ["exif-samples__Canon_40D.jpg", "exif-samples__heic_IMG_5195.HEIC"])
def test_photos_without_credentials_have_no_entry(client, auth, shared_data, name):
    body = ok(post_evidence(client, auth.headers("officer1"), f"ev-c2pa-{name[:30]}",
                            (shared_data / "photos" / name).read_bytes(), filename=name))
    assert body["content_credentials"] is None and "c2pa" not in body["checks"]
    assert "c2pa_invalid" not in body["checks"]["flags"]


def test_the_display_copy_first_then_the_original_by_tus(client, auth, signed):
    """The phone's order: its canvas copy (no credentials) first, then the camera file through tus."""
    headers = auth.headers("officer1")
    declared = ok(post_evidence(client, headers, "ev-c2pa-tus", phone_display_copy(signed), declared=signed,
                                role="display"))
    assert declared["content_credentials"] is None and declared["expected"] == ["original"]
    url = create(client, headers, "ev-c2pa-tus", len(signed)).headers["Location"]
    assert patch(client, headers, url, 0, signed).status_code == 204
    record = ok(client.get(f"/api/v1/evidence/{declared['id']}", headers=headers), 200)
    assert record["expected"] == [] and record["content_credentials"]["state"] == "valid"


def test_the_case_page_gets_each_photos_credentials(client, auth, shared_data, signed):
    headers = auth.headers("supervisor17")
    good = ok(post_evidence(client, headers, "ev-c2pa-case-good", signed, lon=SQUAD1[0], lat=SQUAD1[1]))["id"]
    bad = ok(post_evidence(client, headers, "ev-c2pa-case-bad", change_pixels(signed),
                           lon=SQUAD1[0], lat=SQUAD1[1]))["id"]
    plain = ok(post_evidence(client, headers, "ev-c2pa-case-plain",
                             (shared_data / "photos" / PHOTO).read_bytes(), lon=SQUAD1[0], lat=SQUAD1[1]))["id"]
    case = ok(report(client, auth, client_id="case-c2pa-1", evidence=[good, bad, plain]))
    detail = ok(client.get(f"/api/v1/cases/{case['id']}", headers=headers), 200)
    shown = {e["evidence_id"]: e["content_credentials"] for e in detail["evidence"]}
    assert shown[good]["state"] == "valid" and shown[good]["signer"]["organization"] == SIGNER_ORG
    assert shown[bad]["state"] == "invalid" and shown[bad]["errors"][0]["code"] == "assertion.dataHash.mismatch"
    assert shown[plain] is None


def test_the_openapi_document_describes_the_credentials(shared_app):
    schemas = shared_app.test_client().get("/api/openapi.json").get_json()["components"]["schemas"]
    credentials = schemas["ContentCredentials"]["properties"]
    assert credentials["state"]["enum"] == ["valid", "invalid", "unverified"]
    assert "trust list" in credentials["trust"]["description"]
    assert "content_credentials" in schemas["Evidence"]["properties"]
