"""The checkout benchmark's storefront: a small HTTP client that signs in and calls the API as
a client that read API.md would, and the shop it seeds over that API (a tenant, approved sellers,
hot and spread products with a large stock, buyers) with the carts the load phases check out."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.harness.deploy import PASSWORD

ADDRESS = {
    "name": "Bench Buyer",
    "line1": "1 Main St",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
}
STOCK = 1_000_000
HOT_PER_SELLER = 3


class Client:
    def __init__(self, base: str, session: aiohttp.ClientSession) -> None:
        self.base = base
        self.session = session

    async def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json: Any = None,
        key: str | None = None,
    ) -> tuple[int, Any]:
        headers = {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if key:
            headers["Idempotency-Key"] = key
        for attempt in (1, 2):
            try:
                async with self.session.request(
                    method, self.base + path, json=json, headers=headers
                ) as r:
                    body = await r.json(content_type=None) if r.content_length != 0 else None
                    return r.status, body
            except aiohttp.ServerDisconnectedError:
                # The server closed an idle keep-alive connection as this request went out on
                # it. A GET, or a POST with an Idempotency-Key, is safe to send again, once.
                if attempt == 2 or not (method == "GET" or key):
                    raise
        raise AssertionError("unreachable")

    async def ok(self, method: str, path: str, expect: int = 200, **kw: Any) -> Any:
        status, body = await self.call(method, path, **kw)
        if status != expect:
            raise RuntimeError(f"{method} {path}: {status} {body}")
        return body

    async def sign_in(self, email: str, tenant_id: str | None = None) -> str:
        """Signs in once, as a client that read API.md would: no position header, right after
        the account was made. A refusal fails the run (it did, 41 to 66 times a run, before
        sign-in read the account from the log)."""
        body: dict[str, Any] = {"email": email, "password": PASSWORD}
        if tenant_id:
            body["tenant_id"] = tenant_id
        answer = await self.ok("POST", "/v1/auth/token", json=body)
        return str(answer["access_token"])


@dataclass
class Shop:
    tenant_id: str
    admin: str
    sellers: list[str]
    hot: list[list[str]]  # per seller: what a cart line names (a product, or a variant)
    spread: list[list[str]]
    buyers: list[str]
    setup_s: float = 0.0
    # --variants-shipping: each line's product (variant -> product), each line's seller, and
    # the shipping rate each seller has.
    product_of: dict[str, str] = field(default_factory=dict)
    seller_of: dict[str, str] = field(default_factory=dict)
    rates: dict[str, str] = field(default_factory=dict)


async def gather_limited(n: int, coros: list[Any]) -> list[Any]:
    gate = asyncio.Semaphore(n)

    async def one(c: Any) -> Any:
        async with gate:
            return await c

    return await asyncio.gather(*(one(c) for c in coros))


async def new_user(api: Client, shop_admin: str, tenant_id: str, role: str) -> str:
    email = f"{role}-{uuid.uuid4().hex[:10]}@bench.test"
    await api.ok(
        "POST",
        f"/v1/tenants/{tenant_id}/users",
        expect=201,
        token=shop_admin,
        json={"email": email, "password": PASSWORD, "roles": [role]},
    )
    return await api.sign_in(email, tenant_id)


async def set_up(
    api: Client, root_email: str, spread: int, buyers_n: int, variants_shipping: bool = False
) -> Shop:
    """The shop. With `variants_shipping`, every product comes in three sizes, each a variant
    with its own stock (cart lines name variants), and every seller charges for shipping."""
    started_at = time.monotonic()
    root = await api.sign_in(root_email)
    tenant = await api.ok(
        "POST",
        "/v1/tenants",
        expect=201,
        token=root,
        json={
            "name": "Bench",
            "currency": "USD",
            "commission_bps": 1000,
            "escrow_hold_days": 7,
            "product_moderation": "auto",
        },
    )
    tenant_id = tenant["id"]
    admin = await new_user(api, root, tenant_id, "marketplace_admin")
    sellers, seller_ids, rates = [], [], {}
    for _ in range(2):
        token = await new_user(api, admin, tenant_id, "seller")
        seller = await api.ok(
            "POST",
            "/v1/sellers",
            expect=201,
            token=token,
            json={"display_name": "Bench shop", "country": "DE"},
        )
        await api.ok("POST", f"/v1/sellers/{seller['id']}/approve", token=admin)
        sellers.append(token)
        seller_ids.append(seller["id"])
        if variants_shipping:
            rate = await api.ok(
                "POST",
                f"/v1/sellers/{seller['id']}/shipping-rates",
                expect=201,
                token=token,
                json={
                    "name": "Standard",
                    "countries": ["DE", "FR", "AT"],
                    "price": {"amount": 490, "currency": "USD"},
                    "free_over": {"amount": 5000, "currency": "USD"},
                    "min_days": 1,
                    "max_days": 3,
                },
            )
            rates[seller["id"]] = rate["id"]
    product_of: dict[str, str] = {}
    seller_of: dict[str, str] = {}

    async def product(index: int, n: int) -> list[str]:
        seller = sellers[index]
        body: dict[str, Any] = {
            "title": f"Bench product {n}",
            "description": "for the benchmark",
            "category": "bench",
            "sku": f"B-{uuid.uuid4().hex[:8]}",
            "price": {"amount": 1000 + n % 500, "currency": "USD"},
        }
        if variants_shipping:
            body["options"] = [{"name": "Size", "values": ["S", "M", "L"]}]
            body["variants"] = [
                {"sku": f"{body['sku']}-{size}", "options": {"Size": size}}
                for size in ("S", "M", "L")
            ]
        created = await api.ok("POST", "/v1/products", expect=201, token=seller, json=body)
        if not variants_shipping:
            await api.ok(
                "POST",
                f"/v1/products/{created['id']}/stock",
                token=seller,
                json={"warehouse": "main", "on_hand": STOCK},
            )
            seller_of[created["id"]] = seller_ids[index]
            return [str(created["id"])]
        lines = []
        for variant in created["variants"]:
            await api.ok(
                "POST",
                f"/v1/products/{created['id']}/variants/{variant['id']}/stock",
                token=seller,
                json={"warehouse": "main", "on_hand": STOCK},
            )
            product_of[variant["id"]] = created["id"]
            seller_of[variant["id"]] = seller_ids[index]
            lines.append(str(variant["id"]))
        return lines

    def flat(made: list[list[str]]) -> list[str]:
        return [line for lines in made for line in lines]

    hot = [
        flat(await gather_limited(8, [product(i, n) for n in range(HOT_PER_SELLER)]))
        for i in range(len(sellers))
    ]
    half = spread // 2
    spread_ids = [
        flat(await gather_limited(8, [product(i, n) for n in range(half)]))
        for i in range(len(sellers))
    ]
    buyers = await gather_limited(
        8, [new_user(api, admin, tenant_id, "buyer") for _ in range(buyers_n)]
    )
    return Shop(
        tenant_id,
        admin,
        sellers,
        hot,
        spread_ids,
        list(buyers),
        time.monotonic() - started_at,
        product_of,
        seller_of,
        rates,
    )


@dataclass
class Cart:
    buyer: str
    id: str
    lines: dict[str, int]
    shipping: dict[str, str] = field(default_factory=dict)  # seller -> rate

    def body(self) -> dict[str, Any]:
        """The checkout's body: the address, and each seller's rate when sellers charge."""
        body: dict[str, Any] = {"cart_id": self.id, "shipping_address": ADDRESS}
        if self.shipping:
            body["shipping"] = self.shipping
        return body


def cart_lines(pool: list[list[str]], rng: random.Random, lines: int = 3) -> dict[str, int]:
    """Three lines spanning both sellers: two from one, one from the other (or one line)."""
    first, second = rng.sample([0, 1], 2)
    if lines == 1:
        return {rng.choice(pool[first]): 1}
    a, b = rng.sample(pool[first], 2)
    c = rng.choice(pool[second])
    return {a: 1, b: 1, c: 1}


async def build_carts(
    api: Client,
    shop: Shop,
    pool: list[list[str]],
    n: int,
    rng: random.Random,
    put_latencies_ms: list[float],
    lines: int = 3,
) -> list[Cart]:
    async def one(i: int) -> Cart:
        buyer = shop.buyers[i % len(shop.buyers)]
        cart = await api.ok("POST", "/v1/carts", expect=201, token=buyer)
        lines_of = cart_lines(pool, rng, lines)
        for product_id, qty in lines_of.items():
            t0 = time.perf_counter()
            await api.ok(
                "PUT",
                f"/v1/carts/{cart['id']}/items/{product_id}",
                token=buyer,
                json={"quantity": qty},
            )
            put_latencies_ms.append((time.perf_counter() - t0) * 1000)
        shipping = {
            shop.seller_of[line]: shop.rates[shop.seller_of[line]]
            for line in lines_of
            if shop.seller_of.get(line) in shop.rates
        }
        return Cart(buyer, cart["id"], lines_of, shipping)

    return list(await gather_limited(16, [one(i) for i in range(n)]))
