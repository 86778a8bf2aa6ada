from __future__ import annotations

from tests.e2e.backends import Embedded
from tests.e2e.wishlist_scenarios import WishlistScenarios


class TestWishlistsEmbedded(Embedded, WishlistScenarios):
    pass
