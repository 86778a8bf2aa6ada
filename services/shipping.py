"""A seller's shipping rates (domain/shipping.py): added and removed by the seller itself. A
mixin of `SellerApplication`, which owns the sellers."""

from __future__ import annotations

from uuid import UUID, uuid4

from domain.identity import Tenant, TenantNotFound
from domain.money import Money
from domain.sellers import Seller, SellerNotFound
from domain.shipping import RateNotFound, ShippingProfile
from eventstore.application import CommandResult, command
from eventstore.context import CommandContext
from services.base import ServiceApplication


class ShippingCommands(ServiceApplication):
    @command
    def add_shipping_rate(
        self,
        ctx: CommandContext,
        seller_id: UUID,
        *,
        name: str,
        countries: list[str],
        price: Money,
        free_over: Money | None,
        min_days: int,
        max_days: int,
    ) -> CommandResult:
        """Adds a rate to the seller's shipping, in its marketplace's currency."""

        def attempt() -> CommandResult:
            seller = self.load(Seller, seller_id, None, SellerNotFound)
            self.require_acting(seller.id)
            tenant = self.load(Tenant, seller.tenant_id, seller.tenant_id, TenantNotFound)
            profile = self.get_or_none(ShippingProfile.create_id(seller.id))
            if not isinstance(profile, ShippingProfile):
                profile = ShippingProfile(tenant_id=seller.tenant_id, seller_id=seller.id)
            rate_id = uuid4()
            profile.add_rate(
                rate_id,
                name=name,
                countries=countries,
                price=price,
                free_over=free_over,
                min_days=min_days,
                max_days=max_days,
                currency=tenant.currency,
            )
            return CommandResult(rate_id, self.record(ctx, profile))

        added: CommandResult = self.retrying(attempt, "too many changes to these rates at once")
        return added

    @command
    def remove_shipping_rate(
        self, ctx: CommandContext, seller_id: UUID, rate_id: UUID
    ) -> CommandResult:
        """Removes a rate: checkouts from now on cannot choose it; orders keep what they had."""
        seller = self.load(Seller, seller_id, None, SellerNotFound)
        self.require_acting(seller.id)
        profile = self.get_or_none(ShippingProfile.create_id(seller.id))
        if not isinstance(profile, ShippingProfile):
            raise RateNotFound(f"shipping rate {rate_id} not found")
        profile.remove_rate(rate_id)
        return CommandResult(rate_id, self.record(ctx, profile))
