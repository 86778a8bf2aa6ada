"""How a seller order's money moves through the ledger (docs/ledger.md draws it).

- Paid: the buyer's money for the seller order arrives in processor clearing and is owed to the
  seller's escrow (posted); two pending transfers then keep it aside for the seller's payable
  (net) and the platform's commission revenue. Its tax is owed to the marketplace's
  `tax_payable` instead, and whatever gives money back gives back its tax from there.
- Released (delivered, and the tenant's release delay has passed): both pending transfers are
  posted.
- Cancelled while in escrow: both pending transfers are voided and escrow pays the subtotal back
  out through processor clearing.
- Refunded while in escrow: the pending transfers are voided, the refund leaves escrow, and new
  pending transfers keep aside what remains.
- Refunded after release: charged back to the seller's receivable, commission reversed.
- Disputed while in escrow: nothing moves, but the release waits for the dispute. Lost: the
  share leaves escrow as a refund from escrow would.
- Disputed after release: the seller's net share moves into its dispute reserve, from its
  payable as far as it has it available, the rest charged to its receivable. Won: it goes back
  where it came from. Lost: it leaves the reserve, and the commission is reversed.
- A lost dispute's fee leaves through the seller's receivable (its share) or the platform's
  dispute losses.

Words: a *hold* is only ever units of stock kept for an unpaid order (domain/inventory.py); money
waiting in escrow is in *pending transfers*; the wait after delivery is the *release delay* (the
tenant setting `escrow_hold_days`, a name the API fixed). Those pending transfers are of the
ledger kind `escrow_pending` (stored before as `escrow_hold`, and loaded renamed).

Transfer keys name the seller order (and refund), so the same fact recorded twice moves nothing
twice."""

from __future__ import annotations

from domain.ledger import Books, Chart
from domain.settlement import DisputeShare, RefundPlan, Settlement
from domain.tax import parts_total


def _pending_keys(s: Settlement, generation: int) -> tuple[str, str]:
    """The keys of one generation of escrow's pending transfers; each refund from escrow starts
    a new one."""
    key = f"escrow:{s.seller_order_id}:{generation}"
    return f"{key}:net", f"{key}:commission"


def _pend(books: Books, s: Settlement, generation: int) -> None:
    net, commission = _pending_keys(s, generation)
    escrow = Chart.escrow(s.seller_id)
    books.transfer(
        net,
        escrow,
        Chart.seller_payable(s.seller_id),
        s.escrow_net_minor,
        kind="escrow_pending",
        pending=True,
    )
    books.transfer(
        commission,
        escrow,
        Chart.PLATFORM_COMMISSION,
        s.escrow_commission_minor,
        kind="escrow_pending",
        pending=True,
    )


def _void(books: Books, s: Settlement, generation: int) -> None:
    for key in _pending_keys(s, generation):
        books.void(key)


def _tax(books: Books, key: str, amount: int, *, back: bool) -> None:
    """Tax collected into the marketplace's `tax_payable`, or given back out of it."""
    payable, clearing = Chart.TAX_PAYABLE, Chart.PROCESSOR_CLEARING
    books.transfer(
        key,
        payable if back else clearing,
        clearing if back else payable,
        amount,
        kind="tax_refunded" if back else "tax_collected",
    )


def _platform_back(books: Books, key: str, source: str, amount: int) -> None:
    """What the platform funded of what goes back returns to its `promotions` expense."""
    books.transfer(key, source, Chart.PROMOTIONS, amount, kind="promotion_returned")


def receive_payment(books: Books, s: Settlement) -> None:
    """A paid seller order's money enters its seller's escrow, pending toward payable and
    commission: what the buyer paid for goods and shipping, and what the platform pays of them
    out of its `promotions` expense. Its tax goes to the marketplace's `tax_payable`, never to
    escrow."""
    escrow = Chart.escrow(s.seller_id)
    key = f"payment:{s.seller_order_id}"
    books.transfer(
        key, Chart.PROCESSOR_CLEARING, escrow, s.gross_minor - s.tax_minor, kind="payment"
    )
    books.transfer(
        f"{key}:promotion", Chart.PROMOTIONS, escrow, s.platform_funding_minor, kind="promotion"
    )
    _tax(books, f"{key}:tax", s.tax_minor, back=False)
    _pend(books, s, s.escrow_generation)


def release(books: Books, s: Settlement) -> None:
    for key in _pending_keys(s, s.escrow_generation):
        books.post(key)


def refund_cancelled(books: Books, s: Settlement) -> None:
    """A paid seller order was cancelled: escrow pays back what earlier refunds left in it,
    and `tax_payable` the tax they left."""
    _void(books, s, s.escrow_generation)
    key = f"refund:{s.seller_order_id}:cancelled"
    escrow = Chart.escrow(s.seller_id)
    books.transfer(key, escrow, Chart.PROCESSOR_CLEARING, s.goods_left_minor, kind="refund")
    _platform_back(books, f"{key}:promotion", escrow, s.platform_left_minor)
    _tax(books, f"{key}:tax", s.tax_minor - parts_total(s.tax_returned or {}), back=True)


