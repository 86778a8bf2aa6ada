"""The catalog model's variants (domain/variants.py): one row per variant, and what the product
row keeps of them. Called by the catalog projector, in its transaction.

A product without variants of its own has one row, under its own id, made when it is listed; its
first variant of its own replaces that row. The product row keeps the lowest price of its
variants on sale (`price_amount`, what lists, search and sorting show) beside its own price
(`base_price_amount`, what a variant without a price of its own sells at), and what buyers can
take of it (`available`: each variant on sale's on hand - held - sold, at least 0, summed)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.catalog import Product
from eventstore.mapper import RecordedEvent
from projections.store import naive_utc
from projections.tables import Tables


def listed(conn: Connection, tables: Tables, e: Product.Listed, r: RecordedEvent) -> None:
    """The product's one variant while it has none of its own: itself."""
    _insert(
        conn,
        tables,
        e,
        r,
        variant_id=str(e.originator_id),
        sku=e.sku,
        options={},
        own_price_amount=None,
        price_amount=e.price_minor,
        currency=e.currency,
    )


def added(conn: Connection, tables: Tables, e: Product.VariantAdded, r: RecordedEvent) -> None:
    v, product_id = tables.product_variants, str(e.originator_id)
    conn.execute(v.delete().where(v.c.variant_id == product_id))  # no longer its own variant
    product = tables.products
    base, currency = conn.execute(
        sa.select(product.c.base_price_amount, product.c.currency).where(
            product.c.product_id == product_id
        )
    ).one()
    _insert(
        conn,
        tables,
        e,
        r,
        variant_id=str(e.variant_id),
        sku=e.sku,
        options=dict(e.options),
        own_price_amount=e.price_minor,
        price_amount=base if e.price_minor is None else e.price_minor,
        currency=currency,
    )
    refresh(conn, tables, e, r)


def edited(conn: Connection, tables: Tables, e: Product.VariantEdited, r: RecordedEvent) -> None:
    v, products = tables.product_variants, tables.products
    base = (
        sa.select(products.c.base_price_amount)
        .where(products.c.product_id == str(e.originator_id))
        .scalar_subquery()
    )
    conn.execute(
        v.update()
        .where(v.c.variant_id == str(e.variant_id))
        .values(
            sku=e.sku,
            own_price_amount=e.price_minor,
            price_amount=base if e.price_minor is None else e.price_minor,
        )
    )
    refresh(conn, tables, e, r)


def retired(conn: Connection, tables: Tables, e: Product.VariantRetired, r: RecordedEvent) -> None:
    v = tables.product_variants
    conn.execute(v.update().where(v.c.variant_id == str(e.variant_id)).values(retired=True))
    refresh(conn, tables, e, r)


def repriced(conn: Connection, tables: Tables, e: Product.Edited, r: RecordedEvent) -> None:
    """The product's own price changed: so did every variant's that has none of its own."""
    v = tables.product_variants
    conn.execute(
        v.update()
        .where(v.c.product_id == str(e.originator_id), v.c.own_price_amount.is_(None))
        .values(price_amount=e.price_minor, currency=e.currency)
    )


def moved(
    conn: Connection, tables: Tables, e: Any, r: RecordedEvent, *, held: int = 0, sold: int = 0
) -> None:
    """A variant's units were held, sold, or let go (negative): on its row, and on its product's
    row with what buyers can take of it. Its price is not touched: no stock move changes it.

    The busiest path of the read side (four stock events per checkout line), so its two
    statements are built once per table pair and only their values bound here."""
    variant, product = _moves(tables.product_variants, tables.products)
    values = {
        "m_variant_id": str(e.variant_id),
        "m_product_id": str(e.product_id),
        "m_held": held,
        "m_sold": sold,
        "m_at": naive_utc(e.timestamp),
        "m_position": r.position,
    }
    conn.execute(variant, values)
    conn.execute(product, values)


