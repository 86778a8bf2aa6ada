"""Fifty buyers race to check out the last N units of one product on PostgreSQL: exactly N win,
everyone else is told the line lacks stock, and exactly N units end up sold."""

from __future__ import annotations

import threading
from uuid import UUID, uuid4

import sqlalchemy as sa

from api.bootstrap import Container
from domain.inventory import Stock
from domain.money import Money
from domain.orders import LineUnavailable
from eventstore.context import CommandContext
from projections.tables import products

BUYERS, UNITS = 50, 7
ADDRESS = {"name": "R", "line1": "1 St", "city": "X", "postal_code": "1", "country": "DE"}


def ctx() -> CommandContext:
    return CommandContext.system("race")


def test_fifty_checkouts_for_the_last_units_sell_exactly_that_many(
    servers_container: Container,
) -> None:
    c = servers_container
    assert c.log.backend == "postgres"
    tenant = c.identity.register_tenant(
        ctx(),
        name="Race",
        currency="USD",
        commission_bps=0,
        escrow_hold_days=0,
        product_moderation="auto",
    ).id
    seller_user = uuid4()
    seller = c.sellers.register_seller(
        ctx(), tenant_id=tenant, user_id=seller_user, display_name="S", country="DE"
    ).id
    c.sellers.approve(ctx(), seller, tenant)
    listed, _ = c.catalog.list_product(
        ctx(),
        seller_id=seller,
        within=tenant,
        sku="LAST",
        title="Last ones",
        description="",
        category="c",
        price=Money(1000, "USD"),
        attributes={},
    )
    product = listed.id
    c.catalog.set_stock(ctx(), product, seller, "main", UNITS)

    carts = []
    for _ in range(BUYERS):
        buyer = uuid4()
        cart = c.checkout.open_cart(ctx(), tenant, buyer).id
        c.checkout.set_quantity(ctx(), cart, buyer, product, 1)
        carts.append((buyer, cart))

    won: list[UUID] = []
    refused: list[LineUnavailable] = []
    errors: list[BaseException] = []
    start = threading.Barrier(BUYERS)

    def race(buyer: UUID, cart: UUID) -> None:
        start.wait()
        try:
            done = c.checkout.checkout(
                ctx(),
                tenant_id=tenant,
                buyer_id=buyer,
                cart_id=cart,
                shipping_address=ADDRESS,
                idempotency_key=str(cart),
            )
            won.append(done.order.id)
        except LineUnavailable as e:
            refused.append(e)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=race, args=pair) for pair in carts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert errors == []
    assert len(won) == UNITS
    assert len(refused) == BUYERS - UNITS
    assert all(str(product) in e.detail for e in refused)
    stock: Stock = c.checkout.repository.get(Stock.create_id(product))
    assert (stock.held, stock.sold, stock.available) == (UNITS, 0, 0)

    for order_id in won:
        c.checkout.record_payment(ctx(), order_id, succeeded=True)
    stock = c.checkout.repository.get(Stock.create_id(product))
    assert (stock.held, stock.sold, stock.available) == (0, UNITS, 0)
    assert len(stock.sales) == UNITS

    c.catch_up()
    with c.read_store.read() as conn:
        row = conn.execute(sa.select(products).where(products.c.product_id == str(product))).one()
    assert (row.on_hand, row.held, row.sold) == (UNITS, 0, UNITS)
