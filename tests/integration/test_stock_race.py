"""Fifty buyers race to check out the last N units of one product on PostgreSQL: exactly N win,
everyone else is told the line lacks stock, and exactly N units end up sold."""

from __future__ import annotations

from uuid import uuid4

import sqlalchemy as sa

from api.bootstrap import Container
from domain.inventory import Stock
from domain.money import Money
from projections.catalog.tables import products
from tests.integration.checkout_race import ctx, race_checkouts

BUYERS, UNITS = 50, 7


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

    raced = race_checkouts(c, tenant, product, BUYERS, timeout=120)
    won, refused, errors = raced.won, raced.refused, raced.errors

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
