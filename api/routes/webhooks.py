"""Payment provider webhooks, signed with Stripe's scheme and applied exactly once."""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable
from typing import Annotated, Any

import stripe
from fastapi import APIRouter, Header, Request, Response
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    StringConstraints,
    ValidationError,
)
from starlette.concurrency import run_in_threadpool
from stripe._error import SignatureVerificationError

from api.deps import (
    POSITION_HEADER,
    CheckoutDep,
    Ctx,
    DisputesDep,
    EventLogDep,
    WebhookSecretDep,
)
from api.problems import Problem
from domain.payments import PROVIDER_AMOUNT_LIMIT_MINOR, UnknownPaymentIntent
from eventstore.context import CommandContext
from services.checkout import CheckoutApplication
from services.disputes import DisputeApplication

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

# Stripe's default: a signed payload older than this is refused, so a captured one cannot be
# replayed later.
TOLERANCE_S = 300
PAYMENT_EVENTS = {"payment_intent.succeeded": True, "payment_intent.payment_failed": False}
# Events a person must look at: the order is flagged for review, once per event.
REVIEW_EVENTS = {
    "charge.refunded": "the charge was refunded at the payment provider, outside Velora",
}
DISPUTE_EVENTS = ("charge.dispute.created", "charge.dispute.closed")
# How a closed dispute ended, by its status: an inquiry closed without a chargeback
# (`warning_closed`) took nothing, as a won dispute gives everything back.
DISPUTE_WON = {"won": True, "warning_closed": True, "lost": False}
# A Stripe-Signature's timestamp: Unix seconds, written in ASCII digits and nothing else
# (Python's int() would also read "+17", " 17", "1_7" and other scripts' digits).
SIGNED_AT = re.compile(r"[0-9]{1,12}")
# The text Velora keeps or looks up from an event (ids, types, statuses) holds no control
# characters, as everywhere else in the API (api/controls.py; this body is exempt from it).
_NO_CONTROLS = r"^[^\x00-\x1f\x7f-\x9f]*$"
ProviderId = Annotated[
    StrictStr, StringConstraints(min_length=1, max_length=255, pattern=_NO_CONTROLS)
]
ProviderText = Annotated[StrictStr, StringConstraints(max_length=200, pattern=_NO_CONTROLS)]
ProviderCode = Annotated[StrictStr, StringConstraints(max_length=50, pattern=_NO_CONTROLS)]
Currency = Annotated[StrictStr, StringConstraints(min_length=3, max_length=3, pattern=_NO_CONTROLS)]
# An amount or fee beyond anything Stripe can send is not a Stripe event (400); within it, the
# domain checks it against the charge it concerns.
Amount = Annotated[StrictInt, Field(ge=0, le=PROVIDER_AMOUNT_LIMIT_MINOR)]
Fee = Annotated[StrictInt, Field(ge=-PROVIDER_AMOUNT_LIMIT_MINOR, le=PROVIDER_AMOUNT_LIMIT_MINOR)]


class _Lenient(BaseModel):
    # Stripe adds fields over time: read the ones Velora needs, strictly, and let the rest be.
    model_config = ConfigDict(extra="ignore")


class ChargeRef(_Lenient):
    """An expanded Charge, of which only its id is read."""

    id: ProviderId


class IntentObject(_Lenient):
    id: ProviderId
    amount: Amount | None = None
    amount_received: Amount | None = None
    currency: ProviderCode = ""
    latest_charge: ProviderId | ChargeRef | None = None

    @property
    def paid_minor(self) -> int:
        return self.amount_received or self.amount or 0

    @property
    def charge_id(self) -> str:
        """The charge that holds the money: Stripe sends its id, or the charge if expanded."""
        if isinstance(self.latest_charge, ChargeRef):
            return self.latest_charge.id
        return self.latest_charge or ""


class ChargeObject(_Lenient):
    """A dispute or a charge: what matters is the payment intent it belongs to."""

    payment_intent: ProviderId | None = None


class BalanceTransaction(_Lenient):
    fee: Fee = 0


class DisputeObject(_Lenient):
    """Stripe's Dispute: its amount and currency, the payment intent of the disputed charge,
    its status, and the balance transactions whose fees add up to what it cost."""

    id: ProviderId
    amount: Annotated[StrictInt, Field(ge=1, le=PROVIDER_AMOUNT_LIMIT_MINOR)]
    currency: Currency
    payment_intent: ProviderId | None = None
    reason: ProviderText = ""
    status: ProviderCode = ""
    balance_transactions: list[BalanceTransaction] = Field(default_factory=list, max_length=50)

    @property
    def fee_minor(self) -> int:
        """A withdrawal's fee less a reinstatement's (negative): what the dispute cost."""
        return max(0, sum(t.fee for t in self.balance_transactions))


class Data(_Lenient):
    object: dict[str, Any]


class StripeEvent(_Lenient):
    id: ProviderId
    type: ProviderId
    data: Data


def _malformed(counted: Any, provider: str, why: str) -> Problem:
    counted.labels(provider, "malformed").inc()
    return Problem(400, f"the webhook payload is not a Stripe event: {why}")


