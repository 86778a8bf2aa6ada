"""The embedded engine's fields, and how a query and a document map onto them: the tantivy
schema and its text analyzer, the tantivy query a `SearchQuery` becomes (tenant scope, filters,
words matched exactly or within a small edit distance), and a `ProductDocument` or `Removal` as
a tantivy document and back. The index directories these documents live in, and the
generations a rebuild or an upgrade makes, are the engine's (tantivy.py beside this)."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

import tantivy
from tantivy import FieldType, Occur, Query

from projections.scope import TenantScope
from projections.search.port import (
    VARIANT_FIELDS,
    ProductDocument,
    Removal,
    SearchQuery,
    stored_variants,
    variant_terms,
)

ANALYZER = "velora_text"
MAX_QUERY_TERMS = 16
# Boosts: a word in the title says more about a product than one in its description.
FIELD_BOOSTS = {"title": 3.0, "category": 2.0, "description": 1.0}
FUZZY_BOOST = 0.3
# Above every event position: a featured product's rank is this plus its creation position.
FEATURED_RANK = 2**52


def _analyzer() -> tantivy.TextAnalyzer:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .build()
    )


def _schema() -> tantivy.Schema:
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
    # Featured first, newest first within each: one fast field to sort on.
    b.add_integer_field("featured_rank", stored=False, indexed=False, fast=True)
    # Variants: the document's own fields as JSON, shown, never searched; and the terms
    # `variant_terms` derives from them, searched, never shown.
    b.add_bytes_field("variants", stored=True, indexed=False)
    b.add_integer_field("variant_prices", stored=False, indexed=True, fast=True)
    b.add_text_field("option_pairs", stored=False, tokenizer_name="raw", fast=True)
    b.add_text_field("option_terms", stored=False, tokenizer_name="raw")
    return b.build()


SCHEMA = _schema()
TEXT = _analyzer()


def fuzzy_distance(term: str) -> int:
    """Edits a query word may be away from an indexed one (OpenSearch's `fuzziness: AUTO`)."""
    if len(term) < 3:
        return 0
    return 1 if len(term) <= 5 else 2


def term_query(field: str, value: Any) -> Query:
    return Query.term_query(SCHEMA, field, value)


def as_filter(query: Query) -> Query:
    # Filters decide which products match and add nothing to how well they match.
    return Query.const_score_query(query, 0.0)


def scope_filter(scope: TenantScope) -> Query | None:
    """The tenant filter every query starts from. A caller cannot remove it: the engine adds it
    from the scope, never from the query."""
    if scope.tenant_ids is None:
        return None
    if not scope.tenant_ids:
        return Query.empty_query()
    return Query.term_set_query(SCHEMA, "tenant_id", sorted(scope.tenant_ids))


def query_filters(scope: TenantScope, q: SearchQuery) -> list[Query]:
    filters = [term_query("live", True)]
    tenant = scope_filter(scope)
    if tenant is not None:
        filters.append(tenant)
    if q.category is not None:
        filters.append(term_query("category_key", q.category))
    if q.seller_id is not None:
        filters.append(term_query("seller_id", q.seller_id))
    if q.min_price_minor is not None or q.max_price_minor is not None:
        # Any variant's price in the range will do.
        filters.append(
            Query.range_query(
                SCHEMA, "variant_prices", FieldType.Integer, q.min_price_minor, q.max_price_minor
            )
        )
    if q.min_rating is not None:
        filters.append(Query.range_query(SCHEMA, "rating_avg", FieldType.Float, q.min_rating))
    if q.in_stock:
        filters.append(Query.range_query(SCHEMA, "available", FieldType.Integer, 1))
    if q.featured:
        filters.append(term_query("featured", True))
    if q.options:
        filters.append(Query.term_set_query(SCHEMA, "option_terms", q.option_terms()))
    return filters


def _word(word: str) -> Query:
    """One query word, matched in any text field: exactly with BM25, or within a small edit
    distance at a low constant score, so a typo still finds the product but ranks below exact
    matches."""
    clauses = [
        (Occur.Should, Query.boost_query(term_query(field, word), boost))
        for field, boost in FIELD_BOOSTS.items()
    ]
    distance = fuzzy_distance(word)
    if distance:
        clauses += [
            (
                Occur.Should,
                Query.boost_query(
                    Query.fuzzy_term_query(SCHEMA, field, word, distance=distance),
                    FUZZY_BOOST * boost,
                ),
            )
            for field, boost in FIELD_BOOSTS.items()
        ]
    return Query.boolean_query(clauses)


def build_query(scope: TenantScope, q: SearchQuery) -> Query:
    clauses = [(Occur.Must, as_filter(f)) for f in query_filters(scope, q)]
    words = TEXT.analyze(q.text)[:MAX_QUERY_TERMS]
    # Every word must match somewhere: more words narrow the results, as shoppers expect.
    clauses += [(Occur.Must, _word(w)) for w in words]
    return Query.boolean_query(clauses)


# The document's fields that are one value each (the variant fields go in as `variant_terms`).
SCALAR_FIELDS = tuple(f.name for f in fields(ProductDocument) if f.name not in VARIANT_FIELDS)


def as_tantivy(change: ProductDocument | Removal) -> tantivy.Document:
    if isinstance(change, Removal):
        return tantivy.Document(**asdict(change), live=False)
    stored: dict[str, Any] = {name: getattr(change, name) for name in SCALAR_FIELDS}
    stored["images"] = change.images.encode()
    terms = variant_terms(change)
    if terms.stored is not None:
        stored["variants"] = terms.stored.encode()
    rank = (FEATURED_RANK if change.featured else 0) + change.created_position
    return tantivy.Document(
        **stored,
        variant_prices=terms.prices,
        option_pairs=terms.pairs,
        option_terms=terms.combinations,
        category_key=change.category,
        featured_rank=rank,
        live=True,
    )


def as_document(stored: dict[str, list[Any]]) -> ProductDocument:
    values = {name: stored[name][0] for name in SCALAR_FIELDS if name in stored}
    if "images" in values:
        values["images"] = bytes(values["images"]).decode()
    if "variants" in stored:
        values |= stored_variants(bytes(stored["variants"][0]).decode())
    return ProductDocument(**values)


def as_change(stored: dict[str, list[Any]]) -> ProductDocument | Removal:
    """A stored document back as the change that made it, tombstones as removals."""
    if not stored["live"][0]:
        return Removal(stored["product_id"][0], stored["tenant_id"][0], stored["version"][0])
    return as_document(stored)
