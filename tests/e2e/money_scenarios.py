"""Escrow and the ledger over HTTP: money held on payment, released after delivery and the
tenant's hold, refunded on cancellation, with the trial balance balanced after every step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from api.bootstrap import Container
from tests.e2e.client import Api, assert_problem
from tests.e2e.shop import Shop
from tests.e2e.world import PASSWORD, Marketplace


def accounts(api: Api, finance: str, tenant_id: str) -> dict[str, int]:
    items = api.get("/v1/ledger/accounts", token=finance, params={"tenant_id": tenant_id}).json()[
        "items"
    ]
    return {a["code"]: a["balance"]["amount"] for a in items}


def pending(api: Api, finance: str, tenant_id: str) -> dict[str, int]:
    """Pending credits by account code, where there are any."""
    items = api.get("/v1/ledger/accounts", token=finance, params={"tenant_id": tenant_id}).json()[
        "items"
    ]
    return {
        a["code"]: a["credits_pending"]["amount"] for a in items if a["credits_pending"]["amount"]
    }


def balanced(api: Api, finance: str, tenant_id: str) -> dict[str, Any]:
    trial = api.get(
        "/v1/ledger/trial-balance", token=finance, params={"tenant_id": tenant_id}
    ).json()
    assert trial["balanced"] is True, trial
    assert trial["debits"] == trial["credits"]
    return trial


class MoneyScenarios(Shop):
    def test_payment_holds_escrow_that_delivery_and_the_hold_release(
        self, api: Api, root: str, container: Container
    ) -> None:
        m, seller_a, _, buyer, _ = self.shop(api, root)  # escrow_hold_days = 7
        finance = self.platform_user(api, root, "finance_admin")
        auditor = self.platform_user(api, root, "auditor")
        product = self.stocked(api, seller_a, 5, 10_000)
        order = self.checkout(api, buyer, self.cart(api, buyer, {product: 2})).json()
        so = order["seller_orders"][0]
        seller_id, net, commission = (
            so["seller_id"],
            so["seller_net"]["amount"],
            so["commission"]["amount"],
        )
        assert (net, commission) == (18_000, 2_000)
        assert accounts(api, finance, m.tenant_id) == {}  # nothing moves before payment

        self.pay(api, container, order["order_id"])
        books = accounts(api, finance, m.tenant_id)
        assert books == {
            "processor:clearing": 20_000,
            f"escrow:{seller_id}": 20_000,
            f"seller:payable:{seller_id}": 0,
            "platform:commission": 0,
        }
        assert pending(api, finance, m.tenant_id) == {
            f"seller:payable:{seller_id}": net,
            "platform:commission": commission,
        }
        balanced(api, auditor, m.tenant_id)
        assert (
            api.get(f"/v1/seller-orders/{so['id']}", token=seller_a).json()["escrow_status"]
            == "held"
        )

        api.post(
            f"/v1/seller-orders/{so['id']}/ship",
            token=seller_a,
            json={"carrier": "DHL", "tracking_number": "1"},
        )
        delivered = api.post(f"/v1/seller-orders/{so['id']}/deliver", token=seller_a).json()
        assert delivered["status"] == "delivered"  # a 7-day hold: not released yet
        view = api.get(f"/v1/seller-orders/{so['id']}", token=seller_a).json()
        due = datetime.fromisoformat(view["escrow_release_due_at"])
        assert timedelta(days=6) < due - datetime.now(UTC) <= timedelta(days=7)
        container.catch_up()
        assert container.scheduler.run_once(datetime.now(UTC)) == 0
        assert container.scheduler.run_once(due + timedelta(seconds=1)) == 1
        api.position = container.log.head()

        view = api.get(f"/v1/seller-orders/{so['id']}", token=seller_a).json()
        assert (view["status"], view["escrow_status"]) == ("completed", "released")
        assert (
            api.get(f"/v1/orders/{order['order_id']}", token=buyer).json()["status"] == "completed"
        )
        books = accounts(api, finance, m.tenant_id)
        assert books == {
            "processor:clearing": 20_000,
            f"escrow:{seller_id}": 0,
            f"seller:payable:{seller_id}": net,
            "platform:commission": commission,
        }
        balanced(api, finance, m.tenant_id)
        statement = api.get(
            f"/v1/ledger/accounts/seller:payable:{seller_id}/entries",
            token=auditor,
            params={"tenant_id": m.tenant_id},
        ).json()["items"]
        assert [(e["side"], e["amount"]["amount"], e["kind"]) for e in statement] == [
            ("credit", net, "escrow_hold")
        ]
        assert container.scheduler.run_once(due + timedelta(days=1)) == 0  # released once

    def test_cancelling_a_paid_order_refunds_its_escrow(
        self, api: Api, root: str, container: Container
    ) -> None:
        m, seller_a, _, buyer, _ = self.shop(api, root)
        finance = self.platform_user(api, root, "finance_admin")
        product = self.stocked(api, seller_a, 5, 2_500)
        order = self.checkout(api, buyer, self.cart(api, buyer, {product: 1})).json()
        seller_id = order["seller_orders"][0]["seller_id"]
        self.pay(api, container, order["order_id"])
        api.post(f"/v1/orders/{order['order_id']}/cancel", token=buyer)

        so = api.get(f"/v1/seller-orders/{order['seller_orders'][0]['id']}", token=seller_a).json()
        assert (so["status"], so["escrow_status"]) == ("cancelled", "refunded")
        books = accounts(api, finance, m.tenant_id)
        assert books == {
            "processor:clearing": 0,
            f"escrow:{seller_id}": 0,
            f"seller:payable:{seller_id}": 0,
            "platform:commission": 0,
        }
        assert pending(api, finance, m.tenant_id) == {}  # both holds voided
        balanced(api, finance, m.tenant_id)

    def test_with_no_hold_escrow_is_released_on_delivery(
        self, api: Api, root: str, container: Container
    ) -> None:
        tenant = api.created(
            api.post(
                "/v1/tenants",
                token=root,
                json={
                    "name": "Quick",
                    "currency": "EUR",
                    "commission_bps": 500,
                    "escrow_hold_days": 0,
                    "product_moderation": "auto",
                },
            )
        )

        email = f"admin-{uuid4().hex[:6]}@q.test"
        api.created(
            api.post(
                f"/v1/tenants/{tenant}/users",
                token=root,
                json={"email": email, "password": PASSWORD, "roles": ["marketplace_admin"]},
            )
        )
        m = Marketplace(tenant, email, api.sign_in(email, PASSWORD, tenant))
        seller, seller_id = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        finance = self.platform_user(api, root, "finance_admin")
        product = self.stocked(api, seller, 3, 1_000, currency="EUR")
        order = self.checkout(api, buyer, self.cart(api, buyer, {product: 1})).json()
        self.pay(api, container, order["order_id"])
        so = order["seller_orders"][0]["id"]
        api.post(
            f"/v1/seller-orders/{so}/ship",
            token=seller,
            json={"carrier": "DPD", "tracking_number": "9"},
        )
        done = api.post(f"/v1/seller-orders/{so}/deliver", token=seller).json()
        assert done["status"] == "completed"
        books = accounts(api, finance, m.tenant_id)
        assert books[f"seller:payable:{seller_id}"] == 950
        assert books["platform:commission"] == 50
        balanced(api, finance, m.tenant_id)

    def test_only_finance_and_audit_read_the_ledger_and_scope_narrows(
        self, api: Api, root: str, container: Container
    ) -> None:
        m, seller_a, _, buyer, _ = self.shop(api, root)
        finance = self.platform_user(api, root, "finance_admin")
        for token in (buyer, seller_a, m.admin_token):
            for path in (
                "/v1/ledger/accounts",
                "/v1/ledger/trial-balance",
                "/v1/ledger/accounts/platform:commission/entries",
            ):
                assert_problem(api.get(path, token=token), 403)
        product = self.stocked(api, seller_a, 5, 1_000)
        order = self.checkout(api, buyer, self.cart(api, buyer, {product: 1})).json()
        self.pay(api, container, order["order_id"])
        other = self.marketplace(api, root, "Elsewhere")
        assert accounts(api, finance, other.tenant_id) == {}
        assert accounts(api, finance, m.tenant_id)["processor:clearing"] == 1_000
        everywhere = api.get("/v1/ledger/accounts", token=finance).json()["items"]
        assert {a["tenant_id"] for a in everywhere} >= {m.tenant_id}
        balanced(api, finance, m.tenant_id)
