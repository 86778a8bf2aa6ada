from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from projections.search.port import ProductDocument, SearchIndex
from projections.search.tantivy_index import TantivyIndex
from tests.contract.search_contract import SearchIndexContract, doc, titles


class TestTantivySearch(SearchIndexContract):
    @pytest.fixture
    def index(self, tmp_path: Path) -> Iterator[SearchIndex]:
        index = TantivyIndex(tmp_path / "search")
        yield index
        index.close()

    @pytest.fixture
    def reopen(self, tmp_path: Path) -> Callable[[], SearchIndex]:
        return lambda: TantivyIndex(tmp_path / "search")


def test_first_use_from_many_threads_and_handles_makes_one_generation(tmp_path: Path) -> None:
    root = tmp_path / "search"
    shared = TantivyIndex(root)
    docs = [doc(f"Bowl {i}") for i in range(6)]
    barrier = threading.Barrier(12)
    generations: list[str] = []

    def write(d: ProductDocument) -> None:
        barrier.wait()
        shared.apply([d], [])

    def look() -> None:
        barrier.wait()
        generations.append(TantivyIndex(root).generation())

    threads = [threading.Thread(target=write, args=(d,)) for d in docs]
    threads += [threading.Thread(target=look) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(generations) == {"g000001"}
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == ["g000001"]
    assert sorted(titles(TantivyIndex(root))) == sorted(d.title for d in docs)
