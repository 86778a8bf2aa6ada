"""The OpenSearch engine, through opensearch-py.

- An index template with an explicit, strict mapping covers every generation,
  `<prefix>-g000001`, `<prefix>-g000002`, ...; the alias `<prefix>` points at the live one.
- Changes go in with `_bulk`, with the document's version as an external version, so OpenSearch
  itself keeps only newer changes (an equal or older one answers 409, which is not an error).
- A rebuild fills a new generation, then moves the alias in one `_aliases` call.
- A live generation made by an earlier Velora, whose mapping lacks fields the template now has,
  is upgraded when an engine first uses it: the missing fields are added to its mapping (adding
  is all a strict mapping allows, and all an upgrade needs), then every document without the
  derived price field (`variant_prices`, which every document written since has) is written
  again with today's fields at its own version (`external_gte`): a newer change, or a removal,
  made meanwhile wins over the rewrite. Products had no variants before those fields came, so
  their defaults are what the earlier documents meant.

The request bodies are built by the functions at the top, which the unit tests pin."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import NotFoundError, TransportError

from adapters.search.facets import FACET_SIZE, facet_aggregations, read_facets
from projections.scope import TenantScope
from projections.search.port import (
    VARIANT_FIELDS,
    ProductDocument,
    Rebuild,
    Removal,
    SearchIndex,
    SearchQuery,
    SearchResult,
    SearchUnavailable,
    distinct,
    newest_version,
    next_cursor,
    stored_variants,
    variant_terms,
)

DEFAULT_PREFIX = "velora-products"
MAX_QUERY_TERMS = 16
_WORD = re.compile(r"[^\W_]+")
_GENERATION = re.compile(r"-g(\d{6})$")
TEXT_FIELDS = ["title^3", "category^2", "description"]
UPGRADE_BATCH = 1000
# The document's fields that are one value each (the variant fields go in as `variant_terms`).
SCALAR_FIELDS = tuple(f.name for f in fields(ProductDocument) if f.name not in VARIANT_FIELDS)
DERIVED_FIELDS = ("variant_prices", "option_pairs", "option_terms")


# Letters with no decomposition that ASCII folding still spells in ASCII (Lucene's and tantivy's).
_UNDECOMPOSABLE = str.maketrans(
    {"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ð": "d", "ł": "l", "þ": "th"}
    | {"\u0131": "i"}  # dotless i
)


def words(text: str) -> list[str]:
    """The query's words as the index analyzer sees them: lower case, accents folded. OpenSearch
    analyzes each word again; splitting here makes every word required, wherever it matches."""
    folded = unicodedata.normalize("NFKD", text.lower().translate(_UNDECOMPOSABLE))
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return _WORD.findall(plain)[:MAX_QUERY_TERMS]


def index_template(prefix: str, *, shards: int = 1, replicas: int = 0) -> dict[str, Any]:
    text = {"type": "text", "analyzer": "velora_text"}
    keyword = {"type": "keyword"}
    return {
        "index_patterns": [f"{prefix}-g*"],
        "priority": 100,
        "template": {
            "settings": {
                "index": {"number_of_shards": shards, "number_of_replicas": replicas},
                "analysis": {
                    "analyzer": {
                        "velora_text": {
                            "type": "custom",
                            "tokenizer": "standard",
                            "filter": ["lowercase", "asciifolding"],
                        }
                    }
                },
            },
            "mappings": {
                "dynamic": "strict",
                "properties": {
                    "product_id": keyword,
                    "tenant_id": keyword,
                    "seller_id": keyword,
                    "currency": keyword,
                    "title": text,
                    "description": text,
                    "category": {**text, "fields": {"key": keyword}},
                    "price_minor": {"type": "long"},
                    "available": {"type": "long"},
                    "rating_avg": {"type": "double"},
                    "rating_count": {"type": "long"},
                    "created_position": {"type": "long"},
                    "version": {"type": "long"},
                    # Shown with a hit, never searched.
                    "images": {"type": "keyword", "index": False, "doc_values": False},
                    "featured": {"type": "boolean"},
                    # Variants: the document's own fields as JSON, shown, never searched; and
                    # the terms `variant_terms` derives from them, searched, never shown.
                    "variants": {"type": "keyword", "index": False, "doc_values": False},
                    "variant_prices": {"type": "long"},
                    "option_pairs": keyword,
                    "option_terms": keyword,
                },
            },
        },
    }


def source(d: ProductDocument) -> dict[str, Any]:
    """The document as OpenSearch holds it."""
    found: dict[str, Any] = {name: getattr(d, name) for name in SCALAR_FIELDS}
    terms = variant_terms(d)
    if terms.stored is not None:
        found["variants"] = terms.stored
    found["variant_prices"] = terms.prices
    found["option_pairs"] = terms.pairs
    found["option_terms"] = terms.combinations
    return found


def bulk_body(
    target: str,
    upserts: Sequence[ProductDocument],
    removals: Sequence[Removal],
    *,
    version_type: str = "external",
) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = []
    for product_id, change in newest_version(upserts, removals).items():
        meta = {
            "_index": target,
            "_id": product_id,
            "version": change.version,
            "version_type": version_type,
        }
        if isinstance(change, Removal):
            body.append({"delete": meta})
        else:
            body += [{"index": meta}, source(change)]
    return body


def scope_filter(scope: TenantScope) -> dict[str, Any] | None:
    """The tenant filter every query starts from, taken from the caller's scope alone."""
    if scope.tenant_ids is None:
        return None
    return {"terms": {"tenant_id": sorted(scope.tenant_ids)}}


