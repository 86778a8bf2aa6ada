"""How both engines count facets: one aggregation request, in the Elasticsearch form tantivy
and OpenSearch both read, and its answer folded into the port's `Facets`. What the facets count
is the port's to say (projections/search/port.py, its module docstring); this is how, written
once so the two engines cannot drift apart.

Prices are counted per currency into fine buckets at every currency's edges at once, then
added up into each currency's own buckets (`price_buckets`); options are counted per (name,
value) pair and folded by `name_key` (`option_facets`)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from itertools import pairwise
from typing import Any

from domain.names import name_key
from eventstore.currencies import minor_unit_exponent
from projections.search.port import Bucket, Facets, Pair, PriceBucket

FACET_SIZE = 50
# Price facet edges in major units, scaled to each currency's minor units.
PRICE_EDGES_MAJOR = (10, 25, 50, 100, 250, 500, 1000)
# How many (option, value) pairs the option facets count at most, over all options together.
OPTION_FACET_PAIRS = 500


def price_edges(currency: str) -> list[int]:
    scale = 10 ** minor_unit_exponent(currency)
    return [edge * scale for edge in PRICE_EDGES_MAJOR]


def all_price_edges() -> list[int]:
    """Every currency's edges together. An engine counts prices into these fine buckets once,
    per currency, and `price_buckets` adds them up into each currency's own buckets."""
    return sorted({edge * 10**exponent for edge in PRICE_EDGES_MAJOR for exponent in (0, 2, 3)})


def price_buckets(currency: str, fine: dict[int | None, int]) -> list[PriceBucket]:
    """Folds counts per fine bucket (keyed by the bucket's lower edge, None for the first) into
    the currency's own buckets, leaving out empty ones."""
    edges = price_edges(currency)
    bounds: list[int | None] = [None, *edges, None]
    buckets = []
    for low, high in pairwise(bounds):
        count = sum(
            n
            for start, n in fine.items()
            if (low is None or (start is not None and start >= low))
            and (high is None or start is None or start < high)
        )
        if count:
            buckets.append(PriceBucket(currency, low, high, count))
    return buckets


def facet_aggregations(category_field: str, *, options: bool = True) -> dict[str, Any]:
    """The facets as an aggregation request, in the Elasticsearch form both engines read. Prices
    count each product once in every range one of its variant prices falls in, as the price
    filter would find it there. `options=False` leaves out the option facets, for an engine
    that knows no document has options."""
    edges = all_price_edges()
    ranges = [{"to": edges[0]}]
    ranges += [{"from": a, "to": b} for a, b in pairwise(edges)]
    ranges.append({"from": edges[-1]})
    aggregations: dict[str, Any] = {
        "categories": {"terms": {"field": category_field, "size": FACET_SIZE}},
        "sellers": {"terms": {"field": "seller_id", "size": FACET_SIZE}},
        "currencies": {
            "terms": {"field": "currency", "size": FACET_SIZE},
            "aggs": {"prices": {"range": {"field": "variant_prices", "ranges": ranges}}},
        },
    }
    if options:
        aggregations["options"] = {"terms": {"field": "option_pairs", "size": OPTION_FACET_PAIRS}}
    return aggregations


def option_facets(buckets: Iterable[dict[str, Any]]) -> dict[str, list[Bucket]]:
    """Counts per option pair folded into options and values, spellings that share a
    `name_key` counted together (a product's document holds each key pair once, so the sums
    count products) under the spelling most products use."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    names: dict[str, Counter[str]] = defaultdict(Counter)
    values: dict[Pair, Counter[str]] = defaultdict(Counter)
    for b in buckets:
        name, value = json.loads(b["key"])
        key = (name_key(name), name_key(value))
        counts[key[0]][key[1]] += b["doc_count"]
        names[key[0]][name] += b["doc_count"]
        values[key][value] += b["doc_count"]

    def spelling(seen: Counter[str]) -> str:
        return min(seen, key=lambda s: (-seen[s], s))

    facets = {}
    for nk in sorted(counts, key=lambda nk: (spelling(names[nk]).casefold(), nk)):
        found = [Bucket(spelling(values[(nk, vk)]), n) for vk, n in counts[nk].items()]
        facets[spelling(names[nk])] = sorted(found, key=lambda b: (-b.count, b.value))[:FACET_SIZE]
    return facets


def read_facets(result: dict[str, Any]) -> Facets:
    """Facets from an aggregation response to `facet_aggregations`."""

    def buckets(name: str) -> list[Bucket]:
        found = [Bucket(b["key"], b["doc_count"]) for b in result[name]["buckets"]]
        return sorted(found, key=lambda b: (-b.count, b.value))

    prices = []
    for currency in sorted(result["currencies"]["buckets"], key=lambda b: b["key"]):
        fine = {
            (int(b["from"]) if "from" in b else None): b["doc_count"]
            for b in currency["prices"]["buckets"]
        }
        prices += price_buckets(currency["key"], fine)
    options = option_facets(result["options"]["buckets"]) if "options" in result else {}
    return Facets(buckets("categories"), buckets("sellers"), prices, options)
