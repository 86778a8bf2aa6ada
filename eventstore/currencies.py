"""ISO 4217's list of currencies, as the pycountry package maintains it, installed into the
domain's `CURRENCIES` at start (the composition root calls `install_iso_4217`)."""

from __future__ import annotations

import pycountry

from domain.money import CURRENCIES

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
