"""Commission: which rate applies to a line, and how it is rounded.

The rate is the most specific rule that is set: the product's own rate, else the tenant's rate
for the product's category, else the seller's rate, else the tenant's default, all in basis points.
A seller on a plan with a commission discount pays that rate less the discount, never below 0.

Rounding: each line's commission is line total x rate / 10,000, rounded half to even, in integer
arithmetic. A seller order's commission is the sum of its lines' commissions, and the seller's net
is the subtotal minus that commission, so commission + net is exactly the subtotal, always."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from domain.money import divide_half_even
from domain.names import name_key

BPS_DENOMINATOR = 10_000


@dataclass(frozen=True)
class CommissionRules:
    tenant_bps: int
    category_bps: dict[str, int]

    @cached_property
    def _by_key(self) -> dict[str, int]:
        return {name_key(name): bps for name, bps in self.category_bps.items()}

    def rate(
        self,
        *,
        product_bps: int | None,
        category: str,
        seller_bps: int | None,
        discount_bps: int = 0,
    ) -> int:
        return max(0, self._base(product_bps, category, seller_bps) - discount_bps)

    def _base(self, product_bps: int | None, category: str, seller_bps: int | None) -> int:
        if product_bps is not None:
            return product_bps
        # Categories compare by name key (domain/names.py): an override spelled "Café" in one
        # Unicode form applies to a product whose category is spelled in the other.
        key = name_key(category)
        if key in self._by_key:
            return self._by_key[key]
        if seller_bps is not None:
            return seller_bps
        return self.tenant_bps


def commission_of(amount_minor: int, rate_bps: int) -> int:
    """amount x rate / 10,000 rounded half to even, without ever leaving the integers."""
    return divide_half_even(amount_minor * rate_bps, BPS_DENOMINATOR)
