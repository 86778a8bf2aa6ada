"""Returns (RMA): the buyer asks to send delivered lines back, the seller (or a marketplace
admin) authorizes or rejects, the buyer ships them, the seller records what arrived, which is
refunded and, where it can be sold again, restocked."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from api.deps import (
    Allowed,
    Ctx,
    Cursor,
    Limit,
    OrderQueriesDep,
    ReadAfter,
    ReturnsDep,
    Scope,
    acting_seller_id,
    commanded,
    confined_seller,
    confinement,
)
from api.policy import acts_for_marketplace
from api.problems import Problem
from api.schemas import MoneyOut
from api.security import Principal
from domain.returns import AskedLine, ReceivedLine

router = APIRouter(prefix="/v1/returns", tags=["returns"])

Status = Literal["requested", "authorized", "rejected", "in_transit", "received"]


class LineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product_id: UUID
    variant_id: UUID | None = Field(
        default=None, description="the variant bought; needed when the order has several"
    )
    quantity: StrictInt = Field(ge=1, le=1_000_000)


class ReturnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seller_order_id: UUID
    lines: list[LineIn] = Field(min_length=1, max_length=100)
    reason: str = Field(min_length=1, max_length=500)


class AuthorizeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    instructions: str = Field(min_length=1, max_length=2000)


class ReturnRejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500)


class ShipIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    carrier: str = Field(min_length=1, max_length=100)
    tracking_number: str = Field(min_length=1, max_length=100)


class ReceivedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product_id: UUID
    variant_id: UUID | None = Field(
        default=None, description="the variant that came back; needed when the order has several"
    )
    quantity: StrictInt = Field(ge=0, le=1_000_000)
    restock_warehouse: str | None = Field(
        default=None,
        max_length=64,
        description="where the units go back on sale; none if they cannot be sold again",
    )


class ReceiveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lines: list[ReceivedIn] = Field(min_length=1, max_length=100)


class ReturnCreated(BaseModel):
    id: str
    status: str


class ReturnLine(BaseModel):
    product_id: str
    variant_id: str
    quantity: int


class ReceivedLineOut(ReturnLine):
    restock_warehouse: str | None


class ReturnOut(BaseModel):
    id: str
    tenant_id: str
    seller_order_id: str
    order_id: str
    buyer_id: str
    seller_id: str
    status: str
    lines: list[ReturnLine]
    reason: str
    instructions: str | None
    rejection_reason: str | None
    carrier: str | None
    tracking_number: str | None
    received_lines: list[ReceivedLineOut] | None
    refund_id: str | None = Field(description="the refund that paid the received lines back")
    refunded: MoneyOut
    created_at: datetime
    updated_at: datetime


class ReturnPage(BaseModel):
    items: list[ReturnOut]
    next_cursor: str | None


def _lines(lines: list[LineIn]) -> list[AskedLine]:
    return [AskedLine(line.product_id, line.quantity, line.variant_id) for line in lines]


@router.post("", status_code=201, response_model=ReturnCreated)
def request_return(
    body: ReturnIn,
    returns: ReturnsDep,
    ctx: Ctx,
    response: Response,
    principal: Annotated[Principal, Depends(Allowed("returns:request"))],
) -> dict[str, Any]:
    """Asks to return delivered lines of one of the buyer's seller orders, within the tenant's
    `return_window_days` of delivery: 409 outside it, or for more units than are left to
    return."""
    result = returns.request(
        ctx,
        seller_order_id=body.seller_order_id,
        within=confinement(principal),
        buyer_id=principal.user_id,
        lines=_lines(body.lines),
        reason=body.reason,
    )
    return {**commanded(response, result), "status": "requested"}


Decider = Annotated[Principal, Depends(Allowed("returns:decide"))]


@router.post("/{return_id}/authorize", response_model=ReturnCreated)
def authorize_return(
    return_id: UUID,
    body: AuthorizeIn,
    returns: ReturnsDep,
    ctx: Ctx,
    response: Response,
    principal: Decider,
) -> dict[str, Any]:
    """The seller (or a marketplace admin) agrees to take the lines back, and says how."""
    result = returns.authorize(
        ctx,
        return_id,
        within=confinement(principal),
        seller_id=confined_seller(principal),
        instructions=body.instructions,
    )
    return {**commanded(response, result), "status": "authorized"}


@router.post("/{return_id}/reject", response_model=ReturnCreated)
def reject_return(
    return_id: UUID,
    body: ReturnRejectIn,
    returns: ReturnsDep,
    ctx: Ctx,
    response: Response,
    principal: Decider,
) -> dict[str, Any]:
    """The seller (or a marketplace admin) refuses the return; its units can be asked for
    again."""
    result = returns.reject(
        ctx,
        return_id,
        within=confinement(principal),
        seller_id=confined_seller(principal),
        reason=body.reason,
    )
    return {**commanded(response, result), "status": "rejected"}


@router.post("/{return_id}/ship", response_model=ReturnCreated)
def ship_return(
    return_id: UUID,
    body: ShipIn,
    returns: ReturnsDep,
    ctx: Ctx,
    response: Response,
    principal: Annotated[Principal, Depends(Allowed("returns:ship"))],
) -> dict[str, Any]:
    """The buyer sends the authorized return, with its tracking number."""
    result = returns.ship(
        ctx,
        return_id,
        within=confinement(principal),
        buyer_id=principal.user_id,
        carrier=body.carrier,
        tracking_number=body.tracking_number,
    )
    return {**commanded(response, result), "status": "in_transit"}


@router.post("/{return_id}/receive", response_model=ReturnCreated)
def receive_return(
    return_id: UUID,
    body: ReceiveIn,
    returns: ReturnsDep,
    ctx: Ctx,
    response: Response,
    principal: Annotated[Principal, Depends(Allowed("returns:receive"))],
) -> dict[str, Any]:
    """The seller notes what arrived (quantity 0 for a line that did not): it is refunded
    through the refund path at its price in the order (out of escrow while held, else charged
    back), and the lines with a `restock_warehouse` go back on sale there."""
    result = returns.receive(
        ctx,
        return_id,
        within=confinement(principal),
        seller_id=acting_seller_id(principal),
        lines=[
            ReceivedLine(x.product_id, x.quantity, x.restock_warehouse, x.variant_id)
            for x in body.lines
        ],
    )
    return {**commanded(response, result), "status": "received"}


Reader = Annotated[Principal, Depends(Allowed("returns:read"))]


def _confined(principal: Principal) -> tuple[str | None, str | None]:
    """(buyer, seller) a reader sees the returns of; both None for a marketplace admin."""
    if acts_for_marketplace(principal.roles):
        return None, None
    if "seller" in principal.roles:
        return None, str(acting_seller_id(principal))
    return str(principal.user_id), None


@router.get("/{return_id}", response_model=ReturnOut, dependencies=[Depends(ReadAfter("orders"))])
def get_return(
    return_id: UUID, order_queries: OrderQueriesDep, scope: Scope, principal: Reader
) -> dict[str, Any]:
    """A return and where it stands: for its buyer, its seller and marketplace admins."""
    found = order_queries.return_(scope, str(return_id))
    buyer, seller = _confined(principal)
    if (
        found is None
        or (buyer is not None and found["buyer_id"] != buyer)
        or (seller is not None and found["seller_id"] != seller)
    ):
        raise Problem(404, f"return {return_id} not found")
    return found


@router.get("", response_model=ReturnPage, dependencies=[Depends(ReadAfter("orders"))])
def list_returns(
    order_queries: OrderQueriesDep,
    scope: Scope,
    principal: Reader,
    limit: Limit = 50,
    cursor: Cursor = None,
    status: Annotated[Status | None, Query(description="only returns in this status")] = None,
) -> dict[str, Any]:
    """The caller's returns (a buyer's, a seller's, or the tenant's for a marketplace admin)
    in the order they were asked for."""
    buyer, seller = _confined(principal)
    page = order_queries.returns(
        scope, buyer_id=buyer, seller_id=seller, status=status, limit=limit, cursor=cursor
    )
    return {"items": page.items, "next_cursor": page.next_cursor}
