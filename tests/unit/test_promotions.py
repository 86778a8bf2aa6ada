"""Promotion rules (domain/promotions.py): what a promotion fits, how its discount splits over
the lines, one promotion after another, its limits, and what the platform funds of a line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.bootstrap import Container
from domain.discounts import Candidate, DiscountLine, LineDiscount, apply_all, discount
from domain.ledger import Chart
from domain.money import Money
from domain.order_lines import LineTax, PricedLine
from domain.promotions import (
    CodeTaken,
    InvalidPromotion,
    Promotion,
    PromotionBook,
    PromotionUnavailable,
    Terms,
)
from domain.seller_orders import SellerOrder
from domain.settlement import RefundTooLarge, Settlement
from eventstore.context import CommandContext
from projections.scope import TenantScope

SELLER, OTHER = UUID(int=1), UUID(int=2)
MUG, LAMP, BOOK = UUID(int=11), UUID(int=12), UUID(int=13)
NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)


def line(product: UUID, value: int, seller: UUID = SELLER, category: str = "Home") -> DiscountLine:
    return DiscountLine(product, product, seller, category, value)


def terms(**kw: object) -> Terms:
    base: dict[str, object] = {"kind": "percent", "percent": 10, "funded_by": "platform"}
    return Terms.made(currency="USD", **{**base, **kw})


LINES = [line(MUG, 1000), line(LAMP, 3000, category="Lighting"), line(BOOK, 2000, OTHER)]


def test_a_promotion_fits_its_products_category_and_seller_only() -> None:
    assert terms(product_ids=[MUG]).fits(LINES[0]) and not terms(product_ids=[MUG]).fits(LINES[1])
    assert terms(category="lighting").fits(LINES[1]) and not terms(category="Toys").fits(LINES[1])
    by_seller = terms(funded_by="seller", seller_id=SELLER)
    assert [by_seller.fits(x) for x in LINES] == [True, True, False]
    taken = discount(uuid4(), terms(category="Lighting"), LINES, {})
    assert taken is not None and dict(taken.lines) == {LAMP: 300}


def test_a_minimum_subtotal_counts_the_lines_it_fits() -> None:
    assert discount(uuid4(), terms(min_subtotal_minor=4001, seller_id=SELLER), LINES, {}) is None
    assert discount(uuid4(), terms(min_subtotal_minor=4000, seller_id=SELLER), LINES, {})


def test_an_amount_splits_by_value_half_to_even_and_never_exceeds_what_it_fits() -> None:
    taken = discount(uuid4(), terms(kind="amount", percent=None, amount_minor=500), LINES, {})
    assert taken is not None and dict(taken.lines) == {MUG: 83, LAMP: 250, BOOK: 167}
    capped = discount(
        uuid4(),
        terms(kind="amount", percent=None, amount_minor=10**6, product_ids=[MUG]),
        LINES,
        {},
    )
    assert capped is not None and dict(capped.lines) == {MUG: 1000}


def test_free_shipping_takes_the_shipping_of_the_sellers_whose_lines_it_fits() -> None:
    free = terms(kind="free_shipping", percent=None, category="Lighting")
    taken = discount(uuid4(), free, LINES, {SELLER: 700, OTHER: 500})
    assert taken is not None and dict(taken.shipping) == {SELLER: 700} and not taken.lines


@given(
    st.lists(st.integers(1, 10**6), min_size=1, max_size=6),
    st.integers(1, 100),
    st.integers(1, 10**7),
)
def test_promotions_apply_one_after_another_and_each_splits_exactly(
    values: list[int], percent: int, amount: int
) -> None:
    lines = [line(UUID(int=100 + i), v) for i, v in enumerate(values)]
    first = Candidate(uuid4(), terms(percent=percent), by_code=False)
    second = Candidate(
        uuid4(), terms(kind="amount", percent=None, amount_minor=amount), by_code=False
    )
    applied = apply_all([first, second], lines, {})
    total = sum(values)
    off = round(Fraction(total * percent, 100))  # half to even
    expected = ([off] if off else []) + ([min(amount, total - off)] if total - off else [])
    assert [d.amount_minor for d in applied.discounts] == expected
    for each in lines:  # no line loses more than it is worth, and the parts add up
        taken = applied.lines.get(each.key, LineDiscount())
        assert 0 <= taken.platform_minor <= each.value_minor
    assert sum(x.platform_minor for x in applied.lines.values()) == sum(expected)


def test_a_code_that_fits_nothing_or_cannot_be_used_is_refused_an_automatic_one_passed() -> None:
    nothing = Candidate(uuid4(), terms(product_ids=[uuid4()]), by_code=True)
    with pytest.raises(PromotionUnavailable):
        apply_all([nothing], LINES, {})
    assert apply_all([nothing], LINES, {}, strict=False).discounts == []
    ended = Candidate(uuid4(), terms(), by_code=False, why_not="it ended")
    assert apply_all([ended], LINES, {}).discounts == []


def test_uses_count_within_their_limits_and_come_back() -> None:
    promotion = Promotion(
        tenant_id=uuid4(),
        terms=terms(usage_limit=2, per_buyer_limit=1).as_record(),
        created_by=uuid4(),
    )
    first, second = uuid4(), uuid4()
    assert promotion.redeem(first, "ada", NOW)
    with pytest.raises(PromotionUnavailable, match="as often as it may"):
        promotion.redeem(uuid4(), "ada", NOW)
    promotion.redeem(second, "bob", NOW)
    with pytest.raises(PromotionUnavailable, match="used up"):
        promotion.redeem(uuid4(), "cy", NOW)
    promotion.release(first)
    assert promotion.redeem(uuid4(), "cy", NOW)
    unlimited = Promotion(tenant_id=uuid4(), terms=terms().as_record(), created_by=uuid4())
    assert not unlimited.redeem(uuid4(), "ada", NOW) and unlimited.uses == {}
    dated = terms(starts_at=NOW + timedelta(days=1), ends_at=NOW + timedelta(days=2))
    assert dated.why_not(NOW) and dated.why_not(NOW + timedelta(days=3))
    assert dated.why_not(NOW + timedelta(days=1, hours=1)) is None


@pytest.mark.parametrize(
    "bad",
    [
        {"percent": 0},
        {"percent": 101},
        {"kind": "amount", "percent": None},
        {"kind": "free_shipping"},  # with a percentage
        {"funded_by": "seller"},  # whose?
        {"code": "two words"},
        {"usage_limit": 0},
        {"starts_at": NOW, "ends_at": NOW},
    ],
)
def test_bad_terms_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(InvalidPromotion):
        terms(**bad)


def test_the_platform_funds_the_goods_the_buyer_does_not_pay() -> None:
    priced = PricedLine(
        MUG,
        SELLER,
        "Mug",
        1,
        1190,
        "EUR",
        1000,
        tax=LineTax(1900, "VAT", included=True),
        discount=LineDiscount(platform_minor=119),
    )
    # The buyer pays 1071 (171 of it tax); the seller sells 1000 of goods, 100 of them the
    # platform's; commission is on the 1000.
    assert (priced.tax_minor, priced.goods_minor, priced.platform_funding_minor) == (171, 1000, 100)
    ordered = priced.ordered("h")
    assert (ordered.paid_minor, ordered.goods_minor, ordered.commission_minor) == (1071, 1000, 100)
    by_seller = PricedLine(
        MUG,
        SELLER,
        "Mug",
        1,
        1190,
        "EUR",
        1000,
        tax=LineTax(1900, "VAT", included=True),
        discount=LineDiscount(seller_minor=119),
    )
    assert (by_seller.goods_minor, by_seller.platform_funding_minor) == (900, 0)


def funded_order() -> SellerOrder:
    """Two lines of 100 at 10% commission: A with 50 off funded by the platform, B without."""

    def line(price_off: int) -> dict[str, object]:
        return {
            "product_id": str(uuid4()),
            "variant_id": str(uuid4()),
            "title": "x",
            "hold_id": "h",
            "quantity": 1,
            "unit_price_minor": 100,
            "line_total_minor": 100,
            "commission_bps": 1000,
            "commission_minor": 10,
            "discount_minor": price_off,
            "platform_funding_minor": price_off,
        }

    return SellerOrder(
        tenant_id=uuid4(),
        order_id=uuid4(),
        buyer_id=uuid4(),
        seller_id=uuid4(),
        currency="USD",
        lines=[line(50), line(0)],
        subtotal_minor=200,
        commission_minor=20,
        seller_net_minor=180,
        discount_minor=50,
        platform_funding_minor=50,
    )


def test_a_return_gives_the_platform_back_what_it_funded_of_the_lines_returned_only() -> None:
    so = funded_order()
    assert so.gross_minor == 150  # the buyer paid 50 for A and 100 for B
    first, second = (line.variant_id for line in so.order_lines)
    assert so.paid_for({second: 1}) == (100, {}, 0)  # B: nothing the platform funded
    assert so.paid_for({first: 1}) == (50, {}, 50)
    s = Settlement.fund(so)
    refund = uuid4()
    s.request_refund(refund, 100, {}, 0)
    plan = s.refund(refund)
    # B goes back: the seller gives up its 100 less its commission, and keeps A's 90 net.
    assert (plan.platform_minor, plan.commission_reversed_minor) == (0, 10)
    assert s.escrow_net_minor == 90 and s.platform_left_minor == 50


def test_a_return_of_the_last_the_buyer_paid_gives_the_platform_back_its_shipping_too() -> None:
    """Shipping the platform made free is no line's: were the return that pays back the last of
    what the buyer paid to give back only its lines' funding, the refunded seller order would
    keep the rest in escrow, which never releases a refunded seller order."""
    so = funded_order()
    so = SellerOrder(
        tenant_id=so.tenant_id,
        order_id=so.order_id,
        buyer_id=so.buyer_id,
        seller_id=so.seller_id,
        currency="USD",
        lines=so.lines[1:],  # B alone, 100, nothing off it
        subtotal_minor=100,
        commission_minor=10,
        seller_net_minor=124,
        shipping_minor=34,
        discount_minor=34,
        platform_funding_minor=34,
    )
    assert so.gross_minor == 100  # the platform pays the shipping
    (line,) = so.order_lines
    assert so.paid_for({line.variant_id: 1}) == (100, {}, 0)
    s = Settlement.fund(so)
    refund = uuid4()
    s.request_refund(refund, 100, {}, 0)
    plan = s.refund(refund)
    assert (plan.whole, plan.platform_minor, plan.commission_reversed_minor) == (True, 34, 10)
    assert (s.escrow_net_minor, s.escrow_commission_minor, s.platform_left_minor) == (0, 0, 0)


def test_a_refund_asked_for_before_a_dispute_took_the_rest_is_refused() -> None:
    s = Settlement.fund(funded_order())
    refund = uuid4()
    s.request_refund(refund, None)  # all of it, 150
    s.reject_refund(refund)
    s.request_refund(refund := uuid4(), 150)
    share = s.open_dispute(uuid4(), 150, payable_available_minor=0)
    s.close_dispute(share.dispute_id, won=False, fee_minor=0)
    with pytest.raises(RefundTooLarge):
        s.refund(refund)


def test_the_scheduler_ends_promotions_past_their_end_and_frees_their_codes(
    embedded: Container,
) -> None:
    c = embedded
    ctx = CommandContext.system("test")
    tenant = c.identity.register_tenant(
        ctx,
        name="M",
        currency="USD",
        commission_bps=0,
        escrow_hold_days=0,
        product_moderation="auto",
    ).id

    def make(code: str | None, ends_at: datetime) -> UUID:
        return c.promotions.create(
            ctx,
            tenant,
            tenant,
            acting_seller=None,
            created_by=uuid4(),
            terms={
                "code": code,
                "kind": "percent",
                "percent": 5,
                "funded_by": "platform",
                "ends_at": ends_at,
            },
        ).id

    soon = datetime.now(UTC) - timedelta(hours=1)  # ended an hour ago
    coded, automatic, later = make("WEEK", soon), make(None, soon), make(None, soon + timedelta(1))
    with pytest.raises(CodeTaken):
        make("WEEK", soon + timedelta(days=7))
    c.catch_up()
    assert c.scheduler.run_once(soon - timedelta(minutes=1)) == 0  # not over yet
    now = datetime.now(UTC)
    c.scheduler.run_once(now)
    book = c.checkout.repository.get(PromotionBook.create_id(tenant))
    assert (book.codes, book.automatic) == ({}, [str(later)])
    assert book.find("week") == coded  # ended: still found, so a buyer is told it ended
    assert all(c.checkout.repository.get(p).ended_at == now for p in (coded, automatic))
    again = make("WEEK", soon + timedelta(days=7))  # the code is free again
    assert c.checkout.repository.get(PromotionBook.create_id(tenant)).find("WEEK") == again
    c.catch_up()
    statuses = {
        p["id"]: p["status"]
        for p in c.promotion_queries.page(
            TenantScope.only(tenant), seller_id=None, limit=10, cursor=None
        ).items
    }
    assert statuses[str(coded)] == statuses[str(automatic)] == "ended"


def test_cancelling_an_order_promotions_made_free_gives_the_platform_back_what_it_funded(
    embedded: Container,
) -> None:
    """The buyer paid nothing, so nothing goes back to them; escrow still holds what the
    platform funded, with its pending transfers to the seller and to commission, and a
    cancelled seller order is never released: all of it goes back to promotions."""
    c, ctx = embedded, CommandContext.system("test")
    tenant = c.identity.register_tenant(
        ctx,
        name="M",
        currency="USD",
        commission_bps=1000,
        escrow_hold_days=0,
        product_moderation="auto",
    ).id
    seller = c.sellers.register_seller(
        ctx, tenant_id=tenant, user_id=uuid4(), display_name="S", country="DE"
    ).id
    c.sellers.approve(ctx, seller, tenant)
    product, _ = c.catalog.list_product(
        ctx,
        seller_id=seller,
        within=tenant,
        sku="P",
        title="P",
        description="",
        category="c",
        price=Money(357, "USD"),
        attributes={},
    )
    c.catalog.set_stock(ctx, product.id, seller, "main", 10)
    c.promotions.create(
        ctx,
        tenant,
        tenant,
        acting_seller=None,
        created_by=uuid4(),
        terms={"kind": "amount", "funded_by": "platform", "amount": Money(1000, "USD")},
    )
    buyer = uuid4()
    cart = c.checkout.open_cart(ctx, tenant, buyer).id
    c.checkout.set_quantity(ctx, cart, buyer, product.id, 1)
    address = {"name": "M", "line1": "1", "city": "C", "postal_code": "1", "country": "DE"}
    done = c.checkout.checkout(
        ctx,
        tenant_id=tenant,
        buyer_id=buyer,
        cart_id=cart,
        shipping_address=address,
        idempotency_key="k",
    )
    assert (done.order.total_minor, done.order.status) == (0, "paid")
    c.checkout.cancel(ctx, done.order.id, tenant, None)
    c.catch_up()
    accounts = {
        a["code"]: a for a in c.ledger_queries.accounts(TenantScope.only(tenant), currency="USD")
    }
    for code in (Chart.PROMOTIONS, Chart.escrow(seller), Chart.PLATFORM_COMMISSION):
        held = accounts[code]
        assert held["balance"]["amount"] == held["credits_pending"]["amount"] == 0, code
    assert accounts[Chart.seller_payable(seller)]["credits_pending"]["amount"] == 0
