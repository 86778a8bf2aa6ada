"""Where every benchmark writes its figures (bench/results/<name>.json), and the two options
every benchmark takes: `--smoke` and `--results-dir`.

A smoke run is the benchmark at tiny sizes through the same code paths (Velora started as a user
deploys it and driven over HTTP wherever the full run does), so that `make test` notices when a
benchmark stops running; its figures mean nothing and go to a temporary directory, marked
`"smoke": true`, unless `--results-dir` names one."""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"

_results = RESULTS
_smoke = False


def arguments(
    parser: argparse.ArgumentParser, smoke: dict[str, Any] | None = None
) -> argparse.Namespace:
    """Parses the benchmark's options with `--smoke` and `--results-dir` added, sets where
    `write` puts the JSON, and in a smoke run replaces the sizes named in `smoke`."""
    global _results, _smoke
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes, same code paths, results to a temporary directory: proves the "
        "benchmark still runs (make test runs every benchmark so)",
    )
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=None,
        help="write the JSON here instead of bench/results (a smoke run: a temporary directory)",
    )
    args = parser.parse_args()
    _smoke = args.smoke
    if args.results_dir is not None:
        _results = args.results_dir
    elif args.smoke:
        _results = Path(tempfile.mkdtemp(prefix="velora-bench-smoke-"))
    if args.smoke:
        for name, value in (smoke or {}).items():
            setattr(args, name, value)
    return args


def write(name: str, result: dict[str, Any]) -> Path:
    _results.mkdir(parents=True, exist_ok=True)
    out = _results / f"{name}.json"
    if _smoke:
        result = {**result, "smoke": True}
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")
    return out
