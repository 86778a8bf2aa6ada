"""The signed-in buyer's wishlist."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel

from api.deps import (
    Allowed,
    Ctx,
    Cursor,
    Limit,
    MediaUrlsDep,
    ReadAfter,
    WishlistQueriesDep,
    WishlistsDep,
    commanded,
    no_content,
)
from api.schemas import ImageOut, MoneyOut
from api.security import Principal
from projections.scope import TenantScope

router = APIRouter(prefix="/v1/me/wishlist", tags=["wishlist"])
Buyer = Annotated[Principal, Depends(Allowed("wishlist:use"))]


class WishedOut(BaseModel):
    product_id: str
    title: str
    price: MoneyOut
    available: int
    images: list[ImageOut]
    added_at: datetime


class WishlistOut(BaseModel):
    items: list[WishedOut]
    next_cursor: str | None


@router.get(
    "",
    response_model=WishlistOut,
    dependencies=[Depends(ReadAfter("wishlists", "catalog"))],
)
def my_wishlist(
    principal: Buyer,
    wishlist_queries: WishlistQueriesDep,
    media_urls: MediaUrlsDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """The products the caller wishes for, at today's price and stock, oldest wish first. A
    product buyers cannot see now (hidden, rejected, its seller suspended) is left out while it
    stays so."""
    page = wishlist_queries.wishlist(
        TenantScope.only(principal.tenant_id),
        str(principal.user_id),
        limit=limit,
        cursor=cursor,
    )
    items = [item | {"images": media_urls.images(item["images"])} for item in page.items]
    return {"items": items, "next_cursor": page.next_cursor}


@router.put("/{product_id}", response_model=dict[str, str])
def wish(
    product_id: UUID, principal: Buyer, wishlists: WishlistsDep, ctx: Ctx, response: Response
) -> dict[str, str]:
    """Puts a product on the caller's wishlist (already there: nothing changes). A price drop
    on it is then news for the caller (a notification)."""
    result = wishlists.wish(ctx, principal.tenant_id, principal.user_id, product_id)
    commanded(response, result)
    return {"id": str(product_id)}


@router.delete("/{product_id}", status_code=204)
def unwish(product_id: UUID, principal: Buyer, wishlists: WishlistsDep, ctx: Ctx) -> Response:
    """Takes a product off the caller's wishlist."""
    result = wishlists.unwish(ctx, principal.tenant_id, principal.user_id, product_id)
    return no_content(result)
