"""Webhooks to other apps: the endpoints' application, the outbox projector that makes their
deliveries from the log, and the dispatcher that posts them over HTTP."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.cloudevents import CloudEvents
from adapters.webhooks import HttpDeliverer
from api.wiring.platform import Wiring
from eventstore.integration import TYPES, Translator
from eventstore.relay import Origins
from eventstore.sealing import Sealer
from projections.webhooks.dispatch import Dispatcher, RetryPolicy
from projections.webhooks.outbox import WebhookOutboxProjector
from projections.webhooks.projector import WebhookEndpointsProjector
from projections.webhooks.queries import WebhookQueries
from services.webhooks import Sealing, WebhooksApplication


@dataclass
class WebhookParts:
    webhooks: WebhooksApplication
    webhook_queries: WebhookQueries
    webhook_dispatcher: Dispatcher


def wire_webhooks(wiring: Wiring) -> WebhookParts:
    settings, store = wiring.settings, wiring.read_store
    origins = Origins(wiring.log)
    wiring.project(
        WebhookEndpointsProjector(),
        WebhookOutboxProjector(Translator(origins.get, origins.as_of), CloudEvents().encode),
    )
    sealer = Sealer(wiring.tokens.secret_for("webhook-secrets"), "webhook-endpoint")
    sealing = Sealing(seal=sealer.seal, open=lambda owner, sealed: sealer.open(sealed, owner))
    dispatcher = Dispatcher(
        store,
        HttpDeliverer(
            allow_private=settings.webhooks_allow_private, timeout_s=settings.webhooks_timeout_s
        ),
        sealing.open,
        policy=RetryPolicy(
            first_s=settings.webhooks_retry_first_s,
            give_up_after_s=settings.webhooks_give_up_after_s,
        ),
        lease_s=settings.webhooks_lease_s,
    )
    return WebhookParts(
        webhooks=WebhooksApplication(
            wiring.log,
            sealing=sealing,
            known_types=TYPES,
            store=store,
            allow_private=settings.webhooks_allow_private,
            on_recorded=wiring.recorded,
        ),
        webhook_queries=WebhookQueries(store),
        webhook_dispatcher=dispatcher,
    )
