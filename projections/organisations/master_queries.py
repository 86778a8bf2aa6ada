"""Reads an organisation's master catalog: each master product with its variants, the one stock
of each (what the organisation holds, and what buyers can take), and where it is listed, with
the listing's status and price there."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.money import money_json
from projections.catalog.tables import organisation_stocks, products
from projections.organisations.tables import master_listings, master_products
from projections.scope import TenantScope
from projections.store import Page, ReadStore, decode_cursor, encode_cursor


class MasterCatalogQueries:
    def __init__(self, store: ReadStore) -> None:
        self.store = store

    def products(
        self, scope: TenantScope, organisation_id: str, *, limit: int, cursor: str | None
    ) -> Page:
        """The organisation's master products, oldest first."""
        m = master_products
        stmt = (
            scope.select(
                m,
                m.c.organisation_id == organisation_id,
                m.c.created_position > decode_cursor(cursor),
            )
            .order_by(m.c.created_position)
            .limit(limit + 1)
        )
        with self.store.read() as conn:
            rows = [dict(r._mapping) for r in conn.execute(stmt)]
            more = len(rows) > limit
            rows = rows[:limit]
            items = _shown(conn, rows)
        return Page(items, encode_cursor(rows[-1]["created_position"]) if more else None)

    def product(
        self, scope: TenantScope, organisation_id: str, product_id: str
    ) -> dict[str, Any] | None:
        m = master_products
        stmt = scope.select(m, m.c.organisation_id == organisation_id, m.c.product_id == product_id)
        with self.store.read() as conn:
            rows = [dict(r._mapping) for r in conn.execute(stmt)]
            return _shown(conn, rows)[0] if rows else None


def _shown(conn: Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Master rows as the API shows them, with their stock and listings (the organisation's
    own rows in each marketplace, reached through its master products)."""
    ids = [r["product_id"] for r in rows]
    variant_ids = [v for r in rows for v in _variant_ids(r)]
    s, listed, p = organisation_stocks, master_listings, products
    stocks = {
        row.variant_id: row
        for row in conn.execute(sa.select(s).where(s.c.variant_id.in_(variant_ids)))
    }
    listings: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
    found = conn.execute(
        sa.select(listed.c.master_id, listed.c.tenant_id, listed.c.product_id, p.c.status)
        .add_columns(p.c.base_price_amount, p.c.currency)
        .join(p, p.c.product_id == listed.c.product_id)
        .where(listed.c.master_id.in_(ids))
        .order_by(listed.c.created_position)
    )
    for row in found:
        listings[row.master_id].append(
            {
                "tenant_id": row.tenant_id,
                "product_id": row.product_id,
                "status": row.status,
                "price": money_json(row.base_price_amount, row.currency),
            }
        )
    return [
        {
            "id": r["product_id"],
            "sku": r["sku"],
            "title": r["title"],
            "description": r["description"],
            "category": r["category"],
            "attributes": r["attributes"] or {},
            "options": r["options"] or [],
            "variants": [_variant(r, v, stocks.get(v)) for v in _variant_ids(r)],
            "listings": listings[r["product_id"]],
            "images": r["images"] or [],
        }
        for r in rows
    ]


def _variant_ids(row: dict[str, Any]) -> list[str]:
    return [v["variant_id"] for v in row["variants"] or []] or [row["product_id"]]


def _variant(row: dict[str, Any], variant_id: str, stock: Any) -> dict[str, Any]:
    own = {v["variant_id"]: v for v in row["variants"] or []}.get(variant_id)
    on_hand, held, sold = (stock.on_hand, stock.held, stock.sold) if stock else (0, 0, 0)
    return {
        "id": variant_id,
        "sku": own["sku"] if own else row["sku"],
        "options": own["options"] if own else {},
        "on_hand": on_hand,
        "available": max(0, on_hand - held - sold),
    }
