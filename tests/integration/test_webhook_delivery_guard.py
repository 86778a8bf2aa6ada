"""The HTTP deliverer (adapters/webhooks.py) against a real receiver on this machine: where a
name resolves is looked up at every delivery and judged before anything connects, so a name
that now points at a private address (DNS rebinding) reaches nothing. The name service is the
outside effect replaced here, by a resolver answering as a rebinding attacker's would."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.webhooks import HttpDeliverer, resolve
from tests.receivers import Receivers

HEADERS = {"Content-Type": "application/json", "Velora-Event-Id": "e1"}


@pytest.fixture
def receivers() -> Iterator[Receivers]:
    with Receivers(slow_s=2.0).running() as running:
        yield running


def port_of(receivers: Receivers) -> int:
    return int(receivers.base.rsplit(":", 1)[1])


def test_a_name_that_resolves_to_this_machine_is_refused_after_dns(receivers: Receivers) -> None:
    answers = {"hooks.example.com": ["93.184.216.34"]}
    deliverer = HttpDeliverer(allow_private=False, timeout_s=1.0, resolver=lambda h, p: answers[h])
    url = f"http://hooks.example.com:{port_of(receivers)}/ok/rebound"
    for rebound in (["127.0.0.1"], ["93.184.216.34", "127.0.0.1"], ["169.254.169.254"]):
        answers["hooks.example.com"] = rebound
        outcome = deliverer.post(url, b"{}", HEADERS)
        assert not outcome.delivered and outcome.status_code is None
        assert outcome.error is not None and "not a public address" in outcome.error
    assert receivers.received == []


def test_the_connection_goes_to_the_address_the_lookup_found(receivers: Receivers) -> None:
    """With private receivers allowed, a name only the resolver knows reaches the receiver: the
    socket goes where the checked lookup said, not to a second lookup of its own."""
    deliverer = HttpDeliverer(
        allow_private=True, timeout_s=1.0, resolver=lambda h, p: ["127.0.0.1"]
    )
    url = f"http://receiver.velora.invalid:{port_of(receivers)}/ok/named"
    outcome = deliverer.post(url, b'{"id":"e1"}', HEADERS)
    assert outcome.delivered and outcome.status_code == 200
    (got,) = receivers.on("/ok/named")
    assert got.body == b'{"id":"e1"}' and got.headers["host"].startswith("receiver.velora.invalid")


def test_what_a_receiver_does_wrong_is_an_outcome_never_an_exception(
    receivers: Receivers,
) -> None:
    deliverer = HttpDeliverer(allow_private=True, timeout_s=1.0)
    assert deliverer.post(receivers.url("redirect", "r"), b"{}", HEADERS).status_code == 302
    assert receivers.on("/ok/r-moved") == []
    assert deliverer.post(receivers.url("fail", "f", n=1), b"{}", HEADERS).status_code == 500
    closed = deliverer.post(receivers.url("close", "c"), b"{}", HEADERS)
    assert closed.status_code is None and closed.error
    slow = deliverer.post(receivers.url("slow", "s"), b"{}", HEADERS)
    assert slow.status_code is None and slow.error == "no answer within 1 s"
    nowhere = deliverer.post("http://127.0.0.1:9/x", b"{}", HEADERS)  # nothing listens on 9
    assert nowhere.status_code is None and nowhere.error
    unresolvable = HttpDeliverer(allow_private=True, timeout_s=1.0).post(
        "https://no-such-host.velora.invalid/x", b"{}", HEADERS
    )
    assert unresolvable.status_code is None and "does not resolve" in (unresolvable.error or "")


def test_the_system_resolver_finds_every_address_of_a_name() -> None:
    assert "127.0.0.1" in resolve("localhost", 80)
