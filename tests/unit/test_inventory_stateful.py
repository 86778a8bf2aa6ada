"""Model-based test of inventory: random stock changes, holds, payments, cancellations, failed
payments, expiry and stock alerts against a plain reference model, with the invariants checked
after every step, and the aggregate rebuilt from its stored events checked against the live
one. An alert is raised exactly when available stock falls below its threshold, once per fall."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from eventsourcing.application import Application
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from domain.inventory import HoldNotOpen, InsufficientStock, InvalidStock, ReleaseReason, Stock

WAREHOUSES = ["berlin", "paris", "madrid"]
HOLD_S = 1800


class InventoryMachine(RuleBasedStateMachine):
    @initialize()
    def open_stock(self) -> None:
        self.store = Application()  # in-memory event store: the replay check
        product = uuid4()  # its own one variant
        self.stock = Stock(
            tenant_id=uuid4(), product_id=product, seller_id=uuid4(), variant_id=product
        )
        self.now = datetime(2026, 1, 1, tzinfo=UTC)
        self.on_hand: dict[str, int] = {}
        self.holds: dict[str, tuple[int, datetime]] = {}
        self.resolved: set[str] = set()
        self.sold = 0
        self.count = 0
        self.alerts: dict[str, int] = {}
        self.armed: dict[str, bool] = {}

    def model_available(self) -> int:
        held = sum(q for q, _ in self.holds.values())
        return max(0, sum(self.on_hand.values()) - held - self.sold)

    def alerts_follow_the_model(self) -> None:
        """After a step: the alerts the stock raised are those whose threshold available
        stock is now below and that were not raised since it last stood at or above it."""
        available, expected = self.model_available(), []
        for warehouse, threshold in sorted(self.alerts.items()):
            if available >= threshold:
                self.armed[warehouse] = True
            elif self.armed[warehouse]:
                expected.append((warehouse, threshold, available))
                self.armed[warehouse] = False
        raised = [
            (e.warehouse, e.threshold, e.available)
            for e in self.stock.pending_events
            if isinstance(e, Stock.AlertRaised)
        ]
        assert raised == expected

    @rule(warehouse=st.sampled_from(WAREHOUSES), threshold=st.integers(0, 30))
    def set_alert(self, warehouse: str, threshold: int) -> None:
        self.stock.set_alert(warehouse, threshold)
        if threshold == self.alerts.get(warehouse, 0):
            pass  # unchanged: nothing recorded, the alert's state stays
        elif threshold:
            self.alerts[warehouse], self.armed[warehouse] = threshold, True
        else:
            self.alerts.pop(warehouse, None)
            self.armed.pop(warehouse, None)
        self.alerts_follow_the_model()

    @rule(warehouse=st.sampled_from(WAREHOUSES), on_hand=st.integers(-2, 40))
    def set_on_hand(self, warehouse: str, on_hand: int) -> None:
        if on_hand < 0:
            try:
                self.stock.set_on_hand(warehouse, on_hand)
            except InvalidStock:
                return
            raise AssertionError("negative stock was accepted")
        self.stock.set_on_hand(warehouse, on_hand)
        self.on_hand[warehouse] = on_hand
        self.alerts_follow_the_model()

    @rule(quantity=st.integers(1, 12))
    def take_hold(self, quantity: int) -> None:
        self.count += 1
        hold_id = f"h{self.count}"
        expires = self.now + timedelta(seconds=HOLD_S)
        before = self.model_available()
        try:
            self.stock.take_hold(hold_id, uuid4(), quantity, expires)
        except InsufficientStock as e:
            assert quantity > before and e.available == before
            return
        assert quantity <= before, "a hold was granted beyond what was available"
        self.holds[hold_id] = (quantity, expires)
        self.alerts_follow_the_model()

    @precondition(lambda self: self.holds)
    @rule(data=st.data())
    def pay(self, data: st.DataObject) -> None:
        hold_id = data.draw(st.sampled_from(sorted(self.holds)))
        self.stock.sell(hold_id)
        self.sold += self.holds.pop(hold_id)[0]
        self.resolved.add(hold_id)
        self.alerts_follow_the_model()

    @precondition(lambda self: self.holds)
    @rule(
        data=st.data(),
        reason=st.sampled_from([ReleaseReason.CANCELLED, ReleaseReason.PAYMENT_FAILED]),
    )
    def release(self, data: st.DataObject, reason: ReleaseReason) -> None:
        hold_id = data.draw(st.sampled_from(sorted(self.holds)))
        self.stock.release(hold_id, reason)
        del self.holds[hold_id]
        self.resolved.add(hold_id)
        self.alerts_follow_the_model()

    @rule(minutes=st.integers(1, 45))
    def time_passes_and_the_scheduler_expires_holds(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)
        for hold_id, (_, expires) in sorted(self.holds.items()):
            if expires <= self.now:
                self.stock.release(hold_id, ReleaseReason.EXPIRED)
                del self.holds[hold_id]
                self.resolved.add(hold_id)
                self.alerts_follow_the_model()

    @precondition(lambda self: self.resolved)
    @rule(data=st.data(), sell=st.booleans())
    def a_hold_ends_only_once(self, data: st.DataObject, sell: bool) -> None:
        hold_id = data.draw(st.sampled_from(sorted(self.resolved)))
        try:
            if sell:
                self.stock.sell(hold_id)
            else:
                self.stock.release(hold_id, ReleaseReason.CANCELLED)
        except HoldNotOpen:
            return
        raise AssertionError(f"hold {hold_id} ended twice")

    @invariant()
    def matches_the_model(self) -> None:
        if not hasattr(self, "stock"):
            return
        assert self.stock.on_hand == self.on_hand
        assert self.stock.holds == {h: q for h, (q, _) in self.holds.items()}
        assert self.stock.sold == self.sold
        assert self.stock.available == self.model_available() >= 0
        assert self.stock.held >= 0 and self.stock.sold >= 0

    @invariant()
    def replaying_the_events_gives_the_same_stock(self) -> None:
        if not hasattr(self, "stock"):
            return
        self.store.save(self.stock)
        replayed = self.store.repository.get(self.stock.id)
        assert (replayed.on_hand, replayed.holds, replayed.sold, replayed.armed) == (
            self.stock.on_hand,
            self.stock.holds,
            self.stock.sold,
            self.stock.armed,
        )


InventoryMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None
)
TestInventoryMachine = InventoryMachine.TestCase
