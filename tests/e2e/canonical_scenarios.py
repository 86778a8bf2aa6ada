"""One way to write each thing (issue 27, point 6): a currency is one of ISO 4217's current codes
(ZZZ was taken for a tenant), and a name typed with composed or decomposed accents ("café" as
é, or as e and a combining acute) is the same name (NFC wherever names are compared). What was
stored before either rule still loads. Each backend set runs these."""

from __future__ import annotations

import unicodedata
from typing import Any
from uuid import uuid4

from api.bootstrap import Container
from domain.identity import Tenant
from eventstore.context import CommandContext
from tests.e2e.client import Api, assert_problem
from tests.e2e.shop import Shop, price

COMPOSED = "Caf\u00e9"  # é as one code point
DECOMPOSED = "Cafe\u0301"  # e, then a combining acute accent
assert unicodedata.normalize("NFC", DECOMPOSED) == COMPOSED != DECOMPOSED


def tenant_body(currency: str) -> dict[str, Any]:
    return {"name": "Coins", "currency": currency, "commission_bps": 1000, "escrow_hold_days": 7}


class CanonicalScenarios(Shop):
    def test_a_tenant_and_a_price_name_only_a_current_iso_4217_currency(
        self, api: Api, root: str, container: Container
    ) -> None:
        head = container.log.head()
        for code in ("ZZZ", "XXX", "XTS", "HRK"):
            refused = assert_problem(
                api.post("/v1/tenants", token=root, json=tenant_body(code)), 422
            )
            assert code in refused["detail"]
        assert container.log.head() == head
        for code in ("EUR", "JPY", "CHF"):
            assert api.post("/v1/tenants", token=root, json=tenant_body(code)).status_code == 201

        m = self.marketplace(api, root, "Prices", moderation="auto")
        seller, _ = self.approved_seller(api, m)
        product = self.product(api, seller)
        bad = {
            "title": "Pot",
            "category": "kitchen",
            "sku": f"P-{uuid4().hex[:6]}",
            "price": price(100, "ZZZ"),
        }
        assert_problem(api.post("/v1/products", token=seller, json=bad), 422)
        patch = {"price": price(100, "ZZZ")}
        assert_problem(
            api.request("PATCH", f"/v1/products/{product}", token=seller, json=patch), 422
        )

    def test_a_currency_stored_before_the_check_still_loads(
        self, api: Api, root: str, container: Container
    ) -> None:
        # As an older Velora stored it: a tenant whose currency is no ISO 4217 code.
        tenant = Tenant(
            tenant_id=uuid4(),
            name="From before",
            currency="ZZZ",
            commission_bps=1000,
            escrow_hold_days=7,
            product_moderation="auto",
            hold_timeout_s=1800,
        )
        container.identity.record(CommandContext.system("test:stored-before"), tenant)
        state = api.get(f"/v1/audit/streams/{tenant.id}/state", token=root)
        assert state.status_code == 200, state.text
        assert "ZZZ" in state.text
        users = f"/v1/tenants/{tenant.id}/users"
        body = {"email": f"a-{uuid4().hex[:6]}@before.test", "password": "long enough pw"}
        assert api.post(users, token=root, json={**body, "roles": ["buyer"]}).status_code == 201

    def test_a_plan_name_is_the_same_however_its_accents_are_typed(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, "Plans", moderation="auto")
        body = {"monthly_fee": price(1000), "product_limit": None, "commission_discount_bps": 0}
        first = api.post("/v1/plans", token=m.admin_token, json={**body, "name": DECOMPOSED})
        assert first.status_code == 201, first.text
        again = api.post("/v1/plans", token=m.admin_token, json={**body, "name": COMPOSED})
        assert_problem(again, 409)
        plans = api.get("/v1/plans", token=m.admin_token).json()["items"]
        assert [p["name"] for p in plans] == [COMPOSED]

    def test_a_seller_name_is_kept_composed(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, "Shops", moderation="auto")
        token = self.user(api, m, "seller")
        body = {"display_name": f"{DECOMPOSED} Shop", "country": "FR"}
        seller_id = api.created(api.post("/v1/sellers", token=token, json=body))
        shown = api.get(f"/v1/sellers/{seller_id}", token=m.admin_token).json()
        assert shown["display_name"] == f"{COMPOSED} Shop"
