"""A Seller Pro organisation's own catalog (docs/api-seller-pro.md): master products, each with
its variants and the one stock of each, published to the marketplaces it joined as listings.

A master product belongs to the platform (tenant zero), as its organisation does. Its variants
have ids of their own (a master without variants is its own one variant, as a product is), and
each has one `Stock` (domain/inventory.py) under the platform too, which every listing of it
sells from: a hold in any marketplace takes from the same count. A listing is a product of the
marketplace (domain/catalog.py), whose variants name their master variant
(`Product.StockShared`); the master remembers in which marketplace it is listed as which
product."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID, uuid4, uuid5

from eventsourcing.domain import event

from domain.base import PLATFORM_TENANT_ID, TenantAggregate
from domain.errors import Conflict, DomainError, NotFound
from domain.listing import parse_attributes, parse_text
from domain.media import ShownImages
from domain.variants import (
    InvalidVariant,
    combination,
    combination_key,
    parse_options,
    parse_sku,
)

MAX_VARIANTS = 100


def listing_image_id(product_id: UUID, image_id: UUID) -> UUID:
    """The id a listing shows one of its master's images under: its own, so that buyers of two
    marketplaces never see one id, and always the same, so the master's image finds it."""
    return uuid5(product_id, str(image_id))


class MasterCatalogError(DomainError):
    """Base of the master catalog's errors."""


class MasterProductNotFound(MasterCatalogError, NotFound):
    title = "Master product not found"


class AlreadyListed(MasterCatalogError, Conflict):
    title = "Already listed"


class NotListed(MasterCatalogError, NotFound):
    title = "Not listed there"


class MasterProduct(ShownImages, TenantAggregate):
    class Created(TenantAggregate.Created):
        organisation_id: UUID
        sku: str
        title: str
        description: str
        category: str
        attributes: dict[str, str]
        options: list[dict[str, Any]]
        # Each {variant_id, sku, options}; none: the master is its own one variant.
        variants: list[dict[str, Any]]

    class Edited(TenantAggregate.Event):
        """Its text changed: title and description flow to every listing; category and
        attributes are what listings published from now on take."""

        title: str
        description: str
        category: str
        attributes: dict[str, str]

    class Published(TenantAggregate.Event):
        """Listed on a marketplace as that tenant's product `product_id`."""

        marketplace_id: UUID
        product_id: UUID

    class Withdrawn(TenantAggregate.Event):
        """Its listing on that marketplace was withdrawn; the master and its others stay."""

        marketplace_id: UUID
        product_id: UUID

    class ImageAdded(TenantAggregate.Event):
        """An image every listing shows, last; each listing keeps its own copy of the bytes
        (`Product.ImageAdded`, under its marketplace's keys), these are the master's."""

        image_id: UUID
        content_type: str
        width: int
        height: int
        keys: dict[str, str]

    class ImageRemoved(TenantAggregate.Event):
        image_id: UUID

    class ImagesReordered(TenantAggregate.Event):
        image_ids: list[UUID]

    @event(Created)
    def __init__(
        self,
        tenant_id: UUID,
        organisation_id: UUID,
        sku: str,
        title: str,
        description: str,
        category: str,
        attributes: dict[str, str],
        options: list[dict[str, Any]],
        variants: list[dict[str, Any]],
    ) -> None:
        self.tenant_id = tenant_id
        self.organisation_id = organisation_id
        self.sku = sku
        self.title = title
        self.description = description
        self.category = category
        self.attributes = attributes
        self.options = options
        self.variants = variants
        self.listings: dict[str, str] = {}  # marketplace id -> its product there
        self.images: list[dict[str, Any]] = []

    @classmethod
    def create(
        cls,
        organisation_id: UUID,
        *,
        sku: str,
        title: str,
        description: str,
        category: str,
        attributes: dict[str, str],
        options: Sequence[Mapping[str, Any]] = (),
        variants: Sequence[Mapping[str, Any]] = (),
    ) -> MasterProduct:
        kept_options = parse_options(options)
        if variants and not kept_options:
            raise InvalidVariant("the product has no options: give it options before variants")
        if len(variants) > MAX_VARIANTS:
            raise InvalidVariant(f"a product has at most {MAX_VARIANTS} variants")
        kept_variants: list[dict[str, Any]] = []
        combinations = set()
        for raw in variants:
            picked = combination(kept_options, raw.get("options", {}))
            if combination_key(picked) in combinations:
                raise InvalidVariant(f"two variants have the options {picked}")
            combinations.add(combination_key(picked))
            kept_variants.append(
                {"variant_id": str(uuid4()), "sku": parse_sku(raw.get("sku")), "options": picked}
            )
        skus = [parse_sku(sku), *(v["sku"] for v in kept_variants)]
        if len(set(skus)) != len(skus):
            raise InvalidVariant("a sku names one product or variant of the organisation")
        return cls(
            tenant_id=PLATFORM_TENANT_ID,
            organisation_id=organisation_id,
            sku=skus[0],
            title=parse_text("title", title, 200),
            description=parse_text("description", description, 5000, required=False),
            category=parse_text("category", category, 100),
            attributes=parse_attributes(attributes),
            options=kept_options,
            variants=kept_variants,
        )

    @property
    def variant_ids(self) -> list[UUID]:
        """Its variants' ids: its own, while it has no variants."""
        return [UUID(v["variant_id"]) for v in self.variants] or [self.id]

    @property
    def skus(self) -> list[str]:
        return [self.sku, *(v["sku"] for v in self.variants)]

    def has_variant(self, variant_id: UUID) -> bool:
        return variant_id in self.variant_ids

    def edit(
        self,
        *,
        title: str | None = None,
        description: str | None = None,
        category: str | None = None,
        attributes: dict[str, str] | None = None,
    ) -> None:
        self._edited(
            title=self.title if title is None else parse_text("title", title, 200),
            description=(
                self.description
                if description is None
                else parse_text("description", description, 5000, required=False)
            ),
            category=self.category if category is None else parse_text("category", category, 100),
            attributes=self.attributes if attributes is None else parse_attributes(attributes),
        )

    def publish(self, marketplace_id: UUID, product_id: UUID) -> None:
        if str(marketplace_id) in self.listings:
            raise AlreadyListed(f"listed on marketplace {marketplace_id} already")
        self._published(marketplace_id=marketplace_id, product_id=product_id)

    def listing_in(self, marketplace_id: UUID) -> UUID:
        listed = self.listings.get(str(marketplace_id))
        if listed is None:
            raise NotListed(f"not listed on marketplace {marketplace_id}")
        return UUID(listed)

    def withdraw(self, marketplace_id: UUID) -> UUID:
        product_id = self.listing_in(marketplace_id)
        self._withdrawn(marketplace_id=marketplace_id, product_id=product_id)
        return product_id

    @event(Edited)
    def _edited(
        self, title: str, description: str, category: str, attributes: dict[str, str]
    ) -> None:
        self.title, self.description = title, description
        self.category, self.attributes = category, attributes

    @event(Published)
    def _published(self, marketplace_id: UUID, product_id: UUID) -> None:
        self.listings = {**self.listings, str(marketplace_id): str(product_id)}

    @event(Withdrawn)
    def _withdrawn(self, marketplace_id: UUID, product_id: UUID) -> None:
        self.listings = {k: v for k, v in self.listings.items() if k != str(marketplace_id)}

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
