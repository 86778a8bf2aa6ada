"""The ledger's queries, within a tenant scope: account balances (a hot account's shards
summed), an account's statement, the trial balance, a seller's balance and payouts, and the
journal of posted movements with the orders they concern."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain import journal
from domain.ledger import AccountType, Chart
from domain.money import money_json
from projections.ledger.tables import ledger_accounts, ledger_entries, ledger_transfers, payouts
from projections.orders.tables import orders, refunds, seller_orders
from projections.scope import TenantScope
from projections.store import Page, ReadStore, zoned

JOURNAL_CHUNK = 1000


class LedgerQueries:
    def __init__(self, store: ReadStore) -> None:
        self.store = store

    def accounts(self, scope: TenantScope, *, currency: str | None) -> list[dict[str, Any]]:
        """Every account of the scope, its shards summed, with its balance on its normal side."""
        t = ledger_accounts
        stmt = scope.select(t) if currency is None else scope.select(t, t.c.currency == currency)
        totals: dict[tuple[str, str, str], dict[str, Any]] = {}
        with self.store.read() as conn:
            for row in conn.execute(stmt):
                key = (row.tenant_id, row.currency, row.code)
                acc = totals.setdefault(
                    key,
                    {
                        "tenant_id": row.tenant_id,
                        "code": row.code,
                        "currency": row.currency,
                        "type": row.type,
                        "dp": 0,
                        "dpo": 0,
                        "cp": 0,
                        "cpo": 0,
                    },
                )
                acc["dp"] += row.debits_pending
                acc["dpo"] += row.debits_posted
                acc["cp"] += row.credits_pending
                acc["cpo"] += row.credits_posted
        out = []
        for acc in sorted(
            totals.values(), key=lambda a: (a["tenant_id"], a["currency"], a["code"])
        ):
            net = acc["dpo"] - acc["cpo"]
            balance = net if AccountType(acc["type"]).debit_normal else -net
            c = acc["currency"]
            out.append(
                {
                    "tenant_id": acc["tenant_id"],
                    "code": acc["code"],
                    "type": acc["type"],
                    "balance": money_json(balance, c),
                    "debits_posted": money_json(acc["dpo"], c),
                    "credits_posted": money_json(acc["cpo"], c),
                    "debits_pending": money_json(acc["dp"], c),
                    "credits_pending": money_json(acc["cp"], c),
                }
            )
        return out

    def entries(self, scope: TenantScope, code: str, *, limit: int, cursor: str | None) -> Page:
        """An account's statement, oldest first: its posted movements and what caused them."""
        e, tr = ledger_entries, ledger_transfers
        page = self.store.page(scope, e, e.c.code == code, limit=limit, cursor=cursor)
        ids = [row["transfer_id"] for row in page.items]
        transfers = {}
        if ids:
            with self.store.read() as conn:
                transfers = {
                    t.transfer_id: t
                    for t in conn.execute(sa.select(tr).where(tr.c.transfer_id.in_(ids)))
                }
        items = []
        for row in page.items:
            t = transfers.get(row["transfer_id"])
            items.append(
                {
                    "tenant_id": row["tenant_id"],
                    "position": row["created_position"],
                    "side": row["side"],
                    "amount": money_json(row["amount"], row["currency"]),
                    "transfer_id": row["transfer_id"],
                    "transfer_key": t.transfer_key if t else None,
                    "kind": t.kind if t else None,
                    "at": zoned(row["created_at"]),
                }
            )
        return Page(items, page.next_cursor)

    def trial_balance(self, scope: TenantScope) -> dict[str, Any]:
        """Posted debits and credits over every account, per currency."""
        t = ledger_accounts
        stmt = (
            scope.select(t)
            .with_only_columns(
                t.c.currency, sa.func.sum(t.c.debits_posted), sa.func.sum(t.c.credits_posted)
            )
            .group_by(t.c.currency)
            .order_by(t.c.currency)
        )
        with self.store.read() as conn:
            rows = [(c, int(d or 0), int(k or 0)) for c, d, k in conn.execute(stmt)]
        return {
            "debits": [money_json(d, c) for c, d, _ in rows],
            "credits": [money_json(k, c) for c, _, k in rows],
            "balanced": all(d == k for _, d, k in rows),
        }

    def seller_balance(self, scope: TenantScope, seller_id: str, currency: str) -> dict[str, Any]:
        """What is in escrow toward the seller, what is available to pay out (after netting its
        receivable and payouts under way), what open disputes hold of its net, and what has
        been paid out."""
        t = ledger_accounts
        codes = (Chart.seller_payable(seller_id), Chart.seller_receivable(seller_id))  # type: ignore[arg-type]
        with self.store.read() as conn:
            rows = {
                r.code: r
                for r in conn.execute(
                    scope.select(t, t.c.code.in_(codes), t.c.currency == currency)
                )
            }
            paid = conn.execute(
                scope.select(
                    payouts,
                    payouts.c.seller_id == seller_id,
                    payouts.c.status == "paid",
                    payouts.c.currency == currency,
                ).with_only_columns(sa.func.coalesce(sa.func.sum(payouts.c.amount), 0))
            ).scalar()
            so = seller_orders
            disputed = conn.execute(
                scope.select(
                    so,
                    so.c.seller_id == seller_id,
                    so.c.dispute_status == "open",
                    so.c.currency == currency,
                ).with_only_columns(
                    sa.func.coalesce(
                        sa.func.sum(
                            so.c.dispute_share_amount - so.c.dispute_share_commission_amount
                        ),
                        0,
                    )
                )
            ).scalar()
        payable, receivable = rows.get(codes[0]), rows.get(codes[1])
        owed = (
            0
            if payable is None
            else (payable.credits_posted - payable.debits_posted - payable.debits_pending)
        )
        owes = (
            0
            if receivable is None
            else max(0, receivable.debits_posted - receivable.credits_posted)
        )
        return {
            "in_escrow": money_json(payable.credits_pending if payable else 0, currency),
            "available": money_json(owed - owes, currency),
            "in_dispute": money_json(int(disputed or 0), currency),
            "paid_out": money_json(int(paid or 0), currency),
        }

    def payouts(
        self, scope: TenantScope, *, seller_id: str | None, limit: int, cursor: str | None
    ) -> Page:
        where = [payouts.c.seller_id == seller_id] if seller_id else []
        page = self.store.page(scope, payouts, *where, limit=limit, cursor=cursor)
        return Page([payout_view(r) for r in page.items], page.next_cursor)

    def pending_payouts(self, scope: TenantScope, limit: int = 500) -> list[str]:
        """Payouts still waiting for the provider's answer, oldest first (to be tried again)."""
        query = (
            scope.select(payouts, payouts.c.status == "pending")
            .with_only_columns(payouts.c.payout_id)
            .order_by(payouts.c.created_position)
            .limit(limit)
        )
        with self.store.read() as conn:
            return [row.payout_id for row in conn.execute(query)]

    def journal(self, scope: TenantScope, start: date, end: date) -> Iterator[tuple[str, Any]]:
        """The double-entry journal of whole UTC days `start`..`end`: ("opening", balance) per
        account, ("line", entry) per posted movement in the order they were posted (by time, then
        position in the log), then
        ("closing", balance) per account. Read a thousand lines at a time, each batch in its own
        short read, so a year of entries is never held; the closing balances are the opening
        ones plus the lines given, so they tie out whatever is posted meanwhile."""
        e = ledger_entries
        since = datetime.combine(start, time())
        until = datetime.combine(end + timedelta(days=1), time())
        totals: dict[tuple[str, str], list[int]] = {}  # (currency, code) -> [debits, credits]
        with self.store.read() as conn:
            before = (
                scope.select(e, e.c.created_at < since)
                .with_only_columns(e.c.currency, e.c.code, e.c.side, sa.func.sum(e.c.amount))
                .group_by(e.c.currency, e.c.code, e.c.side)
            )
            for currency, code, side, amount in conn.execute(before):
                totals.setdefault((currency, code), [0, 0])[side == "credit"] += int(amount)
        for (currency, code), (debits, credits) in sorted(totals.items()):
            yield "opening", _balance(code, currency, debits, credits, start)
        after: tuple[datetime, int] | None = None
        while True:
            with self.store.read() as conn:
                rows = conn.execute(_journal_chunk(scope, since, until, after)).all()
                subject_of = _orders_of(conn, scope, rows)
            for row in rows:
                credit = row.side == "credit"
                order_id, sold_by, skus = subject_of.get(row.transfer_key, (None, None, []))
                totals.setdefault((row.currency, row.code), [0, 0])[credit] += row.amount
                yield (
                    "line",
                    {
                        "date": row.created_at.date(),
                        "at": zoned(row.created_at),
                        "position": row.created_position,
                        "transfer_id": row.transfer_id,
                        "account": row.code,
                        "debit": 0 if credit else row.amount,
                        "credit": row.amount if credit else 0,
                        "currency": row.currency,
                        "memo": journal.memo(row.kind, row.transfer_key),
                        "order_id": order_id,
                        "seller_id": journal.seller_of(row.code, row.debit_code, row.credit_code)
                        or sold_by,
                        # The variants (by sku) of the seller order the movement concerns.
                        "skus": skus,
                    },
                )
            if len(rows) < JOURNAL_CHUNK:
                break
            after = (rows[-1].created_at, rows[-1].created_position)
        for (currency, code), (debits, credits) in sorted(totals.items()):
            yield "closing", _balance(code, currency, debits, credits, end)


