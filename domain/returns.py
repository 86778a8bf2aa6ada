"""Returns (RMA): a buyer sends delivered lines back within the tenant's return window.

requested -> authorized (the seller, with instructions) or rejected; authorized -> in_transit
(the buyer's return tracking); authorized or in_transit -> received (the seller notes what
arrived, and which of it can be sold again). What was received is refunded through the refund
path, and what can be sold again is restocked to the warehouse the seller names. The seller
order keeps what its returns claim (`SellerOrder.claim_return`), so a unit is never returned
twice, even by two requests at once."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.base import TenantAggregate
from domain.errors import Conflict, DomainError, Invalid, NotFound
from domain.refunds import Refund
from domain.seller_orders import SellerOrder
from domain.settlement import Settlement
from domain.variants import ChooseVariant

DEFAULT_WINDOW_DAYS = 30
MAX_WINDOW_DAYS = 365


class ReturnError(DomainError):
    """Base of the returns context's errors."""


class ReturnNotFound(ReturnError, NotFound):
    title = "Return not found"


class WrongReturnStep(ReturnError, Conflict):
    title = "Wrong return step"


class OutsideReturnWindow(ReturnError, Conflict):
    title = "Outside the return window"


class InvalidReturn(ReturnError, Invalid):
    title = "Invalid return"


class ReturnStatus(StrEnum):
    REQUESTED = "requested"
    AUTHORIZED = "authorized"
    REJECTED = "rejected"
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"


R = ReturnStatus
# The lifecycle as one table: command -> {from: to}. Anything else is a wrong step (409).
TRANSITIONS: dict[str, dict[ReturnStatus, ReturnStatus]] = {
    "authorize": {R.REQUESTED: R.AUTHORIZED},
    "reject": {R.REQUESTED: R.REJECTED},
    "ship": {R.AUTHORIZED: R.IN_TRANSIT},
    "receive": {R.AUTHORIZED: R.RECEIVED, R.IN_TRANSIT: R.RECEIVED},
}


@dataclass(frozen=True)
class ReceivedLine:
    product_id: UUID
    quantity: int
    restock_warehouse: str | None  # None: it cannot be sold again
    # The variant that came back (the product itself while it has none of its own).
    variant_id: UUID | None = None

    @property
    def key(self) -> UUID:
        return self.variant_id or self.product_id

    def as_record(self) -> dict[str, Any]:
        return {
            "product_id": str(self.product_id),
            "variant_id": str(self.key),
            "quantity": self.quantity,
            "restock_warehouse": self.restock_warehouse,
        }


@dataclass(frozen=True)
class AskedLine:
    """A line a buyer asks to return: a product, and the variant bought unless the order has
    only one of that product."""

    product_id: UUID
    quantity: int
    variant_id: UUID | None = None


def by_variant(
    seller_order: SellerOrder, lines: list[AskedLine]
) -> tuple[dict[UUID, int], dict[UUID, UUID]]:
    """The units asked for by variant (a variant named twice counts both), and each variant's
    product, as the seller order bought them."""
    units: dict[UUID, int] = {}
    products: dict[UUID, UUID] = {}
    for line in lines:
        variant = seller_order.line_variant(line.product_id, line.variant_id)
        units[variant] = units.get(variant, 0) + line.quantity
        products[variant] = line.product_id
    return units, products


def check_window(delivered_at: datetime | None, window_days: int, now: datetime) -> None:
    """Refuses a return of what was not delivered, or was delivered longer ago than the
    tenant's window."""
    if delivered_at is None:
        raise WrongReturnStep("only delivered lines can be returned")
    if now > delivered_at + timedelta(days=window_days):
        raise OutsideReturnWindow(
            f"returns are taken within {window_days} days of delivery; this was delivered "
            f"{delivered_at.date().isoformat()}"
        )


def _text(value: str, name: str, most: int) -> str:
    value = value.strip()
    if not 1 <= len(value) <= most:
        raise InvalidReturn(f"{name} needs 1 to {most} characters")
    return value


