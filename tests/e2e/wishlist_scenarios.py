"""Wishlists (issue 18, point 4): a buyer keeps products they can see; hidden ones drop out of
the answer; each backend set runs these same scenarios (the price-drop notification, which
travels through Kafka, is tried in tests/integration/test_kafka.py)."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from api.bootstrap import Container
from tests.e2e.client import Api, assert_problem
from tests.e2e.shop import Shop, price


class WishlistScenarios(Shop):
    def wished(self, api: Api, token: str) -> list[dict[str, Any]]:
        response = api.get("/v1/me/wishlist", token=token)
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    def test_a_buyer_keeps_products_and_sees_them_at_todays_price(
        self, api: Api, root: str
    ) -> None:
        m = self.marketplace(api, root, "Wishes", moderation="auto")
        seller, _ = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        kettle = self.stocked(api, seller, 4, 3_000, title="Kettle")
        teapot = self.stocked(api, seller, 0, 2_000, title="Teapot")
        assert self.wished(api, buyer) == []
        for product in (kettle, teapot, kettle):  # the second time changes nothing
            put = api.request("PUT", f"/v1/me/wishlist/{product}", token=buyer)
            assert put.status_code == 200, put.text
            assert put.json() == {"id": product}
        api.request("PATCH", f"/v1/products/{kettle}", token=seller, json={"price": price(2_500)})
        seen = [
            (i["product_id"], i["title"], i["price"]["amount"], i["available"])
            for i in self.wished(api, buyer)
        ]
        assert seen == [(kettle, "Kettle", 2_500, 4), (teapot, "Teapot", 2_000, 0)]
        assert api.request("DELETE", f"/v1/me/wishlist/{kettle}", token=buyer).status_code == 204
        assert [i["product_id"] for i in self.wished(api, buyer)] == [teapot]
        assert_problem(api.request("DELETE", f"/v1/me/wishlist/{kettle}", token=buyer), 404)
        page = api.get("/v1/me/wishlist", token=buyer, params={"limit": 1}).json()
        assert len(page["items"]) == 1 and page["next_cursor"] is None

    def test_a_product_buyers_cannot_see_drops_out_and_comes_back(
        self, api: Api, root: str
    ) -> None:
        m = self.marketplace(api, root, "Hidden", moderation="auto")
        seller, seller_id = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        product = self.stocked(api, seller, 2, 1_000)
        api.request("PUT", f"/v1/me/wishlist/{product}", token=buyer)
        assert len(self.wished(api, buyer)) == 1
        assert api.post(f"/v1/sellers/{seller_id}/suspend", token=m.admin_token).is_success
        assert self.wished(api, buyer) == []
        # Nor can a buyer wish for it while it is hidden.
        other = self.stocked(api, self.approved_seller(api, m)[0], 1, 500)
        assert api.post(f"/v1/sellers/{seller_id}/approve", token=m.admin_token).is_success
        assert [i["product_id"] for i in self.wished(api, buyer)] == [product]
        pending_market = self.marketplace(api, root, "Moderated")
        pending_seller, _ = self.approved_seller(api, pending_market)
        pending = self.product(api, pending_seller)
        pending_buyer = self.user(api, pending_market, "buyer")
        put = api.request("PUT", f"/v1/me/wishlist/{pending}", token=pending_buyer)
        assert_problem(put, 404)  # not approved yet: as if unknown
        assert api.request("PUT", f"/v1/me/wishlist/{other}", token=buyer).status_code == 200

    def test_only_buyers_wish_and_only_for_their_own_tenant(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, "Mine", moderation="auto")
        elsewhere = self.marketplace(api, root, "Elsewhere", moderation="auto")
        seller, _ = self.approved_seller(api, m)
        product = self.stocked(api, seller, 1, 1_000)
        stranger = self.user(api, elsewhere, "buyer")
        head = container.log.head()
        assert_problem(api.request("PUT", f"/v1/me/wishlist/{product}", token=stranger), 404)
        assert_problem(api.request("PUT", f"/v1/me/wishlist/{uuid4()}", token=stranger), 404)
        for token in (seller, m.admin_token):
            assert_problem(api.request("PUT", f"/v1/me/wishlist/{product}", token=token), 403)
            assert_problem(api.get("/v1/me/wishlist", token=token), 403)
        assert_problem(api.request("PUT", f"/v1/me/wishlist/{product}"), 401)
        assert_problem(api.request("PUT", "/v1/me/wishlist/not-a-uuid", token=stranger), 422)
        assert container.log.head() == head
        assert self.wished(api, stranger) == []

    def test_the_wishlist_is_in_the_export_and_goes_with_an_erasure(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, "Export", moderation="auto")
        seller, _ = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        product = self.stocked(api, seller, 1, 1_000)
        api.request("PUT", f"/v1/me/wishlist/{product}", token=buyer)
        exported = api.get("/v1/me/export", token=buyer).json()
        assert [w["product_id"] for w in exported["wishlist"]] == [product]
        assert container.wishlist_queries.wishers(m.tenant_id, product) == [
            exported["user"]["user_id"]
        ]
        erased = api.request("DELETE", "/v1/me", token=buyer)
        assert erased.status_code == 204
        position = int(erased.headers["X-Velora-Position"])
        assert container.wait_for_projections(position, ("wishlists",), timeout_s=5)
        assert container.wishlist_queries.wishers(m.tenant_id, product) == []
