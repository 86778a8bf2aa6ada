"""Integration events: the public, versioned facts Velora publishes for other systems
(docs/events.md is their schema). They are translated from the internal domain events, which
stay free to change; a domain event may give none, one or several integration events.

Each carries only ids, codes, amounts in minor units with their currency, and times: never
personal data (emails, names, addresses) and never text a person typed (refund reasons).
A domain event that lacks what consumers need (who the buyer is, say) is joined with the event
that created its aggregate, or with its aggregate as that event left it (a product's approved
revision, which changes only the text, published with the whole listing). Neither ever changes
once recorded, so a translation is the same on every resend. How they travel is the envelope
the relay is given (eventstore/relay.py, `Envelope`): CloudEvents, adapters/cloudevents.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.base import TenantAggregate, topics_of
from domain.catalog import Product
from domain.inventory import Stock
from domain.ledger import Transfer
from domain.orders import Order
from domain.payouts import Payout
from domain.reconciliation import Reconciliation
from domain.refunds import Refund
from domain.returns import Return
from domain.seller_orders import SellerOrder
from domain.settlement import Settlement
from eventstore.mapper import RecordedEvent

# The version of the integration events' schema; a breaking change to any of them makes a new one.
SCHEMA_VERSION = 1
# The kinds of aggregate that have a topic each: `<prefix>.<kind>`, e.g. velora.orders.
KINDS = ("orders", "payments", "escrow", "ledger", "catalog", "refunds", "returns", "payouts")

Published = list[tuple[str, str, dict[str, Any]]]  # (kind, type, data)

# Every CloudEvents type the rules below give (docs/events.md "Types" lists the same): what a
# webhook endpoint may subscribe to (domain/webhooks.py).
TYPES = frozenset(
    {
        "order.placed", "order.paid", "order.cancelled", "order.shipped", "order.delivered",
        "order.completed", "payment.succeeded", "payment.failed", "payment.refunded",
        "escrow.held", "escrow.released", "escrow.refunded", "dispute.opened", "dispute.closed",
        "ledger.transfer_made", "ledger.transfer_posted", "ledger.transfer_voided",
        "ledger.transfer_reversed", "reconciliation.completed", "product.listed",
        "product.edited", "product.approved", "product.rejected", "product.price_lowered",
        "stock.alert_raised", "refund.requested",
        "refund.approved", "refund.rejected", "return.requested", "return.authorized",
        "return.rejected", "return.shipped", "return.received", "payout.started",
        "payout.paid", "payout.failed",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Past:
    """What a translation may read besides its event."""

    # The event that created an aggregate, by the aggregate's id.
    origin: Callable[[UUID], Any]
    # An aggregate as its events up to a version made it, by its id and that version.
    as_of: Callable[[UUID, int], Any]


Rule = Callable[[Any, Past], Published]


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


_RULES: dict[type, Rule] = {}


def _publishes(cls: type) -> Callable[[Rule], Any]:
    """Registers a rule of its own for one domain event class (one giving several events, or
    needing more than its aggregate's creation event)."""

    def register(rule: Rule) -> Rule:
        _RULES[cls] = rule
        return rule

    return register


class Translator:
    """Turns recorded domain events into integration events."""

    def __init__(self, origin: Callable[[UUID], Any], as_of: Callable[[UUID, int], Any]) -> None:
        self.past = Past(origin, as_of)
        self.topics = frozenset(t for cls in _RULES for t in topics_of(cls))

    def translate(self, recorded: RecordedEvent) -> list[IntegrationEvent]:
        rule = _RULES.get(type(recorded.event))
        if rule is None:
            return []
        event = recorded.event
        published = rule(event, self.past)
        assert all(type_ in TYPES for _, type_, _ in published), "a type missing from TYPES"
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
            for kind, type_, data in published
        ]


# -- orders and payments (the buyer's order, keyed by order id) ---------------------------------


def _order(placed: Any) -> dict[str, Any]:
    return {
        "order_id": placed.originator_id,
        "buyer_id": placed.buyer_id,
        "currency": placed.currency,
        "total_minor": placed.total_minor,
    }


def _sellers(placed: Any, past: Past) -> list[dict[str, Any]]:
    parts = [past.origin(i) for i in placed.seller_order_ids]
    return [
        {
            "seller_order_id": part.originator_id,
            "seller_id": part.seller_id,
            "subtotal_minor": part.subtotal_minor,
        }
        for part in parts
    ]


@_publishes(Order.Placed)
def _order_placed(e: Order.Placed, past: Past) -> Published:
    data = {**_order(e), "sellers": _sellers(e, past), "expires_at": e.expires_at}
    return [("orders", "order.placed", data)]


def _payment(placed: Order.Placed) -> dict[str, Any]:
    return {
        "order_id": placed.originator_id,
        "buyer_id": placed.buyer_id,
        "amount_minor": placed.total_minor,
        "currency": placed.currency,
    }


