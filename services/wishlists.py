"""The wishlists application: the products each buyer keeps an eye on."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from domain.listing import ProductNotFound
from domain.wishlists import Wishlist
from eventstore.application import CommandResult, command
from eventstore.context import CommandContext
from services.base import ServiceApplication


class WishlistApplication(ServiceApplication):
    name = "wishlists"

    @command
    def wish(
        self, ctx: CommandContext, tenant_id: UUID, buyer_id: UUID, product_id: UUID
    ) -> CommandResult:
        """Puts a product the buyer can see on their wishlist (again: no change)."""
        if self.buyable(product_id, tenant_id) is None:
            raise ProductNotFound(f"product {product_id} not found")
        return self._changing(ctx, tenant_id, buyer_id, lambda w: w.add(product_id))

    @command
    def unwish(
        self, ctx: CommandContext, tenant_id: UUID, buyer_id: UUID, product_id: UUID
    ) -> CommandResult:
        return self._changing(ctx, tenant_id, buyer_id, lambda w: w.remove(product_id))

    def _changing(
        self,
        ctx: CommandContext,
        tenant_id: UUID,
        buyer_id: UUID,
        change: Callable[[Wishlist], None],
    ) -> CommandResult:
        def attempt() -> CommandResult:
            wishlist = self.get_or_none(Wishlist.create_id(buyer_id))
            if wishlist is None:
                wishlist = Wishlist.start(tenant_id, buyer_id)
            assert isinstance(wishlist, Wishlist)
            change(wishlist)
            return CommandResult(wishlist.id, self.record(ctx, wishlist))

        return self.retrying(attempt, "too many concurrent changes to this wishlist; try again")
