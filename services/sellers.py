"""The sellers application: onboarding and moderation of a tenant's sellers, and the plans they
subscribe to (domain/plans.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from domain import plans
from domain.identity import Tenant, TenantNotFound
from domain.money import Money
from domain.plans import Billed, Plan, PlanExists, PlanNotFound
from domain.sellers import Seller, SellerAlreadyExists, SellerNotFound
from eventstore.application import CommandResult, command
from eventstore.books import Books
from eventstore.context import CommandContext
from eventstore.log import EventLog
from services.base import ServiceApplication
from services.shipping import ShippingCommands

# How many of a seller's products count against a plan's limit (all but rejected ones), read
# from the catalog model once it has every event recorded so far.
ProductsOf = Callable[[UUID, UUID], int]


@dataclass(frozen=True)
class Changed:
    result: CommandResult
    status: str


@dataclass(frozen=True)
class PlanChange:
    result: CommandResult
    billed: Billed
    seller: Seller


class SellerApplication(ShippingCommands, ServiceApplication):
    name = "sellers"

    def __init__(self, log: EventLog, products_of: ProductsOf, **kwargs: Any) -> None:
        super().__init__(log, **kwargs)
        self._products_of = products_of

    @command
    def register_seller(
        self,
        ctx: CommandContext,
        *,
        tenant_id: UUID,
        user_id: UUID,
        display_name: str,
        country: str,
        acting_for: UUID | None = None,
    ) -> CommandResult:
        seller = Seller.register(tenant_id, user_id, display_name, country, acting_for=acting_for)
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

    @command
    def define_plan(
        self,
        ctx: CommandContext,
        tenant_id: UUID,
        *,
        name: str,
        monthly_fee: Money,
        product_limit: int | None,
        commission_discount_bps: int,
    ) -> CommandResult:
        tenant = self.load(Tenant, tenant_id, tenant_id, TenantNotFound)
        plan = Plan.define(
            tenant.id,
            tenant.currency,
            name=name,
            monthly_fee=monthly_fee,
            product_limit=product_limit,
            commission_discount_bps=commission_discount_bps,
        )
        try:
            return CommandResult(plan.id, self.record(ctx, plan))
        except IntegrityError:
            raise PlanExists(f"this tenant already has a plan named {plan.name!r}") from None

    @command
    def subscribe(
        self, ctx: CommandContext, seller_id: UUID, plan_id: UUID, now: datetime
    ) -> PlanChange:
        """Puts the seller on the plan (or moves it there), charging its balance pro rata."""

        def attempt() -> PlanChange:
            seller = self.load(Seller, seller_id, None, SellerNotFound)
            plan = self.load(Plan, plan_id, seller.tenant_id, PlanNotFound)
            books = Books(self.repository, seller.tenant_id, plan.currency)
            products = self._products_of(seller.tenant_id, seller.id)
            billed = plans.subscribe(books, seller, plan, now, products)
            position = self.record(ctx, seller, *books.changed())
            return PlanChange(CommandResult(seller.id, position), billed, seller)

        return self.retrying(attempt, "too many concurrent changes to this seller; try again")

    @command
    def cancel_plan(self, ctx: CommandContext, seller_id: UUID, now: datetime) -> PlanChange:
        def attempt() -> PlanChange:
            seller = self.load(Seller, seller_id, None, SellerNotFound)
            currency = seller.plan.currency if seller.plan else ""
            books = Books(self.repository, seller.tenant_id, currency)
            billed = plans.cancel(books, seller, now)
            position = self.record(ctx, seller, *books.changed())
            return PlanChange(CommandResult(seller.id, position), billed, seller)

        return self.retrying(attempt, "too many concurrent changes to this seller; try again")

    @command
    def renew_plan(self, ctx: CommandContext, seller_id: UUID, now: datetime) -> int:
        """Charges the months of the seller's plan that began by `now` and are not charged yet;
        returns how many (0 when it is up to date, or has no plan)."""

        def attempt() -> int:
            seller: Seller = self.repository.get(seller_id)
            if seller.plan is None:
                return 0
            books = Books(self.repository, seller.tenant_id, seller.plan.currency)
            renewed = plans.renew(books, seller, now)
            if renewed:
                self.record(ctx, seller, *books.changed())
            return renewed

        return self.retrying(attempt, "too many concurrent changes to this seller")
