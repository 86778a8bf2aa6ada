"""The contract every search engine behind the SearchIndex port keeps. Each engine's test module
subclasses SearchIndexContract and provides `index` (a fresh, empty index) and `reopen` (a
second handle on the same index, as another process would have)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from uuid import uuid4

import pytest

from projections.scope import TenantScope
from projections.search.port import (
    Bucket,
    InvalidSearch,
    PriceBucket,
    ProductDocument,
    Removal,
    SearchIndex,
    SearchQuery,
    page,
)

T1, T2 = str(uuid4()), str(uuid4())
S1, S2 = str(uuid4()), str(uuid4())
ONLY_T1 = TenantScope.only(T1)

_positions = iter(range(1, 10**9))


def doc(title: str, **overrides: object) -> ProductDocument:
    position = next(_positions)
    values: dict[str, object] = {
        "product_id": str(uuid4()),
        "tenant_id": T1,
        "seller_id": S1,
        "title": title,
        "description": "",
        "category": "Misc",
        "price_minor": 1000,
        "currency": "USD",
        "available": 5,
        "rating_avg": 0.0,
        "rating_count": 0,
        "created_position": position,
        "version": position,
    }
    values.update(overrides)
    return ProductDocument(**values)  # type: ignore[arg-type]


def removal(d: ProductDocument, version: int) -> Removal:
    return Removal(d.product_id, d.tenant_id, version)


def titles(index: SearchIndex, scope: TenantScope = ONLY_T1, **query: object) -> list[str]:
    return [d.title for d in index.search(scope, SearchQuery(**query)).items]  # type: ignore[arg-type]


class SearchIndexContract:
    @pytest.fixture
    def index(self) -> SearchIndex:
        raise NotImplementedError

    @pytest.fixture
    def reopen(self) -> Callable[[], SearchIndex]:
        raise NotImplementedError

    # -- text relevance ------------------------------------------------------------------------

    def test_text_matches_title_description_and_category_with_title_first(
        self, index: SearchIndex
    ) -> None:
        index.apply(
            [
                doc("Walnut desk", description="A lamp clamps to its edge"),
                doc("Brass lamp", description="Warm light for a desk"),
                doc("Reading chair", category="Lamps"),
                doc("Teapot"),
            ],
            [],
        )
        found = titles(index, text="lamp")
        assert found[0] == "Brass lamp"
        assert set(found) == {"Brass lamp", "Walnut desk", "Reading chair"}

    def test_every_word_must_match_somewhere(self, index: SearchIndex) -> None:
        index.apply([doc("Red wool scarf"), doc("Red cotton scarf"), doc("Blue wool hat")], [])
        assert titles(index, text="red wool") == ["Red wool scarf"]
        assert titles(index, text="wool", sort="newest") == ["Blue wool hat", "Red wool scarf"]

    def test_a_typo_still_finds_the_product_but_exact_words_rank_higher(
        self, index: SearchIndex
    ) -> None:
        index.apply([doc("Leather boots"), doc("Rain boot"), doc("Lather soap")], [])
        assert "Leather boots" in titles(index, text="lether")
        assert titles(index, text="boots")[0] == "Leather boots"
        assert set(titles(index, text="boots")) == {"Leather boots", "Rain boot"}
        assert titles(index, text="zzzzqqq") == []

    def test_case_and_accents_do_not_matter(self, index: SearchIndex) -> None:
        index.apply([doc("Café au lait bowl")], [])
        assert titles(index, text="CAFE") == ["Café au lait bowl"]
        assert titles(index, text="café") == ["Café au lait bowl"]

    # -- tenancy -------------------------------------------------------------------------------

    def test_a_tenant_sees_only_its_own_products(self, index: SearchIndex) -> None:
        index.apply([doc("Mug", tenant_id=T1), doc("Mug", tenant_id=T2, seller_id=S2)], [])
        mine = index.search(ONLY_T1, SearchQuery(text="mug"))
        assert [d.tenant_id for d in mine.items] == [T1] and mine.total == 1
        assert [b.value for b in mine.facets.sellers] == [S1]
        assert index.search(TenantScope.every_tenant(), SearchQuery(text="mug")).total == 2
        assert index.search(TenantScope(frozenset()), SearchQuery()).total == 0
        assert index.suggest(TenantScope.only(T2), "mu", 10) == ["Mug"]
        assert index.suggest(TenantScope.only(str(uuid4())), "mu", 10) == []

    # -- filters and sorts ---------------------------------------------------------------------

    def test_filters_narrow_by_category_seller_price_rating_and_stock(
        self, index: SearchIndex
    ) -> None:
        index.apply(
            [
                doc("A", category="Kitchen", price_minor=500, rating_avg=4.5, rating_count=2),
                doc("B", category="Kitchen", price_minor=1500, available=0),
                doc("C", category="Garden", seller_id=S2, price_minor=2500, rating_avg=3.0),
                doc("D", category="kitchen", price_minor=1000),
            ],
            [],
        )

        def only(**query: object) -> set[str]:
            return set(titles(index, **query))

        assert only(category="Kitchen") == {"A", "B"}
        assert only(seller_id=S2) == {"C"}
        assert only(min_price_minor=500, max_price_minor=1500) == {"A", "B", "D"}
        assert only(min_price_minor=1001) == {"B", "C"}
        assert only(max_price_minor=499) == set()
        assert only(min_rating=4.0) == {"A"}
        assert only(min_rating=3.0) == {"A", "C"}
        assert only(in_stock=True) == {"A", "C", "D"}
        assert only(category="Kitchen", in_stock=True, text="a") == {"A"}

    def test_sorts_by_price_and_by_newest(self, index: SearchIndex) -> None:
        index.apply(
            [doc("Old", price_minor=300), doc("Mid", price_minor=100), doc("New", price_minor=200)],
            [],
        )
        assert titles(index, sort="price_asc") == ["Mid", "New", "Old"]
        assert titles(index, sort="price_desc") == ["Old", "New", "Mid"]
        assert titles(index, sort="newest") == ["New", "Mid", "Old"]
        # Relevance without text has nothing to rank by, so the newest come first.
        assert titles(index) == ["New", "Mid", "Old"]

    def test_a_query_the_engine_cannot_answer_is_refused(self) -> None:
        for bad in (
            {"sort": "cheapest"},
            {"limit": 501},
            {"limit": 0},
            {"min_price_minor": -1},
            {"min_price_minor": 10, "max_price_minor": 5},
            {"min_rating": 5.5},
            {"offset": 10_000},
        ):
            with pytest.raises(InvalidSearch):
                SearchQuery(**bad)  # type: ignore[arg-type]

    # -- paging --------------------------------------------------------------------------------

    def test_cursors_page_through_every_result_once(self, index: SearchIndex) -> None:
        index.apply([doc(f"Candle {i}", price_minor=100 + i) for i in range(7)], [])
        query = SearchQuery(text="candle", sort="price_asc", limit=3)
        seen: list[str] = []
        cursor = None
        totals = set()
        while True:
            result = index.search(ONLY_T1, page(ONLY_T1, query, cursor))
            seen += [d.title for d in result.items]
            totals.add(result.total)
            cursor = result.next_cursor
            if cursor is None:
                break
        assert seen == [f"Candle {i}" for i in range(7)]
        assert totals == {7}

    def test_a_cursor_is_good_only_for_the_query_that_issued_it(self, index: SearchIndex) -> None:
        index.apply([doc(f"Soap {i}") for i in range(3)], [])
        query = SearchQuery(text="soap", limit=1)
        cursor = index.search(ONLY_T1, query).next_cursor
        assert cursor is not None
        with pytest.raises(InvalidSearch):
            page(ONLY_T1, replace(query, text="soaps"), cursor)
        with pytest.raises(InvalidSearch):
            page(TenantScope.only(T2), query, cursor)
        with pytest.raises(InvalidSearch):
            page(ONLY_T1, query, "not-a-cursor")

    # -- facets --------------------------------------------------------------------------------

    def test_facets_count_categories_sellers_and_price_ranges_of_the_matches(
        self, index: SearchIndex
    ) -> None:
        index.apply(
            [
                doc("Pan", category="Kitchen", price_minor=999),
                doc("Pot", category="Kitchen", price_minor=1000),
                doc("Rake", category="Garden", seller_id=S2, price_minor=30_000),
                doc("Yen pan", category="Kitchen", currency="JPY", price_minor=999),
                doc("Hose", category="Garden", price_minor=10**6, available=0),
            ],
            [],
        )
        facets = index.search(ONLY_T1, SearchQuery(in_stock=True)).facets
        assert facets.categories == [Bucket("Kitchen", 3), Bucket("Garden", 1)]
        assert facets.sellers == [Bucket(S1, 3), Bucket(S2, 1)]
        assert facets.prices == [
            PriceBucket("JPY", 500, 1000, 1),
            PriceBucket("USD", None, 1000, 1),
            PriceBucket("USD", 1000, 2500, 1),
            PriceBucket("USD", 25_000, 50_000, 1),
        ]
        narrowed = index.search(ONLY_T1, SearchQuery(category="Garden")).facets
        assert narrowed.categories == [Bucket("Garden", 2)]
        assert narrowed.prices == [
            PriceBucket("USD", 25_000, 50_000, 1),
            PriceBucket("USD", 100_000, None, 1),
        ]

    # -- versions ------------------------------------------------------------------------------

    def test_only_newer_versions_change_a_document(self, index: SearchIndex) -> None:
        first = doc("Kettle", version=10)
        index.apply([first], [])
        index.apply([replace(first, title="Old kettle", version=5)], [])
        index.apply([replace(first, title="Same kettle", version=10)], [])
        assert titles(index) == ["Kettle"]
        index.apply([replace(first, title="Steel kettle", version=11)], [])
        assert titles(index) == ["Steel kettle"]

    def test_removals_are_versioned_too(self, index: SearchIndex) -> None:
        kept = doc("Lamp", version=20)
        index.apply([kept], [removal(doc("Never indexed"), 3)])
        index.apply([], [removal(kept, 19)])
        assert titles(index) == ["Lamp"]
        index.apply([], [removal(kept, 21)])
        assert titles(index) == []
        index.apply([replace(kept, version=20)], [])  # a late, older change stays out
        assert titles(index) == []
        assert index.suggest(ONLY_T1, "lam", 5) == []
        index.apply([replace(kept, title="Lamp again", version=22)], [])
        assert titles(index) == ["Lamp again"]

    def test_the_newest_of_several_changes_in_one_batch_wins(self, index: SearchIndex) -> None:
        d = doc("Vase", version=30)
        index.apply([replace(d, title="Vase v31", version=31), d], [removal(d, 29)])
        assert titles(index) == ["Vase v31"]
        index.apply([replace(d, version=40)], [removal(d, 41)])
        assert titles(index) == []

    # -- suggestions ---------------------------------------------------------------------------

    def test_suggest_completes_titles_and_categories(self, index: SearchIndex) -> None:
        index.apply(
            [
                doc("Running shoes", category="Sports"),
                doc("Runner rug", category="Home"),
                doc("Sunhat", category="Running gear"),
                doc("Running shoes", category="Sports"),
                doc("Blue teapot", category="Kitchen"),
            ],
            [],
        )
        found = index.suggest(ONLY_T1, "Run", 10)
        assert found[0] == "Running gear"  # categories come first
        assert sorted(found) == ["Runner rug", "Running gear", "Running shoes"]
        assert index.suggest(ONLY_T1, "running sh", 10) == ["Running shoes"]
        assert index.suggest(ONLY_T1, "tea", 10) == ["Blue teapot"]
        assert index.suggest(ONLY_T1, "run", 1) == ["Running gear"]
        assert index.suggest(ONLY_T1, "  ", 10) == []
        assert index.suggest(ONLY_T1, "xyz", 10) == []

    # -- rebuilds ------------------------------------------------------------------------------

    def test_a_rebuild_is_invisible_until_published(
        self, index: SearchIndex, reopen: Callable[[], SearchIndex]
    ) -> None:
        index.apply([doc("Old lamp")], [])
        before = index.generation()
        rebuild = index.begin_rebuild()
        rebuild.apply([doc("New lamp"), doc("New desk")], [])
        assert titles(index) == ["Old lamp"]
        index.apply([doc("Live change")], [])  # the live index still takes changes
        assert set(titles(index)) == {"Old lamp", "Live change"}
        index.publish(rebuild)
        assert index.generation() == rebuild.generation != before
        assert set(titles(index)) == {"New lamp", "New desk"}
        other = reopen()  # another process's handle sees the switch too
        assert other.generation() == rebuild.generation
        assert set(titles(other)) == {"New lamp", "New desk"}
        index.apply([doc("After switch")], [])
        assert "After switch" in titles(other)

    def test_a_discarded_rebuild_leaves_the_live_index_alone(self, index: SearchIndex) -> None:
        index.apply([doc("Stays")], [])
        before = index.generation()
        rebuild = index.begin_rebuild()
        rebuild.apply([doc("Goes")], [])
        index.discard(rebuild)
        assert index.generation() == before
        assert titles(index) == ["Stays"]

    def test_changes_are_visible_to_another_handle_at_once(
        self, index: SearchIndex, reopen: Callable[[], SearchIndex]
    ) -> None:
        other = reopen()
        assert titles(other) == []
        index.apply([doc("Fresh")], [])
        assert titles(other) == ["Fresh"]
        index.ping()
        other.ping()
