"""Secrets in events: whatever proves who someone is or opens something on their behalf (a
password's hash, a payment intent's client secret, and later refresh and reset tokens, key
hashes, webhook signing secrets). An event class names its secret fields:

    secret: ClassVar[frozenset[str]] = frozenset({"password_hash"})

That declaration is the one place a secret is marked. The write side stores and reads secrets as
they are (signing in checks the hash), but they never leave it: whatever shows events or state
to a person, the audit trail's history, its as-of state and the snapshots it keeps, shows each
secret field as CONCEALED, so a reader sees that a secret was set or changed, never what it is.
An aggregate's mutator therefore only stores a secret, never computes with it, and a secret
field keeps its name across the event's class versions. tests/unit/test_secret_fields.py
refuses any event field whose name says credential and that is neither declared secret nor
known to be harmless."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

CONCEALED = "[secret]"


def secret_fields(event_class: type) -> frozenset[str]:
    """The event class's secret fields (none unless it declares them)."""
    fields: object = getattr(event_class, "secret", frozenset())
    if not isinstance(fields, frozenset):
        # A field named `secret` would hide the declaration: name the field otherwise.
        raise TypeError(f"{event_class.__qualname__}.secret must be a frozenset of field names")
    return fields


def concealed(value: Any) -> Any:
    """What a reader sees of a secret value: that there is one. No value stays no value."""
    return value if value is None or value == "" else CONCEALED


def without_secrets(event_class: type, data: Mapping[str, Any]) -> dict[str, Any]:
    """An event's data with each of its class's secret fields concealed."""
    fields = secret_fields(event_class)
    return {k: concealed(v) if k in fields else v for k, v in data.items()}
