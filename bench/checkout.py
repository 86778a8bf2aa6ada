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

This script is the command line, one run and the report; bench/harness/deploy.py starts Velora
and the databases and reads CPU time, bench/harness/shop.py is the HTTP client and the shop it
seeds, and bench/harness/phases.py the load phases and their measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import report
from bench.harness.deploy import Velora, cpu_per_checkout, cpu_snapshot, server_databases, started
from bench.harness.phases import (
    CLIENTS,
    REQUEST_TIMEOUT_S,
    Outcome,
    catch_up,
    closed_loop,
    grow,
    open_loop,
    oversold,
    pct,
    probe,
    sequential_cart_commands,
    settle_unknown,
)
from bench.harness.shop import Cart, Client, build_carts, set_up

SPREAD_PRODUCTS = 1_000
BUYERS = 64


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
