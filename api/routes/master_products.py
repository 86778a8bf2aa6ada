"""A Seller Pro organisation's master catalog: master products, their one stock, and their
listings on the marketplaces it joined (docs/api-seller-pro.md)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import (
    CatalogDep,
    Ctx,
    Cursor,
    Limit,
    MasterCatalogQueriesDep,
    MediaUrlsDep,
    ReadAfter,
    Scope,
    commanded,
)
from api.media import MediaUrls
from api.problems import Problem
from api.routes.organisations import Actor, Reader, own_organisation
from api.routes.products import AvailableOut, ProductStatusOut
from api.routes.variants import OptionIn, StockIn, VariantCreated
from api.schemas import ImageOut, MoneyIn, MoneyOut
from domain.master_catalog import MasterProduct

router = APIRouter(prefix="/v1/organisations/{organisation_id}/products", tags=["organisations"])


class MasterVariantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: str = Field(min_length=1, max_length=64)
    options: dict[str, str] = Field(
        max_length=5, description="one value for each of the product's options"
    )


class MasterProductCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    category: str = Field(min_length=1, max_length=100)
    sku: str = Field(min_length=1, max_length=64)
    attributes: dict[str, str] = Field(default_factory=dict, max_length=50)
    options: list[OptionIn] = Field(default_factory=list, max_length=5)
    variants: list[MasterVariantIn] = Field(
        default_factory=list,
        max_length=100,
        description="none: the master is its own one variant, under its own id",
    )


class MasterProductCreated(BaseModel):
    id: str
    variants: list[VariantCreated] = Field(
        description="its variants with their ids (for a master without any: itself)"
    )


class ListingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tenant_id: UUID = Field(description="a marketplace the organisation joined")
    price: MoneyIn = Field(description="in that marketplace's currency")
    category: str | None = Field(
        default=None, min_length=1, max_length=100, description="default: the master's"
    )
    variant_prices: dict[UUID, MoneyIn] = Field(
        default_factory=dict, max_length=100, description="a price of its own per variant"
    )


class MasterPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    category: str | None = Field(default=None, min_length=1, max_length=100)
    attributes: dict[str, str] | None = Field(default=None, max_length=50)


class MasterVariantOut(BaseModel):
    id: str
    sku: str
    options: dict[str, str]
    on_hand: int = Field(description="what the organisation's warehouses hold")
    available: int = Field(description="what buyers in any marketplace can take now")


class MasterListingOut(BaseModel):
    tenant_id: str
    product_id: str
    status: str
    price: MoneyOut


class MasterProductOut(BaseModel):
    id: str
    sku: str
    title: str
    description: str
    category: str
    attributes: dict[str, str]
    options: list[dict[str, Any]]
    variants: list[MasterVariantOut]
    listings: list[MasterListingOut]
    images: list[ImageOut] = Field(description="in the order every listing shows them")


class MasterProductPage(BaseModel):
    items: list[MasterProductOut]
    next_cursor: str | None


class IdOut(BaseModel):
    id: str


class ListingOut(ProductStatusOut):
    product_id: str = Field(description="the listing: a product of that marketplace")


def _created(master: MasterProduct) -> MasterProductCreated:
    made = [
        VariantCreated(id=v["variant_id"], sku=v["sku"], options=v["options"])
        for v in master.variants
    ]
    return MasterProductCreated(
        id=str(master.id),
        variants=made or [VariantCreated(id=str(master.id), sku=master.sku, options={})],
    )


@router.post("", status_code=201, response_model=MasterProductCreated)
def create_master_product(
    organisation_id: UUID,
    body: MasterProductCreate,
    catalog: CatalogDep,
    ctx: Ctx,
    response: Response,
    principal: Actor,
) -> MasterProductCreated:
    """A master product of the organisation, with its variants; each variant has one stock,
    which every listing of it sells from. 422 for a sku the organisation uses already."""
    fields = body.model_dump(exclude={"options", "variants"})
    fields["options"] = [o.model_dump() for o in body.options]
    fields["variants"] = [v.model_dump() for v in body.variants]
    master = catalog.create_master(ctx, own_organisation(principal, organisation_id), fields)
    response.headers["Location"] = f"/v1/organisations/{organisation_id}/products/{master.id}"
    return _created(master)


@router.post("/{product_id}/variants/{variant_id}/stock", response_model=AvailableOut)
def set_master_stock(
    organisation_id: UUID,
    product_id: UUID,
    variant_id: UUID,
    body: StockIn,
    catalog: CatalogDep,
    ctx: Ctx,
    response: Response,
    principal: Actor,
) -> dict[str, int]:
    """Sets the on-hand count of one of the organisation's warehouses for a variant (of a
    master without variants: its own id): the one stock every listing of it sells from."""
    result, available = catalog.set_master_stock(
        ctx,
        own_organisation(principal, organisation_id),
        product_id,
        variant_id,
        body.warehouse,
        body.on_hand,
    )
    commanded(response, result)
    return {"available": available}


@router.post(
    "/{product_id}/listings",
    status_code=201,
    response_model=ListingOut,
    responses={404: {}, 409: {}, 422: {}},
)
def publish_listing(
    organisation_id: UUID,
    product_id: UUID,
    body: ListingIn,
    catalog: CatalogDep,
    ctx: Ctx,
    response: Response,
    principal: Actor,
) -> dict[str, str]:
    """Lists the master product on a marketplace the organisation joined: a product of that
    marketplace, sold by its seller there, moderated as the marketplace moderates, priced in its
    currency, its variants selling from the organisation's one stock. 404 for a marketplace
    not joined; 409 listed there already, or its seller there not approved."""
    result, status = catalog.publish(
        ctx,
        own_organisation(principal, organisation_id),
        product_id,
        body.tenant_id,
        body.price.money(),
        body.category,
        {variant: price.money() for variant, price in body.variant_prices.items()},
    )
    commanded(response, result)
    return {"id": str(result.id), "product_id": str(result.id), "status": status}


@router.delete("/{product_id}/listings/{tenant_id}", status_code=204, responses={404: {}})
def withdraw_listing(
    organisation_id: UUID,
    product_id: UUID,
    tenant_id: UUID,
    catalog: CatalogDep,
    ctx: Ctx,
    response: Response,
    principal: Actor,
) -> Response:
    """Withdraws the master's listing from one marketplace: it can no longer be found or
    bought there; its orders keep it, and its other listings stay."""
    result = catalog.withdraw(
        ctx, own_organisation(principal, organisation_id), product_id, tenant_id
    )
    done = Response(status_code=204)
    commanded(done, result)
    return done


READ = [Depends(ReadAfter("organisations", "catalog"))]


@router.get("", response_model=MasterProductPage, dependencies=READ)
def list_master_products(
    organisation_id: UUID,
    queries: MasterCatalogQueriesDep,
    media_urls: MediaUrlsDep,
    scope: Scope,
    principal: Reader,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """The organisation's master products, oldest first: each with its variants' stock and
    where it is listed."""
    own = own_organisation(principal, organisation_id)
    page = queries.products(scope, str(own), limit=limit, cursor=cursor)
    items = [_signed(item, media_urls) for item in page.items]
    return {"items": items, "next_cursor": page.next_cursor}


@router.get("/{product_id}", response_model=MasterProductOut, dependencies=READ)
def get_master_product(
    organisation_id: UUID,
    product_id: UUID,
    queries: MasterCatalogQueriesDep,
    media_urls: MediaUrlsDep,
    scope: Scope,
    principal: Reader,
) -> dict[str, Any]:
    """One master product: its variants with what the organisation holds (`on_hand`) and what
    buyers can take (`available`), its listings with their status and price, and its images
    (signed URLs)."""
    found = queries.product(
        scope, str(own_organisation(principal, organisation_id)), str(product_id)
    )
    if found is None:
        raise Problem(404, f"product {product_id} not found")
    return _signed(found, media_urls)


def _signed(master: dict[str, Any], media_urls: MediaUrls) -> dict[str, Any]:
    return master | {"images": media_urls.images(master["images"])}


@router.patch("/{product_id}", response_model=IdOut, responses={404: {}, 409: {}, 422: {}})
def edit_master_product(
    organisation_id: UUID,
    product_id: UUID,
    body: MasterPatch,
    catalog: CatalogDep,
    ctx: Ctx,
    response: Response,
    principal: Actor,
) -> dict[str, str]:
    """Edits the master: its title and description flow to every listing at once (where a
    marketplace moderates, an active listing's new text waits for approval there while its
    approved text stays live); its category and attributes are what listings published from
    now on take (a listing keeps its marketplace's category)."""
    result = catalog.edit_master(
        ctx,
        own_organisation(principal, organisation_id),
        product_id,
        body.model_dump(exclude_unset=True),
    )
    return commanded(response, result)
