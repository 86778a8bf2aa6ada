"""Webhooks to other apps: a marketplace's endpoints, which receive its integration events as
signed HTTP requests (API.md v1.2 "Webhooks to other apps", docs/webhooks.md).

**An endpoint** is a URL and the CloudEvents types it wants (`*`: every one). Its events are those
of its own tenant recorded after it was registered and before it was deleted; which ones, and
in which order, is the log's (projections/webhooks/outbox.py). Deleting is for good: a deleted
endpoint receives nothing more, and what was still to be delivered to it is not delivered.

**Its secret** (`whsec_…`) signs every delivery: the receiver checks the HMAC-SHA256 of
`"<unix time>.<body>"` under it. The admin sees it once, in the answer that registered the
endpoint. Velora must keep it, since it signs with it, so the event holds it *sealed* (encrypted
under a key derived from the deployment's signing key, eventstore/sealing.py) in a field declared
secret (domain/secrets.py): the audit trail shows that there is one, and a copy of the log or of
the read models without the signing key reveals nothing.

**Where deliveries may go.** A URL is https, without user or password in it. Its host, once
resolved, must be a public address: never loopback, private, link-local (which holds the clouds'
metadata address), shared, reserved or multicast. Whether an address is public is `is_public`,
the one rule both the registration (a literal address) and every delivery (each address the
name resolves to, looked up again each time) apply. An operator with receivers on its own
network turns the rule off (`VELORA_WEBHOOKS_ALLOW_PRIVATE=true`), which allows http too."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import ClassVar
from urllib.parse import urlsplit
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import TenantAggregate
from domain.errors import Conflict, DomainError, Invalid, NotFound
from domain.names import nfc

SECRET_PREFIX = "whsec_"  # noqa: S105 - what a secret starts with, not one
EVERY_TYPE = "*"
MAX_URL_LENGTH = 2000
MAX_DESCRIPTION_LENGTH = 500
MAX_TYPES = 100


class WebhookError(DomainError):
    """Base of the webhooks context's errors."""


class WebhookEndpointNotFound(WebhookError, NotFound):
    title = "Webhook endpoint not found"


class DeliveryNotFound(WebhookError, NotFound):
    title = "Webhook delivery not found"


class InvalidWebhookUrl(WebhookError, Invalid):
    title = "Invalid webhook URL"
    field = "url"


class UnknownEventType(WebhookError, Invalid):
    title = "Unknown event type"
    field = "events"


class InvalidDescription(WebhookError, Invalid):
    title = "Invalid description"
    field = "description"


class EndpointDeleted(WebhookError, Conflict):
    title = "Webhook endpoint deleted"


