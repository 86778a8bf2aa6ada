"""Secrets are declared where their event is (domain/secrets.py), and nowhere else: this test
keeps every event field whose name says credential either declared secret or named here as
harmless, so a new token, key or hash cannot reach the audit trail by being forgotten."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import re
from collections.abc import Iterator
from typing import ClassVar

import pytest
from eventsourcing.domain import DomainEvent

import domain
from domain.base import TenantAggregate
from domain.identity import EmailClaim, User
from domain.orders import Order
from domain.secrets import CONCEALED, secret_fields, without_secrets

CREDENTIAL = re.compile(r"password|secret|token|hash|key|credential|signature|otp|pin$")

# Fields whose names sound like credentials and are not: each with why.
HARMLESS = {
    ("Order.Placed", "idempotency_key"): "the buyer's retry key, useless without their token",
    ("Payout.Started", "run_key"): "names a payout run (a period or an operator's key)",
    ("PeriodSeal.Sealed", "chain_hash"): "the public head of the tamper-evident chain",
    ("Product.ImageAdded", "keys"): "blob keys, served only through signed, expiring URLs",
    ("MasterProduct.ImageAdded", "keys"): "blob keys, served only through signed, expiring URLs",
    ("SkuClaim.Claimed", "sku_key"): "a seller's SKU, lower-cased",
    ("Transfer.Made", "key"): "a ledger transfer's idempotency key, derived from its cause",
}


def _nested(cls: type) -> Iterator[type]:
    for value in vars(cls).values():
        if inspect.isclass(value) and value.__module__ == cls.__module__:
            yield value
            yield from _nested(value)


def domain_events() -> set[type]:
    found: set[type] = set()
    for info in pkgutil.iter_modules(domain.__path__):
        module = importlib.import_module(f"domain.{info.name}")
        for value in vars(module).values():
            if inspect.isclass(value) and value.__module__ == module.__name__:
                found.update(c for c in [value, *_nested(value)] if issubclass(c, DomainEvent))
    return found


EVENTS = sorted(domain_events(), key=lambda c: f"{c.__module__}:{c.__qualname__}")


def test_the_domain_has_events_to_check() -> None:
    assert User.Registered in EVENTS and Order.PaymentIntentAttached in EVENTS


@pytest.mark.parametrize("event_class", EVENTS, ids=lambda c: c.__qualname__)
def test_every_credential_like_field_is_declared_secret_or_known_harmless(
    event_class: type,
) -> None:
    fields = {f.name for f in dataclasses.fields(event_class)}
    declared = secret_fields(event_class)
    assert declared <= fields, f"declared secret but no such field: {sorted(declared - fields)}"
    suspicious = {
        name
        for name in fields - declared
        if CREDENTIAL.search(name) and (event_class.__qualname__, name) not in HARMLESS
    }
    assert not suspicious, (
        f"{event_class.__qualname__}: declare {sorted(suspicious)} in its `secret` "
        "(domain/secrets.py), or add them to HARMLESS here with the reason"
    )


def test_the_known_secrets_are_declared() -> None:
    assert secret_fields(User.Registered) == {"password_hash"}
    assert secret_fields(Order.PaymentIntentAttached) == {"client_secret"}
    assert secret_fields(EmailClaim.Claimed) == {"email_key"}
    assert secret_fields(User.Erased) == frozenset()


def test_a_secret_is_concealed_and_its_presence_stays_visible() -> None:
    data = {"email": "a@b.co", "password_hash": "$argon2id$v=19$...", "roles": ["buyer"]}
    assert without_secrets(User.Registered, data) == {**data, "password_hash": CONCEALED}
    # No value is shown as none, so a reader can tell an empty secret from a set one.
    assert without_secrets(User.Registered, {"password_hash": ""}) == {"password_hash": ""}
    assert without_secrets(User.Registered, {"password_hash": None}) == {"password_hash": None}
    assert without_secrets(User.Erased, {"x": "kept"}) == {"x": "kept"}


def test_a_declaration_that_is_not_a_frozenset_of_names_is_refused() -> None:
    class Misdeclared(TenantAggregate.Event):
        secret: ClassVar[str] = "token"  # would read as the field names t, o, k, e, n
        token: str

    with pytest.raises(TypeError, match="frozenset"):
        secret_fields(Misdeclared)


def test_an_inherited_declaration_holds_for_the_subclass() -> None:
    class Rotated(TenantAggregate.Event):
        secret: ClassVar[frozenset[str]] = frozenset({"token"})
        token: str

    class RotatedAgain(Rotated):
        pass

    assert secret_fields(RotatedAgain) == {"token"}
