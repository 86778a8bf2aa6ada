"""Checkout at marketplace speed, measured as a storefront sees it: over HTTP, against Velora
started the way a user deploys it (`velora migrate`, `velora admin create-superuser`,
`velora serve`), on the embedded default and on PostgreSQL + MariaDB.

Setup, over HTTP: a tenant, 2 approved sellers, 6 hot products and 1,000 spread products (each
with a large stock), buyers, and prebuilt 3-line carts spanning both sellers. Then:

  a. closed loop, 32 clients, carts over the 6 hot products
  b. closed loop, 32 clients, carts over the 1,000 products
  c. open loop at 25/s, 100/s and 250/s (latency counted from each request's scheduled start, so
     a slow server cannot hide queueing by slowing the client down)
  d. the latency of a cart command (`PUT /v1/carts/{id}/items/{product_id}`), one client
  e. the projection lag when the load stops, and the time for the read models to catch up
  f. CPU seconds per checkout of each process (Velora's, PostgreSQL's and MariaDB's)
  g. no oversell: every hot product's `available` equals its stock less what the successful
     checkouts hold

Prints a table and writes bench/results/checkout-<backend>.json. Timing is never asserted; the
tests run it only as `--smoke` (both backends, a dozen checkouts a phase, a few buyers).

    python bench/checkout.py [--backend embedded|servers|both] [--quick] [--api-workers N]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import report

ROOT = Path(__file__).resolve().parents[1]
VELORA = str(Path(sys.executable).parent / "velora")
PASSWORD = "bench password 123"
ADDRESS = {
    "name": "Bench Buyer",
    "line1": "1 Main St",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
}
STOCK = 1_000_000
CLIENTS = 32
HOT_PER_SELLER = 3
SPREAD_PRODUCTS = 1_000
BUYERS = 64
REQUEST_TIMEOUT_S = 30.0


# -- starting Velora as a user deploys it ---------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def server_databases(pg_url: str, mysql_url: str) -> Iterator[dict[str, str]]:
    """Fresh PostgreSQL and MariaDB databases for one run, dropped afterwards."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg
    import pymysql

    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    my = urlsplit(mysql_url)
    my_conn = pymysql.connect(
        host=my.hostname,
        port=my.port or 3306,
        user=my.username or "root",
        password=my.password or "",
        autocommit=True,
    )
    with my_conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    try:
        yield {
            "VELORA_EVENTSTORE_URL": urlunsplit(urlsplit(pg_url)._replace(path=f"/{name}")),
            "VELORA_READ_DB_URL": urlunsplit(my._replace(path=f"/{name}")),
            "VELORA_SECRET_KEY": secrets.token_urlsafe(48),
        }
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        with my_conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        my_conn.close()


@dataclass
class Velora:
    url: str
    process: subprocess.Popen[bytes]
    env: dict[str, str]


@contextlib.contextmanager
def started(extra_env: dict[str, str], serve_args: list[str], root_email: str) -> Iterator[Velora]:
    data_dir = tempfile.mkdtemp(prefix="velora-bench-")
    env = {
        **os.environ,
        **extra_env,
        "VELORA_DATA_DIR": data_dir,
        "VELORA_LOG_LEVEL": "WARNING",
        # Every simulated buyer signs in from this one address, as no real crowd would: the
        # per-address limits are raised as an operator would for a load test. The per-account
        # limit and the tenant's request budget stay as deployed.
        "VELORA_RATE_SIGN_IN_PER_ADDRESS": "1000000/minute",
        "VELORA_RATE_SIGN_UP_PER_ADDRESS": "1000000/minute",
        # The buyers sign in once and shop for as long as the run lasts (a --grow run, hours).
        "VELORA_TOKEN_TTL_S": "86400",
    }
    cwd = tempfile.mkdtemp(prefix="velora-bench-cwd-")  # no stray .env is read
    if "VELORA_EVENTSTORE_URL" in extra_env:
        subprocess.run([VELORA, "migrate"], env=env, cwd=cwd, check=True, capture_output=True)
    subprocess.run(
        [VELORA, "admin", "create-superuser", "--email", root_email, "--password", PASSWORD],
        env=env,
        cwd=cwd,
        check=True,
        capture_output=True,
    )
    port = free_port()
    log = open(Path(data_dir) / "serve.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [VELORA, "serve", "--port", str(port), *serve_args],
        env=env,
        cwd=cwd,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"velora serve did not start; see {log.name}") from None
                time.sleep(0.2)
        yield Velora(url, process, env)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()
        shutil.rmtree(data_dir, ignore_errors=True)
        shutil.rmtree(cwd, ignore_errors=True)


# -- CPU per process ------------------------------------------------------------------------------


