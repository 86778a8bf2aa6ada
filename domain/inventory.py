"""Inventory: on-hand stock per warehouse, and the holds checkout takes against it.

Available = on hand - held - sold, never below zero. A hold is taken for one order line; it ends
exactly once: sold (payment arrived), or released (cancelled, payment failed, or expired)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import TenantAggregate
from domain.errors import Conflict, DomainError, Invalid

_WAREHOUSE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$")
MAX_ON_HAND = 10**9


class InventoryError(DomainError):
    """Base of the inventory context's errors."""


class InsufficientStock(InventoryError, Conflict):
    title = "Insufficient stock"

    def __init__(self, variant_id: UUID, wanted: int, available: int) -> None:
        super().__init__(f"variant {variant_id} has {available} available, {wanted} wanted")
        self.variant_id = variant_id
        self.wanted = wanted
        self.available = available


class HoldNotOpen(InventoryError, Conflict):
    title = "Hold not open"


class InvalidStock(InventoryError, Invalid):
    title = "Invalid stock"


class ReleaseReason(StrEnum):
    CANCELLED = "cancelled"
    PAYMENT_FAILED = "payment_failed"
    EXPIRED = "expired"


def hold_expiry(now: datetime, hold_timeout_s: int) -> datetime:
    """When the holds of an order placed `now` lapse unless it is paid: the tenant's hold
    timeout later (the order is then cancelled and its units released)."""
    return now + timedelta(seconds=hold_timeout_s)


