"""Carts and checkout."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.deps import (
    Allowed,
    CartBuyer,
    CheckoutDep,
    ContainerDep,
    Ctx,
    OrderQueriesDep,
    ReadAfter,
    Scope,
    TokensDep,
    cart_holder,
    commanded,
)
from api.policy import is_guest
from api.problems import Problem
from api.schemas import Address, MoneyOut
from api.security import Principal
from domain.money import money_json

router = APIRouter(prefix="/v1", tags=["carts and checkout"])
Buyer = Annotated[Principal, Depends(Allowed("carts:use"))]


class QuantityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    quantity: int = Field(ge=0, le=999, strict=True, description="0 removes the line")


class CheckoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cart_id: UUID
    shipping_address: Address | None = Field(default=None, description="the address itself")
    shipping_address_id: UUID | None = Field(
        default=None, description="or the id of an address the buyer saved (/v1/me/addresses)"
    )
    email: str | None = Field(
        default=None,
        min_length=3,
        max_length=254,
        description="a guest's checkout: where the order's mail goes (none for a buyer's)",
    )
    shipping: dict[UUID, UUID] | None = Field(
        default=None,
        max_length=100,
        description="the rate chosen for each seller that has shipping rates: {seller_id: "
        "rate_id} (see GET /v1/carts/{id}/shipping-options)",
    )

    @model_validator(mode="after")
    def _one_address(self) -> CheckoutIn:
        if (self.shipping_address is None) == (self.shipping_address_id is None):
            raise ValueError("send either shipping_address or shipping_address_id")
        return self

    def address(self) -> dict[str, str] | UUID:
        if self.shipping_address is not None:
            return self.shipping_address.model_dump()
        assert self.shipping_address_id is not None
        return self.shipping_address_id


class CartLineOut(BaseModel):
    product_id: str
    variant_id: str
    sku: str | None = None
    options: dict[str, str] | None = None
    quantity: int
    title: str | None = None
    seller_id: str | None = None
    unit_price: MoneyOut | None = None
    line_total: MoneyOut | None = None


class DiscountOut(BaseModel):
    promotion_id: str
    code: str | None = Field(description="null: a promotion that applies by itself")
    amount: MoneyOut


class CartOut(BaseModel):
    id: str
    buyer_id: str
    status: str
    order_id: str | None
    lines: list[CartLineOut]
    totals: list[MoneyOut]
    codes: list[str] = Field(description="the promotion codes applied, in order")
    discounts: list[DiscountOut] = Field(
        description="what each promotion takes off the lines now (shipping's: at checkout)"
    )


class SellerOrderSummary(BaseModel):
    id: str
    seller_id: str
    subtotal: MoneyOut
    shipping: MoneyOut
    tax: MoneyOut = Field(description="the marketplace's, never the seller's")
    discount: MoneyOut = Field(description="what promotions took off its items and shipping")
    commission: MoneyOut
    seller_net: MoneyOut


class PaymentOut(BaseModel):
    provider: str
    intent_id: str
    client_secret: str
    amount: MoneyOut


class CartOpened(BaseModel):
    id: str
    cart_token: str | None = Field(
        default=None, description="a guest's: send it as X-Velora-Cart-Token on this cart"
    )


class CheckoutOut(BaseModel):
    order_token: str | None = Field(
        default=None, description="a guest's: send it as X-Velora-Order-Token to read the order"
    )
    order_id: str
    status: str
    total: MoneyOut = Field(description="items - discounts + shipping + tax")
    tax: MoneyOut
    discount: MoneyOut
    seller_orders: list[SellerOrderSummary]
    payment: PaymentOut


@router.post("/carts", status_code=201, response_model=CartOpened)
def open_cart(
    checkout: CheckoutDep,
    tokens: TokensDep,
    ctx: Ctx,
    response: Response,
    principal: Buyer,
) -> dict[str, str]:
    """Opens an empty cart for the calling buyer, or for a guest (a publishable key and no
    token): then the answer carries its `cart_token`, which every later call on the cart and
    its checkout sends as `X-Velora-Cart-Token`."""
    if is_guest(principal.roles):
        result = checkout.open_guest_cart(ctx, principal.tenant_id)
        token = tokens.capability("cart", result.id)
        return {**commanded(response, result), "cart_token": token}
    result = checkout.open_cart(ctx, principal.tenant_id, principal.user_id)
    return commanded(response, result)


@router.put("/carts/{cart_id}/items/{variant_id}", response_model=dict[str, str])
def set_quantity(
    cart_id: UUID,
    variant_id: UUID,
    body: QuantityIn,
    checkout: CheckoutDep,
    ctx: Ctx,
    response: Response,
    buyer: CartBuyer,
) -> dict[str, str]:
    """Sets how many of a variant the cart holds (1..999); 0 removes the line. A product
    without variants is named by its own id; a product with variants by one of theirs (its
    own id is 422 then)."""
    result = checkout.set_quantity(ctx, cart_id, buyer, variant_id, body.quantity)
    return commanded(response, result)


@router.get(
    "/carts/{cart_id}",
    response_model=CartOut,
    dependencies=[Depends(ReadAfter("carts", "catalog"))],
)
def get_cart(
    cart_id: UUID, order_queries: OrderQueriesDep, scope: Scope, buyer: CartBuyer
) -> dict[str, Any]:
    """The caller's cart (a guest's, with its cart token): its lines at today's prices and
    totals per currency."""
    cart = order_queries.cart(scope, str(cart_id), str(buyer))
    if cart is None:
        raise Problem(404, f"cart {cart_id} not found")
    return cart


@router.post(
    "/checkout",
    status_code=201,
    response_model=CheckoutOut,
    responses={
        404: {"description": "unknown cart, or a shipping_address_id the buyer has not saved"},
        409: {"description": "a line lacks stock or cannot be bought"},
    },
)
def checkout(
    body: CheckoutIn,
    checkout: CheckoutDep,
    tokens: TokensDep,
    container: ContainerDep,
    request: Request,
    ctx: Ctx,
    response: Response,
    principal: Annotated[Principal, Depends(Allowed("checkout"))],
    idempotency_key: Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=255)],
) -> dict[str, Any]:
    """Turns the buyer's cart into one order and one seller order per seller, holds every line's
    stock (all or none), snapshots prices and commission, and creates the payment intent. Ships
    to `shipping_address`, or to the saved address `shipping_address_id` names. Each seller that
    has shipping rates needs one for the address's country in `shipping` (422 naming the seller
    otherwise); the total is the items and their shipping. Requires `Idempotency-Key`. A guest
    checks out its cart with its cart token and the `email` to write to (422 without; a
    signed-in buyer sends none), and the answer adds `order_token`, which reads the order
    (`X-Velora-Order-Token` on `GET /v1/orders/{id}`)."""
    guest = is_guest(principal.roles)
    if guest != (body.email is not None):
        raise Problem(
            422,
            "a guest's checkout names the email to write to; a signed-in buyer's does not",
            errors=[{"loc": ["body", "email"], "msg": "required of guests, and only of them"}],
        )
    done = checkout.checkout(
        ctx,
        tenant_id=principal.tenant_id,
        buyer_id=cart_holder(principal, body.cart_id, request, container),
        cart_id=body.cart_id,
        shipping_address=body.address(),
        idempotency_key=idempotency_key,
        shipping=body.shipping,
        guest_email=body.email or "",
    )
    order, currency = done.order, done.order.currency
    response.headers["X-Velora-Position"] = str(done.position)
    payment = order.payment or {}

    return {
        **({"order_token": tokens.capability("order", order.id)} if guest else {}),
        "order_id": str(order.id),
        "status": order.status,
        "total": money_json(order.total_minor, currency),
        "tax": money_json(sum(so.tax_minor for so in done.seller_orders), currency),
        "discount": money_json(sum(so.discount_minor for so in done.seller_orders), currency),
        "seller_orders": [
            {
                "id": str(so.id),
                "seller_id": str(so.seller_id),
                "subtotal": money_json(so.subtotal_minor, currency),
                "shipping": money_json(so.shipping_minor, currency),
                "tax": money_json(so.tax_minor, currency),
                "discount": money_json(so.discount_minor, currency),
                "commission": money_json(so.commission_minor, currency),
                "seller_net": money_json(so.seller_net_minor, currency),
            }
            for so in done.seller_orders
        ],
        # An order promotions made free is paid at once, with no provider (provider "none").
        "payment": {
            "provider": payment.get("provider", "none"),
            "intent_id": payment.get("intent_id", ""),
            "client_secret": payment.get("client_secret", ""),
            "amount": money_json(payment.get("amount_minor", order.total_minor), currency),
        },
    }
