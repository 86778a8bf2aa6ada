"""Tax rules (domain/tax.py) and what a settlement gives back of it (domain/settlement.py):
the most specific rate, half to even per line, parts that add up, and the tax of exactly what
goes back."""

from __future__ import annotations

from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.money import split_half_even
from domain.seller_orders import SellerOrder
from domain.settlement import Settlement
from domain.settlement_values import tax_share
from domain.tax import (
    REGIONS,
    InvalidTaxRates,
    TaxTable,
    part_key,
    parts_total,
    tax_of,
)
from eventstore.currencies import install_iso_3166, install_iso_3166_2
from eventstore.mapper import EnvelopeMapper
from tests.unit.test_event_versions import base, stored

VAT, BOOKS = part_key(1900, "VAT"), part_key(700, "VAT reduced")


@pytest.fixture(autouse=True, scope="module")
def _iso_3166() -> None:
    install_iso_3166()
    install_iso_3166_2()


def table(*rates: dict[str, object], included: bool = False) -> TaxTable:
    return TaxTable.parse(included, list(rates))


def test_a_line_is_taxed_half_to_even_on_top_of_its_price_or_within_it() -> None:
    assert tax_of(250, 1000, included=False) == 25
    assert tax_of(5, 1000, included=False) == 0  # 0.5 -> 0, the even neighbour
    assert tax_of(15, 1000, included=False) == 2  # 1.5 -> 2
    assert tax_of(1190, 1900, included=True) == 190  # 1190 = 1000 + 19%
    assert tax_of(1000, 0, included=True) == 0
    assert tax_of(5997, 700, included=False) == 420  # 419.79


def test_the_most_specific_rate_applies() -> None:
    rates = table(
        {"country": "US", "rate_bps": 100, "name": "country"},
        {"country": "US", "region": "CA", "rate_bps": 200, "name": "region"},
        {"country": "US", "category": "Books", "rate_bps": 300, "name": "category"},
        {"country": "US", "region": "US-CA", "category": "books", "rate_bps": 400, "name": "both"},
    )

    def rate(region: str, category: str) -> int | None:
        found = rates.rate_for("US", region, category)
        return None if found is None else found.rate_bps

    assert rate("US-CA", "Books") == 400
    assert rate("US-NY", " BOOKS ") == 300  # categories compare as names do
    assert rate("US-CA", "Toys") == 200
    assert rate("US-NY", "Toys") == 100
    assert rates.rate_for("DE", "", "Books") is None


def test_a_rate_names_a_real_country_and_one_of_its_subdivisions() -> None:
    parsed = table({"country": "US", "region": "ca", "rate_bps": 725, "name": " Sales tax "})
    assert parsed.rates[0].region == "US-CA" and parsed.rates[0].name == "Sales tax"
    for bad in (
        {"country": "XX", "rate_bps": 1, "name": "n"},
        {"country": "de", "rate_bps": 1, "name": "n"},
        {"country": "DE", "region": "CA", "rate_bps": 1, "name": "n"},  # California is not German
        {"country": "DE", "rate_bps": -1, "name": "n"},
        {"country": "DE", "rate_bps": 10_001, "name": "n"},
        {"country": "DE", "rate_bps": True, "name": "n"},
        {"country": "DE", "rate_bps": 1, "name": "  "},
    ):
        with pytest.raises(InvalidTaxRates):
            table(bad)
    with pytest.raises(InvalidTaxRates):  # one place and category, one rate
        table(
            {"country": "DE", "category": "Books", "rate_bps": 700, "name": "a"},
            {"country": "DE", "category": " books", "rate_bps": 0, "name": "b"},
        )


def test_an_address_region_is_found_by_code_or_name() -> None:
    assert REGIONS.of_address("US", "California") == "US-CA"
    assert REGIONS.of_address("US", "ca") == "US-CA"
    assert REGIONS.of_address("US", "US-CA") == "US-CA"
    assert REGIONS.of_address("US", "Atlantis") == ""
    assert REGIONS.of_address("US", "") == ""


@given(
    st.integers(min_value=0, max_value=10**9),
    st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=8).filter(sum),
)
def test_a_split_adds_up_and_each_part_is_within_a_unit_of_its_share(
    amount: int, weights: list[int]
) -> None:
    parts = split_half_even(amount, weights)
    assert sum(parts) == amount
    whole = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        assert abs(part * whole - amount * weight) <= whole


def test_the_tax_of_what_goes_back_is_known_or_in_proportion_and_never_more() -> None:
    available = {VAT: 380, BOOKS: 420}
    assert tax_share(available, 8797, 8797) == available  # all that is left: all the tax
    assert parts_total(tax_share(available, 8797, 1000)) == 91  # 90.94
    assert tax_share(available, 8797, 2139, {BOOKS: 140}) == {BOOKS: 140}
    assert tax_share(available, 8797, 100, {BOOKS: 140}) == {BOOKS: 100}  # at most the amount
    # What the goods left cannot cover is tax: 800 of goods left, 1000 asked.
    assert parts_total(tax_share(available, 1600, 1000, {})) == 200


