"""Evidence on S3-compatible object storage, against a real local S3 server (moto's server mode over HTTP): the
same upload, read-back and verification as on local files, and nothing written to the media directory."""
from __future__ import annotations

import hashlib
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.conftest import Auth, _make_app
from tests.resources.test_evidence import post_evidence

BUCKET = "gridpatrol-evidence"


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_app(databases, tmp_path, s3_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
    bucket = f"{BUCKET}-{tmp_path.name[-12:].lower().replace('_', '-')}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    yield from _make_app(databases, "demo", tmp_path, media_s3_bucket=bucket, media_s3_endpoint=s3_endpoint,
                         media_s3_region="us-east-1", media_s3_prefix="town-a")


def test_upload_read_verify_on_s3(s3_app, s3_endpoint, shared_data):
    settings = s3_app.config["GRIDPATROL"]
    client, headers = s3_app.test_client(), Auth(s3_app).headers("officer1")
    data = (shared_data / "photos" / "exif-samples__mobile_HMD_Nokia_8.3_5G.jpg").read_bytes()
    body = post_evidence(client, headers, "ev-s3-000001", data).get_json()
    assert {f["role"] for f in body["files"]} == {"original", "display", "thumbnail", "watermark"}

    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=settings.media_s3_bucket)["Contents"])
    assert len(keys) == 4 and all(k.startswith("town-a/evidence/") for k in keys)
    original_key = next(k for k in keys if "/original-" in k)
    stored = s3.get_object(Bucket=settings.media_s3_bucket, Key=original_key)
    assert hashlib.sha256(stored["Body"].read()).hexdigest() == body["sha256"]
    assert stored["ContentType"] == "image/jpeg"
    assert not Path(settings.media_dir).exists() or not any(Path(settings.media_dir).rglob("*.jpg"))

    served = client.get(f"/api/v1/evidence/{body['id']}/files/original", headers=headers)
    assert served.status_code == 200 and served.data == data
    assert client.get(f"/api/v1/evidence/{body['id']}/verify", headers=headers).get_json()["ok"]

    s3.delete_object(Bucket=settings.media_s3_bucket, Key=original_key)
    report = client.get(f"/api/v1/evidence/{body['id']}/verify", headers=headers).get_json()
    assert not report["ok"]
    assert [f["computed_sha256"] for f in report["files"] if f["role"] == "original"] == [None]
    lost = client.get(f"/api/v1/evidence/{body['id']}/files/original", headers=headers)
    assert lost.status_code == 404 and lost.get_json()["code"] == "evidence_file_lost"
