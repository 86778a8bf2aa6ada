"""A tenant's settings: whether products are moderated, the bounds of its commission and release
delay, and when its sellers are paid out, as values; and the commands that change what a
marketplace decides for itself after it is registered (`TenantSettings`: its commission by
category and on shipping, tax, payouts, who bears a lost dispute's fee, the return window,
whether sellers sign themselves up). The `Tenant` aggregate (domain/identity.py) mixes them in
and records the events: its events, and the methods that apply them, stay nested in `Tenant`,
under the topics they are stored under."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from domain.commission import CommissionRules
from domain.disputes import FeePayer
from domain.errors import DomainError, Invalid
from domain.names import nfc
from domain.returns import MAX_WINDOW_DAYS
from domain.tax import TaxTable


class TenantSettingsError(DomainError):
    """Base of the tenant settings' errors (the identity context)."""


class InvalidTenantSettings(TenantSettingsError, Invalid):
    title = "Invalid tenant settings"


class ProductModeration(StrEnum):
    REQUIRED = "required"
    AUTO = "auto"


MAX_COMMISSION_BPS = 10_000
MAX_ESCROW_HOLD_DAYS = 365
PAYOUT_INTERVALS = ("daily", "weekly", "monthly")


@dataclass(frozen=True)
class PayoutSchedule:
    """When the scheduler pays a tenant's sellers: every day, every week on a weekday (1 is
    Monday, ISO 8601), or every month on a day (1-28, so every month has it), UTC. Each period
    is paid once; its name is the run's idempotency key."""

    interval: str
    day: int | None = None

    def __post_init__(self) -> None:
        if self.interval not in PAYOUT_INTERVALS:
            raise InvalidTenantSettings(f"interval must be one of {', '.join(PAYOUT_INTERVALS)}")
        if self.interval == "daily" and self.day is not None:
            raise InvalidTenantSettings("a daily schedule takes no day")
        top = {"weekly": 7, "monthly": 28}.get(self.interval)
        if top is not None and (
            isinstance(self.day, bool) or not isinstance(self.day, int) or not 1 <= self.day <= top
        ):
            raise InvalidTenantSettings(f"a {self.interval} schedule needs a day from 1 to {top}")

    def period_due(self, now: datetime) -> str | None:
        """The period whose payouts are due at `now` (`2026-12-04`, `2026-W49`, `2026-12`), or
        None while this period's day has not come yet."""
        today = now.astimezone(UTC).date()
        if self.interval == "daily":
            return today.isoformat()
        if self.interval == "weekly":
            year, week, weekday = today.isocalendar()
            return f"{year}-W{week:02d}" if weekday >= (self.day or 1) else None
        return f"{today:%Y-%m}" if today.day >= (self.day or 1) else None


class TenantSettings:
    """What a marketplace decides for itself once registered (see the module's docstring): a
    mixin of `Tenant`, which records the events."""

    currency: str
    commission_bps: int
    category_commission: dict[str, int]
    return_window_days: int
    seller_signup: bool
    commission_on_shipping: bool
    dispute_fee_payer: str
    tax_record: dict[str, Any] | None

    if TYPE_CHECKING:  # Tenant's, beside the events they record

        def _tax_set(self, prices_include_tax: bool, rates: list[dict[str, Any]]) -> None: ...

        def _dispute_policy_set(self, fee_payer: str) -> None: ...

        def _return_window_set(self, days: int) -> None: ...

        def _seller_signup_set(self, allowed: bool) -> None: ...

        def _shipping_commission_set(self, taken: bool) -> None: ...

        def _minimum_payout_set(self, amount_minor: int) -> None: ...

        def _payout_schedule_set(self, interval: str, day: int | None) -> None: ...

        def _scheduled_payouts_ran(self, period: str) -> None: ...

        def _category_commission_set(self, category: str, commission_bps: int | None) -> None: ...

    @property
    def tax(self) -> TaxTable:
        """The tax the marketplace collects: its rates, and whether prices include tax."""
        return TaxTable.from_record(self.tax_record)

    def set_tax(self, table: TaxTable) -> None:
        """Replaces the tenant's tax table; orders placed before keep the tax they were placed
        with. Saying what is already so records nothing."""
        record = table.as_record()
        if record != self.tax.as_record():
            self._tax_set(**record)

    def set_dispute_policy(self, fee_payer: str) -> None:
        """Who bears a lost dispute's fee (domain/disputes.py)."""
        if fee_payer not in {p.value for p in FeePayer}:
            raise InvalidTenantSettings("fee_payer must be seller or platform")
        self._dispute_policy_set(fee_payer=fee_payer)

    def set_return_window(self, days: int) -> None:
        """How many days after delivery a buyer may ask to return lines (0: no returns)."""
        if isinstance(days, bool) or not 0 <= days <= MAX_WINDOW_DAYS:
            raise InvalidTenantSettings(f"return_window_days must be 0 to {MAX_WINDOW_DAYS}")
        self._return_window_set(days=days)

    def set_seller_signup(self, allowed: bool) -> None:
        """Whether people may sign themselves up as sellers (true) or only a marketplace admin
        makes seller users (false). Saying what is already so records nothing."""
        if not isinstance(allowed, bool):
            raise InvalidTenantSettings("seller_signup must be true or false")
        if allowed != self.seller_signup:
            self._seller_signup_set(allowed=allowed)

    def set_commission_on_shipping(self, taken: bool) -> None:
        """Whether commission is taken on what buyers pay for shipping, as on the items.
        Saying what is already so records nothing."""
        if not isinstance(taken, bool):
            raise InvalidTenantSettings("commission_on_shipping must be true or false")
        if taken != self.commission_on_shipping:
            self._shipping_commission_set(taken=taken)

    def shipping_commission_bps(self, seller_bps: int | None, discount_bps: int) -> int:
        """The commission rate on a seller's shipping: none unless the tenant takes it, then
        the seller's rate without any product's or category's own."""
        if not self.commission_on_shipping:
            return 0
        return self.commission_rules().rate(
            product_bps=None, category="", seller_bps=seller_bps, discount_bps=discount_bps
        )

    def set_minimum_payout(self, amount_minor: int, currency: str) -> None:
        """Sellers are paid out only once what is available to them reaches this amount."""
        if currency != self.currency:
            raise InvalidTenantSettings(f"the minimum payout must be in {self.currency}")
        if isinstance(amount_minor, bool) or not 0 <= amount_minor <= 10**12:
            raise InvalidTenantSettings("the minimum payout must be 0 to 10^12 minor units")
        self._minimum_payout_set(amount_minor=amount_minor)

    def set_payout_schedule(self, schedule: PayoutSchedule) -> None:
        self._payout_schedule_set(interval=schedule.interval, day=schedule.day)

    def scheduled_payouts_ran(self, period: str) -> bool:
        """Notes that the payouts of `period` were made; False (and nothing recorded) if that
        was noted already."""
        if getattr(self, "payouts_ran_period", None) == period:
            return False
        self._scheduled_payouts_ran(period=period)
        return True

    def set_category_commission(self, category: str, commission_bps: int | None) -> None:
        category = nfc(category.strip())
        if not 1 <= len(category) <= 100:
            raise InvalidTenantSettings("category must have 1 to 100 characters")
        if commission_bps is not None and not 0 <= commission_bps <= MAX_COMMISSION_BPS:
            raise InvalidTenantSettings("commission_bps must be between 0 and 10000")
        self._category_commission_set(category=category, commission_bps=commission_bps)

    def commission_rules(self) -> CommissionRules:
        return CommissionRules(self.commission_bps, dict(self.category_commission))
