"""What each ledger transfer is about, for the accounting journal: the seller and the order
behind a line, and a memo an accountant can read.

A transfer's key names what moved the money; the shapes are made where money moves
(domain/escrow.py, domain/payouts.py, domain/plans.py, and the refund and late-payment services)
and read back here, in one place:

| key | about |
|---|---|
| `payment:<seller order>` | the buyer's payment of a seller order |
| `escrow:<seller order>:<generation>:net` / `:commission` | escrow's pending transfers |
| `refund:<seller order>:cancelled` | the refund of a cancelled seller order |
| `refund:<refund>` (`:net`, `:commission` after release) | an approved refund |
| `late-payment:<payment intent>:received` / `:returned` | a payment for a cancelled order |
| `payout:<payout>` / `payout:<payout>:netting` | a payout, and the receivable it netted |
| `plan-fee:<seller>:<month>:<segment>` / `plan-credit:...` | a seller's plan fee, or credit |
| `dispute:<dispute>:<seller order>:...` | a dispute's hold, release, loss or fee |
| `dispute:<dispute>:platform` | what the platform bears of a lost dispute |
| `processor-fee:<balance transaction>` | the fee the provider kept (reconciliation books it) |

The seller is read from the accounts instead: every transfer that concerns a seller moves money
in or out of one of its accounts."""

from __future__ import annotations

from dataclasses import dataclass

from domain.ledger import AccountType, Chart

SELLER_ACCOUNTS = ("escrow:", "seller:payable:", "seller:receivable:", "seller:dispute_reserve:")

MEMOS = {
    "payment": "payment received for a seller order, into its seller's escrow",
    "escrow_pending": "escrow released to the seller (net) or to commission revenue",
    "refund": "refund to the buyer",
    "refund_chargeback": "refund after release, charged back to the seller",
    "commission_reversal": "commission reversed by a refund after release",
    "unapplied_payment": "payment for an order already cancelled, owed back to the buyer",
    "payout": "payout to the seller",
    "receivable_netting": "what the seller owed, netted against its payout",
    "plan_fee": "seller plan fee",
    "plan_fee_credit": "seller plan fee credited back",
    "reversal": "correction of an earlier transfer",
    "dispute_reserve": "disputed amount reserved in the seller's dispute reserve",
    "dispute_reserve_returned": "dispute won, reserved amount given back to the seller",
    "dispute_loss": "dispute lost, disputed amount taken back by the card issuer",
    "dispute_fee": "fee of a lost dispute",
    "processor_fee": "fee the payment provider kept, booked by reconciliation",
    "processor_fee_returned": "fee the payment provider gave back, booked by reconciliation",
    "tax_collected": "tax collected for the authorities, into tax payable",
    "tax_refunded": "tax given back to the buyer with what it returns",
    "promotion": "the platform's part of a promotion, paid into the seller's escrow",
    "promotion_returned": "the platform's part of a promotion, back with what returns it",
}


@dataclass(frozen=True)
class Subject:
    """The record a transfer's key names; at most one of these is set."""

    seller_order_id: str | None = None
    refund_id: str | None = None
    payment_intent_id: str | None = None
    payout_id: str | None = None


def subject_of(key: str) -> Subject:
    head, _, rest = key.partition(":")
    parts = rest.split(":")
    if head in ("payment", "escrow"):
        return Subject(seller_order_id=parts[0])
    if head == "refund":
        if parts[1:2] == ["cancelled"]:  # and its tax, its promotion
            return Subject(seller_order_id=parts[0])
        return Subject(refund_id=parts[0])
    if head == "late-payment":
        return Subject(payment_intent_id=rest.rsplit(":", 1)[0])
    if head == "payout":
        return Subject(payout_id=parts[0])
    if head == "dispute" and len(parts) > 1 and parts[1] != "platform":
        return Subject(seller_order_id=parts[1])
    return Subject()


def seller_of(*codes: str) -> str | None:
    """The seller whose account is among `codes`, if any."""
    for code in codes:
        for prefix in SELLER_ACCOUNTS:
            if code.startswith(prefix):
                return code[len(prefix) :]
    return None


def memo(kind: str, key: str) -> str:
    return f"{MEMOS.get(kind, kind)} [{key}]"


def on_its_side(debits: int, credits: int) -> tuple[int, int]:
    """An account's balance as (debit, credit), one of them 0: on the side where it stands."""
    net = debits - credits
    return (net, 0) if net > 0 else (0, -net)


def account_type(code: str) -> str:
    kind: AccountType = Chart.kind_of(code)[0]
    return kind.value
