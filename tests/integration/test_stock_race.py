"""Fifty buyers race to check out the last N units of one product on PostgreSQL: exactly N win,
everyone else is told the line lacks stock, and exactly N units end up sold."""

from __future__ import annotations

import sqlalchemy as sa

from api.bootstrap import Container
from domain.inventory import Stock
from projections.catalog.tables import products
from tests.integration.checkout_race import ctx, marketplace, race_checkouts, stocked

BUYERS, UNITS = 50, 7


def test_fifty_checkouts_for_the_last_units_sell_exactly_that_many(
    servers_container: Container,
) -> None:
    c = servers_container
    assert c.log.backend == "postgres"
    tenant, seller = marketplace(c)
    product = stocked(c, tenant, seller, "LAST", UNITS)

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
