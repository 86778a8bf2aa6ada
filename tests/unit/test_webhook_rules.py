"""The rules of webhooks to other apps (domain/webhooks.py), the retry schedule and signature of
the dispatcher (projections/webhooks/dispatch.py), and sealed secrets (eventstore/sealing.py)."""

from __future__ import annotations

import hashlib
import hmac
import random
import re
from pathlib import Path
from uuid import uuid4

import pytest

from domain.webhooks import (
    InvalidWebhookUrl,
    UnknownEventType,
    WebhookEndpoint,
    endpoint_url,
    is_public,
    receives,
    subscribed_types,
)
from eventstore.integration import TYPES
from eventstore.sealing import SealBroken, Sealer
from projections.webhooks.dispatch import RetryPolicy, signature

ADDRESSES = [
    ("93.184.216.34", True),
    ("2606:2800:220:1:248:1893:25c8:1946", True),
    ("127.0.0.1", False),
    ("127.8.9.10", False),
    ("::1", False),
    ("::ffff:127.0.0.1", False),
    ("::ffff:93.184.216.34", True),
    ("10.0.0.1", False),
    ("172.16.5.4", False),
    ("192.168.1.1", False),
    ("169.254.169.254", False),  # the clouds' metadata service
    ("fd00:ec2::254", False),  # AWS's, over IPv6
    ("fe80::1", False),
    ("100.64.0.1", False),  # shared address space (carrier NAT)
    ("0.0.0.0", False),  # noqa: S104 - an address judged, not bound
    ("224.0.0.1", False),
    ("255.255.255.255", False),
    ("not an address", False),
]


@pytest.mark.parametrize(("address", "public"), ADDRESSES)
def test_only_public_addresses_may_be_reached(address: str, public: bool) -> None:
    assert is_public(address) is public


URLS = [
    ("https://hooks.example.com/velora", False, True),
    ("https://hooks.example.com:8443/velora?x=1", False, True),
    ("https://93.184.216.34/x", False, True),
    ("http://hooks.example.com/x", False, False),
    ("http://hooks.example.com/x", True, True),
    ("http://127.0.0.1:9000/x", True, True),
    ("https://127.0.0.1/x", False, False),
    ("https://[::1]/x", False, False),
    ("https://169.254.169.254/latest", False, False),
    ("https://localhost/x", False, False),
    ("https://api.localhost/x", False, False),
    ("https://printer.local/x", False, False),
    ("https://user:pw@hooks.example.com/x", True, False),
    ("https://hooks.example.com/x#frag", False, False),
    ("https://hooks.example.com:99999/x", False, False),
    ("ftp://hooks.example.com/x", True, False),
    ("hooks.example.com/x", False, False),
    ("https:///x", False, False),
    ("", False, False),
    ("https://hooks example.com/x", False, False),
    ("https://hooks.example.com/x\ny", False, False),
    ("https://bücher.example/x", False, False),
    ("https://xn--bcher-kva.example/x", False, True),
    ("https://h.example.com/" + "x" * 2000, False, False),
]


@pytest.mark.parametrize(("url", "allow_private", "kept"), URLS)
def test_a_webhook_url_is_https_to_a_host_that_may_be_public(
    url: str, allow_private: bool, kept: bool
) -> None:
    if kept:
        assert endpoint_url(f"  {url} ", allow_private=allow_private) == url
    else:
        with pytest.raises(InvalidWebhookUrl):
            endpoint_url(url, allow_private=allow_private)


def test_an_endpoint_subscribes_to_known_types_or_to_every_one() -> None:
    assert subscribed_types(["order.paid", "order.placed", "order.paid"], TYPES) == (
        "order.paid",
        "order.placed",
    )
    assert subscribed_types(["*"], TYPES) == ("*",)
    for wrong in ([], ["*", "order.paid"], ["order.teleported"], ["x"] * 101):
        with pytest.raises(UnknownEventType):
            subscribed_types(wrong, TYPES)
    assert receives(("*",), "payout.paid") and receives(("order.paid",), "order.paid")
    assert not receives(("order.paid",), "order.placed")


def test_a_registration_keeps_the_secret_sealed_and_a_deletion_is_for_good() -> None:
    sealer = Sealer("deployment-key", "webhook-endpoint")
    tenant = uuid4()
    endpoint_id = WebhookEndpoint.create_id(tenant, "admin:key-1")
    sealed = sealer.seal("whsec_abc", endpoint_id)
    endpoint = WebhookEndpoint.register(
        tenant,
        url="https://hooks.example.com/x",
        events=["order.paid"],
        description="  ERP  ",
        sealed_secret=sealed,
        origin="admin:key-1",
        known_types=TYPES,
        allow_private=False,
    )
    assert endpoint.id == endpoint_id
    (made,) = endpoint.collect_events()
    assert isinstance(made, WebhookEndpoint.Registered)
    assert "whsec_abc" not in repr(vars(made)) and made.description == "ERP"
    assert WebhookEndpoint.Registered.secret == frozenset({"sealed_secret"})
    endpoint.delete()
    endpoint.delete()
    assert [type(e) for e in endpoint.collect_events()] == [WebhookEndpoint.Deleted]


def test_a_sealed_secret_opens_only_for_its_endpoint_under_its_deployments_key() -> None:
    sealer, owner = Sealer("deployment-key", "webhook-endpoint"), uuid4()
    sealed = sealer.seal("whsec_abc", owner)
    assert sealed != sealer.seal("whsec_abc", owner)  # a fresh nonce each time
    assert sealer.open(sealed, owner) == "whsec_abc"
    for wrong in (
        lambda: sealer.open(sealed, uuid4()),
        lambda: Sealer("another-key", "webhook-endpoint").open(sealed, owner),
        lambda: sealer.open(sealed[:-4] + "AAAA", owner),
        lambda: sealer.open("whsec_abc", owner),
    ):
        with pytest.raises(SealBroken):
            wrong()


def test_the_signature_is_an_hmac_of_the_time_and_the_body() -> None:
    body = b'{"id":"1"}'
    header = signature("whsec_k", 1765000000, body)
    expected = hmac.new(b"whsec_k", b"1765000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1765000000,v1={expected}"


def test_retries_back_off_exponentially_with_jitter_up_to_a_ceiling() -> None:
    policy = RetryPolicy(first_s=30, longest_s=6 * 3600, jitter=0.25)
    rng = random.Random(7)
    for attempts in range(1, 30):
        backoff = min(30 * 2 ** (attempts - 1), 6 * 3600)
        waits = {policy.wait_s(attempts, rng) for _ in range(50)}
        assert all(0.75 * backoff <= w <= 1.25 * backoff for w in waits)
        assert len(waits) > 1  # jittered: receivers are not hit by every retry at once
    # Three days of retries: about 20 attempts, the last ones six hours apart.
    elapsed, attempts = 0.0, 0
    while elapsed < 3 * 24 * 3600:
        attempts += 1
        elapsed += min(30 * 2 ** (attempts - 1), 6 * 3600)
    assert 15 <= attempts <= 25


def test_the_types_an_endpoint_may_name_are_those_docs_events_md_lists() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "events.md").read_text()
    documented = set(re.findall(r"^\| `([a-z_.]+)` \| \w+ \|", text, re.M))
    assert documented == TYPES
