"""Ratings and moderation (issue 18, point 5): a seller's rating from its products' visible
reviews (count, average, distribution), on the seller and in search facets; admins hide and
restore reviews with a reason, and the ratings follow; the seller answers a review once."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from api.bootstrap import Container
from tests.e2e.audit_scenarios import SHIP
from tests.e2e.client import Api, assert_problem
from tests.e2e.shop import Shop
from tests.e2e.world import Marketplace


class ReviewScenarios(Shop):
    def reviewed(
        self, api: Api, container: Container, seller: str, buyer: str, product: str, rating: int
    ) -> str:
        """A delivered purchase of the product, reviewed with this rating: the review's id."""
        order = self.checkout(api, buyer, self.cart(api, buyer, {product: 1})).json()
        self.pay(api, container, order["order_id"])
        part = order["seller_orders"][0]["id"]
        api.post(f"/v1/seller-orders/{part}/ship", token=seller, json=SHIP)
        api.post(f"/v1/seller-orders/{part}/deliver", token=seller)
        body = {"order_id": order["order_id"], "rating": rating, "body": f"{rating} stars"}
        return api.created(api.post(f"/v1/products/{product}/reviews", token=buyer, json=body))

    def shop_with_reviews(
        self, api: Api, root: str, container: Container, name: str
    ) -> tuple[Marketplace, str, str, str, list[str], list[str]]:
        """A seller with two products reviewed 5, 4 and 2 stars: (market, seller token, seller
        id, buyer token, product ids, review ids)."""
        m = self.marketplace(api, root, name, moderation="auto")
        seller, seller_id = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        teapot = self.stocked(api, seller, 10, 2_000, title="Teapot")
        kettle = self.stocked(api, seller, 10, 3_000, title="Kettle")
        reviews = [
            self.reviewed(api, container, seller, buyer, product, rating)
            for product, rating in ((teapot, 5), (teapot, 4), (kettle, 2))
        ]
        return m, seller, seller_id, buyer, [teapot, kettle], reviews

    def rating(self, api: Api, token: str, seller_id: str) -> dict[str, Any]:
        rating: dict[str, Any] = api.get(f"/v1/sellers/{seller_id}", token=token).json()["rating"]
        return rating

    def test_a_sellers_rating_counts_its_visible_reviews_and_follows_moderation(
        self, api: Api, root: str, container: Container
    ) -> None:
        m, seller, seller_id, buyer, (teapot, kettle), reviews = self.shop_with_reviews(
            api, root, container, "Ratings"
        )
        assert self.rating(api, seller, seller_id) == {
            "average": 3.67,
            "count": 3,
            "distribution": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1},
        }
        facets = api.get("/v1/search/products", token=buyer).json()["facets"]["seller_id"]
        rating = self.rating(api, seller, seller_id)
        assert facets == [{"value": seller_id, "count": 2, "rating": rating}]

        # Hidden: out of the list, the product's rating, the seller's and the facets.
        hide = {"reason": "insults the seller"}
        hidden = api.post(f"/v1/reviews/{reviews[2]}/hide", token=m.admin_token, json=hide)
        assert hidden.status_code == 200, hidden.text
        assert api.get(f"/v1/products/{kettle}/reviews", token=buyer).json()["items"] == []
        assert api.get(f"/v1/products/{kettle}", token=buyer).json()["rating"] == {
            "average": None,
            "count": 0,
        }
        assert self.rating(api, m.admin_token, seller_id)["distribution"]["2"] == 0
        assert self.rating(api, m.admin_token, seller_id)["average"] == 4.5
        found = api.get("/v1/search/products", token=buyer, params={"q": "kettle"}).json()
        assert found["items"][0]["rating"] == {"average": None, "count": 0}
        # Moderators list what they hid, with the reason.
        listed = api.get(
            f"/v1/products/{kettle}/reviews", token=m.admin_token, params={"hidden": True}
        ).json()["items"]
        assert [(r["id"], r["hidden_reason"]) for r in listed] == [(reviews[2], hide["reason"])]
        again = api.post(f"/v1/reviews/{reviews[2]}/hide", token=m.admin_token, json=hide)
        assert_problem(again, 409)

        restore = {"reason": "the seller asked to keep it"}
        assert api.post(
            f"/v1/reviews/{reviews[2]}/restore", token=m.admin_token, json=restore
        ).is_success
        assert self.rating(api, seller, seller_id)["count"] == 3
        shown = api.get(f"/v1/products/{kettle}/reviews", token=buyer).json()["items"]
        assert [r["id"] for r in shown] == [reviews[2]]
        assert_problem(
            api.post(f"/v1/reviews/{reviews[2]}/restore", token=m.admin_token, json=restore), 409
        )
        # The audit trail keeps who did what and why.
        history = api.get(f"/v1/audit/streams/{reviews[2]}/events", token=root).json()["items"]
        kinds = [e["type"] for e in history]
        assert kinds == ["Review.Written", "Review.Hidden", "Review.Restored"]
        assert history[1]["data"]["reason"] == hide["reason"]
        # API.md names a reason for hiding only: a restore without one (without a body) will do.
        hidden = api.post(f"/v1/reviews/{reviews[2]}/hide", token=m.admin_token, json=hide)
        assert hidden.status_code == 200, hidden.text
        assert self.rating(api, seller, seller_id)["count"] == 2
        bare = api.post(f"/v1/reviews/{reviews[2]}/restore", token=m.admin_token)
        assert bare.status_code == 200, bare.text
        assert self.rating(api, seller, seller_id)["count"] == 3
        assert teapot

    def test_the_seller_answers_a_review_once(
        self, api: Api, root: str, container: Container
    ) -> None:
        m, seller, _, buyer, (teapot, _), reviews = self.shop_with_reviews(
            api, root, container, "Replies"
        )
        rival, _ = self.approved_seller(api, m)
        head = container.log.head()
        reply = {"body": "Thank you, enjoy your tea!"}
        path = f"/v1/reviews/{reviews[0]}/reply"
        for token, status in ((rival, 404), (buyer, 403), (m.admin_token, 403)):
            assert_problem(api.post(path, token=token, json=reply), status)
        assert container.log.head() == head
        first = api.post(f"/v1/reviews/{reviews[0]}/reply", token=seller, json=reply)
        assert first.status_code == 201, first.text
        again = api.post(f"/v1/reviews/{reviews[0]}/reply", token=seller, json={"body": "Again"})
        assert_problem(again, 409)
        items = api.get(f"/v1/products/{teapot}/reviews", token=buyer).json()["items"]
        assert items[0]["reply"]["body"] == reply["body"] and items[1]["reply"] is None

    def test_moderation_is_for_the_tenants_admins_and_bad_input_changes_nothing(
        self, api: Api, root: str, container: Container
    ) -> None:
        m, seller, _, buyer, _, reviews = self.shop_with_reviews(api, root, container, "Mods")
        other = self.marketplace(api, root, "Elsewhere")
        head = container.log.head()
        hide = {"reason": "spam"}
        path = f"/v1/reviews/{reviews[0]}/hide"
        assert_problem(api.post(path, token=other.admin_token, json=hide), 404)
        for token in (seller, buyer):
            assert_problem(api.post(path, token=token, json=hide), 403)
        unknown = f"/v1/reviews/{uuid4()}/hide"
        assert_problem(api.post(unknown, token=m.admin_token, json=hide), 404)
        for bad in ({}, {"reason": ""}, {"reason": "x" * 501}, {"reason": "spam", "x": 1}):
            assert_problem(api.post(path, token=m.admin_token, json=bad), 422)
        reply_path = f"/v1/reviews/{reviews[0]}/reply"
        for bad in ({}, {"body": ""}, {"body": "x" * 2001}):
            assert_problem(api.post(reply_path, token=seller, json=bad), 422)
        assert_problem(api.get(f"/v1/products/{uuid4()}/reviews", token=buyer), 404)
        hidden_list = api.get(
            f"/v1/products/{uuid4()}/reviews", token=buyer, params={"hidden": True}
        )
        assert_problem(hidden_list, 404)
        assert container.log.head() == head