@router.post(
    "/stripe", responses={400: {"description": "missing or bad signature, or not an event"}}
)
async def stripe_webhook(
    request: Request,
    response: Response,
    checkout: CheckoutDep,
    disputes: DisputesDep,
    log: EventLogDep,
    secret: WebhookSecretDep,
    ctx: Ctx,
    signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> dict[str, Any]:
    """Receives the payment provider's events, verified with the official SDK against
    VELORA_STRIPE_WEBHOOK_SECRET. A repeated event id has no second effect. 400: a
    Stripe-Signature that is not Stripe's shape (one `t=` of plain digits, `v1=` signatures),
    that does not verify, or that is dated more than five minutes away from now, either way;
    a body that is not an event, ids holding control characters, or an amount or fee beyond
    anything Stripe can send. Amounts within that are checked against the charge they concern:
    one the charge cannot explain flags the order (`flagged`) and books nothing."""
    provider = checkout.payments.name
    counted = request.app.state.metrics.webhooks
    payload = await request.body()
    if not signature:
        counted.labels(provider, "unsigned").inc()
        raise Problem(400, "the Stripe-Signature header is missing")
    signed_at = _signed_at(signature)
    if signed_at is None:
        counted.labels(provider, "bad_signature").inc()
        raise Problem(400, "the Stripe-Signature is not t=<unix seconds>,v1=<signature>")
    try:
        # Only the signature: the SDK's own parsing of the body fails on some shapes with
        # errors of its own; the body is read below, strictly, as plain JSON.
        stripe.WebhookSignature.verify_header(payload, signature, secret, tolerance=TOLERANCE_S)
    except (SignatureVerificationError, UnicodeDecodeError):
        counted.labels(provider, "bad_signature").inc()
        raise Problem(
            400, "the Stripe-Signature does not verify (wrong secret, altered payload or too old)"
        ) from None
    if signed_at > time.time() + TOLERANCE_S:
        # The SDK refuses only old signatures; one from the future is as suspect.
        counted.labels(provider, "bad_signature").inc()
        raise Problem(400, "the Stripe-Signature is dated in the future")
    # Verified: read the very bytes the signature covers.
    try:
        event = StripeEvent.model_validate_json(payload)
        outcome = await _apply(checkout, disputes, ctx, provider, event)
    except ValidationError as e:
        raise _malformed(counted, provider, _first_error(e)) from None
    counted.labels(provider, outcome).inc()
    # The head after the event was applied covers its effects: reads may wait for it.
    response.headers[POSITION_HEADER] = str(await run_in_threadpool(log.head))
    return {"received": True, "id": event.id, "type": event.type, "outcome": outcome}


async def _apply(
    checkout: CheckoutApplication,
    disputes: DisputeApplication,
    ctx: CommandContext,
    provider: str,
    event: StripeEvent,
) -> str:
    """What the event did: its object is checked (ValidationError) before anything is applied."""
    command: Callable[..., str]
    if event.type in PAYMENT_EVENTS:
        intent = IntentObject.model_validate(event.data.object)
        intent_id = intent.id
        command = functools.partial(
            checkout.apply_payment_event,
            amount_minor=intent.paid_minor,
            currency=intent.currency,
            succeeded=PAYMENT_EVENTS[event.type],
            charge_id=intent.charge_id,
        )
    elif event.type in DISPUTE_EVENTS:
        dispute = DisputeObject.model_validate(event.data.object)
        intent_id = dispute.payment_intent or ""
        about: dict[str, Any] = {
            "dispute_id": dispute.id,
            "amount_minor": dispute.amount,
            "currency": dispute.currency,
            "reason": dispute.reason,
        }
        if event.type == "charge.dispute.created":
            command = functools.partial(disputes.open_dispute, **about)
        elif dispute.status in DISPUTE_WON:
            won = DISPUTE_WON[dispute.status]
            command = functools.partial(
                disputes.close_dispute, **about, won=won, fee_minor=dispute.fee_minor
            )
        else:
            return "ignored"  # closed with a status that says nothing of the money
    elif event.type in REVIEW_EVENTS:
        charge = ChargeObject.model_validate(event.data.object)
        intent_id = charge.payment_intent or ""
        command = functools.partial(checkout.flag_from_provider, reason=REVIEW_EVENTS[event.type])
    else:
        return "ignored"
    try:
        return await run_in_threadpool(
            command,
            ctx,
            provider=provider,
            event_id=event.id,
            event_type=event.type,
            intent_id=intent_id,
        )
    except UnknownPaymentIntent:
        return "ignored"  # not one of ours: acknowledged so the provider stops retrying


def _signed_at(signature: str) -> int | None:
    """The timestamp of a Stripe-Signature in Stripe's shape, or None when it is not: elements
    `key=value` split by commas, exactly one `t` of plain ASCII digits, at least one `v1`
    (other schemes, such as `v0`, are ignored, as Stripe says to). The SDK, which reads `t`
    with int(), checks the signature after this."""
    elements = [element.partition("=") for element in signature.split(",")]
    if any(not key or not equals for key, equals, _ in elements):
        return None
    stamps = [value for key, _, value in elements if key == "t"]
    if len(stamps) != 1 or not SIGNED_AT.fullmatch(stamps[0]):
        return None
    if not any(key == "v1" and value for key, _, value in elements):
        return None
    return int(stamps[0])


def _first_error(e: ValidationError) -> str:
    first = e.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "body"
    return f"{where}: {first['msg']}"
