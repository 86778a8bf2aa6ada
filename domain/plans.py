"""Seller plans: tenant-defined subscriptions with a monthly fee, a product limit and a discount
on the commission rate that would otherwise apply.

A plan's terms never change once defined, so what a seller subscribed to is what it is charged
(the seller copies the terms when it subscribes). Billing is in advance, by calendar month in UTC,
pro rata to the second:

- Subscribing charges the rest of the current month: fee x seconds left / seconds in the month,
  rounded half to even. Each month after, the whole fee is charged once (the scheduler renews at
  the month's start; every command on the subscription renews first, so a scheduler that was
  down charges late, never twice).
- Changing plan credits the unused part of what the old plan was charged this month and charges
  the new plan's rest of the month; cancelling credits the unused part. A change and a change
  back within one second cost nothing, and a day on the dearer plan costs a day of it.
- A fee is owed to the platform: it goes to the seller's receivable, which the next payout nets
  against what the seller is owed, as a refund charged back after release does. A credit first
  pays down that receivable and adds the rest to the seller's payable.

Each segment (a plan from its start or renewal to the next change) has a number; its charge and
its credit are transfers keyed by seller, month and that number, so however often a command or
the scheduler repeats, a month's fee is recorded once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import TenantAggregate
from domain.commission import BPS_DENOMINATOR
from domain.errors import Conflict, DomainError, Invalid, NotFound
from domain.ledger import Books, Chart
from domain.money import Money, divide_half_even
from domain.names import name_key, nfc
from domain.sellers import Seller, Subscription

MAX_FEE_MINOR = 100_000_000
MAX_PRODUCT_LIMIT = 1_000_000
MAX_PLANS = 100


class PlanError(DomainError):
    """Base of the plans context's errors."""


class PlanNotFound(PlanError, NotFound):
    title = "Plan not found"


class PlanExists(PlanError, Conflict):
    title = "Plan already exists"


class InvalidPlan(PlanError, Invalid):
    title = "Invalid plan"


class OverProductLimit(PlanError, Conflict):
    title = "Over the plan's product limit"


class NotSubscribed(PlanError, Conflict):
    title = "No plan"


class Plan(TenantAggregate):
    class Defined(TenantAggregate.Created):
        name: str
        monthly_fee_minor: int
        currency: str
        product_limit: int | None
        commission_discount_bps: int

    @staticmethod
    def create_id(tenant_id: UUID, name: str) -> UUID:
        """Names are unique per tenant whatever their case or the way their accents are typed:
        the id derives from the name's key (the same as its casefold for a name in NFC, so
        the plans defined before keep theirs)."""
        return uuid5(NAMESPACE_URL, f"velora:plan:{tenant_id}:{name_key(name)}")

    @event(Defined)
    def __init__(
        self,
        tenant_id: UUID,
        name: str,
        monthly_fee_minor: int,
        currency: str,
        product_limit: int | None,
        commission_discount_bps: int,
    ) -> None:
        self.tenant_id = tenant_id
        self.name = name
        self.monthly_fee_minor = monthly_fee_minor
        self.currency = currency
        self.product_limit = product_limit
        self.commission_discount_bps = commission_discount_bps

    @classmethod
    def define(
        cls,
        tenant_id: UUID,
        tenant_currency: str,
        *,
        name: str,
        monthly_fee: Money,
        product_limit: int | None,
        commission_discount_bps: int,
    ) -> Plan:
        name = " ".join(nfc(name).split())
        if not 1 <= len(name) <= 60:
            raise InvalidPlan("a plan's name has 1 to 60 characters")
        if monthly_fee.currency != tenant_currency:
            raise InvalidPlan(f"the monthly fee must be in the tenant's {tenant_currency}")
        if not 0 <= monthly_fee.amount_minor <= MAX_FEE_MINOR:
            raise InvalidPlan(f"the monthly fee is 0 to {MAX_FEE_MINOR} minor units")
        if product_limit is not None and not 0 <= product_limit <= MAX_PRODUCT_LIMIT:
            raise InvalidPlan(f"product_limit is 0 to {MAX_PRODUCT_LIMIT}, or null for none")
        if not 0 <= commission_discount_bps <= BPS_DENOMINATOR:
            raise InvalidPlan("commission_discount_bps is 0 to 10000")
        return cls(
            tenant_id=tenant_id,
            name=name,
            monthly_fee_minor=monthly_fee.amount_minor,
            currency=tenant_currency,
            product_limit=product_limit,
            commission_discount_bps=commission_discount_bps,
        )

    def terms(self) -> Subscription:
        return Subscription(
            plan_id=self.id,
            name=self.name,
            fee_minor=self.monthly_fee_minor,
            currency=self.currency,
            product_limit=self.product_limit,
            discount_bps=self.commission_discount_bps,
        )