class Stock(TenantAggregate):
    """The stock of one variant of a product across its warehouses (a product without variants
    is its own one variant, whose id is the product's). Every event names both."""

    class Event(TenantAggregate.Event):
        product_id: UUID
        variant_id: UUID
        # Recorded before variants existed, a stock was its product's: its variant is the
        # product itself (domain/variants.py), so every stock event reads back with one.
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["variant_id"] = state["product_id"]

    class Opened(Event, TenantAggregate.Created):
        seller_id: UUID

    class OnHandSet(Event):
        warehouse: str
        on_hand: int

    class Restocked(OnHandSet):
        """Returned units back on a warehouse's shelf: its on-hand count, now, and why."""

        quantity: int
        return_id: UUID

    class HoldTaken(Event):
        hold_id: str
        order_id: UUID
        quantity: int
        expires_at: datetime

    class HoldSold(Event):
        hold_id: str
        quantity: int

    class HoldReleased(Event):
        hold_id: str
        quantity: int
        reason: str

    class SaleReversed(Event):
        hold_id: str
        quantity: int

    class AlertSet(Event):
        """The seller wants to hear when available stock falls below `threshold` (0: never)."""

        warehouse: str
        threshold: int

    class AlertRaised(Event):
        """Available stock fell below a threshold; not raised again until it is back up."""

        seller_id: UUID
        warehouse: str
        threshold: int
        available: int

    @staticmethod
    def create_id(variant_id: UUID) -> UUID:
        """The stock of a variant (of a product without variants: of the product, whose id
        names its one variant), as it always was."""
        return uuid5(NAMESPACE_URL, f"velora:stock:{variant_id}")

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        kwargs.setdefault("product_id", self.product_id)
        kwargs.setdefault("variant_id", self.variant_id)
        super().trigger_event(event_class, **kwargs)

    @event(Opened)
    def __init__(
        self, tenant_id: UUID, product_id: UUID, seller_id: UUID, variant_id: UUID
    ) -> None:
        self.tenant_id = tenant_id
        self.product_id = product_id
        self.variant_id = variant_id
        self.seller_id = seller_id
        self.on_hand: dict[str, int] = {}
        self.holds: dict[str, int] = {}
        self.sales: dict[str, int] = {}  # holds that became sales, so a sale reverses only once
        self.sold = 0
        # Alert thresholds per warehouse, and whether each may be raised (it was not raised
        # since available last stood at or above it).
        self.alerts: dict[str, int] = {}
        self.armed: dict[str, bool] = {}

    def __deepcopy__(self, memo: dict[int, Any]) -> Stock:
        """Each command gets its own copy of a cached stock. A hot product's holds run to
        thousands, and everything a stock holds is immutable but its dicts (and the list of
        pending events), so copying those containers is a whole deep copy, many times faster
        than the generic one."""
        copy = object.__new__(type(self))
        copy.__dict__.update(
            {k: v.copy() if isinstance(v, dict | list) else v for k, v in self.__dict__.items()}
        )
        return copy

    @property
    def on_hand_total(self) -> int:
        return sum(self.on_hand.values())

    @property
    def held(self) -> int:
        return sum(self.holds.values())

    @property
    def available(self) -> int:
        return max(0, self.on_hand_total - self.held - self.sold)

    def set_on_hand(self, warehouse: str, on_hand: int) -> None:
        if not _WAREHOUSE.match(warehouse):
            raise InvalidStock("warehouse must be 1 to 64 letters, digits or . _ -")
        if not 0 <= on_hand <= MAX_ON_HAND:
            raise InvalidStock("on_hand must be between 0 and 1000000000")
        self._on_hand_set(warehouse=warehouse, on_hand=on_hand)
        self._raise_alerts()

    def restock(self, warehouse: str, quantity: int, return_id: UUID) -> None:
        """Puts `quantity` returned units back in the warehouse."""
        if not _WAREHOUSE.match(warehouse):
            raise InvalidStock("warehouse must be 1 to 64 letters, digits or . _ -")
        on_hand = self.on_hand.get(warehouse, 0) + quantity
        if quantity < 1 or on_hand > MAX_ON_HAND:
            raise InvalidStock("a restock is of one unit or more, up to 1000000000 on hand")
        self._restocked(
            warehouse=warehouse, on_hand=on_hand, quantity=quantity, return_id=return_id
        )

    def take_hold(self, hold_id: str, order_id: UUID, quantity: int, expires_at: datetime) -> None:
        if quantity < 1:
            raise InvalidStock("a hold is for at least one unit")
        if hold_id in self.holds:
            raise HoldNotOpen(f"hold {hold_id} is already taken")
        if quantity > self.available:
            raise InsufficientStock(self.variant_id, quantity, self.available)
        self._hold_taken(
            hold_id=hold_id, order_id=order_id, quantity=quantity, expires_at=expires_at
        )
        self._raise_alerts()

    def sell(self, hold_id: str) -> None:
        """Turns a hold into a sale: payment arrived."""
        self._hold_sold(hold_id=hold_id, quantity=self._open(hold_id))

    def release(self, hold_id: str, reason: ReleaseReason) -> None:
        self._hold_released(hold_id=hold_id, quantity=self._open(hold_id), reason=reason.value)

    def reverse_sale(self, hold_id: str) -> None:
        """A paid order was cancelled: its units are available again."""
        if hold_id not in self.sales:
            raise HoldNotOpen(f"hold {hold_id} was not sold, or its sale was already reversed")
        self._sale_reversed(hold_id=hold_id, quantity=self.sales[hold_id])

    def set_alert(self, warehouse: str, threshold: int) -> None:
        """Alerts the seller when available stock falls below `threshold` (0 removes the
        alert): once per fall, and at once if it stands below already."""
        if not _WAREHOUSE.match(warehouse):
            raise InvalidStock("warehouse must be 1 to 64 letters, digits or . _ -")
        if isinstance(threshold, bool) or not 0 <= threshold <= MAX_ON_HAND:
            raise InvalidStock("threshold must be between 0 and 1000000000")
        if self.alerts.get(warehouse, 0) == threshold:
            return
        self._alert_set(warehouse=warehouse, threshold=threshold)
        self._raise_alerts()

    def _raise_alerts(self) -> None:
        available = self.available
        for warehouse, threshold in sorted(self.alerts.items()):
            if self.armed.get(warehouse) and available < threshold:
                self._alert_raised(
                    seller_id=self.seller_id,
                    warehouse=warehouse,
                    threshold=threshold,
                    available=available,
                )

    def _rearm(self) -> None:
        """Every alert whose threshold available stock has reached again may be raised again."""
        available = self.available
        for warehouse, threshold in self.alerts.items():
            if available >= threshold:
                self.armed[warehouse] = True

    def _open(self, hold_id: str) -> int:
        if hold_id not in self.holds:
            raise HoldNotOpen(f"hold {hold_id} is not open (never taken, sold or released)")
        return self.holds[hold_id]

    @event(OnHandSet)
    def _on_hand_set(self, warehouse: str, on_hand: int) -> None:
        self.on_hand[warehouse] = on_hand
        self._rearm()

    @event(Restocked)
    def _restocked(self, warehouse: str, on_hand: int, quantity: int, return_id: UUID) -> None:
        self.on_hand[warehouse] = on_hand
        self._rearm()

    @event(AlertSet)
    def _alert_set(self, warehouse: str, threshold: int) -> None:
        if threshold:
            self.alerts[warehouse] = threshold
            self.armed[warehouse] = True
        else:
            self.alerts.pop(warehouse, None)
            self.armed.pop(warehouse, None)

    @event(AlertRaised)
    def _alert_raised(
        self, seller_id: UUID, warehouse: str, threshold: int, available: int
    ) -> None:
        self.armed[warehouse] = False

    @event(HoldTaken)
    def _hold_taken(
        self, hold_id: str, order_id: UUID, quantity: int, expires_at: datetime
    ) -> None:
        self.holds[hold_id] = quantity

    @event(HoldSold)
    def _hold_sold(self, hold_id: str, quantity: int) -> None:
        del self.holds[hold_id]
        self.sales[hold_id] = quantity
        self.sold += quantity

    @event(SaleReversed)
    def _sale_reversed(self, hold_id: str, quantity: int) -> None:
        del self.sales[hold_id]
        self.sold -= quantity
        self._rearm()

    @event(HoldReleased)
    def _hold_released(self, hold_id: str, quantity: int, reason: str) -> None:
        del self.holds[hold_id]
        self._rearm()
