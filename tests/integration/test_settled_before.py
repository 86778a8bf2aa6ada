"""A log recorded before settlements existed (tests/fixtures/settled_before, made by the code of
2ce0d43: seller orders kept their money events in their own streams) read by today's code: the
read models rebuild from it as they were, commands on those seller orders carry their
settlements over and go on from where the old events left them, the books balance, the old
streams are never rewritten, and a rebuild of everything, old events and new, gives the same
read models as the live ones."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa

from api.bootstrap import Container
from domain.carried_over import MONEY_EVENTS
from domain.returns import ReceivedLine
from domain.seller_orders import SellerOrder
from domain.settlement import EscrowStatus, Settlement, settlement_id
from eventstore.context import CommandContext
from projections.orders.tables import seller_orders
from projections.scope import TenantScope
from services.settlements import settlement_of
from tests.conftest import built, make_settings

FIXTURE = Path(__file__).parent.parent / "fixtures" / "settled_before"
IDS: dict[str, str] = json.loads((FIXTURE / "ids.json").read_text())
MONEY_COLUMNS = (
    "status",
    "escrow_status",
    "refunded_amount",
    "commission_reversed_amount",
    "paid_out_amount",
    "payout_remaining",
    "dispute_status",
    "dispute_share_amount",
    "dispute_lost_amount",
    "dispute_fee_amount",
)


def ctx() -> CommandContext:
    return CommandContext.system("test")


def old_rows() -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(FIXTURE / "events.sqlite3")) as conn:
        return conn.execute(
            "SELECT originator_id, originator_version, topic, state FROM velora_events"
        ).fetchall()


def restored(data_dir: Path) -> Container:
    data_dir.mkdir(parents=True)
    shutil.copy2(FIXTURE / "events.sqlite3", data_dir / "events.sqlite3")
    container = built(make_settings(data_dir))
    container.catch_up()
    return container


@pytest.fixture
def before(tmp_path: Path) -> Iterator[Container]:
    container = restored(tmp_path / "velora")
    yield container
    container.close()


def so_id(name: str) -> UUID:
    return UUID(IDS[name])


def rows(c: Container) -> dict[str, dict[str, Any]]:
    """Every seller order's money columns, as the read model has them."""
    with c.read_store.read() as conn:
        found = conn.execute(sa.select(seller_orders)).mappings().all()
    return {row["seller_order_id"]: {k: row[k] for k in MONEY_COLUMNS} for row in found}


def test_the_read_models_rebuild_from_the_old_log_as_they_were(before: Container) -> None:
    seen = rows(before)
    a = seen[IDS["A"]]
    assert (a["status"], a["escrow_status"]) == ("paid", "partially_refunded")
    assert (a["refunded_amount"], a["commission_reversed_amount"]) == (300, 30)
    assert (seen[IDS["B"]]["status"], seen[IDS["B"]]["paid_out_amount"]) == ("completed", 900)
    c, d = seen[IDS["C"]], seen[IDS["D"]]
    assert (c["dispute_status"], c["dispute_share_amount"]) == ("open", 200)
    assert (d["dispute_status"], d["dispute_lost_amount"]) == ("lost", 100)
    assert seen[IDS["E"]]["status"] == "cancelled"
    assert seen[IDS["E"]]["escrow_status"] == EscrowStatus.REFUNDED
    assert seen[IDS["F"]]["escrow_status"] == EscrowStatus.RELEASED


