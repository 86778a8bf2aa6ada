"""What a payment provider may tell Velora, over HTTP as Stripe sends it: amounts are bounded
(nothing Stripe could send is beyond 10^12 minor units) and checked against the charge they
concern before anything is recorded; a dispute of more than was charged, of an order never
paid, or closed with a fee larger than the charge is flagged for a person and books nothing; a
late payment must be the intent's amount; the Stripe-Signature's `t` is plain digits and not
in the future; ids holding control characters are refused. After a refused event the read
side keeps moving: a later write is readable at its position."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
from typing import Any
from uuid import uuid4

from api.bootstrap import Container
from tests.e2e.client import Api, assert_problem
from tests.e2e.dispute_scenarios import dispute_event
from tests.e2e.money_scenarios import accounts, balanced
from tests.e2e.shop import Shop, intent_event
from tests.e2e.world import Marketplace

BEYOND_INT64 = 2**63  # 9223372036854775808: what stopped the projectors


def with_fee(event: dict[str, Any], fee: int) -> dict[str, Any]:
    """Another event of the same dispute, every balance transaction's fee set to `fee`."""
    changed = copy.deepcopy(event)
    changed["id"] = f"evt_{uuid4().hex}"
    for transaction in changed["data"]["object"]["balance_transactions"]:
        transaction["fee"] = fee
    return changed


def signature(secret: str, payload: bytes, signed_at: int, written: str) -> str:
    """A Stripe-Signature that signs `payload` at `signed_at` (as Stripe's SDK checks it: the
    integer the `t=` parses to) but writes its `t=` as `written`."""
    digest = hmac.new(
        secret.encode(), f"{signed_at}.".encode() + payload, hashlib.sha256
    ).hexdigest()
    return f"t={written},v1={digest}"


