"""The analytics dashboards at 100,000 orders, over HTTP against `velora serve`.

1. Records a year of marketplace history into a fresh event store: one tenant, 200 sellers,
   2,000 products, 20,000 buyers and 100,000 orders (1 to 3 lines, nine in ten paid), each with
   its cart, placed at spread-out moments of the last 365 days. The orders are real aggregates
   built by the domain's own `place`, `pay` and cart commands and saved through the
   application's `record`, 200 at a time; the HTTP checkout path is skipped (at its measured
   rate it would take hours), and with it the stock holds and the ledger's transfers, which no
   dashboard reads. The events carry the moments they stand for.
2. Starts `velora serve` on it as a user deploys it; its projectors fold the history into the
   read models (the time this takes is printed: it is what a rebuild of the orders and carts
   models costs at this size).
3. Asks, one request at a time, for sellers' dashboards (random sellers) and the marketplace's,
   over the last 30, 90 and 365 days by day, week and month, JSON and CSV, and prints p50, p95
   and p99 latency of each.

Target (issue 18): under 50 ms at 100,000 orders. Prints the figures and writes
bench/results/analytics-<backend>.json. Timing is never asserted; the tests run it only as
`--smoke` (40 orders among 4 sellers, 2 requests per dashboard and range).

    python bench/analytics.py [--backend embedded|servers] [--orders 100000] [--requests 60]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import eventsourcing.domain

from api.bootstrap import build
from api.settings import Settings
from bench import report
from bench.harness.deploy import PASSWORD, VELORA, free_port, server_databases
from domain.carts import Cart
from domain.catalog import Product
from domain.money import Money
from domain.order_lines import PricedLine
from domain.orders import Order, place
from eventstore.context import CommandContext

SELLERS = 200
PRODUCTS = 2_000
BUYERS = 20_000
BATCH = 200
# A world small enough to record, fold and ask about in seconds: the smoke run's.
SMOKE_WORLD = {"orders": 40, "sellers": 4, "products": 16, "buyers": 20}
ADDRESS = {"name": "B", "line1": "1 Main St", "city": "Berlin", "postal_code": "1", "country": "DE"}


class Clock:
    """What the seeded events say happened when: the bench moves it, the events read it."""

    def __init__(self) -> None:
        self.now: datetime | None = None

    def __call__(self) -> datetime:
        return self.now or datetime.now(UTC)


def add_world_options(parser: argparse.ArgumentParser) -> None:
    """The size of the recorded world (bench/restore.py records the same one)."""
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--sellers", type=int, default=SELLERS)
    parser.add_argument("--products", type=int, default=PRODUCTS)
    parser.add_argument("--buyers", type=int, default=BUYERS)


def seed(env: dict[str, str], args: argparse.Namespace, rng: random.Random) -> dict[str, Any]:
    """Records the history in-process (the world's size from `add_world_options`); returns the
    tenant, admin email and seller ids."""
    orders = args.orders
    os.environ.update(env)
    clock = Clock()
    real_now = eventsourcing.domain.datetime_now_with_tzinfo
    eventsourcing.domain.datetime_now_with_tzinfo = clock  # type: ignore[assignment]
    c = build(Settings())
    try:
        ctx = CommandContext.system("bench:analytics")
        tenant = c.identity.register_tenant(
            ctx,
            name="Bench market",
            currency="USD",
            commission_bps=1_000,
            escrow_hold_days=7,
            product_moderation="auto",
        ).id
        admin = f"admin-{uuid4().hex[:6]}@bench.test"
        c.identity.register_user(
            ctx,
            tenant_id=tenant,
            email=admin,
            password=PASSWORD,
            roles=["marketplace_admin"],
            granter_roles=["super_admin"],
        )
        sellers = []
        for n in range(args.sellers):
            seller = c.sellers.register_seller(
                ctx, tenant_id=tenant, user_id=uuid4(), display_name=f"Shop {n}", country="DE"
            ).id
            c.sellers.approve(ctx, seller, tenant)
            sellers.append(seller)
        catalog: list[PricedLine] = []
        for n in range(args.products):
            seller = sellers[n % args.sellers]
            listed, _ = c.catalog.list_product(
                ctx,
                seller_id=seller,
                within=tenant,
                sku=f"SKU-{n}",
                title=f"Product {n}",
                description="",
                category="goods",
                price=Money(rng.randrange(500, 20_000), "USD"),
                attributes={},
            )
            product: Product = c.catalog.repository.get(listed.id)
            catalog.append(
                PricedLine(product.id, seller, product.title, 1, product.price_minor, "USD", 1_000)
            )
        buyers = [uuid4() for _ in range(args.buyers)]
        start = datetime.now(UTC) - timedelta(days=365)
        moments = sorted(
            start + timedelta(seconds=rng.randrange(365 * 86_400)) for _ in range(orders)
        )
        began = time.perf_counter()
        batch: list[Any] = []
        for n, moment in enumerate(moments):
            clock.now = moment
            buyer = rng.choice(buyers)
            cart = Cart(tenant_id=tenant, buyer_id=buyer)
            lines = []
            for line in rng.sample(catalog, rng.randint(1, 3)):
                quantity = rng.randint(1, 3)
                cart.set_quantity(line.product_id, quantity)
                lines.append(
                    PricedLine(
                        line.product_id,
                        line.seller_id,
                        line.title,
                        quantity,
                        line.unit_price_minor,
                        "USD",
                        1_000,
                    )
                )
            key = f"bench-{n}"
            order, seller_orders = place(
                order_id=Order.create_id(tenant, buyer, key),
                tenant_id=tenant,
                idempotency_key=key,
                buyer_id=buyer,
                cart_id=cart.id,
                lines=lines,
                shipping_address=ADDRESS,
                expires_at=moment + timedelta(minutes=30),
            )
            cart.check_out(order.id)
            if rng.random() < 0.9:
                clock.now = moment + timedelta(seconds=rng.randrange(5, 600))
                order.pay(f"ch_{n}")
                for so in seller_orders:
                    so.pay()
            batch += [cart, order, *seller_orders]
            if len(batch) >= BATCH * 4 or n == len(moments) - 1:
                clock.now = None
                c.checkout.record(ctx, *batch)
                batch = []
            if n and n % 10_000 == 0:
                print(f"  recorded {n:,} orders ({n / (time.perf_counter() - began):,.0f}/s)")
        return {
            "tenant": str(tenant),
            "admin": admin,
            "sellers": [str(s) for s in sellers],
            "record_s": time.perf_counter() - began,
        }
    finally:
        eventsourcing.domain.datetime_now_with_tzinfo = real_now  # type: ignore[assignment]
        c.close()


@contextlib.contextmanager
def serving(env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    log = open(Path(env["VELORA_DATA_DIR"]) / "serve.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [VELORA, "serve", "--port", str(port)],
        env=env,
        cwd=env["VELORA_DATA_DIR"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"velora serve did not start; see {log.name}")
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def sign_in(client: httpx.Client, email: str, tenant_id: str | None = None) -> str:
    body = {"email": email, "password": PASSWORD} | ({"tenant_id": tenant_id} if tenant_id else {})
    response = client.post("/v1/auth/token", json=body)
    response.raise_for_status()
    return str(response.json()["access_token"])


def caught_up(
    client: httpx.Client, root: str, poll_s: float = 2.0, limit_s: float = 3_600
) -> float:
    began = time.perf_counter()
    while time.perf_counter() - began < limit_s:
        rows = client.get("/v1/ops/projections", headers={"Authorization": f"Bearer {root}"}).json()
        lag = {r["name"]: r["lag"] for r in rows if r["name"] in ("analytics", "carts", "sellers")}
        if lag and not any(lag.values()):
            return time.perf_counter() - began
        time.sleep(poll_s)
    raise RuntimeError("the projectors did not catch up")


def timed(client: httpx.Client, token: str, path: str, params: dict[str, str]) -> float:
    began = time.perf_counter()
    response = client.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
    elapsed = time.perf_counter() - began
    if response.status_code != 200:
        raise RuntimeError(f"{path} {params}: {response.status_code} {response.text[:300]}")
    return elapsed


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 2)

    return {
        "p50_ms": at(0.5),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2),
    }


def run(env: dict[str, str], args: argparse.Namespace, rng: random.Random) -> dict[str, Any]:
    root = f"root-{uuid4().hex[:6]}@bench.test"
    cwd = env["VELORA_DATA_DIR"]
    subprocess.run([VELORA, "migrate"], env=env, cwd=cwd, check=True, capture_output=True)
    subprocess.run(
        [VELORA, "admin", "create-superuser", "--email", root, "--password", PASSWORD],
        env=env,
        cwd=cwd,
        check=True,
        capture_output=True,
    )
    recorded = Path(cwd) / "bench-world.json"
    if recorded.exists():
        world = json.loads(recorded.read_text())
        print(f"reusing the {args.orders:,} orders recorded in {cwd}")
    else:
        print(f"recording {args.orders:,} orders ...")
        world = seed(env, args, rng)
        print(f"  recorded in {world['record_s']:.0f} s")
        recorded.write_text(json.dumps(world))
    with serving(env) as url, httpx.Client(base_url=url, timeout=60) as client:
        root_token = sign_in(client, root)
        print("projecting ...")
        projected_s = caught_up(client, root_token, poll_s=0.2 if args.smoke else 2.0)
        print(f"  the read models caught up in {projected_s:.0f} s")
        admin = sign_in(client, world["admin"], world["tenant"])
        today = datetime.now(UTC).date()
        results: dict[str, Any] = {}
        for days, interval in ((30, "day"), (90, "week"), (365, "month"), (365, "day")):
            span = {
                "from": str(today - timedelta(days=days - 1)),
                "to": str(today),
                "interval": interval,
            }
            for name, path in (
                ("seller", None),
                ("marketplace", "/v1/analytics/marketplace"),
            ):
                for format in ("json", "csv"):
                    params = span | {"format": format}
                    samples = []
                    for _ in range(args.requests):
                        where = path or f"/v1/sellers/{rng.choice(world['sellers'])}/analytics"
                        samples.append(timed(client, admin, where, params))
                    label = f"{name} {days}d/{interval} {format}"
                    results[label] = percentiles(samples)
                    print(f"  {label:<32} {results[label]}")
        return {
            "orders": args.orders,
            "sellers": args.sellers,
            "products": args.products,
            "buyers": args.buyers,
            "record_s": round(world["record_s"], 1),
            "projection_catch_up_s": round(projected_s, 1),
            "latency": results,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=("embedded", "servers"), default="embedded")
    add_world_options(parser)
    parser.add_argument("--requests", type=int, default=60, help="per dashboard and range")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument(
        "--keep",
        metavar="DIR",
        help="embedded only: record into DIR and keep it; a DIR recorded before is reused",
    )
    args = report.arguments(parser, smoke={**SMOKE_WORLD, "requests": 2})
    rng = random.Random(args.seed)
    base = {"VELORA_LOG_LEVEL": "WARNING", "VELORA_SECRET_KEY": "bench-analytics-" + "k" * 40}
    with contextlib.ExitStack() as stack:
        if args.keep:
            Path(args.keep).mkdir(parents=True, exist_ok=True)
            data_dir = args.keep
        else:
            data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="velora-analytics-"))
        env = {**os.environ, **base, "VELORA_DATA_DIR": data_dir}
        if args.backend == "servers":
            pg = os.environ.get(
                "VELORA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
            )
            my = os.environ.get("VELORA_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")
            with server_databases(pg, my) as urls:
                result = run(env | urls, args, rng)
        else:
            result = run(env, args, rng)
    result["backend"] = args.backend
    report.write(f"analytics-{args.backend}", result)


if __name__ == "__main__":
    main()