def test_old_seller_orders_carry_their_money_over_and_go_on(
    before: Container, tmp_path: Path
) -> None:
    c, tenant = before, UUID(IDS["tenant"])
    # A: the refund asked for before is approved now, from escrow; then it ships and is
    # delivered, and escrow releases what the two refunds left.
    c.refunds.approve(ctx(), UUID(IDS["A_pending_refund"]), within=tenant, seller_id=None)
    c.fulfilment.ship(
        ctx(), so_id("A"), seller_id=UUID(IDS["seller0"]), carrier="X", tracking_number="2"
    )
    c.fulfilment.deliver(ctx(), so_id("A"), within=tenant, seller_id=None)
    # C: the dispute opened before is won; its reserve goes back to the payable.
    c.disputes.close_dispute(
        ctx(),
        provider="local",
        event_id="evt_c_closed",
        event_type="charge.dispute.closed",
        intent_id=IDS["C_intent"],
        dispute_id=_dispute_of(c, so_id("C")),
        amount_minor=200,
        currency="usd",
        reason="fraudulent",
        won=True,
        fee_minor=0,
    )
    # F: the return asked for before arrives; its unit is refunded after release, charged back
    # to the seller, and the seller order is refunded in full.
    c.returns.receive(
        ctx(),
        UUID(IDS["F_return"]),
        within=tenant,
        seller_id=None,
        lines=[ReceivedLine(UUID(IDS["product0"]), 1, None)],
    )
    c.catch_up()
    run = c.payout_runs.run(ctx(), TenantScope.only(tenant), run_key="after")
    c.catch_up()

    settlements = {name: _settlement(c, name) for name in "ABCDEF"}
    # Those a command needed were carried over and saved, once; the others wait.
    for name in "ABCDEF":
        stream = list(c.fulfilment.repository.event_store.get(settlement_id(so_id(name))))
        if name in "ACF":
            assert isinstance(stream[0], Settlement.CarriedOver), name
            assert not any(isinstance(e, Settlement.CarriedOver) for e in stream[1:])
        else:
            assert stream == [], name
    a = settlements["A"]
    assert (a.refunded_minor, a.escrow, a.escrow_generation) == (500, "released", 2)
    assert a.released_net_minor == 900 - 270 - 180  # each refund took its share of commission
    assert settlements["C"].dispute_status == "won" and settlements["C"].escrow == "released"
    assert settlements["F"].refunded_in_full
    assert c.fulfilment.get_or_none(so_id("F")).status == "refunded"
    assert settlements["E"].cancelled and settlements["E"].refundable_minor == 0
    # Payouts took what seller 0 has released, net of the charge back of F, and all of C.
    assert {p.status for p in run.made} == {"paid"}
    assert c.ledger_queries.trial_balance(TenantScope.only(tenant))["balanced"]

    seen = rows(c)
    assert seen[IDS["A"]]["status"] == "completed"
    assert (seen[IDS["A"]]["refunded_amount"], seen[IDS["A"]]["escrow_status"]) == (
        500,
        "released",
    )
    assert seen[IDS["C"]]["dispute_status"] == "won"
    assert (seen[IDS["F"]]["status"], seen[IDS["F"]]["refunded_amount"]) == ("refunded", 1000)

    # The old streams are as they were stored; the old money events are never added to.
    old = set(old_rows())
    with closing(sqlite3.connect(c.settings.data_dir / "events.sqlite3")) as conn:
        now = conn.execute(
            "SELECT originator_id, originator_version, topic, state FROM velora_events"
        ).fetchall()
    assert old <= set(now)
    new_topics = {topic for _, _, topic, _ in set(now) - old}
    assert not {t for t in new_topics if "SellerOrder." in t and t.split(".")[-1] in MONEY_EVENTS}
    assert "domain.seller_orders:SellerOrder.RefundedInFull" in new_topics  # F

    # A read store rebuilt from the whole log, old events and new, is the live one.
    again = restored_from(c, tmp_path / "again")
    try:
        assert rows(again) == seen
    finally:
        again.close()


def restored_from(c: Container, data_dir: Path) -> Container:
    data_dir.mkdir(parents=True)
    with (
        closing(sqlite3.connect(c.settings.data_dir / "events.sqlite3")) as live,
        closing(sqlite3.connect(data_dir / "events.sqlite3")) as copy,
    ):
        live.backup(copy)
    container = built(make_settings(data_dir))
    container.catch_up()
    return container


def _settlement(c: Container, name: str) -> Settlement:
    """The seller order's settlement as a command would find it (carried over if need be)."""
    so: SellerOrder = c.fulfilment.repository.get(so_id(name))
    found = settlement_of(c.fulfilment, so)
    assert found is not None
    return found


def _dispute_of(c: Container, seller_order_id: UUID) -> str:
    so: SellerOrder = c.fulfilment.repository.get(seller_order_id)
    for e in c.fulfilment.repository.event_store.get(so.id):
        if type(e).__name__ == "DisputeOpened":
            dispute = c.disputes.repository.get(e.dispute_id)
            return str(dispute.provider_dispute_id)
    raise AssertionError("no dispute")
