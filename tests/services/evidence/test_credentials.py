"""C2PA content credentials read from real photos signed here: valid, changed after signing, a broken manifest,
a manifest kept elsewhere, none at all; and a trust list asked only when one is given."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from backend.services.evidence import credentials
from tests.content_credentials import (
    CAMERA, SIGNER_CN, SIGNER_ORG, break_manifest, change_pixels, sign, signing_chain,
)

PHOTO = "exif-samples__gps_DSCN0010.jpg"


@pytest.fixture(scope="module")
def photo(shared_data) -> bytes:
    return (shared_data / "photos" / PHOTO).read_bytes()


@pytest.fixture(scope="module")
def signed(photo) -> bytes:
    return sign(photo, title="DSCN0010.jpg")


def test_a_signed_photo_is_valid_and_says_who_signed_it(signed, tmp_path):
    result = credentials.read(signed, "image/jpeg")
    assert result == {
        "state": "valid", "trust": "not_checked", "claim_generator": f"{CAMERA} 1.0",
        "signer": {"common_name": SIGNER_CN, "organization": SIGNER_ORG},
        "signed_at": None,  # no time-stamp authority here
        "title": "DSCN0010.jpg", "actions": ["c2pa.created"], "digital_source_type": "digitalCapture",
        "errors": []}
    path = tmp_path / "signed.jpg"
    path.write_bytes(signed)
    assert credentials.read(path, "image/jpeg") == result  # a path reads the same as the bytes


def test_trust_is_asked_only_of_a_given_list(signed):
    mine = credentials.read(signed, "image/jpeg", trust_anchors_pem=signing_chain().root_pem)
    assert (mine["state"], mine["trust"], mine["errors"]) == ("valid", "trusted", [])
    other = credentials.read(signed, "image/jpeg", trust_anchors_pem=signing_chain("Another Root").root_pem)
    # the signature still holds: the signer is only not on that list
    assert (other["state"], other["trust"], other["errors"]) == ("valid", "untrusted", [])


def test_pixels_changed_after_signing_break_the_data_hash(signed):
    changed = change_pixels(signed)
    Image.open(io.BytesIO(changed)).load()  # still a photo that decodes
    result = credentials.read(changed, "image/jpeg")
    assert result["state"] == "invalid" and result["claim_generator"] == f"{CAMERA} 1.0"
    assert [e["code"] for e in result["errors"]] == ["assertion.dataHash.mismatch"]
    assert "do not match" in result["errors"][0]["explanation"]


def test_a_broken_manifest_is_invalid_with_the_reason_not_an_exception(signed):
    result = credentials.read(break_manifest(signed), "image/jpeg")
    assert result["state"] == "invalid" and result["signer"] is None
    assert result["errors"] == [{"code": "manifest.unreadable", "explanation": "Verify: expected JUMD"}]


def test_a_remote_manifest_is_not_fetched(photo):
    # a discard port on loopback: nothing would answer, and nothing is asked
    result = credentials.read(sign(photo, remote_url="http://127.0.0.1:9/manifest.c2pa"), "image/jpeg")
    assert result["state"] == "unverified" and result["errors"][0]["code"] == "manifest.remote"


def test_a_signed_png(photo):
    out = io.BytesIO()
    Image.open(io.BytesIO(photo)).save(out, "PNG")
    assert credentials.read(sign(out.getvalue(), "image/png"), "image/png")["state"] == "valid"


@pytest.mark.parametrize("name, media_type", [
    (PHOTO, "image/jpeg"), ("exif-samples__xmp_no_exif.jpg", "image/jpeg"),
    ("exif-samples__heic_IMG_5195.HEIC", "image/heic"), ("pillow__empty_gps_ifd.jpg", "image/jpeg"),
])
def test_photos_without_credentials_have_none(shared_data, name, media_type):
    assert credentials.read((shared_data / "photos" / name).read_bytes(), media_type) is None


@pytest.mark.parametrize("store", [
    {}, {"manifests": []}, {"active_manifest": "x", "manifests": {"x": "not a manifest"}},
    {"validation_state": "Valid", "validation_status": [{"code": "claimSignature.mismatch"}]},
    {"validation_state": "Valid", "manifests": {"x": {"assertions": [None, {"label": "c2pa.actions", "data": 3}]}},
     "active_manifest": "x"},
])
def test_odd_stores_are_summed_up_without_an_exception(store):
    result = credentials.summarize(store, trust_checked=False)
    assert result["state"] in ("valid", "invalid") and isinstance(result["errors"], list)
    if result["state"] == "invalid":
        assert result["errors"]
