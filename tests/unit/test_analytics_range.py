"""How a dashboard's range splits into series points: days, ISO weeks from their Monday,
calendar months; every point the range touches, in order, none twice."""

from __future__ import annotations

from datetime import date

import pytest

from projections.analytics.queries import Range, _through


@pytest.mark.parametrize(
    ("start", "end", "interval", "points"),
    [
        (date(2026, 3, 30), date(2026, 4, 1), "day", ["2026-03-30", "2026-03-31", "2026-04-01"]),
        # Wednesday 2026-12-02 to Tuesday 2026-12-15: its own week's Monday, then two more.
        (date(2026, 12, 2), date(2026, 12, 15), "week", ["2026-11-30", "2026-12-07", "2026-12-14"]),
        # Across a year's end, and a leap February.
        (
            date(2027, 12, 31),
            date(2028, 3, 1),
            "month",
            ["2027-12-01", "2028-01-01", "2028-02-01", "2028-03-01"],
        ),
        (date(2026, 5, 5), date(2026, 5, 5), "month", ["2026-05-01"]),
    ],
)
def test_a_range_has_a_point_per_day_week_or_month_it_touches(
    start: date, end: date, interval: str, points: list[str]
) -> None:
    assert [str(p) for p in Range(start, end, interval).buckets()] == points


def test_every_day_falls_in_one_of_its_ranges_points() -> None:
    period = Range(date(2026, 1, 1), date(2026, 12, 31), "week")
    points = set(period.buckets())
    assert len(points) == 53
    day = period.start
    while day <= period.end:
        assert period.bucket(day) in points
        assert (day - period.bucket(day)).days < 7
        day = date.fromordinal(day.toordinal() + 1)


TODAY = date(2026, 12, 5)


@pytest.mark.parametrize(
    ("day", "month", "days", "sign"),
    [
        # A month's last day: its month's rows alone.
        (date(2026, 1, 31), "2026-01-01", None, 1),
        (date(2028, 2, 29), "2028-02-01", None, 1),
        # Early in a month: the month before, plus the days up to it.
        (date(2026, 3, 4), "2026-02-01", ("2026-03-01", "2026-03-04"), 1),
        # Late in a month: the month, less the days after it.
        (date(2026, 3, 27), "2026-03-01", ("2026-03-28", "2026-03-31"), -1),
        # Today, early in the month: the days after it hold nothing yet, so they are cheaper.
        (TODAY, "2026-12-01", ("2026-12-06", "2026-12-31"), -1),
        # The calendar's own ends.
        (date(1, 1, 5), "0001-01-01", ("0001-01-06", "0001-01-31"), -1),
        (date(9999, 12, 30), "9999-12-01", ("9999-12-31", "9999-12-31"), -1),
    ],
)
def test_a_days_running_totals_are_a_months_rows_and_the_fewer_days_beside_them(
    day: date, month: str, days: tuple[str, str] | None, sign: int
) -> None:
    got_month, got_days, got_sign = _through(day, TODAY)
    assert str(got_month) == month
    assert (tuple(str(d) for d in got_days) if got_days else None) == days
    if days is not None:
        assert got_sign == sign
