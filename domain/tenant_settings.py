"""A tenant's settings as values: whether products are moderated, the bounds of its commission
and release delay, and when its sellers are paid out. The `Tenant` aggregate (domain/identity.py)
records them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from domain.errors import DomainError, Invalid


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
