"""How Velora writes a moment as text, wherever it does (JSON, CSV, the audit trail, CloudEvents):
RFC 3339 in UTC with a `Z`, to the microsecond when there is one, e.g.
`2026-12-07T00:02:37.444641Z`. A naive value is UTC already (read models keep naive UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any


def rfc3339(moment: datetime) -> str:
    utc = moment.astimezone(UTC) if moment.tzinfo is not None else moment
    return utc.replace(tzinfo=None).isoformat() + "Z"


def as_text(value: Any) -> Any:
    """A value for a text format: moments as RFC 3339, days as ISO dates, the rest as str."""
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, date):
        return value.isoformat()
    return value if value is None or isinstance(value, str | int | float) else str(value)
