"""Issue 30 across processes: a hundred buyers, each with a code limited to ten uses applied to
their cart, check out at once over HTTP through two API processes (`velora serve` twice on the
same stores, as two machines behind a load balancer run it), on PostgreSQL + MariaDB and on the
embedded SQLite files. Exactly ten orders are made, every other buyer is told 409 that the code
is used up, nothing answers 5xx, and the promotion counts ten redemptions, in its aggregate and
in what GET /v1/promotions shows.

The buyers call as a storefront does, with only what API.md has a client send. Most are guests
of the storefront (its publishable key, their cart token, an email: API.md v1.2, a checkout "as
a buyer's"); some have accounts, sign up and sign in, and send their bearer token. Not all have
accounts because each sign-up and each sign-in makes or checks an argon2 hash (about 0.2 s of
CPU), so a hundred accounts would spend some 40 s of CPU before the race began."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from api.bootstrap import Container
from domain.inventory import Stock
from domain.promotions import Promotion
from tests.conftest import TEST_SECRET, built, make_settings
from tests.e2e.client import assert_problem
from tests.e2e.test_cli import clean_env, serving
from tests.integration.checkout_race import (
    ADDRESS,
    PRICE_MINOR,
    ctx,
    marketplace,
    platform_promotion,
    stocked,
    together,
)

BUYERS, SIGNED_IN, USES, CODE = 100, 10, 10, "TEN"
PASSWORD = "long-enough-pw"
KEY, CART = "X-Velora-Publishable-Key", "X-Velora-Cart-Token"


@dataclass(frozen=True)
class Deployment:
    apis: list[httpx.Client]  # a client of each API process, shared by the buyers calling it
    container: Container  # the test's own, on the same stores: the operator's side


@contextmanager
def api_processes(cwd: Path, env: dict[str, str], *options: tuple[str, ...]) -> Iterator[list[str]]:
    """One `velora serve` process per entry of `options` (its command-line options), all on the
    same stores and started at once: their base URLs, in that order."""
    with ExitStack() as running, ThreadPoolExecutor(len(options)) as starting:
        yield list(starting.map(lambda o: running.enter_context(serving(cwd, env, *o)), options))


@pytest.fixture(params=["embedded", "servers"])
def deployment(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Deployment]:
    """Two `velora serve` processes on one set of stores: the first runs the projectors and the
    scheduler too, the second only the API (`--no-background`), as a deployment with more than
    one API process runs them."""
    data_dir = tmp_path / ".velora"
    env = {"VELORA_SECRET_KEY": TEST_SECRET}
    if request.param == "servers":
        env["VELORA_EVENTSTORE_URL"] = request.getfixturevalue("new_pg_database")()
        env["VELORA_READ_DB_URL"] = request.getfixturevalue("new_mysql_database")()
    container = built(
        make_settings(
            data_dir,
            eventstore_url=env.get("VELORA_EVENTSTORE_URL"),
            read_db_url=env.get("VELORA_READ_DB_URL"),
        )
    )
    assert container.settings.embedded == (request.param == "embedded")
    try:
        with (
            api_processes(tmp_path, clean_env(data_dir, **env), (), ("--no-background",)) as urls,
            ExitStack() as clients,
        ):
            connections = httpx.Limits(max_connections=BUYERS)
            apis = [
                clients.enter_context(httpx.Client(base_url=u, timeout=60, limits=connections))
                for u in urls
            ]
            yield Deployment(apis, container)
    finally:
        container.close()


@dataclass
class Buyer:
    api: httpx.Client  # the API process this buyer's storefront calls
    headers: dict[str, str]  # sent on every call: a bearer token, or the key and a cart token
    cart: str
    email: str | None  # what a guest's checkout names; None for a signed-in buyer


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def signed_in(http: httpx.Client, tenant: UUID, email: str) -> dict[str, str]:
    """Signs up as a buyer and signs in: the bearer token's header."""
    ok(
        http.post(
            "/v1/auth/signup",
            json={"tenant_id": str(tenant), "email": email, "password": PASSWORD},
        ),
        201,
    )
    token = ok(
        http.post(
            "/v1/auth/token",
            json={"tenant_id": str(tenant), "email": email, "password": PASSWORD},
        )
    )["access_token"]
    return {"Authorization": f"Bearer {token}"}