@_publishes(Order.Paid)
def _order_paid(e: Order.Paid, past: Past) -> Published:
    placed = past.origin(e.originator_id)
    return [
        ("orders", "order.paid", {**_order(placed), "sellers": _sellers(placed, past)}),
        ("payments", "payment.succeeded", {**_payment(placed), "provider_charge_id": e.charge_id}),
    ]


@_publishes(Order.Cancelled)
def _order_cancelled(e: Order.Cancelled, past: Past) -> Published:
    placed = past.origin(e.originator_id)
    published: Published = [("orders", "order.cancelled", {**_order(placed), "reason": e.reason})]
    if e.reason == "payment_failed":
        published.append(("payments", "payment.failed", _payment(placed)))
    return published


@_publishes(Order.PaymentReturned)
def _payment_returned(e: Order.PaymentReturned, past: Past) -> Published:
    placed = past.origin(e.originator_id)
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


# -- events that are their aggregate's creation fields plus their own -----------------------------


def _joined(
    kind: str,
    type_: str,
    base: Callable[[Any], dict[str, Any]],
    extra: Callable[[Any], dict[str, Any]] = lambda _: {},
) -> Rule:
    """The rule for one integration event whose data is `base` of the event that created the
    aggregate (the event itself, if it is that one) and `extra` of the event."""

    def rule(e: Any, past: Past) -> Published:
        created = e if isinstance(e, TenantAggregate.Created) else past.origin(e.originator_id)
        return [(kind, type_, {**base(created), **extra(e)})]

    return rule


def _part(placed: SellerOrder.Placed) -> dict[str, Any]:
    """A seller's part of an order (keyed by seller order id)."""
    return {
        "order_id": placed.order_id,
        "seller_order_id": placed.originator_id,
        "buyer_id": placed.buyer_id,
        "seller_id": placed.seller_id,
        "currency": placed.currency,
    }


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


def _product(listed: Product.Listed) -> dict[str, Any]:
    return {"product_id": listed.originator_id, "seller_id": listed.seller_id, "sku": listed.sku}


def _listing(e: Product.Listed | Product.Edited | Product) -> dict[str, Any]:
    """The listing as buyers see it: of the event that set it, or of the product itself."""
    return {
        "title": e.title,
        "description": e.description,
        "category": e.category,
        "price_minor": e.price_minor,
        "currency": e.currency,
        "attributes": e.attributes,
        "status": e.status,
    }


@_publishes(Product.RevisionApproved)
def _revision_approved(e: Product.RevisionApproved, past: Past) -> Published:
    """An approved revision is an edit going live: consumers get the same `product.edited` as
    for any other, with the whole listing as the approval left it (the price and the rest are
    not in the event). A revision proposed, rejected or withdrawn was never public: none."""
    product = past.as_of(e.originator_id, e.originator_version)
    data = {**_product(past.origin(e.originator_id)), **_listing(product)}
    return [("catalog", "product.edited", data)]


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


def _return(requested: Return.Requested) -> dict[str, Any]:
    return {
        "return_id": requested.originator_id,
        "order_id": requested.order_id,
        "seller_order_id": requested.seller_order_id,
        "buyer_id": requested.buyer_id,
        "seller_id": requested.seller_id,
        "currency": requested.currency,
        "lines": [{"product_id": p, "quantity": q} for p, q in requested.lines.items()],
    }


def _payout(started: Payout.Started) -> dict[str, Any]:
    return {
        "payout_id": started.originator_id,
        "seller_id": started.seller_id,
        "amount_minor": started.amount_minor,
        "currency": started.currency,
        "receivable_netted_minor": started.receivable_netted_minor,
    }


def _reconciliation(completed: Reconciliation.Completed) -> dict[str, Any]:
    return {
        "reconciliation_id": completed.originator_id,
        "date": completed.day,
        "currency": completed.currency,
    }


def _reconciled(e: Reconciliation.Completed | Reconciliation.Redone) -> dict[str, Any]:
    """A run's result: its number, what matched, what either side lacks, the fees the provider
    kept of the day's transactions and those the day's runs had to book."""
    return {
        "run": e.run if isinstance(e, Reconciliation.Redone) else 1,
        "matched": len(e.matched),
        "unmatched_ledger": len(e.unmatched_ledger),
        "unmatched_provider": len(e.unmatched_provider),
        "processor_fees_minor": e.processor_fees_minor,
        "fees_booked_minor": sum(f["fee"]["amount"] for f in e.fees_booked),
    }


