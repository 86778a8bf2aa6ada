"""Product images: sellers upload, reorder and delete them; anyone with a signed URL sees them."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, File, Query, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.deps import (
    Allowed,
    BlobsDep,
    CatalogDep,
    Ctx,
    MediaUrlsDep,
    acting_seller_id,
    commanded,
    no_content,
)
from api.media import MediaUrls
from api.problems import Problem
from api.schemas import ImageOut
from api.security import Principal
from domain.media import IMAGE_KEY, MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, MAX_IMAGES_PER_PRODUCT
from eventstore.application import CommandResult
from services.media import DecodesBusy

router = APIRouter(prefix="/v1/products", tags=["product images"])
media = APIRouter(prefix="/v1/media", tags=["product images"])
Seller = Annotated[Principal, Depends(Allowed("products:edit"))]

# The routes whose bodies may pass the general limit (a product's and a master product's image
# upload): an image and its multipart framing.
UPLOAD_PATH = re.compile(r"^/v1/(organisations/[^/]+/)?products/[^/]+/images$")
UPLOAD_MAX_BYTES = MAX_IMAGE_BYTES + 64 * 1024


UPLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {"description": f"the product shows {MAX_IMAGES_PER_PRODUCT} images already"},
    413: {"description": f"more than {MAX_IMAGE_BYTES} bytes or {MAX_IMAGE_PIXELS} pixels"},
    415: {"description": "not a JPEG, PNG or WebP image"},
    503: {"description": "this server is decoding as many images as it may; send it again"},
}


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    image_ids: list[UUID] = Field(
        max_length=MAX_IMAGES_PER_PRODUCT, description="every image of the product, once"
    )


@router.post(
    "/{product_id}/images",
    status_code=201,
    response_model=ImageOut,
    responses=UPLOAD_RESPONSES,
)
async def upload_image(
    product_id: UUID,
    file: Annotated[UploadFile, File(description="a JPEG, PNG or WebP image")],
    catalog: CatalogDep,
    media_urls: MediaUrlsDep,
    ctx: Ctx,
    response: Response,
    principal: Seller,
) -> dict[str, Any]:
    """Adds an image to the caller's own product, shown after the ones it has. The content
    decides what it is (never its name or declared type); its pixels are counted from its
    header before any is decoded; it is re-encoded without metadata (EXIF, GPS, comments),
    kept at most 2560 pixels on its longest side, and in two smaller sizes as well."""
    adding = partial(catalog.add_image, ctx, product_id, acting_seller_id(principal))
    return await added_image(file, adding, media_urls, response)


async def added_image(
    file: UploadFile,
    add: Callable[[bytes], tuple[CommandResult, dict[str, Any]]],
    media_urls: MediaUrls,
    response: Response,
) -> dict[str, Any]:
    """Reads an upload, no larger than an image may be, and has `add` clean, store and show
    it (in a worker thread: decoding takes a while); answers the image as shown."""
    upload = await file.read(UPLOAD_MAX_BYTES + 1)
    try:
        result, image = await run_in_threadpool(add, upload)
    except DecodesBusy:
        raise Problem(
            503,
            "too many images are being decoded; try again in a moment",
            headers={"Retry-After": "1"},
        ) from None
    commanded(response, result)
    keys = image["keys"]
    return {
        "id": str(result.id),
        "url": media_urls.url(keys["original"]),
        "width": image["width"],
        "height": image["height"],
        "sizes": {size: media_urls.url(key) for size, key in keys.items()},
    }


@router.delete("/{product_id}/images/{image_id}", status_code=204)
def delete_image(
    product_id: UUID, image_id: UUID, catalog: CatalogDep, ctx: Ctx, principal: Seller
) -> Response:
    """Stops showing an image of the caller's own product and deletes its files."""
    result = catalog.remove_image(ctx, product_id, acting_seller_id(principal), image_id)
    return no_content(result)


@router.put("/{product_id}/images/order", response_model=dict[str, str])
def order_images(
    product_id: UUID,
    body: OrderIn,
    catalog: CatalogDep,
    ctx: Ctx,
    response: Response,
    principal: Seller,
) -> dict[str, str]:
    """Puts the caller's product's images in this order (the first is the main one)."""
    result = catalog.reorder_images(ctx, product_id, acting_seller_id(principal), body.image_ids)
    return commanded(response, result)


@media.get(
    "/{key:path}",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}},
        403: {"description": "the signature is wrong or has expired"},
    },
)
def image_file(
    key: str,
    blobs: BlobsDep,
    media_urls: MediaUrlsDep,
    expires: Annotated[int, Query(ge=0, le=2**40)],
    signature: Annotated[str, Query(pattern=r"^[0-9a-f]{64}$")],
) -> Response:
    """An image's bytes, for the URL Velora signed (products and search results carry them).
    Needs no token, so an `<img>` tag can show it; the signature is the permission."""
    if not IMAGE_KEY.match(key) or not media_urls.valid(key, expires, signature):
        raise Problem(403, "this image link is not valid or has expired")
    blob = blobs.get(key)
    if blob is None:
        raise Problem(404, "this image was deleted")
    return Response(
        blob.data,
        media_type=blob.content_type,
        headers={
            "Cache-Control": f"public, max-age={media_urls.step_s}, immutable",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'",
        },
    )
