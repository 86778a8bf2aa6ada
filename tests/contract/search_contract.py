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


def with_variants(
    title: str, variants: list[tuple[int, dict[str, str]]], **overrides: object
) -> ProductDocument:
    """A product whose buyable variants are (price, {option name: value}), as the projector
    makes its document."""
    options = list(dict.fromkeys(pair for _, named in variants for pair in named.items()))
    return doc(
        title,
        price_minor=min(price for price, _ in variants),
        prices=tuple(price for price, _ in variants),
        options=tuple(options),
        variant_options=tuple(tuple(named.items()) for _, named in variants),
        **overrides,
    )


def removal(d: ProductDocument, version: int) -> Removal:
    return Removal(d.product_id, d.tenant_id, version)


def titles(index: SearchIndex, scope: TenantScope = ONLY_T1, **query: object) -> list[str]:
    return [d.title for d in index.search(scope, SearchQuery(**query)).items]  # type: ignore[arg-type]


def having(index: SearchIndex, *options: tuple[str, str], **query: object) -> set[str]:
    """The titles of the products that pass these option filters (and any other query)."""
    return set(titles(index, options=options, **query))


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
            {"options": (("Size", ""),)},
            {"options": (("", "M"),)},
            {"options": ((" ", "M"),)},
            {"options": (("Size", "M" * 101),)},
            {"options": (("S" * 101, "M"),)},
            {"options": (("Size", "M\x00"),)},
            {"options": (("Si\nze", "M"),)},
            {"options": (("Size", "\x85"),)},
            {"options": tuple(("Size", str(i)) for i in range(11))},
            {"options": tuple((f"Option {i}", "x") for i in range(6))},
        ):
            with pytest.raises(InvalidSearch):
                SearchQuery(**bad)  # type: ignore[arg-type]
        assert SearchQuery(options=tuple(("Size", str(i)) for i in range(10))).options
        assert SearchQuery(options=tuple((f"Option {i}", "x") for i in range(5))).options
        assert SearchQuery(options=(("Größe", "M" * 100),)).options

    def test_a_document_that_contradicts_itself_is_refused(self) -> None:
        with pytest.raises(ValueError, match="lowest"):
            doc("Tee", price_minor=1000, prices=(1500, 2000))
        with pytest.raises(ValueError, match="pairs"):
            doc("Tee", options=(("Size", "M"),))
        with pytest.raises(ValueError, match="pairs"):
            doc("Tee", variant_options=((("Size", "M"),),))

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

    # -- variants ------------------------------------------------------------------------------

    def test_a_price_filter_matches_any_variant_price_and_sorts_use_the_lowest(
        self, index: SearchIndex
    ) -> None:
        index.apply(
            [
                with_variants("Tee", [(1000, {"Size": "S"}), (10_000, {"Size": "XL"})]),
                doc("Mug", price_minor=5000),
                doc("Cap", price_minor=3000, prices=(3000,)),  # one variant, spelt out
                with_variants("Sock", [(2000, {"Size": "M"}), (2000, {"Size": "L"})]),
            ],
            [],
        )

        def only(**query: object) -> set[str]:
            return set(titles(index, **query))

        # A product with variants at 10 and 100 is not between 50 and 60.
        assert only(min_price_minor=5000, max_price_minor=6000) == {"Mug"}
        assert only(min_price_minor=9000, max_price_minor=11_000) == {"Tee"}
        assert only(min_price_minor=500, max_price_minor=1500) == {"Tee"}
        assert only(min_price_minor=10_001) == set()
        assert only(max_price_minor=2000) == {"Tee", "Sock"}
        assert only(min_price_minor=2500, max_price_minor=3000) == {"Cap"}
        assert titles(index, sort="price_asc") == ["Tee", "Sock", "Cap", "Mug"]
        assert titles(index, sort="price_desc") == ["Mug", "Cap", "Sock", "Tee"]

    def test_one_option_filter_ignores_case_composition_and_spacing(
        self, index: SearchIndex
    ) -> None:
        index.apply(
            [
                with_variants("Tee", [(1000, {"Size": "M"}), (1000, {"Size": "L"})]),
                with_variants("Dress", [(5000, {"size": "m"}), (5000, {"size": "XS"})]),
                with_variants("Beret", [(2000, {"Colour": "Café noir"})]),
                doc("Mug"),  # without variants: no option filter finds it
            ],
            [],
        )
        assert having(index, ("Size", "M")) == {"Tee", "Dress"}
        assert having(index, ("SIZE", " m ")) == {"Tee", "Dress"}
        assert having(index, ("Size", "L")) == {"Tee"}
        assert having(index, ("Size", "XXL")) == set()
        assert having(index, ("Colour", "cafe\u0301  NOIR")) == {"Beret"}  # decomposed é
        assert having(index, ("Colour", "M")) == set()  # a value of another option
        assert having(index, ("Size", "M"), text="tee") == {"Tee"}
        assert having(index, ("Size", "M"), max_price_minor=2000) == {"Tee"}
        assert len(titles(index)) == 4  # no option filter: everything

    def test_two_option_filters_must_both_hold_for_one_variant(self, index: SearchIndex) -> None:
        index.apply(
            [
                # M in blue and L in red, but no red M.
                with_variants(
                    "Tee",
                    [
                        (1000, {"Size": "M", "Colour": "Blue"}),
                        (1000, {"Size": "L", "Colour": "Red"}),
                    ],
                ),
                with_variants(
                    "Polo",
                    [
                        (2000, {"Size": "M", "Colour": "Red"}),
                        (2000, {"Size": "S", "Colour": "Red"}),
                    ],
                ),
                with_variants(
                    "Scarf",
                    [
                        (900, {"Colour": "Red", "Material": "Wool"}),
                        (900, {"Colour": "Blue", "Material": "Silk"}),
                    ],
                ),
            ],
            [],
        )
        red, blue = ("Colour", "Red"), ("Colour", "Blue")
        m, big = ("Size", "M"), ("Size", "L")
        assert having(index, m) == {"Tee", "Polo"}
        assert having(index, red) == {"Tee", "Polo", "Scarf"}
        assert having(index, m, red) == {"Polo"}
        assert having(index, red, m) == {"Polo"}  # the order given does not matter
        assert having(index, m, blue) == {"Tee"}
        assert having(index, big, blue) == set()
        # Values of one option are alternatives; every option named is still one variant's.
        assert having(index, m, big) == {"Tee", "Polo"}
        assert having(index, m, big, red) == {"Tee", "Polo"}
        assert having(index, red, blue, big) == {"Tee"}
        assert having(index, red, ("Material", "Silk")) == set()
        assert having(index, blue, ("Material", "Silk")) == {"Scarf"}
        five = (m, red, ("Material", "Wool"), ("Fit", "Slim"), ("Sleeve", "Long"))
        assert having(index, *five) == set()

    def test_a_query_may_name_every_option_a_product_can_have(self, index: SearchIndex) -> None:
        names = ("Size", "Colour", "Material", "Fit", "Sleeve")
        index.apply(
            [
                with_variants(
                    "Suit",
                    [
                        (
                            9000,
                            dict(zip(names, ("M", "Navy", "Wool", "Slim", "Long"), strict=True)),
                        ),
                        (
                            9000,
                            dict(zip(names, ("L", "Grey", "Linen", "Slim", "Short"), strict=True)),
                        ),
                    ],
                )
            ],
            [],
        )
        navy_m = (("Size", "M"), ("Colour", "Navy"), ("Material", "Wool"), ("Fit", "Slim"))
        assert having(index, *navy_m, ("Sleeve", "Long")) == {"Suit"}
        assert having(index, *navy_m, ("Sleeve", "Short")) == set()
        assert having(index, ("Material", "Linen"), ("Sleeve", "Short"), ("Fit", "Slim")) == {
            "Suit"
        }
        assert having(index, ("Material", "Linen"), ("Colour", "Navy")) == set()

    def test_option_facets_count_matching_products_per_option_and_value(
        self, index: SearchIndex
    ) -> None:
        index.apply(
            [
                with_variants(
                    "Tee",
                    [
                        (1000, {"Size": "M", "Colour": "Blue"}),
                        (1000, {"Size": "L", "Colour": "Red"}),
                    ],
                ),
                with_variants(
                    "Polo",
                    [
                        (2000, {"Size": "M", "Colour": "Red"}),
                        (2000, {"Size": "S", "Colour": "Red"}),
                    ],
                ),
                # The same option and value spelt otherwise count with the others.
                with_variants("Dress", [(5000, {"size": "m"})]),
                with_variants("Hat", [(700, {"Size": "M"})], available=0),
                doc("Mug"),  # without options: counted under none
            ],
            [],
        )
        facets = index.search(ONLY_T1, SearchQuery(in_stock=True)).facets
        assert facets.options == {
            "Colour": [Bucket("Red", 2), Bucket("Blue", 1)],
            "Size": [Bucket("M", 3), Bucket("L", 1), Bucket("S", 1)],
        }
        assert facets.categories == [Bucket("Misc", 4)]  # the same result set
        # Over what matched, an option's own filter included (as categories are counted).
        narrowed = index.search(ONLY_T1, SearchQuery(options=(("Colour", "Red"),))).facets
        assert narrowed.options == {
            "Colour": [Bucket("Red", 2), Bucket("Blue", 1)],
            "Size": [Bucket("M", 2), Bucket("L", 1), Bucket("S", 1)],
        }
        assert index.search(ONLY_T1, SearchQuery(text="mug")).facets.options == {}

    def test_option_facets_appear_as_soon_as_a_product_has_options(
        self, index: SearchIndex, reopen: Callable[[], SearchIndex]
    ) -> None:
        other = reopen()
        index.apply([doc("Mug")], [])
        assert other.search(ONLY_T1, SearchQuery()).facets.options == {}
        tee = with_variants("Tee", [(1000, {"Size": "M"})])
        index.apply([tee], [])
        for handle in (index, other):
            assert handle.search(ONLY_T1, SearchQuery()).facets.options == {
                "Size": [Bucket("M", 1)]
            }
        index.apply([], [removal(tee, tee.version + 1)])
        assert other.search(ONLY_T1, SearchQuery()).facets.options == {}

    def test_price_facets_count_a_product_in_each_range_a_variant_price_is_in(
        self, index: SearchIndex
    ) -> None:
        index.apply(
            [
                with_variants(
                    "Tee",
                    [(1200, {"Size": "S"}), (1300, {"Size": "M"}), (30_000, {"Size": "L"})],
                ),
                doc("Mug", price_minor=1100),
            ],
            [],
        )
        facets = index.search(ONLY_T1, SearchQuery()).facets
        assert facets.prices == [
            PriceBucket("USD", 1000, 2500, 2),
            PriceBucket("USD", 25_000, 50_000, 1),
        ]
        tee_only = index.search(ONLY_T1, SearchQuery(min_price_minor=25_000)).facets.prices
        assert tee_only == [
            PriceBucket("USD", 1000, 2500, 1),
            PriceBucket("USD", 25_000, 50_000, 1),
        ]

    def test_documents_come_back_as_they_went_in(self, index: SearchIndex) -> None:
        tee = with_variants(
            "Tee",
            [(1000, {"Size": "M", "Colour": "Blue"}), (1500, {"Size": "L", "Colour": "Blue"})],
        )
        plain, spelt = doc("Mug"), doc("Cap", prices=(1000,))
        index.apply([tee, plain, spelt], [])
        found = {d.title: d for d in index.search(ONLY_T1, SearchQuery()).items}
        assert found == {"Tee": tee, "Mug": plain, "Cap": spelt}

    def test_option_filters_and_facets_stay_in_the_tenant(self, index: SearchIndex) -> None:
        index.apply(
            [
                with_variants("Tee", [(1000, {"Size": "M"})]),
                with_variants("Tee", [(1000, {"Size": "M"})], tenant_id=T2, seller_id=S2),
                with_variants("Gown", [(1000, {"Size": "XL"})], tenant_id=T2, seller_id=S2),
            ],
            [],
        )
        mine = index.search(ONLY_T1, SearchQuery(options=(("Size", "M"),)))
        assert [d.tenant_id for d in mine.items] == [T1] and mine.total == 1
        assert mine.facets.options == {"Size": [Bucket("M", 1)]}
        assert having(index, ("Size", "XL")) == set()
        everything = index.search(ONLY_T1, SearchQuery()).facets.options
        assert everything == {"Size": [Bucket("M", 1)]}
        every_tenant = TenantScope.every_tenant()
        assert index.search(every_tenant, SearchQuery(options=(("Size", "M"),))).total == 2
        nobody = index.search(TenantScope(frozenset()), SearchQuery(options=(("Size", "M"),)))
        assert nobody.total == 0 and nobody.facets.options == {}

    def test_variants_follow_versions_and_removals(self, index: SearchIndex) -> None:
        tee = with_variants("Tee", [(1000, {"Size": "M"})], version=50)
        index.apply([tee], [])
        later = with_variants("Tee", [(1000, {"Size": "L"})], product_id=tee.product_id, version=51)
        index.apply([later], [])
        index.apply([replace(tee, version=49)], [])  # an older change stays out
        assert having(index, ("Size", "M")) == set()
        assert having(index, ("Size", "L")) == {"Tee"}
        index.apply([], [removal(tee, 52)])
        assert having(index, ("Size", "L")) == set()
        assert index.search(ONLY_T1, SearchQuery()).facets.options == {}

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