_RULES.update(
    {
        SellerOrder.Shipped: _joined(
            "orders",
            "order.shipped",
            _part,
            lambda e: {"carrier": e.carrier, "tracking_number": e.tracking_number},
        ),
        SellerOrder.Delivered: _joined(
            "orders",
            "order.delivered",
            _part,
            lambda e: {
                "delivered_at": e.delivered_at,
                "escrow_release_due_at": e.escrow_release_due_at,
            },
        ),
        SellerOrder.Completed: _joined("orders", "order.completed", _part),
        Return.Requested: _joined("returns", "return.requested", _return),
        Return.Authorized: _joined("returns", "return.authorized", _return),
        Return.Rejected: _joined("returns", "return.rejected", _return),
        Return.Shipped: _joined(
            "returns",
            "return.shipped",
            _return,
            lambda e: {"carrier": e.carrier, "tracking_number": e.tracking_number},
        ),
        Return.Received: _joined(
            "returns",
            "return.received",
            _return,
            lambda e: {
                "received_lines": e.lines,
                "refund_id": e.refund_id,
                "amount_minor": e.refund_minor,
            },
        ),
        Transfer.Made: _joined("ledger", "ledger.transfer_made", _transfer),
        Transfer.Posted: _joined(
            "ledger", "ledger.transfer_posted", _transfer, lambda e: {"posted_minor": e.amount}
        ),
        Transfer.Voided: _joined("ledger", "ledger.transfer_voided", _transfer),
        Transfer.Reversed: _joined(
            "ledger",
            "ledger.transfer_reversed",
            _transfer,
            lambda e: {"reversal_id": e.reversal_id},
        ),
        Product.Listed: _joined("catalog", "product.listed", _product, _listing),
        Product.Edited: _joined("catalog", "product.edited", _product, _listing),
        Product.Approved: _joined("catalog", "product.approved", _product),
        Product.Rejected: _joined("catalog", "product.rejected", _product),
        Product.PriceLowered: _joined(
            "catalog",
            "product.price_lowered",
            _product,
            lambda e: {
                "from_minor": e.from_minor,
                "price_minor": e.price_minor,
                "currency": e.currency,
            },
        ),
        Stock.AlertRaised: _joined(
            "catalog",
            "stock.alert_raised",
            lambda opened: {"product_id": opened.product_id, "seller_id": opened.seller_id},
            lambda e: {
                "warehouse": e.warehouse,
                "threshold": e.threshold,
                "available": e.available,
            },
        ),
        Refund.Requested: _joined("refunds", "refund.requested", _refund),
        Refund.Approved: _joined(
            "refunds",
            "refund.approved",
            _refund,
            lambda e: {
                "commission_reversed_minor": e.commission_reversed_minor,
                "from_escrow": e.from_escrow,
                "provider_refund_id": e.provider_refund_id,
            },
        ),
        Refund.Rejected: _joined("refunds", "refund.rejected", _refund),
        Payout.Started: _joined("payouts", "payout.started", _payout),
        Payout.Paid: _joined(
            "payouts", "payout.paid", _payout, lambda e: {"transfer_ids": e.provider_transfer_ids}
        ),
        Payout.Failed: _joined("payouts", "payout.failed", _payout),
        # A day run again publishes the day's reconciliation again, under the same key, its
        # `run` counting up: it replaces the one before.
        Reconciliation.Completed: _joined(
            "ledger", "reconciliation.completed", _reconciliation, _reconciled
        ),
        Reconciliation.Redone: _joined(
            "ledger", "reconciliation.completed", _reconciliation, _reconciled
        ),
    }
)


def _settled(created: Settlement.Funded | Settlement.CarriedOver) -> dict[str, Any]:
    """A seller's part of an order, as its settlement names it."""
    return {
        "order_id": created.order_id,
        "seller_order_id": created.seller_order_id,
        "buyer_id": created.buyer_id,
        "seller_id": created.seller_id,
        "currency": created.currency,
    }


def _escrow_rules(
    base: Callable[[Any], dict[str, Any]],
    held: type,
    refunded: type,
    released: type,
    opened: type,
    closed: type,
) -> dict[type, Rule]:
    """The published escrow and dispute events, from a settlement's events or, for seller
    orders paid before settlements existed, the seller order's own."""
    return {
        held: _joined(
            "escrow",
            "escrow.held",
            base,
            lambda e: (
                {"amount_minor": e.gross_minor}
                if isinstance(e, Settlement.Funded)
                else {"amount_minor": e.amount_minor}
            ),
        ),
        refunded: _joined(
            "escrow", "escrow.refunded", base, lambda e: {"amount_minor": e.amount_minor}
        ),
        released: _joined(
            "escrow",
            "escrow.released",
            base,
            lambda e: {
                "seller_net_minor": e.seller_net_minor,
                "commission_minor": e.commission_minor,
            },
        ),
        opened: _joined(
            "escrow",
            "dispute.opened",
            base,
            lambda e: {
                "dispute_id": e.dispute_id,
                "amount_minor": e.amount_minor,
                "commission_minor": e.commission_minor,
                "in_escrow": e.in_escrow,
            },
        ),
        closed: _joined(
            "escrow",
            "dispute.closed",
            base,
            lambda e: {"dispute_id": e.dispute_id, "outcome": e.outcome, "fee_minor": e.fee_minor},
        ),
    }


_RULES.update(
    _escrow_rules(
        _part,
        SellerOrder.EscrowHeld,
        SellerOrder.EscrowRefunded,
        SellerOrder.EscrowReleased,
        SellerOrder.DisputeOpened,
        SellerOrder.DisputeClosed,
    )
)
_RULES.update(
    _escrow_rules(
        _settled,
        Settlement.Funded,
        Settlement.Returned,
        Settlement.Released,
        Settlement.DisputeOpened,
        Settlement.DisputeClosed,
    )
)
