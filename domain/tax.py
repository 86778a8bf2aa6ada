"""Tax the marketplace collects and remits: a tenant's rates, which one applies to a line, and
how much of a price it is.

- **Rates.** A tenant keeps one table (`TaxTable`): whether its prices include tax, and rates by
  country, region (an ISO 3166-2 subdivision of that country) and category. For a line, the
  most specific rate for the shipping address and the product's category applies: category and
  region, then category, then region, then country; none is 0.
- **Per line, half to even.** A line's tax is its value times the rate, rounded half to even
  (`tax_of`); where prices include tax it is the part of the price the rate accounts for. The
  seller's goods are the price without tax: commission is taken on them, and tax never enters
  a seller's escrow or balance (domain/escrow.py posts it to `tax_payable`).
- **Parts by rate.** What a seller order collected is kept by rate (`TaxParts`, keyed
  `"<rate_bps>:<name>"`), so whatever gives money back (a refund, a return, a cancellation, a
  lost dispute) gives back the tax of what it returns, rate by rate, and the tax report adds
  up per rate to the ledger's `tax_payable` to the cent.

Country and subdivision codes are ISO 3166's as pycountry maintains them, installed at start
(`REGIONS.install`, from eventstore/currencies.py) as the currencies are; until then any code
of the right shape passes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from domain.errors import DomainError, Invalid
from domain.money import divide_half_even, split_half_even
from domain.names import name_key, nfc
from domain.shipping import COUNTRIES, InvalidRate

MAX_TAX_BPS = 10_000
MAX_RATES = 1_000

_REGION = re.compile(r"^[A-Z0-9]{1,3}$")

# What a seller order's tax is, by rate: "<rate_bps>:<name>" -> minor units.
TaxParts = dict[str, int]


class TaxError(DomainError):
    """Base of the tax context's errors."""


class InvalidTaxRates(TaxError, Invalid):
    title = "Invalid tax rates"


class Regions:
    """ISO 3166-2 subdivisions by country, once installed (code -> name)."""

    def __init__(self) -> None:
        self._by_country: dict[str, dict[str, str]] | None = None
        self._by_name: dict[tuple[str, str], str] = {}

    def install(self, subdivisions: Iterable[tuple[str, str, str]]) -> None:
        """Installs (country, code, name) triples, e.g. ("US", "US-CA", "California")."""
        by_country: dict[str, dict[str, str]] = {}
        by_name: dict[tuple[str, str], str] = {}
        for country, code, name in subdivisions:
            by_country.setdefault(country, {})[code] = name
            by_name[(country, name_key(name))] = code
        self._by_country, self._by_name = by_country, by_name

    def check(self, country: str, region: str) -> str:
        """The full subdivision code a rate names ("US-CA", or "CA" of "US"): refused unless it
        is one of the country's, once the list is installed."""
        code = region.upper().removeprefix(f"{country}-")
        if not _REGION.match(code):
            raise InvalidTaxRates(
                f"region must be an ISO 3166-2 subdivision of {country} like "
                f"'{country}-XX', not {region!r}"
            )
        full = f"{country}-{code}"
        if self._by_country is not None and full not in self._by_country.get(country, {}):
            raise InvalidTaxRates(f"{region!r} is not an ISO 3166-2 subdivision of {country}")
        return full

    def of_address(self, country: str, region: str) -> str:
        """The subdivision an address's free-text region names ("CA", "US-CA", "California"),
        or "" when it names none this list knows."""
        text = " ".join(str(region or "").split())
        if not text:
            return ""
        known = (self._by_country or {}).get(country)
        code = f"{country}-{text.upper().removeprefix(f'{country}-')}"
        if known is None:
            return code if _REGION.match(code.split("-", 1)[1]) else ""
        if code in known:
            return code
        return self._by_name.get((country, name_key(text)), "")


REGIONS = Regions()


