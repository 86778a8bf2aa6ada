from __future__ import annotations

import pytest

from domain.errors import Invalid
from domain.money import CurrencyMismatch, InvalidCurrency, Money


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
