"""Reads promotions within a tenant scope: as API.md answers them, and as a cart's view applies
them (projections/orders/queries.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from domain.discounts import Candidate
from domain.money import money_json
from domain.promotions import PromotionKind, Terms
from projections.promotions.tables import promotions
from projections.scope import TenantScope
from projections.store import Page, ReadStore, naive_utc, zoned


def _status(row: dict[str, Any], terms: Terms, now: datetime) -> str:
    ended = row["ended_at"] is not None and naive_utc(now) >= row["ended_at"]
    if ended or (terms.ends_at and now >= terms.ends_at):
        return "ended"
    if terms.starts_at and now < terms.starts_at:
        return "scheduled"
    if terms.usage_limit is not None and row["uses"] >= terms.usage_limit:
        return "used_up"
    return "active"


def promotion_view(row: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    terms = Terms.from_record(row["terms"])
    currency = terms.currency
    value: Any = None
    if terms.kind == PromotionKind.PERCENT:
        value = terms.percent
    elif terms.kind == PromotionKind.AMOUNT:
        value = money_json(terms.amount_minor or 0, currency)
    return {
        "id": row["promotion_id"],
        "tenant_id": row["tenant_id"],
        "code": terms.code or None,
        "kind": terms.kind,
        "value": value,
        "funded_by": terms.funded_by,
        "seller_id": str(terms.seller_id) if terms.seller_id else None,
        "product_ids": sorted(str(p) for p in terms.product_ids),
        "category": terms.category or None,
        "min_subtotal": (
            None
            if terms.min_subtotal_minor is None
            else money_json(terms.min_subtotal_minor, currency)
        ),
        "starts_at": terms.starts_at,
        "ends_at": terms.ends_at,
        "usage_limit": terms.usage_limit,
        "per_buyer_limit": terms.per_buyer_limit,
        "uses": row["uses"],
        "status": _status(row, terms, now or datetime.now(UTC)),
        "created_at": zoned(row["created_at"]),
    }


class PromotionQueries:
    """Reads promotions, within the caller's TenantScope."""

    def __init__(self, store: ReadStore) -> None:
        self.store = store

    def page(
        self, scope: TenantScope, *, seller_id: str | None, limit: int, cursor: str | None
    ) -> Page:
        """Promotions oldest first: a seller's own (`seller_id`), or all of the scope's."""
        where = [] if seller_id is None else [promotions.c.seller_id == seller_id]
        page = self.store.page(scope, promotions, *where, limit=limit, cursor=cursor)
        now = datetime.now(UTC)
        return Page([promotion_view(r, now) for r in page.items], page.next_cursor)

    def past_end(self, now: datetime, limit: int) -> list[str]:
        """Promotions, of every tenant, not ended yet whose `ends_at` has passed (the scheduler
        ends them, which frees their codes and takes them off the automatic list)."""
        stmt = TenantScope.every_tenant().select(promotions, promotions.c.ended_at.is_(None))
        with self.store.read() as conn:
            rows = conn.execute(stmt.order_by(promotions.c.created_position))
            due = [
                row.promotion_id
                for row in rows
                if (ends := Terms.from_record(row.terms).ends_at) is not None and ends <= now
            ]
        return due[:limit]

    def candidates(self, scope: TenantScope, codes: list[str]) -> list[Candidate]:
        """What a cart with these codes may get, in the order checkout applies them: the
        automatic promotions that run, then the codes' running promotions (each with why it
        cannot be used now, if it cannot). Per-buyer limits are checked at checkout."""
        now = datetime.now(UTC)
        stmt = scope.select(promotions, promotions.c.ended_at.is_(None)).order_by(
            promotions.c.created_position
        )
        with self.store.read() as conn:
            rows = [dict(r._mapping) for r in conn.execute(stmt)]
        by_code = {r["code"]: r for r in rows if r["code"]}
        chosen = [(r, False) for r in rows if not r["code"]]
        chosen += [(by_code[c], True) for c in codes if c in by_code]
        found = []
        for row, coded in chosen:
            terms = Terms.from_record(row["terms"])
            status = _status(row, terms, now)
            why = None if status == "active" else f"promotion {terms.code or ''} is {status}"
            found.append(Candidate(UUID(row["promotion_id"]), terms, coded, why))
        return found
