"""Reading the money of seller orders paid before settlements existed.

Until settlements (domain/settlement.py) had their own streams, a seller order recorded its
money in its own: `SellerOrder.EscrowHeld`, `EscrowReleased`, `EscrowRefunded`,
`RefundRequested`, `RefundDeclined`, `Refunded`, `PayoutAllocated`, `PayoutReturned`,
`DisputeOpened` and `DisputeClosed`. Those events stay as stored and still load (the seller
order keeps their classes). The first command that needs such a seller order's settlement reads
them from the seller order's stream, in order, and folds each into a settlement as the
settlement event it now is (same fields, by the same rules), and the settlement's stream starts
with a `CarriedOver` event holding the result. Nothing is rewritten: the old events keep
meaning what they meant, and from then on the settlement's own events carry on from them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain.settlement import EscrowStatus, Settlement

# Each old money event by name, and the settlement event it is; `EscrowHeld` is what
# `Funded` now is.
_AS: dict[str, type[Settlement.Event]] = {
    "EscrowReleased": Settlement.Released,
    "EscrowRefunded": Settlement.Returned,
    "RefundRequested": Settlement.RefundRequested,
    "RefundDeclined": Settlement.RefundRejected,
    "Refunded": Settlement.Refunded,
    "PayoutAllocated": Settlement.PayoutAllocated,
    "PayoutReturned": Settlement.PayoutReturned,
    "DisputeOpened": Settlement.DisputeOpened,
    "DisputeClosed": Settlement.DisputeClosed,
}
MONEY_EVENTS = frozenset({"EscrowHeld", *_AS})

# What a carried-over settlement's first event keeps.
_STATE = (
    "escrow",
    "cancelled",
    "escrow_net_minor",
    "escrow_commission_minor",
    "escrow_generation",
    "refunded_minor",
    "requested_refunds",
    "released_net_minor",
    "payouts",
    "dispute_status",
    "dispute_reserved",
)


def carry_over(seller_order: Any, recorded: Iterable[Any]) -> Settlement:
    """The settlement of a seller order paid before settlements existed, from the events of
    its stream (`recorded`, in order; all but the money events are passed over)."""
    folded = Settlement.unpaid(seller_order)
    for e in recorded:
        name = type(e).__name__
        if name == "EscrowHeld":
            folded.escrow = EscrowStatus.HELD.value
        elif name in _AS:
            # The event classes are dataclasses the library makes at run time.
            # Nothing was taxed or funded by promotions before settlements.
            later = {"tax_parts": {}, "platform_minor": 0}
            known = _AS[name].__dataclass_fields__
            fields = {k: v for k, v in later.items() if k in known} | vars(e)
            _AS[name](**fields, seller_order_id=seller_order.id).apply(folded)  # type: ignore[call-arg]
    return Settlement.carried_over(seller_order, {k: getattr(folded, k) for k in _STATE})