def filters(scope: TenantScope, q: SearchQuery) -> list[dict[str, Any]]:
    found = []
    tenant = scope_filter(scope)
    if tenant is not None:
        found.append(tenant)
    if q.category is not None:
        found.append({"term": {"category.key": q.category}})
    if q.seller_id is not None:
        found.append({"term": {"seller_id": q.seller_id}})
    if q.min_price_minor is not None or q.max_price_minor is not None:
        # Any variant's price in the range will do.
        price = {"gte": q.min_price_minor, "lte": q.max_price_minor}
        limits = {k: v for k, v in price.items() if v is not None}
        found.append({"range": {"variant_prices": limits}})
    if q.min_rating is not None:
        found.append({"range": {"rating_avg": {"gte": q.min_rating}}})
    if q.in_stock:
        found.append({"range": {"available": {"gte": 1}}})
    if q.featured:
        found.append({"term": {"featured": True}})
    if q.options:
        found.append({"terms": {"option_terms": q.option_terms()}})
    return found


def search_body(scope: TenantScope, q: SearchQuery) -> dict[str, Any]:
    # Every word must match in some field, exactly or within OpenSearch's AUTO edit distance.
    must = [
        {"multi_match": {"query": w, "fields": TEXT_FIELDS, "fuzziness": "AUTO"}}
        for w in words(q.text)
    ]
    if q.sort_by_score:
        sort: list[Any] = ["_score", {"created_position": "desc"}]
    elif q.sort == "price_asc":
        sort = [{"price_minor": "asc"}, {"created_position": "desc"}]
    elif q.sort == "price_desc":
        sort = [{"price_minor": "desc"}, {"created_position": "desc"}]
    elif q.sort == "featured":
        sort = [{"featured": "desc"}, {"created_position": "desc"}]
    else:
        sort = [{"created_position": "desc"}]
    return {
        "from": q.offset,
        "size": q.size,
        "track_total_hits": True,
        # The terms derived for searching are not shown: a hit is the document.
        "_source": {"excludes": list(DERIVED_FIELDS)},
        "query": {"bool": {"filter": filters(scope, q), "must": must}},
        "sort": sort,
        "aggs": facet_aggregations("category.key"),
    }


def suggest_body(scope: TenantScope, prefix: str, limit: int) -> dict[str, Any]:
    tenant = [f for f in [scope_filter(scope)] if f is not None]
    category = {"match_phrase_prefix": {"category": {"query": prefix}}}
    title = {"match_phrase_prefix": {"title": {"query": prefix}}}
    return {
        "size": limit * 4,
        "_source": ["title"],
        "query": {
            # Titles of popular products first, as the embedded engine weighs them.
            "function_score": {
                "query": {"bool": {"filter": tenant, "must": [title]}},
                "field_value_factor": {"field": "rating_count", "modifier": "log2p"},
                "boost_mode": "multiply",
            }
        },
        "aggs": {
            "categories": {
                "global": {},
                "aggs": {
                    "matching": {
                        "filter": {"bool": {"filter": [*tenant, category]}},
                        "aggs": {
                            "names": {
                                "terms": {"field": "category.key", "size": min(limit, FACET_SIZE)}
                            }
                        },
                    }
                },
            }
        },
    }


