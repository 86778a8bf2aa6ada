from __future__ import annotations

import time
from pathlib import Path
from uuid import uuid4

import jwt
import pytest

from api.bootstrap import payment_provider
from api.security import Argon2Hasher, InvalidToken, TokenService
from api.settings import SettingsError
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
        user,
        tenant,
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


def test_argon2_hashes_verify_only_the_right_password() -> None:
    hasher = Argon2Hasher()
    digest = hasher.hash("correct horse")
    assert digest.startswith("$argon2id$")
    assert hasher.verify(digest, "correct horse")
    assert not hasher.verify(digest, "wrong horse")
    assert not hasher.verify(None, "correct horse")
    assert not hasher.verify("not-a-hash", "correct horse")


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