class ProviderBoundsScenarios(Shop):
    def setting(self, api: Api, root: str) -> tuple[Marketplace, str, str, str]:
        """A marketplace (10% commission, released on delivery), an approved seller, a buyer,
        and a finance admin kept on the scenario: (m, seller, seller id, buyer)."""
        m = self.marketplace(api, root, moderation="auto", hold_days=0)
        seller, seller_id = self.approved_seller(api, m)
        self.finance = self.platform_user(api, root, "finance_admin")
        return m, seller, seller_id, self.user(api, m, "buyer")

    def placed(self, api: Api, buyer: str, product: str) -> dict[str, Any]:
        return dict(self.checkout(api, buyer, self.cart(api, buyer, {product: 1})).json())

    def paid(self, api: Api, container: Container, buyer: str, product: str) -> dict[str, Any]:
        order = self.placed(api, buyer, product)
        intent = order["payment"]["intent_id"]
        paid = intent_event("payment_intent.succeeded", intent, 1_000)
        assert self.outcome(api, container, paid) == "paid"
        return order

    def outcome(self, api: Api, container: Container, event: dict[str, Any]) -> str:
        response = self.post_event(api, container, event)
        assert response.status_code == 200, response.text
        return str(response.json()["outcome"])

    def refused(self, api: Api, container: Container, event: dict[str, Any]) -> None:
        """The event answers 400 problem+json and nothing is recorded."""
        head = container.log.head()
        assert_problem(self.post_event(api, container, event), 400)
        assert container.log.head() == head

    def test_a_fee_beyond_int64_is_refused_and_the_read_side_keeps_moving(
        self, api: Api, root: str, container: Container
    ) -> None:
        """The exact attack: a signed, lost `charge.dispute.closed` whose balance transaction's
        fee is 2^63. It is malformed (400) and stored nowhere, so no projector meets it."""
        m, seller, _, buyer = self.setting(api, root)
        product = self.stocked(api, seller, 5, 1_000)
        order = self.paid(api, container, buyer, product)
        intent = order["payment"]["intent_id"]
        before = accounts(api, self.finance, m.tenant_id)
        poison = dispute_event("charge.dispute.closed", "dp_poison", intent, 1_000, "lost")
        self.refused(api, container, with_fee(poison, BEYOND_INT64))
        self.refused(api, container, with_fee(poison, -BEYOND_INT64))
        self.refused(api, container, with_fee(poison, 10**12 + 1))
        for amount in (BEYOND_INT64, 2**62 + 1, 10**12 + 1):
            huge = intent_event("payment_intent.succeeded", intent, amount)
            self.refused(api, container, huge)
            self.refused(
                api,
                container,
                dispute_event("charge.dispute.created", "dp_huge", intent, amount, "open"),
            )
        # A later write is read at its position: the projectors did not stop.
        opened = dispute_event("charge.dispute.created", "dp_fine", intent, 400, "needs_response")
        assert self.outcome(api, container, opened) == "disputed"
        seen = api.get(f"/v1/orders/{order['order_id']}", token=buyer)
        assert seen.status_code == 200, seen.text
        assert seen.json()["dispute_status"] == "open"
        later = self.stocked(api, seller, 1, 700)
        assert api.get(f"/v1/products/{later}", token=buyer).status_code == 200
        assert accounts(api, self.finance, m.tenant_id) == before  # a dispute in escrow: held
        balanced(api, self.finance, m.tenant_id)

    def test_disputes_beyond_the_charge_book_nothing_and_flag_the_order(
        self, api: Api, root: str, container: Container
    ) -> None:
        """A dispute of 10^12 on a 1,000 charge, and disputes that together claim more than
        the charge, are a person's to look at: nothing held, nothing lost, the books as they
        were."""
        m, seller, _, buyer = self.setting(api, root)
        product = self.stocked(api, seller, 5, 1_000)
        order = self.paid(api, container, buyer, product)
        intent, so = order["payment"]["intent_id"], order["seller_orders"][0]["id"]
        before = accounts(api, self.finance, m.tenant_id)
        assert before["processor:clearing"] == 1_000
        for kind, status in (("charge.dispute.created", "open"), ("charge.dispute.closed", "lost")):
            event = dispute_event(kind, "dp_trillion", intent, 10**12, status)
            assert self.outcome(api, container, event) == "flagged"
        after = accounts(api, self.finance, m.tenant_id)
        assert after == before
        assert "platform:dispute_losses" not in after
        seen = api.get(f"/v1/orders/{order['order_id']}", token=buyer).json()
        assert (seen["needs_review"], seen["dispute_status"]) == (True, "none")
        assert "exceed" in seen["review_reason"]
        view = api.get(f"/v1/seller-orders/{so}", token=seller).json()
        assert (view["dispute_status"], view["escrow_status"]) == ("none", "held")

        # Two disputes of one charge: the first fits, the second would take it past 1,000.
        first = dispute_event("charge.dispute.closed", "dp_first", intent, 600, "lost")
        assert self.outcome(api, container, with_fee(first, 0)) == "lost"
        second = dispute_event("charge.dispute.closed", "dp_second", intent, 600, "lost")
        assert self.outcome(api, container, with_fee(second, 0)) == "flagged"
        books = accounts(api, self.finance, m.tenant_id)
        assert books["processor:clearing"] == 1_000 - 600
        assert "platform:dispute_losses" not in books
        balanced(api, self.finance, m.tenant_id)

    def test_a_dispute_of_an_order_never_paid_books_nothing(
        self, api: Api, root: str, container: Container
    ) -> None:
        """A lost dispute of a pending order (the attack booked 2^62+1 to the platform's
        dispute losses) and of an order cancelled before it was paid: flagged, never booked."""
        m, seller, _, buyer = self.setting(api, root)
        product = self.stocked(api, seller, 5, 1_000)
        pending = self.placed(api, buyer, product)
        cancelled = self.placed(api, buyer, product)
        done = api.post(f"/v1/orders/{cancelled['order_id']}/cancel", token=buyer)
        assert done.status_code == 200, done.text
        for order in (pending, cancelled):
            intent = order["payment"]["intent_id"]
            dispute = f"dp_{uuid4().hex[:8]}"
            self.refused(
                api,
                container,
                dispute_event("charge.dispute.closed", dispute, intent, 2**62 + 1, "lost"),
            )
            lost = dispute_event("charge.dispute.closed", dispute, intent, 1_000, "lost")
            assert self.outcome(api, container, lost) == "flagged"
            opened = dispute_event("charge.dispute.created", dispute, intent, 1_000, "open")
            assert self.outcome(api, container, opened) == "flagged"
            seen = api.get(f"/v1/orders/{order['order_id']}", token=buyer).json()
            assert (seen["needs_review"], seen["dispute_status"]) == (True, "none")
            assert "never paid" in seen["review_reason"]
        assert accounts(api, self.finance, m.tenant_id) == {}  # no movement at all
        balanced(api, self.finance, m.tenant_id)

    def test_a_fee_larger_than_the_charge_is_flagged_not_booked(
        self, api: Api, root: str, container: Container
    ) -> None:
        m, seller, seller_id, buyer = self.setting(api, root)
        product = self.stocked(api, seller, 5, 1_000)
        order = self.paid(api, container, buyer, product)
        intent, so = order["payment"]["intent_id"], order["seller_orders"][0]["id"]
        opened = dispute_event("charge.dispute.created", "dp_fee", intent, 1_000, "open")
        assert self.outcome(api, container, opened) == "disputed"
        held = accounts(api, self.finance, m.tenant_id)
        lost = dispute_event("charge.dispute.closed", "dp_fee", intent, 1_000, "lost")
        assert self.outcome(api, container, with_fee(lost, 10**12)) == "flagged"
        assert self.outcome(api, container, with_fee(lost, 1_001)) == "flagged"
        assert accounts(api, self.finance, m.tenant_id) == held
        view = api.get(f"/v1/seller-orders/{so}", token=seller).json()
        assert view["dispute_status"] == "open"  # still open, for a person to settle
        # The fee Stripe charges closes it.
        assert self.outcome(api, container, with_fee(lost, 150)) == "lost"
        books = accounts(api, self.finance, m.tenant_id)
        assert books["processor:clearing"] == 1_000 - 1_000 - 150
        assert books[f"seller:receivable:{seller_id}"] == 150
        balanced(api, self.finance, m.tenant_id)

    def test_a_late_payment_is_returned_only_when_it_is_the_intents_amount(
        self, api: Api, root: str, container: Container
    ) -> None:
        m, seller, _, buyer = self.setting(api, root)
        product = self.stocked(api, seller, 5, 1_000)
        order = self.placed(api, buyer, product)
        intent = order["payment"]["intent_id"]
        assert api.post(f"/v1/orders/{order['order_id']}/cancel", token=buyer).status_code == 200
        for amount, currency in ((10**12, "usd"), (999, "usd"), (1_000, "eur")):
            late = intent_event("payment_intent.succeeded", intent, amount, currency)
            assert self.outcome(api, container, late) == "flagged"
        assert accounts(api, self.finance, m.tenant_id) == {}
        seen = api.get(f"/v1/orders/{order['order_id']}", token=buyer).json()
        assert seen["needs_review"] is True and seen["payment"]["returned"]["amount"] == 0
        late = intent_event("payment_intent.succeeded", intent, 1_000)
        assert self.outcome(api, container, late) == "refunded"
        books = accounts(api, self.finance, m.tenant_id)
        assert (books["processor:clearing"], books["payments:unapplied"]) == (0, 0)
        # An order paid, then cancelled, is not paid a second time by a stray success.
        paid = self.paid(api, container, buyer, product)
        assert api.post(f"/v1/orders/{paid['order_id']}/cancel", token=buyer).status_code == 200
        again = intent_event("payment_intent.succeeded", paid["payment"]["intent_id"], 1_000)
        assert self.outcome(api, container, again) == "ignored"
        balanced(api, self.finance, m.tenant_id)

    def test_a_signature_whose_t_is_not_plain_digits_is_refused(
        self, api: Api, root: str, container: Container
    ) -> None:
        """Python's int() reads "+123", " 123" and "17966_01743"; Stripe writes digits only.
        Each of these is signed correctly for the number it reads as, and refused."""
        _, seller, _, buyer = self.setting(api, root)
        product = self.stocked(api, seller, 5, 1_000)
        order = self.placed(api, buyer, product)
        event = intent_event("payment_intent.succeeded", order["payment"]["intent_id"], 1_000)
        payload = json.dumps(event).encode()
        secret = container.webhook_secret
        now = int(time.time())
        future = now + 10 * 365 * 86_400
        headers = [
            signature(secret, payload, future, f"+{future}"),
            signature(secret, payload, future, f"{future:_}"),  # read as 17966_01743 was
            signature(secret, payload, now, f"+{now}"),
            signature(secret, payload, now, f" {now}"),
            signature(secret, payload, now, f"{now} "),
            signature(secret, payload, now, f"{now:_}"),
            signature(secret, payload, now, f"0x{now:x}"),
            signature(secret, payload, future, str(future)),  # plain, but in the future
            signature(secret, payload, now, str(now)) + f",t={now}",  # two timestamps
            signature(secret, payload, now, str(now)).replace(",", ", "),
            f"t={now}",  # no signature
            "v1=abc",  # no timestamp
            "garbage",
        ]
        head = container.log.head()
        for header in headers:
            response = api.post(
                "/v1/webhooks/stripe", content=payload, headers={"Stripe-Signature": header}
            )
            assert_problem(response, 400)
        assert container.log.head() == head
        plain = signature(secret, payload, now, str(now))
        response = api.post(
            "/v1/webhooks/stripe", content=payload, headers={"Stripe-Signature": plain}
        )
        assert response.status_code == 200 and response.json()["outcome"] == "paid"

    def test_control_characters_in_provider_ids_are_refused(
        self, api: Api, root: str, container: Container
    ) -> None:
        _, seller, _, buyer = self.setting(api, root)
        product = self.stocked(api, seller, 5, 1_000)
        order = self.paid(api, container, buyer, product)
        intent = order["payment"]["intent_id"]
        pending = self.placed(api, buyer, product)["payment"]["intent_id"]
        dispute = dispute_event("charge.dispute.created", "dp_ok", intent, 100, "open")
        payment = intent_event("payment_intent.succeeded", pending, 1_000)
        hostile: list[dict[str, Any]] = [
            {**dispute, "id": "evt_\x00nul"},
            {**dispute, "id": "evt_\x1b[2J"},
            {**payment, "id": "evt_\u0085next"},
            {**payment, "type": "payment_intent.succeeded\x00"},
        ]
        for field, value in (
            ("id", "dp_\x00"),
            ("payment_intent", f"{intent}\x00"),
            ("reason", "fraudulent\x07"),
            ("status", "open\x00"),
        ):
            hostile.append(
                {**dispute, "data": {"object": {**dispute["data"]["object"], field: value}}}
            )
        for field, value in (("id", f"{pending}\x00"), ("latest_charge", "ch_\x00")):
            hostile.append(
                {**payment, "data": {"object": {**payment["data"]["object"], field: value}}}
            )
        for event in hostile:
            self.refused(api, container, event)
        assert self.outcome(api, container, dispute) == "disputed"
        assert self.outcome(api, container, payment) == "paid"