class Return(TenantAggregate):
    class Requested(TenantAggregate.Created):
        seller_order_id: UUID
        order_id: UUID
        buyer_id: UUID
        seller_id: UUID
        currency: str
        # variant id -> quantity (recorded before variants: product id, its own one variant)
        lines: dict[str, int]
        reason: str
        # variant id -> its product's id
        products: dict[str, str]
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["products"] = {line: line for line in state["lines"]}

    class Authorized(TenantAggregate.Event):
        instructions: str

    class Rejected(TenantAggregate.Event):
        reason: str

    class Shipped(TenantAggregate.Event):
        carrier: str
        tracking_number: str

    class Received(TenantAggregate.Event):
        lines: list[dict[str, Any]]  # ReceivedLine records
        refund_id: UUID | None
        refund_minor: int

    @classmethod
    def request(
        cls,
        *,
        tenant_id: UUID,
        seller_order_id: UUID,
        order_id: UUID,
        buyer_id: UUID,
        seller_id: UUID,
        currency: str,
        lines: dict[UUID, int],
        reason: str,
        products: dict[UUID, UUID] | None = None,
    ) -> Return:
        """`lines`: units by variant; `products`: each variant's product (none given: each
        line is a product without variants, its own one variant)."""
        products = products or {}
        if not lines or any(isinstance(q, bool) or q < 1 for q in lines.values()):
            raise InvalidReturn("a return needs at least one line of one unit or more")
        return cls(
            tenant_id=tenant_id,
            seller_order_id=seller_order_id,
            order_id=order_id,
            buyer_id=buyer_id,
            seller_id=seller_id,
            currency=currency,
            lines={str(v): q for v, q in lines.items()},
            reason=_text(reason, "reason", 500),
            products={str(v): str(products.get(v, v)) for v in lines},
        )

    @event(Requested)
    def __init__(
        self,
        tenant_id: UUID,
        seller_order_id: UUID,
        order_id: UUID,
        buyer_id: UUID,
        seller_id: UUID,
        currency: str,
        lines: dict[str, int],
        reason: str,
        products: dict[str, str],
    ) -> None:
        self.tenant_id = tenant_id
        self.seller_order_id = seller_order_id
        self.order_id = order_id
        self.buyer_id = buyer_id
        self.seller_id = seller_id
        self.currency = currency
        self.lines = lines
        self.products = products
        self.reason = reason
        self.status = R.REQUESTED.value

    def _next(self, command: str) -> None:
        if ReturnStatus(self.status) not in TRANSITIONS[command]:
            raise WrongReturnStep(f"cannot {command} a return that is {self.status}")

    def authorize(self, instructions: str) -> None:
        self._next("authorize")
        self._authorized(instructions=_text(instructions, "instructions", 2000))

    def reject(self, reason: str) -> None:
        self._next("reject")
        self._rejected(reason=_text(reason, "reason", 500))

    def ship(self, carrier: str, tracking_number: str) -> None:
        self._next("ship")
        self._shipped(
            carrier=_text(carrier, "carrier", 100),
            tracking_number=_text(tracking_number, "tracking_number", 100),
        )

    def line_variant(self, product_id: UUID, variant_id: UUID | None) -> UUID:
        """The variant of this return a received line names: the one given, or the product's
        only variant in the return (422 when it has several and none is named)."""
        asked = [UUID(v) for v, p in self.products.items() if p == str(product_id)]
        if variant_id is not None:
            return variant_id  # checked against the return's lines with the rest
        if len(asked) != 1:
            raise (
                ChooseVariant(f"return {self.id} has several variants of {product_id}")
                if asked
                else InvalidReturn(f"product {product_id} is not a line of this return")
            )
        return asked[0]

    def check_received(self, lines: list[ReceivedLine]) -> None:
        """What arrived: lines of this return, each at most what was asked to return."""
        self._next("receive")
        seen: set[UUID] = set()
        for line in lines:
            asked = self.lines.get(str(line.key))
            if asked is None or line.key in seen:
                raise InvalidReturn(f"variant {line.key} is not a line of this return")
            if isinstance(line.quantity, bool) or not 0 <= line.quantity <= asked:
                raise InvalidReturn(f"at most {asked} of variant {line.key} can arrive")
            seen.add(line.key)

    def receive(self, lines: list[ReceivedLine], refund_id: UUID | None, refund_minor: int) -> None:
        """Notes what arrived and the refund that paid it back (None if nothing did)."""
        self.check_received(lines)
        self._received(
            lines=[line.as_record() for line in lines],
            refund_id=refund_id,
            refund_minor=refund_minor,
        )

    @event(Authorized)
    def _authorized(self, instructions: str) -> None:
        self.status = R.AUTHORIZED.value

    @event(Rejected)
    def _rejected(self, reason: str) -> None:
        self.status = R.REJECTED.value

    @event(Shipped)
    def _shipped(self, carrier: str, tracking_number: str) -> None:
        self.status = R.IN_TRANSIT.value

    @event(Received)
    def _received(
        self, lines: list[dict[str, Any]], refund_id: UUID | None, refund_minor: int
    ) -> None:
        self.status = R.RECEIVED.value


def receive(
    ret: Return, so: SellerOrder, settlement: Settlement, lines: list[ReceivedLine]
) -> tuple[list[ReceivedLine], Refund | None]:
    """What arrived of a return: each line named by the variant bought, checked against what
    the return asked for; its units returned for good on the seller order (the rest of its
    claim let go); and, if what arrived paid anything still refundable, a refund of that,
    requested of the settlement, for the caller to pay back through the provider before it
    records the receipt (`Return.receive`). Returns the lines and the refund."""
    arrived = [
        replace(line, variant_id=ret.line_variant(line.product_id, line.variant_id))
        for line in lines
    ]
    ret.check_received(arrived)
    received = {line.key: line.quantity for line in arrived if line.quantity}
    paid, tax, platform = so.paid_for(received)
    amount = settlement.refund_of(paid)
    refund = None
    if amount:
        refund = Refund.of(so, amount, f"return {ret.id}: {ret.reason}"[:500])
        # The tax of what came back, and what the platform funded of it: theirs exactly.
        settlement.request_refund(refund.id, amount, tax, platform)
    so.end_return(ret.id, received)
    return arrived, refund
