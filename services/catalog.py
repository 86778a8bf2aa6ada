"""The catalog application: listing, moderation, edits and stock of products."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from domain.catalog import Product, ProductNotFound, SkuClaim, SkuTaken
from domain.identity import ProductModeration, Tenant, TenantNotFound
from domain.inventory import Stock
from domain.money import Money
from domain.sellers import Seller, SellerNotFound
from eventstore.application import CommandResult, VeloraApplication, command
from eventstore.context import CommandContext


@dataclass(frozen=True)
class ProductEdit:
    title: str | None = None
    description: str | None = None
    category: str | None = None
    price: Money | None = None


class CatalogApplication(VeloraApplication):
    name = "catalog"

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
    ) -> tuple[CommandResult, str]:
        seller = self.load(Seller, seller_id, within, SellerNotFound)
        product = Product.list(
            seller,
            sku=sku,
            title=title,
            description=description,
            category=category,
            price=price,
            attributes=attributes,
            moderation_required=self._moderation_required(seller.tenant_id),
        )
        stock = Stock(tenant_id=product.tenant_id, product_id=product.id, seller_id=seller.id)
        try:
            position = self.record(ctx, product, SkuClaim.claim(product), stock)
        except IntegrityError:
            raise SkuTaken(f"sku {product.sku!r} is already in this seller's catalog") from None
        return CommandResult(product.id, position), product.status

    @command
    def approve(
        self, ctx: CommandContext, product_id: UUID, within: UUID | None
    ) -> tuple[CommandResult, str]:
        product = self.load(Product, product_id, within, ProductNotFound)
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
    ) -> tuple[CommandResult, str]:
        product = self._owned(product_id, seller_id)
        product.edit(
            title=edit.title,
            description=edit.description,
            category=edit.category,
            price=edit.price,
            moderation_required=self._moderation_required(product.tenant_id),
        )
        return CommandResult(product.id, self.record(ctx, product)), product.status

    @command
    def set_stock(
        self, ctx: CommandContext, product_id: UUID, seller_id: UUID, warehouse: str, on_hand: int
    ) -> tuple[CommandResult, int]:
        product = self._owned(product_id, seller_id)
        stock: Stock = self.repository.get(Stock.create_id(product.id))
        stock.set_on_hand(warehouse, on_hand)
        return CommandResult(product.id, self.record(ctx, stock)), stock.available

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

    def _owned(self, product_id: UUID, seller_id: UUID) -> Product:
        """A seller's own product; anyone else's answers exactly like an unknown one."""
        product = self.load(Product, product_id, None, ProductNotFound)
        if product.seller_id != seller_id:
            raise ProductNotFound(f"product {product_id} not found")
        self.require_acting(seller_id)
        return product

    def _moderation_required(self, tenant_id: UUID) -> bool:
        tenant = self.load(Tenant, tenant_id, tenant_id, TenantNotFound)
        return bool(tenant.product_moderation == ProductModeration.REQUIRED)
