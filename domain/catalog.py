"""The catalog: products listed by sellers, their images and features, and the claims that keep
a sku and a variant's id one product's.

`Product` is one aggregate in parts: its listing and moderation (`Listing`, domain/listing.py,
with the rules of what a revision is), its options and variants (`ProductVariants`,
domain/variants.py), and here its events, its images, features and commission. The events stay
nested in `Product` in this module, so their topics (`domain.catalog:Product.Listed`, ...), under
which they are stored and read, never change."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import TenantAggregate
from domain.listing import (
    InvalidProduct,
    Listing,
    ProductStatus,
    WrongProductStep,
    parse_attributes,
    parse_price,
    parse_text,
)
from domain.media import ShownImages
from domain.money import Money
from domain.sellers import Seller
from domain.shared_listing import SharedListing
from domain.variants import NewVariant, ProductVariants

_SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,63}$")
MAX_FEATURE = timedelta(days=366)


class Product(Listing, ProductVariants, SharedListing, ShownImages, TenantAggregate):
    class Listed(TenantAggregate.Created):
        seller_id: UUID
        sku: str
        title: str
        description: str
        category: str
        price_minor: int
        currency: str
        attributes: dict[str, str]
        status: str

    class Approved(TenantAggregate.Event):
        pass

    class Rejected(TenantAggregate.Event):
        reason: str

    class Edited(TenantAggregate.Event):
        title: str
        description: str
        category: str
        price_minor: int
        currency: str
        attributes: dict[str, str]
        status: str

    class RevisionProposed(TenantAggregate.Event):
        """The seller edited an active product's moderated fields where the tenant moderates:
        this is the whole text proposed, held for review while the approved version stays."""

        title: str
        description: str
        category: str

    class RevisionApproved(TenantAggregate.Event):
        """A moderator approved the pending revision: this text is live now."""

        title: str
        description: str
        category: str

    class RevisionRejected(TenantAggregate.Event):
        """A moderator rejected the pending revision: the approved version stays."""

        reason: str

    class RevisionWithdrawn(TenantAggregate.Event):
        """The seller's edit made the pending revision moot: it went back to the live text, or
        went live itself where the tenant no longer moderates."""

    class CommissionSet(TenantAggregate.Event):
        commission_bps: int | None

    class OptionsSet(TenantAggregate.Event):
        """The options a buyer chooses between: each `{name, values}` (domain/variants.py)."""

        options: list[dict[str, Any]]

    class VariantAdded(TenantAggregate.Event):
        """A combination of one value per option, sold under its own id and sku; its price is
        the product's while `price_minor` is None."""

        variant_id: UUID
        sku: str
        options: dict[str, str]
        price_minor: int | None

    class VariantEdited(TenantAggregate.Event):
        variant_id: UUID
        sku: str
        price_minor: int | None

    class VariantRetired(TenantAggregate.Event):
        """No longer sold; orders that bought it keep naming it."""

        variant_id: UUID

    class Featured(TenantAggregate.Event):
        """A marketplace admin features the product until then."""

        until: datetime

    class Unfeatured(TenantAggregate.Event):
        """No longer featured: an admin ended it early, or its time ran out."""

        reason: str

    class PriceLowered(TenantAggregate.Event):
        """Recorded beside the edit that lowers a price: news for whoever wishes for it."""

        from_minor: int
        price_minor: int
        currency: str

    class ImageAdded(TenantAggregate.Event):
        image_id: UUID
        content_type: str
        width: int
        height: int
        # Each size's blob key: "original" (cleaned of metadata), "large", "thumb".
        keys: dict[str, str]

    class ImageRemoved(TenantAggregate.Event):
        image_id: UUID

    class ImagesReordered(TenantAggregate.Event):
        image_ids: list[UUID]

    class StockShared(TenantAggregate.Event):
        """A Seller Pro listing (docs/api-seller-pro.md): the organisation's master product it
        publishes, and for each of its variants the master variant whose one stock it sells
        from (domain/master_catalog.py). Recorded in the save that lists it."""

        organisation_id: UUID
        master_id: UUID
        variants: dict[str, str]

    class Withdrawn(TenantAggregate.Event):
        """Its organisation withdrew the listing: it can no longer be found or bought."""

    @event(Listed)
    def __init__(
        self,
        tenant_id: UUID,
        seller_id: UUID,
        sku: str,
        title: str,
        description: str,
        category: str,
        price_minor: int,
        currency: str,
        attributes: dict[str, str],
        status: str,
    ) -> None:
        self.tenant_id = tenant_id
        self.seller_id = seller_id
        self.sku = sku
        self.title = title
        self.description = description
        self.category = category
        self.price_minor = price_minor
        self.currency = currency
        self.attributes = attributes
        self.status = status
        self.commission_bps: int | None = None
        # In the order buyers see them: the first is the product's main image.
        self.images: list[dict[str, Any]] = []
        self.featured_until: datetime | None = None
        # The moderated text a seller proposed for an active product, awaiting review.
        self.revision: dict[str, str] | None = None
        # Options and variants (domain/variants.py), replaced by their events, never changed
        # in place; a state kept before variants existed (an audit snapshot) has neither, and
        # the events read them with `_kept`.
        self.options: Sequence[dict[str, Any]] = ()
        self.variants: Mapping[str, dict[str, Any]] = {}

    @classmethod
    def list(
        cls,
        seller: Seller,
        *,
        sku: str,
        title: str,
        description: str,
        category: str,
        price: Money,
        attributes: dict[str, str],
        moderation_required: bool,
        options: Sequence[Mapping[str, Any]] = (),
        variants: Sequence[NewVariant] = (),
    ) -> Product:
        seller.require_selling()
        sku = sku.strip()
        if not _SKU.match(sku):
            raise InvalidProduct("sku must be 1 to 64 letters, digits or . _ - /")
        price = parse_price(price)
        status = ProductStatus.PENDING_APPROVAL if moderation_required else ProductStatus.ACTIVE
        product = cls(
            tenant_id=seller.tenant_id,
            seller_id=seller.id,
            sku=sku,
            title=parse_text("title", title, 200),
            description=parse_text("description", description, 5000, required=False),
            category=parse_text("category", category, 100),
            price_minor=price.amount_minor,
            currency=price.currency,
            attributes=parse_attributes(attributes),
            status=status.value,
        )
        if options:
            product.set_options(options)
        for added in variants:
            product.add_variant(added.id, sku=added.sku, options=added.options, price=added.price)
        return product

    @event(OptionsSet)
    def _options_set(self, options: Sequence[dict[str, Any]]) -> None:
        self.options = options

    @event(VariantAdded)
    def _variant_added(
        self, variant_id: UUID, sku: str, options: dict[str, str], price_minor: int | None
    ) -> None:
        record = {"sku": sku, "options": options, "price_minor": price_minor, "retired": False}
        self.variants = {**self._kept(), str(variant_id): record}

    @event(VariantEdited)
    def _variant_edited(self, variant_id: UUID, sku: str, price_minor: int | None) -> None:
        record = {**self._kept()[str(variant_id)], "sku": sku, "price_minor": price_minor}
        self.variants = {**self._kept(), str(variant_id): record}

    @event(VariantRetired)
    def _variant_retired(self, variant_id: UUID) -> None:
        record = {**self._kept()[str(variant_id)], "retired": True}
        self.variants = {**self._kept(), str(variant_id): record}

    def _kept(self) -> Mapping[str, dict[str, Any]]:
        return getattr(self, "variants", {})

    @event(StockShared)
    def _stock_shared(
        self, organisation_id: UUID, master_id: UUID, variants: dict[str, str]
    ) -> None:
        self.shared = {
            "organisation_id": str(organisation_id),
            "master_id": str(master_id),
            "variants": dict(variants),
        }

    @event(Withdrawn)
    def _withdrawn(self) -> None:
        self.status = ProductStatus.WITHDRAWN.value

    def set_commission(self, commission_bps: int | None) -> None:
        if commission_bps is not None and not 0 <= commission_bps <= 10_000:
            raise InvalidProduct("commission_bps must be between 0 and 10000")
        self._commission_set(commission_bps=commission_bps)

    def feature(self, until: datetime, now: datetime) -> None:
        """Features the product until `until` (again: the new end replaces the old)."""
        if until.tzinfo is None:
            raise InvalidProduct("until must name its time zone, e.g. 2027-01-31T23:59:59Z")
        if not now < until <= now + MAX_FEATURE:
            raise InvalidProduct("until must be in the future, at most a year ahead")
        if not self.is_active:
            raise WrongProductStep(f"cannot feature a product that is {self.status}")
        self._featured(until=until)

    def unfeature(self) -> None:
        if self.featured_until is None:
            raise WrongProductStep("this product is not featured")
        self._unfeatured(reason="ended")

    def expire_feature(self, now: datetime) -> bool:
        """Ends a feature whose time has come; False if there is none to end yet."""
        if self.featured_until is None or self.featured_until > now:
            return False
        self._unfeatured(reason="expired")
        return True

    @event(Featured)
    def _featured(self, until: datetime) -> None:
        self.featured_until = until

    @event(Unfeatured)
    def _unfeatured(self, reason: str) -> None:
        self.featured_until = None

    @event(ImageAdded)
    def _image_added(
        self, image_id: UUID, content_type: str, width: int, height: int, keys: dict[str, str]
    ) -> None:
        self._append_image(image_id, content_type, width, height, keys)

    @event(ImageRemoved)
    def _image_removed(self, image_id: UUID) -> None:
        self._drop_image(image_id)

    @event(ImagesReordered)
    def _images_reordered(self, image_ids: Sequence[UUID]) -> None:
        self._order_images(image_ids)

    @event(Approved)
    def _approved(self) -> None:
        self.status = ProductStatus.ACTIVE.value

    @event(Rejected)
    def _rejected(self, reason: str) -> None:
        self.status = ProductStatus.REJECTED.value

    @event(Edited)
    def _edited(
        self,
        title: str,
        description: str,
        category: str,
        price_minor: int,
        currency: str,
        attributes: dict[str, str],
        status: str,
    ) -> None:
        self.title, self.description, self.category = title, description, category
        self.price_minor, self.currency = price_minor, currency
        self.attributes, self.status = attributes, status

    @event(PriceLowered)
    def _price_lowered(self, from_minor: int, price_minor: int, currency: str) -> None:
        pass

    @event(RevisionProposed)
    def _revision_proposed(self, title: str, description: str, category: str) -> None:
        self.revision = {"title": title, "description": description, "category": category}

    @event(RevisionApproved)
    def _revision_approved(self, title: str, description: str, category: str) -> None:
        self.title, self.description, self.category = title, description, category
        self.revision = None

    @event(RevisionRejected)
    def _revision_rejected(self, reason: str) -> None:
        self.revision = None

    @event(RevisionWithdrawn)
    def _revision_withdrawn(self) -> None:
        self.revision = None

    @event(CommissionSet)
    def _commission_set(self, commission_bps: int | None) -> None:
        self.commission_bps = commission_bps


