"""The ledger projector: account balances as their events post and void (a hot account in shards,
which the queries sum), transfers, each account's statement of posted movements, and payouts."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.ledger import Account, Transfer
from domain.payouts import Payout
from eventstore.mapper import RecordedEvent
from projections.projector import Projector
from projections.store import naive_utc


class LedgerProjector(Projector):
    name = "ledger"
    writes = ("ledger_accounts", "ledger_transfers", "ledger_entries", "payouts")

    @singledispatchmethod
    def apply(self, event: Any, conn: Connection, recorded: RecordedEvent) -> None:
        """Other events do not touch the ledger tables."""

    @apply.register
    def _opened(self, e: Account.Opened, conn: Connection, r: RecordedEvent) -> None:
        conn.execute(
            self.tables.ledger_accounts.insert().values(
                account_id=str(e.originator_id),
                tenant_id=str(e.tenant_id),
                currency=e.currency,
                code=e.code,
                shard=e.shard,
                type=e.type,
                limit_kind=e.limit,
                debits_pending=0,
                debits_posted=0,
                credits_pending=0,
                credits_posted=0,
                created_position=r.position,
            )
        )

    @apply.register
    def _entered(self, e: Account.Entered, conn: Connection, r: RecordedEvent) -> None:
        column = f"{e.side}s_{'pending' if e.pending else 'posted'}"
        self._add(conn, e, {column: e.amount})
        if not e.pending:
            self._entry(conn, e, r, e.amount)

    @apply.register
    def _resolved(self, e: Account.PendingResolved, conn: Connection, r: RecordedEvent) -> None:
        self._add(
            conn, e, {f"{e.side}s_pending": -e.pending_amount, f"{e.side}s_posted": e.posted_amount}
        )
        if e.posted_amount:
            self._entry(conn, e, r, e.posted_amount)

    @apply.register
    def _made(self, e: Transfer.Made, conn: Connection, r: RecordedEvent) -> None:
        conn.execute(
            self.tables.ledger_transfers.insert().values(
                transfer_id=str(e.originator_id),
                tenant_id=str(e.tenant_id),
                transfer_key=e.key,
                kind=e.kind,
                currency=e.currency,
                amount=e.amount,
                posted_amount=0 if e.pending else e.amount,
                state="pending" if e.pending else "posted",
                debit_account_id=str(e.debit_account_id),
                credit_account_id=str(e.credit_account_id),
                reverses=str(e.reverses) if e.reverses else None,
                created_at=naive_utc(e.timestamp),
                created_position=r.position,
            )
        )

    @apply.register
    def _posted(self, e: Transfer.Posted, conn: Connection, r: RecordedEvent) -> None:
        conn.execute(
            self.tables.ledger_transfers.update()
            .where(self.tables.ledger_transfers.c.transfer_id == str(e.originator_id))
            .values(state="posted", posted_amount=e.amount)
        )

    @apply.register
    def _voided(self, e: Transfer.Voided, conn: Connection, r: RecordedEvent) -> None:
        conn.execute(
            self.tables.ledger_transfers.update()
            .where(self.tables.ledger_transfers.c.transfer_id == str(e.originator_id))
            .values(state="voided")
        )

    @apply.register
    def _payout(self, e: Payout.Started, conn: Connection, r: RecordedEvent) -> None:
        conn.execute(
            self.tables.payouts.insert().values(
                payout_id=str(e.originator_id),
                tenant_id=str(e.tenant_id),
                seller_id=str(e.seller_id),
                amount=e.amount_minor,
                receivable_netted=e.receivable_netted_minor,
                currency=e.currency,
                status="pending",
                created_at=naive_utc(e.timestamp),
                updated_at=naive_utc(e.timestamp),
                created_position=r.position,
            )
        )

    @apply.register
    def _payout_paid(self, e: Payout.Paid, conn: Connection, r: RecordedEvent) -> None:
        self._payout_status(conn, e, "paid")

    @apply.register
    def _payout_failed(self, e: Payout.Failed, conn: Connection, r: RecordedEvent) -> None:
        self._payout_status(conn, e, "failed", failure_reason=e.reason[:500])

    def _payout_status(self, conn: Connection, e: Any, status: str, **values: Any) -> None:
        conn.execute(
            self.tables.payouts.update()
            .where(self.tables.payouts.c.payout_id == str(e.originator_id))
            .values(status=status, updated_at=naive_utc(e.timestamp), **values)
        )

    def _add(self, conn: Connection, e: Any, deltas: dict[str, int]) -> None:
        t = self.tables.ledger_accounts
        conn.execute(
            t.update()
            .where(t.c.account_id == str(e.originator_id))
            .values(**{column: t.c[column] + delta for column, delta in deltas.items()})
        )

    def _entry(self, conn: Connection, e: Any, r: RecordedEvent, amount: int) -> None:
        account = conn.execute(
            sa.select(
                self.tables.ledger_accounts.c.code, self.tables.ledger_accounts.c.currency
            ).where(self.tables.ledger_accounts.c.account_id == str(e.originator_id))
        ).one()
        conn.execute(
            self.tables.ledger_entries.insert().values(
                account_id=str(e.originator_id),
                created_position=r.position,
                tenant_id=str(e.tenant_id),
                currency=account.currency,
                code=account.code,
                transfer_id=str(e.transfer_id),
                side=e.side,
                amount=amount,
                created_at=naive_utc(e.timestamp),
            )
        )
