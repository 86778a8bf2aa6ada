"""How a dashboard's range splits into series points: days, ISO weeks from their Monday,
calendar months; every point the range touches, in order, none twice."""

from __future__ import annotations

from datetime import date

import pytest

from projections.orders.analytics import Range


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
