"""The organisations projector: each organisation, and the marketplaces it applied to (whose
seller's status the sellers table keeps)."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.master_catalog import MasterProduct
from domain.organisations import Organisation
from eventstore.mapper import RecordedEvent
from projections.images import reordered, with_image, without_image
from projections.projector import Projector
from projections.store import naive_utc


class OrganisationsProjector(Projector):
    name = "organisations"
    writes = ("organisations", "organisation_marketplaces", "master_products", "master_listings")

    @singledispatchmethod
    def apply(self, event: Any, conn: Connection, recorded: RecordedEvent) -> None:
        """Other events do not touch organisations."""

    @apply.register
    def _founded(self, e: Organisation.Founded, conn: Connection, r: RecordedEvent) -> None:
        conn.execute(
            self.tables.organisations.insert().values(
                organisation_id=str(e.originator_id),
                tenant_id=str(e.tenant_id),
                owner_id=str(e.owner_id),
                name=e.name,
                created_at=naive_utc(e.timestamp),
                created_position=r.position,
            )
        )

    @apply.register
    def _joined(
        self, e: Organisation.MarketplaceJoined, conn: Connection, r: RecordedEvent
    ) -> None:
        conn.execute(
            self.tables.organisation_marketplaces.insert().values(
                organisation_id=str(e.originator_id),
                tenant_id=str(e.marketplace_id),
                seller_id=str(e.seller_id),
                joined_at=naive_utc(e.timestamp),
                created_position=r.position,
            )
        )

    @apply.register
    def _master(self, e: MasterProduct.Created, conn: Connection, r: RecordedEvent) -> None:
        conn.execute(
            self.tables.master_products.insert().values(
                product_id=str(e.originator_id),
                tenant_id=str(e.tenant_id),
                organisation_id=str(e.organisation_id),
                sku=e.sku,
                title=e.title,
                description=e.description,
                category=e.category,
                attributes=dict(e.attributes),
                options=list(e.options),
                variants=list(e.variants),
                created_position=r.position,
            )
        )

    @apply.register
    def _master_edited(self, e: MasterProduct.Edited, conn: Connection, r: RecordedEvent) -> None:
        t = self.tables.master_products
        conn.execute(
            t.update()
            .where(t.c.product_id == str(e.originator_id))
            .values(
                title=e.title,
                description=e.description,
                category=e.category,
                attributes=dict(e.attributes),
            )
        )

    @apply.register
    def _published(self, e: MasterProduct.Published, conn: Connection, r: RecordedEvent) -> None:
        conn.execute(
            self.tables.master_listings.insert().values(
                master_id=str(e.originator_id),
                tenant_id=str(e.marketplace_id),
                product_id=str(e.product_id),
                created_position=r.position,
            )
        )

    @apply.register
    def _withdrawn(self, e: MasterProduct.Withdrawn, conn: Connection, r: RecordedEvent) -> None:
        t = self.tables.master_listings
        conn.execute(
            t.delete().where(
                t.c.master_id == str(e.originator_id), t.c.tenant_id == str(e.marketplace_id)
            )
        )

    @apply.register
    def _image_added(self, e: MasterProduct.ImageAdded, conn: Connection, r: RecordedEvent) -> None:
        self._set_images(conn, e.originator_id, with_image(self._images(conn, e.originator_id), e))

    @apply.register
    def _image_removed(
        self, e: MasterProduct.ImageRemoved, conn: Connection, r: RecordedEvent
    ) -> None:
        kept = without_image(self._images(conn, e.originator_id), e.image_id)
        self._set_images(conn, e.originator_id, kept)

    @apply.register
    def _images_reordered(
        self, e: MasterProduct.ImagesReordered, conn: Connection, r: RecordedEvent
    ) -> None:
        ordered = reordered(self._images(conn, e.originator_id), e.image_ids)
        self._set_images(conn, e.originator_id, ordered)

    def _images(self, conn: Connection, master_id: UUID) -> list[dict[str, Any]]:
        t = self.tables.master_products
        found = conn.execute(sa.select(t.c.images).where(t.c.product_id == str(master_id)))
        return list(found.scalar() or [])

    def _set_images(self, conn: Connection, master_id: UUID, images: list[dict[str, Any]]) -> None:
        t = self.tables.master_products
        conn.execute(t.update().where(t.c.product_id == str(master_id)).values(images=images))