def ready(http: httpx.Client, tenant: UUID, key: str, product: UUID, n: int) -> Buyer:
    """Buyer `n` at its storefront, which calls `http`: signed in (the first SIGNED_IN) or a
    guest, with one of the product in its cart and the code applied."""
    email = f"buyer-{n}@race.test"
    if n < SIGNED_IN:
        headers = signed_in(http, tenant, email)
        cart = ok(http.post("/v1/carts", headers=headers), 201)["id"]
        buyer = Buyer(http, headers, cart, None)
    else:
        opened = ok(http.post("/v1/carts", headers={KEY: key}), 201)
        buyer = Buyer(http, {KEY: key, CART: opened["cart_token"]}, opened["id"], email)
    ok(
        http.put(
            f"/v1/carts/{buyer.cart}/items/{product}", headers=buyer.headers, json={"quantity": 1}
        )
    )
    applied = ok(
        http.post(f"/v1/carts/{buyer.cart}/promotions", headers=buyer.headers, json={"code": CODE})
    )
    assert [d["code"] for d in applied["discounts"]] == [CODE], applied
    return buyer


def check_out(buyer: Buyer, answers: list[httpx.Response]) -> None:
    """Checks the buyer's cart out, as its storefront does: once, with an Idempotency-Key."""
    body: dict[str, Any] = {"cart_id": buyer.cart, "shipping_address": ADDRESS}
    if buyer.email is not None:
        body["email"] = buyer.email
    headers = {**buyer.headers, "Idempotency-Key": f"checkout-{buyer.cart}"}
    answers.append(buyer.api.post("/v1/checkout", headers=headers, json=body))


def test_a_hundred_redemptions_across_api_processes_make_exactly_ten_orders(
    deployment: Deployment,
) -> None:
    c, apis = deployment.container, deployment.apis
    tenant, seller = marketplace(c, commission_bps=1000)
    product = stocked(c, tenant, seller, "MUG", BUYERS * 2)
    promotion_id = platform_promotion(
        c, tenant, code=CODE, kind="percent", percent=10, usage_limit=USES
    )
    c.identity.register_user(
        ctx(),
        tenant_id=tenant,
        email="admin@race.test",
        password=PASSWORD,
        roles=["marketplace_admin"],
        granter_roles=["super_admin"],
    )
    # The marketplace's admin signs in and makes the storefront its publishable key.
    admin = ok(
        apis[0].post(
            "/v1/auth/token",
            json={"tenant_id": str(tenant), "email": "admin@race.test", "password": PASSWORD},
        )
    )["access_token"]
    as_admin = {"Authorization": f"Bearer {admin}"}
    key = ok(
        apis[0].post(
            f"/v1/tenants/{tenant}/publishable-keys",
            headers={**as_admin, "Idempotency-Key": "storefront-key"},
            json={"name": "Web shop"},
        ),
        201,
    )["key"]

    # Every buyer readies a cart at one of the processes, taking turns; then all check out.
    with ThreadPoolExecutor(max_workers=8) as pool:
        buyers = list(
            pool.map(lambda n: ready(apis[n % len(apis)], tenant, key, product, n), range(BUYERS))
        )
    answers: list[httpx.Response] = []
    together([partial(check_out, b, answers) for b in buyers], timeout=60)

    # Ten orders, and ninety told the code is used up: no 5xx, no "too much contention".
    assert Counter(a.status_code for a in answers) == {201: USES, 409: BUYERS - USES}
    won = [a for a in answers if a.status_code == 201]
    for refused in (a for a in answers if a.status_code == 409):
        problem = assert_problem(refused, 409)
        assert problem["title"] == "Promotion not available"
        assert problem["detail"] == f"promotion {CODE} cannot be used: it is used up"
    discounted = {"amount": PRICE_MINOR * 9 // 10, "currency": "USD"}
    assert all(a.json()["total"] == discounted for a in won)
    orders = {a.json()["order_id"] for a in won}
    assert len(orders) == USES

    promotion: Promotion = c.checkout.repository.get(promotion_id)
    assert set(promotion.uses) == orders
    stock: Stock = c.checkout.repository.get(Stock.create_id(product))
    assert (stock.held, stock.sold) == (USES, 0)  # the refused hold nothing

    # What the admin reads, from either process, once the read models have every order.
    position = str(max(int(a.headers["X-Velora-Position"]) for a in won))
    reading = {**as_admin, "X-Velora-Min-Position": position}
    for api in apis:
        listed = ok(api.get("/v1/orders", headers=reading, params={"limit": 500}))
        assert {o["id"] for o in listed["items"]} == orders
        shown = ok(api.get("/v1/promotions", headers=reading))["items"]
        assert [(p["id"], p["uses"], p["status"]) for p in shown] == [
            (str(promotion_id), USES, "used_up")
        ]
