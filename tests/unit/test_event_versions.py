"""Events are never rewritten, so events recorded before a field existed must still load: the
mapper upcasts them. These are stored exactly as the earlier versions wrote them."""

from __future__ import annotations

from uuid import uuid4

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from domain.base import topics_of
from domain.ledger import FORMER_KINDS, Transfer
from domain.orders import Order
from domain.payouts import Payout
from domain.seller_orders import SellerOrder
from eventstore.context import CommandContext, recording_under
from eventstore.mapper import EnvelopeMapper


def stored(cls: type, data: dict[str, object]) -> StoredEvent:
    mapper = EnvelopeMapper()
    state = mapper.transcoder.encode({"data": data, "meta": {"actor": "test"}})
    return StoredEvent(
        originator_id=uuid4(), originator_version=2, topic=get_topic(cls), state=state
    )


def base() -> dict[str, object]:
    return {"timestamp": "2026-11-01T10:00:00+00:00", "tenant_id": uuid4()}


def test_an_order_paid_before_charge_ids_were_kept_has_none() -> None:
    event = EnvelopeMapper().to_domain_event(stored(Order.Paid, base()))
    assert isinstance(event, Order.Paid)
    assert event.charge_id == ""


def test_a_payout_started_before_sources_were_kept_has_none() -> None:
    data = {
        **base(),
        "run_key": "r",
        "seller_id": uuid4(),
        "currency": "USD",
        "amount_minor": 100,
        "receivable_netted_minor": 0,
    }
    event = EnvelopeMapper().to_domain_event(stored(Payout.Started, data))
    assert isinstance(event, Payout.Started)
    assert (event.destination, event.sources) == ("", [])


def test_a_payout_paid_with_one_transfer_id_has_a_list_of_one() -> None:
    event = EnvelopeMapper().to_domain_event(
        stored(Payout.Paid, {**base(), "provider_transfer_id": "tr_1"})
    )
    assert isinstance(event, Payout.Paid)
    assert event.provider_transfer_ids == ["tr_1"]


def test_new_events_carry_their_version_and_load_unchanged() -> None:
    mapper = EnvelopeMapper()
    order_paid = Order.Paid(
        originator_id=uuid4(),
        originator_version=3,
        timestamp=Order.Paid.create_timestamp(),
        tenant_id=uuid4(),
        charge_id="ch_1",
    )
    with recording_under(CommandContext.system("test")):
        record = mapper.to_stored_event(order_paid)
    assert b'"class_version":2' in record.state.replace(b" ", b"")
    loaded = mapper.to_domain_event(record)
    assert isinstance(loaded, Order.Paid) and loaded.charge_id == "ch_1"


def test_events_stored_before_their_class_moved_or_was_renamed_load_as_it_is_now() -> None:
    """Seller orders moved from domain/orders.py to domain/seller_orders.py, and a return's
    `ReturnHeld` is now `ReturnClaimed`: the events stored under the old topics load as the
    classes they are now, and whatever reads the log by topic asks for the old ones too."""
    placed = {
        **base(),
        "order_id": uuid4(),
        "buyer_id": uuid4(),
        "seller_id": uuid4(),
        "currency": "USD",
        "lines": [],
        "subtotal_minor": 100,
        "commission_minor": 10,
        "seller_net_minor": 90,
        "originator_topic": "domain.orders:SellerOrder",
    }
    record = stored(SellerOrder.Placed, placed)
    record = StoredEvent(record.originator_id, 1, "domain.orders:SellerOrder.Placed", record.state)
    event = EnvelopeMapper().to_domain_event(record)
    assert isinstance(event, SellerOrder.Placed)
    assert isinstance(event.mutate(None), SellerOrder)
    claimed = StoredEvent(
        uuid4(),
        2,
        "domain.orders:SellerOrder.ReturnHeld",
        stored(SellerOrder.ReturnClaimed, {**base(), "return_id": uuid4(), "lines": {}}).state,
    )
    assert isinstance(EnvelopeMapper().to_domain_event(claimed), SellerOrder.ReturnClaimed)
    assert topics_of(SellerOrder.Placed) == {
        "domain.seller_orders:SellerOrder.Placed",
        "domain.orders:SellerOrder.Placed",
    }
    assert topics_of(SellerOrder.ReturnClaimed) == {
        "domain.seller_orders:SellerOrder.ReturnClaimed",
        "domain.orders:SellerOrder.ReturnClaimed",
        "domain.orders:SellerOrder.ReturnHeld",
    }


def test_transfers_made_before_hold_was_kept_for_stock_load_with_their_kinds_renamed() -> None:
    made = {
        **base(),
        "key": "k",
        "currency": "USD",
        "debit_account_id": uuid4(),
        "credit_account_id": uuid4(),
        "amount": 100,
        "pending": True,
        "reverses": None,
        "originator_topic": "domain.ledger:Transfer",
    }
    for old, new in FORMER_KINDS.items():
        event = EnvelopeMapper().to_domain_event(stored(Transfer.Made, {**made, "kind": old}))
        assert isinstance(event, Transfer.Made) and event.kind == new
    kept = EnvelopeMapper().to_domain_event(stored(Transfer.Made, {**made, "kind": "payout"}))
    assert isinstance(kept, Transfer.Made) and kept.kind == "payout"
