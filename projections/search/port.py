"""The search port: what every search engine behind Velora must do, in the engine's own terms.

Documents are whole products. Each carries the position of the last event that changed it as its
version, and an engine keeps a change only if its version is newer than what it holds, so
replaying events or delivering them out of order cannot move a document backwards. Removals are
versioned the same way.

Variants. A product may have options (Size: S/M/L) and variants, each a combination of option
values with its own price; a product without variants is its own single variant. The document
carries every buyable variant's price and option values, and the engines index them alike, from
the terms `variant_terms` derives, so that both answer the same:

- A price filter matches a product when ANY of its variant prices lies in the range; sorting by
  price uses `price_minor`, the lowest.
- An option filter names options and values (`SearchQuery.options`). Names and values are
  compared by `domain.names.name_key` (NFC, runs of white space as one space, case folded), as
  the domain compares names. Values given for one name are alternatives (Size M or L); every
  name given must be matched, and by ONE variant: Size=M with Colour=Red finds a product only
  if one of its variants is both M and red. This is exact: each variant is indexed under a term
  per combination of its option values (one per subset of its options, up to
  `MAX_OPTION_NAMES`, the most a query may name), and a query asks for any of the terms its
  own combinations make.
- Option facets count, per option and value, the matching products that have a buyable variant
  with that value, over the same result set as every other facet (an option's own filter
  included, as the category facet includes the category filter). Spellings that differ only as
  `name_key` ignores are counted together, under the spelling most of those products use.
  Facets count products, not variants: filtered by Size=M, a product with an M in blue and an L
  in red counts under Red too, though Size=M with Colour=Red would not find it.

Both engines count facets with one aggregation request, in the form both read, written once
(adapters/search/facets.py)."""

from __future__ import annotations

import base64
import hashlib
import json
import unicodedata
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from itertools import combinations, product
from typing import Any, Literal, Protocol

from domain.names import name_key
from projections.projector import EffectUnavailable
from projections.scope import TenantScope

Sort = Literal["relevance", "price_asc", "price_desc", "newest", "featured"]
SORTS: tuple[Sort, ...] = ("relevance", "price_asc", "price_desc", "newest", "featured")

# Results are paged up to this depth, as in OpenSearch's max_result_window. Beyond it a client
# narrows the query instead of paging through the whole catalog.
MAX_WINDOW = 10_000
# Option filters: at most this many name=value pairs in one query, naming at most this many
# different options: as many as a product may have (domain/variants.py), so a query can name
# all of them, and each variant is indexed under every combination of its option values (at
# most 31 terms a variant). Names and values this long at most.
MAX_OPTION_FILTERS = 10
MAX_OPTION_NAMES = 5
MAX_OPTION_TEXT = 100

Pair = tuple[str, str]
VARIANT_FIELDS = ("prices", "options", "variant_options")


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
    # Variants (see the module docstring). `price_minor` is the lowest of `prices`; all three are
    # empty for a product without variants, which is its own single variant at `price_minor`.
    # Every buyable variant's price:
    prices: tuple[int, ...] = ()
    # The (option name, value) pairs of its buyable variants, each pair once, as the seller
    # wrote them (NFC), e.g. (("Size", "M"), ("Size", "L"), ("Colour", "Red")):
    options: tuple[Pair, ...] = ()
    # Per buyable variant, its pairs, e.g. ((("Size", "M"), ("Colour", "Red")), ...):
    variant_options: tuple[tuple[Pair, ...], ...] = ()

    def __post_init__(self) -> None:
        # A document that contradicts itself is a bug of whoever built it: refuse it loudly
        # rather than index filters and facets that disagree.
        if not (self.prices or self.options or self.variant_options):
            return  # no variants: nothing to contradict (and nothing to spend on every hit)
        if self.prices and min(self.prices) != self.price_minor:
            raise ValueError(f"{self.product_id}: price_minor must be the lowest of prices")
        if set(self.options) != {pair for variant in self.variant_options for pair in variant}:
            raise ValueError(f"{self.product_id}: options must be the variants' pairs")


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
    # (option name, value) pairs: see the module docstring for how they match.
    options: tuple[Pair, ...] = ()

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
        self._check_options()

    def _check_options(self) -> None:
        if len(self.options) > MAX_OPTION_FILTERS:
            raise InvalidSearch(f"at most {MAX_OPTION_FILTERS} option filters")
        for name, value in self.options:
            problem = option_problem(name, value)
            if problem is not None:
                raise InvalidSearch(problem)
        if len({name_key(name) for name, _ in self.options}) > MAX_OPTION_NAMES:
            raise InvalidSearch(f"option filters may name at most {MAX_OPTION_NAMES} options")

    @property
    def size(self) -> int:
        """How many results this page holds at most: the limit, within the paging depth."""
        return min(self.limit, MAX_WINDOW - self.offset)

    @property
    def sort_by_score(self) -> bool:
        """Relevance only orders anything when there is text to be relevant to; without text
        it falls back to the newest first."""
        return self.sort == "relevance" and bool(self.text.strip())

    def option_terms(self) -> list[str]:
        """The terms a product must have one of to pass the option filters: one per way of
        picking a value for every option named (empty: no option filter)."""
        wanted: dict[str, set[str]] = defaultdict(set)
        for name, value in self.options:
            wanted[name_key(name)].add(name_key(value))
        names = sorted(wanted)
        picks = product(*(sorted(wanted[n]) for n in names))
        return sorted({combination_term(list(zip(names, pick, strict=True))) for pick in picks})


