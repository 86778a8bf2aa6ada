"""The categories projector: each tenant's category tree as categories are added, renamed,
moved and removed."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

from sqlalchemy.engine import Connection

from domain.categories import CategoryTree
from eventstore.mapper import RecordedEvent
from projections.projector import Projector
from projections.store import naive_utc


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
