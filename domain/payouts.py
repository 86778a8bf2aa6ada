"""Payouts: paying sellers what the platform owes them, net of what they owe it.

A payout nets the seller's receivable (refunds charged back after release) against its payable,
then moves the rest out of the payable as a pending transfer; the provider's answer posts it
(paid) or voids it (failed), so a failed payout returns the money to the seller's balance."""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import TenantAggregate
from domain.errors import Conflict, DomainError
from domain.ledger import Account, Books, Chart
from domain.payments import PayoutSource
from domain.settlement import Settlement


class PayoutError(DomainError):
    """Base of the payouts context's errors."""


class WrongPayoutStep(PayoutError, Conflict):
    title = "Wrong payout step"


def payable_now(payable: Account | None, receivable: Account | None) -> tuple[int, int]:
    """(what to pay out, how much receivable to net first) from the seller's two accounts."""
    owed = (
        0
        if payable is None
        else (payable.credits_posted - payable.debits_posted - payable.debits_pending)
    )
    owes = 0 if receivable is None else max(0, receivable.balance)
    netted = min(owed, owes)
    return owed - netted, netted


def why_not_paid(
    amount_minor: int, min_payout_minor: int, *, needs_account: bool, payout_account: str
) -> str | None:
    """Why a seller with `amount_minor` available is not paid out in this run (None: it is).
    Nothing available is no reason to say; below the tenant's minimum, or without the payout
    account the provider needs, is."""
    if amount_minor <= 0:
        return ""
    if amount_minor < min_payout_minor:
        return "the balance is below the tenant's minimum payout"
    if needs_account and not payout_account:
        return "the seller has no payout account"
    return None


class Payout(TenantAggregate):
    """One payment to one seller. Started, it keeps the money aside (a pending transfer out of the
    seller's payable) and names the seller orders whose released money it pays; the provider's
    answer then posts it (paid) or voids it (failed)."""

    class Started(TenantAggregate.Created):
        run_key: str
        seller_id: UUID
        currency: str
        amount_minor: int
        receivable_netted_minor: int
        destination: str
        sources: list[dict[str, Any]]
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["destination"] = ""
            state["sources"] = []

    class Paid(TenantAggregate.Event):
        provider_transfer_ids: list[str]
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["provider_transfer_ids"] = [state.pop("provider_transfer_id")]

    class Failed(TenantAggregate.Event):
        reason: str

    @staticmethod
    def create_id(tenant_id: UUID, run_key: str, seller_id: UUID) -> UUID:
        return uuid5(NAMESPACE_URL, f"velora:payout:{tenant_id}:{run_key}:{seller_id}")

    @event(Started)
    def __init__(
        self,
        tenant_id: UUID,
        run_key: str,
        seller_id: UUID,
        currency: str,
        amount_minor: int,
        receivable_netted_minor: int,
        destination: str,
        sources: list[dict[str, Any]],
    ) -> None:
        self.tenant_id = tenant_id
        self.run_key = run_key
        self.seller_id = seller_id
        self.currency = currency
        self.amount_minor = amount_minor
        self.receivable_netted_minor = receivable_netted_minor
        self.destination = destination
        self.sources = sources
        self.status = "pending"

    @classmethod
    def start(
        cls,
        books: Books,
        *,
        tenant_id: UUID,
        run_key: str,
        seller_id: UUID,
        currency: str,
        receivable_netted_minor: int,
        destination: str,
        sources: list[tuple[Settlement, PayoutSource]],
    ) -> Payout:
        """Starts a payout of the sources' sum; each source's settlement records its part."""
        amount = sum(source.amount_minor for _, source in sources)
        if amount <= 0:
            raise WrongPayoutStep("a payout needs a positive amount")
        payout = cls(
            tenant_id=tenant_id,
            run_key=run_key,
            seller_id=seller_id,
            currency=currency,
            amount_minor=amount,
            receivable_netted_minor=receivable_netted_minor,
            destination=destination,
            sources=[
                {
                    "seller_order_id": settlement.seller_order_id,
                    "order_id": source.order_id,
                    "charge_id": source.charge_id,
                    "amount_minor": source.amount_minor,
                }
                for settlement, source in sources
            ],
        )
        for settlement, source in sources:
            settlement.allocate_payout(payout.id, source.amount_minor)
        payable, receivable = Chart.seller_payable(seller_id), Chart.seller_receivable(seller_id)
        books.transfer(
            f"payout:{payout.id}:netting",
            payable,
            receivable,
            receivable_netted_minor,
            kind="receivable_netting",
        )
        books.transfer(
            f"payout:{payout.id}",
            payable,
            Chart.PROCESSOR_CLEARING,
            amount,
            kind="payout",
            pending=True,
        )
        return payout

    @property
    def provider_sources(self) -> list[PayoutSource]:
        return [
            PayoutSource(s["seller_order_id"], s["order_id"], s["charge_id"], s["amount_minor"])
            for s in self.sources
        ]

    @property
    def seller_order_ids(self) -> list[UUID]:
        return [s["seller_order_id"] for s in self.sources]

    def settle(
        self,
        books: Books,
        settlements: list[Settlement],
        transfer_ids: list[str] | None,
        failure: str = "",
    ) -> None:
        """The provider paid (post the transfer) or refused (void it: the money stays owed to
        the seller, and its seller orders' settlements can pay it out again)."""
        if self.status != "pending":
            raise WrongPayoutStep(f"payout {self.id} is already {self.status}")
        if transfer_ids is not None:
            books.post(f"payout:{self.id}")
            self._paid(provider_transfer_ids=transfer_ids)
            return
        books.void(f"payout:{self.id}")
        for settlement in settlements:
            settlement.return_payout(self.id)
        self._failed(reason=failure or "the provider refused the payout")

    @event(Paid)
    def _paid(self, provider_transfer_ids: list[str]) -> None:
        self.status = "paid"

    @event(Failed)
    def _failed(self, reason: str) -> None:
        self.status = "failed"