def refund(books: Books, s: Settlement, plan: RefundPlan, refund_key: str) -> None:
    """Moves an approved refund. From escrow before release: the pending transfers are voided,
    the refund leaves escrow, and new ones keep aside what remains (a new generation). After
    release: the seller's part is charged to its receivable (netted against its next payout)
    and the commission is reversed out of revenue."""
    _tax(books, f"{refund_key}:tax", plan.tax_minor, back=True)
    if plan.from_escrow:
        _void(books, s, plan.generation_before)
        escrow = Chart.escrow(s.seller_id)
        books.transfer(
            refund_key,
            escrow,
            Chart.PROCESSOR_CLEARING,
            plan.amount_minor - plan.tax_minor,
            kind="refund",
        )
        _platform_back(books, f"{refund_key}:promotion", escrow, plan.platform_minor)
        if s.escrow_net_minor or s.escrow_commission_minor:
            _pend(books, s, s.escrow_generation)
        return
    # Released: the seller and the platform's revenue give back the goods (with what the
    # platform funded of them), the buyer's part to the buyer, the platform's to promotions.
    _platform_back(books, f"{refund_key}:promotion", Chart.PROCESSOR_CLEARING, plan.platform_minor)
    books.transfer(
        f"{refund_key}:net",
        Chart.seller_receivable(s.seller_id),
        Chart.PROCESSOR_CLEARING,
        plan.net_reversed_minor,
        kind="refund_chargeback",
    )
    books.transfer(
        f"{refund_key}:commission",
        Chart.PLATFORM_COMMISSION,
        Chart.PROCESSOR_CLEARING,
        plan.commission_reversed_minor,
        kind="commission_reversal",
    )


def return_late_payment(books: Books, key: str, amount: int) -> None:
    """A payment for an order that was already cancelled: it is received into unapplied
    payments, owed back to the buyer, and leaves again with the provider's refund."""
    books.transfer(
        f"{key}:received",
        Chart.PROCESSOR_CLEARING,
        Chart.UNAPPLIED_PAYMENTS,
        amount,
        kind="unapplied_payment",
    )
    books.transfer(
        f"{key}:returned",
        Chart.UNAPPLIED_PAYMENTS,
        Chart.PROCESSOR_CLEARING,
        amount,
        kind="refund",
    )


def _dispute_key(share: DisputeShare, s: Settlement) -> str:
    return f"dispute:{share.dispute_id}:{s.seller_order_id}"


def _reserve_legs(s: Settlement, share: DisputeShare) -> list[tuple[str, str, int]]:
    """Where a released seller order's disputed net was reserved from: (key part, account,
    amount), its payable as far as it went, its receivable for the rest."""
    return [
        ("payable", Chart.seller_payable(s.seller_id), share.from_payable_minor),
        ("receivable", Chart.seller_receivable(s.seller_id), share.from_receivable_minor),
    ]


def reserve_dispute(books: Books, s: Settlement, share: DisputeShare) -> None:
    """Reserves a released seller order's disputed net; escrow keeps a held one as it is."""
    if share.in_escrow:
        return
    key, reserve = _dispute_key(share, s), Chart.seller_dispute_reserve(s.seller_id)
    for part, source, amount in _reserve_legs(s, share):
        books.transfer(f"{key}:held:{part}", source, reserve, amount, kind="dispute_reserve")


def return_dispute_reserve(books: Books, s: Settlement, share: DisputeShare) -> None:
    """A won dispute: the reserve goes back to where it was taken from."""
    if share.in_escrow:
        return
    key, reserve = _dispute_key(share, s), Chart.seller_dispute_reserve(s.seller_id)
    for part, target, amount in _reserve_legs(s, share):
        books.transfer(
            f"{key}:returned:{part}", reserve, target, amount, kind="dispute_reserve_returned"
        )


def lose_dispute(
    books: Books, s: Settlement, share: DisputeShare, generation_before: int, fee_minor: int
) -> None:
    """A lost dispute's share leaves: out of escrow as a refund from it would (new pending
    transfers keep aside what remains), or out of the reserve with the commission reversed; and
    the seller's part of the fee is charged to its receivable."""
    key = _dispute_key(share, s)
    _tax(books, f"{key}:lost:tax", share.tax_minor, back=True)
    if share.in_escrow:
        _void(books, s, generation_before)
        escrow = Chart.escrow(s.seller_id)
        books.transfer(
            f"{key}:lost",
            escrow,
            Chart.PROCESSOR_CLEARING,
            share.amount_minor - share.tax_minor,
            kind="dispute_loss",
        )
        _platform_back(books, f"{key}:lost:promotion", escrow, share.platform_minor)
        if s.escrow_net_minor or s.escrow_commission_minor:
            _pend(books, s, s.escrow_generation)
    else:
        _platform_back(
            books, f"{key}:lost:promotion", Chart.PROCESSOR_CLEARING, share.platform_minor
        )
        books.transfer(
            f"{key}:lost:net",
            Chart.seller_dispute_reserve(s.seller_id),
            Chart.PROCESSOR_CLEARING,
            share.net_minor,
            kind="dispute_loss",
        )
        books.transfer(
            f"{key}:lost:commission",
            Chart.PLATFORM_COMMISSION,
            Chart.PROCESSOR_CLEARING,
            share.commission_minor,
            kind="commission_reversal",
        )
    books.transfer(
        f"{key}:fee",
        Chart.seller_receivable(s.seller_id),
        Chart.PROCESSOR_CLEARING,
        fee_minor,
        kind="dispute_fee",
    )


def platform_dispute_loss(books: Books, dispute_id: object, amount_minor: int) -> None:
    """What the platform bears of a lost dispute (the fee, if it takes it on, and any part of
    the amount no seller order held) leaves through its dispute losses."""
    books.transfer(
        f"dispute:{dispute_id}:platform",
        Chart.DISPUTE_LOSSES,
        Chart.PROCESSOR_CLEARING,
        amount_minor,
        kind="dispute_loss",
    )
