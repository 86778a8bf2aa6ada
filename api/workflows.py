"""Workflows that span the read side and the write side: the read models say which tenants and
sellers there are; the applications decide, from their own aggregates, what to do for each."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

from api.bootstrap import Container
from eventstore.context import CommandContext
from eventstore.payouts import PayoutMade
from projections.scope import TenantScope


def _every(page_of: Any) -> Iterator[dict[str, Any]]:
    cursor = None
    while True:
        page = page_of(cursor)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def run_payouts(
    container: Container, ctx: CommandContext, scope: TenantScope, run_key: str
) -> tuple[list[PayoutMade], int]:
    """Pays every approved seller of every tenant in scope what is available to it."""
    made: list[PayoutMade] = []
    position = container.log.head()
    for tenant in _every(lambda c: container.identity_queries.tenants(scope, limit=500, cursor=c)):
        sellers = [
            UUID(s["seller_id"])
            for s in _every(
                lambda c, t=tenant: container.catalog_queries.sellers(
                    TenantScope.only(t["tenant_id"]),
                    status="approved",
                    only=None,
                    limit=500,
                    cursor=c,
                )
            )
        ]
        if not sellers:
            continue
        paid, at = container.payouts.run(
            ctx, tenant_id=UUID(tenant["tenant_id"]), seller_ids=sellers, run_key=run_key
        )
        made += paid
        position = max(position, at)
    return made, position
