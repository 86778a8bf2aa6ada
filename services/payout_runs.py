"""Payout runs span the read side and the write side: the read models say which tenants and
sellers there are and which seller orders have released money; the payouts application decides,
from its own aggregates, what to pay each seller."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.errors import DomainError
from domain.tenant_settings import PayoutSchedule
from eventstore.context import CommandContext
from eventstore.log import EventLog
from projections.catalog.queries import CatalogQueries
from projections.identity.queries import IdentityQueries
from projections.ledger.queries import LedgerQueries
from projections.orders.queries import OrderQueries
from projections.scope import TenantScope
from projections.store import Page, ReadStore
from services.identity import IdentityApplication
from services.payouts import PayoutApplication, PayoutRun

PAYOUT_READ_MODELS = ("identity", "sellers", "orders", "ledger")
log = logging.getLogger("velora.payouts")


@dataclass
class PayoutRuns:
    log: EventLog
    read_store: ReadStore
    payouts: PayoutApplication
    identity_queries: IdentityQueries
    catalog_queries: CatalogQueries
    order_queries: OrderQueries
    ledger_queries: LedgerQueries
    identity: IdentityApplication

    def run(self, ctx: CommandContext, scope: TenantScope, run_key: str) -> PayoutRun:
        """Pays every approved seller of every tenant in scope what is available to it. Payouts
        an earlier run left pending (the provider did not answer) are asked about again first.

        The read models say where to look (sellers, seller orders with released money, pending
        payouts), so the run first lets them catch up with everything recorded before it. If
        they lag further, the write side still pays only what it can prove, and the next run
        the rest."""
        total = PayoutRun([], [], self.log.head())
        self.read_store.wait_for(total.position, PAYOUT_READ_MODELS, timeout_s=5.0)
        tenants = _every(lambda c: self.identity_queries.tenants(scope, limit=500, cursor=c))
        for tenant in tenants:
            tenant_id = tenant["tenant_id"]
            only = TenantScope.only(tenant_id)
            for payout_id in self.ledger_queries.pending_payouts(only):
                total.made.append(self.payouts.complete(ctx, UUID(payout_id), total))
            sellers = _every(functools.partial(self._approved_sellers, only))
            candidates = {
                UUID(s["seller_id"]): [
                    UUID(i) for i in self.order_queries.payout_candidates(tenant_id, s["seller_id"])
                ]
                for s in sellers
            }
            if not candidates:
                continue
            run = self.payouts.run(
                ctx, tenant_id=UUID(tenant_id), candidates=candidates, run_key=run_key
            )
            total.made += run.made
            total.skipped += run.skipped
            total.position = max(total.position, run.position)
        return total

    def run_scheduled(self, now: datetime) -> list[str]:
        """Runs the payouts of every tenant whose schedule has a period due at `now` that is
        not paid yet; returns those tenants. The period names the run (`schedule:2026-W49`), so
        a run repeated by a second scheduler, or after a restart mid-run, finds the payouts it
        started and pays nobody twice; the period is noted as paid once the run is through and
        the provider has answered for every payout of it."""
        ran = []
        for tenant in self.identity_queries.payout_schedules(TenantScope.every_tenant()):
            schedule = PayoutSchedule(tenant["payout_interval"], tenant["payout_day"])
            period = schedule.period_due(now)
            if period is None or period == tenant["payouts_ran_period"]:
                continue
            ctx = CommandContext.system("scheduler:payouts")
            try:
                run = self.run(ctx, TenantScope.only(tenant["tenant_id"]), f"schedule:{period}")
            except DomainError as e:
                # One marketplace's trouble (contention, say) waits for the next pass; the
                # others are paid meanwhile.
                log.warning("scheduled payouts of %s failed: %s", tenant["tenant_id"], e.detail)
                continue
            ran.append(tenant["tenant_id"])
            if any(p.status == "pending" for p in run.made):
                continue  # the provider did not answer: the next pass asks again, same keys
            self.identity.note_scheduled_payouts(ctx, UUID(tenant["tenant_id"]), period)
        return ran

    def _approved_sellers(self, scope: TenantScope, cursor: str | None) -> Page:
        return self.catalog_queries.sellers(
            scope, status="approved", only=None, limit=500, cursor=cursor
        )


def _every(page_of: Callable[[str | None], Any]) -> Iterator[dict[str, Any]]:
    cursor = None
    while True:
        page = page_of(cursor)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor
