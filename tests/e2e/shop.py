"""What the commerce scenarios share: approved sellers, stocked products, carts, checkout and
payment. It holds no tests of its own."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest

from api.bootstrap import Container
from eventstore.context import CommandContext
from projections.scope import TenantScope
from tests.e2e.client import Api
from tests.e2e.world import ApiScenarios, Marketplace

ADDRESS = {
    "name": "Ada Buyer",
    "line1": "1 Main St",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
}


def price(amount: int, currency: str = "USD") -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


def signed(secret: str, event: dict[str, Any], *, at: int | None = None) -> tuple[bytes, str]:
    """A webhook body and its Stripe-Signature, made the way Stripe makes them."""
    payload = json.dumps(event).encode()
    timestamp = at if at is not None else int(time.time())
    digest = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256
    ).hexdigest()
    return payload, f"t={timestamp},v1={digest}"


def intent_event(kind: str, intent_id: str, amount: int, currency: str = "usd") -> dict[str, Any]:
    return {
        "id": f"evt_{uuid4().hex}",
        "object": "event",
        "type": kind,
        "data": {
            "object": {
                "id": intent_id,
                "object": "payment_intent",
                "amount": amount,
                "amount_received": amount,
                "currency": currency,
            }
        },
    }


class Shop(ApiScenarios):
    @pytest.fixture(autouse=True)
    def _books_balance_afterwards(self, container: Container) -> Iterator[None]:
        """Whatever a scenario did, the ledger must balance to the cent when it is over."""
        yield
        container.catch_up()
        trial = container.ledger_queries.trial_balance(TenantScope.every_tenant())
        assert trial["balanced"], trial

    def approved_seller(self, api: Api, m: Marketplace) -> tuple[str, str]:
        """A seller user whose seller profile is approved: (token, seller id)."""
        token = self.user(api, m, "seller")
        seller_id = api.created(
            api.post("/v1/sellers", token=token, json={"display_name": "Shop", "country": "DE"})
        )
        assert api.post(f"/v1/sellers/{seller_id}/approve", token=m.admin_token).status_code == 200
        return token, seller_id

    def product(self, api: Api, seller: str, **overrides: Any) -> str:
        body = {
            "title": "Teapot",
            "description": "Cast iron",
            "category": "kitchen",
            "sku": f"TP-{uuid4().hex[:6]}",
            "price": price(2599),
            **overrides,
        }
        return api.created(api.post("/v1/products", token=seller, json=body))

    def stocked(self, api: Api, seller: str, on_hand: int, amount: int, **kw: Any) -> str:
        product_id = self.product(api, seller, price=price(amount, kw.pop("currency", "USD")), **kw)
        api.post(
            f"/v1/products/{product_id}/stock",
            token=seller,
            json={"warehouse": "main", "on_hand": on_hand},
        )
        return product_id

    def cart(self, api: Api, buyer: str, lines: dict[str, int]) -> str:
        cart_id = api.created(api.post("/v1/carts", token=buyer))
        for product_id, quantity in lines.items():
            response = api.request(
                "PUT",
                f"/v1/carts/{cart_id}/items/{product_id}",
                token=buyer,
                json={"quantity": quantity},
            )
            assert response.status_code == 200, response.text
        return cart_id

    def checkout(self, api: Api, buyer: str, cart_id: str, key: str | None = None) -> Any:
        return api.post(
            "/v1/checkout",
            token=buyer,
            key=key or f"co-{uuid4()}",
            json={"cart_id": cart_id, "shipping_address": ADDRESS},
        )

    def post_event(self, api: Api, container: Container, event: dict[str, Any], **kw: Any) -> Any:
        """Posts a Stripe webhook, signed with the container's secret unless `secret` is given."""
        payload, signature = signed(kw.pop("secret", container.webhook_secret), event, **kw)
        response = api.post(
            "/v1/webhooks/stripe", content=payload, headers={"Stripe-Signature": signature}
        )
        api.position = max(api.position, container.log.head())
        return response

    def pay(self, api: Api, container: Container, order_id: str, ok: bool = True) -> None:
        result = container.checkout.record_payment(
            CommandContext.system("test:payment"), UUID(order_id), succeeded=ok
        )
        api.position = max(api.position, result.position)

    def delivered(self, api: Api, container: Container, seller: str, buyer: str) -> str:
        product = self.stocked(api, seller, 5, 10_000)
        order = self.checkout(api, buyer, self.cart(api, buyer, {product: 2})).json()
        so = order["seller_orders"][0]["id"]
        self.pay(api, container, order["order_id"])
        api.post(
            f"/v1/seller-orders/{so}/ship",
            token=seller,
            json={"carrier": "UPS", "tracking_number": "1Z"},
        )
        api.post(f"/v1/seller-orders/{so}/deliver", token=seller)
        return so

    def balance(self, api: Api, token: str, seller_id: str) -> dict[str, int]:
        """A seller's balance as amounts: in_escrow, available, in_dispute, paid_out."""
        body = api.get(f"/v1/sellers/{seller_id}/balance", token=token).json()
        return {k: v["amount"] for k, v in body.items()}

    def available(self, api: Api, token: str, product_id: str) -> int:
        return int(api.get(f"/v1/products/{product_id}", token=token).json()["available"])

    def shop(self, api: Api, root: str) -> tuple[Marketplace, str, str, str, str]:
        m = self.marketplace(api, root, moderation="auto")
        seller_a, _ = self.approved_seller(api, m)
        seller_b, _ = self.approved_seller(api, m)
        return m, seller_a, seller_b, self.user(api, m, "buyer"), self.user(api, m, "buyer")
