"""What the OpenSearch engine sends and does with the answers, through the real opensearch-py
client: only its last step, the HTTP connection, answers from a script instead of a server, so
these tests see exactly the method, path, parameters and body that would go over the wire."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from opensearchpy import Connection, OpenSearch

from adapters.search.opensearch import (
    OpenSearchIndex,
    alias_swap,
    bulk_body,
    index_template,
    search_body,
    source,
    suggest_body,
    upgrade_search_body,
)
from projections.scope import TenantScope
from projections.search.port import (
    Bucket,
    PriceBucket,
    Removal,
    SearchQuery,
    SearchUnavailable,
)
from tests.unit.opensearch_documents import P, S, T, document, tee

Answer = tuple[int, Any]
Script = Callable[[str, str], Answer]


def scripted(script: Script) -> tuple[OpenSearchIndex, list[tuple[str, str, dict[str, Any], Any]]]:
    """An engine on the real client whose connection answers from `script(method, path)` and
    records every request, with JSON and NDJSON bodies decoded."""
    sent: list[tuple[str, str, dict[str, Any], Any]] = []

    class Scripted(Connection):
        def perform_request(
            self,
            method: str,
            url: str,
            params: Any = None,
            body: bytes | None = None,
            timeout: Any = None,
            ignore: Any = (),
            headers: Any = None,
        ) -> Any:
            decoded: Any = None
            if body:
                lines = body.decode().strip().split("\n")
                decoded = (
                    [json.loads(x) for x in lines] if url.endswith("_bulk") else json.loads(body)
                )
            sent.append((method, url, dict(params or {}), decoded))
            status, answer = script(method, url)
            raw = json.dumps(answer)
            if not 200 <= status < 300 and status not in ignore:
                self._raise_error(status, raw)
            return status, {}, raw

    client = OpenSearch(hosts=["http://opensearch.test:9200"], connection_class=Scripted)
    return OpenSearchIndex("unused", client=client), sent


def mapping(properties: dict[str, Any]) -> Answer:
    return 200, {"velora-products-g000002": {"mappings": {"properties": properties}}}


LIVE_MAPPING = index_template("velora-products")["template"]["mappings"]["properties"]
NOTHING_TO_UPGRADE = {"hits": {"total": {"value": 0}, "hits": []}}


def ready(extra: Callable[[str, str], Answer | None] = lambda m, u: None) -> Script:
    """A cluster where the template and the alias already exist, the live generation made by
    this release."""

    def script(method: str, url: str) -> Answer:
        found = extra(method, url)
        if found is not None:
            return found
        if url == "/_index_template/velora-products":
            return 200, {"acknowledged": True}
        if url == "/_alias/velora-products":
            return 200, {"velora-products-g000002": {"aliases": {"velora-products": {}}}}
        if (method, url) == ("GET", "/velora-products-g000002/_mapping"):
            return mapping(LIVE_MAPPING)
        if (method, url) == ("POST", "/velora-products-g000002/_search"):
            return 200, NOTHING_TO_UPGRADE
        raise AssertionError(f"unexpected request {method} {url}")

    return script


def test_first_use_puts_the_template_then_a_first_generation_behind_the_alias() -> None:
    def script(method: str, url: str) -> Answer:
        return {
            ("PUT", "/_index_template/velora-products"): (200, {"acknowledged": True}),
            ("GET", "/_alias/velora-products"): (404, {"error": "missing", "status": 404}),
            ("HEAD", "/velora-products-g000001"): (404, {}),
            ("PUT", "/velora-products-g000001"): (200, {"acknowledged": True}),
            ("POST", "/_aliases"): (200, {"acknowledged": True}),
            ("POST", "/_bulk"): (200, {"errors": False, "items": []}),
        }[(method, url)]

    index, sent = scripted(script)
    index.apply([document()], [])
    assert [(m, u) for m, u, _, _ in sent] == [
        ("PUT", "/_index_template/velora-products"),
        ("GET", "/_alias/velora-products"),
        ("HEAD", "/velora-products-g000001"),
        ("PUT", "/velora-products-g000001"),
        ("POST", "/_aliases"),
        ("POST", "/_bulk"),
    ]
    assert sent[0][3] == index_template("velora-products")
    assert sent[4][3] == alias_swap("velora-products", None, "velora-products-g000001")
    # Live changes go through the alias and wait until a search can see them.
    assert sent[5][2] == {"refresh": "wait_for"}
    assert sent[5][3] == bulk_body("velora-products", [document()], [])


def _bulk_answer(*items: tuple[str, int]) -> Script:
    answer = {
        "errors": True,
        "items": [{action: {"_id": P, "status": status}} for action, status in items],
    }
    return ready(lambda m, u: (200, answer) if u == "/_bulk" else None)


def test_an_older_version_is_not_an_error_but_a_refused_document_is() -> None:
    index, _ = scripted(_bulk_answer(("index", 409), ("delete", 404), ("index", 201)))
    index.apply([document()], [Removal("p2", T, 3)])  # nothing raised

    index, _ = scripted(_bulk_answer(("index", 400)))
    with pytest.raises(RuntimeError, match="refused"):
        index.apply([document()], [])
    index, _ = scripted(_bulk_answer(("index", 429)))
    with pytest.raises(SearchUnavailable):
        index.apply([document()], [])


def test_an_unreachable_cluster_is_unavailable_not_a_bug() -> None:
    index = OpenSearchIndex("http://127.0.0.1:1", client=None)
    index.client = OpenSearch(hosts=["http://127.0.0.1:1"], max_retries=0, timeout=2)
    with pytest.raises(SearchUnavailable):
        index.search(TenantScope.only(T), SearchQuery())
    with pytest.raises(SearchUnavailable):
        index.ping()


def test_search_reads_hits_total_facets_and_the_next_cursor() -> None:
    hits = [{"_source": source(document())}, {"_source": source(tee(product_id="p2"))}]
    answer = {
        "hits": {"total": {"value": 3}, "hits": hits},
        "aggregations": {
            "options": {
                "buckets": [
                    {"key": '["Size","M"]', "doc_count": 2},
                    {"key": '["Colour","Red"]', "doc_count": 2},
                    {"key": '["size","L"]', "doc_count": 1},
                    {"key": '["Size","L"]', "doc_count": 2},
                ]
            },
            "categories": {"buckets": [{"key": "Kitchen", "doc_count": 3}]},
            "sellers": {"buckets": [{"key": S, "doc_count": 3}]},
            "currencies": {
                "buckets": [
                    {
                        "key": "USD",
                        "doc_count": 3,
                        "prices": {
                            "buckets": [
                                {"key": "*-10", "to": 10.0, "doc_count": 1},
                                {"key": "2500-5000", "from": 2500.0, "to": 5000.0, "doc_count": 2},
                            ]
                        },
                    }
                ]
            },
        },
    }
    index, sent = scripted(
        ready(lambda m, u: (200, answer) if u == "/velora-products/_search" else None)
    )
    scope, query = TenantScope.only(T), SearchQuery(text="teapot", limit=1)
    result = index.search(scope, query)
    assert sent[-1][3] == search_body(scope, query)
    assert result.items == [document(), tee(product_id="p2")] and result.total == 3
    assert result.facets.categories == [Bucket("Kitchen", 3)]
    assert result.facets.sellers == [Bucket(S, 3)]
    assert result.facets.prices == [
        PriceBucket("USD", None, 1000, 1),
        PriceBucket("USD", 2500, 5000, 2),
    ]
    # Spellings of one option and value are counted together, under the commoner spelling.
    assert result.facets.options == {
        "Colour": [Bucket("Red", 2)],
        "Size": [Bucket("L", 3), Bucket("M", 2)],
    }
    assert result.next_cursor is not None


def test_suggest_reads_categories_then_titles() -> None:
    answer = {
        "hits": {"hits": [{"_source": {"title": "Running shoes"}}, {"_source": {"title": "Rug"}}]},
        "aggregations": {
            "categories": {"matching": {"names": {"buckets": [{"key": "Running", "doc_count": 1}]}}}
        },
    }
    index, sent = scripted(
        ready(lambda m, u: (200, answer) if u == "/velora-products/_search" else None)
    )
    assert index.suggest(TenantScope.only(T), "ru", 2) == ["Running", "Running shoes"]
    assert sent[-1][3] == suggest_body(TenantScope.only(T), "ru", 2)
    assert index.suggest(TenantScope.only(T), " - ", 2) == []


def test_a_rebuild_fills_the_next_generation_then_swaps_the_alias_once() -> None:
    generations = {"velora-products-g000001": {}, "velora-products-g000002": {}}

    def extra(method: str, url: str) -> Answer | None:
        if url == "/velora-products-g*":
            return 200, generations
        if url in ("/velora-products-g000003", "/velora-products-g000001") or url.endswith(
            ("/_refresh", "/_bulk", "/_aliases")
        ):
            return 200, {"acknowledged": True, "errors": False, "items": []}
        return None

    index, sent = scripted(ready(extra))
    rebuild = index.begin_rebuild()
    assert rebuild.generation == "velora-products-g000003"
    rebuild.apply([document()], [])
    generations["velora-products-g000003"] = {}
    index.publish(rebuild)
    calls = [(m, u) for m, u, _, _ in sent]
    assert calls[-7:] == [
        ("PUT", "/velora-products-g000003"),
        ("POST", "/_bulk"),
        ("POST", "/velora-products-g000003/_refresh"),
        ("GET", "/_alias/velora-products"),
        ("POST", "/_aliases"),
        ("GET", "/velora-products-g*"),
        ("DELETE", "/velora-products-g000001"),
    ]
    bulk = next(s for s in sent if s[1] == "/_bulk")
    assert bulk[2] == {}  # no refresh per batch while building
    assert bulk[3][0]["index"]["_index"] == "velora-products-g000003"
    swap = next(s for s in sent if s[1] == "/_aliases")
    assert swap[3] == alias_swap(
        "velora-products", "velora-products-g000002", "velora-products-g000003"
    )


def test_a_generation_made_before_variants_is_upgraded_in_place() -> None:
    added = ("variants", "variant_prices", "option_pairs", "option_terms")
    earlier = {name: kind for name, kind in LIVE_MAPPING.items() if name not in added}
    held = {k: v for k, v in source(document()).items() if k in earlier}
    second = {**held, "product_id": "p2", "title": "Kettle", "version": 12}
    pages = [[held], [second], []]

    def extra(method: str, url: str) -> Answer | None:
        if (method, url) == ("GET", "/velora-products-g000002/_mapping"):
            return mapping(earlier)
        if (method, url) == ("PUT", "/velora-products-g000002/_mapping"):
            return 200, {"acknowledged": True}
        if (method, url) == ("POST", "/velora-products-g000002/_search"):
            return 200, {"hits": {"hits": [{"_source": s} for s in pages.pop(0)]}}
        if url == "/_bulk":
            # The second document changed meanwhile: the newer change stays.
            return 200, {"errors": True, "items": [{"index": {"_id": "p", "status": 409}}]}
        return None

    index, sent = scripted(ready(extra))
    index.generation()
    calls = [(m, u) for m, u, _, _ in sent]
    assert calls == [
        ("PUT", "/_index_template/velora-products"),
        ("GET", "/_alias/velora-products"),
        ("GET", "/velora-products-g000002/_mapping"),
        ("PUT", "/velora-products-g000002/_mapping"),
        ("POST", "/velora-products-g000002/_search"),
        ("POST", "/_bulk"),
        ("POST", "/velora-products-g000002/_search"),
        ("POST", "/_bulk"),
        ("POST", "/velora-products-g000002/_search"),
        ("GET", "/_alias/velora-products"),
    ]
    # Only the missing fields are added: a strict mapping takes additions.
    assert sent[3][3] == {"properties": {name: LIVE_MAPPING[name] for name in added}}
    assert (
        sent[4][3]
        == upgrade_search_body(None)
        == {
            "size": 1000,
            "query": {"bool": {"must_not": [{"exists": {"field": "variant_prices"}}]}},
            "sort": [{"product_id": "asc"}],
        }
    )
    assert sent[6][3] == upgrade_search_body(P)
    assert sent[6][3]["search_after"] == [P]
    # Written again at their own versions, with today's fields; a newer change wins (409).
    meta = {"_index": "velora-products-g000002", "version_type": "external_gte"}
    assert sent[5][2] == {"refresh": "wait_for"}
    assert sent[5][3] == [{"index": {**meta, "_id": P, "version": 9}}, source(document())]
    kettle = source(document(product_id="p2", title="Kettle", version=12))
    assert sent[7][3] == [{"index": {**meta, "_id": "p2", "version": 12}}, kettle]
    # Once upgraded, the engine does not look again in this process.
    index.generation()
    assert [u for _, u, _, _ in sent[len(calls) :]] == ["/_alias/velora-products"]
