"""What the OpenSearch engine sends, pinned: the request bodies it builds (the index template,
documents, searches, suggestions, the alias swap), each from the functions that make it. What
the engine does with the client's answers is test_opensearch_engine.py's."""

from __future__ import annotations

import json
from typing import Any

import pytest

from adapters.search.opensearch import (
    SCALAR_FIELDS,
    alias_swap,
    bulk_body,
    index_template,
    search_body,
    source,
    suggest_body,
    words,
)
from adapters.search.tantivy_schema import TEXT
from projections.scope import TenantScope
from projections.search.port import Removal, SearchQuery, combination_term
from tests.unit.opensearch_documents import P, S, T, document, tee


def test_the_template_maps_every_field_explicitly_and_strictly() -> None:
    template = index_template("velora-products", shards=2, replicas=1)
    assert template["index_patterns"] == ["velora-products-g*"]
    settings = template["template"]["settings"]
    assert settings["index"] == {"number_of_shards": 2, "number_of_replicas": 1}
    assert settings["analysis"]["analyzer"]["velora_text"] == {
        "type": "custom",
        "tokenizer": "standard",
        "filter": ["lowercase", "asciifolding"],
    }
    text = {"type": "text", "analyzer": "velora_text"}
    assert template["template"]["mappings"] == {
        "dynamic": "strict",
        "properties": {
            "product_id": {"type": "keyword"},
            "tenant_id": {"type": "keyword"},
            "seller_id": {"type": "keyword"},
            "currency": {"type": "keyword"},
            "title": text,
            "description": text,
            "category": {**text, "fields": {"key": {"type": "keyword"}}},
            "price_minor": {"type": "long"},
            "available": {"type": "long"},
            "rating_avg": {"type": "double"},
            "rating_count": {"type": "long"},
            "created_position": {"type": "long"},
            "version": {"type": "long"},
            "images": {"type": "keyword", "index": False, "doc_values": False},
            "featured": {"type": "boolean"},
            "variants": {"type": "keyword", "index": False, "doc_values": False},
            "variant_prices": {"type": "long"},
            "option_pairs": {"type": "keyword"},
            "option_terms": {"type": "keyword"},
        },
    }
    # The mapping names exactly what a document is sent as: a new field must be mapped on purpose.
    assert template["template"]["mappings"]["properties"].keys() == source(tee()).keys()
    assert source(document()).keys() == source(tee()).keys() - {"variants"}
    assert set(SCALAR_FIELDS) < source(document()).keys()


def test_a_document_is_sent_with_its_variants_and_the_terms_they_make() -> None:
    plain = source(document())
    assert plain["variant_prices"] == [2599]  # a product without variants: its own price
    assert plain["option_pairs"] == [] and plain["option_terms"] == []
    sent = source(tee())
    assert {k: sent[k] for k in SCALAR_FIELDS} == {k: plain[k] for k in SCALAR_FIELDS}
    assert json.loads(sent["variants"]) == {
        "prices": [2599, 2999, 2999],
        "options": [["Size", "M"], ["Colour", "Red"], ["Size", "L"], ["Colour", "Blue"]],
        "variant_options": [
            [["Size", "M"], ["Colour", "Red"]],
            [["Size", "L"], ["Colour", "Red"]],
            [["Size", "L"], ["Colour", "Blue"]],
        ],
    }
    assert sent["variant_prices"] == [2599, 2999]
    assert sent["option_pairs"] == [
        '["Size","M"]',
        '["Colour","Red"]',
        '["Size","L"]',
        '["Colour","Blue"]',
    ]
    # One term per combination of one variant's values: alone, and together.
    combos = [
        [("colour", "blue")],
        [("colour", "red")],
        [("size", "l")],
        [("size", "m")],
        [("colour", "blue"), ("size", "l")],
        [("colour", "red"), ("size", "l")],
        [("colour", "red"), ("size", "m")],
    ]
    assert sent["option_terms"] == sorted(combination_term(c) for c in combos)


def test_bulk_sends_the_newest_change_per_product_with_its_external_version() -> None:
    kept, gone = document(), document(product_id="p2", version=4)
    body = bulk_body(
        "velora-products",
        [document(version=8, title="older"), kept],
        [Removal("p2", T, 4), Removal(P, T, 5)],
    )
    meta = {"_index": "velora-products", "version_type": "external"}
    assert body == [
        {"index": {**meta, "_id": P, "version": 9}},
        source(kept),
        {"delete": {**meta, "_id": gone.product_id, "version": 4}},
    ]


