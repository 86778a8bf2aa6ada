"""A Seller Pro organisation's master catalog (domain/master_catalog.py): master products and
their one stock, published to marketplaces as listings and withdrawn from them. A mixin of
`CatalogApplication`, whose rules for listing a product (moderation, categories, plan limits,
sku claims) a listing goes through as any product does."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any
from uuid import UUID, uuid4

from domain.base import PLATFORM_TENANT_ID
from domain.catalog import Product, SkuClaim, VariantRef
from domain.errors import DomainError
from domain.identity import Tenant, TenantNotFound
from domain.inventory import Stock
from domain.listing import InvalidProduct, ProductNotFound
from domain.master_catalog import MasterProduct, MasterProductNotFound
from domain.money import Money
from domain.organisations import Organisation, OrganisationNotFound
from domain.plans import product_limit_reached
from domain.sellers import Seller, SellerNotFound
from domain.variants import InvalidVariant, NewVariant
from eventstore.application import CommandResult, command
from eventstore.context import CommandContext
from services.master_images import MasterImageCommands
from services.variants import VariantCommands


class MasterCatalogCommands(MasterImageCommands, VariantCommands):
    # CatalogApplication's, which every listing goes through.
    def _category(self, tenant_id: UUID, category: str) -> str:
        raise NotImplementedError

    def _moderation_required(self, tenant_id: UUID) -> bool:
        raise NotImplementedError

    _products_of: Callable[[UUID, UUID], int]

    @command
    def create_master(
        self, ctx: CommandContext, organisation_id: UUID, fields: Mapping[str, Any]
    ) -> MasterProduct:
        """A master product of the organisation, each of its variants with its one stock (none
        on hand yet); its skus are the organisation's (422 for one it uses already)."""
        self.load(Organisation, organisation_id, PLATFORM_TENANT_ID, OrganisationNotFound)
        master = MasterProduct.create(organisation_id, **fields)
        claims = []
        for sku in master.skus:
            claim = SkuClaim(
                tenant_id=PLATFORM_TENANT_ID,
                seller_id=organisation_id,
                sku_key=sku.lower(),
                product_id=master.id,
            )
            if self.get_or_none(claim.id) is not None:
                raise InvalidVariant(f"sku {sku!r} is another of the organisation's products'")
            claims.append(claim)
        stocks = [
            Stock(
                tenant_id=PLATFORM_TENANT_ID,
                product_id=master.id,
                seller_id=organisation_id,
                variant_id=variant_id,
            )
            for variant_id in master.variant_ids
        ]
        self.record(ctx, master, *claims, *stocks)
        return master

    @command
    def set_master_stock(
        self,
        ctx: CommandContext,
        organisation_id: UUID,
        master_id: UUID,
        variant_id: UUID,
        warehouse: str,
        on_hand: int,
    ) -> tuple[CommandResult, int]:
        """Sets the on-hand count of one of the organisation's warehouses for a variant: the
        stock every listing of it sells from."""
        master = self.master(organisation_id, master_id)
        if not master.has_variant(variant_id):
            raise ProductNotFound(f"variant {variant_id} not found")
        stock: Stock = self.repository.get(Stock.create_id(variant_id))
        stock.set_on_hand(warehouse, on_hand)
        return CommandResult(variant_id, self.record(ctx, stock)), stock.available

    @command
    def publish(
        self,
        ctx: CommandContext,
        organisation_id: UUID,
        master_id: UUID,
        marketplace_id: UUID,
        price: Money,
        category: str | None,
        variant_prices: Mapping[UUID, Money],
    ) -> tuple[CommandResult, str]:
        """Lists a master product on a marketplace the organisation joined, as a product of its
        seller there (moderated, categorised and counted against its plan as any listing),
        whose variants sell from the organisation's stock. Answers the listing's status."""

        def attempt() -> tuple[CommandResult, str]:
            master = self.master(organisation_id, master_id)
            organisation = self.load(
                Organisation, organisation_id, PLATFORM_TENANT_ID, OrganisationNotFound
            )
            seller = self.load(
                Seller, organisation.seller_in(marketplace_id), marketplace_id, SellerNotFound
            )
            tenant = self.load(Tenant, marketplace_id, marketplace_id, TenantNotFound, reading=True)
            if price.currency != tenant.currency:
                raise InvalidProduct(f"a listing there is priced in {tenant.currency}")
            unknown = set(variant_prices) - set(master.variant_ids)
            if unknown:
                raise InvalidVariant(f"variant {sorted(map(str, unknown))[0]} is not the master's")
            product, mapping = self._listing(master, seller, price, category, variant_prices)
            product.share_stock(organisation_id, master.id, mapping)
            master.publish(marketplace_id, product.id)
            claims = [self._claim(product, sku) for sku in master.skus]
            refs = [VariantRef.of(product, v) for v in mapping if v != product.id]
            counted = []
            if seller.plan is not None and seller.plan.product_limit is not None:
                product_limit_reached(seller, self._products_of(seller.tenant_id, seller.id))
                seller.count_listing(product.id)
                counted.append(seller)
            copied = self.show_master_images(master, product)
            try:
                position = self.record(ctx, product, master, *claims, *refs, *counted)
            except DomainError:
                self._forget(copied)
                raise
            return CommandResult(product.id, position), product.status

        return self.retrying(attempt, "too many listings at once by this seller; try again")

    @command
    def edit_master(
        self,
        ctx: CommandContext,
        organisation_id: UUID,
        master_id: UUID,
        edit: Mapping[str, Any],
    ) -> CommandResult:
        """Edits the master's text: its title and description flow to every listing in the
        same save, each as a seller's edit there (waiting for approval where the marketplace
        moderates); its category and attributes are what listings published later take."""

        def attempt() -> CommandResult:
            master = self.master(organisation_id, master_id)
            master.edit(**edit)
            flowed = {k: edit[k] for k in ("title", "description") if edit.get(k) is not None}
            listings = []
            for marketplace, product_id in sorted(master.listings.items()):
                product: Product = self.repository.get(UUID(product_id))
                if flowed:
                    product.edit(
                        **flowed, moderation_required=self._moderation_required(UUID(marketplace))
                    )
                listings.append(product)
            return CommandResult(master.id, self.record(ctx, master, *listings))

        return self.retrying(attempt, "too many concurrent changes to this product")

    @command
    def withdraw(
        self, ctx: CommandContext, organisation_id: UUID, master_id: UUID, marketplace_id: UUID
    ) -> CommandResult:
        """Withdraws the master's listing from one marketplace; its orders keep it."""
        master = self.master(organisation_id, master_id)
        product: Product = self.repository.get(master.withdraw(marketplace_id))
        product.withdraw()
        return CommandResult(product.id, self.record(ctx, master, product))

    def master(self, organisation_id: UUID, master_id: UUID) -> MasterProduct:
        """One of the organisation's master products; anyone else's is 404, as unknown."""
        master = self.load(MasterProduct, master_id, PLATFORM_TENANT_ID, MasterProductNotFound)
        if master.organisation_id != organisation_id:
            raise MasterProductNotFound(f"product {master_id} not found")
        return master

    def _listing(
        self,
        master: MasterProduct,
        seller: Seller,
        price: Money,
        category: str | None,
        variant_prices: Mapping[UUID, Money],
    ) -> tuple[Product, dict[UUID, UUID]]:
        """The master as a new product of the seller's marketplace, and which master variant
        each of its variants is."""
        made: Sequence[NewVariant] = [
            NewVariant(
                uuid4(),
                v["sku"],
                v["options"],
                variant_prices.get(UUID(v["variant_id"])),
            )
            for v in master.variants
        ]
        product = Product.list(
            seller,
            sku=master.sku,
            title=master.title,
            description=master.description,
            category=self._category(seller.tenant_id, category or master.category),
            price=price,
            attributes=dict(master.attributes),
            moderation_required=self._moderation_required(seller.tenant_id),
            options=master.options,
            variants=made,
        )
        if not made:
            return product, {product.id: master.id}
        return product, {
            new.id: UUID(v["variant_id"]) for new, v in zip(made, master.variants, strict=True)
        }
