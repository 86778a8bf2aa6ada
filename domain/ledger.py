"""The double-entry ledger, after TigerBeetle's model.

Accounts hold four balances: debits and credits, each pending and posted. A transfer moves one
amount from a debit account to a credit account of the same currency, so every transfer balances
by construction; a journal entry of several legs is several transfers saved together. A pending
transfer keeps its amount aside on both accounts; it is resolved exactly once, by posting (all of it
or part, the remainder returning) or by voiding (everything returning). Balance limits are checked
when funds are kept aside or moved, never later. Posted transfers are never changed: a mistake is
corrected by a reversing transfer that names the one it corrects.

Transfer ids derive from the command that caused them, so a command or webhook that arrives twice
collides with the first transfer in the event store instead of moving money twice."""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Any, Protocol
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import TenantAggregate
from domain.errors import Conflict, DomainError, Invalid, NotFound
from domain.money import currency_code


class LedgerError(DomainError):
    """Base of the ledger context's errors."""


class AccountNotFound(LedgerError, NotFound):
    title = "Account not found"


class ExceedsBalanceLimit(LedgerError, Conflict):
    title = "Balance limit exceeded"


class TransferAlreadyResolved(LedgerError, Conflict):
    title = "Transfer already resolved"


class TransferNotPending(LedgerError, Conflict):
    title = "Transfer not pending"


class AlreadyReversed(LedgerError, Conflict):
    title = "Transfer already reversed"


class InvalidTransfer(LedgerError, Invalid):
    title = "Invalid transfer"