def _cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{p}/task"):
                with contextlib.suppress(OSError):
                    children = Path(f"/proc/{p}/task/{task}/children").read_text().split()
                    todo += [int(c) for c in children]
    return pids


def _named(names: tuple[str, ...]) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                if Path(f"/proc/{entry}/comm").read_text().strip() in names:
                    found.append(int(entry))
    return found


def cpu_snapshot(velora: Velora) -> dict[str, float]:
    """CPU seconds so far of each Velora process, of PostgreSQL and of MariaDB."""
    snap: dict[str, float] = {}
    for pid in _tree(velora.process.pid):
        with contextlib.suppress(OSError):
            snap[f"velora[{pid}]"] = _cpu_s(pid)
    for label, names in (("postgres", ("postgres",)), ("mariadb", ("mariadbd", "mysqld"))):
        total = 0.0
        for pid in _named(names):
            with contextlib.suppress(OSError):
                total += _cpu_s(pid)
        snap[label] = total
    snap["bench client"] = _cpu_s(os.getpid())
    return snap


def cpu_per_checkout(before: dict[str, float], after: dict[str, float], n: int) -> dict[str, float]:
    return {k: round((after[k] - before.get(k, 0.0)) / max(n, 1), 5) for k in after}


# -- the client -----------------------------------------------------------------------------------


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


# -- load -----------------------------------------------------------------------------------------


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


# -- one run --------------------------------------------------------------------------------------


async def run(velora: Velora, root_email: str, args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(7)
    # Idle connections are let go before uvicorn's keep-alive (5 s) closes them: a request sent
    # on a connection the server is closing that moment is reset (it ended a servers run once).
    connector = aiohttp.TCPConnector(limit=0, limit_per_host=0, keepalive_timeout=4)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S * 2)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        api = Client(velora.url, session)
        root = await api.sign_in(root_email)
        shop = await set_up(
            api, root_email, args.spread_products, args.buyers, args.variants_shipping
        )
        print(f"  set up in {shop.setup_s:.1f} s", flush=True)
        put_ms: list[float] = []
        t0 = time.perf_counter()
        hot_carts = await build_carts(api, shop, shop.hot, args.closed, rng, put_ms)
        spread_carts = await build_carts(api, shop, shop.spread, args.closed, rng, put_ms)
        open_carts = {
            rate: await build_carts(
                api, shop, shop.spread, int(rate * args.open_seconds), rng, put_ms
            )
            for rate in args.rates
        }
        carts_s = time.perf_counter() - t0
        put_ms.sort()
        print(f"  {len(put_ms)} cart commands while building carts in {carts_s:.1f} s", flush=True)
        await catch_up(api, root)

        result: dict[str, Any] = {
            "setup_s": round(shop.setup_s, 1),
            "cart_commands_concurrent_16": {
                "commands": len(put_ms),
                "p50_ms": pct(put_ms, 50),
                "p99_ms": pct(put_ms, 99),
                "per_s": round(len(put_ms) / carts_s, 1),
            },
            "cart_command_sequential": await sequential_cart_commands(
                api, shop, args.cart_commands
            ),
            "phases": {},
        }
        young = await probe(api, shop, args.probes, rng) if args.grow else {}
        held: dict[str, int] = {}
        unknown: list[Cart] = []
        cpu_total: dict[str, float] = {}
        checkouts_total = 0
        phases: list[tuple[str, Any]] = [
            ("closed_hot_32", lambda: closed_loop(api, hot_carts, CLIENTS)),
            ("closed_spread_32", lambda: closed_loop(api, spread_carts, CLIENTS)),
            *[
                (f"open_{rate:g}_per_s", lambda rate=rate: open_loop(api, open_carts[rate], rate))
                for rate in args.rates
            ],
        ]
        for name, phase in phases:
            before = cpu_snapshot(velora)
            out: Outcome = await phase()
            after = cpu_snapshot(velora)
            summary = out.summary()
            summary["cpu_s_per_checkout"] = cpu_per_checkout(before, after, summary["checkouts"])
            result["phases"][name] = summary
            for k, v in out.held.items():
                held[k] = held.get(k, 0) + v
            unknown += out.unknown
            for k in after:
                cpu_total[k] = cpu_total.get(k, 0.0) + after[k] - before.get(k, 0.0)
            checkouts_total += summary["checkouts"]
            print(f"  {name}: {fmt(summary)}", flush=True)
            lag_at_end, catch_up_s = await catch_up(api, root)
            summary["lag_at_end"] = lag_at_end
            summary["catch_up_s"] = round(catch_up_s, 2)
        result["cpu_s_per_checkout"] = {
            k: round(v / max(checkouts_total, 1), 5) for k, v in cpu_total.items()
        }
        # Before any growing: the holds of unpaid orders expire after the tenant's hold timeout
        # (30 min), and a long --grow run would see their stock come back.
        await settle_unknown(api, unknown, held)
        result["oversold"] = await oversold(api, shop, held)
        if args.grow:
            result["young_store"] = young
            grew_s = await grow(api, shop, args.grow, args.grow, rng)
            await catch_up(api, root)
            result["grown_store"] = {
                "products_added": args.grow,
                "orders_added": args.grow,
                "grow_s": round(grew_s, 1),
                **await probe(api, shop, args.probes, rng),
            }
            result["grown_over_young"] = {
                k: round(result["grown_store"][k] / young[k], 2) for k in young if young[k]
            }
            print(f"  young store: {young}\n  grown store: {result['grown_store']}", flush=True)
        return result


