"""Evidence through the API on real photos: the values read, the hashes, the flags, the copies made, the
rejections (storing nothing), exactly-once under retries, and who may see which photo."""
from __future__ import annotations

import hashlib
import io
import threading
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

PHOTOS = "photos"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def post_evidence(client, headers, client_id: str, data: bytes | None, *, declared: bytes | None = None,
                  filename: str = "photo.jpg", **fields):
    """The multipart upload as a phone or an integration sends it. `declared` is the original the capture hash
    is of (default: `data`)."""
    form = {"client_id": client_id, "captured_at": fields.pop("captured_at", "2026-12-01T09:30:00+08:00"),
            "lon": "120.2", "lat": "30.3", "accuracy_m": "6.5", "sha256": sha(declared if declared is not None else data),
            **{k: str(v) for k, v in fields.items()}}
    if data is not None:
        form["file"] = (io.BytesIO(data), filename)
    return client.post("/api/v1/evidence", headers=headers, data=form, content_type="multipart/form-data")


def media_files(app) -> list[Path]:
    root = Path(app.config["GRIDPATROL"].media_dir)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def evidence_count(client, headers) -> int:
    return len(client.get("/api/v1/evidence", headers=headers).get_json())


# --- real photos --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, size, exif_lonlat, upright_portrait", [
    ("exif-samples__hdr_iphone_hdr_YES.jpg", (3264, 2448), (-3.724753, 40.446972), False),
    ("exif-samples__mobile_HMD_Nokia_8.3_5G.jpg", (4608, 1976), (24.906772, 60.146706), False),
    ("exif-samples__heic_IMG_5195.HEIC", (2566, 3313), (-94.288772, 39.051344), True),
    ("exif-samples__gps_DSCN0010.jpg", (640, 480), (11.885127, 43.467448), False),
    ("exif-samples__orientation_portrait_6.jpg", (600, 450), None, True),
    ("exif-samples__Canon_40D.jpg", (100, 68), None, False),
    ("exif-samples__xmp_no_exif.jpg", (322, 466), None, True),
    ("pillow__empty_gps_ifd.jpg", (10, 10), None, False),
    ("pillow__exif_gps_typeerror.jpg", (800, 531), None, False),
])
def test_real_photo_as_an_integration_sends_it(client, auth, shared_data, name, size, exif_lonlat, upright_portrait):
    data = (shared_data / PHOTOS / name).read_bytes()
    headers = auth.headers("officer1")
    r = post_evidence(client, headers, f"ev-{name[:40]}", data, filename=name)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["sha256"] == sha(data) and body["expected"] == []
    files = {f["role"]: f for f in body["files"]}
    assert set(files) == {"original", "display", "thumbnail", "watermark"}
    assert files["original"]["sha256"] == sha(data) and files["original"]["size_bytes"] == len(data)
    assert (files["original"]["width"], files["original"]["height"]) == size
    if exif_lonlat is None:
        assert body["exif"] is None or body["exif"]["lon"] is None
        assert "position_gap_m" not in body["checks"]
    else:
        assert body["exif"]["lon"] == pytest.approx(exif_lonlat[0], abs=1e-6)
        assert body["exif"]["lat"] == pytest.approx(exif_lonlat[1], abs=1e-6)
        # the phone said Hangzhou: thousands of km from where EXIF puts the camera
        assert body["checks"]["position_gap_m"] > 1_000_000 and "exif_position_far" in body["checks"]["flags"]

    original = client.get(files["original"]["url"], headers=headers)
    assert original.status_code == 200 and original.data == data  # byte for byte
    assert original.headers["X-Content-Type-Options"] == "nosniff"
    display = client.get(files["display"]["url"], headers=headers)
    assert display.headers["Content-Type"] == "image/jpeg"
    shown = Image.open(io.BytesIO(display.data))
    assert max(shown.size) == min(1920, max(size))
    assert (shown.height > shown.width) == upright_portrait  # orientation applied, once
    assert not shown.getexif() and "icc_profile" not in shown.info  # no metadata in a derived copy
    thumb = Image.open(io.BytesIO(client.get(files["thumbnail"]["url"], headers=headers).data))
    assert max(thumb.size) == min(320, max(size))
    stamped = Image.open(io.BytesIO(client.get(files["watermark"]["url"], headers=headers).data))
    assert max(stamped.size) == max(960, max(shown.size))  # small photos are enlarged for a readable stamp
    assert abs(stamped.width / stamped.height - shown.width / shown.height) < 0.02
    assert files["watermark"]["made_by"] == "server" and not stamped.getexif()

    verified = client.get(f"/api/v1/evidence/{body['id']}/verify", headers=headers).get_json()
    assert verified["ok"] and verified["original_matches_capture"]
    assert {f["role"] for f in verified["files"]} == {"original", "display", "thumbnail", "watermark"}


