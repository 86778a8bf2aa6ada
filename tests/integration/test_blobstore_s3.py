"""The blob store contract against an S3 API over HTTP (moto's server, scripts/services.sh)."""

from __future__ import annotations

from uuid import uuid4

import pytest

from adapters.blobs import S3BlobStore
from domain.media import Blob, BlobStore, BlobStoreUnavailable
from tests.conftest import s3_settings
from tests.contract.blobstore_contract import BlobStoreContract, key


def store(s3_server: str) -> S3BlobStore:
    s = s3_settings(s3_server)
    return S3BlobStore(
        str(s["s3_bucket"]),
        endpoint_url=s3_server,
        access_key_id=str(s["s3_access_key_id"]),
        secret_access_key=str(s["s3_secret_access_key"]),
    )


class TestS3BlobStore(BlobStoreContract):
    @pytest.fixture
    def blobs(self, s3_server: str) -> BlobStore:
        return store(s3_server)


def test_the_bucket_is_made_on_first_use_and_shared_by_every_store(s3_server: str) -> None:
    first = store(s3_server)
    second = S3BlobStore(
        first.bucket,
        endpoint_url=s3_server,
        access_key_id="velora-test",
        secret_access_key="velora-test-secret",
    )
    k = key()
    first.put(k, Blob(b"shared", "image/png"))
    assert second.get(k) == Blob(b"shared", "image/png")
    assert first.client.head_object(Bucket=first.bucket, Key=k)["ContentType"] == "image/png"


def test_an_unreachable_server_is_unavailable_not_a_crash() -> None:
    down = S3BlobStore(
        f"velora-t-{uuid4().hex[:12]}",
        endpoint_url="http://127.0.0.1:1",
        access_key_id="x",
        secret_access_key="y",
    )
    with pytest.raises(BlobStoreUnavailable):
        down.put(key(), Blob(b"x", "image/png"))
    with pytest.raises(BlobStoreUnavailable):
        down.get(key())
