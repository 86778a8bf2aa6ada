"""The catalog's commands on variants (domain/variants.py): options, variants added, edited and
retired, and each variant's stock. A mixin of `CatalogApplication`, which owns the products.

A variant is saved with what makes it sellable, in the same save as the product's event: its
`VariantRef` (so a cart line naming only the variant finds its product), the claim of its sku in
the seller's catalog (a sku names one product or variant of a seller), and its own `Stock`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID, uuid4

from domain.catalog import Product, SkuClaim, VariantRef
from domain.inventory import Stock
from domain.listing import ProductNotFound, SkuTaken
from domain.money import Money
from domain.variants import KEEP, Keep, NewVariant, Variant
from eventstore.application import CommandResult, command
from eventstore.context import CommandContext
from services.base import ServiceApplication


def new_variants(raw: Sequence[Mapping[str, Any]]) -> list[NewVariant]:
    """The variants a listing names, each given its id here."""
    return [NewVariant(uuid4(), str(v["sku"]), v["options"], v.get("price")) for v in raw]


class VariantCommands(ServiceApplication):
    def sellable_parts(self, product: Product, variants: Sequence[Variant]) -> list[Any]:
        """What makes each new variant sellable: its ref, its sku's claim and its stock. A sku
        another product or variant of the seller has is 409."""
        parts: list[Any] = []
        for variant in variants:
            parts += [VariantRef.of(product, variant.id), self._claim(product, variant.sku)]
            parts.append(
                Stock(
                    tenant_id=product.tenant_id,
                    product_id=product.id,
                    seller_id=product.seller_id,
                    variant_id=variant.id,
                )
            )
        return parts

    def sellable_variants(self, product_id: UUID) -> list[Variant]:
        """A product's variants on sale, as the log has them (for a product without variants
        of its own: itself)."""
        product = self.load(Product, product_id, None, ProductNotFound, reading=True)
        return list(product.sellable_variants)

    @command
    def set_options(
        self,
        ctx: CommandContext,
        product_id: UUID,
        seller_id: UUID,
        options: Sequence[Mapping[str, Any]],
    ) -> CommandResult:
        product = self._owned(product_id, seller_id)
        product.require_own("variants")
        product.set_options(options)
        return CommandResult(product.id, self.record(ctx, product))

    @command
    def add_variant(
        self,
        ctx: CommandContext,
        product_id: UUID,
        seller_id: UUID,
        *,
        sku: str,
        options: Mapping[str, Any],
        price: Money | None,
    ) -> CommandResult:
        def attempt() -> CommandResult:
            product = self._owned(product_id, seller_id)
            product.require_own("variants")
            variant = product.add_variant(uuid4(), sku=sku, options=options, price=price)
            parts = self.sellable_parts(product, [variant])
            return CommandResult(variant.id, self.record(ctx, product, *parts))

        result: CommandResult = self.retrying(
            attempt, "too many concurrent changes to this product"
        )
        return result

    @command
    def edit_variant(
        self,
        ctx: CommandContext,
        product_id: UUID,
        variant_id: UUID,
        seller_id: UUID,
        *,
        sku: str | None,
        price: Money | Keep | None = KEEP,
    ) -> tuple[CommandResult, Variant]:
        def attempt() -> tuple[CommandResult, Variant]:
            product = self._owned(product_id, seller_id)
            before = product.variant(variant_id).sku
            variant = product.edit_variant(variant_id, sku=sku, price=price)
            claims = (
                [] if variant.sku.lower() == before.lower() else [self._claim(product, variant.sku)]
            )
            return CommandResult(variant.id, self.record(ctx, product, *claims)), variant

        edited: tuple[CommandResult, Variant] = self.retrying(
            attempt, "too many concurrent changes to this product"
        )
        return edited

    @command
    def retire_variant(
        self, ctx: CommandContext, product_id: UUID, variant_id: UUID, seller_id: UUID
    ) -> CommandResult:
        product = self._owned(product_id, seller_id)
        product.require_own("variants")
        product.retire_variant(variant_id)
        return CommandResult(variant_id, self.record(ctx, product))

    @command
    def set_variant_stock(
        self,
        ctx: CommandContext,
        product_id: UUID,
        variant_id: UUID,
        seller_id: UUID,
        warehouse: str,
        on_hand: int,
    ) -> tuple[CommandResult, int]:
        product = self._owned(product_id, seller_id)
        product.require_own("stock")
        variant = product.variant(variant_id)
        stock: Stock = self.repository.get(Stock.create_id(variant.id))
        stock.set_on_hand(warehouse, on_hand)
        return CommandResult(variant.id, self.record(ctx, stock)), stock.available

    def _owned(self, product_id: UUID, seller_id: UUID) -> Product:
        """A seller's own product; anyone else's answers exactly like an unknown one."""
        product = self.load(Product, product_id, None, ProductNotFound)
        if product.seller_id != seller_id:
            raise ProductNotFound(f"product {product_id} not found")
        self.require_acting(seller_id)
        return product

    def _claim(self, product: Product, sku: str) -> SkuClaim:
        claim = SkuClaim.claim(product, sku)
        if self.get_or_none(claim.id) is not None:
            raise SkuTaken(f"sku {sku!r} is already in this seller's catalog")
        return claim