def test_times_compared_with_the_phone(client, auth, shared_data):
    """Nokia wrote its offset (+03:00): 11:12:31 UTC. The phone said 11:10:00 UTC: 151 s apart, not flagged;
    a phone clock an hour off is."""
    data = (shared_data / PHOTOS / "exif-samples__mobile_HMD_Nokia_8.3_5G.jpg").read_bytes()
    headers = auth.headers("officer1")
    near = post_evidence(client, headers, "ev-nokia-near", data, captured_at="2022-08-14T11:10:00Z",
                         lon="24.9068", lat="60.1467").get_json()
    assert near["checks"]["time_gap_s"] == 151.0 and near["checks"]["time_source"] == "offset"
    assert near["checks"]["position_gap_m"] < 10 and near["checks"]["flags"] == []
    far = post_evidence(client, headers, "ev-nokia-far", data, captured_at="2022-08-14T12:12:31Z",
                        lon="24.9068", lat="60.1467").get_json()
    assert far["checks"]["time_gap_s"] == -3600.0 and far["checks"]["flags"] == ["exif_time_far"]


def test_photo_saved_by_an_editor_is_flagged(client, auth, shared_data):
    data = (shared_data / PHOTOS / "exif-samples__xmp_no_exif.jpg").read_bytes()
    body = post_evidence(client, auth.headers("officer1"), "ev-photoshop", data).get_json()
    assert "edited_software" in body["checks"]["flags"] and body["exif"]["taken_at"] is None


# --- the phone's order: record, display copy, original ------------------------------------------------------

def phone_display_copy(original: bytes) -> bytes:
    """What the PWA's canvas makes: 1920 px long edge, upright, no metadata."""
    from PIL import ImageOps

    image = ImageOps.exif_transpose(Image.open(io.BytesIO(original)))
    image.thumbnail((1920, 1920))
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=80)
    return out.getvalue()


def test_display_first_then_the_original(app, client, auth, shared_data):
    original = (shared_data / PHOTOS / "exif-samples__hdr_iphone_hdr_YES.jpg").read_bytes()
    display = phone_display_copy(original)
    headers = auth.headers("officer1")
    declared = post_evidence(client, headers, "ev-phone-0001", None, declared=original).get_json()
    assert declared["expected"] == ["original", "display"] and declared["files"] == []
    assert client.get(f"/api/v1/evidence/{declared['id']}/files/display", headers=headers).status_code == 404

    first = post_evidence(client, headers, "ev-phone-0001", display, declared=original, role="display")
    assert first.status_code == 200, first.get_json()
    body = first.get_json()
    assert body["id"] == declared["id"] and body["expected"] == ["original"]
    files = {f["role"]: f for f in body["files"]}
    assert files["display"]["sha256"] == sha(display) and files["display"]["made_by"] == "client"
    assert files["thumbnail"]["made_by"] == files["watermark"]["made_by"] == "server"
    assert body["exif"] is None  # canvas copies carry no EXIF

    later = post_evidence(client, headers, "ev-phone-0001", original, role="original").get_json()
    assert later["expected"] == [] and later["exif"]["model"] == "iPhone 6"
    files = {f["role"]: f for f in later["files"]}
    assert files["original"]["sha256"] == sha(original)
    assert files["display"]["sha256"] == sha(display)  # the phone's copy stays
    assert len(later["files"]) == 4


def test_an_original_that_is_not_the_captured_file(app, client, auth, shared_data):
    original = (shared_data / PHOTOS / "exif-samples__gps_DSCN0010.jpg").read_bytes()
    other = (shared_data / PHOTOS / "exif-samples__gps_DSCN0012.jpg").read_bytes()
    headers = auth.headers("officer1")
    r = post_evidence(client, headers, "ev-mismatch-1", other, declared=original)
    assert r.status_code == 400 and r.get_json()["code"] == "evidence_hash_mismatch"
    assert "哈希" in r.get_json()["message"]
    assert evidence_count(client, headers) == 0 and media_files(app) == []


def test_two_identical_photos_are_two_records(client, auth, shared_data):
    data = (shared_data / PHOTOS / "exif-samples__gps_DSCN0021.jpg").read_bytes()
    headers = auth.headers("officer1")
    a = post_evidence(client, headers, "ev-same-bytes-a", data)
    b = post_evidence(client, headers, "ev-same-bytes-b", data)
    assert (a.status_code, b.status_code) == (201, 201) and a.get_json()["id"] != b.get_json()["id"]


# --- exactly once -------------------------------------------------------------------------------------------

