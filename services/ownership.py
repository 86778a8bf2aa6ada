"""Whose an order is, for the commands a buyer may take on it (cancel, refund, return,
review): its buyer's, and, once a guest's email is verified by an account, that account's too
(domain/orders.py `Order.bought_by`). Read from the log, as every command's checks are."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.identity import User
from domain.orders import Order


def verified_email(app: Any, buyer_id: UUID) -> str | None:
    """The email the buyer's account has verified, or None."""
    user = app.read_or_none(buyer_id)
    if isinstance(user, User) and user.email_verified and not user.erased:
        return str(user.email)
    return None


def buys(app: Any, order: Order, buyer_id: UUID) -> bool:
    """Whether the buyer may act on the order as its buyer."""
    if order.buyer_id == buyer_id:
        return True
    return order.bought_by(buyer_id, verified_email(app, buyer_id))


def buys_part(app: Any, order_id: UUID, part_buyer_id: UUID, buyer_id: UUID) -> bool:
    """The same for a part of an order (a seller order, a return) that names its order and
    the buyer it was placed by."""
    if part_buyer_id == buyer_id:
        return True
    order = app.read_or_none(order_id)
    return isinstance(order, Order) and buys(app, order, buyer_id)
