"""Featured listings (issue 18, point 6): marketplace admins feature a product for a period;
search finds featured ones and sorts them first; the scheduler ends a feature on time."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from api.bootstrap import Container
from tests.e2e.client import Api, assert_problem
from tests.e2e.shop import Shop


def until(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


class FeaturedScenarios(Shop):
    def search(self, api: Api, token: str, **params: Any) -> list[str]:
        response = api.get("/v1/search/products", token=token, params=params)
        assert response.status_code == 200, response.text
        return [item["title"] for item in response.json()["items"]]

    def test_a_featured_product_is_found_first_until_its_time_is_up(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, "Featured", moderation="auto")
        seller, _ = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        old = self.stocked(api, seller, 1, 1_000, title="Old lamp")
        for title in ("New lamp", "Newest lamp"):
            self.stocked(api, seller, 1, 1_000, title=title)
        assert self.search(api, buyer, featured=True) == []

        ends = until(days=7)
        featured = api.post(
            f"/v1/products/{old}/feature", token=m.admin_token, json={"until": ends}
        )
        assert featured.status_code == 200, featured.text
        assert self.search(api, buyer, featured=True) == ["Old lamp"]
        assert self.search(api, buyer, sort="featured") == ["Old lamp", "Newest lamp", "New lamp"]
        assert self.search(api, buyer, sort="newest") == ["Newest lamp", "New lamp", "Old lamp"]
        product = api.get(f"/v1/products/{old}", token=buyer).json()
        assert datetime.fromisoformat(product["featured_until"]) == datetime.fromisoformat(ends)
        hit = api.get("/v1/search/products", token=buyer, params={"featured": True}).json()
        assert hit["items"][0]["featured"] is True

        # The scheduler ends it once its time has come, and not before.
        assert container.scheduler.run_once(datetime.now(UTC) + timedelta(days=6)) == 0
        assert container.scheduler.run_once(datetime.now(UTC) + timedelta(days=8)) == 1
        # The scheduler is no client of ours: nothing hands the storefront its position, so it
        # looks again until the change shows, as a storefront would.
        deadline = time.monotonic() + 5
        while self.search(api, buyer, featured=True) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.search(api, buyer, featured=True) == []
        assert api.get(f"/v1/products/{old}", token=buyer).json()["featured_until"] is None
        history = api.get(f"/v1/audit/streams/{old}/events", token=root).json()["items"]
        assert [e["data"].get("reason") for e in history if e["type"] == "Product.Unfeatured"] == [
            "expired"
        ]

    def test_an_admin_ends_a_feature_early(self, api: Api, root: str) -> None:
        m = self.marketplace(api, root, "Early", moderation="auto")
        seller, _ = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        lamp = self.stocked(api, seller, 1, 1_000, title="Lamp")
        path = f"/v1/products/{lamp}/feature"
        api.post(path, token=m.admin_token, json={"until": until(days=1)})
        assert api.request("DELETE", path, token=m.admin_token).status_code == 204
        assert self.search(api, buyer, featured=True) == []
        assert_problem(api.request("DELETE", path, token=m.admin_token), 409)

    def test_only_admins_feature_their_tenants_active_products_and_for_a_sane_period(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, "Rules")
        other = self.marketplace(api, root, "Others")
        seller, seller_id = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        pending = self.product(api, seller)  # the tenant moderates: not active yet
        head = container.log.head()
        path = f"/v1/products/{pending}/feature"
        body = {"until": until(days=1)}
        assert_problem(api.post(path, token=m.admin_token, json=body), 409)
        for token in (seller, buyer):
            assert_problem(api.post(path, token=token, json=body), 403)
        assert_problem(api.post(path, token=other.admin_token, json=body), 404)
        unknown = f"/v1/products/{uuid4()}/feature"
        assert_problem(api.post(unknown, token=m.admin_token, json=body), 404)
        for bad in (
            {"until": until(days=-1)},
            {"until": until(days=400)},
            {"until": "2030-01-01T00:00:00"},  # no zone: which midnight?
            {"until": "soon"},
            {},
        ):
            assert_problem(api.post(path, token=m.admin_token, json=bad), 422)
        assert_problem(api.get("/v1/search/products", token=buyer, params={"sort": "x"}), 422)
        assert container.log.head() == head
        assert seller_id
