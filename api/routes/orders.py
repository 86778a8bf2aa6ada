"""Orders for buyers, seller orders for sellers, and their fulfilment."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import (
    ORDER_TOKEN_HEADER,
    Allowed,
    CheckoutDep,
    Ctx,
    Cursor,
    FulfilmentDep,
    Limit,
    OrderQueriesDep,
    ReadAfter,
    Scope,
    TokensDep,
    acting_seller_id,
    commanded,
    confined_buyer,
    confined_seller,
    confinement,
    not_for_guests,
)
from api.policy import is_admin, is_guest
from api.problems import Problem
from api.schemas import MoneyOut
from api.security import Principal

router = APIRouter(prefix="/v1", tags=["orders"])

ORDER_STATUS = "^(pending_payment|paid|fulfilled|completed|cancelled|refunded|partially_refunded)$"
SELLER_ORDER_STATUS = "^(pending_payment|paid|shipped|delivered|completed|cancelled|refunded)$"


class BuyerLineOut(BaseModel):
    product_id: str
    variant_id: str = Field(description="the variant bought (a product without variants: itself)")
    sku: str
    options: dict[str, str]
    title: str
    quantity: int
    unit_price: MoneyOut
    line_total: MoneyOut = Field(description="unit_price x quantity")
    tax: MoneyOut = Field(description="of the line, rounded half to even")
    discount: MoneyOut = Field(description="what promotions took off its listed price")
    tax_rate_bps: int = Field(description="the rate it is taxed at (0: none applies)")


class LineOut(BuyerLineOut):
    commission_bps: int = Field(description="the marketplace's rate on it (staff and sellers)")


class DisputeOut(BaseModel):
    amount: MoneyOut = Field(description="this seller order's share of the latest dispute")
    lost: MoneyOut = Field(description="what lost disputes took back, in all")
    fees: MoneyOut = Field(description="the dispute fees the seller bore, in all")


class ShippingRateRef(BaseModel):
    rate_id: str
    name: str
    min_days: int
    max_days: int


class BuyerSellerOrderOut(BaseModel):
    """A seller order as its buyer sees it: what it bought and paid, not the marketplace's
    economics (commission, seller net)."""

    id: str
    order_id: str
    tenant_id: str
    buyer_id: str
    seller_id: str
    status: str
    escrow_status: str
    subtotal: MoneyOut = Field(description="the items, without tax")
    shipping: MoneyOut = Field(description="what the buyer pays to ship them (0: free)")
    shipping_rate: ShippingRateRef | None = Field(
        description="the seller's rate it ships at; null: the seller has no rates"
    )
    tax: MoneyOut = Field(description="the tax on its items: the marketplace's, not the seller's")
    discount: MoneyOut = Field(description="what promotions took off its items and shipping")
    lines: list[BuyerLineOut]
    refunded: MoneyOut
    dispute_status: str = Field(description="none, open, won or lost: the latest dispute")
    dispute: DisputeOut | None
    carrier: str | None
    tracking_number: str | None
    delivered_at: datetime | None
    escrow_release_due_at: datetime | None
    created_at: datetime
    updated_at: datetime


class SellerOrderOut(BuyerSellerOrderOut):
    """A seller order as its seller and the marketplace's staff see it."""

    commission: MoneyOut
    seller_net: MoneyOut
    lines: list[LineOut]  # type: ignore[assignment]


class PaymentRef(BaseModel):
    provider: str | None
    intent_id: str | None
    returned: MoneyOut = Field(description="paid back to the buyer through the provider")


class BuyerOrderOut(BaseModel):
    """An order as its buyer (or the guest holding its token) sees it: its seller orders
    without the marketplace's economics."""

    id: str
    tenant_id: str
    buyer_id: str
    status: str
    total: MoneyOut = Field(description="items - discounts + shipping + tax")
    shipping: MoneyOut = Field(description="of the total, what its shipping came to")
    tax: MoneyOut = Field(description="of the total, what its tax came to")
    discount: MoneyOut = Field(description="what promotions took off it")
    shipping_address: dict[str, str]
    payment: PaymentRef
    needs_review: bool = Field(description="the payment does not add up; a person must look")
    review_reason: str | None
    dispute_status: str = Field(description="none, open, won or lost: the charge's latest dispute")
    expires_at: datetime
    seller_orders: list[BuyerSellerOrderOut]
    created_at: datetime
    updated_at: datetime


class OrderOut(BuyerOrderOut):
    """An order as the marketplace's staff see it: with commission and seller net."""

    seller_orders: list[SellerOrderOut]  # type: ignore[assignment]


class OrderPage(BaseModel):
    items: list[OrderOut] | list[BuyerOrderOut] = Field(
        description="as its staff see them, or as their buyer does (GET /v1/orders/{id})"
    )
    next_cursor: str | None


class SellerOrderPage(BaseModel):
    items: list[SellerOrderOut]
    next_cursor: str | None


class ShipIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    carrier: str = Field(min_length=1, max_length=100)
    tracking_number: str = Field(min_length=1, max_length=100)


class StatusOut(BaseModel):
    id: str
    status: str


def _own_buyer(principal: Principal) -> str | None:
    """A buyer sees only its own orders; admins see their tenant's."""
    return None if is_admin(principal.roles) else str(principal.user_id)


def _for(principal: Principal, order: dict[str, Any]) -> dict[str, Any]:
    """The order as the caller may see it: its buyer (or guest) without the marketplace's
    economics, each seller order's commission and seller net and each line's rate."""
    if is_admin(principal.roles):
        return order
    shown = [
        {k: v for k, v in so.items() if k not in ("commission", "seller_net")}
        | {"lines": [_without(line, "commission_bps") for line in so["lines"]]}
        for so in order["seller_orders"]
    ]
    return order | {"seller_orders": shown}


