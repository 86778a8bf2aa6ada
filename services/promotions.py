"""The promotions application: a marketplace's and its sellers' promotions, made and ended. The
rules are domain/promotions.py's; this loads, calls and saves. Checkout applies them and counts
their uses (services/checkout.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from domain.identity import Tenant, TenantNotFound
from domain.money import Money
from domain.promotions import (
    FundedBy,
    InvalidPromotion,
    Promotion,
    PromotionBook,
    PromotionNotFound,
    Terms,
)
from domain.sellers import Seller, SellerNotFound
from eventstore.application import CommandResult, command
from eventstore.context import CommandContext
from services.base import ServiceApplication


def _in(currency: str, money: Money | None) -> int | None:
    """An amount of the tenant's currency, in minor units."""
    if money is None:
        return None
    if money.currency != currency:
        raise InvalidPromotion(f"a promotion's amounts are in the marketplace's {currency}")
    return money.amount_minor


class PromotionsApplication(ServiceApplication):
    name = "promotions"

    @command
    def create(
        self,
        ctx: CommandContext,
        tenant_id: UUID,
        within: UUID | None,
        *,
        acting_seller: UUID | None,
        created_by: UUID,
        terms: dict[str, Any],
    ) -> CommandResult:
        """Makes a promotion of the tenant's (`within`: the tenant the caller may touch). A
        seller (`acting_seller`) makes only its own, funded by itself; a marketplace admin any.
        A code is the tenant's one running promotion with it (409 while another runs)."""
        tenant = self.load(Tenant, tenant_id, within, TenantNotFound, reading=True)
        if acting_seller is not None:
            self.require_acting(acting_seller)
            if terms.get("funded_by") != FundedBy.SELLER or terms.get("seller_id") not in (
                None,
                acting_seller,
            ):
                raise InvalidPromotion("a seller makes only its own promotions, funded by itself")
            terms = {**terms, "seller_id": acting_seller}
        made = Terms.made(
            currency=tenant.currency,
            amount_minor=_in(tenant.currency, terms.pop("amount", None)),
            min_subtotal_minor=_in(tenant.currency, terms.pop("min_subtotal", None)),
            **terms,
        )
        if made.seller_id is not None:
            seller = self.read_or_none(made.seller_id)
            if not isinstance(seller, Seller) or seller.tenant_id != tenant.id:
                raise SellerNotFound(f"seller {made.seller_id} not found")

        def attempt() -> CommandResult:
            book = self.get_or_none(PromotionBook.create_id(tenant.id))
            if not isinstance(book, PromotionBook):
                book = PromotionBook(tenant_id=tenant.id)
            promotion = Promotion(
                tenant_id=tenant.id, terms=made.as_record(), created_by=created_by
            )
            book.add(promotion)
            return CommandResult(promotion.id, self.record(ctx, promotion, book))

        return self.retrying(attempt, "too many promotions are being made at once; try again")

    @command
    def end(
        self,
        ctx: CommandContext,
        promotion_id: UUID,
        within: UUID | None,
        *,
        acting_seller: UUID | None,
        now: datetime | None = None,
    ) -> CommandResult:
        """Ends a promotion now: no checkout uses it from then on, and its code is free again.
        A seller ends only its own (another's is unknown to it)."""

        def attempt() -> CommandResult:
            promotion = self.load(Promotion, promotion_id, within, PromotionNotFound)
            terms = promotion.terms
            if acting_seller is not None and (
                terms.funded_by != FundedBy.SELLER or terms.seller_id != acting_seller
            ):  # a seller's own are those it funds; the platform's are not its to end
                raise PromotionNotFound(f"promotion {promotion_id} not found")
            self.require_acting(acting_seller)
            book = self.get_or_none(PromotionBook.create_id(promotion.tenant_id))
            promotion.end(now or datetime.now(UTC))
            changed: list[Any] = [promotion]
            if isinstance(book, PromotionBook):
                book.unlist(promotion.id)
                changed.append(book)
            return CommandResult(promotion.id, self.record(ctx, *changed))

        return self.retrying(attempt, "this promotion is changing; try again")
