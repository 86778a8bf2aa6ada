"""The search port: what every search engine behind Velora must do, in the engine's own terms.

Documents are whole products. Each carries the position of the last event that changed it as its
version, and an engine keeps a change only if its version is newer than what it holds, so
replaying events or delivering them out of order cannot move a document backwards. Removals are
versioned the same way."""

from __future__ import annotations

import base64
import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from itertools import pairwise
from typing import Any, Literal, Protocol

from projections.runner import EffectUnavailable
from projections.scope import TenantScope

Sort = Literal["relevance", "price_asc", "price_desc", "newest", "featured"]
SORTS: tuple[Sort, ...] = ("relevance", "price_asc", "price_desc", "newest", "featured")

# Results are paged up to this depth, as in OpenSearch's max_result_window. Beyond it a client
# narrows the query instead of paging through the whole catalog.
MAX_WINDOW = 10_000
FACET_SIZE = 50
# Price facet edges in major units, scaled to each currency's minor units.
PRICE_EDGES_MAJOR = (10, 25, 50, 100, 250, 500, 1000)


@dataclass(frozen=True)
class ProductDocument:
    product_id: str
    tenant_id: str
    seller_id: str
    title: str
    description: str
    category: str
    price_minor: int
    currency: str
    available: int
    rating_avg: float
    rating_count: int
    created_position: int
    version: int
    # The product's images as the catalog model keeps them (blob keys), as JSON text: shown,
    # never searched; the API signs their URLs when it answers.
    images: str = "[]"
    # Featured by a marketplace admin (the scheduler ends it when its time is up).
    featured: bool = False


@dataclass(frozen=True)
class Removal:
    product_id: str
    tenant_id: str
    version: int


@dataclass(frozen=True)
class SearchQuery:
    """A validated query. Prices are in minor units of the products' currency."""

    text: str = ""
    category: str | None = None
    seller_id: str | None = None
    min_price_minor: int | None = None
    max_price_minor: int | None = None
    min_rating: float | None = None
    in_stock: bool = False
    featured: bool = False
    sort: Sort = "relevance"
    limit: int = 50
    offset: int = 0

    def __post_init__(self) -> None:
        if self.sort not in SORTS:
            raise InvalidSearch(f"sort must be one of {', '.join(SORTS)}")
        if not 1 <= self.limit <= 500:
            raise InvalidSearch("limit must be between 1 and 500")
        if not 0 <= self.offset < MAX_WINDOW:
            raise InvalidSearch(f"results are paged to a depth of {MAX_WINDOW}")
        for name in ("min_price_minor", "max_price_minor"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise InvalidSearch(f"{name} must not be negative")
        if (
            self.min_price_minor is not None
            and self.max_price_minor is not None
            and self.min_price_minor > self.max_price_minor
        ):
            raise InvalidSearch("min_price must not be above max_price")
        if self.min_rating is not None and not 0 <= self.min_rating <= 5:
            raise InvalidSearch("min_rating must be between 0 and 5")

    @property
    def size(self) -> int:
        """How many results this page holds at most: the limit, within the paging depth."""
        return min(self.limit, MAX_WINDOW - self.offset)

    @property
    def sort_by_score(self) -> bool:
        """Relevance only orders anything when there is text to be relevant to; without text
        it falls back to the newest first."""
        return self.sort == "relevance" and bool(self.text.strip())


@dataclass(frozen=True)
class Bucket:
    value: str
    count: int


@dataclass(frozen=True)
class PriceBucket:
    currency: str
    from_minor: int | None
    to_minor: int | None  # exclusive
    count: int


@dataclass(frozen=True)
class Facets:
    categories: list[Bucket] = field(default_factory=list)
    sellers: list[Bucket] = field(default_factory=list)
    prices: list[PriceBucket] = field(default_factory=list)


@dataclass(frozen=True)
class SearchResult:
    items: list[ProductDocument]
    total: int
    facets: Facets
    next_cursor: str | None = None


class InvalidSearch(ValueError):
    """A query the engines cannot answer as asked: the caller's mistake (422)."""


class SearchUnavailable(EffectUnavailable):
    """The search engine could not be reached or refused a request (503)."""


class DocumentSink(Protocol):
    def apply(self, upserts: Sequence[ProductDocument], removals: Sequence[Removal]) -> None:
        """Makes the changes durable and visible to searches before returning."""


class Rebuild(ABC):
    """A new, empty index beside the live one, filled while the live one serves queries."""

    generation: str

    @abstractmethod
    def apply(self, upserts: Sequence[ProductDocument], removals: Sequence[Removal]) -> None: ...


class SearchIndex(ABC):
    """The live product index. Every query takes the caller's TenantScope and filters by it."""

    @abstractmethod
    def apply(self, upserts: Sequence[ProductDocument], removals: Sequence[Removal]) -> None: ...

    @abstractmethod
    def search(self, scope: TenantScope, query: SearchQuery) -> SearchResult: ...

    @abstractmethod
    def suggest(self, scope: TenantScope, prefix: str, limit: int) -> list[str]: ...

    @abstractmethod
    def begin_rebuild(self) -> Rebuild: ...

    @abstractmethod
    def publish(self, rebuild: Rebuild) -> None:
        """Makes a rebuilt index the live one in one atomic step."""

    @abstractmethod
    def discard(self, rebuild: Rebuild) -> None: ...

    @abstractmethod
    def generation(self) -> str: ...

    @abstractmethod
    def ping(self) -> None: ...

    @abstractmethod
    def close(self) -> None:
        """Releases what the index holds open."""


# -- shared by the engines ----------------------------------------------------------------------

_ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND"}
    | {"VUV", "XAF", "XOF", "XPF"}
)
_THREE_DECIMAL = frozenset({"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"})


