"""Benchmark: a 12-megapixel phone JPEG through the server (hash, EXIF, checks, display copy, thumbnail, watermark).

Run: python bench/evidence_pipeline.py [--photos 12]

The photo: a real phone picture from ../shared/data/photos (Nokia 8.3, with its EXIF and GPS) scaled to 4032×3024,
as a 12 MP phone camera writes it (quality 92, its EXIF kept), made different for every upload so that no cache or
duplicate check shortens the work.
  - through the server: POST /api/v1/evidence (multipart, officer1) to gunicorn on SpatiaLite with the demo town,
    median and p95 wall time of `--photos` uploads, and the server's own time (Server-Timing);
  - the pipeline alone, in process: services.evidence (check_image with JPEG draft decoding, upright, display copy,
    thumbnail, watermark, SHA-256);
  - the baseline, same run: the same steps with a naive full-resolution decode (no draft), each copy resized from
    the full 12 MP picture, as the obvious Pillow code does it.
Target: <= 300 ms through the server.
"""
from __future__ import annotations

import argparse
import hashlib
import http.client
import io
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image, ImageOps

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.http_batch import PASSWORD, start_server  # noqa: E402
from backend.services.evidence import images, watermark  # noqa: E402

TARGET_MS = 300
SOURCE = "exif-samples__mobile_HMD_Nokia_8.3_5G.jpg"
SIZE = (4032, 3024)
LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def shared_photos() -> Path:
    return Path(os.environ.get("GRIDPATROL_SHARED_DATA", REPO.parent / "shared" / "data")) / "photos"


def twelve_megapixel_photos(count: int) -> list[bytes]:
    source = Image.open(shared_photos() / SOURCE)
    exif = source.info.get("exif", b"")
    big = source.convert("RGB").resize(SIZE, Image.Resampling.BICUBIC)
    photos = []
    for i in range(count):
        big.putpixel((i, 0), (i % 256, 0, 0))  # a different file each time: a different hash
        out = io.BytesIO()
        big.save(out, "JPEG", quality=92, exif=exif)
        photos.append(out.getvalue())
    return photos


def multipart(fields: dict[str, str], data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="IMG.jpg"\r\n'
                 f"Content-Type: image/jpeg\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def through_server(photos: list[bytes]) -> tuple[list[float], list[float]]:
    with tempfile.TemporaryDirectory(prefix="gp-bench-evidence-") as tmp:
        server, port = start_server(f"sqlite:///{tmp}/bench.db", tmp)
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request("POST", "/api/v1/auth/login", json.dumps({"username": "officer1", "password": PASSWORD}),
                         {"Content-Type": "application/json"})
            token = json.loads(conn.getresponse().read())["access_token"]
            walls, servers = [], []
            for i, data in enumerate([photos[0], *photos]):  # the first warms the worker up: not counted
                body, content_type = multipart({
                    "client_id": f"bench-{uuid.uuid4()}", "captured_at": datetime.now(UTC).isoformat(),
                    "lon": "115.5612", "lat": "38.1012", "accuracy_m": "6", "role": "original",
                    "sha256": hashlib.sha256(data).hexdigest()}, data)
                started = time.perf_counter()
                conn.request("POST", "/api/v1/evidence", body, {"Content-Type": content_type,
                                                                 "Authorization": f"Bearer {token}"})
                response = conn.getresponse()
                answer = json.loads(response.read())
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status == 201, answer
                assert {f["role"] for f in answer["files"]} == {"original", "display", "thumbnail", "watermark"}
                if i:
                    walls.append(elapsed)
                    timing = response.getheader("Server-Timing") or "app;dur=nan"
                    servers.append(float(timing.split("dur=")[1].split(",")[0]))
            return walls, servers
        finally:
            server.terminate()
            server.wait()


def _stamp(data: bytes) -> watermark.Stamp:
    return watermark.stamp_for(datetime.now(UTC), 115.5612, 38.1012, 6.0, "示范镇 · 东村 · 第一网格", "张伟",
                               "13010012345", 1, hashlib.sha256(data).hexdigest())


def pipeline(data: bytes, font: tuple[str, int]) -> None:
    images.sha256_hex(data)
    checked = images.check_image(data, max_bytes=30 << 20, max_pixels=120_000_000, local_tz=LOCAL_TZ)
    shown = images.fit(images.upright_rgb(checked.picture), images.DISPLAY_LONG_EDGE_PX)
    images.encode_jpeg(shown, images.DISPLAY_QUALITY)
    images.thumbnail(shown)
    watermark.burn(shown, _stamp(data), font)


def naive(data: bytes, font: tuple[str, int]) -> None:
    hashlib.sha256(data).hexdigest()
    picture = Image.open(io.BytesIO(data))
    picture.getexif()
    picture.load()  # all 12 MP decoded
    upright = ImageOps.exif_transpose(picture).convert("RGB")
    for edge, quality in ((images.DISPLAY_LONG_EDGE_PX, images.DISPLAY_QUALITY),
                          (images.THUMBNAIL_LONG_EDGE_PX, images.THUMBNAIL_QUALITY)):
        copy = upright.copy()
        copy.thumbnail((edge, edge), Image.Resampling.LANCZOS)
        copy.save(io.BytesIO(), "JPEG", quality=quality, optimize=True, progressive=True)
    copy = upright.copy()
    copy.thumbnail((images.DISPLAY_LONG_EDGE_PX,) * 2, Image.Resampling.LANCZOS)
    watermark.burn(copy, _stamp(data), font)


def timed(fn, photos: list[bytes], font: tuple[str, int]) -> list[float]:
    fn(photos[0], font)
    out = []
    for data in photos:
        started = time.perf_counter()
        fn(data, font)
        out.append((time.perf_counter() - started) * 1000)
    return out


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=12)
    args = parser.parse_args()
    font = watermark.find_font(None)
    if font is None:
        raise SystemExit("no CJK font: apt-get install fonts-noto-cjk")
    photos = twelve_megapixel_photos(args.photos)
    print(f"{len(photos)} photos {SIZE[0]}x{SIZE[1]} ({SIZE[0] * SIZE[1] / 1e6:.1f} MP), "
          f"median {statistics.median(len(p) for p in photos) / 1e6:.1f} MB")
    ours = timed(pipeline, photos, font)
    base = timed(naive, photos, font)
    walls, servers = through_server(photos)
    median, baseline = statistics.median(walls), statistics.median(base)
    print(f"  through the server (POST /api/v1/evidence, gunicorn, SpatiaLite): median {median:.0f} ms, "
          f"p95 {p95(walls):.0f} ms wall; server time median {statistics.median(servers):.0f} ms")
    print(f"  pipeline alone: median {statistics.median(ours):.0f} ms, p95 {p95(ours):.0f} ms")
    print(f"  baseline, naive full-resolution decode: median {baseline:.0f} ms, p95 {p95(base):.0f} ms")
    print(f"  ratio baseline / pipeline: {baseline / statistics.median(ours):.1f}x; "
          f"baseline / through the server: {baseline / median:.1f}x")
    ok = median <= TARGET_MS
    print(f"  target <= {TARGET_MS} ms through the server: {'OK' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
