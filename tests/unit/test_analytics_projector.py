"""The analytics projector on its own position: a read store upgraded from when the orders
projector wrote the facts starts it where the orders projector stood, so nothing is counted twice
or missed; and what it counts does not depend on how far the orders projector has gone past it,
so a rebuild of the analytics alone gives the rows it keeps live. On the embedded default and on
PostgreSQL + MariaDB."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest
import sqlalchemy as sa
from alembic import command

from api.bootstrap import Container
from domain.carts import Cart
from domain.identity import User
from domain.order_lines import PricedLine
from domain.orders import Order, place
from domain.seller_orders import SellerOrder
from domain.settlement import Settlement
from eventstore.context import CommandContext
from migrations.runner import alembic_config
from projections.analytics.queries import Range
from projections.analytics.tables import analytics_seller_orders, buyer_days
from projections.schema import projection_quarantine
from projections.scope import TenantScope
from tests.conftest import built, make_settings

ADDRESS = {"name": "B", "line1": "1", "city": "C", "postal_code": "1", "country": "DE"}
CTX = CommandContext.system("test")


@pytest.fixture(params=["embedded", "servers"])
def container(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Container]:
    servers = {}
    if request.param == "servers":
        servers = {
            "eventstore_url": request.getfixturevalue("new_pg_database")(),
            "read_db_url": request.getfixturevalue("new_mysql_database")(),
        }
    c = built(make_settings(tmp_path / "velora", **servers))
    yield c
    c.close()


def _tenant(container: Container) -> UUID:
    return container.identity.register_tenant(
        CTX, name="T", currency="USD", commission_bps=1000, escrow_hold_days=0
    ).id


def _placed(
    container: Container, tenant: UUID, buyer: UUID, amount: int, guest_email: str = ""
) -> tuple[Order, list[SellerOrder]]:
    """An order of one line from one seller, placed."""
    key = uuid4().hex
    cart = Cart(tenant_id=tenant, buyer_id=buyer)
    product = uuid4()
    cart.set_quantity(product, 1)
    order, parts = place(
        order_id=Order.create_id(tenant, buyer, key),
        tenant_id=tenant,
        idempotency_key=key,
        buyer_id=buyer,
        cart_id=cart.id,
        lines=[PricedLine(product, uuid4(), "P", 1, amount, "USD", 1000)],
        shipping_address=ADDRESS,
        expires_at=datetime.now(UTC) + timedelta(hours=1),
        guest_email=guest_email,
    )
    cart.check_out(order.id)
    container.checkout.record(CTX, cart, order, *parts)
    return order, parts


def _pay(container: Container, order: Order, parts: list[SellerOrder]) -> Settlement:
    """Pays the order; the settlement of its first seller order."""
    order.pay("ch")
    settlements = []
    for part in parts:
        part.pay()
        settlements.append(Settlement.fund(part))
    container.checkout.record(CTX, order, *parts, *settlements)
    return settlements[0]


def _paid_order(container: Container, tenant: UUID, buyer: UUID, amount: int) -> Settlement:
    return _pay(container, *_placed(container, tenant, buyer, amount))


def _verified(container: Container, tenant: UUID, email: str) -> UUID:
    user = User(tenant_id=tenant, email=email, password_hash="x", roles=["buyer"])
    user.verify_email()
    container.checkout.record(CTX, user)
    return user.id


def _today(container: Container, tenant: UUID) -> dict[str, int]:
    today = datetime.now(UTC).date()
    totals = container.analytics_queries.marketplace(
        TenantScope.only(tenant), "USD", Range(today, today, "day")
    )["totals"]
    return {
        "gmv": totals["gmv"]["amount"],
        "refunds": totals["refunds"]["amount"],
        "orders": totals["orders"],
        "active_buyers": totals["active_buyers"],
    }


def _migrate(container: Container, revision: str, *, down: bool = False) -> None:
    cfg = alembic_config()
    with container.read_store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)


def _all_but_analytics(container: Container) -> None:
    """Every projector but the analytics one brought to the head, upstream first."""
    for runner in container.runners:
        if runner.name != "analytics":
            runner.catch_up()


def test_an_upgraded_store_starts_analytics_where_orders_stood_and_counts_nothing_twice(
    container: Container,
) -> None:
    tenant = _tenant(container)
    buyers = [uuid4() for _ in range(3)]
    disputed = _paid_order(container, tenant, buyers[0], 1_000)
    _paid_order(container, tenant, buyers[1], 2_000)
    dispute = disputed.open_dispute(uuid4(), 400, 0)
    container.checkout.record(CTX, disputed)
    container.catch_up()
    store = container.read_store
    stood = store.position("orders")
    assert store.position("analytics") == stood

    # The read store as the release before left it: the orders projector at `stood`, having
    # written the facts up to there, one tenant quarantined in it, and no analytics projector.
    _migrate(container, "0037", down=True)
    assert "analytics" not in store.positions()
    assert "analytics_seller_orders" not in sa.inspect(store.engine).get_table_names()
    held = str(uuid4())
    with store.begin() as conn:
        conn.execute(
            projection_quarantine.insert().values(
                name="orders",
                tenant_id=held,
                position=1,
                topic="t",
                originator_id=held,
                failure="boom",
                quarantined_at=datetime(2026, 1, 1),
            )
        )
    # Events the release before never projected: a dispute opened before the upgrade is lost
    # after it, and two more orders are paid.
    disputed.close_dispute(dispute.dispute_id, won=False, fee_minor=0)
    container.checkout.record(CTX, disputed)
    _paid_order(container, tenant, buyers[1], 3_000)
    _paid_order(container, tenant, buyers[2], 4_000)

    _migrate(container, "head")
    assert store.position("analytics") == store.position("orders") == stood
    with store.read() as conn:
        copied = conn.execute(
            sa.select(projection_quarantine.c.tenant_id, projection_quarantine.c.failure).where(
                projection_quarantine.c.name == "analytics"
            )
        ).all()
        kept = conn.execute(
            sa.select(analytics_seller_orders.c.dispute_share_amount).where(
                analytics_seller_orders.c.seller_order_id == str(disputed.seller_order_id)
            )
        ).scalar_one()
    assert copied == [(held, "reads orders, which quarantined this tenant: boom")]
    assert kept == 400

    # The orders projector moves on alone: a downgrade now would lose the facts in between.
    _all_but_analytics(container)
    assert store.position("analytics") == stood < store.position("orders")
    with pytest.raises(RuntimeError, match="analytics projector must stand where"):
        _migrate(container, "0037", down=True)

    container.catch_up()
    assert _today(container, tenant) == {
        "gmv": 10_000,
        "refunds": 400,
        "orders": 4,
        "active_buyers": 3,
    }
    # and a rebuild from the log folds exactly the rows the upgraded store holds
    report = container.operations.rebuild_models(["analytics"])
    assert report.swapped and report.matched, report.differences


def test_what_analytics_counts_does_not_depend_on_how_far_orders_has_gone(
    container: Container,
) -> None:
    """The orders model changes two things after the events the analytics count them at: a
    guest's order joins the account that verifies its email, also after the payment, and a
    second dispute replaces the first one's share. Here the orders projector runs ahead of the
    analytics one throughout, as it may in a batch of the projection group, after a quarantine,
    or in a rebuild of the analytics alone."""
    tenant = _tenant(container)
    early, late, other = uuid4(), uuid4(), uuid4()
    # A guest pays, then verifies its email with an account, which pays an order of its own.
    _pay(container, *_placed(container, tenant, early, 1_000, guest_email="early@example.test"))
    _all_but_analytics(container)
    joined_after = _verified(container, tenant, "early@example.test")
    _paid_order(container, tenant, joined_after, 2_000)
    # Another guest verifies its email with an account between placing its order and paying.
    waiting = _placed(container, tenant, late, 500, guest_email="late@example.test")
    _all_but_analytics(container)
    joined_before = _verified(container, tenant, "late@example.test")
    _all_but_analytics(container)
    _pay(container, *waiting)
    # A dispute lost, then a second one opened on what is left.
    disputed = _paid_order(container, tenant, other, 3_000)
    first = disputed.open_dispute(uuid4(), 1_000, 0)
    disputed.close_dispute(first.dispute_id, won=False, fee_minor=0)
    disputed.open_dispute(uuid4(), 500, 0)
    container.checkout.record(CTX, disputed)
    _all_but_analytics(container)

    container.catch_up()
    with container.read_store.read() as conn:
        paid_by = set(conn.execute(sa.select(buyer_days.c.buyer_id)).scalars())
    # who paid, as the orders model had it at each payment
    assert paid_by == {str(early), str(joined_after), str(joined_before), str(other)}
    assert _today(container, tenant) == {
        "gmv": 6_500,
        "refunds": 1_000,  # the first dispute's share, lost; the second is still open
        "orders": 4,
        "active_buyers": 4,
    }
    report = container.operations.rebuild_models(["analytics"])
    assert report.swapped and report.matched, report.differences
    with container.read_store.read() as conn:
        assert set(conn.execute(sa.select(buyer_days.c.buyer_id)).scalars()) == paid_by
