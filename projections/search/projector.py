"""Feeds the search index from the catalog read model: the approved version of each product
(an edit awaiting moderation is not indexed until it is approved).

The projector follows the event log like every other, but builds each document from the
product's row in the catalog read model, which already folds in stock, rating and the seller's
status. It runs behind the catalog projector (`upstream`), never ahead, so the row it reads
includes the event it is applying. The row's `updated_position` (the last event that changed it)
is the document's version."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import singledispatchmethod
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.catalog import Product
from domain.inventory import Stock
from domain.reviews import Review
from domain.sellers import Seller
from eventstore.mapper import RecordedEvent
from projections.catalog import shared_stock
from projections.catalog.tables import product_variants, products
from projections.projector import Projector
from projections.search.port import DocumentSink, ProductDocument, Removal


def searchable(row: Mapping[Any, Any]) -> bool:
    """Buyers find only active products of approved sellers."""
    return bool(row["status"] == "active" and row["seller_status"] == "approved")


def variants_of(conn: Connection, product_ids: list[str]) -> dict[str, list[Any]]:
    """Each product's variants on sale (none for a product without variants of its own)."""
    v = product_variants
    found: dict[str, list[Any]] = {}
    if not product_ids:
        return found
    rows = conn.execute(
        sa.select(v.c.product_id, v.c.price_amount, v.c.options)
        .where(v.c.product_id.in_(product_ids), v.c.retired == sa.false())
        .order_by(v.c.created_position, v.c.variant_id)
    )
    for row in rows:
        if row.options:
            found.setdefault(row.product_id, []).append(row)
    return found


def document(row: Mapping[Any, Any], variants: list[Any] | None = None) -> ProductDocument:
    """The product's document; `variants`: its variants on sale, whose prices and option
    values buyers filter and facet on."""
    count = row["rating_count"]
    chosen = tuple(tuple(dict(v.options).items()) for v in variants or [])
    return ProductDocument(
        product_id=row["product_id"],
        tenant_id=row["tenant_id"],
        seller_id=row["seller_id"],
        title=row["title"],
        description=row["description"],
        category=row["category"],
        price_minor=row["price_amount"],
        currency=row["currency"],
        available=row["available"],
        rating_avg=round(row["rating_sum"] / count, 2) if count else 0.0,
        rating_count=count,
        created_position=row["created_position"],
        version=row["updated_position"],
        images=json.dumps(row["images"] or [], separators=(",", ":")),
        featured=row["featured_until"] is not None,
        prices=tuple(v.price_amount for v in variants or []),
        options=tuple(dict.fromkeys(pair for pairs in chosen for pair in pairs)),
        variant_options=chosen,
    )


def changes(
    rows: Iterable[Mapping[Any, Any]], variants: Mapping[str, list[Any]] | None = None
) -> tuple[list[ProductDocument], list[Removal]]:
    """What the index must hold for these catalog rows (with their variants on sale): each
    searchable product's document, and the removal of every other."""
    upserts, removals = [], []
    for row in rows:
        if searchable(row):
            upserts.append(document(row, (variants or {}).get(row["product_id"])))
        else:
            removals.append(
                Removal(row["product_id"], row["tenant_id"], version=row["updated_position"])
            )
    return upserts, removals


class SearchProjector(Projector):
    name = "search"
    upstream = ("catalog",)
    # Each batch ends in one commit of the index, which costs the same (about 17 ms of CPU on
    # tantivy) for one changed document as for hundreds: at most four a second, as a search
    # engine's refresh interval would (OpenSearch's is one second).
    pace_s = 0.25

    def __init__(self, sink: DocumentSink, name: str = "search") -> None:
        super().__init__()
        self.sink = sink
        self.name = name
        self._products: set[str] = set()
        self._sellers: set[str] = set()
        self._masters: set[str] = set()

    @singledispatchmethod
    def apply(self, event: Any, conn: Connection, recorded: RecordedEvent) -> None:
        """Other events change nothing a buyer searches on."""

    @apply.register(Product.Listed)
    @apply.register(Product.Approved)
    @apply.register(Product.Rejected)
    @apply.register(Product.Edited)
    # An edit awaiting moderation changes nothing buyers find (the catalog row keeps the
    # approved text); its approval does.
    @apply.register(Product.RevisionApproved)
    @apply.register(Product.Featured)
    @apply.register(Product.Unfeatured)
    @apply.register(Product.ImageAdded)
    @apply.register(Product.ImageRemoved)
    @apply.register(Product.ImagesReordered)
    @apply.register(Product.OptionsSet)
    @apply.register(Product.VariantAdded)
    @apply.register(Product.VariantEdited)
    @apply.register(Product.VariantRetired)
    @apply.register(Product.StockShared)
    @apply.register(Product.Withdrawn)
    def _product(self, e: Any, conn: Connection, r: RecordedEvent) -> None:
        self._products.add(str(e.originator_id))

    @apply.register(Stock.OnHandSet)
    @apply.register(Stock.Restocked)
    @apply.register(Stock.HoldTaken)
    @apply.register(Stock.HoldSold)
    @apply.register(Stock.HoldReleased)
    @apply.register(Stock.SaleReversed)
    @apply.register(Review.Written)
    @apply.register(Review.Hidden)
    @apply.register(Review.Restored)
    def _about_product(self, e: Any, conn: Connection, r: RecordedEvent) -> None:
        if isinstance(e, Stock.Event) and shared_stock.is_shared(e):
            self._masters.add(str(e.product_id))  # an organisation's: each of its listings
        else:
            self._products.add(str(e.product_id))

    @apply.register(Seller.Approved)
    @apply.register(Seller.Reinstated)
    @apply.register(Seller.Suspended)
    @apply.register(Seller.Rejected)
    def _seller(self, e: Any, conn: Connection, r: RecordedEvent) -> None:
        self._sellers.add(str(e.originator_id))

    def start_batch(self) -> None:
        self._products.clear()
        self._sellers.clear()
        self._masters.clear()

    def end_batch(self, conn: Connection) -> None:
        self._products |= shared_stock.linked_products(conn, self.tables, self._masters)
        if not self._products and not self._sellers:
            return
        touched = sa.or_(
            products.c.product_id.in_(sorted(self._products)),
            products.c.seller_id.in_(sorted(self._sellers)),
        )
        rows = [r._mapping for r in conn.execute(sa.select(products).where(touched))]
        variants = variants_of(conn, [row["product_id"] for row in rows if searchable(row)])
        self.sink.apply(*changes(rows, variants))
