"""The blob stores behind the media port: files under the data directory (the embedded
default), or an S3 bucket (`VELORA_S3_BUCKET`; any S3 API: AWS, MinIO, moto's server)."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
from botocore.config import Config

from domain.media import EXTENSIONS, Blob, BlobStoreUnavailable

# Keys are paths of plain names: no "..", no leading slash, nothing a path could escape with.
_KEY = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*(/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*$")


def checked(key: str) -> str:
    if not _KEY.match(key) or ".." in key or len(key) > 500:
        raise ValueError(f"not a blob key: {key!r}")
    return key


_TYPES = {ext: content_type for content_type, ext in EXTENSIONS.items()}


def _content_type(key: str) -> str:
    return _TYPES.get(key.rsplit(".", 1)[-1], "application/octet-stream")


class FileBlobStore:
    """One file per blob under `root`, written whole or not at all (rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / checked(key)

    def put(self, key: str, blob: Blob) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(blob.data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> Blob | None:
        try:
            return Blob(self._path(key).read_bytes(), _content_type(key))
        except FileNotFoundError:
            return None

    def delete(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._path(key).unlink(missing_ok=True)

    def ping(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)


class S3BlobStore:
    """Blobs as objects of one bucket, made on first use if missing."""

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> None:
        self.bucket = bucket
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=30,
                s3={"addressing_style": "path"},
            ),
        )
        self._bucket_known = False

    def _ensure_bucket(self) -> None:
        if self._bucket_known:
            return
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except botocore.exceptions.ClientError as e:
            if e.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket"):
                raise BlobStoreUnavailable(f"bucket {self.bucket}: {e}") from e
            try:
                self.client.create_bucket(Bucket=self.bucket)
            except botocore.exceptions.ClientError as made:
                code = made.response.get("Error", {}).get("Code")
                if code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise BlobStoreUnavailable(f"bucket {self.bucket}: {made}") from made
        except botocore.exceptions.BotoCoreError as e:
            raise BlobStoreUnavailable(f"S3: {e}") from e
        self._bucket_known = True

    def put(self, key: str, blob: Blob) -> None:
        self._ensure_bucket()
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=checked(key), Body=blob.data, ContentType=blob.content_type
            )
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
            raise BlobStoreUnavailable(f"S3 put {key}: {e}") from e

    def get(self, key: str) -> Blob | None:
        self._ensure_bucket()
        try:
            got = self.client.get_object(Bucket=self.bucket, Key=checked(key))
            return Blob(got["Body"].read(), got.get("ContentType") or _content_type(key))
        except botocore.exceptions.ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise BlobStoreUnavailable(f"S3 get {key}: {e}") from e
        except botocore.exceptions.BotoCoreError as e:
            raise BlobStoreUnavailable(f"S3 get {key}: {e}") from e

    def delete(self, keys: Iterable[str]) -> None:
        objects = [{"Key": checked(key)} for key in keys]
        if not objects:
            return
        self._ensure_bucket()
        try:
            for start in range(0, len(objects), 1000):
                self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": objects[start : start + 1000]}
                )
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
            raise BlobStoreUnavailable(f"S3 delete: {e}") from e

    def ping(self) -> None:
        self._bucket_known = False
        self._ensure_bucket()
