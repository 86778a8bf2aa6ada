"""Workflows that span the read side and the write side: the read models say which tenants and
sellers there are; the applications decide, from their own aggregates, what to do for each."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

from api.bootstrap import Container
from eventstore.context import CommandContext
from eventstore.payouts import PayoutRun
from projections.scope import TenantScope


def _every(page_of: Any) -> Iterator[dict[str, Any]]:
    cursor = None
    while True:
        page = page_of(cursor)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


PAYOUT_READ_MODELS = ("identity", "sellers", "orders", "ledger")


def run_payouts(
    container: Container, ctx: CommandContext, scope: TenantScope, run_key: str
) -> PayoutRun:
    """Pays every approved seller of every tenant in scope what is available to it. Payouts an
    earlier run left pending (the provider did not answer) are asked about again first.

    The read models say where to look (sellers, seller orders with released money, pending
    payouts), so the run first lets them catch up with everything recorded before it. If they
    lag further, the write side still pays only what it can prove, and the next run the rest."""
    total = PayoutRun([], [], container.log.head())
    container.wait_for_projections(total.position, PAYOUT_READ_MODELS, timeout_s=5.0)
    for tenant in _every(lambda c: container.identity_queries.tenants(scope, limit=500, cursor=c)):
        tenant_id = tenant["tenant_id"]
        only = TenantScope.only(tenant_id)
        for payout_id in container.ledger_queries.pending_payouts(only):
            total.made.append(container.payouts.complete(ctx, UUID(payout_id), total))
        sellers = _every(
            lambda c, scope=only: container.catalog_queries.sellers(
                scope, status="approved", only=None, limit=500, cursor=c
            )
        )
        candidates = {
            UUID(s["seller_id"]): _uuids(
                container.order_queries.payout_candidates(tenant_id, s["seller_id"])
            )
            for s in sellers
        }
        if not candidates:
            continue
        run = container.payouts.run(
            ctx, tenant_id=UUID(tenant_id), candidates=candidates, run_key=run_key
        )
        total.made += run.made
        total.skipped += run.skipped
        total.position = max(total.position, run.position)
    return total


def _uuids(ids: list[str]) -> list[UUID]:
    return [UUID(i) for i in ids]
