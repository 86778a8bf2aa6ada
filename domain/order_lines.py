"""The lines of an order: priced at checkout (`PricedLine`), then kept by the seller order that
ships them (`OrderLine`), each with the stock hold of its units; and the errors every part of an
order shares."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from domain.commission import commission_of
from domain.discounts import DiscountLine, LineDiscount
from domain.errors import Conflict, DomainError, Invalid
from domain.inventory import Stock
from domain.money import divide_half_even
from domain.tax import TaxParts, TaxRate, part_key, tax_of


class OrderError(DomainError):
    """Base of the orders context's errors."""


class WrongOrderStep(OrderError, Conflict):
    title = "Wrong lifecycle step"


class MixedCurrencies(OrderError, Invalid):
    title = "Mixed currencies"


class LineUnavailable(OrderError, Conflict):
    title = "Line not available"


@dataclass(frozen=True)
class LineTax:
    """The tax rate a line is taxed at (domain/tax.py), and whether its price includes it."""

    rate_bps: int = 0
    name: str = ""
    included: bool = False

    @classmethod
    def at(cls, rate: TaxRate | None, included: bool) -> LineTax:
        return cls(rate.rate_bps, rate.name, included) if rate else cls(included=included)


@dataclass(frozen=True)
class PricedLine:
    """A cart line priced at checkout, with the commission and tax rates that apply to it."""

    product_id: UUID
    seller_id: UUID
    title: str
    quantity: int
    unit_price_minor: int
    currency: str
    rate_bps: int
    # The variant bought (domain/variants.py): the product itself while it has none.
    variant_id: UUID | None = None
    sku: str = ""
    options: Mapping[str, str] = field(default_factory=dict)
    tax: LineTax = LineTax()
    discount: LineDiscount = field(default_factory=LineDiscount)
    # The product's category, which tax rates and promotions may name.
    category: str = ""
    # The stock its units are held from: the variant's own, or (a Seller Pro listing) the
    # organisation's one stock of it, which every marketplace's listing sells from.
    stock_id: UUID | None = None

    @property
    def discountable(self) -> DiscountLine:
        """The line as promotions see it."""
        return DiscountLine(
            self.key,
            self.product_id,
            self.seller_id,
            self.category,
            self.total_minor,
            self.currency,
        )

    @property
    def total_minor(self) -> int:
        """The line at its listed price (with tax, where the tenant's prices include it)."""
        return self.unit_price_minor * self.quantity

    def _goods(self, value: int) -> int:
        """A price without its tax (where prices include it)."""
        if not self.tax.included:
            return value
        return value - tax_of(value, self.tax.rate_bps, included=True)

    @property
    def tax_minor(self) -> int:
        """The tax on what the buyer pays for the line: its price less every discount."""
        return tax_of(self.total_minor - self.discount.minor, self.tax.rate_bps, self.tax.included)

    @property
    def goods_minor(self) -> int:
        """What the seller sells the line for, without tax and less what the seller itself
        funds of its discounts: commission is taken on it."""
        return self._goods(self.total_minor - self.discount.seller_minor)

    @property
    def platform_funding_minor(self) -> int:
        """What the platform pays the seller toward the line: its goods less what the
        buyer pays for them."""
        return self.goods_minor - self._goods(self.total_minor - self.discount.minor)

    @property
    def key(self) -> UUID:
        """What names the line within its order: the variant."""
        return self.variant_id or self.product_id

    def ordered(self, hold_id: str) -> OrderLine:
        """The line as its seller order records it, its commission worked out."""
        return OrderLine(
            product_id=self.product_id,
            title=self.title,
            quantity=self.quantity,
            unit_price_minor=self.unit_price_minor,
            line_total_minor=self.total_minor,
            commission_bps=self.rate_bps,
            commission_minor=commission_of(self.goods_minor, self.rate_bps),
            hold_id=hold_id,
            variant_id=self.key,
            sku=self.sku,
            options=dict(self.options),
            tax_minor=self.tax_minor,
            tax_rate_bps=self.tax.rate_bps,
            tax_name=self.tax.name,
            tax_included=self.tax.included,
            discount_minor=self.discount.minor,
            platform_funding_minor=self.platform_funding_minor,
            stock_id=self.stock_id,
        )


