"""The checkout benchmark's phases and what each measures: checkouts in a closed loop and in an
open one (latency counted from each request's scheduled start), cart commands one at a time, a
young store's latencies against a grown one's, the projection lag when the load stops, and the
oversell check once every checkout whose answer never came has been asked again."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.harness.shop import STOCK, Cart, Client, Shop, build_carts, gather_limited

CLIENTS = 32
REQUEST_TIMEOUT_S = 30.0


@dataclass
class Outcome:
    latencies_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    held: dict[str, int] = field(default_factory=dict)
    unknown: list[Cart] = field(default_factory=list)
    elapsed_s: float = 0.0

    def add_error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies_ms)
        done = len(lat)
        return {
            "checkouts": done,
            "errors": sum(self.errors.values()),
            "error_kinds": self.errors,
            "elapsed_s": round(self.elapsed_s, 2),
            "checkouts_per_s": round(done / self.elapsed_s, 1) if self.elapsed_s else 0.0,
            "p50_ms": pct(lat, 50),
            "p99_ms": pct(lat, 99),
            "p999_ms": pct(lat, 99.9),
            "max_ms": round(lat[-1], 1) if lat else None,
        }


def pct(sorted_values: list[float], p: float) -> float | None:
    if not sorted_values:
        return None
    k = min(len(sorted_values) - 1, round(p / 100 * (len(sorted_values) - 1)))
    return round(sorted_values[k], 1)


async def checkout(api: Client, cart: Cart, out: Outcome, scheduled: float) -> None:
    try:
        status, body = await asyncio.wait_for(
            api.call(
                "POST",
                "/v1/checkout",
                token=cart.buyer,
                key=f"bench-{cart.id}",
                json=cart.body(),
            ),
            REQUEST_TIMEOUT_S,
        )
    except (TimeoutError, aiohttp.ClientError) as e:
        out.add_error(type(e).__name__)
        out.unknown.append(cart)  # it may have gone through: asked again at the end
        return
    if status != 201:
        out.add_error(f"{status} {(body or {}).get('title', '')}".strip())
        return
    out.latencies_ms.append((time.perf_counter() - scheduled) * 1000)
    for product_id, qty in cart.lines.items():
        out.held[product_id] = out.held.get(product_id, 0) + qty


async def closed_loop(api: Client, carts: list[Cart], clients: int) -> Outcome:
    out, queue = Outcome(), list(reversed(carts))

    async def client() -> None:
        while queue:
            cart = queue.pop()
            await checkout(api, cart, out, time.perf_counter())

    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    out.elapsed_s = time.perf_counter() - t0
    return out


async def open_loop(api: Client, carts: list[Cart], rate: float) -> Outcome:
    out, tasks = Outcome(), []
    t0 = time.perf_counter()
    for i, cart in enumerate(carts):
        at = t0 + i / rate
        delay = at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(checkout(api, cart, out, at)))
    await asyncio.gather(*tasks)
    out.elapsed_s = len(carts) / rate
    return out


async def sequential_cart_commands(api: Client, shop: Shop, n: int) -> dict[str, Any]:
    buyer = shop.buyers[0]
    cart = await api.ok("POST", "/v1/carts", expect=201, token=buyer)
    products = (shop.spread[0] + shop.spread[1])[:50]  # a cart holds at most 100 lines
    lat = []
    for i in range(n):
        t0 = time.perf_counter()
        await api.ok(
            "PUT",
            f"/v1/carts/{cart['id']}/items/{products[i % len(products)]}",
            token=buyer,
            json={"quantity": 1 + i % 5},
        )
        lat.append((time.perf_counter() - t0) * 1000)
    lat.sort()
    return {"commands": n, "p50_ms": pct(lat, 50), "p99_ms": pct(lat, 99)}


async def probe(api: Client, shop: Shop, n: int, rng: random.Random) -> dict[str, Any]:
    """One client, one command at a time: the latency of a cart command, a product listing and
    a checkout, for comparing a young store with a grown one."""
    carts = await build_carts(api, shop, shop.spread, n, rng, [])
    timings: dict[str, list[float]] = {"cart_command": [], "list_product": [], "checkout": []}
    seller = shop.sellers[0]
    for i, cart in enumerate(carts):
        product = shop.spread[1][i % len(shop.spread[1])]
        t0 = time.perf_counter()
        await api.ok(
            "PUT", f"/v1/carts/{cart.id}/items/{product}", token=cart.buyer, json={"quantity": 2}
        )
        t1 = time.perf_counter()
        await api.ok(
            "POST",
            "/v1/products",
            expect=201,
            token=seller,
            json={
                "title": "Probe",
                "description": "",
                "category": "bench",
                "sku": f"P-{uuid.uuid4().hex[:8]}",
                "price": {"amount": 999, "currency": "USD"},
            },
        )
        t2 = time.perf_counter()
        out = Outcome()
        await checkout(api, cart, out, time.perf_counter())
        timings["cart_command"].append((t1 - t0) * 1000)
        timings["list_product"].append((t2 - t1) * 1000)
        timings["checkout"] += out.latencies_ms
    return {k: pct(sorted(v), 50) for k, v in timings.items()}


async def grow(api: Client, shop: Shop, products: int, orders: int, rng: random.Random) -> float:
    """Adds products and checked-out orders until the store holds at least that many."""
    t0 = time.perf_counter()

    async def product(n: int) -> None:
        await api.ok(
            "POST",
            "/v1/products",
            expect=201,
            token=shop.sellers[n % 2],
            json={
                "title": f"Filler {n}",
                "description": "",
                "category": "filler",
                "sku": f"F-{uuid.uuid4().hex[:10]}",
                "price": {"amount": 500, "currency": "USD"},
            },
        )

    await gather_limited(32, [product(n) for n in range(products)])
    done = 0
    while done < orders:
        chunk = min(2000, orders - done)
        # One-line carts: the store grows by orders, and sooner than with three lines each.
        carts = await build_carts(api, shop, shop.spread, chunk, rng, [], lines=1)
        await closed_loop(api, carts, CLIENTS)
        done += chunk
        print(f"  grown by {done} orders", flush=True)
    return time.perf_counter() - t0


async def lag(api: Client, root: str) -> int:
    rows = await api.ok("GET", "/v1/ops/projections", token=root)
    return max(int(r["lag"]) for r in rows)


async def catch_up(api: Client, root: str, limit_s: float = 600) -> tuple[int, float]:
    at_stop = await lag(api, root)
    t0 = time.perf_counter()
    while await lag(api, root) > 0:
        if time.perf_counter() - t0 > limit_s:
            return at_stop, float("inf")
        await asyncio.sleep(0.05)
    return at_stop, time.perf_counter() - t0


async def settle_unknown(api: Client, carts: list[Cart], held: dict[str, int]) -> None:
    """Asks again, with the same Idempotency-Key, for each checkout whose answer never came,
    as a storefront would: the replay says whether it went through."""
    for cart in carts:
        for _ in range(100):
            status, _ = await api.call(
                "POST",
                "/v1/checkout",
                token=cart.buyer,
                key=f"bench-{cart.id}",
                json=cart.body(),
            )
            if status != 409:
                break
            await asyncio.sleep(0.1)  # the first attempt is still in flight
        if status == 201:
            for product_id, qty in cart.lines.items():
                held[product_id] = held.get(product_id, 0) + qty


async def oversold(api: Client, shop: Shop, held: dict[str, int]) -> list[str]:
    """Hot products whose `available` is not their stock less what the checkouts hold."""
    wrong = []
    for line in shop.hot[0] + shop.hot[1]:
        product_id = shop.product_of.get(line, line)
        product = await api.ok("GET", f"/v1/products/{product_id}", token=shop.admin)
        available = next(v["available"] for v in product["variants"] if v["id"] == line)
        expected = STOCK - held.get(line, 0)
        if int(available) != expected:
            wrong.append(f"{line}: available {available}, expected {expected}")
    return wrong
