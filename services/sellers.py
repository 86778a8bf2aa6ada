"""The sellers application: onboarding and moderation of a tenant's sellers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from domain.sellers import Seller, SellerAlreadyExists, SellerNotFound
from eventstore.application import CommandResult, VeloraApplication, command
from eventstore.context import CommandContext


@dataclass(frozen=True)
class Changed:
    result: CommandResult
    status: str


class SellerApplication(VeloraApplication):
    name = "sellers"

    @command
    def register_seller(
        self,
        ctx: CommandContext,
        *,
        tenant_id: UUID,
        user_id: UUID,
        display_name: str,
        country: str,
    ) -> CommandResult:
        seller = Seller.register(tenant_id, user_id, display_name, country)
        try:
            return CommandResult(seller.id, self.record(ctx, seller))
        except IntegrityError:
            raise SellerAlreadyExists("this user already has a seller profile") from None

    @command
    def approve(self, ctx: CommandContext, seller_id: UUID, within: UUID | None) -> Changed:
        return self._change(ctx, seller_id, within, Seller.approve)

    @command
    def reject(self, ctx: CommandContext, seller_id: UUID, within: UUID | None) -> Changed:
        return self._change(ctx, seller_id, within, Seller.reject)

    @command
    def suspend(self, ctx: CommandContext, seller_id: UUID, within: UUID | None) -> Changed:
        return self._change(ctx, seller_id, within, Seller.suspend)

    @command
    def set_commission(
        self, ctx: CommandContext, seller_id: UUID, within: UUID | None, commission_bps: int | None
    ) -> Changed:
        return self._change(
            ctx, seller_id, within, lambda seller: seller.set_commission(commission_bps)
        )

    @command
    def set_payout_account(
        self,
        ctx: CommandContext,
        seller_id: UUID,
        within: UUID | None,
        account_id: str,
        *,
        by_itself: bool = False,
    ) -> Changed:
        """Names where payouts go: by its admin, or by the seller itself while it may act (a
        suspended seller cannot redirect what it is owed)."""

        def change(seller: Seller) -> None:
            if by_itself:
                seller.require_acting()
            seller.set_payout_account(account_id)

        return self._change(ctx, seller_id, within, change)

    def _change(
        self,
        ctx: CommandContext,
        seller_id: UUID,
        within: UUID | None,
        command: Callable[[Seller], None],
    ) -> Changed:
        seller = self.load(Seller, seller_id, within, SellerNotFound)
        command(seller)
        return Changed(CommandResult(seller.id, self.record(ctx, seller)), seller.status)
