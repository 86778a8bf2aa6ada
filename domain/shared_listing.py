"""What a product is as a Seller Pro listing (docs/api-seller-pro.md): the master product it
publishes, and the organisation's one stock each of its variants sells from
(domain/master_catalog.py). A mixin of `Product`, whose events (`StockShared`, `Withdrawn`) stay
nested in it, so their topics are the catalog's."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from domain.errors import Conflict
from domain.inventory import Stock
from domain.listing import CatalogError, InvalidProduct, ProductStatus, WrongProductStep
from domain.variants import Variant


class MastersToChange(CatalogError, Conflict):
    """A listing's text and stock are its organisation's master product's: changed there."""

    title = "Changed on the master product"


class SharedListing:
    # Set by Product's events (domain/catalog.py).
    status: str
    shared: dict[str, Any]

    @property
    def sellable_variants(self) -> Sequence[Variant]:
        raise NotImplementedError

    def _stock_shared(
        self, organisation_id: UUID, master_id: UUID, variants: dict[str, str]
    ) -> None:
        raise NotImplementedError

    def _withdrawn(self) -> None:
        raise NotImplementedError

    def share_stock(
        self, organisation_id: UUID, master_id: UUID, variants: Mapping[UUID, UUID]
    ) -> None:
        """Sells each variant from its master variant's stock: `variants` maps every variant
        of this product to one of the master's."""
        if set(variants) != {v.id for v in self.sellable_variants}:
            raise InvalidProduct("a listing maps each of its variants to one of the master's")
        self._stock_shared(
            organisation_id=organisation_id,
            master_id=master_id,
            variants={str(k): str(v) for k, v in variants.items()},
        )

    @property
    def master_id(self) -> UUID | None:
        """The master product it lists, for a Seller Pro listing."""
        shared = getattr(self, "shared", None)
        return None if shared is None else UUID(shared["master_id"])

    def stock_of(self, variant_id: UUID) -> UUID:
        """The stock a variant's units are held from: its own, or its master variant's."""
        shared = getattr(self, "shared", None)
        if shared is not None and str(variant_id) in shared["variants"]:
            return Stock.create_id(UUID(shared["variants"][str(variant_id)]))
        return Stock.create_id(variant_id)

    def withdraw(self) -> None:
        if self.status == ProductStatus.WITHDRAWN:
            raise WrongProductStep("the listing is withdrawn already")
        self._withdrawn()

    def require_own(self, what: str) -> None:
        """Refuses a change of what a listing takes from its master (its text, stock, images): the
        organisation changes it on the master product, for every listing at once."""
        if getattr(self, "shared", None) is not None:
            raise MastersToChange(
                f"a listing takes its {what} from its master product: change them there, "
                "under /v1/organisations/{id}/products/{product_id}"
            )
