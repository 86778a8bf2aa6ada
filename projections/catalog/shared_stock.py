"""Seller Pro's one stock in the catalog model (docs/api-seller-pro.md). An organisation's stock
of a master variant lives on the platform (tenant zero): its counts are kept in
`organisation_stocks`, and copied onto every listing variant that sells from it (`stock_shares`,
each row in its marketplace's tenant), so a marketplace's product rows show what buyers can take,
and only that number: no row of a tenant names another tenant's holds or orders. Called by the
catalog projector, in its transaction."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.base import PLATFORM_TENANT_ID
from domain.catalog import Product
from eventstore.mapper import RecordedEvent
from projections.catalog import variants
from projections.tables import Tables

PLATFORM = str(PLATFORM_TENANT_ID)


def is_shared(e: Any) -> bool:
    """Whether a stock event is of an organisation's one stock (not one tenant's own)."""
    return str(e.tenant_id) == PLATFORM


def shared(conn: Connection, tables: Tables, e: Product.StockShared, r: RecordedEvent) -> None:
    """A listing's variants sell from their master variants' stock: linked, and showing it."""
    links = [
        {
            "variant_id": listing,
            "product_id": str(e.originator_id),
            "tenant_id": str(e.tenant_id),
            "stock_variant_id": master,
            "master_id": str(e.master_id),
        }
        for listing, master in sorted(e.variants.items())
    ]
    conn.execute(tables.stock_shares.insert(), links)
    for link in links:
        _show(conn, tables, link["stock_variant_id"], [link["variant_id"]])
    variants.refresh(conn, tables, e, r, **_sums(tables, str(e.originator_id)))


def counted(conn: Connection, tables: Tables, e: Any, r: RecordedEvent) -> None:
    """A warehouse's on-hand count of a master variant changed (its stock_levels row is
    written already): the organisation's total, and every listing of it."""
    levels, stocks = tables.stock_levels, tables.organisation_stocks
    total = conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(levels.c.on_hand), 0)).where(
            levels.c.variant_id == str(e.variant_id)
        )
    ).scalar_one()
    updated = conn.execute(
        stocks.update().where(stocks.c.variant_id == str(e.variant_id)).values(on_hand=total)
    )
    if updated.rowcount == 0:
        conn.execute(
            stocks.insert().values(
                variant_id=str(e.variant_id),
                product_id=str(e.product_id),
                tenant_id=PLATFORM,
                on_hand=total,
                held=0,
                sold=0,
            )
        )
    _spread(conn, tables, e, r)


def moved(
    conn: Connection, tables: Tables, e: Any, r: RecordedEvent, *, held: int = 0, sold: int = 0
) -> None:
    """Units of a master variant held, sold or let go, in any marketplace: the organisation's
    counts, and every listing of it."""
    stocks = tables.organisation_stocks
    conn.execute(
        stocks.update()
        .where(stocks.c.variant_id == str(e.variant_id))
        .values(held=stocks.c.held + held, sold=stocks.c.sold + sold)
    )
    _spread(conn, tables, e, r)


def linked_products(conn: Connection, tables: Tables, master_ids: set[str]) -> set[str]:
    """The listings of these master products, in every marketplace (what search reindexes)."""
    if not master_ids:
        return set()
    shares = tables.stock_shares
    found = conn.execute(
        sa.select(shares.c.product_id).where(shares.c.master_id.in_(sorted(master_ids)))
    )
    return {product_id for (product_id,) in found}


def _spread(conn: Connection, tables: Tables, e: Any, r: RecordedEvent) -> None:
    shares = tables.stock_shares
    rows = conn.execute(
        sa.select(shares.c.variant_id, shares.c.product_id).where(
            shares.c.stock_variant_id == str(e.variant_id)
        )
    ).all()
    if not rows:
        return
    _show(conn, tables, str(e.variant_id), [row.variant_id for row in rows])
    for product_id in sorted({row.product_id for row in rows}):
        at = _At(product_id, e.timestamp)
        variants.refresh(conn, tables, at, r, **_sums(tables, product_id))


def _show(conn: Connection, tables: Tables, stock_variant_id: str, listing: list[str]) -> None:
    """Copies the organisation's counts of a master variant onto listing variants."""
    stocks, v = tables.organisation_stocks, tables.product_variants
    counts = conn.execute(
        sa.select(stocks.c.on_hand, stocks.c.held, stocks.c.sold).where(
            stocks.c.variant_id == stock_variant_id
        )
    ).first()
    on_hand, held, sold = counts if counts is not None else (0, 0, 0)
    conn.execute(
        v.update().where(v.c.variant_id.in_(listing)).values(on_hand=on_hand, held=held, sold=sold)
    )


def _sums(tables: Tables, product_id: str) -> dict[str, Any]:
    """A listing's on hand, held and sold: its variants' on sale, summed."""
    v = tables.product_variants
    return {
        column: sa.select(sa.func.coalesce(sa.func.sum(v.c[column]), 0))
        .where(v.c.product_id == product_id, v.c.retired == sa.false())
        .scalar_subquery()
        for column in ("on_hand", "held", "sold")
    }


class _At:
    """What `variants.refresh` reads of an event: the product, and when."""

    def __init__(self, product_id: str, timestamp: Any) -> None:
        self.product_id = product_id
        self.originator_id = product_id
        self.timestamp = timestamp
