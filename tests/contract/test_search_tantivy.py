from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import pytest
import tantivy

from adapters.search.tantivy import TantivyIndex
from adapters.search.tantivy_schema import ANALYZER, FEATURED_RANK, TEXT
from projections.search.port import (
    VARIANT_FIELDS,
    ProductDocument,
    SearchIndex,
    SearchQuery,
    SearchUnavailable,
)
from tests.contract.search_contract import ONLY_T1, T1, SearchIndexContract, doc, titles


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


# -- an index an earlier Velora made -------------------------------------------------------------


def _schema_before_variants() -> tantivy.Schema:
    """The fields a generation had before products had variants (up to issue 28)."""
    b = tantivy.SchemaBuilder()
    for name in ("product_id", "tenant_id", "seller_id", "currency"):
        b.add_text_field(name, stored=True, tokenizer_name="raw", fast=True)
    for name in ("title", "description", "category"):
        b.add_text_field(name, stored=True, tokenizer_name=ANALYZER)
    b.add_text_field("category_key", stored=False, tokenizer_name="raw", fast=True)
    for name in ("price_minor", "available", "rating_count", "created_position", "version"):
        b.add_integer_field(name, stored=True, indexed=True, fast=True)
    b.add_float_field("rating_avg", stored=True, indexed=True, fast=True)
    b.add_boolean_field("live", stored=True, indexed=True, fast=True)
    b.add_bytes_field("images", stored=True, indexed=False)
    b.add_boolean_field("featured", stored=True, indexed=True, fast=True)
    b.add_integer_field("featured_rank", stored=False, indexed=False, fast=True)
    return b.build()


def _earlier_generation(
    root: Path, schema: tantivy.Schema, documents: list[dict[str, Any]]
) -> None:
    """A data dir as an earlier Velora left it: one generation, live, holding these documents."""
    path = root / "g000001"
    path.mkdir(parents=True)
    index = tantivy.Index(schema, path=str(path))
    index.register_tokenizer(ANALYZER, TEXT)
    writer = index.writer(heap_size=15_000_000, num_threads=1)
    for values in documents:
        writer.add_document(tantivy.Document(**values))
    writer.commit()
    writer.wait_merging_threads()
    (root / "CURRENT").write_text("g000001")


def _as_earlier_velora_wrote_it(d: ProductDocument) -> dict[str, Any]:
    values = {k: v for k, v in asdict(d).items() if k not in VARIANT_FIELDS}
    rank = d.created_position + (FEATURED_RANK if d.featured else 0)
    return values | {
        "images": d.images.encode(),
        "category_key": d.category,
        "featured_rank": rank,
        "live": True,
    }


def test_an_index_made_before_variants_is_upgraded_when_first_opened(tmp_path: Path) -> None:
    root = tmp_path / "search"
    lamp = doc("Brass lamp", price_minor=4500, images='[{"id": "i1"}]', version=10)
    desk = doc("Oak desk", price_minor=20_000, featured=True, version=11)
    gone = doc("Gone vase", version=12)
    tombstone = {"product_id": gone.product_id, "tenant_id": T1, "version": 20, "live": False}
    _earlier_generation(
        root,
        _schema_before_variants(),
        [_as_earlier_velora_wrote_it(lamp), _as_earlier_velora_wrote_it(desk), tombstone],
    )

    handles = [TantivyIndex(root) for _ in range(4)]
    barrier = threading.Barrier(len(handles))
    seen: list[set[str]] = []

    def first_search(index: TantivyIndex) -> None:
        barrier.wait()
        seen.append(set(titles(index)))

    threads = [threading.Thread(target=first_search, args=(h,)) for h in handles]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Upgraded once, whoever came first; the generation it came from is kept, as after a rebuild.
    assert seen == [{"Brass lamp", "Oak desk"}] * len(handles)
    assert {h.generation() for h in handles} == {"g000002"}
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == ["g000001", "g000002"]

    index = handles[0]
    found = {d.title: d for d in index.search(ONLY_T1, SearchQuery()).items}
    assert found == {"Brass lamp": lamp, "Oak desk": desk}  # every field as it was
    assert titles(index, min_price_minor=4000, max_price_minor=5000) == ["Brass lamp"]
    assert titles(index, featured=True) == ["Oak desk"]
    assert titles(index, sort="price_desc") == ["Oak desk", "Brass lamp"]
    # The tombstone kept its version: a late, older change still stays out.
    index.apply([replace(gone, version=19)], [])
    assert "Gone vase" not in titles(index)
    index.apply([replace(gone, version=21)], [])
    assert "Gone vase" in titles(TantivyIndex(root))


def test_an_index_that_cannot_be_upgraded_says_so_and_a_rebuild_replaces_it(
    tmp_path: Path,
) -> None:
    root = tmp_path / "search"
    b = tantivy.SchemaBuilder()
    b.add_text_field("product_id", stored=True, tokenizer_name="raw")
    _earlier_generation(root, b.build(), [{"product_id": "p1"}])
    index = TantivyIndex(root)
    with pytest.raises(SearchUnavailable, match="rebuild search"):
        index.search(ONLY_T1, SearchQuery())
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == ["g000001"]

    assert index.generation() == "g000001"
    rebuild = index.begin_rebuild()
    rebuild.apply([doc("Rebuilt")], [])
    index.publish(rebuild)
    assert titles(index) == ["Rebuilt"]
    assert titles(TantivyIndex(root)) == ["Rebuilt"]
