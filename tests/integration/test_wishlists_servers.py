"""The wishlist scenarios on real servers: PostgreSQL event store, MariaDB read models."""

from __future__ import annotations

from tests.e2e.backends import OnServers
from tests.e2e.wishlist_scenarios import WishlistScenarios


class TestWishlistsOnServers(OnServers, WishlistScenarios):
    pass
