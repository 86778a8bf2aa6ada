"""Wishlists: the products a buyer keeps an eye on."""

from __future__ import annotations

from dataclasses import dataclass

from api.wiring.platform import Wiring
from projections.wishlists.projector import WishlistsProjector
from projections.wishlists.queries import WishlistQueries
from services.wishlists import WishlistApplication


@dataclass
class WishlistParts:
    wishlists: WishlistApplication
    wishlist_queries: WishlistQueries


def wire_wishlists(wiring: Wiring) -> WishlistParts:
    wiring.project(WishlistsProjector())
    return WishlistParts(
        wishlists=WishlistApplication(wiring.log, on_recorded=wiring.recorded),
        wishlist_queries=WishlistQueries(wiring.read_store),
    )
