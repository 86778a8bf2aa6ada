"""The webhooks application: a marketplace's endpoints registered and deleted, and a delivery
sent again on an admin's word. The rules are domain/webhooks.py's; the outbox and the
dispatcher (projections/webhooks/) deliver."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.identity import Tenant, TenantNotFound
from domain.webhooks import (
    SECRET_PREFIX,
    DeliveryNotFound,
    WebhookEndpoint,
    WebhookEndpointNotFound,
)
from eventstore.application import CommandResult, command
from eventstore.context import CommandContext
from eventstore.log import EventLog
from projections.scope import TenantScope
from projections.store import ReadStore
from projections.webhooks import dispatch
from services.base import ServiceApplication


@dataclass(frozen=True)
class RegisteredEndpoint:
    id: UUID
    secret: str  # `whsec_…`: shown to the admin once
    position: int


@dataclass(frozen=True)
class Sealing:
    """How an endpoint's secret is sealed into its event and opened again (eventstore/sealing.py
    under the deployment's key; the composition root chooses)."""

    seal: Callable[[str, UUID], str]
    open: Callable[[UUID, str], str]


class WebhooksApplication(ServiceApplication):
    name = "webhooks"

    def __init__(
        self,
        log: EventLog,
        *,
        sealing: Sealing,
        known_types: frozenset[str],
        store: ReadStore,
        allow_private: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(log, **kwargs)
        self.sealing = sealing
        self.known_types = known_types
        self.store = store
        self.allow_private = allow_private

    @command
    def register(
        self,
        ctx: CommandContext,
        tenant_id: UUID,
        *,
        url: str,
        events: list[str],
        description: str | None,
        origin: str,
    ) -> RegisteredEndpoint:
        """Registers an endpoint of the tenant and makes its secret. `origin` names the request
        (an admin and its Idempotency-Key): a repeat answers the endpoint it made, secret and
        all, and makes no other."""
        tenant = self.load(Tenant, tenant_id, tenant_id, TenantNotFound, reading=True)
        endpoint_id = WebhookEndpoint.create_id(tenant.id, origin)
        made = self.get_or_none(endpoint_id)
        if isinstance(made, WebhookEndpoint):
            secret = self.sealing.open(made.id, made.sealed_secret)
            return RegisteredEndpoint(made.id, secret, self._log.head())
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        endpoint = WebhookEndpoint.register(
            tenant.id,
            url=url,
            events=events,
            description=description,
            sealed_secret=self.sealing.seal(secret, endpoint_id),
            origin=origin,
            known_types=self.known_types,
            allow_private=self.allow_private,
        )
        assert endpoint.id == endpoint_id
        return RegisteredEndpoint(endpoint.id, secret, self.record(ctx, endpoint))

    @command
    def delete(self, ctx: CommandContext, tenant_id: UUID, endpoint_id: UUID) -> CommandResult:
        """Deletes one of the tenant's endpoints for good; again changes nothing."""

        def attempt() -> CommandResult:
            endpoint = self.load(WebhookEndpoint, endpoint_id, tenant_id, WebhookEndpointNotFound)
            endpoint.delete()
            return CommandResult(endpoint.id, self.record(ctx, endpoint))

        return self.retrying(attempt, "this endpoint is being deleted by many at once")

    def retry_delivery(self, tenant_id: UUID, endpoint_id: UUID, delivery_id: UUID) -> None:
        """Sends one of a live endpoint's deliveries again (projections/webhooks/dispatch.py
        `retry`): what the dispatcher does with it is the delivery log's, not the event log's."""
        endpoint = self.load(
            WebhookEndpoint, endpoint_id, tenant_id, WebhookEndpointNotFound, reading=True
        )
        if endpoint.deleted:
            raise WebhookEndpointNotFound(f"webhook endpoint {endpoint_id} not found")
        scope = TenantScope.only(tenant_id)
        if not dispatch.retry(self.store, scope, str(endpoint_id), str(delivery_id)):
            raise DeliveryNotFound(f"delivery {delivery_id} not found")
