"""Restore time: how long a deployment takes to come back from a backup (the RTO it implies).

1. Records a marketplace's history into a fresh event store, as bench/analytics.py does (100,000
   orders with their carts by default: about 1.1 million events), or reuses one (`--keep DIR`
   of an earlier run, embedded only).
2. `velora backup` of it, as an operator runs it.
3. `velora restore` into a fresh deployment (an empty data dir, or fresh PostgreSQL and MariaDB
   databases): the log is loaded, then every read model is folded again from it and the
   search index rebuilt. Timed as a whole, as an operator would wait for it; Velora's own
   split (loading / folding) is printed as the command prints it.

The seeds ask for RTO < 1 h: printed against it. Writes bench/results/restore-<backend>.json.
Timing is never asserted; the tests run it only as `--smoke` (bench/analytics.py's smoke world).

    python bench/restore.py [--backend embedded|servers] [--orders 100000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.bootstrap import build
from api.settings import Settings
from bench import report
from bench.analytics import SMOKE_WORLD, add_world_options, seed
from bench.harness.deploy import VELORA, server_databases

RTO_TARGET_S = 3_600


def velora(env: dict[str, str], *args: str) -> tuple[float, str]:
    began = time.perf_counter()
    done = subprocess.run(
        [VELORA, *args],
        env=env,
        cwd=env["VELORA_DATA_DIR"],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - began
    said = " ".join(done.stdout.split())
    if done.returncode != 0:
        raise RuntimeError(f"velora {' '.join(args)} failed: {said} {done.stderr[-2000:]}")
    return elapsed, said


def events_in(env: dict[str, str]) -> int:
    """The head of the deployment's log, read through the composition root with its settings
    (in this process: a process of its own would cost seconds of imports)."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        **{k.removeprefix("VELORA_").lower(): v for k, v in env.items() if k.startswith("VELORA_")},
    )
    c = build(settings)
    try:
        return c.log.head()
    finally:
        c.close()


def run(source: dict[str, str], target: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    recorded = Path(source["VELORA_DATA_DIR"]) / "bench-world.json"
    if recorded.exists():
        print(f"reusing the history recorded in {source['VELORA_DATA_DIR']}")
    else:
        print(f"recording {args.orders:,} orders ...")
        subprocess.run([VELORA, "migrate"], env=source, cwd=source["VELORA_DATA_DIR"], check=True)
        world = seed(dict(source), args, random.Random(args.seed))
        recorded.write_text(json.dumps(world))
        print(f"  recorded in {world['record_s']:.0f} s")
    events = events_in(source)
    with tempfile.TemporaryDirectory(prefix="velora-backup-") as scratch:
        backup_dir = Path(scratch) / "backup"
        backup_s, said = velora(source, "backup", str(backup_dir))
        print(f"  backup: {backup_s:.1f} s ({said})")
        size = sum(f.stat().st_size for f in backup_dir.rglob("*") if f.is_file())
        restore_s, said = velora(target, "restore", str(backup_dir))
        print(f"  restore: {restore_s:.1f} s ({said})")
    rate = events / restore_s
    print(
        f"{events:,} events: back in {restore_s / 60:.1f} min ({rate:,.0f} events/s); "
        f"RTO target {RTO_TARGET_S / 60:.0f} min: "
        f"{'met' if restore_s < RTO_TARGET_S else 'NOT met'}; at this rate the target holds up "
        f"to {rate * RTO_TARGET_S / 1e6:.1f} million events"
    )
    return {
        "events": events,
        "backup_s": round(backup_s, 1),
        "backup_bytes": size,
        "restore_and_rebuild_s": round(restore_s, 1),
        "events_per_s": round(rate),
        "rto_target_s": RTO_TARGET_S,
        "rto_met": restore_s < RTO_TARGET_S,
        "events_within_target": int(rate * RTO_TARGET_S),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=("embedded", "servers"), default="embedded")
    add_world_options(parser)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--keep", metavar="DIR", help="embedded only: a data dir recorded before")
    args = report.arguments(parser, smoke=SMOKE_WORLD)
    base = {
        **{k: v for k, v in os.environ.items() if not k.startswith("VELORA_")},
        "VELORA_LOG_LEVEL": "WARNING",
        # bench/analytics.py's key, so a history it recorded (`--keep`) can be opened.
        "VELORA_SECRET_KEY": "bench-analytics-" + "k" * 40,
    }
    with contextlib.ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="velora-restore-")))
        (scratch / "source").mkdir()
        (scratch / "target").mkdir()
        source = {**base, "VELORA_DATA_DIR": args.keep or str(scratch / "source")}
        target = {**base, "VELORA_DATA_DIR": str(scratch / "target")}
        if args.backend == "servers":
            pg = os.environ.get(
                "VELORA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
            )
            my = os.environ.get("VELORA_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")
            theirs = stack.enter_context(server_databases(pg, my))
            mine = stack.enter_context(server_databases(pg, my))
            source |= theirs
            # The same key: it unwraps the per-person keys of the sealed personal data.
            target |= mine | {"VELORA_SECRET_KEY": theirs["VELORA_SECRET_KEY"]}
        result = run(source, target, args)
    result["backend"] = args.backend
    report.write(f"restore-{args.backend}", result)


if __name__ == "__main__":
    main()
