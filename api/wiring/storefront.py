"""Storefronts: the publishable keys admins make and delete, checked on every guest request."""

from __future__ import annotations

from dataclasses import dataclass

from api.wiring.platform import Wiring
from projections.storefront.projector import StorefrontProjector
from projections.storefront.queries import StorefrontQueries
from services.storefront import StorefrontApplication


@dataclass
class StorefrontParts:
    storefront: StorefrontApplication
    storefront_queries: StorefrontQueries


def wire_storefront(wiring: Wiring) -> StorefrontParts:
    wiring.project(StorefrontProjector())
    return StorefrontParts(
        storefront=StorefrontApplication(wiring.log, on_recorded=wiring.recorded),
        storefront_queries=StorefrontQueries(wiring.read_store),
    )
