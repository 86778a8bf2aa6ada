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


@pytest.mark.parametrize(
    ("start", "end", "months", "days"),
    [
        (date(2026, 1, 1), date(2026, 1, 31), ("2026-01-01", "2026-01-01"), []),
        (date(2026, 1, 5), date(2026, 1, 20), None, [("2026-01-05", "2026-01-20")]),
        (
            date(2025, 12, 5),
            date(2026, 12, 4),
            ("2026-01-01", "2026-11-01"),
            [("2025-12-05", "2025-12-31"), ("2026-12-01", "2026-12-04")],
        ),
        (
            date(2028, 1, 31),
            date(2028, 2, 29),
            ("2028-02-01", "2028-02-01"),
            [("2028-01-31", "2028-01-31")],
        ),
    ],
)
def test_a_range_is_its_whole_months_and_the_days_at_its_ends(
    start: date, end: date, months: tuple[str, str] | None, days: list[tuple[str, str]]
) -> None:
    whole, spans = Range(start, end, "day").spans()
    assert (tuple(str(m) for m in whole) if whole else None) == months
    assert [(str(a), str(b)) for a, b in spans] == days
    # Together they cover every day of the range once.
    covered = sum((b - a).days + 1 for a, b in spans)
    if whole:
        first, last = whole
        covered += (Range(first, last, "day").buckets()[-1] - first).days
        covered += (date(last.year + last.month // 12, last.month % 12 + 1, 1) - last).days
    assert covered == (end - start).days + 1