def month_of(at: datetime) -> tuple[str, datetime, datetime]:
    """The calendar month (UTC) holding `at`: its key 'YYYY-MM', its start and its end."""
    at = at.astimezone(UTC)
    start = datetime(at.year, at.month, 1, tzinfo=UTC)
    end = datetime(at.year + at.month // 12, at.month % 12 + 1, 1, tzinfo=UTC)
    return f"{at.year:04d}-{at.month:02d}", start, end


def pro_rata(fee_minor: int, start: datetime, end: datetime) -> int:
    """The part of a month's fee for [start, end) within one month, to the second, half even."""
    _, month_start, month_end = month_of(start)
    seconds = int((end - start).total_seconds())
    month = int((month_end - month_start).total_seconds())
    return divide_half_even(fee_minor * seconds, month)


def _key(kind: str, seller: Seller, period: str, segment: int) -> str:
    return f"plan-{kind}:{seller.id}:{period}:{segment}"


def _charge(books: Books, seller: Seller, period: str, segment: int, amount: int) -> None:
    books.transfer(
        _key("fee", seller, period, segment),
        Chart.seller_receivable(seller.id),
        Chart.PLAN_FEES,
        amount,
        kind="plan_fee",
    )


def _credit_unused(books: Books, seller: Seller, now: datetime) -> int:
    """Gives back what the current segment was charged for the time from now to the month's
    end: first against what the seller owes, the rest to what it is owed."""
    plan = seller.plan
    assert plan is not None
    assert plan.started_at is not None
    _, _, end = month_of(plan.started_at)
    used = pro_rata(plan.fee_minor, plan.started_at, max(now, plan.started_at))
    credit = max(0, plan.charged_minor - used) if now < end else 0
    owed = max(0, books.balance(Chart.seller_receivable(seller.id)))
    key = _key("credit", seller, plan.period, seller.plan_segment)
    books.transfer(
        f"{key}:receivable",
        Chart.PLAN_FEES,
        Chart.seller_receivable(seller.id),
        min(credit, owed),
        kind="plan_fee_credit",
    )
    books.transfer(
        f"{key}:payable",
        Chart.PLAN_FEES,
        Chart.seller_payable(seller.id),
        credit - min(credit, owed),
        kind="plan_fee_credit",
    )
    return credit


def renew(books: Books, seller: Seller, now: datetime) -> int:
    """Charges the whole fee for every month that began since the plan was last charged;
    returns how many. A plan subscribed in January and renewed on 1 March pays February and
    March, once each."""
    renewed = 0
    while seller.plan is not None:
        assert seller.plan.started_at is not None
        _, _, end = month_of(seller.plan.started_at)
        if now < end:
            return renewed
        next_period, next_start, _ = month_of(end)
        _charge(books, seller, next_period, seller.plan_segment + 1, seller.plan.fee_minor)
        seller.renew_plan(next_period, next_start, seller.plan.fee_minor)
        renewed += 1
    return renewed


@dataclass(frozen=True)
class Billed:
    charged: int
    credited: int
    currency: str


def subscribe(books: Books, seller: Seller, plan: Plan, now: datetime, products: int) -> Billed:
    """Subscribes the seller to `plan`, or moves it there from its current plan, as of `now`.
    `products` is how many of the seller's products count against a limit (all but rejected
    ones). Choosing the plan it already has changes nothing."""
    seller.require_acting()
    if plan.product_limit is not None and products > plan.product_limit:
        raise OverProductLimit(
            f"the {plan.name} plan allows {plan.product_limit} products; this seller has {products}"
        )
    renew(books, seller, now)
    if seller.plan is not None and seller.plan.plan_id == plan.id:
        return Billed(0, 0, plan.currency)
    credited = _credit_unused(books, seller, now) if seller.plan is not None else 0
    period, _, end = month_of(now)
    charged = pro_rata(plan.monthly_fee_minor, now, end)
    _charge(books, seller, period, seller.plan_segment + 1, charged)
    seller.start_plan(plan.terms(), period, now, charged, credited)
    return Billed(charged, credited, plan.currency)


def cancel(books: Books, seller: Seller, now: datetime) -> Billed:
    """Ends the seller's plan as of `now`, crediting the unused part of this month's fee. A
    suspended seller may leave its plan too: its fees would otherwise run on."""
    renew(books, seller, now)
    if seller.plan is None:
        raise NotSubscribed(f"seller {seller.id} has no plan")
    currency = seller.plan.currency
    credited = _credit_unused(books, seller, now)
    seller.end_plan(now, credited)
    return Billed(0, credited, currency)


def product_limit_reached(seller: Seller, products: int) -> None:
    """Refuses one more product when the seller's plan allows no more than it has."""
    plan = seller.plan
    if plan is not None and plan.product_limit is not None and products >= plan.product_limit:
        raise OverProductLimit(
            f"the {plan.name} plan allows {plan.product_limit} products; change plan to list more"
        )
