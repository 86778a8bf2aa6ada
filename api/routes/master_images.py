"""A Seller Pro master product's images (docs/api-seller-pro.md): uploaded, removed and
reordered on the master, and shown by every listing of it at once."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, File, Response, UploadFile

from api.deps import CatalogDep, Ctx, MediaUrlsDep, commanded, no_content
from api.routes.images import UPLOAD_RESPONSES, OrderIn, added_image
from api.routes.organisations import Actor, own_organisation
from api.schemas import ImageOut

router = APIRouter(
    prefix="/v1/organisations/{organisation_id}/products/{product_id}/images",
    tags=["organisations"],
)


@router.post("", status_code=201, response_model=ImageOut, responses=UPLOAD_RESPONSES)
async def upload_master_image(
    organisation_id: UUID,
    product_id: UUID,
    file: Annotated[UploadFile, File(description="a JPEG, PNG or WebP image")],
    catalog: CatalogDep,
    media_urls: MediaUrlsDep,
    ctx: Ctx,
    response: Response,
    principal: Actor,
) -> dict[str, Any]:
    """Adds an image to the master product, last, and to every listing of it in the same save
    (a listing published later shows it too). Cleaned as a product's image is."""
    own = own_organisation(principal, organisation_id)
    adding = partial(catalog.add_master_image, ctx, own, product_id)
    return await added_image(file, adding, media_urls, response)


@router.delete("/{image_id}", status_code=204)
def delete_master_image(
    organisation_id: UUID,
    product_id: UUID,
    image_id: UUID,
    catalog: CatalogDep,
    ctx: Ctx,
    principal: Actor,
) -> Response:
    """Stops showing an image on the master and every listing, and deletes its files."""
    own = own_organisation(principal, organisation_id)
    return no_content(catalog.remove_master_image(ctx, own, product_id, image_id))


@router.put("/order", response_model=dict[str, str])
def order_master_images(
    organisation_id: UUID,
    product_id: UUID,
    body: OrderIn,
    catalog: CatalogDep,
    ctx: Ctx,
    response: Response,
    principal: Actor,
) -> dict[str, str]:
    """Puts the master's images in this order (the first is the main one), and every
    listing's in the same."""
    own = own_organisation(principal, organisation_id)
    result = catalog.reorder_master_images(ctx, own, product_id, body.image_ids)
    return commanded(response, result)
