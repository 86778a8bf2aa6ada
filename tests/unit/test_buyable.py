"""Who may buy a product, and whose commands a seller's suspension stops: the rules are the
domain's (`domain/catalog.is_buyable`, `Seller.require_acting`), what they need is loaded from
the log by `ServiceApplication` (services/base.py). One row per (product, seller) state."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import uuid4

import pytest

from domain.catalog import Product, is_buyable
from domain.money import Money
from domain.sellers import Seller, SellerSuspended
from eventstore.context import CommandContext
from eventstore.log import EventLog, open_event_log
from services.base import ServiceApplication

TENANT = uuid4()


def seller_that(*steps: Callable[[Seller], None]) -> Seller:
    seller = Seller.register(TENANT, uuid4(), "Shop", "DE")
    for step in steps:
        step(seller)
    return seller


SELLERS: dict[str, Callable[[], Seller]] = {
    "pending": lambda: seller_that(),
    "approved": lambda: seller_that(Seller.approve),
    "suspended": lambda: seller_that(Seller.approve, Seller.suspend),
    "rejected": lambda: seller_that(Seller.reject),
}


def product_that(seller: Seller, *steps: Callable[[Product], None]) -> Product:
    product = Product.list(
        seller,
        sku="TP-1",
        title="Teapot",
        description="",
        category="kitchen",
        price=Money(2_000, "USD"),
        attributes={},
        moderation_required=True,
    )
    for step in steps:
        step(product)
    return product


PRODUCTS: dict[str, Callable[[Seller], Product]] = {
    "pending_approval": lambda s: product_that(s),
    "active": lambda s: product_that(s, Product.approve),
    "rejected": lambda s: product_that(s, lambda p: p.reject("no")),
}

# (the product's status, its seller's status, whether a buyer may see and buy it)
CASES = [
    ("active", "approved", True),
    ("active", "suspended", False),
    ("active", "rejected", False),
    ("active", "pending", False),
    ("pending_approval", "approved", False),
    ("rejected", "approved", False),
]


@pytest.mark.parametrize(("product_status", "seller_status", "buyable"), CASES)
def test_a_product_is_buyable_while_active_and_its_seller_sells(
    product_status: str, seller_status: str, buyable: bool
) -> None:
    product = PRODUCTS[product_status](SELLERS["approved"]())
    assert product.status == product_status
    seller = SELLERS[seller_status]()
    assert seller.status == seller_status
    assert is_buyable(product, seller) is buyable


@pytest.fixture
def log(tmp_path: Path) -> Iterator[EventLog]:
    log = open_event_log(None, tmp_path)
    log.migrate()
    yield log
    log.close()


def saved(app: ServiceApplication, *aggregates: object) -> None:
    app.record(CommandContext.system("test"), *aggregates)


def test_buyable_loads_the_product_and_its_seller_from_the_log(log: EventLog) -> None:
    app = ServiceApplication(log)
    seller = SELLERS["approved"]()
    product = product_that(seller, Product.approve)
    saved(app, seller, product)

    found = app.buyable(product.id, TENANT)
    assert found is not None
    assert (found[0].id, found[1].id) == (product.id, seller.id)
    # Another tenant's buyer, and an id that names no product, find nothing.
    assert app.buyable(product.id, uuid4()) is None
    assert app.buyable(seller.id, TENANT) is None
    assert app.buyable(uuid4(), TENANT) is None

    seller = app.repository.get(seller.id)
    seller.suspend()
    saved(app, seller)
    assert app.buyable(product.id, TENANT) is None


def test_a_suspended_seller_no_longer_acts(log: EventLog) -> None:
    app = ServiceApplication(log)
    seller = SELLERS["approved"]()
    saved(app, seller)
    app.require_acting(seller.id)
    app.require_acting(None)  # an admin acts, not a seller
    app.require_acting(uuid4())  # no seller by that id: nothing to refuse

    seller = app.repository.get(seller.id)
    seller.suspend()
    saved(app, seller)
    with pytest.raises(SellerSuspended):
        app.require_acting(seller.id)
