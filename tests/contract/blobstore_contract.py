"""What every blob store behind the media port must do, held to the same tests on each."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.media import Blob, BlobStore


def key(size: str = "original", ext: str = "png") -> str:
    return f"{uuid4()}/products/{uuid4()}/{uuid4()}/{size}.{ext}"


class BlobStoreContract:
    """Subclasses provide the `blobs` fixture."""

    def test_a_stored_blob_reads_back_whole_with_its_type(self, blobs: BlobStore) -> None:
        k, data = key(ext="webp"), bytes(range(256)) * 1000
        blobs.put(k, Blob(data, "image/webp"))
        assert blobs.get(k) == Blob(data, "image/webp")

    def test_an_unknown_key_reads_as_none(self, blobs: BlobStore) -> None:
        assert blobs.get(key()) is None

    def test_a_second_put_replaces_the_first(self, blobs: BlobStore) -> None:
        k = key()
        blobs.put(k, Blob(b"first", "image/png"))
        blobs.put(k, Blob(b"second", "image/png"))
        got = blobs.get(k)
        assert got is not None and got.data == b"second"

    def test_delete_forgets_the_named_blobs_only_and_minds_no_missing_ones(
        self, blobs: BlobStore
    ) -> None:
        gone, kept = key(), key(size="thumb", ext="jpg")
        blobs.put(gone, Blob(b"a", "image/png"))
        blobs.put(kept, Blob(b"b", "image/jpeg"))
        blobs.delete([gone, key()])
        assert blobs.get(gone) is None
        assert blobs.get(kept) == Blob(b"b", "image/jpeg")
        blobs.delete([])

    @pytest.mark.parametrize(
        "bad", ["../secret_key", "/etc/passwd", "a/../../b.png", "", "a//b.png", "a/.hidden"]
    )
    def test_a_key_that_could_leave_the_store_is_refused(self, blobs: BlobStore, bad: str) -> None:
        with pytest.raises(ValueError, match="not a blob key"):
            blobs.put(bad, Blob(b"x", "image/png"))
        with pytest.raises(ValueError, match="not a blob key"):
            blobs.get(bad)

    def test_ping_answers_when_the_store_is_there(self, blobs: BlobStore) -> None:
        blobs.ping()
