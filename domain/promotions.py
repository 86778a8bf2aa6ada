"""Promotions: discounts a marketplace or a seller offers, by code or by themselves.

- **Terms** (`Terms`): percent off, an amount off or free shipping; on the lines a promotion
  fits (its products, its category, its seller, all when none is named), once they come to its
  minimum subtotal; between its start and end; used at most `usage_limit` times, and at most
  `per_buyer_limit` times by one buyer.
- **Who pays** (`FundedBy`): a seller-funded discount lowers the seller's price, and commission
  is taken on what is left; a platform-funded one leaves the seller paid, and charged
  commission, as at full price, and the marketplace's `promotions` expense pays the difference
  (domain/escrow.py).
- **Split half to even.** A discount is split over the lines it fits in proportion to their
  value, each part rounded half to even, the parts adding up to it; promotions apply one after
  another, each on what the ones before left: the automatic ones first, in the order they were
  made, then the codes, in the order the cart applied them (domain/discounts.py).
- **Limits hold under any concurrency.** Each use is recorded on the promotion itself
  (`Promotion.redeem`) in the same atomic save as the order it discounts, so two checkouts
  racing for its last use conflict on its version and only one is made. The use comes back
  when that order is cancelled or expires unpaid (`release`).
- **Codes are unique in a tenant** while their promotion runs (`PromotionBook`, one per tenant,
  which also lists the automatic promotions checkout applies)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import TenantAggregate
from domain.errors import Conflict, DomainError, Invalid, NotFound
from domain.names import name_key, nfc

if TYPE_CHECKING:
    from domain.discounts import DiscountLine

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,39}$")
MAX_PRODUCTS = 1_000


class PromotionError(DomainError):
    """Base of the promotions context's errors."""


class InvalidPromotion(PromotionError, Invalid):
    title = "Invalid promotion"


class PromotionNotFound(PromotionError, NotFound):
    title = "Promotion not found"


class PromotionUnavailable(PromotionError, Conflict):
    """Not started, ended, used up, or nothing in the cart it fits."""

    title = "Promotion not available"


class CodeTaken(PromotionError, Conflict):
    title = "Promotion code taken"


class PromotionKind(StrEnum):
    PERCENT = "percent"
    AMOUNT = "amount"
    FREE_SHIPPING = "free_shipping"


class FundedBy(StrEnum):
    PLATFORM = "platform"
    SELLER = "seller"


def code_key(code: str) -> str:
    """A code as it is compared: upper case, without surrounding white space."""
    return code.strip().upper()


