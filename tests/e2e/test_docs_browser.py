"""`/docs` and `/redoc` in a real browser on a machine with no internet: headless Chromium opens
them on a running `velora serve`, with every host but this one unresolvable, and finds the
operations listed. Swagger UI's and ReDoc's scripts and styles must come from Velora itself."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REQUIRE_SERVICES
from tests.e2e.test_cli import clean_env, serving


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = "Chromium is not installed; `make services` installs it"
        if REQUIRE_SERVICES:
            pytest.fail(f"VELORA_REQUIRE_SERVICES=1 but {message}", pytrace=False)
        pytest.skip(message)
    return found


def rendered(browser: str, profile: Path, url: str) -> str:
    """The DOM of `url` once headless Chromium has run its scripts, every host but this one
    unresolvable."""
    run = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            # No internet: every name but this machine's fails to resolve.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--virtual-time-budget=20000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout


def test_docs_list_the_operations_in_a_browser_with_no_internet(tmp_path: Path) -> None:
    browser = chromium()
    data_dir = tmp_path / ".velora"
    with serving(tmp_path, clean_env(data_dir)) as base:
        dom = rendered(browser, tmp_path / "chromium", f"{base}/docs")
        redoc = rendered(browser, tmp_path / "chromium-redoc", f"{base}/redoc")
    assert "swagger-ui" in dom
    # Swagger UI ran: it fetched /openapi.json and drew an operation block per route.
    assert dom.count('class="opblock ') > 50, dom[:2000]
    for path in ("/v1/auth/token", "/v1/checkout", "/v1/ledger/trial-balance"):
        assert path in dom
    # So did ReDoc: a section per operation, from its script served by Velora.
    assert redoc.count('id="tag/') > 5 and redoc.count("operation/") > 50, redoc[:2000]
    assert "/v1/checkout" in redoc
