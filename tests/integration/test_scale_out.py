"""`velora serve --workers 3` on PostgreSQL and MariaDB: three API processes, each with its own
aggregate cache, behind one port. Buyers race over HTTP for the last units of two hot products:
exactly that many units are held, never more, in the aggregate and in the read model alike."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import UUID, uuid4

import httpx
import pytest

from api.bootstrap import Container, build
from domain.inventory import Stock
from domain.money import Money
from eventstore.context import CommandContext
from tests.conftest import TEST_SECRET, make_settings
from tests.e2e.shop import ADDRESS
from tests.e2e.test_cli import clean_env, serving

WORKERS, UNITS, BUYERS = 3, 9, 40
PASSWORD = "long-enough-pw"


def ctx() -> CommandContext:
    return CommandContext.system("scale-out")


@pytest.fixture
def deployment(
    tmp_path: Path, new_pg_database: Callable[[], str], new_mysql_database: Callable[[], str]
) -> Iterator[tuple[str, Container]]:
    """The API as `velora serve --workers 3` runs it, and a container of the test's own on the
    same databases (another process, as far as the API's caches know)."""
    urls = {
        "VELORA_EVENTSTORE_URL": new_pg_database(),
        "VELORA_READ_DB_URL": new_mysql_database(),
        "VELORA_SECRET_KEY": TEST_SECRET,
    }
    data_dir = tmp_path / ".velora"
    container = build(
        make_settings(
            data_dir,
            eventstore_url=urls["VELORA_EVENTSTORE_URL"],
            read_db_url=urls["VELORA_READ_DB_URL"],
        )
    )
    container.migrate()
    try:
        with serving(tmp_path, clean_env(data_dir, **urls), "--workers", str(WORKERS)) as base:
            yield base, container
    finally:
        container.close()


def test_hot_checkouts_across_api_processes_never_oversell(
    deployment: tuple[str, Container],
) -> None:
    base, c = deployment
    tenant = c.identity.register_tenant(
        ctx(),
        name="Scale",
        currency="USD",
        commission_bps=500,
        escrow_hold_days=0,
        product_moderation="auto",
    ).id
    seller = c.sellers.register_seller(
        ctx(), tenant_id=tenant, user_id=uuid4(), display_name="S", country="DE"
    ).id
    c.sellers.approve(ctx(), seller, tenant)
    hot = []
    for sku in ("A", "B"):
        listed, _ = c.catalog.list_product(
            ctx(),
            seller_id=seller,
            within=tenant,
            sku=sku,
            title=f"Hot {sku}",
            description="",
            category="c",
            price=Money(1500, "USD"),
            attributes={},
        )
        c.catalog.set_stock(ctx(), listed.id, seller, "main", UNITS)
        hot.append(listed.id)

    # Every buyer wants one of each; the API's processes learn of all this from the log.
    buyers = []
    for i in range(BUYERS):
        buyer = c.identity.sign_up_buyer(
            ctx(), tenant_id=tenant, email=f"buyer-{i}@scale.test", password=PASSWORD
        ).id
        cart = c.checkout.open_cart(ctx(), tenant, buyer).id
        for product in hot:
            c.checkout.set_quantity(ctx(), cart, buyer, product, 1)
        buyers.append((c.tokens.issue(str(buyer), str(tenant), ["buyer"]), cart))

    answers: list[int] = []
    positions: list[int] = []
    start = threading.Barrier(BUYERS)

    def race(token: str, cart: UUID) -> None:
        with httpx.Client(base_url=base, timeout=60) as http:
            start.wait()
            response = http.post(
                "/v1/checkout",
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(cart)},
                json={"cart_id": str(cart), "shipping_address": ADDRESS},
            )
        answers.append(response.status_code)
        if response.status_code == 201:
            positions.append(int(response.headers["X-Velora-Position"]))

    threads = [threading.Thread(target=race, args=pair) for pair in buyers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert sorted(set(answers)) == [201, 409], answers
    assert answers.count(201) == UNITS
    for product in hot:
        stock: Stock = c.checkout.repository.get(Stock.create_id(product))
        assert (stock.held, stock.sold, stock.available) == (UNITS, 0, 0)

    # The read model, read the way a storefront reads its own writes.
    admin_id = c.identity.register_user(
        ctx(),
        tenant_id=tenant,
        email="admin@scale.test",
        password=PASSWORD,
        roles=["marketplace_admin"],
        granter_roles=["super_admin"],
    ).id
    admin = c.tokens.issue(str(admin_id), str(tenant), ["marketplace_admin"])
    for product in hot:
        body = httpx.get(
            f"{base}/v1/products/{product}",
            headers={
                "Authorization": f"Bearer {admin}",
                "X-Velora-Min-Position": str(max(positions)),
            },
            timeout=30,
        ).json()
        assert body["available"] == 0, body