@dataclass(frozen=True)
class TaxRate:
    """One rate: where it applies (a country, optionally a region and a category), how much,
    and the name an invoice shows ("VAT", "Sales tax")."""

    country: str
    rate_bps: int
    name: str
    region: str = ""
    category: str = ""

    @property
    def specificity(self) -> int:
        """category + region > category > region > country."""
        return (2 if self.category else 0) + (1 if self.region else 0)

    @property
    def key(self) -> str:
        return part_key(self.rate_bps, self.name)

    def as_record(self) -> dict[str, Any]:
        return {
            "country": self.country,
            "region": self.region or None,
            "category": self.category or None,
            "rate_bps": self.rate_bps,
            "name": self.name,
        }

    @classmethod
    def parse(cls, record: Mapping[str, Any]) -> TaxRate:
        """A rate as a command names it, checked."""
        country = record.get("country")
        try:
            country = COUNTRIES.check(country)
        except InvalidRate as e:
            raise InvalidTaxRates(str(e)) from None
        region = record.get("region") or ""
        category = record.get("category") or ""
        rate_bps, name = record.get("rate_bps"), record.get("name")
        if not isinstance(region, str) or not isinstance(category, str):
            raise InvalidTaxRates("region and category are text")
        if isinstance(rate_bps, bool) or not isinstance(rate_bps, int):
            raise InvalidTaxRates("rate_bps is a whole number of basis points")
        if not 0 <= rate_bps <= MAX_TAX_BPS:
            raise InvalidTaxRates(f"rate_bps is from 0 to {MAX_TAX_BPS}, not {rate_bps}")
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= 100:
            raise InvalidTaxRates("a rate's name has 1 to 100 characters")
        category = " ".join(nfc(category).split())
        if len(category) > 100:
            raise InvalidTaxRates("a category has at most 100 characters")
        return cls(
            country=country,
            rate_bps=rate_bps,
            name=nfc(name.strip()),
            region=REGIONS.check(country, region) if region else "",
            category=category,
        )

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> TaxRate:
        return cls(
            country=str(record["country"]),
            rate_bps=int(record["rate_bps"]),
            name=str(record["name"]),
            region=str(record.get("region") or ""),
            category=str(record.get("category") or ""),
        )


@dataclass(frozen=True)
class TaxTable:
    """A tenant's tax rates, and whether its prices include tax."""

    prices_include_tax: bool = False
    rates: tuple[TaxRate, ...] = ()

    @classmethod
    def parse(cls, prices_include_tax: Any, rates: Any) -> TaxTable:
        """The table a command names, checked: at most one rate per place and category."""
        if not isinstance(prices_include_tax, bool):
            raise InvalidTaxRates("prices_include_tax is true or false")
        if not isinstance(rates, list) or len(rates) > MAX_RATES:
            raise InvalidTaxRates(f"rates is a list of at most {MAX_RATES}")
        parsed = tuple(TaxRate.parse(r) for r in rates)
        seen: set[tuple[str, str, str]] = set()
        for rate in parsed:
            where = (rate.country, rate.region, name_key(rate.category))
            if where in seen:
                raise InvalidTaxRates(
                    f"two rates for {rate.country} {rate.region or '(all regions)'} "
                    f"{rate.category or '(all categories)'}"
                )
            seen.add(where)
        return cls(prices_include_tax, parsed)

    def rate_for(self, country: str, region: str, category: str) -> TaxRate | None:
        """The most specific rate for an address (its country and subdivision code) and a
        product's category; None when no rate covers them."""
        wanted = name_key(category or "")
        fitting = [
            rate
            for rate in self.rates
            if rate.country == country
            and (not rate.region or rate.region == region)
            and (not rate.category or name_key(rate.category) == wanted)
        ]
        return max(fitting, key=lambda r: r.specificity, default=None)

    def as_record(self) -> dict[str, Any]:
        return {
            "prices_include_tax": self.prices_include_tax,
            "rates": [rate.as_record() for rate in self.rates],
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any] | None) -> TaxTable:
        if not record:
            return cls()
        return cls(
            bool(record.get("prices_include_tax")),
            tuple(TaxRate.from_record(r) for r in record.get("rates") or ()),
        )


def tax_of(amount_minor: int, rate_bps: int, included: bool) -> int:
    """The tax on a line's value, rounded half to even: `amount_minor` x rate on top of the
    price, or the part of a price that includes it (amount x rate / (1 + rate))."""
    if included:
        return divide_half_even(amount_minor * rate_bps, MAX_TAX_BPS + rate_bps)
    return divide_half_even(amount_minor * rate_bps, MAX_TAX_BPS)


def part_key(rate_bps: int, name: str) -> str:
    return f"{rate_bps}:{name}"


def part_rate(key: str) -> tuple[int, str]:
    """(rate_bps, name) of a part's key."""
    bps, _, name = key.partition(":")
    return int(bps), name


def parts_total(parts: Mapping[str, int]) -> int:
    return sum(parts.values())


def parts_plus(*parts: Mapping[str, int]) -> TaxParts:
    """The parts added up, rate by rate."""
    total: TaxParts = {}
    for each in parts:
        for key, amount in each.items():
            total[key] = total.get(key, 0) + amount
    return {key: amount for key, amount in total.items() if amount}


def parts_minus(parts: Mapping[str, int], *taken: Mapping[str, int]) -> TaxParts:
    """What is left of `parts` after `taken`, parts of nothing left out."""
    left = dict(parts)
    for each in taken:
        for key, amount in each.items():
            left[key] = left.get(key, 0) - amount
    return {key: amount for key, amount in left.items() if amount}


def share_of(parts: Mapping[str, int], amount_minor: int) -> TaxParts:
    """`amount_minor` of tax split over `parts` in proportion to them, half to even per part,
    the parts adding up to the amount."""
    keys = sorted(parts)
    shares = split_half_even(amount_minor, [parts[k] for k in keys])
    return {k: share for k, share in zip(keys, shares, strict=True) if share}