def _without(row: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != key}


def _own_seller(principal: Principal) -> str | None:
    return None if is_admin(principal.roles) else str(acting_seller_id(principal))


OrderReader = Annotated[Principal, Depends(Allowed("orders:read"))]
SellerOrderReader = Annotated[Principal, Depends(Allowed("seller_orders:read"))]


@router.get(
    "/orders/{order_id}",
    response_model=OrderOut | BuyerOrderOut,
    dependencies=[Depends(ReadAfter("orders"))],
)
def get_order(
    order_id: UUID,
    order_queries: OrderQueriesDep,
    checkout: CheckoutDep,
    tokens: TokensDep,
    scope: Scope,
    principal: OrderReader,
    order_token: Annotated[
        str | None,
        Header(alias=ORDER_TOKEN_HEADER, description="a guest's: from its checkout's answer"),
    ] = None,
) -> dict[str, Any]:
    """An order with its seller orders: for its buyer, and for marketplace admins; for a guest
    (a publishable key and no token) that sends the order's token from its checkout. Its buyer
    sees no commission or seller net (`BuyerOrderOut`); the marketplace's staff do."""
    buyer = _own_buyer(principal)
    if is_guest(principal.roles):
        if not (
            tokens.holds("order", order_id, order_token)
            and checkout.guest_order(order_id, principal.tenant_id)
        ):
            raise Problem(404, f"order {order_id} not found")
        buyer = None
    order = order_queries.order(scope, str(order_id), buyer)
    if order is None:
        raise Problem(404, f"order {order_id} not found")
    return _for(principal, order)


@router.get("/orders", response_model=OrderPage, dependencies=[Depends(ReadAfter("orders"))])
def list_orders(
    order_queries: OrderQueriesDep,
    scope: Scope,
    principal: OrderReader,
    status: Annotated[str | None, Query(pattern=ORDER_STATUS)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Orders, oldest first: a buyer's own (with the guest orders of its verified email), or
    all of the tenant's for admins."""
    if is_guest(principal.roles):
        raise not_for_guests()  # a guest reads an order by its token, and lists none
    page = order_queries.orders(
        scope, buyer_id=_own_buyer(principal), status=status, limit=limit, cursor=cursor
    )
    return {"items": [_for(principal, o) for o in page.items], "next_cursor": page.next_cursor}


@router.post("/orders/{order_id}/cancel", response_model=StatusOut)
def cancel_order(
    order_id: UUID,
    checkout: CheckoutDep,
    ctx: Ctx,
    response: Response,
    principal: Annotated[Principal, Depends(Allowed("orders:cancel"))],
) -> dict[str, str]:
    """Cancels an order before any of it has shipped: holds are released and sold units go back
    to stock."""
    result = checkout.cancel(ctx, order_id, confinement(principal), confined_buyer(principal))
    return {**commanded(response, result), "status": "cancelled"}


@router.get(
    "/seller-orders/{seller_order_id}",
    response_model=SellerOrderOut,
    dependencies=[Depends(ReadAfter("orders"))],
)
def get_seller_order(
    seller_order_id: UUID,
    order_queries: OrderQueriesDep,
    scope: Scope,
    principal: SellerOrderReader,
) -> dict[str, Any]:
    """A seller order with its lines and escrow status: for its seller and for admins."""
    found = order_queries.seller_order(scope, str(seller_order_id), _own_seller(principal))
    if found is None:
        raise Problem(404, f"seller order {seller_order_id} not found")
    return found


@router.get(
    "/seller-orders", response_model=SellerOrderPage, dependencies=[Depends(ReadAfter("orders"))]
)
def list_seller_orders(
    order_queries: OrderQueriesDep,
    scope: Scope,
    principal: SellerOrderReader,
    status: Annotated[str | None, Query(pattern=SELLER_ORDER_STATUS)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Seller orders, oldest first: a seller's own, or all of the tenant's for admins."""
    page = order_queries.seller_orders(
        scope, seller_id=_own_seller(principal), status=status, limit=limit, cursor=cursor
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/seller-orders/{seller_order_id}/ship", response_model=StatusOut)
def ship(
    seller_order_id: UUID,
    body: ShipIn,
    fulfilment: FulfilmentDep,
    ctx: Ctx,
    response: Response,
    principal: Annotated[Principal, Depends(Allowed("seller_orders:ship"))],
) -> dict[str, str]:
    """Ships a paid seller order with a carrier and tracking number."""
    result, status = fulfilment.ship(
        ctx,
        seller_order_id,
        seller_id=acting_seller_id(principal),
        carrier=body.carrier,
        tracking_number=body.tracking_number,
    )
    return {**commanded(response, result), "status": status}


@router.post("/seller-orders/{seller_order_id}/deliver", response_model=StatusOut)
def deliver(
    seller_order_id: UUID,
    fulfilment: FulfilmentDep,
    ctx: Ctx,
    response: Response,
    principal: Annotated[Principal, Depends(Allowed("seller_orders:deliver"))],
) -> dict[str, str]:
    """Marks a shipped seller order delivered (its seller, or a marketplace admin)."""
    result, status = fulfilment.deliver(
        ctx,
        seller_order_id,
        within=confinement(principal),
        seller_id=confined_seller(principal),
    )
    return {**commanded(response, result), "status": status}
