"""Payment provider webhooks, signed with Stripe's scheme and applied exactly once."""

from __future__ import annotations

import json
from typing import Annotated, Any

import stripe
from fastapi import APIRouter, Header, Request, Response
from starlette.concurrency import run_in_threadpool
from stripe._error import SignatureVerificationError

from api.deps import POSITION_HEADER, ContainerDep, Ctx
from api.problems import Problem
from domain.payments import UnknownPaymentIntent

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

# Stripe's default: a signed payload older than this is refused, so a captured one cannot be
# replayed later.
TOLERANCE_S = 300
PAYMENT_EVENTS = {"payment_intent.succeeded": True, "payment_intent.payment_failed": False}
# Events a person must look at: the order is flagged for review, once per event.
REVIEW_EVENTS = {
    "charge.dispute.created": "the buyer disputed the charge",
    "charge.refunded": "the charge was refunded at the payment provider, outside Velora",
}


@router.post("/stripe", responses={400: {"description": "missing or bad signature"}})
async def stripe_webhook(
    request: Request,
    response: Response,
    container: ContainerDep,
    ctx: Ctx,
    signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> dict[str, Any]:
    """Receives the payment provider's events, verified with the official SDK against
    VELORA_STRIPE_WEBHOOK_SECRET. A repeated event id has no second effect."""
    provider = container.checkout.payments.name
    counted = request.app.state.metrics.webhooks
    payload = await request.body()
    if not signature:
        counted.labels(provider, "unsigned").inc()
        raise Problem(400, "the Stripe-Signature header is missing")
    try:
        stripe.Webhook.construct_event(
            payload, signature, container.webhook_secret, tolerance=TOLERANCE_S
        )
    except SignatureVerificationError:
        counted.labels(provider, "bad_signature").inc()
        raise Problem(
            400, "the Stripe-Signature does not verify (wrong secret, altered payload or too old)"
        ) from None
    except ValueError:
        counted.labels(provider, "malformed").inc()
        raise Problem(400, "the webhook payload is not a Stripe event") from None
    # Verified: read the very bytes the signature covers, as plain JSON.
    event = json.loads(payload)
    if not isinstance(event, dict) or not {"id", "type", "data"} <= event.keys():
        counted.labels(provider, "malformed").inc()
        raise Problem(400, "the webhook payload is not a Stripe event")
    outcome = "ignored"
    if event["type"] in PAYMENT_EVENTS:
        intent = event["data"]["object"]
        amount = intent.get("amount_received") or intent.get("amount") or 0
        try:
            outcome = await run_in_threadpool(
                container.checkout.apply_payment_event,
                ctx,
                provider=provider,
                event_id=event["id"],
                event_type=event["type"],
                intent_id=intent["id"],
                amount_minor=int(amount),
                currency=str(intent.get("currency", "")),
                succeeded=PAYMENT_EVENTS[event["type"]],
                charge_id=_charge_id(intent.get("latest_charge")),
            )
        except UnknownPaymentIntent:
            outcome = "ignored"  # not one of ours: acknowledged so the provider stops retrying
    elif event["type"] in REVIEW_EVENTS:
        obj = event["data"]["object"]
        try:
            outcome = await run_in_threadpool(
                container.checkout.flag_from_provider,
                ctx,
                provider=provider,
                event_id=event["id"],
                event_type=event["type"],
                intent_id=str(obj.get("payment_intent", "")),
                reason=REVIEW_EVENTS[event["type"]],
            )
        except UnknownPaymentIntent:
            outcome = "ignored"
    counted.labels(provider, outcome).inc()
    # The head after the event was applied covers its effects: reads may wait for it.
    response.headers[POSITION_HEADER] = str(await run_in_threadpool(container.log.head))
    return {"received": True, "id": event["id"], "type": event["type"], "outcome": outcome}


def _charge_id(latest_charge: Any) -> str:
    """The charge that holds the money: Stripe sends its id, or the charge itself if expanded."""
    if isinstance(latest_charge, dict):
        return str(latest_charge.get("id") or "")
    return str(latest_charge or "")