def fmt(s: dict[str, Any]) -> str:
    return (
        f"{s['checkouts_per_s']:>7}/s  p50 {s['p50_ms']} ms  p99 {s['p99_ms']} ms  "
        f"p99.9 {s['p999_ms']} ms  errors {s['errors']} {s['error_kinds'] or ''}"
    )


def print_table(backend: str, result: dict[str, Any]) -> None:
    print(f"\n{backend}")
    print(
        f"  {'phase':<20} {'checkouts/s':>11} {'p50 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} "
        f"{'errors':>6} {'lag':>6} {'catch-up s':>10}"
    )
    for name, s in result["phases"].items():
        print(
            f"  {name:<20} {s['checkouts_per_s']:>11} {s['p50_ms']!s:>8} {s['p99_ms']!s:>8} "
            f"{s['p999_ms']!s:>9} {s['errors']:>6} {s['lag_at_end']:>6} {s['catch_up_s']:>10}"
        )
    seq = result["cart_command_sequential"]
    print(f"  cart command, one client: p50 {seq['p50_ms']} ms, p99 {seq['p99_ms']} ms")
    print(f"  CPU s per checkout: {result['cpu_s_per_checkout']}")
    print(f"  oversold: {result['oversold'] or 'none'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("embedded", "servers", "both"), default="both")
    parser.add_argument("--closed", type=int, default=3000, help="checkouts per closed-loop phase")
    parser.add_argument("--rates", type=float, nargs="*", default=[25, 100, 250])
    parser.add_argument("--open-seconds", type=float, default=20.0)
    parser.add_argument("--spread-products", type=int, default=SPREAD_PRODUCTS)
    parser.add_argument("--api-workers", type=int, default=1, help="velora serve --workers N")
    parser.add_argument("--quick", action="store_true", help="1,000 closed, 5 s open phases")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "VELORA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument(
        "--mysql-url",
        default=os.environ.get("VELORA_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test"),
    )
    parser.add_argument(
        "--grow",
        type=int,
        default=0,
        help="then add this many products and orders and compare command latency (100000)",
    )
    parser.add_argument("--probes", type=int, default=100, help="--grow: commands per probe")
    parser.add_argument("--buyers", type=int, default=BUYERS)
    parser.add_argument("--cart-commands", type=int, default=300, help="one client, in sequence")
    parser.add_argument("--tag", default="", help="suffix of the results file")
    parser.add_argument(
        "--variants-shipping",
        action="store_true",
        help="every product in three sizes (variants with their own stock), every seller "
        "charging for shipping: carts name variants and checkouts choose a rate per seller",
    )
    args = report.arguments(
        parser,
        smoke={
            "closed": 12,
            "rates": [25],
            "open_seconds": 0.4,
            "spread_products": 6,
            "buyers": 4,
            "cart_commands": 10,
            "grow": 6,
            "probes": 3,
        },
    )
    if args.quick and not args.smoke:
        args.closed, args.open_seconds = 1000, 5.0
    serve_args = ["--workers", str(args.api_workers)] if args.api_workers > 1 else []
    backends = ["embedded", "servers"] if args.backend == "both" else [args.backend]
    for backend in backends:
        print(f"{backend}: starting Velora", flush=True)
        root_email = f"root-{uuid.uuid4().hex[:8]}@bench.test"
        with contextlib.ExitStack() as stack:
            env = (
                stack.enter_context(server_databases(args.pg_url, args.mysql_url))
                if backend == "servers"
                else {}
            )
            velora = stack.enter_context(started(env, serve_args, root_email))
            result = asyncio.run(run(velora, root_email, args))
        result.update(
            backend=backend,
            api_workers=args.api_workers,
            closed=args.closed,
            open_seconds=args.open_seconds,
            spread_products=args.spread_products,
            when=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        )
        print_table(backend, result)
        report.write(f"checkout-{backend}{args.tag}", result)


if __name__ == "__main__":
    main()
