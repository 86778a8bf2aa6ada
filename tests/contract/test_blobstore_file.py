from __future__ import annotations

from pathlib import Path

import pytest

from adapters.blobs import FileBlobStore
from domain.media import Blob, BlobStore
from tests.contract.blobstore_contract import BlobStoreContract, key


class TestFileBlobStore(BlobStoreContract):
    @pytest.fixture
    def blobs(self, tmp_path: Path) -> BlobStore:
        return FileBlobStore(tmp_path / "media")


def test_files_live_under_the_root_and_nowhere_else(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path / "media")
    k = key()
    store.put(k, Blob(b"png", "image/png"))
    assert (tmp_path / "media" / k).read_bytes() == b"png"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["media"]
    assert not [p for p in (tmp_path / "media").rglob(".upload-*")]  # no partial files left
