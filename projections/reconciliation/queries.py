"""Reconciliation's queries: the links between Velora's ids and the provider's, processor
clearing's posted movements from the ledger's model, and the recorded reconciliations, each
within a tenant scope."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from domain.ledger import Chart
from domain.reconciliation import LedgerMovement
from projections.ledger.tables import ledger_entries, ledger_transfers
from projections.reconciliation.tables import reconciliation_links, reconciliations
from projections.scope import TenantScope
from projections.store import ReadStore, naive_utc, zoned

# SQL IN lists stay this long at most.
CHUNK = 500
FEE_KEYS = "processor-fee:%"


def _chunks(values: Iterable[str]) -> Iterable[list[str]]:
    ordered = sorted(set(values))
    for i in range(0, len(ordered), CHUNK):
        yield ordered[i : i + CHUNK]


class ReconciliationQueries:
    def __init__(self, store: ReadStore) -> None:
        self.store = store

    def links(self, scope: TenantScope, subjects: Iterable[str]) -> dict[str, list[str]]:
        """The references each subject leads to, one step."""
        t = reconciliation_links
        found: dict[str, list[str]] = defaultdict(list)
        with self.store.read() as conn:
            for chunk in _chunks(subjects):
                for row in conn.execute(scope.select(t, t.c.subject.in_(chunk))):
                    found[row.subject].append(row.ref)
        return dict(found)

    def owners(self, subjects: Iterable[str]) -> dict[str, str]:
        """The tenant of each subject that is known: which marketplace a provider's intent or
        transfer belongs to. Across every tenant, as the provider's statement is."""
        t = reconciliation_links
        owners: dict[str, str] = {}
        with self.store.read() as conn:
            for chunk in _chunks(subjects):
                rows = conn.execute(TenantScope.every_tenant().select(t, t.c.subject.in_(chunk)))
                owners.update({row.subject: row.tenant_id for row in rows})
        return owners

    def movements(
        self, scope: TenantScope, currency: str, start: datetime, end: datetime
    ) -> list[LedgerMovement]:
        """Processor clearing's posted movements in [start, end), fees apart: a fee belongs to
        the day of the transaction it was kept of, whenever it was booked (`fee_movements`)."""
        e, t = ledger_entries, ledger_transfers
        stmt = (
            scope.select(
                e,
                e.c.code == Chart.PROCESSOR_CLEARING,
                e.c.currency == currency,
                e.c.created_at >= naive_utc(start),
                e.c.created_at < naive_utc(end),
            )
            .add_columns(t.c.transfer_key, t.c.kind)
            .join(t, t.c.transfer_id == e.c.transfer_id)
            .where(t.c.transfer_key.not_like(FEE_KEYS))
            .order_by(e.c.created_position)
        )
        with self.store.read() as conn:
            return [_movement(row) for row in conn.execute(stmt)]

    def fee_movements(
        self, scope: TenantScope, currency: str, keys: Iterable[str]
    ) -> list[LedgerMovement]:
        """Processor clearing's movements of the fee transfers under `keys`, whenever posted."""
        e, t = ledger_entries, ledger_transfers
        found = []
        with self.store.read() as conn:
            for chunk in _chunks(keys):
                stmt = (
                    scope.select(e, e.c.code == Chart.PROCESSOR_CLEARING, e.c.currency == currency)
                    .add_columns(t.c.transfer_key, t.c.kind)
                    .join(t, t.c.transfer_id == e.c.transfer_id)
                    .where(t.c.transfer_key.in_(chunk))
                )
                found += [_movement(row) for row in conn.execute(stmt)]
        return found

    def dispute_movements(
        self, scope: TenantScope, currency: str, dispute_ids: Iterable[str]
    ) -> list[LedgerMovement]:
        """Processor clearing's movements of these disputes (Velora's ids: their transfers' keys
        start `dispute:<id>:`), whenever posted."""
        e, t = ledger_entries, ledger_transfers
        found = []
        with self.store.read() as conn:
            for chunk in _chunks(dispute_ids):
                keyed = sa.or_(*(t.c.transfer_key.like(f"dispute:{d}:%") for d in chunk))
                stmt = (
                    scope.select(e, e.c.code == Chart.PROCESSOR_CLEARING, e.c.currency == currency)
                    .add_columns(t.c.transfer_key, t.c.kind)
                    .join(t, t.c.transfer_id == e.c.transfer_id)
                    .where(keyed)
                    .order_by(e.c.created_position)
                )
                found += [_movement(row) for row in conn.execute(stmt)]
        return found

    def active(self, start: datetime, end: datetime) -> set[tuple[str, str]]:
        """(tenant, currency) of every tenant whose processor clearing moved in [start, end)."""
        e = ledger_entries
        stmt = (
            sa.select(e.c.tenant_id, e.c.currency)
            .where(
                e.c.code == Chart.PROCESSOR_CLEARING,
                e.c.created_at >= naive_utc(start),
                e.c.created_at < naive_utc(end),
            )
            .distinct()
        )
        with self.store.read() as conn:
            return {(row.tenant_id, row.currency) for row in conn.execute(stmt)}

    def recorded(self, scope: TenantScope, day: date) -> list[dict[str, Any]]:
        """The reconciliations of `day` in scope, one per tenant and currency, as the API
        answers them."""
        t = reconciliations
        stmt = scope.select(t, t.c.day == day).order_by(t.c.tenant_id, t.c.currency)
        with self.store.read() as conn:
            return [_shown(row) for row in conn.execute(stmt)]

    def is_recorded(self, tenant_id: str, currency: str, day: date) -> bool:
        t = reconciliations
        stmt = TenantScope.only(tenant_id).select(t, t.c.day == day, t.c.currency == currency)
        with self.store.read() as conn:
            return conn.execute(stmt).first() is not None


def _movement(row: Any) -> LedgerMovement:
    signed = row.amount if row.side == "debit" else -row.amount
    return LedgerMovement(
        row.transfer_id, row.transfer_key, row.kind, signed, zoned(row.created_at)
    )


def _shown(row: Any) -> dict[str, Any]:
    result = row.result
    return {
        "tenant_id": row.tenant_id,
        "date": row.day,
        "currency": row.currency,
        "matched": row.matched_count,
        "matches": result["matched"],
        "unmatched_ledger": result["unmatched_ledger"],
        "unmatched_provider": result["unmatched_provider"],
        "processor_fees": {"amount": row.processor_fees_amount, "currency": row.currency},
        "fees_booked": result["fees_booked"],
        "run": result.get("run", 1),  # rows of before reruns hold none: their first run
        "completed_at": zoned(row.completed_at),
    }
