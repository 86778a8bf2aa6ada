"""CloudEvents 1.0 in structured mode: how an integration event travels to other systems. The
record's value is one JSON object holding the CloudEvents attributes and the event's data, and
its content type names the format (docs/events.md, "The envelope").

The relay is given this envelope (eventstore/relay.py, `Envelope`); the facts it wraps are
eventstore/integration.py's, and stay the same whatever carries them."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from eventstore.integration import SCHEMA_VERSION, IntegrationEvent

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"


def cloudevent(event: IntegrationEvent) -> dict[str, Any]:
    """The event as a CloudEvents 1.0 structured-mode JSON object."""
    return {
        "specversion": SPEC_VERSION,
        "id": str(event.id),
        "source": f"urn:velora:tenant:{event.tenant_id}",
        "type": event.type,
        "subject": str(event.key),
        "time": event.time.isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
        "dataschema": f"urn:velora:events:{event.type}:v{SCHEMA_VERSION}",
        "tenantid": str(event.tenant_id),
        "sequence": f"{event.position:020d}",
        "data": event.data,
    }


def _json_value(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    raise TypeError(f"not JSON: {type(value).__name__}")


class CloudEvents:
    """The relay's envelope: each integration event as a structured-mode CloudEvent."""

    content_type = CONTENT_TYPE

    def encode(self, event: IntegrationEvent) -> bytes:
        return json.dumps(cloudevent(event), default=_json_value, sort_keys=True).encode()
