from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import jwt
import pytest

from api.problems import Problem
from api.security import Argon2Hasher, InvalidToken, TokenService
from api.settings import SettingsError
from api.wiring.orders import payment_provider
from tests.conftest import make_settings

SERVERS = {"eventstore_url": "postgresql://u@127.0.0.1/db"}


@pytest.mark.parametrize("secret", [None, "", "changeme", "secret", "short-but-not-default"])
def test_outside_the_embedded_default_a_weak_secret_refuses_to_start(
    tmp_path: Path, secret: str | None
) -> None:
    settings = make_settings(tmp_path, secret_key=secret, **SERVERS)
    assert not settings.embedded
    with pytest.raises(SettingsError, match="VELORA_SECRET_KEY"):
        settings.signing_key()


def test_a_strong_secret_is_used_as_given(tmp_path: Path) -> None:
    secret = "x" * 40
    assert make_settings(tmp_path, secret_key=secret, **SERVERS).signing_key() == secret


def test_embedded_makes_one_secret_and_keeps_it(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "d", secret_key=None)
    assert settings.embedded
    first = settings.signing_key()
    assert len(first) >= 32
    assert make_settings(tmp_path / "d", secret_key=None).signing_key() == first
    assert (tmp_path / "d" / "secret_key").stat().st_mode & 0o077 == 0


def test_tokens_round_trip_and_reject_tampering_and_expiry() -> None:
    tokens = TokenService("k" * 40, ttl_s=60)
    user, tenant = str(uuid4()), str(uuid4())
    principal = tokens.verify(tokens.issue(user, tenant, ["buyer"]))
    assert (principal.user_id, principal.tenant_id, principal.roles) == (
        UUID(user),
        UUID(tenant),
        frozenset({"buyer"}),
    )
    with pytest.raises(InvalidToken):
        TokenService("z" * 40, ttl_s=60).verify(tokens.issue(user, tenant, ["buyer"]))
    stale = jwt.encode(
        {
            "sub": user,
            "tenant_id": tenant,
            "roles": [],
            "iat": 1,
            "exp": int(time.time()) - 1,
            "iss": "velora",
        },
        "k" * 40,
        "HS256",
    )
    with pytest.raises(InvalidToken):
        tokens.verify(stale)
    unsigned = jwt.encode(
        {
            "sub": user,
            "tenant_id": tenant,
            "roles": ["super_admin"],
            "iat": 1,
            "exp": int(time.time()) + 60,
            "iss": "velora",
        },
        None,
        "none",
    )
    with pytest.raises(InvalidToken):
        tokens.verify(unsigned)


def test_a_token_claiming_a_longer_life_than_the_service_issues_is_refused() -> None:
    tokens = TokenService("k" * 40, ttl_s=3600)
    now = int(time.time())

    def signed(iat: int, exp: int) -> str:
        claims = {"sub": str(uuid4()), "tenant_id": str(uuid4()), "roles": ["buyer"]}
        return jwt.encode({**claims, "iat": iat, "exp": exp, "iss": "velora"}, "k" * 40, "HS256")

    tokens.verify(signed(now, now + 3600))  # as issued
    for iat, exp in ((now, now + 10 * 365 * 86400), (now + 3600, now + 3700)):
        with pytest.raises(InvalidToken):
            tokens.verify(signed(iat, exp))


def test_argon2_hashes_verify_only_the_right_password() -> None:
    hasher = Argon2Hasher()
    digest = hasher.hash("correct horse")
    assert digest.startswith("$argon2id$")
    assert hasher.verify(digest, "correct horse")
    assert not hasher.verify(digest, "wrong horse")
    assert not hasher.verify(None, "correct horse")
    assert not hasher.verify("not-a-hash", "correct horse")


class Watched:
    """argon2's own hasher, with a count of how many of its checks run at once."""

    def __init__(self, real: Any, gate: threading.Event | None = None) -> None:
        self.real, self.gate = real, gate
        self.running = self.peak = 0
        self.lock = threading.Lock()
        self.entered = threading.Event()

    def verify(self, digest: str, password: str) -> bool:
        with self.lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        self.entered.set()
        try:
            if self.gate is not None:
                self.gate.wait(10)
            return bool(self.real.verify(digest, password))
        finally:
            with self.lock:
                self.running -= 1


def test_a_burst_of_password_checks_runs_a_bounded_number_at_once() -> None:
    hasher = Argon2Hasher(time_cost=1, memory_cost_kib=8192, concurrent=2)
    digest = hasher.hash("correct horse")
    watched = Watched(hasher._argon2)
    hasher._argon2 = watched
    with ThreadPoolExecutor(12) as pool:
        results = list(pool.map(lambda _: hasher.verify(digest, "correct horse"), range(12)))
    assert results == [True] * 12
    assert watched.peak == 2


def test_a_password_check_that_cannot_get_a_turn_in_time_is_refused_as_busy() -> None:
    hasher = Argon2Hasher(time_cost=1, memory_cost_kib=8192, concurrent=1, wait_s=0.05)
    digest = hasher.hash("correct horse")
    gate = threading.Event()
    watched = Watched(hasher._argon2, gate)
    hasher._argon2 = watched
    holder = threading.Thread(target=hasher.verify, args=(digest, "correct horse"))
    holder.start()
    try:
        assert watched.entered.wait(10)
        with pytest.raises(Problem) as refused:
            hasher.verify(digest, "correct horse")
        assert refused.value.status == 503 and refused.value.headers["Retry-After"] == "1"
    finally:
        gate.set()
        holder.join()
    assert hasher.verify(digest, "correct horse")  # its turn is free again


def test_rates_that_do_not_parse_refuse_to_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a rate"):
        make_settings(tmp_path, rate_sign_in_per_account="often")


def test_a_stripe_key_without_a_webhook_secret_refuses_to_start(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, stripe_api_key="sk_test_x")
    with pytest.raises(SettingsError, match="VELORA_STRIPE_WEBHOOK_SECRET"):
        settings.webhook_secret()
    with_secret = make_settings(
        tmp_path, stripe_api_key="sk_test_x", stripe_webhook_secret="whsec_abc"
    )
    assert with_secret.webhook_secret() == "whsec_abc"


def test_the_provider_is_stripe_exactly_when_a_key_is_set(tmp_path: Path) -> None:
    tokens = TokenService("k" * 48, 3600)
    assert payment_provider(make_settings(tmp_path), tokens).name == "local"
    stripe_settings = make_settings(tmp_path, stripe_api_key="sk_test_x")
    assert payment_provider(stripe_settings, tokens).name == "stripe"


def test_a_token_checked_once_still_expires_on_time() -> None:
    tokens = TokenService("k" * 40, ttl_s=60)
    now = int(time.time())
    claims = {"sub": str(uuid4()), "tenant_id": str(uuid4()), "roles": ["buyer"], "iss": "velora"}
    token = jwt.encode({**claims, "iat": now, "exp": now + 2}, "k" * 40, "HS256")
    assert tokens.verify(token).roles == frozenset({"buyer"})
    assert tokens.verify(token).roles == frozenset({"buyer"})  # known now
    time.sleep(max(0.0, now + 2 - time.time()) + 0.05)
    with pytest.raises(InvalidToken):
        tokens.verify(token)
    with pytest.raises(InvalidToken):
        tokens.verify(token)  # and stays refused
