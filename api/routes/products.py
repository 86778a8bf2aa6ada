"""Products: listing and edits by their seller, moderation by marketplace admins, stock."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from api.deps import (
    Allowed,
    CatalogDep,
    CatalogQueriesDep,
    Ctx,
    Cursor,
    Limit,
    MediaUrlsDep,
    ReadAfter,
    Scope,
    acting_seller_id,
    commanded,
    confinement,
    no_content,
)
from api.media import MediaUrls
from api.policy import can_see_product, is_admin, is_guest
from api.problems import Problem
from api.routes.sellers import CommissionIn
from api.routes.variants import (
    OptionIn,
    ProductOptionOut,
    VariantCreated,
    VariantIn,
    VariantOut,
    created_view,
)
from api.schemas import ImageOut, MoneyIn, MoneyOut
from api.security import Principal
from services.catalog import ProductEdit

router = APIRouter(prefix="/v1/products", tags=["products"])


class ProductCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    category: str = Field(min_length=1, max_length=100)
    sku: str = Field(min_length=1, max_length=64)
    price: MoneyIn
    attributes: dict[str, str] = Field(default_factory=dict, max_length=50)
    options: list[OptionIn] = Field(
        default_factory=list, max_length=5, description="what buyers choose between"
    )
    variants: list[VariantIn] = Field(
        default_factory=list,
        max_length=100,
        description="none: the product is its own one variant, under its own id",
    )


class ProductPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    category: str | None = Field(default=None, min_length=1, max_length=100)
    price: MoneyIn | None = None

    @model_validator(mode="after")
    def _something(self) -> ProductPatch:
        if not self.model_fields_set:
            raise ValueError("send at least one of title, description, category, price")
        return self


class ProductRejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="", max_length=500)


class StockIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    warehouse: str = Field(min_length=1, max_length=64)
    on_hand: int = Field(ge=0, le=10**9, strict=True)


class FeatureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    until: AwareDatetime = Field(description="ISO 8601 with its zone; at most a year ahead")


class StockAlertIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    warehouse: str = Field(min_length=1, max_length=64)
    threshold: int = Field(ge=0, le=10**9, strict=True, description="0 removes the alert")


class ProductStatusOut(BaseModel):
    id: str
    status: str


class ProductCreated(ProductStatusOut):
    variants: list[VariantCreated] = Field(
        description="its variants with their ids (for a product without any: itself)"
    )


class ProductEditOut(ProductStatusOut):
    revision_status: str | None = Field(
        description="`pending_approval` while the edit waits for moderation (the approved "
        "version stays what buyers see); null when the edit is live"
    )


class AvailableOut(BaseModel):
    available: int


class RatingOut(BaseModel):
    average: float | None
    count: int


class RevisionOut(BaseModel):
    status: str = Field(description="`pending_approval`, or `rejected` (with its `reason`)")
    title: str
    description: str
    category: str
    reason: str | None


class PublicProductOut(BaseModel):
    """A product as a guest (a publishable key, no token) sees it: these fields and no other,
    so a field added to ProductOut stays out of guests' sight until it is added here. Never the
    product's or its seller's status, nor an edit awaiting moderation."""

    id: str
    tenant_id: str
    seller_id: str
    sku: str
    title: str
    description: str
    category: str
    price: MoneyOut
    attributes: dict[str, str]
    images: list[ImageOut]
    featured_until: datetime | None
    available: int = Field(description="the sum of its variants' on sale")
    options: list[ProductOptionOut]
    variants: list[VariantOut] = Field(
        description="on sale; a product without variants lists itself, under its own id"
    )
    rating: RatingOut
    created_at: datetime
    updated_at: datetime


class ProductOut(PublicProductOut):
    """A product as its seller, moderators and signed-in buyers see it: the public fields and
    the product's and its seller's status, with an edit awaiting moderation for those who
    moderate it or made it."""

    status: str
    revision: RevisionOut | None = Field(
        default=None,
        description="an edit waiting for moderation (or the last rejected), shown to the "
        "product's seller and moderators only; title, description and category are the "
        "approved version everyone sees",
    )
    seller_status: str


class ProductPage(BaseModel):
    items: list[ProductOut]
    next_cursor: str | None


class PublicProductPage(BaseModel):
    items: list[PublicProductOut]
    next_cursor: str | None


Seller = Annotated[Principal, Depends(Allowed("products:edit"))]
Moderator = Annotated[Principal, Depends(Allowed("products:moderate"))]


@router.post("", status_code=201, response_model=ProductCreated)
def create_product(
    body: ProductCreate,
    catalog: CatalogDep,
    ctx: Ctx,
    response: Response,
    principal: Annotated[Principal, Depends(Allowed("products:create"))],
) -> dict[str, Any]:
    """Lists a product of the calling (approved) seller: `pending_approval` where the tenant
    moderates its catalog, else `active`. With `options` and `variants`, every combination
    named is a variant with its own id, sku, price (default: the product's) and stock; 422 for
    a combination named twice or a value not among its option's."""
    result, status = catalog.list_product(
        ctx,
        seller_id=acting_seller_id(principal),
        within=confinement(principal),
        sku=body.sku,
        title=body.title,
        description=body.description,
        category=body.category,
        price=body.price.money(),
        attributes=body.attributes,
        options=[o.model_dump() for o in body.options],
        variants=[v.asked() for v in body.variants],
    )
    return {
        **commanded(response, result),
        "status": status,
        "variants": [created_view(v) for v in catalog.sellable_variants(result.id)],
    }


@router.post("/{product_id}/approve", response_model=ProductStatusOut)
def approve_product(
    product_id: UUID,
    catalog: CatalogDep,
    ctx: Ctx,
    response: Response,
    principal: Moderator,
) -> dict[str, str]:
    """Approves a product awaiting moderation: it becomes active. For an active product whose
    seller's edit awaits moderation (its `revision`), the edit becomes what buyers see."""
    result, status = catalog.approve(ctx, product_id, confinement(principal))
    return {**commanded(response, result), "status": status}


@router.post("/{product_id}/reject", response_model=ProductStatusOut)
def reject_product(
    product_id: UUID,
    catalog: CatalogDep,
    ctx: Ctx,
    response: Response,
    principal: Moderator,
    body: ProductRejectIn | None = None,
) -> dict[str, str]:
    """Rejects a product awaiting moderation; an edit by its seller resubmits it. For an active
    product whose seller's edit awaits moderation, the edit is rejected and the approved
    version stays."""
    reason = body.reason if body else ""
    result, status = catalog.reject(ctx, product_id, confinement(principal), reason)
    return {**commanded(response, result), "status": status}


@router.patch("/{product_id}", response_model=ProductEditOut)
def edit_product(
    product_id: UUID,
    body: ProductPatch,
    catalog: CatalogDep,
    ctx: Ctx,
    response: Response,
    principal: Seller,
) -> dict[str, str | None]:
    """Edits title, description, category or price of the caller's own product. Where the
    tenant moderates its catalog, an edit of an active product's title, description or
    category waits for moderation (`revision_status: pending_approval`) while buyers and search
    keep seeing the approved version; further edits add to it. The price is not moderated and
    changes at once."""
    edit = ProductEdit(
        title=body.title,
        description=body.description,
        category=body.category,
        price=body.price.money() if body.price else None,
    )
    result, status, revision = catalog.edit(ctx, product_id, acting_seller_id(principal), edit)
    return {**commanded(response, result), "status": status, "revision_status": revision}


@router.post("/{product_id}/stock", response_model=AvailableOut)
def set_stock(
    product_id: UUID,
    body: StockIn,
    catalog: CatalogDep,
    ctx: Ctx,
    response: Response,
    principal: Seller,
) -> dict[str, int]:
    """Sets the on-hand stock of the caller's own product in one warehouse."""
    result, available = catalog.set_stock(
        ctx, product_id, acting_seller_id(principal), body.warehouse, body.on_hand
    )
    commanded(response, result)
    return {"available": available}


@router.post("/{product_id}/feature", response_model=dict[str, str])
def feature_product(
    product_id: UUID,
    body: FeatureIn,
    catalog: CatalogDep,
    ctx: Ctx,
    response: Response,
    principal: Annotated[Principal, Depends(Allowed("products:feature"))],
) -> dict[str, str]:
    """Features an active product until `until`: `GET /v1/search/products?featured=true` finds
    it and `sort=featured` puts it first. The scheduler ends it when its time is up; featuring
    it again sets a new end."""
    result = catalog.feature(ctx, product_id, confinement(principal), body.until)
    return commanded(response, result)


@router.delete("/{product_id}/feature", status_code=204)
def unfeature_product(
    product_id: UUID,
    catalog: CatalogDep,
    ctx: Ctx,
    principal: Annotated[Principal, Depends(Allowed("products:feature"))],
) -> Response:
    """Ends a product's feature before its time. 409 if it is not featured."""
    result = catalog.unfeature(ctx, product_id, confinement(principal))
    return no_content(result)


@router.put("/{product_id}/stock-alert", response_model=dict[str, str])
def set_stock_alert(
    product_id: UUID,
    body: StockAlertIn,
    catalog: CatalogDep,
    ctx: Ctx,
    response: Response,
    principal: Seller,
) -> dict[str, str]:
    """Alerts the caller when its product's available stock falls below `threshold`: once per
    fall (and at once if it is below already), not again until it has risen back to it. The
    alert lists in GET /v1/sellers/{id}/alerts and is sent by the notifications consumer.
    Available stock is the product's across its warehouses; `warehouse` names the one to
    restock, and each warehouse has its own threshold."""
    result = catalog.set_stock_alert(
        ctx, product_id, acting_seller_id(principal), body.warehouse, body.threshold
    )
    return commanded(response, result)


@router.put("/{product_id}/commission", response_model=ProductStatusOut)
def set_product_commission(
    product_id: UUID,
    body: CommissionIn,
    catalog: CatalogDep,
    ctx: Ctx,
    response: Response,
    principal: Annotated[Principal, Depends(Allowed("commission:set"))],
) -> dict[str, str]:
    """Overrides the commission rate for this product, the most specific rule there is."""
    result = catalog.set_commission(ctx, product_id, confinement(principal), body.commission_bps)
    return {**commanded(response, result), "status": "ok"}


@router.get(
    "/{product_id}",
    response_model=ProductOut | PublicProductOut,
    dependencies=[Depends(ReadAfter("catalog"))],
)
def get_product(
    product_id: UUID,
    catalog_queries: CatalogQueriesDep,
    media_urls: MediaUrlsDep,
    scope: Scope,
    principal: Annotated[Principal, Depends(Allowed("products:read"))],
) -> dict[str, Any]:
    """A product with its available stock, average rating and images (signed URLs): the
    approved version, and for its seller and moderators the edit awaiting moderation. Guests
    (a publishable key, no token) see a product on sale, in its public shape."""
    product = catalog_queries.product(scope, str(product_id))
    if product is None or not can_see_product(
        principal.roles, str(acting_seller_id(principal)), product
    ):
        raise Problem(404, f"product {product_id} not found")
    return shown(product, principal, media_urls)


@router.get(
    "",
    response_model=ProductPage | PublicProductPage,
    dependencies=[Depends(ReadAfter("catalog"))],
)
def list_products(
    catalog_queries: CatalogQueriesDep,
    media_urls: MediaUrlsDep,
    scope: Scope,
    principal: Annotated[Principal, Depends(Allowed("products:read"))],
    status: Annotated[str | None, Query(pattern="^(pending_approval|active|rejected)$")] = None,
    revision_status: Annotated[str | None, Query(pattern="^(pending_approval|rejected)$")] = None,
    seller_id: UUID | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Products in creation order, filtered by status and seller; the moderation queue is
    `?status=pending_approval` for new listings and `?revision_status=pending_approval` for
    edits of active products. Guests list the products on sale, in their public shape."""
    visible_to = None if is_admin(principal.roles) else str(acting_seller_id(principal))
    page = catalog_queries.products(
        scope,
        status=status,
        seller_id=str(seller_id) if seller_id else None,
        visible_to_seller=visible_to,
        limit=limit,
        cursor=cursor,
        revision_status=revision_status,
    )
    items = [shown(p, principal, media_urls) for p in page.items]
    return {"items": items, "next_cursor": page.next_cursor}


PUBLIC_PRODUCT_FIELDS = tuple(PublicProductOut.model_fields)


def shown(product: dict[str, Any], principal: Principal, media_urls: MediaUrls) -> dict[str, Any]:
    """A product as this caller sees it: an edit awaiting moderation is its seller's and the
    moderators' to see, a guest sees only the public fields, and images are signed URLs."""
    if is_guest(principal.roles):
        public = {f: product[f] for f in PUBLIC_PRODUCT_FIELDS}
        return public | {"images": media_urls.images(product["images"])}
    own = product["seller_id"] == str(acting_seller_id(principal))
    revision = product["revision"] if own or is_admin(principal.roles) else None
    return product | {"revision": revision, "images": media_urls.images(product["images"])}