def alias_swap(alias: str, old: str | None, new: str) -> dict[str, Any]:
    actions: list[dict[str, Any]] = []
    if old is not None:
        actions.append({"remove": {"index": old, "alias": alias}})
    actions.append({"add": {"index": new, "alias": alias, "is_write_index": True}})
    return {"actions": actions}


def upgrade_search_body(after: str | None) -> dict[str, Any]:
    """A page of the documents written before the variant fields came, in product id order."""
    body: dict[str, Any] = {
        "size": UPGRADE_BATCH,
        "query": {"bool": {"must_not": [{"exists": {"field": "variant_prices"}}]}},
        "sort": [{"product_id": "asc"}],
    }
    if after is not None:
        body["search_after"] = [after]
    return body


def _document(held: dict[str, Any]) -> ProductDocument:
    values = {name: held[name] for name in SCALAR_FIELDS if name in held}
    return ProductDocument(**values, **stored_variants(held.get("variants")))


class OpenSearchRebuild(Rebuild):
    def __init__(self, engine: OpenSearchIndex, index: str) -> None:
        self.engine = engine
        self.index = index
        self.generation = index

    def apply(self, upserts: Sequence[ProductDocument], removals: Sequence[Removal]) -> None:
        # No refresh per batch while building: the switch refreshes once, before going live.
        self.engine._bulk(self.index, upserts, removals, refresh=False)


