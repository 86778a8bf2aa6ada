"""A hundred buyers race to check out the last ten units of one variant (a T-shirt's M), on the
embedded default and on PostgreSQL: exactly ten win, everyone else is told the line lacks stock,
exactly ten units of the M end up sold, and the product's other sizes are untouched."""

from __future__ import annotations

import pytest

from api.bootstrap import Container
from domain.inventory import Stock
from domain.money import Money
from projections.scope import TenantScope
from tests.integration.checkout_race import ctx, marketplace, race_checkouts

BUYERS, UNITS = 100, 10


@pytest.fixture(params=["embedded", "servers"])
def racing(request: pytest.FixtureRequest) -> Container:
    name = "embedded" if request.param == "embedded" else "servers_container"
    container: Container = request.getfixturevalue(name)
    return container


def test_a_hundred_checkouts_for_the_last_units_of_one_variant_sell_exactly_that_many(
    racing: Container,
) -> None:
    c = racing
    tenant, seller = marketplace(c)
    listed, _ = c.catalog.list_product(
        ctx(),
        seller_id=seller,
        within=tenant,
        sku="TEE",
        title="Tee",
        description="",
        category="c",
        price=Money(1000, "USD"),
        attributes={},
        options=[{"name": "Size", "values": ["S", "M"]}],
        variants=[
            {"sku": "TEE-S", "options": {"Size": "S"}},
            {"sku": "TEE-M", "options": {"Size": "M"}},
        ],
    )
    small, medium = (v.id for v in c.catalog.sellable_variants(listed.id))
    c.catalog.set_variant_stock(ctx(), listed.id, medium, seller, "main", UNITS)
    c.catalog.set_variant_stock(ctx(), listed.id, small, seller, "main", 3)

    raced = race_checkouts(c, tenant, medium, BUYERS, timeout=300)
    won, refused, errors = raced.won, raced.refused, raced.errors

    assert errors == []
    assert len(won) == UNITS
    assert len(refused) == BUYERS - UNITS
    assert all(str(medium) in e.detail for e in refused)
    for order_id in won:
        c.checkout.record_payment(ctx(), order_id, succeeded=True)
    stock: Stock = c.checkout.repository.get(Stock.create_id(medium))
    assert (stock.held, stock.sold, stock.available) == (0, UNITS, 0)
    untouched: Stock = c.checkout.repository.get(Stock.create_id(small))
    assert (untouched.held, untouched.sold, untouched.available) == (0, 0, 3)

    c.catch_up()
    shown = c.catalog_queries.product(TenantScope.only(str(tenant)), str(listed.id))
    assert shown is not None
    assert [(v["id"], v["available"]) for v in shown["variants"]] == [
        (str(small), 3),
        (str(medium), 0),
    ]
    assert shown["available"] == 3