def minor_unit_exponent(currency: str) -> int:
    """ISO 4217 minor units: how many decimal places a currency's amounts have."""
    if currency in _ZERO_DECIMAL:
        return 0
    return 3 if currency in _THREE_DECIMAL else 2


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


def newest_version(
    upserts: Iterable[ProductDocument], removals: Iterable[Removal]
) -> dict[str, ProductDocument | Removal]:
    """The latest change per product among those given (ties go to the later one given)."""
    latest: dict[str, ProductDocument | Removal] = {}
    every: list[ProductDocument | Removal] = [*upserts, *removals]
    for change in every:
        held = latest.get(change.product_id)
        if held is None or change.version >= held.version:
            latest[change.product_id] = change
    return latest


def facet_aggregations(category_field: str) -> dict[str, Any]:
    """The facets as an aggregation request, in the Elasticsearch form both engines read."""
    edges = all_price_edges()
    ranges = [{"to": edges[0]}]
    ranges += [{"from": a, "to": b} for a, b in pairwise(edges)]
    ranges.append({"from": edges[-1]})
    return {
        "categories": {"terms": {"field": category_field, "size": FACET_SIZE}},
        "sellers": {"terms": {"field": "seller_id", "size": FACET_SIZE}},
        "currencies": {
            "terms": {"field": "currency", "size": FACET_SIZE},
            "aggs": {"prices": {"range": {"field": "price_minor", "ranges": ranges}}},
        },
    }


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
    return Facets(buckets("categories"), buckets("sellers"), prices)


def distinct(values: list[str], limit: int) -> list[str]:
    """The first `limit` values, leaving out repeats that differ only in case."""
    seen: set[str] = set()
    kept = []
    for value in values:
        key = value.casefold()
        if key not in seen:
            seen.add(key)
            kept.append(value)
    return kept[:limit]


# -- cursors ------------------------------------------------------------------------------------


def _fingerprint(scope: TenantScope, query: SearchQuery) -> str:
    payload = asdict(replace(query, offset=0, limit=1))
    payload["scope"] = sorted(scope.tenant_ids) if scope.tenant_ids is not None else None
    raw = json.dumps(payload, sort_keys=True).encode()
    return hashlib.sha256(raw).hexdigest()[:16]


def encode_cursor(scope: TenantScope, query: SearchQuery, offset: int) -> str:
    raw = f"s:{offset}:{_fingerprint(scope, query)}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(scope: TenantScope, query: SearchQuery, cursor: str | None) -> int:
    """The offset a cursor continues from. A cursor is only good for the query that issued it:
    another query's cursor would page through a different result list."""
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, offset, fingerprint = raw.split(":")
        if kind != "s" or int(offset) < 0:
            raise ValueError(kind)
    except (ValueError, UnicodeDecodeError):
        raise InvalidSearch(f"cursor {cursor!r} is not one this server issued") from None
    if fingerprint != _fingerprint(scope, query):
        raise InvalidSearch("this cursor belongs to another query; send the same parameters")
    return int(offset)


def page(scope: TenantScope, query: SearchQuery, cursor: str | None) -> SearchQuery:
    return replace(query, offset=decode_cursor(scope, query, cursor))


def next_cursor(scope: TenantScope, query: SearchQuery, total: int) -> str | None:
    following = query.offset + query.size
    if following >= min(total, MAX_WINDOW):
        return None
    return encode_cursor(scope, query, following)
