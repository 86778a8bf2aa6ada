"""The base of the use cases' applications: what their commands load to ask the domain's rules
that span aggregates. The rules are the domain's (`domain/catalog.is_buyable`,
`Seller.require_acting`); the loading is the application's, read from the log as
`read_or_none` reads, so it holds at once in every process. Storage (`VeloraApplication`,
eventstore/application.py) knows neither."""

from __future__ import annotations

from uuid import UUID

from domain.catalog import Product, is_buyable
from domain.sellers import Seller
from eventstore.application import VeloraApplication


class ServiceApplication(VeloraApplication):
    def buyable(self, product_id: UUID, tenant_id: UUID) -> tuple[Product, Seller] | None:
        """The product and its seller, if a buyer of this tenant may see and buy it now."""
        product = self.read_or_none(product_id)
        if not isinstance(product, Product) or product.tenant_id != tenant_id:
            return None
        seller = self.read_or_none(product.seller_id)
        if not isinstance(seller, Seller) or not is_buyable(product, seller):
            return None
        return product, seller

    def require_acting(self, seller_id: UUID | None) -> None:
        """Refuses a seller's own command once its marketplace suspended it (None: an admin
        acts, not a seller)."""
        if seller_id is None:
            return
        seller = self.read_or_none(seller_id)
        if isinstance(seller, Seller):
            seller.require_acting()