def test_retries_and_conflicts(client, auth, shared_data):
    data = (shared_data / PHOTOS / "exif-samples__gps_DSCN0010.jpg").read_bytes()
    headers = auth.headers("officer1")
    first = post_evidence(client, headers, "ev-retry-0001", data)
    again = post_evidence(client, headers, "ev-retry-0001", data)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == first.get_json()
    moved = post_evidence(client, headers, "ev-retry-0001", data, lat="30.31")
    assert moved.status_code == 409 and moved.get_json()["details"]["fields"] == ["lat"]
    other_display = phone_display_copy((shared_data / PHOTOS / "exif-samples__gps_DSCN0012.jpg").read_bytes())
    declared_only = post_evidence(client, headers, "ev-retry-0002", None, declared=data)
    post_evidence(client, headers, "ev-retry-0002", phone_display_copy(data), declared=data, role="display")
    replaced = post_evidence(client, headers, "ev-retry-0002", other_display, declared=data, role="display")
    assert declared_only.status_code == 201
    assert replaced.status_code == 409 and replaced.get_json()["code"] == "evidence_file_differs"
    someone_else = post_evidence(client, auth.headers("officer2"), "ev-retry-0001", data)
    assert someone_else.status_code == 409


def test_ten_parallel_retries_make_one_record(app, auth, shared_data):
    data = (shared_data / PHOTOS / "exif-samples__hdr_iphone_hdr_YES.jpg").read_bytes()
    headers = auth.headers("officer1")
    answers: list[int] = []
    barrier = threading.Barrier(10)

    def send():
        client = app.test_client()
        barrier.wait()
        answers.append(post_evidence(client, headers, "ev-parallel-01", data).status_code)

    threads = [threading.Thread(target=send) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [200] * 9 + [201]
    listed = app.test_client().get("/api/v1/evidence", headers=headers).get_json()
    assert len(listed) == 1 and len(listed[0]["files"]) == 4
    kept = sorted(p.name for p in media_files(app))
    assert len(kept) == 4 and not any(n.startswith(".part-") for n in kept)


# --- refused files store nothing ----------------------------------------------------------------------------

def _png_bomb(side: int) -> bytes:
    """A valid 1-bit PNG of side×side pixels that compresses to a few kilobytes."""
    import struct

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    raw = zlib.compress(row * side, 9)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", raw) + chunk(b"IEND", b""))


SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, "GIF")
    return out.getvalue()


def _png_header_on(jpeg: bytes) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + jpeg[8:]


@pytest.mark.parametrize("case, status, code", [
    ("truncated", 400, "image_corrupt"),
    ("svg", 415, "image_svg"),
    ("text", 415, "not_an_image"),
    ("gif", 415, "image_unsupported"),
    ("wrong_magic", 400, "image_corrupt"),
    ("bomb", 413, "image_too_many_pixels"),
    ("empty", 400, "image_empty"),
])
def test_refused_files(app, client, auth, shared_data, case, status, code):
    jpeg = (shared_data / PHOTOS / "exif-samples__gps_DSCN0010.jpg").read_bytes()
    data = {
        "truncated": (shared_data / PHOTOS / "pillow__truncated_jpeg.jpg").read_bytes(),
        "svg": SVG, "text": "这不是照片".encode() * 20, "gif": _gif(), "wrong_magic": _png_header_on(jpeg),
        "bomb": _png_bomb(12_000), "empty": b"",
    }[case]
    assert len(data) < 200_000
    headers = auth.headers("officer1")
    r = post_evidence(client, headers, f"ev-refused-{case}", data)
    assert r.status_code == status, r.get_json()
    assert r.get_json()["code"] == code and r.get_json()["message"]
    english = post_evidence(client, {**headers, "Accept-Language": "en"}, f"ev-refused-{case}", data)
    assert english.get_json()["message"].isascii()
    assert evidence_count(client, headers) == 0 and media_files(app) == []  # no record, no file


def test_oversize_photo(databases, tmp_path, shared_data):
    from tests.conftest import Auth, _make_app

    for app in _make_app(databases, "demo", tmp_path, evidence_max_bytes=1024 * 1024):
        data = (shared_data / PHOTOS / "exif-samples__hdr_iphone_hdr_YES.jpg").read_bytes()
        client, headers = app.test_client(), Auth(app).headers("officer1")
        r = post_evidence(client, headers, "ev-too-big-01", data)
        assert r.status_code == 413 and r.get_json()["code"] == "image_too_large" and "1 MB" in r.get_json()["message"]
        assert evidence_count(client, headers) == 0 and media_files(app) == []


def test_a_refused_file_keeps_what_was_stored(app, client, auth, shared_data):
    original = (shared_data / PHOTOS / "exif-samples__gps_DSCN0010.jpg").read_bytes()
    headers = auth.headers("officer1")
    post_evidence(client, headers, "ev-keep-00001", None, declared=original)
    bad = post_evidence(client, headers, "ev-keep-00001", SVG, declared=original, role="display")
    assert bad.status_code == 415
    kept = client.get("/api/v1/evidence?client_id=ev-keep-00001", headers=headers).get_json()
    assert len(kept) == 1 and kept[0]["files"] == [] and kept[0]["expected"] == ["original", "display"]


