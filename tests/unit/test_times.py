"""Every moment Velora writes as text reads the same way (domain/times.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from uuid import UUID

from domain.times import as_text, rfc3339


def test_a_moment_is_written_in_utc_with_a_z() -> None:
    at = datetime(2026, 12, 7, 0, 2, 37, 444641, tzinfo=UTC)
    assert rfc3339(at) == "2026-12-07T00:02:37.444641Z"
    berlin = at.astimezone(timezone(timedelta(hours=1)))
    assert rfc3339(berlin) == "2026-12-07T00:02:37.444641Z"
    assert rfc3339(at.replace(tzinfo=None)) == "2026-12-07T00:02:37.444641Z"  # naive: UTC
    assert rfc3339(datetime(2026, 12, 7, tzinfo=UTC)) == "2026-12-07T00:00:00Z"
    assert datetime.fromisoformat(rfc3339(berlin)) == at


def test_text_formats_get_moments_days_and_the_rest_as_text() -> None:
    assert as_text(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05Z"
    assert as_text(date(2026, 1, 2)) == "2026-01-02"
    assert as_text(None) is None and as_text(7) == 7 and as_text("x") == "x"
    assert as_text(UUID(int=1)) == "00000000-0000-0000-0000-000000000001"
