"""The local payment provider, the embedded default's: it needs no network, and its intents are
moved on by the same signed webhook a real provider would send.

Its own record. What a provider did is what reconciliation holds the ledger to, so the local
provider keeps a record of it, as Stripe keeps balance transactions: a SQLite file beside the
deployment's data (`local-provider.sqlite3` in `VELORA_DATA_DIR`), one row per balance
transaction, written when it takes the buyer's money (`charge`: the stand-in for a buyer paying
at the provider, which a developer or a test calls before sending the signed
`payment_intent.succeeded`), refunds, pays out, or withdraws a dispute's amount and fee
(`withdraw_for_dispute`, as Stripe does when a dispute opens) and gives them back
(`reinstate_for_dispute`, when it is won). Each row's id derives from what caused it (the
intent, the idempotency key, the dispute and which of its movements), so asking twice records
once. A payment webhook sent without a charge behind
it is a payment this provider never took: reconciliation lists its booking as the ledger's
alone, which is the truth. The record lives as long as the data directory, so every process of
one deployment on one machine reads the same record."""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
import threading
from collections.abc import Sequence
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from domain.money import Money
from domain.payments import (
    CHARGE,
    DISPUTE,
    REFUND,
    TRANSFER,
    PaymentIntent,
    PayoutSource,
    ProviderTransaction,
)

_SCHEMA = """CREATE TABLE IF NOT EXISTS balance_transactions (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    amount INTEGER NOT NULL,
    fee INTEGER NOT NULL,
    currency TEXT NOT NULL,
    source TEXT NOT NULL,
    intent TEXT NOT NULL,
    created_us INTEGER NOT NULL
)"""

_SELECT = (
    "SELECT id, type, amount, fee, currency, source, intent, created_us FROM balance_transactions"
)


def _stable_id(prefix: str, key: str) -> str:
    return prefix + hashlib.sha256(key.encode()).hexdigest()[:24]


def card_fee(amount_minor: int) -> int:
    """What the local provider keeps of a charge: Stripe's standard card pricing, 2.9% + 30
    minor units, rounded half up, so the embedded default books fees as a Stripe deployment
    does."""
    return (amount_minor * 29 + 500) // 1000 + 30


def _micros(at: datetime) -> int:
    return int(at.timestamp() * 1_000_000)


class LocalRecord:
    """The local provider's balance transactions, in one SQLite file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = str(path)
        self._lock = threading.Lock()
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(_SCHEMA)

    def _connect(self) -> closing[sqlite3.Connection]:
        return closing(sqlite3.connect(self._path, timeout=30, isolation_level=None))

    def add(self, t: ProviderTransaction) -> None:
        """Records `t` unless a transaction of its id is recorded already."""
        row = (t.id, t.type, t.amount_minor, t.fee_minor, t.currency, t.source_id, t.intent_id)
        with self._lock, self._connect() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO balance_transactions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (*row, _micros(t.created_at)),
            )

    def between(self, start: datetime, end: datetime) -> list[ProviderTransaction]:
        return self._select("created_us >= ? AND created_us < ?", (_micros(start), _micros(end)))

    def of_sources(self, kind: str, sources: Sequence[str]) -> list[ProviderTransaction]:
        """The transactions of one kind that these provider objects made, whenever."""
        marks = ", ".join("?" for _ in sources)
        return self._select(f"type = ? AND source IN ({marks})", (kind, *sources))

    def _select(self, where: str, values: tuple[Any, ...]) -> list[ProviderTransaction]:
        """The rows `where` (this module's own conditions, the values bound) selects."""
        query = f"{_SELECT} WHERE {where} ORDER BY created_us, id"
        with self._connect() as conn:
            rows = conn.execute(query, values).fetchall()
        return [
            ProviderTransaction(
                id=row[0],
                type=row[1],
                amount_minor=row[2],
                fee_minor=row[3],
                currency=row[4],
                source_id=row[5],
                intent_id=row[6],
                created_at=datetime.fromtimestamp(row[7] / 1e6, UTC),
            )
            for row in rows
        ]


class LocalPaymentProvider:
    name = "local"
    needs_payout_account = False

    def __init__(self, secret: str, record: Path) -> None:
        self._secret = secret.encode()
        self.record = LocalRecord(record)

    def create_intent(
        self, *, order_id: UUID, amount: Money, idempotency_key: str
    ) -> PaymentIntent:
        # Derived from the key alone, so asking twice gives the same intent, as with Stripe.
        intent_id = _stable_id("pi_local_", idempotency_key)
        signature = hmac.new(self._secret, intent_id.encode(), hashlib.sha256).hexdigest()[:24]
        return PaymentIntent(self.name, intent_id, f"{intent_id}_secret_{signature}", amount)

    def charge(self, intent_id: str, amount: Money) -> str:
        """The buyer pays the intent: the charge is recorded with its fee (once per intent),
        and its id returned, for the `payment_intent.succeeded` that tells Velora."""
        charge_id = _stable_id("ch_local_", intent_id)
        self._add(CHARGE, charge_id, intent_id, amount, card_fee(amount.amount_minor))
        return charge_id

    def pay_out(
        self,
        *,
        destination: str | None,
        currency: str,
        sources: list[PayoutSource],
        idempotency_key: str,
    ) -> list[str]:
        # The embedded default pays out at once; its record and the ledger say so.
        ids = []
        for i, source in enumerate(sources):
            transfer_id = _stable_id("tr_local_", f"{idempotency_key}-{i}")
            self._add(TRANSFER, transfer_id, "", Money(-source.amount_minor, currency), 0)
            ids.append(transfer_id)
        return ids

    def refund(self, *, intent_id: str, amount: Money, idempotency_key: str) -> str:
        refund_id = _stable_id("re_local_", idempotency_key)
        self._add(REFUND, refund_id, intent_id, Money(-amount.amount_minor, amount.currency), 0)
        return refund_id

    def withdraw_for_dispute(
        self, dispute_id: str, intent_id: str, amount: Money, fee_minor: int
    ) -> None:
        """The card issuer takes a disputed amount back, and the provider its dispute fee."""
        minus = Money(-amount.amount_minor, amount.currency)
        self._add(DISPUTE, dispute_id, intent_id, minus, fee_minor)

    def reinstate_for_dispute(
        self, dispute_id: str, intent_id: str, amount: Money, fee_returned_minor: int
    ) -> None:
        """A won dispute: the amount comes back, and the part of the fee given back with it."""
        self._add(
            DISPUTE, dispute_id, intent_id, amount, -fee_returned_minor, cause=f"{dispute_id}:won"
        )

    def balance_transactions(self, *, start: datetime, end: datetime) -> list[ProviderTransaction]:
        return self.record.between(start, end)

    def dispute_transactions(self, *, dispute_ids: Sequence[str]) -> list[ProviderTransaction]:
        return self.record.of_sources(DISPUTE, dispute_ids) if dispute_ids else []

    def _add(
        self,
        kind: str,
        source_id: str,
        intent_id: str,
        amount: Money,
        fee_minor: int,
        cause: str | None = None,
    ) -> None:
        """Records a transaction whose id derives from its cause: the object that made it, or
        which of its movements it is (`cause`)."""
        self.record.add(
            ProviderTransaction(
                id=_stable_id("txn_local_", cause or source_id),
                type=kind,
                amount_minor=amount.amount_minor,
                fee_minor=fee_minor,
                currency=amount.currency,
                source_id=source_id,
                intent_id=intent_id,
                created_at=datetime.now(UTC),
            )
        )
