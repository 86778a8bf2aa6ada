"""Personal data in events. An event class names its personal fields and, for each, the field
that holds the id of the person it belongs to:

    personal = {"email": "originator_id"}

The event store seals those fields with that person's key before they are stored. Once the
person is erased and the key destroyed, the fields read back as `redacted` leaves them: the same
shape, every text replaced by a marker naming the person's id, which stays unique per person."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

ERASED_PREFIX = "[erased:"


def erased_marker(subject: UUID | str) -> str:
    return f"{ERASED_PREFIX}{subject}]"


def redacted(value: Any, subject: UUID | str) -> Any:
    """What is left of a personal value without its key: its shape, and no content."""
    if isinstance(value, Mapping):
        return {k: redacted(v, subject) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redacted(v, subject) for v in value]
    if value is None or isinstance(value, bool):
        return value
    return erased_marker(subject)


def personal_fields(event_class: type) -> Mapping[str, str]:
    """The event class's personal fields, each with the field naming whose data it is."""
    fields: Mapping[str, str] = getattr(event_class, "personal", {})
    return fields
