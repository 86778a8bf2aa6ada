"""Categories: the read model of each tenant's category tree, and its queries."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.categories import CategoryTree
from domain.names import name_key
from eventstore.mapper import RecordedEvent
from projections.catalog.tables import products
from projections.projector import Projector
from projections.schema import Id, Timestamp, metadata
from projections.scope import TenantScope
from projections.store import ReadStore, naive_utc, zoned

categories = sa.Table(
    "categories",
    metadata,
    sa.Column("category_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("parent_id", Id, nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
    sa.Index("ix_categories_tenant", "tenant_id", "created_position"),
)


class CategoriesProjector(Projector):
    name = "categories"
    writes = ("categories",)

    @singledispatchmethod
    def apply(self, event: Any, conn: Connection, recorded: RecordedEvent) -> None:
        """Other events do not touch categories."""

    @apply.register
    def _added(self, e: CategoryTree.Added, conn: Connection, r: RecordedEvent) -> None:
        conn.execute(
            self.tables.categories.insert().values(
                category_id=str(e.category_id),
                tenant_id=str(e.tenant_id),
                name=e.name,
                parent_id=str(e.parent_id) if e.parent_id else None,
                created_at=naive_utc(e.timestamp),
                updated_at=naive_utc(e.timestamp),
                created_position=r.position,
            )
        )

    @apply.register
    def _renamed(self, e: CategoryTree.Renamed, conn: Connection, r: RecordedEvent) -> None:
        self._update(e, conn, name=e.name)

    @apply.register
    def _moved(self, e: CategoryTree.Moved, conn: Connection, r: RecordedEvent) -> None:
        self._update(e, conn, parent_id=str(e.parent_id) if e.parent_id else None)

    @apply.register
    def _removed(self, e: CategoryTree.Removed, conn: Connection, r: RecordedEvent) -> None:
        t = self.tables.categories
        conn.execute(t.delete().where(t.c.category_id == str(e.category_id)))

    def _update(self, e: Any, conn: Connection, **values: Any) -> None:
        t = self.tables.categories
        conn.execute(
            t.update()
            .where(t.c.category_id == str(e.category_id))
            .values(**values, updated_at=naive_utc(e.timestamp))
        )


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