def test_search_filters_by_tenant_and_every_parameter_and_asks_for_facets() -> None:
    query = SearchQuery(
        text="Red Café",
        category="Kitchen",
        seller_id=S,
        min_price_minor=100,
        max_price_minor=5000,
        min_rating=4.0,
        in_stock=True,
        sort="relevance",
        limit=20,
        offset=40,
        options=(("Size", "M"), ("colour", "RED"), ("Size", "L")),
    )
    body = search_body(TenantScope.only(T), query)
    # Size M or L, in red, in one variant: a term per way of picking.
    red_l = combination_term([("colour", "red"), ("size", "l")])
    red_m = combination_term([("colour", "red"), ("size", "m")])
    fields = ["title^3", "category^2", "description"]
    assert body["from"] == 40 and body["size"] == 20 and body["track_total_hits"] is True
    assert body["_source"] == {"excludes": ["variant_prices", "option_pairs", "option_terms"]}
    assert body["query"] == {
        "bool": {
            "filter": [
                {"terms": {"tenant_id": [T]}},
                {"term": {"category.key": "Kitchen"}},
                {"term": {"seller_id": S}},
                {"range": {"variant_prices": {"gte": 100, "lte": 5000}}},
                {"range": {"rating_avg": {"gte": 4.0}}},
                {"range": {"available": {"gte": 1}}},
                {"terms": {"option_terms": sorted([red_l, red_m])}},
            ],
            "must": [
                {"multi_match": {"query": "red", "fields": fields, "fuzziness": "AUTO"}},
                {"multi_match": {"query": "cafe", "fields": fields, "fuzziness": "AUTO"}},
            ],
        }
    }
    assert body["sort"] == ["_score", {"created_position": "desc"}]
    aggs = body["aggs"]
    assert aggs["categories"] == {"terms": {"field": "category.key", "size": 50}}
    assert aggs["sellers"] == {"terms": {"field": "seller_id", "size": 50}}
    assert aggs["currencies"]["terms"] == {"field": "currency", "size": 50}
    assert aggs["options"] == {"terms": {"field": "option_pairs", "size": 500}}
    ranges = aggs["currencies"]["aggs"]["prices"]["range"]
    assert ranges["field"] == "variant_prices"
    assert ranges["ranges"][:3] == [{"to": 10}, {"from": 10, "to": 25}, {"from": 25, "to": 50}]
    assert ranges["ranges"][-1] == {"from": 1_000_000}


@pytest.mark.parametrize(
    ("sort", "text", "expected"),
    [
        ("relevance", "", [{"created_position": "desc"}]),
        ("price_asc", "lamp", [{"price_minor": "asc"}, {"created_position": "desc"}]),
        ("price_desc", "", [{"price_minor": "desc"}, {"created_position": "desc"}]),
        ("newest", "lamp", [{"created_position": "desc"}]),
    ],
)
def test_sorts(sort: str, text: str, expected: list[Any]) -> None:
    body = search_body(TenantScope.only(T), SearchQuery(text=text, sort=sort))  # type: ignore[arg-type]
    assert body["sort"] == expected


def test_the_tenant_filter_follows_the_scope_alone() -> None:
    assert search_body(TenantScope.every_tenant(), SearchQuery())["query"]["bool"]["filter"] == []
    nobody = search_body(TenantScope(frozenset()), SearchQuery())["query"]["bool"]["filter"]
    assert nobody == [{"terms": {"tenant_id": []}}]


def test_suggest_completes_titles_and_counts_matching_categories_in_scope() -> None:
    body = suggest_body(TenantScope.only(T), "run sh", 5)
    tenant = {"terms": {"tenant_id": [T]}}
    assert body["size"] == 20 and body["_source"] == ["title"]
    assert body["query"] == {
        "function_score": {
            "query": {
                "bool": {
                    "filter": [tenant],
                    "must": [{"match_phrase_prefix": {"title": {"query": "run sh"}}}],
                }
            },
            "field_value_factor": {"field": "rating_count", "modifier": "log2p"},
            "boost_mode": "multiply",
        }
    }
    assert body["aggs"] == {
        "categories": {
            "global": {},
            "aggs": {
                "matching": {
                    "filter": {
                        "bool": {
                            "filter": [
                                tenant,
                                {"match_phrase_prefix": {"category": {"query": "run sh"}}},
                            ]
                        }
                    },
                    "aggs": {"names": {"terms": {"field": "category.key", "size": 5}}},
                }
            },
        }
    }


def test_an_alias_moves_in_one_request() -> None:
    assert alias_swap("a", "a-g000001", "a-g000002") == {
        "actions": [
            {"remove": {"index": "a-g000001", "alias": "a"}},
            {"add": {"index": "a-g000002", "alias": "a", "is_write_index": True}},
        ]
    }
    assert alias_swap("a", None, "a-g000001") == {
        "actions": [{"add": {"index": "a-g000001", "alias": "a", "is_write_index": True}}]
    }


@pytest.mark.parametrize(
    "text",
    [
        "Red Café-au-lait",
        "  ÉCOLE  naïve_mix 42x ",
        "tea/pot, kettle!",
        "ünïcödé Straße",
        "Smørrebrød Łódź Æsir",
    ],
)
def test_query_words_split_as_the_embedded_analyzer_splits_them(text: str) -> None:
    assert words(text) == TEXT.analyze(text)
