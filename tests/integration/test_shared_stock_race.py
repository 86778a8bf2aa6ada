"""One stock, three marketplaces (docs/api-seller-pro.md): a Seller Pro organisation lists one
master product with 10 units on three marketplaces in three currencies, and 100 buyers spread
over them race for it, on the embedded default and on PostgreSQL. Exactly 10 win, the rest are
told the line lacks stock, the one stock sells exactly 10, and every listing shows 0 left; a
cancelled order gives its unit back to every marketplace at once."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from api.bootstrap import Container
from domain.inventory import Stock
from domain.money import Money
from projections.scope import TenantScope
from tests.integration.checkout_race import ctx, race

BUYERS, UNITS = 100, 10
CURRENCIES = ("USD", "EUR", "GBP")


@pytest.fixture(params=["embedded", "servers"])
def racing(request: pytest.FixtureRequest) -> Container:
    name = "embedded" if request.param == "embedded" else "servers_container"
    container: Container = request.getfixturevalue(name)
    return container


def listed_on_three(c: Container) -> tuple[UUID, list[tuple[UUID, UUID]]]:
    """The master product's id, and each marketplace with its listing of it."""
    organisation = c.organisations.found(ctx(), uuid4(), "Fluxori").id
    master = c.catalog.create_master(
        ctx(),
        organisation,
        {"sku": "LAMP", "title": "Lamp", "description": "", "category": "c", "attributes": {}},
    )
    c.catalog.set_master_stock(ctx(), organisation, master.id, master.id, "main", UNITS)
    listings = []
    for currency in CURRENCIES:
        tenant = c.identity.register_tenant(
            ctx(),
            name=f"Market {currency}",
            currency=currency,
            commission_bps=1000,
            escrow_hold_days=0,
            product_moderation="auto",
        ).id
        seller = c.organisations.join(ctx(), organisation, tenant, "Fluxori", "DE").id
        c.sellers.approve(ctx(), seller, tenant)
        listing, status = c.catalog.publish(
            ctx(), organisation, master.id, tenant, Money(1000, currency), None, {}
        )
        assert status == "active"
        listings.append((tenant, listing.id))
    return master.id, listings


def test_a_hundred_buyers_on_three_marketplaces_share_ten_units_and_buy_exactly_ten(
    racing: Container,
) -> None:
    c = racing
    master, listings = listed_on_three(c)
    tenants, carts = [], []
    for n in range(BUYERS):
        tenant, product = listings[n % len(listings)]
        buyer = uuid4()
        cart = c.checkout.open_cart(ctx(), tenant, buyer).id
        c.checkout.set_quantity(ctx(), cart, buyer, product, 1)
        tenants.append(tenant)
        carts.append((buyer, cart))

    raced = race(c, tenants, carts)
    won, refused, errors = raced.won, raced.refused, raced.errors
    assert errors == []
    assert (len(won), len(refused)) == (UNITS, BUYERS - UNITS)
    for order_id in won:
        c.checkout.record_payment(ctx(), order_id, succeeded=True)
    stock: Stock = c.checkout.repository.get(Stock.create_id(master))
    assert (stock.held, stock.sold, stock.available) == (0, UNITS, 0)
    assert stock.tenant_id != listings[0][0]  # the organisation's, not one marketplace's

    c.catch_up()
    for tenant, product in listings:
        shown = c.catalog_queries.product(TenantScope.only(str(tenant)), str(product))
        assert shown is not None and shown["available"] == 0
        # Another marketplace's listing is unknown in this one.
        other = next(p for t, p in listings if t != tenant)
        assert c.catalog_queries.product(TenantScope.only(str(tenant)), str(other)) is None

    # A cancelled order's unit is back on every marketplace at once.
    c.checkout.cancel(ctx(), won[0], None, None)
    c.catch_up()
    for tenant, product in listings:
        shown = c.catalog_queries.product(TenantScope.only(str(tenant)), str(product))
        assert shown is not None and shown["available"] == 1
