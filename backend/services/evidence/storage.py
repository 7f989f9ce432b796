"""Where evidence files live: a directory outside the web root (`MEDIA_DIR`, the default) or an S3-compatible bucket
(`MEDIA_S3_BUCKET`, boto3). Both are written whole or not at all, so a retried or cut-off upload never leaves a half
file that a reader could see: locally by writing a temporary file and renaming it into place, on S3 because an
object appears only when its PUT completes.

Keys are derived from the evidence id, the role and the file's hash, so writing the same bytes again is harmless.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

CHUNK = 1024 * 1024


class Storage(Protocol):
    def put(self, key: str, data: bytes, media_type: str) -> None: ...
    def put_file(self, key: str, path: Path, media_type: str) -> None: ...
    def exists(self, key: str) -> bool: ...
    def read(self, key: str) -> bytes: ...
    def stream(self, key: str) -> Iterator[bytes]: ...
    def delete(self, key: str) -> None: ...


def evidence_key(evidence_id: int, role: str, sha256: str, extension: str) -> str:
    return f"evidence/{evidence_id // 1000:06d}/{evidence_id}/{role}-{sha256[:16]}.{extension}"


class LocalStorage:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:  # keys are ours, but a path never leaves the root
            raise ValueError(f"storage key outside the media directory: {key}")
        return path

    def put(self, key: str, data: bytes, media_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o640)
            os.replace(tmp, path)  # atomic: readers see the old state or the whole file
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put_file(self, key: str, path: Path, media_type: str) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, target.with_name(target.name + ".link"))  # same file system: no copy
            os.replace(target.with_name(target.name + ".link"), target)
        except OSError:
            self.put(key, path.read_bytes(), media_type)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def stream(self, key: str) -> Iterator[bytes]:
        f = self._path(key).open("rb")  # opened now: a missing file fails here, not half-way through an answer

        def chunks() -> Iterator[bytes]:
            with f:
                while chunk := f.read(CHUNK):
                    yield chunk
        return chunks()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class S3Storage:
    """An S3-compatible bucket (AWS, MinIO, Ceph, Aliyun OSS and Tencent COS in S3 mode)."""

    def __init__(self, bucket: str, *, endpoint_url: str | None = None, region: str | None = None,
                 prefix: str = "", client: Any = None) -> None:
        import boto3  # only deployments that use S3 need it loaded

        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.client = client or boto3.client("s3", endpoint_url=endpoint_url or None, region_name=region or None)

    def _key(self, key: str) -> str:
        return self.prefix + key

    def put(self, key: str, data: bytes, media_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=media_type)

    def put_file(self, key: str, path: Path, media_type: str) -> None:
        self.client.upload_file(str(path), self.bucket, self._key(key), ExtraArgs={"ContentType": media_type})

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def _body(self, key: str) -> Any:
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        except ClientError as exc:  # missing is missing, as for a local file
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise FileNotFoundError(key) from exc
            raise

    def read(self, key: str) -> bytes:
        data: bytes = self._body(key).read()
        return data

    def stream(self, key: str) -> Iterator[bytes]:
        body = self._body(key)  # requested now: a missing object fails here, not half-way through an answer
        return iter(body.iter_chunks(CHUNK))

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))


def storage_from_settings(settings: Any) -> Storage:
    if settings.media_s3_bucket:
        return S3Storage(settings.media_s3_bucket, endpoint_url=settings.media_s3_endpoint,
                         region=settings.media_s3_region, prefix=settings.media_s3_prefix)
    return LocalStorage(settings.media_dir)
