"""The catalog application: listing, moderation, edits and stock of products."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from domain.catalog import Product
from domain.categories import CategoryTree
from domain.errors import DomainError
from domain.identity import Tenant, TenantNotFound
from domain.inventory import Stock
from domain.listing import ProductNotFound, ProductStatus
from domain.media import BlobStore
from domain.money import Money
from domain.plans import product_limit_reached
from domain.sellers import Seller, SellerNotFound
from domain.tenant_settings import ProductModeration
from eventstore.application import CommandResult, command
from eventstore.context import CommandContext
from eventstore.log import EventLog
from services.base import ServiceApplication
from services.master_catalog import MasterCatalogCommands
from services.media import ImageCleaner
from services.sellers import ProductsOf
from services.variants import VariantCommands, new_variants

log = logging.getLogger("velora.catalog")
PENDING = ProductStatus.PENDING_APPROVAL.value


@dataclass(frozen=True)
class ProductEdit:
    title: str | None = None
    description: str | None = None
    category: str | None = None
    price: Money | None = None


class CatalogApplication(MasterCatalogCommands, VariantCommands, ServiceApplication):
    name = "catalog"

    def __init__(
        self,
        log: EventLog,
        blobs: BlobStore,
        products_of: ProductsOf,
        *,
        image_decodes: int = 2,
        **kwargs: Any,
    ) -> None:
        super().__init__(log, **kwargs)
        self._blobs = blobs
        self._products_of = products_of
        self._images = ImageCleaner(concurrent=image_decodes)

    @command
    def list_product(
        self,
        ctx: CommandContext,
        *,
        seller_id: UUID,
        within: UUID | None,
        sku: str,
        title: str,
        description: str,
        category: str,
        price: Money,
        attributes: dict[str, str],
        options: Sequence[Mapping[str, Any]] = (),
        variants: Sequence[Mapping[str, Any]] = (),
    ) -> tuple[CommandResult, str]:
        """Lists a product, with its options and variants if it has any (each variant made
        sellable in the same save: domain/variants.py). Answers its status."""

        def attempt() -> tuple[CommandResult, str]:
            seller = self.load(Seller, seller_id, within, SellerNotFound)
            product = Product.list(
                seller,
                sku=sku,
                title=title,
                description=description,
                category=self._category(seller.tenant_id, category),
                price=price,
                attributes=attributes,
                moderation_required=self._moderation_required(seller.tenant_id),
                options=options,
                variants=new_variants(variants),
            )
            sellable = list(product.sellable_variants)
            if product.has_variants:
                parts = [self._claim(product, product.sku), *self.sellable_parts(product, sellable)]
            else:
                parts = [
                    self._claim(product, product.sku),
                    Stock(
                        tenant_id=product.tenant_id,
                        product_id=product.id,
                        seller_id=seller.id,
                        variant_id=product.id,
                    ),
                ]
            counted = []
            if seller.plan is not None and seller.plan.product_limit is not None:
                # Counted under the seller's version: a listing racing this one conflicts and
                # is counted again once this one is in the catalog model.
                product_limit_reached(seller, self._products_of(seller.tenant_id, seller.id))
                seller.count_listing(product.id)
                counted.append(seller)
            position = self.record(ctx, product, *parts, *counted)
            return CommandResult(product.id, position), product.status

        # A conflict is a racing listing of the same sku (the next attempt finds its claim) or,
        # on a plan with a limit, another listing by this seller (the next one counts it).
        return self.retrying(attempt, "too many listings at once by this seller; try again")

    @command
    def approve(
        self, ctx: CommandContext, product_id: UUID, within: UUID | None
    ) -> tuple[CommandResult, str]:
        """Approves a new listing, or an active product's pending revision."""
        product = self.load(Product, product_id, within, ProductNotFound)
        if product.revision is not None:
            # The category it names may have been removed while it waited.
            self._category(product.tenant_id, product.revision["category"])
        product.approve()
        return CommandResult(product.id, self.record(ctx, product)), product.status

    @command
    def reject(
        self, ctx: CommandContext, product_id: UUID, within: UUID | None, reason: str
    ) -> tuple[CommandResult, str]:
        product = self.load(Product, product_id, within, ProductNotFound)
        product.reject(reason)
        return CommandResult(product.id, self.record(ctx, product)), product.status

    @command
    def edit(
        self, ctx: CommandContext, product_id: UUID, seller_id: UUID, edit: ProductEdit
    ) -> tuple[CommandResult, str, str | None]:
        """Edits the seller's product; answers its status and its revision's (None when no
        revision waits for moderation)."""
        product = self._owned(product_id, seller_id)
        if (edit.title, edit.description, edit.category) != (None, None, None):
            product.require_own("text")
        product.edit(
            title=edit.title,
            description=edit.description,
            category=(
                self._category(product.tenant_id, edit.category)
                if edit.category is not None
                else None
            ),
            price=edit.price,
            moderation_required=self._moderation_required(product.tenant_id),
        )
        revision = PENDING if product.revision is not None else None
        return CommandResult(product.id, self.record(ctx, product)), product.status, revision

    @command
    def set_stock(
        self, ctx: CommandContext, product_id: UUID, seller_id: UUID, warehouse: str, on_hand: int
    ) -> tuple[CommandResult, int]:
        """The stock of a product without variants (one with variants: 422, set each
        variant's)."""
        product = self._owned(product_id, seller_id)
        product.require_own("stock")
        stock: Stock = self.repository.get(Stock.create_id(product.variant(product.id).id))
        stock.set_on_hand(warehouse, on_hand)
        return CommandResult(product.id, self.record(ctx, stock)), stock.available

    @command
    def set_stock_alert(
        self,
        ctx: CommandContext,
        product_id: UUID,
        seller_id: UUID,
        warehouse: str,
        threshold: int,
    ) -> CommandResult:
        product = self._owned(product_id, seller_id)
        product.require_own("stock")

        def attempt() -> CommandResult:
            stock: Stock = self.repository.get(Stock.create_id(product.variant(product.id).id))
            stock.set_alert(warehouse, threshold)
            return CommandResult(product.id, self.record(ctx, stock))

        return self.retrying(attempt, "too many concurrent changes to this product's stock")

    @command
    def feature(
        self, ctx: CommandContext, product_id: UUID, within: UUID | None, until: datetime
    ) -> CommandResult:
        product = self.load(Product, product_id, within, ProductNotFound)
        product.feature(until, datetime.now(UTC))
        return CommandResult(product.id, self.record(ctx, product))

    @command
    def unfeature(
        self, ctx: CommandContext, product_id: UUID, within: UUID | None
    ) -> CommandResult:
        product = self.load(Product, product_id, within, ProductNotFound)
        product.unfeature()
        return CommandResult(product.id, self.record(ctx, product))

    @command
    def expire_feature(
        self, ctx: CommandContext, product_id: UUID, now: datetime
    ) -> CommandResult | None:
        """Ends the product's feature if its time has come (the scheduler's command)."""
        product = self.load(Product, product_id, None, ProductNotFound)
        if not product.expire_feature(now):
            return None
        return CommandResult(product.id, self.record(ctx, product))

    @command
    def set_commission(
        self,
        ctx: CommandContext,
        product_id: UUID,
        within: UUID | None,
        commission_bps: int | None,
    ) -> CommandResult:
        product = self.load(Product, product_id, within, ProductNotFound)
        product.set_commission(commission_bps)
        return CommandResult(product.id, self.record(ctx, product))

    @command
    def add_image(
        self, ctx: CommandContext, product_id: UUID, seller_id: UUID, upload: bytes
    ) -> tuple[CommandResult, dict[str, Any]]:
        """Cleans the upload, stores its sizes, then shows it as the product's last image. The
        bytes are stored before the event, so no recorded image ever lacks them; a command that
        fails after storing leaves only unreferenced blobs behind. DecodesBusy when this
        process is decoding as many images as it may and none finished in time."""
        product = self._owned(product_id, seller_id)
        product.require_own("images")
        product.require_room_for_image()  # before the work of cleaning and storing
        image, image_id = self._images.clean(upload), uuid4()
        keys = self._store(image, product.tenant_id, product.id, image_id)

        def attempt() -> CommandResult:
            fresh = self._owned(product_id, seller_id)
            fresh.add_image(image_id, image.content_type, image.width, image.height, keys)
            return CommandResult(image_id, self.record(ctx, fresh))

        try:
            result = self.retrying(attempt, "too many concurrent changes to this product")
        except DomainError:
            self._forget(keys.values())
            raise
        return result, {"width": image.width, "height": image.height, "keys": keys}

    @command
    def remove_image(
        self, ctx: CommandContext, product_id: UUID, seller_id: UUID, image_id: UUID
    ) -> CommandResult:
        """Stops showing an image, then deletes its bytes."""
        product = self._owned(product_id, seller_id)
        product.require_own("images")
        keys = product.remove_image(image_id)
        result = CommandResult(image_id, self.record(ctx, product))
        self._forget(keys.values())
        return result

    @command
    def reorder_images(
        self, ctx: CommandContext, product_id: UUID, seller_id: UUID, image_ids: list[UUID]
    ) -> CommandResult:
        product = self._owned(product_id, seller_id)
        product.require_own("images")
        product.reorder_images(image_ids)
        return CommandResult(product.id, self.record(ctx, product))

    def _category(self, tenant_id: UUID, name: str) -> str:
        """The category a product names, as its tenant's tree spells it (any name while the
        tenant has no categories)."""
        tree = self.read_or_none(CategoryTree.create_id(tenant_id))
        return tree.named(name) if isinstance(tree, CategoryTree) else name

    def _moderation_required(self, tenant_id: UUID) -> bool:
        tenant = self.load(Tenant, tenant_id, tenant_id, TenantNotFound)
        return bool(tenant.product_moderation == ProductModeration.REQUIRED)
