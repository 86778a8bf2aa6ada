"""Reads tenants and users within a tenant scope, in the shapes API.md answers them."""

from __future__ import annotations

from typing import Any

from domain.money import money_json
from projections.identity.tables import tenants, users
from projections.scope import TenantScope
from projections.store import Page, ReadStore, zoned

TENANT_FIELDS = (
    "tenant_id",
    "name",
    "currency",
    "commission_bps",
    "escrow_hold_days",
    "product_moderation",
    "hold_timeout_s",
    "dispute_fee_payer",
    "return_window_days",
    "seller_signup",
    "commission_on_shipping",
    "created_at",
)
USER_FIELDS = ("user_id", "tenant_id", "email", "roles", "created_at")


def _only(row: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    picked = {f: row[f] for f in fields}
    if "min_payout_amount" in row and "currency" in row:
        picked["min_payout"] = money_json(row["min_payout_amount"], row["currency"])
    if "payout_interval" in row:
        picked["payout_schedule"] = (
            {
                "interval": row["payout_interval"],
                "day": row["payout_day"],
                "last_period": row["payouts_ran_period"],
            }
            if row["payout_interval"]
            else None
        )
    if picked.get("created_at") is not None:
        # Stored as naive UTC (MySQL DATETIME has no zone); answered with the zone stated.
        picked["created_at"] = zoned(picked["created_at"])
    return picked


class IdentityQueries:
    """Reads tenants and users. Every method takes the caller's TenantScope."""

    def __init__(self, store: ReadStore) -> None:
        self.store = store

    def tenant(self, scope: TenantScope, tenant_id: str) -> dict[str, Any] | None:
        row = self.store.one(scope, tenants, tenants.c.tenant_id == tenant_id)
        return _only(row, TENANT_FIELDS) if row else None

    def tax(self, scope: TenantScope, tenant_id: str) -> dict[str, Any] | None:
        """The tenant's tax table as API.md answers it; None for a tenant not in scope."""
        row = self.store.one(scope, tenants, tenants.c.tenant_id == tenant_id)
        if row is None:
            return None
        return row["tax"] or {"prices_include_tax": False, "rates": []}

    def tenants(self, scope: TenantScope, *, limit: int, cursor: str | None) -> Page:
        page = self.store.page(scope, tenants, limit=limit, cursor=cursor)
        return Page([_only(r, TENANT_FIELDS) for r in page.items], page.next_cursor)

    def payout_schedules(self, scope: TenantScope) -> list[dict[str, Any]]:
        """The tenants that have a payout schedule: their id, interval, day and the last period
        paid on schedule (None before the first)."""
        t = tenants
        query = (
            scope.select(t, t.c.payout_interval.is_not(None))
            .with_only_columns(
                t.c.tenant_id, t.c.payout_interval, t.c.payout_day, t.c.payouts_ran_period
            )
            .order_by(t.c.tenant_id)
        )
        with self.store.read() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def user(self, scope: TenantScope, user_id: str) -> dict[str, Any] | None:
        row = self.store.one(scope, users, users.c.user_id == user_id)
        return _only(row, USER_FIELDS) if row else None

    def users(self, scope: TenantScope, *, limit: int, cursor: str | None) -> Page:
        page = self.store.page(scope, users, limit=limit, cursor=cursor)
        return Page([_only(r, USER_FIELDS) for r in page.items], page.next_cursor)
