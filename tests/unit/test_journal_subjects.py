"""The journal reads what each transfer is about from its key: every shape a key is made in,
made by the code that makes it where that code is pure."""

from __future__ import annotations

from uuid import NAMESPACE_URL, uuid5

import pytest

from domain import journal
from domain.journal import Subject

# Fixed ids: test ids are made of them, and parallel runs must collect the same tests.
SO, REFUND, PAYOUT, SELLER = (str(uuid5(NAMESPACE_URL, f"journal:{n}")) for n in range(4))


@pytest.mark.parametrize(
    ("key", "subject"),
    [
        (f"payment:{SO}", Subject(seller_order_id=SO)),
        (f"escrow:{SO}:0:net", Subject(seller_order_id=SO)),
        (f"escrow:{SO}:2:commission", Subject(seller_order_id=SO)),
        (f"refund:{SO}:cancelled", Subject(seller_order_id=SO)),
        (f"refund:{SO}:cancelled:tax", Subject(seller_order_id=SO)),
        (f"refund:{SO}:cancelled:promotion", Subject(seller_order_id=SO)),
        (f"payment:{SO}:tax", Subject(seller_order_id=SO)),
        (f"payment:{SO}:promotion", Subject(seller_order_id=SO)),
        (f"refund:{REFUND}:tax", Subject(refund_id=REFUND)),
        (f"refund:{REFUND}:promotion", Subject(refund_id=REFUND)),
        (f"refund:{REFUND}", Subject(refund_id=REFUND)),
        (f"refund:{REFUND}:net", Subject(refund_id=REFUND)),
        (f"refund:{REFUND}:commission", Subject(refund_id=REFUND)),
        ("late-payment:pi_123:received", Subject(payment_intent_id="pi_123")),
        ("late-payment:pi_123:returned", Subject(payment_intent_id="pi_123")),
        (f"payout:{PAYOUT}", Subject(payout_id=PAYOUT)),
        (f"payout:{PAYOUT}:netting", Subject(payout_id=PAYOUT)),
        (f"plan-fee:{SELLER}:2026-12:1", Subject()),
        (f"plan-credit:{SELLER}:2026-12:1:payable", Subject()),
    ],
)
def test_a_key_names_what_moved_the_money(key: str, subject: Subject) -> None:
    assert journal.subject_of(key) == subject


def test_the_seller_is_read_from_its_accounts() -> None:
    assert journal.seller_of("processor:clearing", f"escrow:{SELLER}") == SELLER
    assert journal.seller_of(f"seller:payable:{SELLER}", "processor:clearing") == SELLER
    assert journal.seller_of("platform:plan_fees", f"seller:receivable:{SELLER}") == SELLER
    assert journal.seller_of("platform:commission", "processor:clearing") is None


def test_a_balance_stands_on_one_side() -> None:
    assert journal.on_its_side(700, 200) == (500, 0)
    assert journal.on_its_side(200, 700) == (0, 500)
    assert journal.on_its_side(300, 300) == (0, 0)
