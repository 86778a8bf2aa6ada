"""Shipping: what a seller charges to send its part of an order, by country.

Each seller keeps its rates in one `ShippingProfile`: a name, the countries a rate ships to
(ISO 3166-1 alpha-2), a price, optionally a subtotal from which it is free (`free_over`), and how
many days it takes. One aggregate per seller, because checkout asks one question of all of them
at once: "does this seller ship, and at what rate to this country?".

At checkout every seller in the cart that has rates needs one chosen rate that ships to the
address's country (otherwise 422, naming the seller); the rate's price for that seller's
subtotal (0 from `free_over` on) is its seller order's shipping. A seller without rates ships at
no charge, and a rate named for it is refused. Shipping is the seller's money: it goes through
escrow to the seller with the items, free of commission unless the tenant takes commission on
shipping too (`Tenant.commission_on_shipping`), at the rate the seller's items would pay without
a product's or category's own (domain/commission.py)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import TenantAggregate
from domain.errors import DomainError, Invalid, NotFound
from domain.money import Money, parse_currency
from domain.names import nfc

MAX_RATES = 50
MAX_DAYS = 365
_COUNTRY = re.compile(r"^[A-Z]{2}$")


class ShippingError(DomainError):
    """Base of the shipping context's errors."""


class InvalidRate(ShippingError, Invalid):
    title = "Invalid shipping rate"


class RateNotFound(ShippingError, NotFound):
    title = "Shipping rate not found"


class ShippingRequired(ShippingError, Invalid):
    title = "Shipping rate required"


class Countries:
    """The country codes commands may name: every code of the right shape until a list is
    installed (ISO 3166-1 alpha-2, from a maintained list, by the composition root)."""

    def __init__(self) -> None:
        self._codes: frozenset[str] | None = None

    def install(self, codes: Iterable[str]) -> None:
        self._codes = frozenset(codes)

    def check(self, code: Any) -> str:
        if not isinstance(code, str) or not _COUNTRY.match(code):
            raise InvalidRate(f"a country is an ISO 3166-1 alpha-2 code like 'DE', not {code!r}")
        if self._codes is not None and code not in self._codes:
            raise InvalidRate(f"{code!r} is not an ISO 3166-1 country")
        return code


COUNTRIES = Countries()


@dataclass(frozen=True)
class Quote:
    """One rate as it applies to one seller's part of a cart."""

    rate_id: UUID
    name: str
    price_minor: int
    currency: str
    min_days: int
    max_days: int

    def as_record(self) -> dict[str, Any]:
        """What a seller order keeps of the rate it shipped at."""
        return {
            "rate_id": str(self.rate_id),
            "name": self.name,
            "min_days": self.min_days,
            "max_days": self.max_days,
        }


