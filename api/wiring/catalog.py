"""The catalog: sellers, their products (with their images) and the categories they are filed
under."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from api.wiring.media import MediaParts
from api.wiring.platform import Wiring
from eventstore.application import Contention
from eventstore.log import EventLog
from projections.catalog.projector import CatalogProjector
from projections.catalog.queries import CatalogQueries
from projections.catalog.sellers import SellersProjector
from projections.categories.projector import CategoriesProjector
from projections.categories.queries import CategoryQueries
from projections.store import ReadStore
from services.catalog import CatalogApplication
from services.categories import CategoryApplication
from services.sellers import SellerApplication


@dataclass
class CatalogParts:
    sellers: SellerApplication
    catalog: CatalogApplication
    catalog_queries: CatalogQueries
    categories: CategoryApplication
    category_queries: CategoryQueries


def settled_products_named(
    log: EventLog, store: ReadStore, queries: CategoryQueries
) -> Callable[[UUID, str], int]:
    """How many products name a category, counted once the catalog model has every event
    recorded so far: a product listed a moment ago is counted, so a category in use is never
    renamed or removed from under it."""

    def products_named(tenant_id: UUID, name: str) -> int:
        if not store.wait_for(log.head(), ("catalog",), timeout_s=5.0):
            raise Contention("the catalog is catching up; try again in a moment")
        return queries.products_named(tenant_id, name)

    return products_named


def settled_products_of(
    log: EventLog, store: ReadStore, queries: CatalogQueries
) -> Callable[[UUID, UUID], int]:
    """How many of a seller's products count against a plan's limit, counted once the catalog
    model has every event recorded so far (a product listed a moment ago counts)."""

    def products_of(tenant_id: UUID, seller_id: UUID) -> int:
        if not store.wait_for(log.head(), ("catalog",), timeout_s=5.0):
            raise Contention("the catalog is catching up; try again in a moment")
        return queries.products_counted(tenant_id, seller_id)

    return products_of


def wire_catalog(wiring: Wiring, media: MediaParts) -> CatalogParts:
    log, store = wiring.log, wiring.read_store
    wiring.project(SellersProjector(), CategoriesProjector(), CatalogProjector())
    catalog_queries = CatalogQueries(store)
    category_queries = CategoryQueries(store)
    products_of = settled_products_of(log, store, catalog_queries)
    return CatalogParts(
        sellers=SellerApplication(log, products_of, on_recorded=wiring.recorded),
        catalog=CatalogApplication(
            log,
            media.blobs,
            products_of,
            image_decodes=wiring.settings.image_decodes,
            on_recorded=wiring.recorded,
        ),
        catalog_queries=catalog_queries,
        categories=CategoryApplication(
            log,
            settled_products_named(log, store, category_queries),
            on_recorded=wiring.recorded,
        ),
        category_queries=category_queries,
    )
