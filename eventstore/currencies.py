"""ISO 4217's list of currencies, ISO 3166-1's of countries and ISO 3166-2's of their
subdivisions, as the pycountry package maintains them, installed into the domain's
`CURRENCIES`, `COUNTRIES` and `REGIONS` at start (the composition root calls
`install_iso_4217`, `install_iso_3166` and `install_iso_3166_2`); and each currency's minor
unit, as Babel keeps the Unicode CLDR's (`minor_unit_exponent`)."""

from __future__ import annotations

from functools import cache

import pycountry
from babel.numbers import get_currency_precision

from domain.money import CURRENCIES
from domain.shipping import COUNTRIES
from domain.tax import REGIONS

# Codes ISO 4217 lists for what no buyer pays with: precious metals, bond-market and
# settlement units, the code reserved for testing, and "no currency".
NOT_MONEY = frozenset(
    {"XAG", "XAU", "XPD", "XPT", "XBA", "XBB", "XBC", "XBD", "XDR", "XSU", "XUA", "XTS", "XXX"}
)


def iso_4217() -> frozenset[str]:
    """The current ISO 4217 codes a marketplace may trade in."""
    return frozenset(c.alpha_3 for c in pycountry.currencies) - NOT_MONEY


def install_iso_4217() -> None:
    CURRENCIES.install(iso_4217())


def iso_3166() -> frozenset[str]:
    """The current ISO 3166-1 alpha-2 country codes."""
    return frozenset(c.alpha_2 for c in pycountry.countries)


def install_iso_3166() -> None:
    COUNTRIES.install(iso_3166())


def iso_3166_2() -> list[tuple[str, str, str]]:
    """The current ISO 3166-2 subdivisions: (country, code, name)."""
    return [(s.country_code, s.code, s.name) for s in pycountry.subdivisions]


def install_iso_3166_2() -> None:
    REGIONS.install(iso_3166_2())


@cache
def minor_unit_exponent(currency: str) -> int:
    """How many decimal places a currency's amounts have (2 for USD, 0 for JPY, 3 for BHD), as
    the Unicode CLDR (through Babel) keeps them: amounts are minor units, this reads them."""
    return int(get_currency_precision(currency))
