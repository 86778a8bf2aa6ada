"""A person's own data, as the read models hold it: what `GET /v1/me/export` answers."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.money import money_json
from projections.catalog.tables import reviews, sellers
from projections.identity.tables import users
from projections.orders.tables import carts, orders, refunds
from projections.profiles.queries import address_json, profile_json
from projections.profiles.tables import addresses, profiles
from projections.scope import TenantScope
from projections.store import ReadStore, zoned
from projections.wishlists.tables import wishlist_items


def _row(row: sa.Row[Any], *fields: str) -> dict[str, Any]:
    out = {f: row._mapping[f] for f in fields}
    for f in ("created_at", "erased_at"):
        if out.get(f) is not None:
            out[f] = zoned(out[f])
    return out


def _first(conn: Connection, stmt: sa.Select[Any]) -> dict[str, Any] | None:
    row = conn.execute(stmt).first()
    return dict(row._mapping) if row is not None else None


class PersonalData:
    """Everything the read models hold about one person, within the caller's tenant."""

    def __init__(self, store: ReadStore) -> None:
        self.store = store

    def export(self, scope: TenantScope, user_id: str) -> dict[str, Any] | None:
        with self.store.read() as conn:
            user = conn.execute(scope.select(users, users.c.user_id == user_id)).first()
            if user is None:
                return None
            return {
                "user": _row(
                    user, "user_id", "tenant_id", "email", "roles", "created_at", "erased_at"
                ),
                "profile": profile_json(
                    _first(conn, scope.select(profiles, profiles.c.user_id == user_id))
                ),
                "addresses": [
                    address_json(dict(r._mapping))
                    for r in conn.execute(
                        scope.select(addresses, addresses.c.user_id == user_id).order_by(
                            addresses.c.created_position
                        )
                    )
                ],
                "wishlist": [
                    {"product_id": r.product_id, "added_at": zoned(r.added_at)}
                    for r in conn.execute(
                        scope.select(wishlist_items, wishlist_items.c.buyer_id == user_id).order_by(
                            wishlist_items.c.created_position
                        )
                    )
                ],
                "seller_profiles": [
                    _row(
                        r,
                        "seller_id",
                        "display_name",
                        "country",
                        "status",
                        "payout_account",
                        "created_at",
                    )
                    for r in conn.execute(
                        scope.select(sellers, sellers.c.user_id == user_id).order_by(
                            sellers.c.created_position
                        )
                    )
                ],
                "orders": [
                    _row(r, "order_id", "status", "shipping_address", "created_at")
                    | {"total": money_json(r.total_amount, r.currency)}
                    for r in conn.execute(
                        scope.select(orders, orders.c.buyer_id == user_id).order_by(
                            orders.c.created_position
                        )
                    )
                ],
                "carts": [
                    _row(r, "cart_id", "status", "order_id", "lines", "created_at")
                    for r in conn.execute(
                        scope.select(carts, carts.c.buyer_id == user_id).order_by(
                            carts.c.created_position
                        )
                    )
                ],
                "reviews": [
                    _row(r, "review_id", "product_id", "order_id", "rating", "body", "created_at")
                    for r in conn.execute(
                        scope.select(reviews, reviews.c.buyer_id == user_id).order_by(
                            reviews.c.created_position
                        )
                    )
                ],
                "refunds": [
                    _row(r, "refund_id", "seller_order_id", "reason", "status", "created_at")
                    | {"amount": money_json(r.amount, r.currency)}
                    for r in conn.execute(
                        scope.select(refunds, refunds.c.buyer_id == user_id).order_by(
                            refunds.c.created_position
                        )
                    )
                ],
            }
