"""A Seller Pro master product's images (docs/api-seller-pro.md): uploaded, removed and
reordered once, on the master, and shown by every listing in the same save. Each listing keeps
its own copy of the bytes under its marketplace's keys, so nothing a tenant stores or shows
lives under another's; the master's own copy, under the platform, is what a listing published
later copies. A mixin of `CatalogApplication`."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from domain.base import PLATFORM_TENANT_ID
from domain.catalog import Product
from domain.errors import DomainError
from domain.master_catalog import MasterProduct, listing_image_id
from eventstore.application import CommandResult, command
from eventstore.context import CommandContext
from services.base import ServiceApplication
from services.media import StoredImages


class MasterImageCommands(StoredImages, ServiceApplication):
    # MasterCatalogCommands'.
    def master(self, organisation_id: UUID, master_id: UUID) -> MasterProduct:
        raise NotImplementedError

    @command
    def add_master_image(
        self, ctx: CommandContext, organisation_id: UUID, master_id: UUID, upload: bytes
    ) -> tuple[CommandResult, dict[str, Any]]:
        """Cleans the upload and shows it last on the master and every listing of it. As for a
        product's image, the bytes are stored before the events, and forgotten when the save
        fails; a listing published while this ran gets its copy on the retry."""
        self.master(organisation_id, master_id).require_room_for_image()
        image, image_id = self._images.clean(upload), uuid4()
        stored = {master_id: self._store(image, PLATFORM_TENANT_ID, master_id, image_id)}

        def attempt() -> CommandResult:
            master = self.master(organisation_id, master_id)
            master.add_image(
                image_id, image.content_type, image.width, image.height, stored[master_id]
            )
            listings = []
            for marketplace, product in self._listings(master):
                shown_as = listing_image_id(product.id, image_id)
                if product.id not in stored:
                    stored[product.id] = self._store(image, marketplace, product.id, shown_as)
                product.add_image(
                    shown_as,
                    image.content_type,
                    image.width,
                    image.height,
                    stored[product.id],
                )
                listings.append(product)
            return CommandResult(image_id, self.record(ctx, master, *listings))

        try:
            result = self.retrying(attempt, "too many concurrent changes to this product")
        except DomainError:
            self._forget(key for keys in stored.values() for key in keys.values())
            raise
        return result, {"width": image.width, "height": image.height, "keys": stored[master_id]}

    @command
    def remove_master_image(
        self, ctx: CommandContext, organisation_id: UUID, master_id: UUID, image_id: UUID
    ) -> CommandResult:
        """Stops showing an image on the master and every listing, then deletes their bytes."""

        def attempt() -> tuple[CommandResult, list[str]]:
            master = self.master(organisation_id, master_id)
            gone = list(master.remove_image(image_id).values())
            listings = []
            for _, product in self._listings(master):
                gone += product.remove_image(listing_image_id(product.id, image_id)).values()
                listings.append(product)
            return CommandResult(image_id, self.record(ctx, master, *listings)), gone

        result, gone = self.retrying(attempt, "too many concurrent changes to this product")
        self._forget(gone)
        return result

    @command
    def reorder_master_images(
        self, ctx: CommandContext, organisation_id: UUID, master_id: UUID, image_ids: list[UUID]
    ) -> CommandResult:
        """Puts the master's images in this order, and every listing's in the same."""

        def attempt() -> CommandResult:
            master = self.master(organisation_id, master_id)
            master.reorder_images(image_ids)
            listings = []
            for _, product in self._listings(master):
                product.reorder_images([listing_image_id(product.id, i) for i in image_ids])
                listings.append(product)
            return CommandResult(master.id, self.record(ctx, master, *listings))

        return self.retrying(attempt, "too many concurrent changes to this product")

    def show_master_images(self, master: MasterProduct, product: Product) -> list[str]:
        """Gives a new listing the master's images, in their order, each a copy of the master's
        bytes under the listing's keys; answers the keys copied (to forget if its save fails)."""
        copied: list[str] = []
        for image in master.images:
            keys = self._copy(
                image["keys"],
                image["content_type"],
                product.tenant_id,
                product.id,
                listing_image_id(product.id, image["image_id"]),
            )
            product.add_image(
                listing_image_id(product.id, image["image_id"]),
                image["content_type"],
                image["width"],
                image["height"],
                keys,
            )
            copied += keys.values()
        return copied

    def _listings(self, master: MasterProduct) -> list[tuple[UUID, Product]]:
        """The master's listings now (a withdrawn one keeps the images it had)."""
        return [
            (UUID(marketplace), self.repository.get(UUID(product_id)))
            for marketplace, product_id in sorted(master.listings.items())
        ]