def is_public(address: str) -> bool:
    """Whether a delivery may connect to this IP address: only to one on the public internet.
    An IPv4 address written as IPv6 (`::ffff:127.0.0.1`) is judged as the IPv4 one it is."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def endpoint_url(url: str, *, allow_private: bool) -> str:
    """The URL as kept, or InvalidWebhookUrl: absolute, https (http too where private receivers
    are allowed), a host and no credentials; and, unless private receivers are allowed, not a
    literal non-public address or a name that only ever means this machine."""
    kept = url.strip()
    if not kept or len(kept) > MAX_URL_LENGTH:
        raise InvalidWebhookUrl(f"a webhook URL has 1 to {MAX_URL_LENGTH} characters")
    if not kept.isascii() or any(c.isspace() or not c.isprintable() for c in kept):
        raise InvalidWebhookUrl(
            "a webhook URL is printable ASCII without spaces (a host in punycode, a path "
            "percent-encoded)"
        )
    try:
        parts = urlsplit(kept)
        host, _port = parts.hostname, parts.port  # a bad port raises here
    except ValueError:
        raise InvalidWebhookUrl("not a URL") from None
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes:
        raise InvalidWebhookUrl("a webhook URL is https")
    if not host:
        raise InvalidWebhookUrl("a webhook URL names a host")
    if parts.username is not None or parts.password is not None:
        raise InvalidWebhookUrl("a webhook URL holds no user or password")
    if parts.fragment:
        raise InvalidWebhookUrl("a webhook URL has no fragment")
    if not allow_private and _never_public(host):
        raise InvalidWebhookUrl("a webhook URL's host must be a public address")
    return kept


def _never_public(host: str) -> bool:
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith((".localhost", ".local", ".internal")):
        return True
    try:
        ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False  # a name: judged by what it resolves to, at each delivery
    return not is_public(name)


def subscribed_types(types: Iterable[str], known: frozenset[str]) -> tuple[str, ...]:
    """The CloudEvents types an endpoint receives, each once and sorted: `*` alone, or known
    types (those of API.md "Events on Kafka")."""
    wanted = sorted(set(types))
    if not wanted or len(wanted) > MAX_TYPES:
        raise UnknownEventType(f"name 1 to {MAX_TYPES} event types, or {EVERY_TYPE!r}")
    if EVERY_TYPE in wanted:
        if len(wanted) > 1:
            raise UnknownEventType(f"{EVERY_TYPE!r} stands alone: it is every type")
        return (EVERY_TYPE,)
    unknown = [t for t in wanted if t not in known]
    if unknown:
        raise UnknownEventType(f"no event type {', '.join(map(repr, unknown[:5]))}")
    return tuple(wanted)


def description_of(text: str | None) -> str:
    kept = nfc(text or "").strip()
    if len(kept) > MAX_DESCRIPTION_LENGTH:
        raise InvalidDescription(f"a description has at most {MAX_DESCRIPTION_LENGTH} characters")
    return kept


def receives(types: Iterable[str], event_type: str) -> bool:
    """Whether an endpoint subscribed to `types` receives an event of `event_type`."""
    return any(t in (EVERY_TYPE, event_type) for t in types)


class WebhookEndpoint(TenantAggregate):
    """One app's endpoint (see the module's docstring)."""

    class Registered(TenantAggregate.Created):
        secret: ClassVar[frozenset[str]] = frozenset({"sealed_secret"})
        url: str
        events: tuple[str, ...]
        description: str
        sealed_secret: str
        origin: str

    class Deleted(TenantAggregate.Event):
        """The endpoint receives nothing from now on."""

    @staticmethod
    def create_id(tenant_id: UUID, origin: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"velora:webhook-endpoint:{tenant_id}:{origin}")

    @event(Registered)
    def __init__(
        self,
        tenant_id: UUID,
        url: str,
        events: tuple[str, ...],
        description: str,
        sealed_secret: str,
        origin: str,
    ) -> None:
        self.tenant_id = tenant_id
        self.url = url
        self.events = tuple(events)
        self.description = description
        self.sealed_secret = sealed_secret
        self.deleted = False

    @classmethod
    def register(
        cls,
        tenant_id: UUID,
        *,
        url: str,
        events: Iterable[str],
        description: str | None,
        sealed_secret: str,
        origin: str,
        known_types: frozenset[str],
        allow_private: bool,
    ) -> WebhookEndpoint:
        """A new endpoint of the tenant; `origin` names the request that made it, so a repeat
        of that request finds this one instead of making another."""
        return cls(
            tenant_id=tenant_id,
            url=endpoint_url(url, allow_private=allow_private),
            events=subscribed_types(events, known_types),
            description=description_of(description),
            sealed_secret=sealed_secret,
            origin=origin,
        )

    def delete(self) -> None:
        """For good; deleting again changes nothing."""
        if not self.deleted:
            self._deleted()

    def require_live(self) -> None:
        if self.deleted:
            raise EndpointDeleted(f"webhook endpoint {self.id} is deleted")

    @event(Deleted)
    def _deleted(self) -> None:
        self.deleted = True
