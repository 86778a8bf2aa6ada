"""Money is an integer count of minor units plus an ISO 4217 currency code. Never a float.

A command that names a currency (a tenant's, a price's) must name one of ISO 4217's current
codes: `parse_currency`. The list is maintained outside Velora and the domain imports no
third-party package, so the composition root installs it at start (`CURRENCIES.install`, from
`eventstore/currencies.py`); until it does, any code of the right shape passes. What is stored
is never held to the list: a `Money` and every event replayed only need the shape, so a
currency that leaves ISO 4217 (HRK did in 2023) never stops an aggregate from loading."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from domain.errors import Invalid

_CURRENCY = re.compile(r"^[A-Z]{3}$")


class InvalidCurrency(Invalid):
    title = "Invalid currency"


class CurrencyMismatch(Invalid):
    title = "Currency mismatch"


def currency_code(code: str) -> str:
    """Returns the code if it is three upper-case letters, the shape ISO 4217 codes have: what
    a stored amount needs, whatever the list says today."""
    if not isinstance(code, str) or not _CURRENCY.match(code):
        raise InvalidCurrency(f"currency must be an ISO 4217 code like 'USD', not {code!r}")
    return code


class Currencies:
    """The currencies commands may name: every code of the right shape until a list is
    installed, then only the list's."""

    def __init__(self) -> None:
        self._codes: frozenset[str] | None = None

    def install(self, codes: Iterable[str]) -> None:
        self._codes = frozenset(currency_code(code) for code in codes)

    def check(self, code: str) -> str:
        code = currency_code(code)
        if self._codes is not None and code not in self._codes:
            raise InvalidCurrency(f"{code!r} is not an ISO 4217 currency")
        return code


CURRENCIES = Currencies()


def parse_currency(code: str) -> str:
    """The currency a command names: a current ISO 4217 code (once the list is installed)."""
    return CURRENCIES.check(code)


def divide_half_even(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half to even, without ever leaving the integers."""
    quotient, remainder = divmod(numerator, denominator)
    doubled = 2 * remainder
    if doubled > denominator or (doubled == denominator and quotient % 2 == 1):
        quotient += 1
    return quotient


def split_half_even(amount: int, weights: list[int]) -> list[int]:
    """`amount` split over `weights` in proportion to them: each part rounded half to even, the
    parts always adding up to `amount` (each is the rounded running total less the one
    before it, so no part is more than one minor unit from its exact share)."""
    whole = sum(weights)
    if whole == 0:
        if amount:
            raise Invalid(f"cannot split {amount} over nothing")
        return [0] * len(weights)
    parts, running, before = [], 0, 0
    for weight in weights:
        running += weight
        upto = divide_half_even(amount * running, whole)
        parts.append(upto - before)
        before = upto
    return parts


@dataclass(frozen=True, order=False)
class Money:
    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount_minor, bool) or not isinstance(self.amount_minor, int):
            raise Invalid(
                f"amount must be an integer count of minor units, not {self.amount_minor!r}"
            )
        currency_code(self.currency)  # the shape only: stored amounts load whatever the list

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def as_json(self) -> dict[str, int | str]:
        return money_json(self.amount_minor, self.currency)


def money_json(amount_minor: int, currency: str) -> dict[str, int | str]:
    """Money as every API answer, read model and export writes it: integer minor units and the
    ISO 4217 code, never a float."""
    return {"amount": amount_minor, "currency": currency}