# A rebuild's shadow tables are new Table objects: a few pairs kept, not one per rebuild.
@lru_cache(maxsize=8)
def _moves(v: sa.Table, products: sa.Table) -> tuple[sa.Update, sa.Update]:
    held = sa.bindparam("m_held", type_=sa.Integer)
    sold = sa.bindparam("m_sold", type_=sa.Integer)
    product_id = sa.bindparam("m_product_id", type_=sa.String)
    variant = (
        v.update()
        .where(v.c.variant_id == sa.bindparam("m_variant_id"))
        .values(held=v.c.held + held, sold=v.c.sold + sold)
    )
    product = (
        products.update()
        .where(products.c.product_id == product_id)
        .values(
            held=products.c.held + held,
            sold=products.c.sold + sold,
            available=sa.func.coalesce(_available(v, product_id), 0),
            updated_at=sa.bindparam("m_at"),
            updated_position=sa.bindparam("m_position"),
        )
    )
    return variant, product


def _available(v: sa.Table, product_id: Any) -> Any:
    """What buyers can take of a product: each variant on sale's on hand - held - sold, at
    least 0, summed (NULL when none is on sale)."""
    left = v.c.on_hand - v.c.held - v.c.sold
    return (
        sa.select(sa.func.sum(sa.case((left > 0, left), else_=0)))
        .where(v.c.product_id == product_id, v.c.retired == sa.false())
        .scalar_subquery()
    )


def counted(conn: Connection, tables: Tables, variant_id: str) -> None:
    """A variant's on hand is what its warehouses hold."""
    v, levels = tables.product_variants, tables.stock_levels
    total = (
        sa.select(sa.func.coalesce(sa.func.sum(levels.c.on_hand), 0))
        .where(levels.c.variant_id == variant_id)
        .scalar_subquery()
    )
    conn.execute(v.update().where(v.c.variant_id == variant_id).values(on_hand=total))


def refresh(conn: Connection, tables: Tables, e: Any, r: RecordedEvent, **values: Any) -> None:
    """The product row's lowest price and available stock, summed up from its variants on sale
    (a product whose variants are all retired keeps its own price, with nothing available)."""
    products, v = tables.products, tables.product_variants
    product_id = str(getattr(e, "product_id", None) or e.originator_id)
    on_sale = sa.and_(v.c.product_id == product_id, v.c.retired == sa.false())
    lowest = sa.select(sa.func.min(v.c.price_amount)).where(on_sale).scalar_subquery()
    available = _available(v, product_id)
    conn.execute(
        products.update()
        .where(products.c.product_id == product_id)
        .values(
            price_amount=sa.func.coalesce(lowest, products.c.base_price_amount),
            available=sa.func.coalesce(available, 0),
            updated_at=naive_utc(e.timestamp),
            updated_position=r.position,
            **values,
        )
    )


def bought(conn: Connection, tables: Tables, variant_ids: list[UUID]) -> list[dict[str, Any]]:
    """The variants a reviewer bought, as a review shows them: [{id, sku, options}]."""
    if not variant_ids:
        return []
    v = tables.product_variants
    rows = conn.execute(
        sa.select(v.c.variant_id, v.c.sku, v.c.options).where(
            v.c.variant_id.in_([str(i) for i in variant_ids])
        )
    )
    found = {r.variant_id: r for r in rows}
    return [
        {"id": str(i), "sku": found[str(i)].sku, "options": dict(found[str(i)].options or {})}
        for i in variant_ids
        if str(i) in found
    ]


def _insert(conn: Connection, tables: Tables, e: Any, r: RecordedEvent, **values: Any) -> None:
    conn.execute(
        tables.product_variants.insert().values(
            tenant_id=str(e.tenant_id),
            product_id=str(e.originator_id),
            retired=False,
            on_hand=0,
            held=0,
            sold=0,
            created_position=r.position,
            **values,
        )
    )