def test_bad_declarations(client, auth):
    headers = auth.headers("officer1")
    r = client.post("/api/v1/evidence", headers=headers, content_type="multipart/form-data", data={
        "client_id": "ev-bad-000001", "captured_at": "2026-12-01T09:30:00", "sha256": "XYZ", "lon": "120.1"})
    assert r.status_code == 400
    assert set(r.get_json()["details"]["fields"]) == {"captured_at", "sha256"}
    assert "十六进制" in r.get_json()["details"]["fields"]["sha256"][0]
    half = client.post("/api/v1/evidence", headers=headers, content_type="multipart/form-data", data={
        "client_id": "ev-bad-000002", "captured_at": "2026-12-01T09:30:00Z", "sha256": "a" * 64, "lon": "120.1"})
    assert half.status_code == 400 and "lon" in half.get_json()["details"]["fields"]


# --- who sees which photo -----------------------------------------------------------------------------------

# officer2 is in officer1's squad, officer6 and leader2 in the next one
SEES_OFFICER1_PHOTO = {"officer1": True, "leader1": True, "commander1": True, "admin": True,
                       "officer2": False, "officer6": False, "leader2": False, "supervisor1": False, "dept1": False}


def test_visibility_matrix(app, client, auth, shared_data):
    data = (shared_data / PHOTOS / "exif-samples__gps_DSCN0010.jpg").read_bytes()
    body = post_evidence(client, auth.headers("officer1"), "ev-matrix-0001", data).get_json()
    officer1_squad = auth.user("officer1")["squad"]["id"]
    leader_squad = (auth.user("leader1").get("squad") or {}).get("id")
    assert leader_squad == officer1_squad, "the demo's leader1 leads officer1's squad"
    assert auth.user("officer2")["squad"]["id"] == officer1_squad != auth.user("officer6")["squad"]["id"]
    for user, sees in SEES_OFFICER1_PHOTO.items():
        headers = auth.headers(user)
        status = 200 if sees else 404
        assert client.get(f"/api/v1/evidence/{body['id']}", headers=headers).status_code == status, user
        for role in ("original", "display", "thumbnail", "watermark"):
            assert client.get(f"/api/v1/evidence/{body['id']}/files/{role}", headers=headers).status_code == status
        assert client.get(f"/api/v1/evidence/{body['id']}/verify", headers=headers).status_code == status
        listed = [e["id"] for e in client.get("/api/v1/evidence", headers=headers).get_json()]
        assert (body["id"] in listed) == sees, user


def test_only_the_uploader_adds_files(client, auth, shared_data):
    data = (shared_data / PHOTOS / "exif-samples__gps_DSCN0010.jpg").read_bytes()
    post_evidence(client, auth.headers("officer1"), "ev-owner-0001", None, declared=data)
    r = post_evidence(client, auth.headers("leader1"), "ev-owner-0001", data)
    assert r.status_code == 409  # the id is someone else's: nothing to learn, nothing added


def test_tampering_shows_in_verify(app, client, auth, shared_data):
    data = (shared_data / PHOTOS / "exif-samples__gps_DSCN0010.jpg").read_bytes()
    headers = auth.headers("officer1")
    body = post_evidence(client, headers, "ev-tamper-001", data).get_json()
    stored = next(p for p in media_files(app) if p.name.startswith("original-"))
    stored.write_bytes(stored.read_bytes()[:-1] + b"\x00")
    report = client.get(f"/api/v1/evidence/{body['id']}/verify", headers=headers).get_json()
    assert not report["ok"] and report["original_matches_capture"] is False
    assert [f["ok"] for f in report["files"] if f["role"] == "original"] == [False]
    stored.unlink()
    report = client.get(f"/api/v1/evidence/{body['id']}/verify", headers=headers).get_json()
    assert [f["computed_sha256"] for f in report["files"] if f["role"] == "original"] == [None]


def test_every_upload_is_in_the_audit_log(client, auth, shared_data):
    data = (shared_data / PHOTOS / "exif-samples__gps_DSCN0010.jpg").read_bytes()
    body = post_evidence(client, auth.headers("officer1"), "ev-audit-0001", data).get_json()
    log = client.get("/api/v1/audit?entity=evidence", headers=auth.headers("admin")).get_json()
    actions = [e["action"] for e in log if e["entity_id"] == str(body["id"])]
    assert sorted(actions) == ["evidence.create", "evidence.file"]
    assert datetime.fromisoformat(body["created_at"]) <= datetime.now(UTC)