def payout_view(r: dict[str, Any]) -> dict[str, Any]:
    """A payout as `GET /v1/payouts` answers it (an organisation's list shows it so too)."""
    return {
        "id": r["payout_id"],
        "tenant_id": r["tenant_id"],
        "seller_id": r["seller_id"],
        "amount": money_json(r["amount"], r["currency"]),
        "receivable_netted": money_json(r["receivable_netted"], r["currency"]),
        "status": r["status"],
        "failure_reason": r["failure_reason"],
        "created_at": zoned(r["created_at"]),
    }


def _balance(code: str, currency: str, debits: int, credits: int, day: date) -> dict[str, Any]:
    debit, credit = journal.on_its_side(debits, credits)
    return {
        "date": day,
        "account": code,
        "type": journal.account_type(code),
        "debit": debit,
        "credit": credit,
        "currency": currency,
    }


def _journal_chunk(
    scope: TenantScope, since: datetime, until: datetime, after: tuple[datetime, int] | None
) -> sa.Select[Any]:
    e, t = ledger_entries, ledger_transfers
    debit, credit = ledger_accounts.alias("debit_account"), ledger_accounts.alias("credit_account")
    where = [e.c.created_at >= since, e.c.created_at < until]
    if after is not None:
        at, position = after
        where.append(
            sa.or_(
                e.c.created_at > at,
                sa.and_(e.c.created_at == at, e.c.created_position > position),
            )
        )
    return (
        scope.select(e, *where)
        .with_only_columns(
            e.c.created_at,
            e.c.created_position,
            e.c.transfer_id,
            e.c.code,
            e.c.side,
            e.c.amount,
            e.c.currency,
            t.c.kind,
            t.c.transfer_key,
            debit.c.code.label("debit_code"),
            credit.c.code.label("credit_code"),
        )
        .join_from(e, t, t.c.transfer_id == e.c.transfer_id)
        .join_from(t, debit, debit.c.account_id == t.c.debit_account_id)
        .join_from(t, credit, credit.c.account_id == t.c.credit_account_id)
        .order_by(e.c.created_at, e.c.created_position)
        .limit(JOURNAL_CHUNK)
    )