class ShippingProfile(TenantAggregate):
    """A seller's shipping rates."""

    class Event(TenantAggregate.Event):
        seller_id: UUID

    class Opened(Event, TenantAggregate.Created):
        pass

    class RateAdded(Event):
        rate_id: UUID
        name: str
        countries: list[str]
        price_minor: int
        currency: str
        free_over_minor: int | None
        min_days: int
        max_days: int

    class RateRemoved(Event):
        rate_id: UUID

    @staticmethod
    def create_id(seller_id: UUID) -> UUID:
        return uuid5(NAMESPACE_URL, f"velora:shipping:{seller_id}")

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        # Every event names the seller, so the read model needs no lookup of the profile.
        kwargs.setdefault("seller_id", self.seller_id)
        super().trigger_event(event_class, **kwargs)

    @event(Opened)
    def __init__(self, tenant_id: UUID, seller_id: UUID) -> None:
        self.tenant_id = tenant_id
        self.seller_id = seller_id
        self.rates: dict[str, dict[str, Any]] = {}

    def add_rate(
        self,
        rate_id: UUID,
        *,
        name: str,
        countries: list[str],
        price: Money,
        free_over: Money | None,
        min_days: int,
        max_days: int,
        currency: str,
    ) -> None:
        """Adds a rate, priced in the marketplace's `currency`."""
        if len(self.rates) >= MAX_RATES:
            raise InvalidRate(f"a seller has at most {MAX_RATES} shipping rates")
        name = nfc(name.strip())
        if not 1 <= len(name) <= 100:
            raise InvalidRate("a rate's name has 1 to 100 characters")
        if not countries or len(countries) > 300:
            raise InvalidRate("a rate ships to 1 to 300 countries")
        codes = sorted({COUNTRIES.check(c) for c in countries})
        for money in (price, free_over):
            if money is not None and parse_currency(money.currency) != currency:
                raise InvalidRate(f"shipping is priced in the marketplace's {currency}")
        if not 0 <= price.amount_minor <= 10**12:
            raise InvalidRate("a rate's price is 0 or more minor units")
        if free_over is not None and not 1 <= free_over.amount_minor <= 10**12:
            raise InvalidRate("free_over is a positive amount")
        if isinstance(min_days, bool) or isinstance(max_days, bool):
            raise InvalidRate("min_days and max_days are whole numbers")
        if not 0 <= min_days <= max_days <= MAX_DAYS:
            raise InvalidRate(f"0 <= min_days <= max_days <= {MAX_DAYS}")
        self._rate_added(
            rate_id=rate_id,
            name=name,
            countries=codes,
            price_minor=price.amount_minor,
            currency=currency,
            free_over_minor=free_over.amount_minor if free_over else None,
            min_days=min_days,
            max_days=max_days,
        )

    def remove_rate(self, rate_id: UUID) -> None:
        if str(rate_id) not in self.rates:
            raise RateNotFound(f"shipping rate {rate_id} not found")
        self._rate_removed(rate_id=rate_id)

    @property
    def ships(self) -> bool:
        """Whether the seller charges for shipping at all (it has rates)."""
        return bool(self.rates)

    def options(self, country: str, subtotal_minor: int) -> list[Quote]:
        """The rates that ship to `country`, priced for a subtotal of the seller's items."""
        return [
            self._quote(rate_id, rate, subtotal_minor)
            for rate_id, rate in self.rates.items()
            if country in rate["countries"]
        ]

    def quote(self, rate_id: UUID, country: str, subtotal_minor: int) -> Quote:
        rate = self.rates.get(str(rate_id))
        if rate is None:
            raise ShippingRequired(f"seller {self.seller_id} has no shipping rate {rate_id}")
        if country not in rate["countries"]:
            raise ShippingRequired(
                f"rate {rate_id} of seller {self.seller_id} does not ship to {country}"
            )
        return self._quote(str(rate_id), rate, subtotal_minor)

    @staticmethod
    def _quote(rate_id: str, rate: Mapping[str, Any], subtotal_minor: int) -> Quote:
        return Quote(
            UUID(rate_id),
            rate["name"],
            charge(rate["price_minor"], rate["free_over_minor"], subtotal_minor),
            rate["currency"],
            rate["min_days"],
            rate["max_days"],
        )

    @event(RateAdded)
    def _rate_added(
        self,
        rate_id: UUID,
        name: str,
        countries: list[str],
        price_minor: int,
        currency: str,
        free_over_minor: int | None,
        min_days: int,
        max_days: int,
    ) -> None:
        self.rates[str(rate_id)] = {
            "name": name,
            "countries": countries,
            "price_minor": price_minor,
            "currency": currency,
            "free_over_minor": free_over_minor,
            "min_days": min_days,
            "max_days": max_days,
        }

    @event(RateRemoved)
    def _rate_removed(self, rate_id: UUID) -> None:
        del self.rates[str(rate_id)]


def charge(price_minor: int, free_over_minor: int | None, subtotal_minor: int) -> int:
    """What a rate charges for a seller's items worth `subtotal_minor`: nothing from its
    `free_over` on."""
    free = free_over_minor is not None and subtotal_minor >= free_over_minor
    return 0 if free else price_minor


def shipping_for(
    profiles: Mapping[UUID, ShippingProfile | None],
    subtotals: Mapping[UUID, int],
    chosen: Mapping[UUID, UUID],
    country: str,
) -> dict[UUID, Quote | None]:
    """Each seller's shipping for an order to `country`: the chosen rate's quote for a seller
    that has rates (422 naming it when none or a wrong one is chosen), None for one without.
    A rate chosen for a seller that is not in the order, or that has no rates, is 422 too."""
    for seller_id in chosen:
        profile = profiles.get(seller_id)
        if seller_id not in subtotals or profile is None or not profile.ships:
            raise ShippingRequired(f"seller {seller_id} has no shipping rates in this order")
    quotes: dict[UUID, Quote | None] = {}
    for seller_id, subtotal in subtotals.items():
        profile = profiles.get(seller_id)
        if profile is None or not profile.ships:
            quotes[seller_id] = None
            continue
        rate_id = chosen.get(seller_id)
        if rate_id is None:
            raise ShippingRequired(
                f"seller {seller_id} needs a shipping rate for {country}: choose one of its "
                "shipping options"
            )
        quotes[seller_id] = profile.quote(rate_id, country, subtotal)
    return quotes
