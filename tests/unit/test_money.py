from __future__ import annotations

from uuid import uuid4

import pytest

from domain.errors import Invalid
from domain.identity import Tenant
from domain.money import CurrencyMismatch, InvalidCurrency, Money, parse_currency
from eventstore.currencies import install_iso_4217


def test_money_adds_and_subtracts_in_minor_units() -> None:
    assert Money(1050, "USD") + Money(1, "USD") == Money(1051, "USD")
    assert Money(100, "EUR") - Money(250, "EUR") == Money(-150, "EUR")
    assert Money(5, "JPY").as_json() == {"amount": 5, "currency": "JPY"}


@pytest.mark.parametrize("amount", [1.5, "10", True, None])
def test_money_refuses_anything_but_integer_minor_units(amount: object) -> None:
    with pytest.raises(Invalid):
        Money(amount, "USD")  # type: ignore[arg-type]


def test_money_refuses_bad_or_mixed_currencies() -> None:
    with pytest.raises(InvalidCurrency):
        Money(1, "usd")
    with pytest.raises(CurrencyMismatch):
        Money(1, "USD") + Money(1, "EUR")


def test_a_command_names_only_a_current_iso_4217_currency() -> None:
    install_iso_4217()
    for code in ("USD", "EUR", "GBP", "JPY", "CHF", "SLE"):
        assert parse_currency(code) == code
    # Shaped like a code but none (ZZZ), no money (XXX, XTS, XAU), no longer current (HRK,
    # replaced by the euro in 2023), or not a code's shape at all.
    for code in ("ZZZ", "XXX", "XTS", "XAU", "HRK", "usd", "US", "EURO", ""):
        with pytest.raises(InvalidCurrency):
            parse_currency(code)


def test_a_stored_amount_in_any_currency_of_the_right_shape_still_loads() -> None:
    install_iso_4217()
    # What is stored is never held to today's list: an amount in a currency that has left it,
    # or that an older Velora let in, reads back as it was written.
    assert Money(5, "ZZZ").currency == "ZZZ"
    assert Money(5, "HRK") + Money(1, "HRK") == Money(6, "HRK")
    tenant = Tenant(
        tenant_id=uuid4(),
        name="Stored before the check",
        currency="ZZZ",
        commission_bps=1000,
        escrow_hold_days=7,
        product_moderation="auto",
        hold_timeout_s=1800,
    )
    replayed = None
    for stored in tenant.collect_events():
        replayed = stored.mutate(replayed)
    assert isinstance(replayed, Tenant) and replayed.currency == "ZZZ"
    with pytest.raises(InvalidCurrency):  # registered today, it would have been refused
        Tenant.register(
            tenant_id=uuid4(), name="New", currency="ZZZ", commission_bps=0, escrow_hold_days=0
        )


def test_each_currency_has_the_minor_unit_the_cldr_gives_it() -> None:
    from eventstore.currencies import minor_unit_exponent

    assert [minor_unit_exponent(c) for c in ("USD", "EUR", "JPY", "KRW", "BHD", "KWD")] == [
        2,
        2,
        0,
        0,
        3,
        3,
    ]