def is_buyable(product: Product, seller: Seller) -> bool:
    """Whether a buyer may see and buy the product now: it is active (approved, where the tenant
    moderates) and its seller may sell (approved, neither suspended nor rejected)."""
    return product.is_active and seller.can_sell


class SkuClaim(TenantAggregate):
    """Claims a sku within a seller's catalog; a second claim collides in the event store."""

    class Claimed(TenantAggregate.Created):
        seller_id: UUID
        sku_key: str
        product_id: UUID

    @staticmethod
    def create_id(seller_id: UUID, sku_key: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"velora:sku:{seller_id}:{sku_key}")

    @event(Claimed)
    def __init__(self, tenant_id: UUID, seller_id: UUID, sku_key: str, product_id: UUID) -> None:
        self.tenant_id = tenant_id
        self.seller_id = seller_id
        self.sku_key = sku_key
        self.product_id = product_id

    @classmethod
    def claim(cls, product: Product, sku: str | None = None) -> SkuClaim:
        """Claims the product's sku, or one of its variants' (one sku list per seller)."""
        return cls(
            tenant_id=product.tenant_id,
            seller_id=product.seller_id,
            sku_key=(sku or product.sku).lower(),
            product_id=product.id,
        )


class VariantRef(TenantAggregate):
    """Which product a variant belongs to, found by the variant's id alone: a cart line names
    only the variant (API.md), and the checkout loads its product from here."""

    class Made(TenantAggregate.Created):
        variant_id: UUID
        product_id: UUID
        seller_id: UUID

    @staticmethod
    def create_id(variant_id: UUID) -> UUID:
        return uuid5(NAMESPACE_URL, f"velora:variant:{variant_id}")

    @event(Made)
    def __init__(
        self, tenant_id: UUID, variant_id: UUID, product_id: UUID, seller_id: UUID
    ) -> None:
        self.tenant_id = tenant_id
        self.variant_id = variant_id
        self.product_id = product_id
        self.seller_id = seller_id

    @classmethod
    def of(cls, product: Product, variant_id: UUID) -> VariantRef:
        return cls(
            tenant_id=product.tenant_id,
            variant_id=variant_id,
            product_id=product.id,
            seller_id=product.seller_id,
        )
