"""What promotions take off a cart (domain/promotions.py has the promotions themselves): each
discount split over the lines it fits in proportion to their value, each part rounded half to
even, the parts adding up to it (`discount`); promotions applied one after another, each on what
the ones before left (`apply_all`); and what sellers and the platform fund of each line."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from uuid import UUID

from domain.money import divide_half_even, split_half_even
from domain.promotions import FundedBy, Promotion, PromotionKind, PromotionUnavailable, Terms


@dataclass(frozen=True)
class LineDiscount:
    """What promotions (domain/promotions.py) take off a line's listed price: the part its
    seller funds, and the part the platform funds."""

    seller_minor: int = 0
    platform_minor: int = 0

    @property
    def minor(self) -> int:
        return self.seller_minor + self.platform_minor


@dataclass(frozen=True)
class DiscountLine:
    """A cart line as promotions see it: what it is, whose, and what it is worth now (its
    listed price, less what promotions before took)."""

    key: UUID
    product_id: UUID
    seller_id: UUID
    category: str
    value_minor: int
    # Its price's currency: a promotion fits only lines in the marketplace's (its own).
    currency: str = ""


@dataclass(frozen=True)
class Discount:
    """What one promotion takes: from each line (by key), from each seller's shipping."""

    promotion_id: UUID
    code: str
    funded_by: str
    lines: Mapping[UUID, int]
    shipping: Mapping[UUID, int]

    @property
    def amount_minor(self) -> int:
        return sum(self.lines.values()) + sum(self.shipping.values())


def discount(
    promotion_id: UUID,
    terms: Terms,
    lines: Iterable[DiscountLine],
    shipping: Mapping[UUID, int],
) -> Discount | None:
    """What the promotion takes off these lines (and off the shipping of the sellers whose
    lines it fits): None when it fits nothing, or they do not reach its minimum subtotal."""
    fitting = [line for line in lines if terms.fits(line)]
    worth = sum(line.value_minor for line in fitting)
    if not fitting or worth < (terms.min_subtotal_minor or 0):
        return None
    if terms.kind == PromotionKind.FREE_SHIPPING:
        sellers = {line.seller_id for line in fitting}
        off = {s: shipping.get(s, 0) for s in sorted(sellers, key=str) if shipping.get(s)}
        return Discount(promotion_id, terms.code, terms.funded_by, {}, off)
    if terms.kind == PromotionKind.PERCENT:
        total = divide_half_even(worth * (terms.percent or 0), 100)
    else:
        total = min(terms.amount_minor or 0, worth)
    parts = split_half_even(total, [line.value_minor for line in fitting])
    taken = {line.key: part for line, part in zip(fitting, parts, strict=True) if part}
    return Discount(promotion_id, terms.code, terms.funded_by, taken, {})


def fits_cart(terms: Terms, lines: Iterable[DiscountLine]) -> bool:
    """Whether a cart has lines the promotion fits, coming to its minimum subtotal."""
    fitting = [line for line in lines if terms.fits(line)]
    worth = sum(line.value_minor for line in fitting)
    return bool(fitting) and worth >= (terms.min_subtotal_minor or 0)


@dataclass
class Applied:
    """What the promotions took off a cart: from each line (by key) and each seller's shipping,
    split into what sellers fund and what the platform funds; and each promotion's discount."""

    lines: dict[UUID, LineDiscount] = field(default_factory=dict)
    shipping: dict[UUID, LineDiscount] = field(default_factory=dict)
    discounts: list[Discount] = field(default_factory=list)


def _add(into: dict[UUID, LineDiscount], key: UUID, amount: int, funded_by: str) -> None:
    was = into.get(key, LineDiscount())
    if funded_by == FundedBy.SELLER:
        into[key] = LineDiscount(was.seller_minor + amount, was.platform_minor)
    else:
        into[key] = LineDiscount(was.seller_minor, was.platform_minor + amount)


@dataclass(frozen=True)
class Candidate:
    """A promotion a cart may get: its terms, whether the cart named it by a code, and why it
    cannot be used now (None: it can)."""

    promotion_id: UUID
    terms: Terms
    by_code: bool
    why_not: str | None = None

    @classmethod
    def of(cls, promotion: Promotion, by_code: bool, buyer_ref: str, now: datetime) -> Candidate:
        try:
            promotion.check_usable(buyer_ref, now)
        except PromotionUnavailable as e:
            return cls(promotion.id, promotion.terms, by_code, str(e))
        return cls(promotion.id, promotion.terms, by_code)


def apply_all(
    candidates: Iterable[Candidate],
    lines: list[DiscountLine],
    shipping: Mapping[UUID, int],
    *,
    strict: bool = True,
) -> Applied:
    """Applies promotions one after another, each on what the ones before left. `strict`
    (checkout): one named by a code that cannot be used now, or fits nothing, is refused (409);
    else, and always for an automatic one, it is passed over."""
    applied = Applied()
    values = {line.key: line.value_minor for line in lines}
    left = dict(shipping)
    for candidate in candidates:
        terms, refuse = candidate.terms, strict and candidate.by_code
        if candidate.why_not is not None:
            if refuse:
                raise PromotionUnavailable(candidate.why_not)
            continue
        worth = [replace(line, value_minor=values[line.key]) for line in lines]
        taken = discount(candidate.promotion_id, terms, worth, left)
        if taken is not None and not taken.amount_minor:
            continue  # it fits, and has nothing to take (free shipping of a free shipment)
        if taken is None:
            if refuse:
                raise PromotionUnavailable(
                    f"promotion {terms.code}: nothing in the cart fits it"
                    + (
                        f" (its lines come to less than {terms.min_subtotal_minor})"
                        if terms.min_subtotal_minor
                        else ""
                    )
                )
            continue
        for key, amount in taken.lines.items():
            values[key] -= amount
            _add(applied.lines, key, amount, terms.funded_by)
        for seller_id, amount in taken.shipping.items():
            left[seller_id] -= amount
            _add(applied.shipping, seller_id, amount, terms.funded_by)
        applied.discounts.append(taken)
    return applied