@dataclass(frozen=True)
class Terms:
    """What a promotion gives, to what, when, and how often."""

    kind: str
    funded_by: str
    currency: str
    percent: int | None = None
    amount_minor: int | None = None
    code: str = ""
    seller_id: UUID | None = None
    product_ids: frozenset[UUID] = field(default_factory=frozenset)
    category: str = ""
    min_subtotal_minor: int | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    usage_limit: int | None = None
    per_buyer_limit: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in {k.value for k in PromotionKind}:
            raise InvalidPromotion("kind is percent, amount or free_shipping")
        if self.funded_by not in {f.value for f in FundedBy}:
            raise InvalidPromotion("funded_by is platform or seller")
        if self.funded_by == FundedBy.SELLER and self.seller_id is None:
            raise InvalidPromotion("a seller-funded promotion names its seller_id")
        if self.kind == PromotionKind.PERCENT:
            if not _whole(self.percent) or not 1 <= self.percent <= 100:  # type: ignore[operator]
                raise InvalidPromotion("a percent promotion's value is a whole 1 to 100")
        elif self.percent is not None:
            raise InvalidPromotion("only a percent promotion has a percentage")
        if self.kind == PromotionKind.AMOUNT:
            if not _whole(self.amount_minor) or not 1 <= self.amount_minor <= 10**12:  # type: ignore[operator]
                raise InvalidPromotion("an amount promotion's value is a positive amount")
        elif self.amount_minor is not None:
            raise InvalidPromotion("only an amount promotion has an amount")
        if self.code and not _CODE.match(self.code):
            raise InvalidPromotion("a code has 1 to 40 letters, digits, '-' or '_'")
        if len(self.product_ids) > MAX_PRODUCTS or len(self.category) > 100:
            raise InvalidPromotion(f"at most {MAX_PRODUCTS} products, a category of 100")
        if self.min_subtotal_minor is not None and not (
            _whole(self.min_subtotal_minor) and 0 <= self.min_subtotal_minor <= 10**12
        ):
            raise InvalidPromotion("min_subtotal is an amount")
        for name in ("usage_limit", "per_buyer_limit"):
            limit = getattr(self, name)
            if limit is not None and not (_whole(limit) and 1 <= limit <= 10**9):
                raise InvalidPromotion(f"{name} is a whole number from 1")
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise InvalidPromotion("ends_at is after starts_at")

    @classmethod
    def made(cls, **terms: Any) -> Terms:
        """Terms as a command names them: the code and category in the forms they are kept."""
        code = terms.pop("code", None) or ""
        category = terms.pop("category", None) or ""
        products = terms.pop("product_ids", None) or ()
        return cls(
            code=code_key(code),
            category=" ".join(nfc(category).split()),
            product_ids=frozenset(products),
            **terms,
        )

    def as_record(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "funded_by": self.funded_by,
            "currency": self.currency,
            "percent": self.percent,
            "amount_minor": self.amount_minor,
            "code": self.code,
            "seller_id": str(self.seller_id) if self.seller_id else None,
            "product_ids": sorted(str(p) for p in self.product_ids),
            "category": self.category,
            "min_subtotal_minor": self.min_subtotal_minor,
            "starts_at": self.starts_at.isoformat() if self.starts_at else None,
            "ends_at": self.ends_at.isoformat() if self.ends_at else None,
            "usage_limit": self.usage_limit,
            "per_buyer_limit": self.per_buyer_limit,
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Terms:
        def when(value: Any) -> datetime | None:
            return datetime.fromisoformat(value) if value else None

        return cls(
            kind=record["kind"],
            funded_by=record["funded_by"],
            currency=record["currency"],
            percent=record.get("percent"),
            amount_minor=record.get("amount_minor"),
            code=record.get("code") or "",
            seller_id=UUID(record["seller_id"]) if record.get("seller_id") else None,
            product_ids=frozenset(UUID(p) for p in record.get("product_ids") or ()),
            category=record.get("category") or "",
            min_subtotal_minor=record.get("min_subtotal_minor"),
            starts_at=when(record.get("starts_at")),
            ends_at=when(record.get("ends_at")),
            usage_limit=record.get("usage_limit"),
            per_buyer_limit=record.get("per_buyer_limit"),
        )

    def fits(self, line: DiscountLine) -> bool:
        """Whether the promotion applies to a line: its products, category and seller, each
        only where named."""
        return (
            (not line.currency or line.currency == self.currency)
            and (not self.product_ids or line.product_id in self.product_ids)
            and (not self.category or name_key(self.category) == name_key(line.category))
            and (self.seller_id is None or self.seller_id == line.seller_id)
        )

    def why_not(self, now: datetime) -> str | None:
        if self.starts_at and now < self.starts_at:
            return f"it starts at {self.starts_at.isoformat()}"
        if self.ends_at and now >= self.ends_at:
            return f"it ended at {self.ends_at.isoformat()}"
        return None


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class Promotion(TenantAggregate):
    """One promotion: its terms, whether it was ended, and its uses (by order)."""

    class Created(TenantAggregate.Created):
        terms: dict[str, Any]
        created_by: UUID

    class Ended(TenantAggregate.Event):
        at: datetime

    class Redeemed(TenantAggregate.Event):
        # The buyer as per_buyer_limit counts it: its id, or a guest's email's digest (which,
        # unsalted, would confirm a guessed address: the audit trail never shows it).
        secret: ClassVar[frozenset[str]] = frozenset({"buyer_ref"})
        order_id: UUID
        buyer_ref: str

    class Released(TenantAggregate.Event):
        """The order it was used for was cancelled or expired: the use comes back."""

        order_id: UUID

    @event(Created)
    def __init__(self, tenant_id: UUID, terms: dict[str, Any], created_by: UUID) -> None:
        self.tenant_id = tenant_id
        self.terms_record = terms
        self.created_by = created_by
        self.ended_at: datetime | None = None
        self.uses: dict[str, str] = {}

    @property
    def terms(self) -> Terms:
        return Terms.from_record(self.terms_record)

    def why_not(self, now: datetime) -> str | None:
        """Why it cannot be used now (not started, ended), or None."""
        if self.ended_at is not None and now >= self.ended_at:
            return "it was ended"
        return self.terms.why_not(now)

    def check_usable(self, buyer_ref: str, now: datetime) -> None:
        terms = self.terms
        reason = self.why_not(now)
        if reason is None and terms.usage_limit is not None and len(self.uses) >= terms.usage_limit:
            reason = "it is used up"
        if reason is None and terms.per_buyer_limit is not None:
            mine = sum(1 for key in self.uses.values() if key == buyer_ref)
            if mine >= terms.per_buyer_limit:
                reason = "this buyer has used it as often as it may"
        if reason is not None:
            label = terms.code or str(self.id)
            raise PromotionUnavailable(f"promotion {label} cannot be used: {reason}")

    @property
    def counts_uses(self) -> bool:
        """Whether its uses are recorded: only where a limit counts them, so checkouts using a
        promotion without limits never wait on one another."""
        terms = self.terms
        return terms.usage_limit is not None or terms.per_buyer_limit is not None

    def redeem(self, order_id: UUID, buyer_ref: str, now: datetime) -> bool:
        """Counts a use for an order, within its limits (409 past them); False where no limit
        counts uses, and nothing was recorded."""
        self.check_usable(buyer_ref, now)
        if not self.counts_uses or str(order_id) in self.uses:
            return False
        self._redeemed(order_id=order_id, buyer_ref=buyer_ref)
        return True

    def release(self, order_id: UUID) -> None:
        if str(order_id) in self.uses:
            self._released(order_id=order_id)

    def end(self, now: datetime) -> None:
        if self.ended_at is None:
            self._ended(at=now)

    @event(Redeemed)
    def _redeemed(self, order_id: UUID, buyer_ref: str) -> None:
        self.uses = {**self.uses, str(order_id): buyer_ref}

    @event(Released)
    def _released(self, order_id: UUID) -> None:
        self.uses = {k: v for k, v in self.uses.items() if k != str(order_id)}

    @event(Ended)
    def _ended(self, at: datetime) -> None:
        self.ended_at = at


class PromotionBook(TenantAggregate):
    """A tenant's running promotions: each code's, and the automatic ones (without a code),
    so a code names one promotion at a time and checkout finds what applies by itself."""

    class Opened(TenantAggregate.Created):
        pass

    class Listed(TenantAggregate.Event):
        promotion_id: UUID
        code: str

    class Unlisted(TenantAggregate.Event):
        promotion_id: UUID

    @staticmethod
    def create_id(tenant_id: UUID) -> UUID:
        return uuid5(NAMESPACE_URL, f"velora:promotion-book:{tenant_id}")

    @event(Opened)
    def __init__(self, tenant_id: UUID) -> None:
        self.tenant_id = tenant_id
        self.codes: dict[str, str] = {}
        self.automatic: list[str] = []
        # The last promotion that had each code no running promotion has now: a buyer who
        # brings an ended code is told it has ended (409), not that it never was (404).
        self.ended_codes: dict[str, str] = {}

    def find(self, code: str) -> UUID:
        """The running promotion with `code`, or else the last one that had it and has ended."""
        key = code_key(code)
        found = self.codes.get(key) or self.ended_codes.get(key)
        if found is None:
            raise PromotionNotFound(f"no promotion has the code {key!r}")
        return UUID(found)

    def add(self, promotion: Promotion) -> None:
        code = promotion.terms.code
        if code and code in self.codes:
            raise CodeTaken(f"the code {code!r} is another running promotion's")
        self._listed(promotion_id=promotion.id, code=code)

    def unlist(self, promotion_id: UUID) -> None:
        if str(promotion_id) in self.automatic or str(promotion_id) in self.codes.values():
            self._unlisted(promotion_id=promotion_id)

    @event(Listed)
    def _listed(self, promotion_id: UUID, code: str) -> None:
        if code:
            self.codes = {**self.codes, code: str(promotion_id)}
            self.ended_codes = {k: v for k, v in self.ended_codes.items() if k != code}
        else:
            self.automatic = [*self.automatic, str(promotion_id)]

    @event(Unlisted)
    def _unlisted(self, promotion_id: UUID) -> None:
        ended = {k: v for k, v in self.codes.items() if v == str(promotion_id)}
        self.ended_codes = {**self.ended_codes, **ended}
        self.codes = {k: v for k, v in self.codes.items() if v != str(promotion_id)}
        self.automatic = [p for p in self.automatic if p != str(promotion_id)]
