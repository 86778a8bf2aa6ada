"""Integration events: the public, versioned facts Velora publishes for other systems
(docs/events.md is their schema). They are translated from the internal domain events, which
stay free to change; a domain event may give none, one or several integration events.

Each carries only ids, codes, amounts in minor units with their currency, and times: never
personal data (emails, names, addresses) and never text a person typed (refund reasons).
A domain event that lacks what consumers need (who the buyer is, say) is joined with the event
that created its aggregate, which never changes, so a translation is the same on every resend."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.utils import get_topic

from domain.catalog import Product
from domain.ledger import Transfer
from domain.orders import Order, SellerOrder
from domain.payouts import Payout
from domain.refunds import Refund
from eventstore.mapper import RecordedEvent

SPEC_VERSION = "1.0"
# The version of the integration events' schema; a breaking change to any of them makes a new one.
SCHEMA_VERSION = 1
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
# The kinds of aggregate that have a topic each: `<prefix>.<kind>`, e.g. velora.orders.
KINDS = ("orders", "payments", "escrow", "ledger", "catalog", "refunds", "payouts")

# The event that created an aggregate, by the aggregate's id.
Origin = Callable[[UUID], Any]
Published = list[tuple[str, str, dict[str, Any]]]  # (kind, type, data)


@dataclass(frozen=True)
class IntegrationEvent:
    id: UUID
    type: str
    kind: str
    key: UUID
    tenant_id: UUID
    time: datetime
    position: int
    data: dict[str, Any]

    def topic(self, prefix: str) -> str:
        return f"{prefix}.{self.kind}"

    def cloudevent(self) -> dict[str, Any]:
        """The event as a CloudEvents 1.0 structured-mode JSON object."""
        return {
            "specversion": SPEC_VERSION,
            "id": str(self.id),
            "source": f"urn:velora:tenant:{self.tenant_id}",
            "type": self.type,
            "subject": str(self.key),
            "time": self.time.isoformat().replace("+00:00", "Z"),
            "datacontenttype": "application/json",
            "dataschema": f"urn:velora:events:{self.type}:v{SCHEMA_VERSION}",
            "tenantid": str(self.tenant_id),
            "sequence": f"{self.position:020d}",
            "data": self.data,
        }

    def encode(self) -> bytes:
        return json.dumps(self.cloudevent(), default=_json_value, sort_keys=True).encode()


def _json_value(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    raise TypeError(f"not JSON: {type(value).__name__}")


_RULES: dict[type, Callable[[Any, Origin], Published]] = {}


def _publishes(*classes: type) -> Callable[[Callable[[Any, Origin], Published]], Any]:
    def register(rule: Callable[[Any, Origin], Published]) -> Callable[[Any, Origin], Published]:
        for cls in classes:
            _RULES[cls] = rule
        return rule

    return register


class Translator:
    """Turns recorded domain events into integration events."""

    def __init__(self, origin: Origin) -> None:
        self.origin = origin
        self.topics = frozenset(get_topic(cls) for cls in _RULES)

    def translate(self, recorded: RecordedEvent) -> list[IntegrationEvent]:
        rule = _RULES.get(type(recorded.event))
        if rule is None:
            return []
        event = recorded.event
        return [
            IntegrationEvent(
                # One id per (domain event, type): the same on every resend, never shared.
                id=uuid5(NAMESPACE_URL, f"velora:integration:{recorded.event_id}:{type_}"),
                type=type_,
                kind=kind,
                key=recorded.originator_id,
                tenant_id=event.tenant_id,
                time=event.timestamp,
                position=recorded.position,
                data=data,
            )
            for kind, type_, data in rule(event, self.origin)
        ]


# -- orders and payments (the buyer's order, keyed by order id) ---------------------------------


def _order(placed: Any) -> dict[str, Any]:
    return {
        "order_id": placed.originator_id,
        "buyer_id": placed.buyer_id,
        "currency": placed.currency,
        "total_minor": placed.total_minor,
    }


def _sellers(placed: Any, origin: Origin) -> list[dict[str, Any]]:
    parts = [origin(i) for i in placed.seller_order_ids]
    return [
        {
            "seller_order_id": part.originator_id,
            "seller_id": part.seller_id,
            "subtotal_minor": part.subtotal_minor,
        }
        for part in parts
    ]


@_publishes(Order.Placed)
def _order_placed(e: Order.Placed, origin: Origin) -> Published:
    data = {**_order(e), "sellers": _sellers(e, origin), "expires_at": e.expires_at}
    return [("orders", "order.placed", data)]


@_publishes(Order.Paid)
def _order_paid(e: Order.Paid, origin: Origin) -> Published:
    placed = origin(e.originator_id)
    order = _order(placed)
    return [
        ("orders", "order.paid", {**order, "sellers": _sellers(placed, origin)}),
        (
            "payments",
            "payment.succeeded",
            {
                "order_id": placed.originator_id,
                "buyer_id": placed.buyer_id,
                "amount_minor": placed.total_minor,
                "currency": placed.currency,
                "provider_charge_id": e.charge_id,
            },
        ),
    ]


@_publishes(Order.Cancelled)
def _order_cancelled(e: Order.Cancelled, origin: Origin) -> Published:
    placed = origin(e.originator_id)
    published: Published = [("orders", "order.cancelled", {**_order(placed), "reason": e.reason})]
    if e.reason == "payment_failed":
        published.append(
            (
                "payments",
                "payment.failed",
                {
                    "order_id": placed.originator_id,
                    "buyer_id": placed.buyer_id,
                    "amount_minor": placed.total_minor,
                    "currency": placed.currency,
                },
            )
        )
    return published


@_publishes(Order.PaymentReturned)
def _payment_returned(e: Order.PaymentReturned, origin: Origin) -> Published:
    placed = origin(e.originator_id)
    data = {
        "order_id": placed.originator_id,
        "buyer_id": placed.buyer_id,
        "amount_minor": e.amount_minor,
        "currency": e.currency,
        "provider_refund_id": e.provider_refund_id,
        "reason": e.reason,
        "late": e.late,
    }
    return [("payments", "payment.refunded", data)]


# -- each seller's part of an order (keyed by seller order id) ----------------------------------


def _part(placed: Any) -> dict[str, Any]:
    return {
        "order_id": placed.order_id,
        "seller_order_id": placed.originator_id,
        "buyer_id": placed.buyer_id,
        "seller_id": placed.seller_id,
        "currency": placed.currency,
    }


@_publishes(SellerOrder.Shipped)
def _shipped(e: SellerOrder.Shipped, origin: Origin) -> Published:
    data = {
        **_part(origin(e.originator_id)),
        "carrier": e.carrier,
        "tracking_number": e.tracking_number,
    }
    return [("orders", "order.shipped", data)]


@_publishes(SellerOrder.Delivered)
def _delivered(e: SellerOrder.Delivered, origin: Origin) -> Published:
    data = {
        **_part(origin(e.originator_id)),
        "delivered_at": e.delivered_at,
        "escrow_release_due_at": e.escrow_release_due_at,
    }
    return [("orders", "order.delivered", data)]


@_publishes(SellerOrder.Completed)
def _completed(e: SellerOrder.Completed, origin: Origin) -> Published:
    return [("orders", "order.completed", _part(origin(e.originator_id)))]


@_publishes(SellerOrder.EscrowHeld, SellerOrder.EscrowRefunded)
def _escrow_moved(e: Any, origin: Origin) -> Published:
    type_ = "escrow.held" if isinstance(e, SellerOrder.EscrowHeld) else "escrow.refunded"
    return [("escrow", type_, {**_part(origin(e.originator_id)), "amount_minor": e.amount_minor})]


@_publishes(SellerOrder.EscrowReleased)
def _escrow_released(e: SellerOrder.EscrowReleased, origin: Origin) -> Published:
    data = {
        **_part(origin(e.originator_id)),
        "seller_net_minor": e.seller_net_minor,
        "commission_minor": e.commission_minor,
    }
    return [("escrow", "escrow.released", data)]


# -- the ledger (keyed by transfer id) -----------------------------------------------------------


def _transfer(made: Transfer.Made) -> dict[str, Any]:
    return {
        "transfer_id": made.originator_id,
        "kind": made.kind,
        "debit_account_id": made.debit_account_id,
        "credit_account_id": made.credit_account_id,
        "amount_minor": made.amount,
        "currency": made.currency,
        "pending": made.pending,
        "reverses": made.reverses,
    }


@_publishes(Transfer.Made)
def _transfer_made(e: Transfer.Made, origin: Origin) -> Published:
    return [("ledger", "ledger.transfer_made", _transfer(e))]


@_publishes(Transfer.Posted, Transfer.Voided, Transfer.Reversed)
def _transfer_resolved(e: Any, origin: Origin) -> Published:
    data = _transfer(origin(e.originator_id))
    if isinstance(e, Transfer.Posted):
        return [("ledger", "ledger.transfer_posted", {**data, "posted_minor": e.amount})]
    if isinstance(e, Transfer.Voided):
        return [("ledger", "ledger.transfer_voided", data)]
    return [("ledger", "ledger.transfer_reversed", {**data, "reversal_id": e.reversal_id})]


# -- the catalogue (keyed by product id) ---------------------------------------------------------


def _listing(e: Any) -> dict[str, Any]:
    return {
        "title": e.title,
        "description": e.description,
        "category": e.category,
        "price_minor": e.price_minor,
        "currency": e.currency,
        "attributes": e.attributes,
        "status": e.status,
    }


@_publishes(Product.Listed, Product.Edited)
def _product_changed(e: Any, origin: Origin) -> Published:
    listed = e if isinstance(e, Product.Listed) else origin(e.originator_id)
    ids = {"product_id": e.originator_id, "seller_id": listed.seller_id, "sku": listed.sku}
    type_ = "product.listed" if e is listed else "product.edited"
    return [("catalog", type_, {**ids, **_listing(e)})]


@_publishes(Product.Approved, Product.Rejected)
def _product_moderated(e: Any, origin: Origin) -> Published:
    listed = origin(e.originator_id)
    type_ = "product.approved" if isinstance(e, Product.Approved) else "product.rejected"
    data = {"product_id": e.originator_id, "seller_id": listed.seller_id, "sku": listed.sku}
    return [("catalog", type_, data)]


# -- refunds (keyed by refund id) and payouts (keyed by payout id) -------------------------------


def _refund(requested: Refund.Requested) -> dict[str, Any]:
    return {
        "refund_id": requested.originator_id,
        "order_id": requested.order_id,
        "seller_order_id": requested.seller_order_id,
        "buyer_id": requested.buyer_id,
        "seller_id": requested.seller_id,
        "amount_minor": requested.amount_minor,
        "currency": requested.currency,
    }


@_publishes(Refund.Requested, Refund.Approved, Refund.Rejected)
def _refund_changed(e: Any, origin: Origin) -> Published:
    if isinstance(e, Refund.Requested):
        return [("refunds", "refund.requested", _refund(e))]
    data = _refund(origin(e.originator_id))
    if isinstance(e, Refund.Rejected):
        return [("refunds", "refund.rejected", data)]
    approved = {
        **data,
        "commission_reversed_minor": e.commission_reversed_minor,
        "from_escrow": e.from_escrow,
        "provider_refund_id": e.provider_refund_id,
    }
    return [("refunds", "refund.approved", approved)]


def _payout(started: Payout.Started) -> dict[str, Any]:
    return {
        "payout_id": started.originator_id,
        "seller_id": started.seller_id,
        "amount_minor": started.amount_minor,
        "currency": started.currency,
        "receivable_netted_minor": started.receivable_netted_minor,
    }


@_publishes(Payout.Started, Payout.Paid, Payout.Failed)
def _payout_changed(e: Any, origin: Origin) -> Published:
    if isinstance(e, Payout.Started):
        return [("payouts", "payout.started", _payout(e))]
    data = _payout(origin(e.originator_id))
    if isinstance(e, Payout.Paid):
        return [("payouts", "payout.paid", {**data, "transfer_ids": e.provider_transfer_ids})]
    return [("payouts", "payout.failed", data)]