def taxed_order() -> SellerOrder:
    """A seller order of 3 books at 1999 (7%: 420) and a lamp at 2000 (19%: 380)."""
    line = {
        "product_id": str(uuid4()),
        "title": "x",
        "hold_id": "h",
        "commission_bps": 1000,
        "tax_included": False,
    }
    books = {
        **line,
        "variant_id": str(uuid4()),
        "quantity": 3,
        "unit_price_minor": 1999,
        "line_total_minor": 5997,
        "commission_minor": 600,
        "tax_minor": 420,
        "tax_rate_bps": 700,
        "tax_name": "VAT reduced",
    }
    lamp = {
        **line,
        "variant_id": str(uuid4()),
        "quantity": 1,
        "unit_price_minor": 2000,
        "line_total_minor": 2000,
        "commission_minor": 200,
        "tax_minor": 380,
        "tax_rate_bps": 1900,
        "tax_name": "VAT",
    }
    return SellerOrder(
        tenant_id=uuid4(),
        order_id=uuid4(),
        buyer_id=uuid4(),
        seller_id=uuid4(),
        currency="EUR",
        lines=[books, lamp],
        subtotal_minor=7997,
        commission_minor=800,
        seller_net_minor=7197,
        tax_minor=800,
        tax_country="DE",
    )


def test_refunds_give_back_tax_and_the_last_one_all_that_is_left() -> None:
    so = taxed_order()
    assert so.gross_minor == 8797 and so.tax_parts == {BOOKS: 420, VAT: 380}
    s = Settlement.fund(so)
    first = uuid4()
    s.request_refund(first, 1000)
    plan = s.refund(first)
    assert plan.tax_minor == 91
    # Commission is reversed on the goods alone: 10% of 909, half to even.
    assert plan.commission_reversed_minor == 91 and plan.net_reversed_minor == 818
    rest = uuid4()
    s.request_refund(rest, None)
    last = s.refund(rest)
    assert last.tax_minor == 800 - 91 and s.tax_left == {}
    assert s.escrow_net_minor == 0 and s.escrow_commission_minor == 0


def test_a_return_gives_back_its_lines_tax_and_every_unit_adds_up_to_the_line() -> None:
    so = taxed_order()
    books = so.order_lines[0].variant_id
    paid = []
    for _ in range(3):
        amount, tax, _ = so.paid_for({books: 1})
        paid.append((amount, tax))
        claim = uuid4()
        so._return_claimed(return_id=claim, lines={str(books): 1})
        so._return_ended(return_id=claim, received={str(books): 1})
    assert [amount for amount, _ in paid] == [2139, 2139, 2139]
    assert sum(tax[BOOKS] for _, tax in paid) == 420  # 140 each
    assert sum(amount for amount, _ in paid) == 5997 + 420


def test_a_lost_dispute_and_a_cancellation_give_back_their_tax() -> None:
    so = taxed_order()
    s = Settlement.fund(so)
    share = s.open_dispute(uuid4(), 4398, payable_available_minor=0)  # half the charge
    assert share.tax_minor == 400 and share.in_escrow
    assert share.net_minor == 4398 - 400 - share.commission_minor
    s.close_dispute(share.dispute_id, won=False, fee_minor=0)
    assert parts_total(s.tax_left) == 400
    assert s.cancel() == 8797 - 4398
    assert s.goods_left_minor + parts_total(s.tax_left) == 8797 - 4398


def test_settlement_events_stored_before_tax_load_with_none() -> None:
    mapper = EnvelopeMapper()
    funded = {
        **base(),
        "seller_order_id": uuid4(),
        "order_id": uuid4(),
        "seller_id": uuid4(),
        "buyer_id": uuid4(),
        "currency": "USD",
        "gross_minor": 100,
        "commission_minor": 10,
        "seller_net_minor": 90,
        "originator_topic": "domain.settlement:Settlement",
    }
    event = mapper.to_domain_event(stored(Settlement.Funded, funded))
    assert (event.tax_parts, event.tax_country, event.tax_region) == ({}, "", "")
    refunded = {
        **base(),
        "seller_order_id": uuid4(),
        "refund_id": uuid4(),
        "amount_minor": 10,
        "commission_reversed_minor": 1,
        "from_escrow": True,
    }
    assert mapper.to_domain_event(stored(Settlement.Refunded, refunded)).tax_parts == {}
    placed = {
        **base(),
        "order_id": uuid4(),
        "buyer_id": uuid4(),
        "seller_id": uuid4(),
        "currency": "USD",
        "lines": [],
        "subtotal_minor": 0,
        "commission_minor": 0,
        "seller_net_minor": 0,
        "originator_topic": "domain.seller_orders:SellerOrder",
    }
    so = mapper.to_domain_event(stored(SellerOrder.Placed, placed))
    assert (so.tax_minor, so.shipping_minor) == (0, 0)