class OpenSearchIndex(SearchIndex):
    def __init__(
        self,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        client: OpenSearch | None = None,
        shards: int = 1,
        replicas: int = 0,
    ) -> None:
        self.client = client or OpenSearch(hosts=[url], timeout=30, max_retries=2)
        self.alias = prefix
        self.prefix = prefix
        self.shards = shards
        self.replicas = replicas
        self._ready = False

    def _call(self, fn: Any, **kwargs: Any) -> Any:
        try:
            return fn(**kwargs)
        except OpenSearchConnectionError as e:
            raise SearchUnavailable(f"OpenSearch is unreachable: {e}") from e
        except TransportError as e:
            if isinstance(e.status_code, int) and (e.status_code == 429 or e.status_code >= 500):
                raise SearchUnavailable(f"OpenSearch answered {e.status_code}: {e}") from e
            raise

    def ensure(self) -> None:
        """Puts the template and, on first use, the first generation behind the alias."""
        if self._ready:
            return
        self._call(
            self.client.indices.put_index_template,
            name=self.prefix,
            body=index_template(self.prefix, shards=self.shards, replicas=self.replicas),
        )
        live = self._alias_target()
        if live is None:
            first = f"{self.prefix}-g000001"
            if not self._call(self.client.indices.exists, index=first):
                self._call(self.client.indices.create, index=first)
            self._call(self.client.indices.update_aliases, body=alias_swap(self.alias, None, first))
        else:
            self._upgrade(live)
        self._ready = True

    def _upgrade(self, live: str) -> None:
        """Brings a generation an earlier Velora made up to today's fields (see the module
        docstring); on one that has them, one mapping read and one empty search."""
        held = self._call(self.client.indices.get_mapping, index=live)
        properties = next(iter(held.values()))["mappings"].get("properties", {})
        wanted = index_template(self.prefix)["template"]["mappings"]["properties"]
        missing = {name: kind for name, kind in wanted.items() if name not in properties}
        if missing:
            self._call(self.client.indices.put_mapping, index=live, body={"properties": missing})
        after = None
        while True:
            answer = self._call(self.client.search, index=live, body=upgrade_search_body(after))
            hits = answer["hits"]["hits"]
            if not hits:
                return
            documents = [_document(hit["_source"]) for hit in hits]
            body = bulk_body(live, documents, [], version_type="external_gte")
            self._send(body, params={"refresh": "wait_for"})
            after = documents[-1].product_id

    def _alias_target(self) -> str | None:
        try:
            found = self._call(self.client.indices.get_alias, name=self.alias)
        except NotFoundError:
            return None
        return next(iter(found), None)

    def _generations(self) -> list[str]:
        try:
            found = self._call(self.client.indices.get, index=f"{self.prefix}-g*")
        except NotFoundError:
            return []
        return sorted(name for name in found if _GENERATION.search(name))

    def _bulk(
        self,
        target: str,
        upserts: Sequence[ProductDocument],
        removals: Sequence[Removal],
        *,
        refresh: bool,
    ) -> None:
        body = bulk_body(target, upserts, removals)
        if body:
            self._send(body, params={"refresh": "wait_for"} if refresh else {})

    def _send(self, body: list[dict[str, Any]], params: dict[str, str]) -> None:
        answer = self._call(self.client.bulk, body=body, params=params)
        if not answer.get("errors"):
            return
        for item in answer["items"]:
            ((action, result),) = item.items()
            status = result.get("status", 500)
            if status < 300 or status == 409 or (action == "delete" and status == 404):
                continue  # 409: OpenSearch already holds this version or a newer one
            if status == 429 or status >= 500:
                raise SearchUnavailable(f"OpenSearch could not {action} {result.get('_id')}")
            raise RuntimeError(f"OpenSearch refused to {action} {result.get('_id')}: {result}")

    # -- the port --------------------------------------------------------------------------------

    def apply(self, upserts: Sequence[ProductDocument], removals: Sequence[Removal]) -> None:
        self.ensure()
        # wait_for: the projector advances only once a search can see the change.
        self._bulk(self.alias, upserts, removals, refresh=True)

    def search(self, scope: TenantScope, query: SearchQuery) -> SearchResult:
        self.ensure()
        answer = self._call(self.client.search, index=self.alias, body=search_body(scope, query))
        items = [_document(hit["_source"]) for hit in answer["hits"]["hits"]]
        total = int(answer["hits"]["total"]["value"])
        facets = read_facets(answer["aggregations"])
        return SearchResult(items, total, facets, next_cursor(scope, query, total))

    def suggest(self, scope: TenantScope, prefix: str, limit: int) -> list[str]:
        if not words(prefix):
            return []
        self.ensure()
        answer = self._call(
            self.client.search, index=self.alias, body=suggest_body(scope, prefix, limit)
        )
        buckets = answer["aggregations"]["categories"]["matching"]["names"]["buckets"]
        titles = [hit["_source"]["title"] for hit in answer["hits"]["hits"]]
        return distinct([b["key"] for b in buckets] + titles, limit)

    def generation(self) -> str:
        self.ensure()
        target = self._alias_target()
        if target is None:
            raise SearchUnavailable(f"the alias {self.alias} points at no index")
        return target

    def begin_rebuild(self) -> OpenSearchRebuild:
        self.ensure()
        numbers = [int(m.group(1)) for n in self._generations() if (m := _GENERATION.search(n))]
        name = f"{self.prefix}-g{max(numbers, default=0) + 1:06d}"
        self._call(self.client.indices.create, index=name)
        return OpenSearchRebuild(self, name)

    def publish(self, rebuild: Rebuild) -> None:
        assert isinstance(rebuild, OpenSearchRebuild)
        self._call(self.client.indices.refresh, index=rebuild.index)
        previous = self._alias_target()
        self._call(
            self.client.indices.update_aliases,
            body=alias_swap(self.alias, previous, rebuild.index),
        )
        for name in self._generations():
            if name not in (rebuild.index, previous):
                self._call(self.client.indices.delete, index=name)

    def discard(self, rebuild: Rebuild) -> None:
        assert isinstance(rebuild, OpenSearchRebuild)
        if rebuild.index != self._alias_target():
            params = {"ignore_unavailable": "true"}
            self._call(self.client.indices.delete, index=rebuild.index, params=params)

    def ping(self) -> None:
        self._call(self.client.cluster.health)

    def close(self) -> None:
        self.client.close()
