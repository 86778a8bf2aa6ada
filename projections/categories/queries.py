"""Reads a tenant's category tree within a tenant scope, with how many products name each
category."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.names import name_key
from projections.catalog.tables import products
from projections.categories.tables import categories
from projections.scope import TenantScope
from projections.store import ReadStore, zoned


def _counted_by_name(conn: Connection, *where: Any) -> dict[str, int]:
    """How many products name each category, by `name_key`, among the products `where` picks.

    Names are compared in Python: SQL's lower() lowers only ASCII on SQLite ("Éclairs" never
    met "éclairs"), and MariaDB's default collation ignores accents ("Eclairs" met "Éclairs").
    So the products are grouped by their category's exact bytes (a binary collation on MariaDB;
    SQLite compares bytes already) and the few distinct names are keyed here."""
    exact = products.c.category
    if conn.dialect.name in ("mysql", "mariadb"):
        exact = sa.collate(exact, "utf8mb4_bin")  # type: ignore[assignment]
    query = sa.select(exact, sa.func.count()).where(*where).group_by(exact)
    counted: dict[str, int] = {}
    for category, count in conn.execute(query):
        key = name_key(str(category))
        counted[key] = counted.get(key, 0) + int(count)
    return counted


def _node(row: dict[str, Any], products_in: dict[str, int]) -> dict[str, Any]:
    return {
        "id": row["category_id"],
        "name": row["name"],
        "parent_id": row["parent_id"],
        "products": products_in.get(name_key(row["name"]), 0),
        "created_at": zoned(row["created_at"]),
        "children": [],
    }


class CategoryQueries:
    """Reads a tenant's category tree, within the caller's TenantScope."""

    def __init__(self, store: ReadStore) -> None:
        self.store = store

    def tree(self, scope: TenantScope, tenant_id: str) -> list[dict[str, Any]]:
        """The tenant's categories as a tree, each level by name, with how many of its products
        buyers can find in each (not counting subcategories)."""
        scope = scope.narrowed_to(tenant_id)
        with self.store.read() as conn:
            rows = [dict(r._mapping) for r in conn.execute(scope.select(categories))]
            products_in = _counted_by_name(
                conn,
                products.c.tenant_id.in_(sorted(scope.tenant_ids or ())),
                products.c.status == "active",
                products.c.seller_status == "approved",
            )
        nodes = {row["category_id"]: _node(row, products_in) for row in rows}
        roots: list[dict[str, Any]] = []
        for node in sorted(nodes.values(), key=lambda n: (n["name"].casefold(), n["id"])):
            parent = nodes.get(node["parent_id"]) if node["parent_id"] else None
            (parent["children"] if parent is not None else roots).append(node)
        return roots

    def category(self, scope: TenantScope, category_id: str) -> dict[str, Any] | None:
        row = self.store.one(scope, categories, categories.c.category_id == category_id)
        if row is None:
            return None
        return {
            "id": row["category_id"],
            "tenant_id": row["tenant_id"],
            "name": row["name"],
            "parent_id": row["parent_id"],
            "created_at": zoned(row["created_at"]),
            "updated_at": zoned(row["updated_at"]),
        }

    def products_named(self, tenant_id: object, name: str) -> int:
        """How many of the tenant's products, whatever their status, name this category."""
        with self.store.read() as conn:
            counted = _counted_by_name(conn, products.c.tenant_id == str(tenant_id))
        return counted.get(name_key(name), 0)
