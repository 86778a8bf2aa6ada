from __future__ import annotations

from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.commission import CommissionRules, commission_of
from domain.identity import Tenant
from domain.order_lines import OrderLine, PricedLine


@pytest.mark.parametrize(
    ("amount", "bps", "expected"),
    [
        (10_000, 1000, 1000),  # exact
        (3998, 1000, 400),  # 399.8 rounds up
        (303, 1500, 45),  # 45.45 rounds down
        (555, 250, 14),  # 13.875 rounds up
        (50, 1000, 5),
        (25, 1000, 2),  # 2.5: half to even, down
        (35, 1000, 4),  # 3.5: half to even, up
        (1, 4999, 0),
        (1, 5000, 0),  # 0.5: half to even, down
        (3, 5000, 2),  # 1.5: half to even, up
        (0, 1000, 0),
        (999_999_999_999, 10_000, 999_999_999_999),
    ],
)
def test_commission_rounds_half_to_even_in_integers(amount: int, bps: int, expected: int) -> None:
    assert commission_of(amount, bps) == expected


@given(st.integers(0, 10**13), st.integers(0, 10_000))
def test_commission_and_net_always_make_the_whole(amount: int, bps: int) -> None:
    commission = commission_of(amount, bps)
    assert 0 <= commission <= amount
    assert commission + (amount - commission) == amount
    # Never more than half a minor unit away from the exact value.
    assert abs(commission * 10_000 - amount * bps) <= 5_000


@pytest.mark.parametrize(
    ("product", "category", "seller", "expected"),
    [
        (None, None, None, 1000),
        (None, None, 700, 700),
        (None, 300, 700, 300),
        (150, 300, 700, 150),
        (0, 300, 700, 0),  # a zero rate is a rule, not an absence of one
        (None, 0, 700, 0),
        (None, None, 0, 0),
    ],
)
def test_the_most_specific_commission_rule_wins(
    product: int | None, category: int | None, seller: int | None, expected: int
) -> None:
    rules = CommissionRules(1000, {"books": category} if category is not None else {})
    assert rules.rate(product_bps=product, category="books", seller_bps=seller) == expected
    assert rules.rate(product_bps=None, category="garden", seller_bps=None) == 1000


def test_a_priced_line_records_its_commission() -> None:
    line = PricedLine(uuid4(), uuid4(), "Pen", 3, 333, "EUR", 1250)
    ordered = line.ordered("h1")
    assert ordered.line_total_minor == 999
    assert ordered.commission_minor == commission_of(999, 1250) == 125  # 124.875
    assert OrderLine.from_record(ordered.as_record()) == ordered


def test_a_category_override_applies_however_its_name_was_spelled_in_unicode() -> None:
    """Composed and decomposed "Café" are one category (issue 27): an override set in one
    form applies to products whose category is in the other, and case does not matter."""
    decomposed, composed = "Cafe\u0301", "Caf\u00e9"
    rules = CommissionRules(1000, {decomposed: 500})
    assert rules.rate(product_bps=None, category=composed, seller_bps=None) == 500
    assert rules.rate(product_bps=None, category="CAFÉ", seller_bps=None) == 500
    assert rules.rate(product_bps=None, category="Cafe", seller_bps=None) == 1000


def test_a_tenants_name_and_category_overrides_are_kept_in_nfc() -> None:
    tenant = Tenant.register(
        tenant_id=uuid4(),
        name="Cafe\u0301 Market",
        currency="EUR",
        commission_bps=1000,
        escrow_hold_days=0,
    )
    tenant.set_category_commission("Cafe\u0301", 700)
    assert tenant.name == "Caf\u00e9 Market"
    assert tenant.category_commission == {"Caf\u00e9": 700}
