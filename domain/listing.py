"""A product's listing: what its seller says of it (title, description, category, price,
attributes), the checks each field passes before any event records it, and how moderation makes
it live. `Listing` is the part of `Product` (domain/catalog.py) that edits and moderates it; the
events it records are the product's own.

Where the tenant moderates (`product_moderation: required`), what buyers see of a product has
been approved: a new listing waits for approval, and so does an edit of an active product's
moderated fields (title, description, category). Such an edit is a *revision*: recorded beside
the product (`RevisionProposed`) while the approved version stays live (what buyers, search,
carts and checkout read); approving it makes it live (`RevisionApproved`), rejecting it keeps
the approved one (`RevisionRejected`). The seller's next edit starts from the pending revision,
so edits pile up in one revision; an edit back to the live text withdraws it.

The price is not moderated: it is no content a moderator judges (the text and the category are
where a listing breaks a marketplace's rules), checkout charges the one live price, and a seller
must be able to correct or lower a price at once. A price edit is live at once even while a
revision waits."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from domain.errors import Conflict, DomainError, Invalid, NotFound
from domain.money import Money, parse_currency
from domain.names import nfc


class CatalogError(DomainError):
    """Base of the catalog context's errors."""


class ProductNotFound(CatalogError, NotFound):
    title = "Product not found"


class SkuTaken(CatalogError, Conflict):
    title = "SKU already used"


class WrongProductStep(CatalogError, Conflict):
    title = "Wrong lifecycle step"


class InvalidProduct(CatalogError, Invalid):
    title = "Invalid product"


class ProductStatus(StrEnum):
    PENDING_APPROVAL = "pending_approval"
    ACTIVE = "active"
    REJECTED = "rejected"
    # A Seller Pro listing its organisation withdrew from the marketplace (docs/api-seller-pro.md).
    WITHDRAWN = "withdrawn"


MAX_ATTRIBUTES = 50
MAX_PRICE_MINOR = 10**12


def parse_text(name: str, value: str, max_length: int, *, required: bool = True) -> str:
    """A product's text as kept: trimmed, in NFC (so a category or a search matches "café"
    however its accent was typed)."""
    value = nfc(value.strip())
    if (required and not value) or len(value) > max_length:
        raise InvalidProduct(f"{name} must have {int(required)} to {max_length} characters")
    return value


def parse_price(price: Money) -> Money:
    """A price a seller names: a positive amount in a current ISO 4217 currency."""
    if not 1 <= price.amount_minor <= MAX_PRICE_MINOR:
        raise InvalidProduct("price must be a positive amount of minor units")
    parse_currency(price.currency)
    return price


def parse_attributes(attributes: dict[str, str]) -> dict[str, str]:
    if len(attributes) > MAX_ATTRIBUTES:
        raise InvalidProduct(f"at most {MAX_ATTRIBUTES} attributes")
    for key, value in attributes.items():
        if not 1 <= len(key) <= 64 or len(value) > 500:
            raise InvalidProduct("attribute names have 1 to 64 characters, values up to 500")
    return {nfc(key): nfc(value) for key, value in attributes.items()}


class Listing:
    """A product's text and price as its seller edits them and a moderator approves them (see
    the module's docstring): a mixin of `Product`, which records the events."""

    title: str
    description: str
    category: str
    currency: str
    price_minor: int
    attributes: dict[str, str]
    status: str
    # The moderated text a seller proposed for an active product, awaiting review.
    revision: dict[str, str] | None

    if TYPE_CHECKING:  # Product's, beside the events they record

        def _approved(self) -> None: ...

        def _rejected(self, reason: str) -> None: ...

        def _edited(
            self,
            title: str,
            description: str,
            category: str,
            price_minor: int,
            currency: str,
            attributes: dict[str, str],
            status: str,
        ) -> None: ...

        def _price_lowered(self, from_minor: int, price_minor: int, currency: str) -> None: ...

        def _revision_proposed(self, title: str, description: str, category: str) -> None: ...

        def _revision_approved(self, title: str, description: str, category: str) -> None: ...

        def _revision_rejected(self, reason: str) -> None: ...

        def _revision_withdrawn(self) -> None: ...

    @property
    def price(self) -> Money:
        return Money(self.price_minor, self.currency)

    @property
    def is_active(self) -> bool:
        return self.status == ProductStatus.ACTIVE

    @property
    def moderated_text(self) -> dict[str, str]:
        """The live title, description and category: what moderation approved."""
        return {"title": self.title, "description": self.description, "category": self.category}

    def approve(self) -> None:
        """Approves what awaits moderation: a new listing, or an active product's revision."""
        if self.status == ProductStatus.ACTIVE and self.revision is not None:
            self._revision_approved(**self.revision)
            return
        self._require_pending("approve")
        self._approved()

    def reject(self, reason: str) -> None:
        """Rejects what awaits moderation; a rejected revision leaves the approved text live."""
        reason = parse_text("reason", reason, 500, required=False)
        if self.status == ProductStatus.ACTIVE and self.revision is not None:
            self._revision_rejected(reason=reason)
            return
        self._require_pending("reject")
        self._rejected(reason=reason)

    def edit(
        self,
        *,
        title: str | None = None,
        description: str | None = None,
        category: str | None = None,
        price: Money | None = None,
        moderation_required: bool,
    ) -> None:
        """Edits the listing. Where the tenant moderates, an edit of an active product's title,
        description or category is a revision that waits for approval while the approved text
        stays live; the price is live at once (see the module's docstring). A rejected product
        that is edited goes back to moderation (or straight to active where the tenant does not
        moderate)."""
        text = dict(self.revision or self.moderated_text)  # the seller's latest text
        if title is not None:
            text["title"] = parse_text("title", title, 200)
        if description is not None:
            text["description"] = parse_text("description", description, 5000, required=False)
        if category is not None:
            text["category"] = parse_text("category", category, 100)
        new_price = parse_price(price) if price is not None else self.price
        if moderation_required and self.status == ProductStatus.ACTIVE:
            if new_price != self.price:
                self._edit_live(self.moderated_text, new_price, self.status)
            if text == self.revision:
                return
            if text != self.moderated_text:
                self._revision_proposed(**text)
            elif self.revision is not None:
                self._revision_withdrawn()
            return
        status = self.status
        if status == ProductStatus.REJECTED:
            status = (
                ProductStatus.PENDING_APPROVAL if moderation_required else ProductStatus.ACTIVE
            ).value
        self._edit_live(text, new_price, status)
        if self.revision is not None:
            self._revision_withdrawn()

    def _edit_live(self, text: dict[str, str], price: Money, status: str) -> None:
        lowered = price.currency == self.currency and price.amount_minor < self.price_minor
        from_minor = self.price_minor
        self._edited(
            title=text["title"],
            description=text["description"],
            category=text["category"],
            price_minor=price.amount_minor,
            currency=price.currency,
            attributes=self.attributes,
            status=status,
        )
        if lowered:
            self._price_lowered(
                from_minor=from_minor, price_minor=self.price_minor, currency=self.currency
            )

    def _require_pending(self, command: str) -> None:
        if self.status != ProductStatus.PENDING_APPROVAL:
            raise WrongProductStep(f"cannot {command} a product that is {self.status}")