class AccountType(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    REVENUE = "revenue"
    EXPENSE = "expense"

    @property
    def debit_normal(self) -> bool:
        return self in (AccountType.ASSET, AccountType.EXPENSE)


class Limit(StrEnum):
    NONE = "none"
    # The account's balance never goes below zero on its normal side.
    DEBITS_MUST_NOT_EXCEED_CREDITS = "debits_must_not_exceed_credits"
    CREDITS_MUST_NOT_EXCEED_DEBITS = "credits_must_not_exceed_debits"


class Side(StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"


HOT_ACCOUNT_SHARDS = 8


def account_id(tenant_id: UUID, currency: str, code: str, shard: int = 0) -> UUID:
    return uuid5(NAMESPACE_URL, f"velora:account:{tenant_id}:{currency}:{code}:{shard}")


def shard_for(transfer_id: UUID, shards: int) -> int:
    """Which shard of a hot account a transfer touches: spread evenly, fixed per transfer."""
    return int(hashlib.sha256(transfer_id.bytes).hexdigest(), 16) % shards


class Account(TenantAggregate):
    class Opened(TenantAggregate.Created):
        currency: str
        code: str
        shard: int
        type: str
        limit: str

    class Entered(TenantAggregate.Event):
        transfer_id: UUID
        side: str
        amount: int
        pending: bool

    class PendingResolved(TenantAggregate.Event):
        transfer_id: UUID
        side: str
        pending_amount: int
        posted_amount: int

    @staticmethod
    def create_id(tenant_id: UUID, currency: str, code: str, shard: int) -> UUID:
        return account_id(tenant_id, currency, code, shard)

    @event(Opened)
    def __init__(
        self, tenant_id: UUID, currency: str, code: str, shard: int, type: str, limit: str
    ) -> None:
        self.tenant_id = tenant_id
        self.currency = currency
        self.code = code
        self.shard = shard
        self.type = type
        self.limit = limit
        self.debits_pending = 0
        self.debits_posted = 0
        self.credits_pending = 0
        self.credits_posted = 0

    @classmethod
    def open(
        cls,
        tenant_id: UUID,
        currency: str,
        code: str,
        type: AccountType,
        limit: Limit = Limit.NONE,
        shard: int = 0,
    ) -> Account:
        """Opens an account in a currency already stored (the tenant's, an order's): only its
        shape is checked, not today's ISO 4217 list, so a tenant whose currency an older Velora
        let in, or that has left the list, can still open the accounts its payments need."""
        if not 1 <= len(code) <= 120:
            raise InvalidTransfer("an account code has 1 to 120 characters")
        return cls(
            tenant_id=tenant_id,
            currency=currency_code(currency),
            code=code,
            shard=shard,
            type=type.value,
            limit=limit.value,
        )

    @property
    def balance(self) -> int:
        """The posted balance on the account's normal side (positive is normal)."""
        net = self.debits_posted - self.credits_posted
        return net if AccountType(self.type).debit_normal else -net

    @property
    def spendable(self) -> int:
        """What a limited liability can still be debited: posted credits less every debit,
        pending ones included (a payout under way has taken its part)."""
        return self.credits_posted - self.debits_posted - self.debits_pending

    def _check_limit(self, side: Side, amount: int) -> None:
        debits = self.debits_pending + self.debits_posted + (amount if side == Side.DEBIT else 0)
        credits = (
            self.credits_pending + self.credits_posted + (amount if side == Side.CREDIT else 0)
        )
        if self.limit == Limit.DEBITS_MUST_NOT_EXCEED_CREDITS and debits > self.credits_posted:
            raise ExceedsBalanceLimit(
                f"{self.code} has {self.credits_posted - self.debits_posted - self.debits_pending}"
                f" available, {amount} needed"
            )
        if self.limit == Limit.CREDITS_MUST_NOT_EXCEED_DEBITS and credits > self.debits_posted:
            raise ExceedsBalanceLimit(
                f"{self.code} has {self.debits_posted - self.credits_posted - self.credits_pending}"
                f" available, {amount} needed"
            )

    def enter(self, transfer_id: UUID, side: Side, amount: int, *, pending: bool) -> None:
        self._check_limit(side, amount)
        self._entered(transfer_id=transfer_id, side=side.value, amount=amount, pending=pending)

    def resolve(
        self, transfer_id: UUID, side: Side, pending_amount: int, posted_amount: int
    ) -> None:
        self._pending_resolved(
            transfer_id=transfer_id,
            side=side.value,
            pending_amount=pending_amount,
            posted_amount=posted_amount,
        )

    @event(Entered)
    def _entered(self, transfer_id: UUID, side: str, amount: int, pending: bool) -> None:
        attr = f"{side}s_{'pending' if pending else 'posted'}"
        setattr(self, attr, getattr(self, attr) + amount)

    @event(PendingResolved)
    def _pending_resolved(
        self, transfer_id: UUID, side: str, pending_amount: int, posted_amount: int
    ) -> None:
        setattr(self, f"{side}s_pending", getattr(self, f"{side}s_pending") - pending_amount)
        setattr(self, f"{side}s_posted", getattr(self, f"{side}s_posted") + posted_amount)


class TransferState(StrEnum):
    PENDING = "pending"
    POSTED = "posted"
    VOIDED = "voided"


# Kinds of transfer renamed when "hold" was kept for stock (docs/architecture.md, Words):
# transfers made before carry the old names in the log, and load with the new ones.
FORMER_KINDS = {
    "escrow_hold": "escrow_pending",
    "dispute_hold": "dispute_reserve",
    "dispute_release": "dispute_reserve_returned",
}


class Transfer(TenantAggregate):
    class Made(TenantAggregate.Created):
        key: str
        currency: str
        debit_account_id: UUID
        credit_account_id: UUID
        amount: int
        pending: bool
        kind: str
        reverses: UUID | None
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["kind"] = FORMER_KINDS.get(state["kind"], state["kind"])

    class Posted(TenantAggregate.Event):
        amount: int

    class Voided(TenantAggregate.Event):
        pass

    class Reversed(TenantAggregate.Event):
        reversal_id: UUID

    @staticmethod
    def create_id(tenant_id: UUID, key: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"velora:transfer:{tenant_id}:{key}")

    @event(Made)
    def __init__(
        self,
        tenant_id: UUID,
        key: str,
        currency: str,
        debit_account_id: UUID,
        credit_account_id: UUID,
        amount: int,
        pending: bool,
        kind: str,
        reverses: UUID | None,
    ) -> None:
        self.tenant_id = tenant_id
        self.key = key
        self.currency = currency
        self.debit_account_id = debit_account_id
        self.credit_account_id = credit_account_id
        self.amount = amount
        self.kind = kind
        self.reverses = reverses
        self.state = (TransferState.PENDING if pending else TransferState.POSTED).value
        self.posted_amount = 0 if pending else amount
        self.reversed_by: UUID | None = None

    @property
    def is_pending(self) -> bool:
        return self.state == TransferState.PENDING

    def _post(self, amount: int) -> None:
        self._posted(amount=amount)

    def _void(self) -> None:
        self._voided()

    @event(Posted)
    def _posted(self, amount: int) -> None:
        self.state = TransferState.POSTED.value
        self.posted_amount = amount

    @event(Voided)
    def _voided(self) -> None:
        self.state = TransferState.VOIDED.value

    @event(Reversed)
    def _reversed(self, reversal_id: UUID) -> None:
        self.reversed_by = reversal_id


def _check_pair(debit: Account, credit: Account, amount: int) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidTransfer("a transfer moves a positive whole number of minor units")
    if debit.id == credit.id:
        raise InvalidTransfer("a transfer needs two different accounts")
    if debit.currency != credit.currency or debit.tenant_id != credit.tenant_id:
        raise InvalidTransfer("both accounts must be in one tenant and one currency")


def transfer(
    key: str,
    debit: Account,
    credit: Account,
    amount: int,
    *,
    kind: str,
    pending: bool = False,
    reverses: UUID | None = None,
) -> Transfer:
    """Moves (or, pending, keeps aside) `amount` from `debit` to `credit`. Limits are checked on
    both accounts before anything is recorded."""
    _check_pair(debit, credit, amount)
    made = Transfer(
        tenant_id=debit.tenant_id,
        key=key,
        currency=debit.currency,
        debit_account_id=debit.id,
        credit_account_id=credit.id,
        amount=amount,
        pending=pending,
        kind=kind,
        reverses=reverses,
    )
    debit._check_limit(Side.DEBIT, amount)
    credit._check_limit(Side.CREDIT, amount)
    debit.enter(made.id, Side.DEBIT, amount, pending=pending)
    credit.enter(made.id, Side.CREDIT, amount, pending=pending)
    return made


def _accounts_of(pending: Transfer, debit: Account, credit: Account) -> None:
    if (debit.id, credit.id) != (pending.debit_account_id, pending.credit_account_id):
        raise InvalidTransfer("those are not this transfer's accounts")


def post(pending: Transfer, debit: Account, credit: Account, amount: int | None = None) -> None:
    """Posts a pending transfer, all of it or `amount` of it; the remainder returns."""
    _accounts_of(pending, debit, credit)
    if not pending.is_pending:
        raise TransferAlreadyResolved(f"transfer {pending.key} is already {pending.state}")
    amount = pending.amount if amount is None else amount
    if isinstance(amount, bool) or not 0 <= amount <= pending.amount:
        raise InvalidTransfer(f"can post 0 to {pending.amount} of this transfer, not {amount}")
    pending._post(amount)
    debit.resolve(pending.id, Side.DEBIT, pending.amount, amount)
    credit.resolve(pending.id, Side.CREDIT, pending.amount, amount)


def void(pending: Transfer, debit: Account, credit: Account) -> None:
    """Voids a pending transfer: everything it kept aside returns."""
    _accounts_of(pending, debit, credit)
    if not pending.is_pending:
        raise TransferAlreadyResolved(f"transfer {pending.key} is already {pending.state}")
    pending._void()
    debit.resolve(pending.id, Side.DEBIT, pending.amount, 0)
    credit.resolve(pending.id, Side.CREDIT, pending.amount, 0)


def reverse(key: str, original: Transfer, debit: Account, credit: Account) -> Transfer:
    """Corrects a posted transfer with one that moves its posted amount back and names it."""
    _accounts_of(original, debit, credit)
    if original.state != TransferState.POSTED or original.posted_amount == 0:
        raise TransferNotPending(
            f"only a posted transfer can be reversed; {original.key} is {original.state}"
        )
    if original.reversed_by is not None:
        raise AlreadyReversed(f"transfer {original.key} was already reversed")
    reversal = transfer(
        key, credit, debit, original.posted_amount, kind="reversal", reverses=original.id
    )
    original._reversed(reversal_id=reversal.id)
    return reversal


class Books(Protocol):
    """What escrow and payouts need of the ledger: transfers by key, and pending ones resolved
    exactly once."""

    def transfer(
        self, key: str, debit: str, credit: str, amount: int, *, kind: str, pending: bool = False
    ) -> Any: ...

    def post(self, key: str, amount: int | None = None) -> None: ...

    def void(self, key: str) -> None: ...

    def balance(self, code: str) -> int: ...

    def spendable(self, code: str) -> int: ...


class Chart:
    """The chart of accounts of one tenant and currency (docs/ledger.md explains each)."""

    PROCESSOR_CLEARING = "processor:clearing"
    PLATFORM_COMMISSION = "platform:commission"
    PROCESSOR_FEES = "processor:fees"
    # Sellers' plan fees (domain/plans.py), net of what changes and cancellations credited back.
    PLAN_FEES = "platform:plan_fees"
    REFUNDS = "refunds"
    # Payments that belong to no live order (it was cancelled first), owed back to the buyer.
    UNAPPLIED_PAYMENTS = "payments:unapplied"
    # What the platform bears of lost disputes: a fee it took on, an amount no seller order held.
    DISPUTE_LOSSES = "platform:dispute_losses"
    # Tax the marketplace collected for the authorities, less what it gave back (domain/tax.py);
    # never a seller's.
    TAX_PAYABLE = "tax_payable"
    # What the marketplace pays of platform-funded promotions (domain/promotions.py), less what
    # refunds, cancellations and lost disputes gave back of it.
    PROMOTIONS = "promotions"

    # Touched by every order: split into shards so checkouts do not queue on one aggregate.
    # None of them has a balance limit, so splitting them weakens no check.
    HOT = frozenset(
        {PROCESSOR_CLEARING, PLATFORM_COMMISSION, PROCESSOR_FEES, TAX_PAYABLE, PROMOTIONS}
    )

    @staticmethod
    def escrow(seller_id: UUID) -> str:
        return f"escrow:{seller_id}"

    @staticmethod
    def seller_payable(seller_id: UUID) -> str:
        return f"seller:payable:{seller_id}"

    @staticmethod
    def seller_receivable(seller_id: UUID) -> str:
        return f"seller:receivable:{seller_id}"

    @staticmethod
    def seller_dispute_reserve(seller_id: UUID) -> str:
        """What disputes of released seller orders hold of the seller's money until they close."""
        return f"seller:dispute_reserve:{seller_id}"

    @classmethod
    def kind_of(cls, code: str) -> tuple[AccountType, Limit]:
        if code == cls.PROCESSOR_CLEARING or code.startswith("seller:receivable:"):
            return AccountType.ASSET, Limit.NONE
        if (
            code.startswith(("escrow:", "seller:payable:", "seller:dispute_reserve:"))
            or code == cls.UNAPPLIED_PAYMENTS
        ):
            return AccountType.LIABILITY, Limit.DEBITS_MUST_NOT_EXCEED_CREDITS
        if code == cls.TAX_PAYABLE:  # sharded, so no limit: the money model holds it >= 0
            return AccountType.LIABILITY, Limit.NONE
        if code in (cls.PLATFORM_COMMISSION, cls.PLAN_FEES):
            return AccountType.REVENUE, Limit.NONE
        if code in (cls.PROCESSOR_FEES, cls.REFUNDS, cls.DISPUTE_LOSSES, cls.PROMOTIONS):
            return AccountType.EXPENSE, Limit.NONE
        raise InvalidTransfer(f"{code!r} is not in the chart of accounts")