def _orders_of(
    conn: Connection, scope: TenantScope, rows: Sequence[Any]
) -> dict[str, tuple[str, str | None, list[str]]]:
    """The order (and its seller, and the skus of the variants its seller order sold, where
    there is one) behind each transfer key of `rows` that names one, through its seller order,
    refund or payment intent; a payout or plan fee names none."""
    subjects = {row.transfer_key: journal.subject_of(row.transfer_key) for row in rows}
    found: dict[tuple[str, str], tuple[str, str | None, str | None]] = {}
    for kind, table, column, seller in (
        ("seller_order_id", seller_orders, seller_orders.c.seller_order_id, seller_orders),
        ("refund_id", refunds, refunds.c.refund_id, refunds),
        ("payment_intent_id", orders, orders.c.payment_intent_id, None),
    ):
        wanted = {getattr(s, kind) for s in subjects.values()} - {None}
        if wanted:
            query = scope.select(table, column.in_(wanted)).with_only_columns(
                column,
                table.c.order_id,
                seller.c.seller_id if seller is not None else sa.null(),
                seller.c.seller_order_id if seller is not None else sa.null(),
            )
            found |= {(kind, ref): (order, by, so) for ref, order, by, so in conn.execute(query)}
    skus = _skus_of(conn, scope, {so for _, _, so in found.values() if so is not None})
    return {
        key: (order, by, skus.get(so, []) if so else [])
        for key, subject in subjects.items()
        for kind in ("seller_order_id", "refund_id", "payment_intent_id")
        if (ref := getattr(subject, kind)) is not None and (kind, ref) in found
        for order, by, so in [found[(kind, ref)]]
    }


def _skus_of(conn: Connection, scope: TenantScope, ids: set[str]) -> dict[str, list[str]]:
    """The skus of the variants each seller order sold, in line order (a line recorded before
    variants, or of a product without them, by its product's sku as the order kept it)."""
    if not ids:
        return {}
    so = seller_orders
    query = scope.select(so, so.c.seller_order_id.in_(ids)).with_only_columns(
        so.c.seller_order_id, so.c.lines
    )
    return {
        seller_order_id: [str(line["sku"]) for line in lines if line.get("sku")]
        for seller_order_id, lines in conn.execute(query)
    }
