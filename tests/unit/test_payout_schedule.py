"""A payout schedule: which shapes it takes, and which period is due when (UTC)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.tenant_settings import InvalidTenantSettings, PayoutSchedule

WED = datetime(2026, 12, 2, 12, tzinfo=UTC)  # ISO week 49 of 2026


@pytest.mark.parametrize(
    ("interval", "day"),
    [
        ("daily", 1),
        ("weekly", None),
        ("weekly", 0),
        ("weekly", 8),
        ("monthly", None),
        ("monthly", 29),
        ("monthly", True),
        ("hourly", None),
        ("weekly", 2.0),
    ],
)
def test_a_schedule_refuses_what_it_cannot_keep(interval: str, day: object) -> None:
    with pytest.raises(InvalidTenantSettings):
        PayoutSchedule(interval, day)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("schedule", "now", "period"),
    [
        (PayoutSchedule("daily"), WED, "2026-12-02"),
        (
            PayoutSchedule("daily"),
            datetime(2026, 12, 2, 23, 30, tzinfo=timezone(-timedelta(hours=2))),
            "2026-12-03",
        ),
        (PayoutSchedule("weekly", 3), WED, "2026-W49"),
        (PayoutSchedule("weekly", 3), WED - timedelta(days=1), None),  # Tuesday: not yet
        (PayoutSchedule("weekly", 3), WED + timedelta(days=4), "2026-W49"),  # Sunday: still due
        (PayoutSchedule("weekly", 3), WED + timedelta(days=5), None),  # next Monday
        (PayoutSchedule("weekly", 1), datetime(2027, 1, 1, tzinfo=UTC), "2026-W53"),  # ISO year
        (PayoutSchedule("monthly", 5), WED, None),
        (PayoutSchedule("monthly", 5), WED + timedelta(days=3), "2026-12"),
        (PayoutSchedule("monthly", 1), WED, "2026-12"),
        (PayoutSchedule("monthly", 28), datetime(2027, 2, 28, tzinfo=UTC), "2027-02"),
    ],
)
def test_the_period_due(schedule: PayoutSchedule, now: datetime, period: str | None) -> None:
    assert schedule.period_due(now) == period