@dataclass(frozen=True)
class OrderLine:
    """One line of a seller order as placed: what was bought, at what price and commission, and
    the stock hold that keeps its units. Events and read models store it as a plain record."""

    product_id: UUID
    title: str
    quantity: int
    unit_price_minor: int
    line_total_minor: int
    commission_bps: int
    commission_minor: int
    hold_id: str
    # The variant bought, its sku and option values. A line recorded before variants existed
    # bought its product's one variant: the product itself, under its own id.
    variant_id: UUID
    sku: str = ""
    options: Mapping[str, str] = field(default_factory=dict)
    # Its tax, the rate and its name, and whether the price includes it (none, on lines
    # recorded before tax existed).
    tax_minor: int = 0
    tax_rate_bps: int = 0
    tax_name: str = ""
    tax_included: bool = False
    # What promotions took off its listed price, and what of the seller's goods the platform
    # pays for them (none, on lines recorded before promotions).
    discount_minor: int = 0
    platform_funding_minor: int = 0
    # The stock its units were held from, where it is not the variant's own (a Seller Pro
    # listing's, the organisation's: docs/api-seller-pro.md).
    stock_id: UUID | None = None

    @property
    def stock(self) -> UUID:
        """The id of the stock its hold is in."""
        return self.stock_id or Stock.create_id(self.variant_id)

    @property
    def paid_minor(self) -> int:
        """What the buyer pays for the line: its price less discounts, and its tax."""
        return (
            self.line_total_minor
            - self.discount_minor
            + (0 if self.tax_included else self.tax_minor)
        )

    @property
    def goods_minor(self) -> int:
        """The seller's goods: what the buyer pays less tax, and what the platform funds."""
        return self.paid_minor - self.tax_minor + self.platform_funding_minor

    def returned(self, before: int, now: int) -> tuple[int, TaxParts, int]:
        """What `now` more units, after `before` returned already, paid (their goods and tax),
        the tax of it, and what the platform funded of their goods: shares of the line as units
        go, the shares of every unit adding up to the line."""
        paid = self._share(self.paid_minor, before, now)
        tax = self._share(self.tax_minor, before, now)
        platform = self._share(self.platform_funding_minor, before, now)
        return paid, ({part_key(self.tax_rate_bps, self.tax_name): tax} if tax else {}), platform

    def _share(self, whole: int, before: int, now: int) -> int:
        def upto(units: int) -> int:
            return divide_half_even(whole * units, self.quantity)

        return upto(before + now) - upto(before)

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> OrderLine:
        product_id = UUID(str(record["product_id"]))
        return cls(
            product_id=product_id,
            title=str(record["title"]),
            quantity=int(record["quantity"]),
            unit_price_minor=int(record["unit_price_minor"]),
            line_total_minor=int(record["line_total_minor"]),
            commission_bps=int(record["commission_bps"]),
            commission_minor=int(record["commission_minor"]),
            hold_id=str(record["hold_id"]),
            variant_id=UUID(str(record.get("variant_id") or product_id)),
            sku=str(record.get("sku") or ""),
            options=dict(record.get("options") or {}),
            tax_minor=int(record.get("tax_minor") or 0),
            tax_rate_bps=int(record.get("tax_rate_bps") or 0),
            tax_name=str(record.get("tax_name") or ""),
            tax_included=bool(record.get("tax_included")),
            discount_minor=int(record.get("discount_minor") or 0),
            platform_funding_minor=int(record.get("platform_funding_minor") or 0),
            stock_id=UUID(str(record["stock_id"])) if record.get("stock_id") else None,
        )

    def as_record(self) -> dict[str, Any]:
        return {
            "product_id": str(self.product_id),
            "variant_id": str(self.variant_id),
            "sku": self.sku,
            "options": dict(self.options),
            "title": self.title,
            "quantity": self.quantity,
            "unit_price_minor": self.unit_price_minor,
            "line_total_minor": self.line_total_minor,
            "commission_bps": self.commission_bps,
            "commission_minor": self.commission_minor,
            "hold_id": self.hold_id,
            "tax_minor": self.tax_minor,
            "tax_rate_bps": self.tax_rate_bps,
            "tax_name": self.tax_name,
            "tax_included": self.tax_included,
            "discount_minor": self.discount_minor,
            "platform_funding_minor": self.platform_funding_minor,
            **({"stock_id": str(self.stock_id)} if self.stock_id else {}),
        }


def hold_id_for(order_id: UUID, variant_id: UUID) -> str:
    """The stock hold of one line: of a variant (of a product without variants, the product,
    as it always was)."""
    return f"{order_id}:{variant_id}"
