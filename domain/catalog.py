"""The catalog: products listed by sellers, moderated per the tenant's setting.

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

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain import variants as variant_rules
from domain.base import TenantAggregate
from domain.errors import Conflict, DomainError, Invalid, NotFound
from domain.media import MAX_IMAGES_PER_PRODUCT, ImageNotFound, TooManyImages
from domain.money import Money, parse_currency
from domain.names import nfc
from domain.sellers import Seller
from domain.variants import ChooseVariant, InvalidVariant, Variant, VariantNotFound, VariantRetired


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


_SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,63}$")
MAX_ATTRIBUTES = 50
MAX_PRICE_MINOR = 10**12
MAX_FEATURE = timedelta(days=366)


def _text(name: str, value: str, max_length: int, *, required: bool = True) -> str:
    """A product's text as kept: trimmed, in NFC (so a category or a search matches "café"
    however its accent was typed)."""
    value = nfc(value.strip())
    if (required and not value) or len(value) > max_length:
        raise InvalidProduct(f"{name} must have {int(required)} to {max_length} characters")
    return value


def _price(price: Money) -> Money:
    """A price a seller names: a positive amount in a current ISO 4217 currency."""
    if not 1 <= price.amount_minor <= MAX_PRICE_MINOR:
        raise InvalidProduct("price must be a positive amount of minor units")
    parse_currency(price.currency)
    return price


def _attributes(attributes: dict[str, str]) -> dict[str, str]:
    if len(attributes) > MAX_ATTRIBUTES:
        raise InvalidProduct(f"at most {MAX_ATTRIBUTES} attributes")
    for key, value in attributes.items():
        if not 1 <= len(key) <= 64 or len(value) > 500:
            raise InvalidProduct("attribute names have 1 to 64 characters, values up to 500")
    return {nfc(key): nfc(value) for key, value in attributes.items()}


class Keep:
    """Leaves a value as it is (for a field whose None means something)."""


KEEP = Keep()


@dataclass(frozen=True)
class NewVariant:
    id: UUID
    sku: str
    options: Mapping[str, Any]
    price: Money | None = None


class Product(TenantAggregate):
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
        price = _price(price)
        status = ProductStatus.PENDING_APPROVAL if moderation_required else ProductStatus.ACTIVE
        product = cls(
            tenant_id=seller.tenant_id,
            seller_id=seller.id,
            sku=sku,
            title=_text("title", title, 200),
            description=_text("description", description, 5000, required=False),
            category=_text("category", category, 100),
            price_minor=price.amount_minor,
            currency=price.currency,
            attributes=_attributes(attributes),
            status=status.value,
        )
        if options:
            product.set_options(options)
        for added in variants:
            product.add_variant(added.id, sku=added.sku, options=added.options, price=added.price)
        return product

    # -- variants (the rules: domain/variants.py) ---------------------------------------------

    @property
    def has_variants(self) -> bool:
        """Whether the product sells variants of its own; if not, it is its own one variant."""
        return bool(self.variants)

    def set_options(self, options: Sequence[Mapping[str, Any]]) -> None:
        """Names the options; once the product has variants, options may only gain values."""
        parsed = variant_rules.parse_options(options)
        if self.variants:
            variant_rules.extended(list(self.options), parsed)
        if parsed != list(self.options):
            self._options_set(options=parsed)

    def add_variant(
        self, variant_id: UUID, *, sku: str, options: Mapping[str, Any], price: Money | None
    ) -> Variant:
        """Sells one more combination of option values (422 for a combination a variant on
        sale has already, or a value the options do not name)."""
        if len(self.variants) >= variant_rules.MAX_VARIANTS:
            raise InvalidVariant(f"a product has at most {variant_rules.MAX_VARIANTS} variants")
        chosen = variant_rules.combination(list(self.options), options)
        key = variant_rules.combination_key(chosen)
        if any(variant_rules.combination_key(v.options) == key for v in self.sellable_variants):
            raise InvalidVariant(f"a variant with {chosen} is on sale already")
        if str(variant_id) in self.variants or variant_id == self.id:
            raise InvalidVariant(f"variant {variant_id} exists already")
        self._variant_added(
            variant_id=variant_id,
            sku=variant_rules.parse_sku(sku),
            options=chosen,
            price_minor=self._variant_price(price),
        )
        return self.variant(variant_id)

    def edit_variant(
        self, variant_id: UUID, *, sku: str | None = None, price: Money | Keep | None = KEEP
    ) -> Variant:
        """A new sku, or a price of its own (None: the product's from now on)."""
        current = self._own_variant(variant_id)
        new_sku = current["sku"] if sku is None else variant_rules.parse_sku(sku)
        new_price = (
            current["price_minor"] if isinstance(price, Keep) else self._variant_price(price)
        )
        if (new_sku, new_price) != (current["sku"], current["price_minor"]):
            self._variant_edited(variant_id=variant_id, sku=new_sku, price_minor=new_price)
        return self.variant(variant_id)

    def retire_variant(self, variant_id: UUID) -> None:
        if self._own_variant(variant_id)["retired"]:
            raise VariantRetired(f"variant {variant_id} is retired already")
        self._variant_retired(variant_id=variant_id)

    def variant(self, variant_id: UUID) -> Variant:
        """The variant this id names: one of the product's own, or the product itself while it
        has none. A retired variant is still named (orders keep it)."""
        if not self.variants:
            if variant_id != self.id:
                raise VariantNotFound(f"variant {variant_id} not found")
            return Variant(self.id, self.id, self.sku, {}, self.price_minor, self.currency)
        if variant_id == self.id:
            raise ChooseVariant(f"product {self.id} has variants: name one of them")
        record = self._own_variant(variant_id)
        price = record["price_minor"]
        return Variant(
            variant_id,
            self.id,
            record["sku"],
            dict(record["options"]),
            self.price_minor if price is None else price,
            self.currency,
            record["retired"],
        )

    def buyable_variant(self, variant_id: UUID) -> Variant:
        variant = self.variant(variant_id)
        if variant.retired:
            raise VariantRetired(f"variant {variant_id} is no longer sold")
        return variant

    @property
    def sellable_variants(self) -> Sequence[Variant]:
        """Every variant on sale: the product itself while it has none of its own."""
        if not self.variants:
            return [self.variant(self.id)]
        return [v for v in (self.variant(UUID(i)) for i in self.variants) if not v.retired]

    def _own_variant(self, variant_id: UUID) -> dict[str, Any]:
        record = self.variants.get(str(variant_id))
        if record is None:
            raise VariantNotFound(f"variant {variant_id} not found")
        return record

    def _variant_price(self, price: Money | None) -> int | None:
        if price is None:
            return None
        price = _price(price)
        if price.currency != self.currency:
            raise InvalidVariant(f"a variant is priced in the product's {self.currency}")
        return price.amount_minor

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
        reason = _text("reason", reason, 500, required=False)
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
            text["title"] = _text("title", title, 200)
        if description is not None:
            text["description"] = _text("description", description, 5000, required=False)
        if category is not None:
            text["category"] = _text("category", category, 100)
        new_price = _price(price) if price is not None else self.price
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

    def set_commission(self, commission_bps: int | None) -> None:
        if commission_bps is not None and not 0 <= commission_bps <= 10_000:
            raise InvalidProduct("commission_bps must be between 0 and 10000")
        self._commission_set(commission_bps=commission_bps)

    def add_image(
        self, image_id: UUID, content_type: str, width: int, height: int, keys: dict[str, str]
    ) -> None:
        """Shows one more image, last. Its bytes are stored already, under `keys`."""
        self.require_room_for_image()
        self._image_added(
            image_id=image_id, content_type=content_type, width=width, height=height, keys=keys
        )

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

    def require_room_for_image(self) -> None:
        if len(self.images) >= MAX_IMAGES_PER_PRODUCT:
            raise TooManyImages(f"a product shows at most {MAX_IMAGES_PER_PRODUCT} images")

    def remove_image(self, image_id: UUID) -> dict[str, str]:
        """Stops showing an image; returns its blob keys, for the caller to delete."""
        image = self.image(image_id)
        self._image_removed(image_id=image_id)
        return dict(image["keys"])

    def reorder_images(self, image_ids: Sequence[UUID]) -> None:
        """Puts the images in this order; it must name each of them exactly once."""
        current = [image["image_id"] for image in self.images]
        if sorted(image_ids) != sorted(current):
            raise InvalidProduct("image_ids must name each of the product's images once")
        if list(image_ids) != current:
            self._images_reordered(image_ids=list(image_ids))

    def image(self, image_id: UUID) -> dict[str, Any]:
        for image in self.images:
            if image["image_id"] == image_id:
                return image
        raise ImageNotFound(f"image {image_id} not found")

    @event(ImageAdded)
    def _image_added(
        self, image_id: UUID, content_type: str, width: int, height: int, keys: dict[str, str]
    ) -> None:
        self.images.append(
            {
                "image_id": image_id,
                "content_type": content_type,
                "width": width,
                "height": height,
                "keys": keys,
            }
        )

    @event(ImageRemoved)
    def _image_removed(self, image_id: UUID) -> None:
        self.images = [i for i in self.images if i["image_id"] != image_id]

    @event(ImagesReordered)
    def _images_reordered(self, image_ids: Sequence[UUID]) -> None:
        by_id = {image["image_id"]: image for image in self.images}
        self.images = [by_id[image_id] for image_id in image_ids]

    def _require_pending(self, command: str) -> None:
        if self.status != ProductStatus.PENDING_APPROVAL:
            raise WrongProductStep(f"cannot {command} a product that is {self.status}")

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
