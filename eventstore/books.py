"""Books: a unit of work over the ledger for any application's command. It opens accounts on
first use, applies transfers, posts and voids, and hands back every aggregate it touched, so the
ledger's changes are saved in the same atomic save as the business change that caused them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository

from domain.ledger import (
    HOT_ACCOUNT_SHARDS,
    Account,
    Chart,
    Transfer,
    account_id,
    post,
    shard_for,
    transfer,
    void,
)


class Books:
    def __init__(self, repository: Repository[UUID], tenant_id: UUID, currency: str) -> None:
        self.repository = repository
        self.tenant_id = tenant_id
        self.currency = currency
        self._touched: dict[UUID, Any] = {}

    def account(self, code: str, for_transfer: UUID) -> Account:
        shard = shard_for(for_transfer, HOT_ACCOUNT_SHARDS) if code in Chart.HOT else 0
        aid = account_id(self.tenant_id, self.currency, code, shard)
        if aid in self._touched:
            return self._touched[aid]  # type: ignore[no-any-return]
        try:
            account: Account = self.repository.get(aid)
        except AggregateNotFoundError:
            kind, limit = Chart.kind_of(code)
            account = Account.open(self.tenant_id, self.currency, code, kind, limit, shard)
        self._touched[aid] = account
        return account

    def transfer(
        self, key: str, debit: str, credit: str, amount: int, *, kind: str, pending: bool = False
    ) -> Transfer | None:
        """Records a transfer; a zero amount records nothing (a 0% commission, say)."""
        if amount == 0:
            return None
        tid = Transfer.create_id(self.tenant_id, key)
        made = transfer(
            key,
            self.account(debit, tid),
            self.account(credit, tid),
            amount,
            kind=kind,
            pending=pending,
        )
        self._touched[made.id] = made
        return made

    def _pending(self, key: str) -> tuple[Transfer, Account, Account] | None:
        """The pending transfer under `key`, made in this unit of work or before. None only for
        a leg that was never recorded because its amount was zero (a 0% commission, say)."""
        tid = Transfer.create_id(self.tenant_id, key)
        held = self._touched.get(tid)
        if held is None:
            try:
                held = self.repository.get(tid)
            except AggregateNotFoundError:
                return None
        self._touched[held.id] = held
        return held, self._by_id(held.debit_account_id), self._by_id(held.credit_account_id)

    def post(self, key: str, amount: int | None = None) -> None:
        found = self._pending(key)
        if found is not None:
            post(*found, amount)

    def void(self, key: str) -> None:
        found = self._pending(key)
        if found is not None:
            void(*found)

    def balance(self, code: str) -> int:
        """The posted balance of an account that is not split into shards (a seller's)."""
        found = self._unsharded(code)
        return 0 if found is None else found.balance

    def spendable(self, code: str) -> int:
        """What a limited account that is not split into shards can still be debited."""
        found = self._unsharded(code)
        return 0 if found is None else found.spendable

    def _unsharded(self, code: str) -> Account | None:
        """The account, or None if it was never used (nothing on it, and nothing opened for
        asking)."""
        assert code not in Chart.HOT, "a sharded account has no single balance here"
        aid = account_id(self.tenant_id, self.currency, code)
        if aid not in self._touched:
            try:
                self._touched[aid] = self.repository.get(aid)
            except AggregateNotFoundError:
                return None
        return self._touched[aid]  # type: ignore[no-any-return]

    def _by_id(self, aid: UUID) -> Account:
        if aid not in self._touched:
            self._touched[aid] = self.repository.get(aid)
        return self._touched[aid]  # type: ignore[no-any-return]

    def changed(self) -> list[Any]:
        return list(self._touched.values())
