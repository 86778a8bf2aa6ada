"""Settlement: the money side of one seller order, as its own aggregate.

A seller order (domain/orders.py) is fulfilment: placed, paid, shipped, delivered, completed or
cancelled, and the units its returns claim. Its settlement is what happens to the money: escrow
takes the buyer's payment for it (`fund`), refunds are asked for and decided, a dispute of the
charge reserves a share of it, escrow releases the seller's net and the platform's commission
(`release`), and payouts take the released net. Every money rule of a seller order lives here:

- commission split: the seller order's commission and net are fixed at placement
  (domain/commission.py); each refund and lost dispute reverses commission pro rata to what is
  left, rounded half to even (`_pro_rata`);
- escrow release: only a delivered seller order's escrow, once its release date has passed, and
  never while a dispute is open (`release`);
- refund after payout: a refund after release is charged to the seller's receivable, not taken
  from escrow (`refund`; the ledger legs are domain/escrow.py's);
- what a dispute can take, and from where (`open_dispute`, `close_dispute`).

One settlement per seller order, its id derived from the seller order's. Seller orders paid
before settlements existed recorded these facts in their own stream (the `SellerOrder` events
`EscrowHeld` ... `DisputeClosed`, which stay as stored and still load). Their settlement starts
when a command first needs it, with a `CarriedOver` event holding the money state those events
add up to (domain/carried_over.py): new events for a new stream, the old stream never
rewritten."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import TenantAggregate
from domain.settlement_figures import SettlementFigures
from domain.settlement_values import (
    DisputeShare,
    DisputeStatus,
    EscrowNotDue,
    EscrowStatus,
    NotRefundable,
    RefundPlan,
    RefundTooLarge,
    UnderDispute,
    WrongSettlementStep,
    pro_rata,
    tax_share,
)
from domain.tax import TaxParts, parts_minus, parts_plus, parts_total

__all__ = [
    "DisputeShare",
    "DisputeStatus",
    "EscrowNotDue",
    "EscrowStatus",
    "NotRefundable",
    "RefundPlan",
    "RefundTooLarge",
    "Settlement",
    "UnderDispute",
    "WrongSettlementStep",
    "settlement_id",
]


def settlement_id(seller_order_id: UUID) -> UUID:
    return uuid5(NAMESPACE_URL, f"velora:settlement:{seller_order_id}")


class Settlement(SettlementFigures, TenantAggregate):
    class Event(TenantAggregate.Event):
        """Every settlement event names the seller order it settles (as every event names its
        tenant), so the read side and the published events need no lookup."""

        seller_order_id: UUID

    class Funded(TenantAggregate.Created):
        """The buyer paid: escrow holds what the seller order costs (its items and shipping),
        and the marketplace's `tax_payable` its tax (`tax_parts`, by rate, collected where the
        order shipped: `tax_country`, `tax_region`)."""

        seller_order_id: UUID
        order_id: UUID
        seller_id: UUID
        buyer_id: UUID
        currency: str
        gross_minor: int
        commission_minor: int
        seller_net_minor: int
        tax_parts: dict[str, int]
        tax_country: str
        tax_region: str
        # What the platform pays toward the seller's goods and shipping (platform-funded
        # promotions), from its `promotions` expense into escrow.
        platform_funding_minor: int
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["tax_parts"] = {}
            state["tax_country"] = ""
            state["tax_region"] = ""
            state["platform_funding_minor"] = 0

        def apply(self, aggregate: Any) -> None:
            aggregate._belongs(self)
            aggregate._start(
                self.gross_minor,
                self.commission_minor,
                self.seller_net_minor,
                self.tax_parts,
                self.platform_funding_minor,
            )
            aggregate.escrow = EscrowStatus.HELD.value

    class CarriedOver(TenantAggregate.Created):
        """The settlement of a seller order paid before settlements existed: `state` is what
        its own stream's money events add up to (`carry_over`)."""

        seller_order_id: UUID
        order_id: UUID
        seller_id: UUID
        buyer_id: UUID
        currency: str
        gross_minor: int
        state: dict[str, Any]

        def apply(self, aggregate: Any) -> None:
            aggregate._belongs(self)
            aggregate.gross_minor = self.gross_minor
            for name, value in self.state.items():
                setattr(aggregate, name, value)

    class Released(Event):
        seller_net_minor: int
        commission_minor: int

    class Returned(Event):
        """The seller order was cancelled after payment: what escrow held goes back, and
        the tax not yet given back (`tax_parts`)."""

        amount_minor: int
        tax_parts: dict[str, int]
        platform_minor: int
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["tax_parts"] = {}
            state["platform_minor"] = 0

    class RefundRequested(Event):
        """A refund of `amount_minor`, of which `tax_parts` is tax, by rate; and what of the
        platform's funding goes back with it where the caller knows (a return's lines), None
        for a share in proportion."""

        refund_id: UUID
        amount_minor: int
        tax_parts: dict[str, int]
        platform_minor: int | None
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["tax_parts"] = {}
            state["platform_minor"] = None

    class RefundRejected(Event):
        refund_id: UUID

    class Refunded(Event):
        refund_id: UUID
        amount_minor: int
        commission_reversed_minor: int
        from_escrow: bool
        tax_parts: dict[str, int]
        # What goes back to the platform of what it funded (platform-funded promotions).
        platform_minor: int
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["tax_parts"] = {}
            state["platform_minor"] = 0

    class PayoutAllocated(Event):
        payout_id: UUID
        amount_minor: int

    class PayoutReturned(Event):
        payout_id: UUID
        amount_minor: int

    class DisputeOpened(Event):
        dispute_id: UUID
        amount_minor: int
        commission_minor: int
        in_escrow: bool
        from_payable_minor: int
        tax_parts: dict[str, int]
        platform_minor: int
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["tax_parts"] = {}
            state["platform_minor"] = 0

    class DisputeClosed(Event):
        """Won or lost; lost, the share leaves as a refund would, its tax (`tax_parts`) given
        back out of `tax_payable`."""

        dispute_id: UUID
        outcome: str
        fee_minor: int
        tax_parts: dict[str, int]
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["tax_parts"] = {}

    create_id = staticmethod(settlement_id)

    # Tax by rate, collected and given back, and by refunds awaiting a decision: none for a
    # settlement carried over from before tax existed.
    tax_parts: TaxParts | None = None
    tax_returned: TaxParts | None = None
    requested_tax: dict[str, TaxParts] | None = None
    requested_platform: dict[str, int] | None = None
    # What the platform funded of the seller's goods and shipping, and what came back of it.
    platform_funding_minor: int = 0
    platform_returned_minor: int = 0

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        kwargs.setdefault("seller_order_id", self.seller_order_id)
        super().trigger_event(event_class, **kwargs)

    @classmethod
    def fund(cls, seller_order: Any) -> Settlement:
        """Escrow takes the payment of a seller order (anything with its placement's figures)."""
        return cls._create(
            cls.Funded,
            id=settlement_id(seller_order.id),
            tenant_id=seller_order.tenant_id,
            seller_order_id=seller_order.id,
            order_id=seller_order.order_id,
            seller_id=seller_order.seller_id,
            buyer_id=seller_order.buyer_id,
            currency=seller_order.currency,
            gross_minor=seller_order.gross_minor,
            commission_minor=seller_order.commission_minor,
            seller_net_minor=seller_order.seller_net_minor,
            tax_parts=seller_order.tax_parts,
            tax_country=seller_order.tax_country,
            tax_region=seller_order.tax_region,
            platform_funding_minor=seller_order.platform_funding_minor,
        )

    @classmethod
    def carried_over(cls, seller_order: Any, state: dict[str, Any]) -> Settlement:
        """The settlement of a seller order paid before settlements existed, starting from the
        state its own money events add up to (domain/carried_over.py)."""
        return cls._create(
            cls.CarriedOver,
            id=settlement_id(seller_order.id),
            tenant_id=seller_order.tenant_id,
            seller_order_id=seller_order.id,
            order_id=seller_order.order_id,
            seller_id=seller_order.seller_id,
            buyer_id=seller_order.buyer_id,
            currency=seller_order.currency,
            gross_minor=seller_order.gross_minor,
            state=state,
        )

    @classmethod
    def unpaid(cls, seller_order: Any) -> Settlement:
        """A settlement of the seller order as it stood before payment, that records nothing:
        what old money events are folded into to carry them over."""
        shell = cls.__new__(cls)
        shell._start(
            seller_order.gross_minor, seller_order.commission_minor, seller_order.seller_net_minor
        )
        return shell

    def _start(
        self,
        gross: int,
        commission: int,
        net: int,
        tax: TaxParts | None = None,
        platform_funding: int = 0,
    ) -> None:
        self.gross_minor = gross
        self.platform_funding_minor = platform_funding
        self.platform_returned_minor = 0
        self.tax_parts = dict(tax or {})
        self.tax_returned = {}
        self.requested_tax = {}
        self.escrow = EscrowStatus.NONE.value
        self.cancelled = False
        # What escrow keeps toward the seller and the platform now; refunds reduce both.
        self.escrow_net_minor = net
        self.escrow_commission_minor = commission
        self.escrow_generation = 0
        self.refunded_minor = 0
        self.requested_refunds: dict[str, int] = {}
        # The seller's net that escrow released, and how much of it payouts have taken.
        self.released_net_minor = 0
        self.payouts: dict[str, int] = {}
        self.dispute_status = DisputeStatus.NONE.value
        self.dispute_reserved: dict[str, Any] | None = None

    def _belongs(self, e: Any) -> None:
        self.tenant_id = e.tenant_id
        self.seller_order_id = e.seller_order_id
        self.order_id = e.order_id
        self.seller_id = e.seller_id
        self.buyer_id = e.buyer_id
        self.currency = e.currency

    # -- escrow -------------------------------------------------------------------------------

    def release(self, *, delivered: bool, due_at: datetime | None, now: datetime) -> None:
        """Releases escrow to the seller: only held escrow of a delivered seller order, once
        its release date has passed, and not while a dispute is open."""
        if not self.escrow_is_held or not delivered or due_at is None:
            raise WrongSettlementStep(
                f"escrow is {self.escrow}: only held escrow of a delivered order is released"
            )
        if now < due_at:
            raise EscrowNotDue(f"escrow is released at {due_at.isoformat()}")
        self._not_disputed("release the escrow of")
        self._released(
            seller_net_minor=self.escrow_net_minor, commission_minor=self.escrow_commission_minor
        )

    def cancel(self) -> int:
        """The seller order was cancelled: what escrow holds goes back (returned, the amount)."""
        self._not_disputed("cancel")
        if not self.escrow_is_held:
            return 0
        amount = self.gross_minor - self.refunded_minor
        self._returned(
            amount_minor=amount, tax_parts=self.tax_left, platform_minor=self.platform_left_minor
        )
        return amount

    # -- refunds ------------------------------------------------------------------------------

    def request_refund(
        self,
        refund_id: UUID,
        amount_minor: int | None,
        tax: TaxParts | None = None,
        platform: int | None = None,
    ) -> int:
        """Records a request to refund `amount_minor` (default: all that remains refundable);
        until it is decided, that amount can no longer be asked for again. Its tax is `tax`
        where the caller knows what it returns (a return's lines), else the tax still
        refundable in proportion to the amount, all of it for all that is left."""
        self._not_disputed("refund")
        refundable = self.refundable_minor
        amount = refundable if amount_minor is None else amount_minor
        if refundable == 0:
            raise NotRefundable(f"seller order {self.seller_order_id} has nothing left to refund")
        if isinstance(amount, bool) or not 1 <= amount <= refundable:
            raise RefundTooLarge(f"at most {refundable} can be refunded, not {amount}")
        available = parts_minus(self.tax_left, *(self.requested_tax or {}).values())
        self._refund_requested(
            refund_id=refund_id,
            amount_minor=amount,
            tax_parts=tax_share(available, refundable, amount, tax),
            platform_minor=platform,
        )
        return amount

    def reject_refund(self, refund_id: UUID) -> None:
        self._requested(refund_id)
        self._refund_rejected(refund_id=refund_id)

    def refund(self, refund_id: UUID) -> RefundPlan:
        """Refunds a requested amount: from escrow while it is held, else charged back to the
        seller. Commission is reversed pro rata, rounded half to even. What the platform funded
        goes back as the request said (a return's lines), else in proportion to the goods; all
        that is left of it with the last of what the buyer paid."""
        amount = self._requested(refund_id)
        self._not_disputed("refund")
        generation_before = self.escrow_generation
        from_escrow = self.escrow_is_held
        left = self.gross_minor - self.refunded_minor
        if amount > left:  # a dispute lost since it was asked for took the rest
            raise RefundTooLarge(f"at most {left} is left to refund, not {amount}")
        tax = tax_share(self.tax_left, left, amount, (self.requested_tax or {}).get(str(refund_id)))
        goods = amount - parts_total(tax)
        known = (self.requested_platform or {}).get(str(refund_id))
        if known is None or amount == left:
            # In proportion to the goods, all of it with the last of them: a return that pays
            # back the last of what the buyer paid takes what the platform funded of shipping
            # too, or a refunded seller order would keep it in escrow, which never releases it.
            platform = self._platform_share(goods)
        else:
            platform = min(known, self.platform_left_minor)
        escrowed_left = self.goods_left_minor + self.platform_left_minor
        reversed_commission = pro_rata(
            self.escrow_commission_minor, goods + platform, escrowed_left
        )
        self._refunded(
            refund_id=refund_id,
            amount_minor=amount,
            commission_reversed_minor=reversed_commission,
            from_escrow=from_escrow,
            tax_parts=tax,
            platform_minor=platform,
        )
        return RefundPlan(
            amount,
            reversed_commission,
            goods + platform - reversed_commission,
            from_escrow,
            generation_before,
            self.refunded_in_full,
            parts_total(tax),
            platform,
        )

    def _requested(self, refund_id: UUID) -> int:
        if str(refund_id) not in self.requested_refunds:
            raise WrongSettlementStep(f"refund {refund_id} is not awaiting a decision")
        return self.requested_refunds[str(refund_id)]

    # -- payouts ------------------------------------------------------------------------------

    def allocate_payout(self, payout_id: UUID, amount_minor: int) -> None:
        """Marks `amount_minor` of the released net as paid out by `payout_id`."""
        if not 0 < amount_minor <= self.payout_remaining_minor:
            raise WrongSettlementStep(
                f"seller order {self.seller_order_id} has {self.payout_remaining_minor} left "
                f"to pay out, not {amount_minor}"
            )
        self._payout_allocated(payout_id=payout_id, amount_minor=amount_minor)

    def return_payout(self, payout_id: UUID) -> None:
        """A payout failed: its part of this seller order can be paid out again."""
        amount = self.payouts.get(str(payout_id))
        if amount is None:
            raise WrongSettlementStep(
                f"payout {payout_id} took nothing from seller order {self.seller_order_id}"
            )
        self._payout_returned(payout_id=payout_id, amount_minor=amount)

    # -- disputes -----------------------------------------------------------------------------

    def open_dispute(
        self, dispute_id: UUID, amount_minor: int, payable_available_minor: int
    ) -> DisputeShare:
        """Reserves `amount_minor` (at most what refunds left) for a dispute of the charge: in
        escrow while it holds the money, else moved into the seller's dispute reserve from what
        its payable has available (`payable_available_minor`), the rest charged to its
        receivable. Commission's part is split off as a refund's would be."""
        if self.escrow == EscrowStatus.NONE:
            raise WrongSettlementStep(f"seller order {self.seller_order_id} was never paid")
        self._not_disputed("open another dispute on")
        remaining = self.gross_minor - self.refunded_minor
        if not 0 < amount_minor <= remaining:
            raise RefundTooLarge(f"at most {remaining} can be disputed, not {amount_minor}")
        tax = tax_share(self.tax_left, remaining, amount_minor)
        goods = amount_minor - parts_total(tax)
        platform = self._platform_share(goods)
        escrowed_left = self.goods_left_minor + self.platform_left_minor
        commission = pro_rata(self.escrow_commission_minor, goods + platform, escrowed_left)
        in_escrow = self.escrow_is_held
        net = goods + platform - commission
        from_payable = 0 if in_escrow else min(net, max(0, payable_available_minor))
        self._dispute_opened(
            dispute_id=dispute_id,
            amount_minor=amount_minor,
            commission_minor=commission,
            in_escrow=in_escrow,
            from_payable_minor=from_payable,
            tax_parts=tax,
            platform_minor=platform,
        )
        assert self.dispute is not None
        return self.dispute

    def close_dispute(
        self, dispute_id: UUID, *, won: bool, fee_minor: int
    ) -> tuple[DisputeShare, int]:
        """Ends the open dispute: won, its share goes back; lost, it leaves as a refund would
        (from escrow, or out of the reserve), the seller bearing `fee_minor` of the dispute
        fee. Returns the share and the escrow generation before it."""
        share = self.dispute
        if not self.under_dispute or share is None or share.dispute_id != dispute_id:
            raise WrongSettlementStep(
                f"dispute {dispute_id} is not open on seller order {self.seller_order_id}"
            )
        generation_before = self.escrow_generation
        outcome = DisputeStatus.WON if won else DisputeStatus.LOST
        self._dispute_closed(
            dispute_id=dispute_id,
            outcome=outcome.value,
            fee_minor=fee_minor,
            tax_parts=dict(share.tax_parts) if outcome == DisputeStatus.LOST else {},
        )
        return share, generation_before

    # -- the events' effects ------------------------------------------------------------------

    @event(Released)
    def _released(self, seller_net_minor: int, commission_minor: int) -> None:
        self.escrow = EscrowStatus.RELEASED.value
        self.released_net_minor = seller_net_minor

    @event(Returned)
    def _returned(self, amount_minor: int, tax_parts: TaxParts, platform_minor: int) -> None:
        self.escrow = EscrowStatus.REFUNDED.value
        self.cancelled = True

    @event(RefundRequested)
    def _refund_requested(
        self, refund_id: UUID, amount_minor: int, tax_parts: TaxParts, platform_minor: int | None
    ) -> None:
        self.requested_refunds = {**self.requested_refunds, str(refund_id): amount_minor}
        self.requested_tax = {**(self.requested_tax or {}), str(refund_id): tax_parts}
        if platform_minor is not None:
            self.requested_platform = {
                **(self.requested_platform or {}),
                str(refund_id): platform_minor,
            }

    @event(RefundRejected)
    def _refund_rejected(self, refund_id: UUID) -> None:
        self._forget_request(refund_id)

    def _forget_request(self, refund_id: UUID) -> None:
        self.requested_refunds = {
            k: v for k, v in self.requested_refunds.items() if k != str(refund_id)
        }
        self.requested_tax = {
            k: v for k, v in (self.requested_tax or {}).items() if k != str(refund_id)
        }
        self.requested_platform = {
            k: v for k, v in (self.requested_platform or {}).items() if k != str(refund_id)
        }

    @event(Refunded)
    def _refunded(
        self,
        refund_id: UUID,
        amount_minor: int,
        commission_reversed_minor: int,
        from_escrow: bool,
        tax_parts: TaxParts,
        platform_minor: int,
    ) -> None:
        self._forget_request(refund_id)
        self._taken(amount_minor, commission_reversed_minor, from_escrow, tax_parts, platform_minor)

    def _taken(
        self,
        amount: int,
        commission: int,
        from_escrow: bool,
        tax: Mapping[str, int],
        platform: int = 0,
    ) -> None:
        """A refund or a lost dispute took `amount` of what the buyer paid (of which `tax`),
        and `platform` of what the platform funded; of both, `commission` was commission."""
        self.refunded_minor += amount
        self.tax_returned = parts_plus(self.tax_returned or {}, tax)
        self.platform_returned_minor += platform
        self.escrow_commission_minor -= commission
        self.escrow_net_minor -= amount - parts_total(tax) + platform - commission
        if from_escrow:
            self.escrow_generation += 1
            self.escrow = (
                EscrowStatus.REFUNDED if self.refunded_in_full else EscrowStatus.PARTIALLY_REFUNDED
            ).value

    @event(PayoutAllocated)
    def _payout_allocated(self, payout_id: UUID, amount_minor: int) -> None:
        self.payouts = {**self.payouts, str(payout_id): amount_minor}

    @event(PayoutReturned)
    def _payout_returned(self, payout_id: UUID, amount_minor: int) -> None:
        self.payouts = {k: v for k, v in self.payouts.items() if k != str(payout_id)}

    @event(DisputeOpened)
    def _dispute_opened(
        self,
        dispute_id: UUID,
        amount_minor: int,
        commission_minor: int,
        in_escrow: bool,
        from_payable_minor: int,
        tax_parts: TaxParts,
        platform_minor: int,
    ) -> None:
        self.dispute_status = DisputeStatus.OPEN.value
        self.dispute_reserved = {
            "dispute_id": str(dispute_id),
            "amount_minor": amount_minor,
            "commission_minor": commission_minor,
            "in_escrow": in_escrow,
            "from_payable_minor": from_payable_minor,
            "tax_parts": tax_parts,
            "platform_minor": platform_minor,
        }

    @event(DisputeClosed)
    def _dispute_closed(
        self, dispute_id: UUID, outcome: str, fee_minor: int, tax_parts: TaxParts
    ) -> None:
        self.dispute_status = outcome
        share = self.dispute
        if outcome == DisputeStatus.LOST and share is not None:
            self._taken(
                share.amount_minor,
                share.commission_minor,
                share.in_escrow,
                share.tax_parts,
                share.platform_minor,
            )
