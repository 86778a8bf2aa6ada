"""The Product's moderation of edits (issue 27, point 5): where the tenant moderates, an edit of
an active product's title, description or category is a revision that waits for approval while
the approved text stays live; the price is live at once. Asserted on the events each command
records, one row per case."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import uuid4

import pytest

from domain.catalog import Product
from domain.listing import WrongProductStep
from domain.money import Money
from domain.sellers import Seller

LIVE = {"title": "Teapot", "description": "Cast iron", "category": "kitchen"}


def active_product(*, moderated: bool = True) -> Product:
    seller = Seller.register(uuid4(), uuid4(), "Shop", "DE")
    seller.approve()
    product = Product.list(
        seller,
        sku="TP-1",
        price=Money(2_000, "USD"),
        attributes={},
        moderation_required=moderated,
        **LIVE,
    )
    if moderated:
        product.approve()
    product.collect_events()
    return product


def recorded(product: Product) -> list[str]:
    return [type(e).__qualname__ for e in product.collect_events()]


def edit(**changes: Any) -> Callable[[Product], None]:
    moderated = changes.pop("moderated", True)
    return lambda p: p.edit(moderation_required=moderated, **changes)


PENDING_GOLD = {"title": "Gold teapot", "description": "Cast iron", "category": "kitchen"}

# (what happened before, the command, the events it records, the live title and price after,
# the revision after)
CASES: list[tuple[str, Any, Any, list[str], str, int, dict[str, str] | None]] = [
    (
        "a moderated edit of the title waits",
        None,
        edit(title="Gold teapot"),
        ["Product.RevisionProposed"],
        "Teapot",
        2_000,
        PENDING_GOLD,
    ),
    (
        "a price edit is live at once",
        None,
        edit(price=Money(1_500, "USD")),
        ["Product.Edited", "Product.PriceLowered"],
        "Teapot",
        1_500,
        None,
    ),
    (
        "text and price in one edit: the price live, the text waits",
        None,
        edit(title="Gold teapot", price=Money(2_500, "USD")),
        ["Product.Edited", "Product.RevisionProposed"],
        "Teapot",
        2_500,
        PENDING_GOLD,
    ),
    (
        "a second edit adds to the pending revision",
        edit(title="Gold teapot"),
        edit(category="tea"),
        ["Product.RevisionProposed"],
        "Teapot",
        2_000,
        {**PENDING_GOLD, "category": "tea"},
    ),
    (
        "a price edit leaves the pending revision alone",
        edit(title="Gold teapot"),
        edit(price=Money(2_100, "USD")),
        ["Product.Edited"],
        "Teapot",
        2_100,
        PENDING_GOLD,
    ),
    (
        "an edit back to the live text withdraws it",
        edit(title="Gold teapot"),
        edit(title="Teapot"),
        ["Product.RevisionWithdrawn"],
        "Teapot",
        2_000,
        None,
    ),
    (
        "an edit that changes nothing records nothing",
        None,
        edit(title="Teapot", description="Cast iron"),
        [],
        "Teapot",
        2_000,
        None,
    ),
    (
        "approving makes the revision live",
        edit(title="Gold teapot"),
        lambda p: p.approve(),
        ["Product.RevisionApproved"],
        "Gold teapot",
        2_000,
        None,
    ),
    (
        "rejecting keeps the approved text",
        edit(title="Gold teapot"),
        lambda p: p.reject("no gold in the photos"),
        ["Product.RevisionRejected"],
        "Teapot",
        2_000,
        None,
    ),
    (
        "where the tenant stopped moderating, the seller's latest text goes live",
        edit(title="Gold teapot"),
        edit(description="Enamelled", moderated=False),
        ["Product.Edited", "Product.RevisionWithdrawn"],
        "Gold teapot",
        2_000,
        None,
    ),
]


@pytest.mark.parametrize(
    ("before", "command", "events", "title", "price", "revision"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_an_edit_of_an_approved_product(
    before: Any,
    command: Callable[[Product], None],
    events: list[str],
    title: str,
    price: int,
    revision: dict[str, str] | None,
) -> None:
    product = active_product()
    if before is not None:
        before(product)
        product.collect_events()
    command(product)
    assert recorded(product) == events
    assert (product.title, product.price_minor, product.revision) == (title, price, revision)
    assert product.status == "active"


def test_without_moderation_an_edit_is_live_at_once() -> None:
    product = active_product(moderated=False)
    product.edit(title="Gold teapot", moderation_required=False)
    assert recorded(product) == ["Product.Edited"]
    assert (product.title, product.revision) == ("Gold teapot", None)


def test_nothing_to_moderate_is_a_wrong_step() -> None:
    product = active_product()
    for command in (lambda: product.approve(), lambda: product.reject("")):
        with pytest.raises(WrongProductStep):
            command()


def test_a_product_replays_its_revisions() -> None:
    seller = Seller.register(uuid4(), uuid4(), "Shop", "DE")
    seller.approve()
    product = Product.list(
        seller,
        sku="TP-1",
        price=Money(2_000, "USD"),
        attributes={},
        moderation_required=True,
        **LIVE,
    )
    product.approve()
    edit(title="Gold teapot")(product)
    product.reject("no")
    edit(description="Gilded")(product)
    product.approve()
    edit(category="tea")(product)
    replayed = None
    for stored in product.collect_events():
        replayed = stored.mutate(replayed)
    assert isinstance(replayed, Product)
    assert replayed.moderated_text == {
        "title": "Teapot",
        "description": "Gilded",
        "category": "kitchen",
    }
    assert replayed.revision == {"title": "Teapot", "description": "Gilded", "category": "tea"}