def option_problem(name: str, value: str) -> str | None:
    """Why an option filter cannot be asked for, or None when it can."""
    for what, text in (("name", name), ("value", value)):
        if not text.strip():
            return f"an option {what} must not be empty"
        if len(text) > MAX_OPTION_TEXT:
            return f"an option {what} has at most {MAX_OPTION_TEXT} characters"
        if any(unicodedata.category(c) == "Cc" for c in text):
            return f"an option {what} must not hold control characters"
    return None


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
    # Per option name (in alphabetical order), its values, most matching products first.
    options: dict[str, list[Bucket]] = field(default_factory=dict)


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


# -- what both engines do alike with changes and suggestions ------------------------------------


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


# -- variants, as both engines index them ------------------------------------------------------


@dataclass(frozen=True)
class VariantTerms:
    """What an engine indexes for a document's variants, beside its other fields."""

    # Every buyable price, each once (the product's own price when it has no variants): the
    # field price filters and price facets read.
    prices: list[int]
    # One facet term per (option, value) the product has, each `name_key` pair once, as first
    # spelled: `pair_term`.
    pairs: list[str]
    # The filter terms: one per combination of a variant's option values (up to
    # MAX_OPTION_NAMES of them), over every variant, each once: `combination_term`.
    combinations: list[str]
    # The document's own variant fields as JSON, kept to give the document back whole (None when
    # it has none, as every product without variants).
    stored: str | None


def pair_term(name: str, value: str) -> str:
    return json.dumps([name, value], ensure_ascii=False, separators=(",", ":"))


def combination_term(keyed: Sequence[Pair]) -> str:
    """The term for one combination of option values, given as (name key, value key) pairs in
    order of name key. A digest: values are short to index whatever the seller wrote."""
    raw = json.dumps(keyed, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.blake2b(raw, digest_size=12).hexdigest()


def variant_terms(d: ProductDocument) -> VariantTerms:
    pairs: dict[Pair, str] = {}
    for name, value in d.options:
        pairs.setdefault((name_key(name), name_key(value)), pair_term(name, value))
    found: set[str] = set()
    for variant in d.variant_options:
        keyed = sorted({(name_key(name), name_key(value)) for name, value in variant})
        for size in range(1, min(len(keyed), MAX_OPTION_NAMES) + 1):
            found.update(combination_term(c) for c in combinations(keyed, size))
    stored = None
    if d.prices or d.options or d.variant_options:
        stored = json.dumps({name: getattr(d, name) for name in VARIANT_FIELDS}, ensure_ascii=False)
    return VariantTerms(
        prices=sorted(set(d.prices)) or [d.price_minor],
        pairs=list(pairs.values()),
        combinations=sorted(found),
        stored=stored,
    )


def stored_variants(stored: str | None) -> dict[str, Any]:
    """The document's variant fields from `VariantTerms.stored`, as the document holds them."""
    if not stored:
        return {}
    raw = json.loads(stored)
    return {
        "prices": tuple(raw["prices"]),
        "options": tuple((n, v) for n, v in raw["options"]),
        "variant_options": tuple(
            tuple((n, v) for n, v in pairs) for pairs in raw["variant_options"]
        ),
    }


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
