"""Carts: one buyer's lines, across any number of sellers. Prices are taken at checkout."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.base import TenantAggregate
from domain.errors import Conflict, DomainError, Invalid, NotFound

MAX_QUANTITY = 999
MAX_LINES = 100
MAX_CODES = 10


class CartError(DomainError):
    """Base of the carts context's errors."""


class CartNotFound(CartError, NotFound):
    title = "Cart not found"


class CartClosed(CartError, Conflict):
    title = "Cart already checked out"


class EmptyCart(CartError, Invalid):
    title = "Empty cart"


class InvalidQuantity(CartError, Invalid):
    title = "Invalid quantity"


class GuestEmailRequired(CartError, Invalid):
    title = "Email required"


class Cart(TenantAggregate):
    class Opened(TenantAggregate.Created):
        # A guest's cart (a storefront's visitor without an account) has a buyer id of its
        # own, which no account has; its cart token opens it (api/security.py).
        buyer_id: UUID
        guest: bool
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["guest"] = False

    class QuantitySet(TenantAggregate.Event):
        """A line is a variant of a product (domain/variants.py)."""

        product_id: UUID
        variant_id: UUID
        quantity: int
        # Recorded before variants existed, a line was a product: its own one variant.
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["variant_id"] = state["product_id"]

    class CheckedOut(TenantAggregate.Event):
        order_id: UUID

    class CodeApplied(TenantAggregate.Event):
        """A promotion's code (domain/promotions.py), kept as it is compared."""

        code: str

    class CodeRemoved(TenantAggregate.Event):
        code: str

    # The promotion codes applied, in order (none on carts from before promotions).
    codes: tuple[str, ...] = ()

    @event(Opened)
    def __init__(self, tenant_id: UUID, buyer_id: UUID, guest: bool = False) -> None:
        self.tenant_id = tenant_id
        self.buyer_id = buyer_id
        self.guest = guest
        # Quantity by variant, and the product each variant belongs to.
        self.lines: dict[UUID, int] = {}
        self.products: dict[UUID, UUID] = {}
        self.order_id: UUID | None = None

    def set_quantity(self, product_id: UUID, quantity: int, variant_id: UUID | None = None) -> None:
        """Sets a line's quantity; 0 removes the line. A line is a variant of the product (none
        named: the product itself, its own one variant)."""
        variant_id = variant_id or product_id
        self._require_open()
        if not 0 <= quantity <= MAX_QUANTITY:
            raise InvalidQuantity(f"quantity must be between 0 and {MAX_QUANTITY}")
        if quantity and variant_id not in self.lines and len(self.lines) >= MAX_LINES:
            raise InvalidQuantity(f"a cart holds at most {MAX_LINES} lines")
        self._quantity_set(product_id=product_id, variant_id=variant_id, quantity=quantity)

    def check_out(self, order_id: UUID) -> None:
        self._require_open()
        if not self.lines:
            raise EmptyCart("the cart has no lines")
        self._checked_out(order_id=order_id)

    def apply_code(self, code: str) -> None:
        """Applies a promotion's code (the caller checked it is one that fits); applying it
        again changes nothing."""
        self._require_open()
        if code not in self.codes:
            if len(self.codes) >= MAX_CODES:
                raise InvalidQuantity(f"a cart takes at most {MAX_CODES} codes")
            self._code_applied(code=code)

    def remove_code(self, code: str) -> bool:
        """Removes a code; False if the cart did not have it."""
        self._require_open()
        if code not in self.codes:
            return False
        self._code_removed(code=code)
        return True

    @event(CodeApplied)
    def _code_applied(self, code: str) -> None:
        self.codes = (*self.codes, code)

    @event(CodeRemoved)
    def _code_removed(self, code: str) -> None:
        self.codes = tuple(c for c in self.codes if c != code)

    def _require_open(self) -> None:
        if self.order_id is not None:
            raise CartClosed(f"cart {self.id} was checked out as order {self.order_id}")

    @event(QuantitySet)
    def _quantity_set(self, product_id: UUID, variant_id: UUID, quantity: int) -> None:
        if quantity:
            self.lines[variant_id] = quantity
            self.products[variant_id] = product_id
        else:
            self.lines.pop(variant_id, None)
            self.products.pop(variant_id, None)

    @event(CheckedOut)
    def _checked_out(self, order_id: UUID) -> None:
        self.order_id = order_id
