"""Generated webhooks: signed with the right secret, shaped like Stripe's events, and filled with
what a hostile or broken sender could put there (amounts and fees from -2^64 to 2^64, control
characters in ids, currencies that are not the order's, statuses Stripe never sends, intents of
orders paid, pending or unknown). Whatever arrives: never a 5xx, every error problem+json, the
books balance, the clearing account never goes below zero but for the fees of lost disputes,
and no projector stops or quarantines anyone (issue 27: one such event used to halt every
tenant's read models)."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.bootstrap import Container
from tests.e2e.client import Api
from tests.e2e.money_scenarios import accounts, balanced
from tests.e2e.shop import Shop

KINDS = (
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "charge.refunded",
    "charge.dispute.created",
    "charge.dispute.closed",
    "charge.dispute.updated",
)
EXTREMES = (0, 1, -1, 999, 1000, 1001, 2**31, 2**53 + 1, 2**62 + 1, 2**63 - 1, 2**63, 2**64)
amounts = st.one_of(st.sampled_from(EXTREMES), st.integers(-(2**64), 2**64))
texts = st.one_of(
    st.sampled_from(("", "usd", "USD", "eur", "zzz", "\x00", "usd\x00", "\u0085", "x" * 300)),
    st.text(max_size=20),
)


class WebhookFuzzScenarios(Shop):
    def test_no_signed_webhook_breaks_the_books_or_the_read_side(
        self, api: Api, root: str, container: Container
    ) -> None:
        m, seller, _, buyer, _ = self.shop(api, root)
        finance = self.platform_user(api, root, "finance_admin")
        product = self.stocked(api, seller, 100, 1000)
        paid = self.checkout(api, buyer, self.cart(api, buyer, {product: 1})).json()
        self.pay(api, container, paid["order_id"])
        pending = self.checkout(api, buyer, self.cart(api, buyer, {product: 1})).json()
        intents = (
            paid["payment"]["intent_id"],
            pending["payment"]["intent_id"],
            f"pi_{uuid4().hex}",
            "pi_\x00",
        )

        @st.composite
        def events(draw: st.DrawFn) -> dict[str, Any]:
            fees = draw(st.lists(amounts, max_size=3))
            obj: dict[str, Any] = {
                "id": draw(st.one_of(st.just(f"dp_{uuid4().hex[:10]}"), texts)),
                "object": draw(st.sampled_from(("payment_intent", "dispute", "charge"))),
                "amount": draw(amounts),
                "amount_received": draw(amounts),
                "currency": draw(texts),
                "payment_intent": draw(st.sampled_from(intents)),
                "status": draw(st.sampled_from(("won", "lost", "warning_closed", "", "odd"))),
                "reason": draw(texts),
                "balance_transactions": [{"fee": f, "amount": -f} for f in fees],
            }
            if obj["object"] == "payment_intent":
                obj["id"] = draw(st.sampled_from(intents))
            return {
                "id": draw(st.one_of(st.just(f"evt_{uuid4().hex}"), texts)),
                "object": "event",
                "type": draw(st.sampled_from(KINDS)),
                "data": {"object": obj},
            }

        @given(event=events())
        @settings(
            max_examples=60,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def send(event: dict[str, Any]) -> None:
            response = self.post_event(api, container, event)
            assert response.status_code < 500, (event, response.text[:300])
            if response.status_code >= 400:
                assert response.headers["content-type"].startswith("application/problem+json")

        send()

        # A later write of this marketplace is readable as API.md promises: nothing stopped.
        cart = self.cart(api, buyer, {product: 2})
        assert api.get(f"/v1/carts/{cart}", token=buyer).status_code == 200
        ready = api.http.get("/readyz").json()
        assert ready["ready"] is True and ready["degraded"] is False, ready
        balanced(api, finance, m.tenant_id)
        books = accounts(api, finance, m.tenant_id)
        # Nothing leaves the processor's clearing account but what the buyer paid, except a
        # lost dispute's fee: the provider takes it from the platform's balance even when the
        # dispute took the whole charge (tests/e2e/dispute_scenarios.py books exactly that).
        # The fees are the sellers' receivables (nothing here is ever released, so nothing
        # else is) or the platform's dispute losses: without them, clearing is never below 0.
        receivable = sum(v for k, v in books.items() if k.startswith("seller:receivable:"))
        fees = receivable + books.get("platform:dispute_losses", 0)
        assert books.get("processor:clearing", 0) + fees >= 0, books
        assert all(abs(balance) <= 10**12 for balance in books.values()), books
