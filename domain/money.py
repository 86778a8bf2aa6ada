"""Money is an integer count of minor units plus an ISO 4217 currency code. Never a float."""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.errors import Invalid

_CURRENCY = re.compile(r"^[A-Z]{3}$")


class InvalidCurrency(Invalid):
    title = "Invalid currency"


class CurrencyMismatch(Invalid):
    title = "Currency mismatch"


def parse_currency(code: str) -> str:
    """Returns the code if it is three upper-case letters, the shape ISO 4217 codes have."""
    if not _CURRENCY.match(code):
        raise InvalidCurrency(f"currency must be an ISO 4217 code like 'USD', not {code!r}")
    return code


def divide_half_even(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half to even, without ever leaving the integers."""
    quotient, remainder = divmod(numerator, denominator)
    doubled = 2 * remainder
    if doubled > denominator or (doubled == denominator and quotient % 2 == 1):
        quotient += 1
    return quotient


@dataclass(frozen=True, order=False)
class Money:
    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount_minor, bool) or not isinstance(self.amount_minor, int):
            raise Invalid(
                f"amount must be an integer count of minor units, not {self.amount_minor!r}"
            )
        parse_currency(self.currency)

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
