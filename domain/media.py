"""Media: the images sellers show their products with, the limits they are held to, and the
port through which their bytes are stored."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from domain.errors import Conflict, DomainError, Invalid, NotFound, TooLarge, Unsupported

# What an upload may be: real JPEG, PNG or WebP, at most this many bytes and pixels (a
# decompression bomb is a small file with a huge pixel count). The pixels are counted from the
# header, before any is decoded: 25 megapixels take a 24-megapixel camera's 6000 x 4000 photo,
# and up to 100 MB while a PNG of that size is decoded (a JPEG is decoded at a fraction).
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_PIXELS = 25_000_000
MAX_IMAGES_PER_PRODUCT = 10
# The largest size Velora keeps (longest side, px): "original" is the upload cleaned and fitted
# within it, never enlarged. A JPEG larger than that is decoded straight at 1/2, 1/4 or 1/8 of
# its size (never below this), so its full-size pixels are never held in memory.
MAX_IMAGE_SIDE = 2560
# And in these smaller sizes (longest side, px).
DERIVED_SIZES: Mapping[str, int] = {"large": 1200, "thumb": 320}
SIZES = ("original", *DERIVED_SIZES)
EXTENSIONS: Mapping[str, str] = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# The only keys Velora stores images under: nothing a caller sends can name another.
IMAGE_KEY = re.compile(
    rf"^(?P<tenant>{_UUID})/products/(?P<product>{_UUID})/(?P<image>{_UUID})/"
    rf"(?P<size>{'|'.join(SIZES)})\.(?P<ext>jpg|png|webp)$"
)


class MediaError(DomainError):
    """Base of the media context's errors."""


class NotAnImage(MediaError, Unsupported):
    title = "Not an image"


class ImageTooLarge(MediaError, TooLarge):
    title = "Image too large"


class TooManyImages(MediaError, Conflict):
    title = "Too many images"


class ImageNotFound(MediaError, NotFound):
    title = "Image not found"


class InvalidImageOrder(MediaError, Invalid):
    title = "Invalid image order"


class BlobStoreUnavailable(RuntimeError):
    """The blob store cannot be reached or refused the operation: nothing about the request
    was wrong, and it may be tried again."""


@dataclass(frozen=True)
class Blob:
    data: bytes
    content_type: str


class BlobStore(Protocol):
    """Where the bytes of images live: files under the data directory, or an S3 bucket."""

    def put(self, key: str, blob: Blob) -> None: ...

    def get(self, key: str) -> Blob | None: ...

    def delete(self, keys: Iterable[str]) -> None: ...

    def ping(self) -> None: ...


def image_key(tenant_id: object, product_id: object, image_id: object, size: str, ext: str) -> str:
    key = f"{tenant_id}/products/{product_id}/{image_id}/{size}.{ext}"
    assert IMAGE_KEY.match(key), key
    return key


class ShownImages:
    """The images an aggregate shows, in the order buyers see them (the first is the main one):
    a product's, and a Seller Pro master product's, which its listings show as their own. A
    mixin: each aggregate keeps its own events (their topics are its), whose methods apply them
    with `_append_image`, `_drop_image` and `_order_images`."""

    images: list[dict[str, Any]]

    def _image_added(
        self, image_id: UUID, content_type: str, width: int, height: int, keys: dict[str, str]
    ) -> None:
        raise NotImplementedError

    def _image_removed(self, image_id: UUID) -> None:
        raise NotImplementedError

    def _images_reordered(self, image_ids: Sequence[UUID]) -> None:
        raise NotImplementedError

    def add_image(
        self, image_id: UUID, content_type: str, width: int, height: int, keys: dict[str, str]
    ) -> None:
        """Shows one more image, last. Its bytes are stored already, under `keys`."""
        self.require_room_for_image()
        self._image_added(
            image_id=image_id, content_type=content_type, width=width, height=height, keys=keys
        )

    def require_room_for_image(self) -> None:
        if len(self.images) >= MAX_IMAGES_PER_PRODUCT:
            raise TooManyImages(f"a product shows at most {MAX_IMAGES_PER_PRODUCT} images")

    def remove_image(self, image_id: UUID) -> dict[str, str]:
        """Stops showing an image; returns its blob keys, for the caller to delete."""
        image = self.image(image_id)
        self._image_removed(image_id=image_id)
        return dict(image["keys"])

    def reorder_images(self, image_ids: Sequence[UUID]) -> None:
        """Puts the images in this order; it must name each of them exactly once."""
        current = [image["image_id"] for image in self.images]
        if sorted(image_ids) != sorted(current):
            raise InvalidImageOrder("image_ids must name each of the product's images once")
        if list(image_ids) != current:
            self._images_reordered(image_ids=list(image_ids))

    def image(self, image_id: UUID) -> dict[str, Any]:
        for image in self.images:
            if image["image_id"] == image_id:
                return image
        raise ImageNotFound(f"image {image_id} not found")

    def _append_image(
        self, image_id: UUID, content_type: str, width: int, height: int, keys: dict[str, str]
    ) -> None:
        image = {"image_id": image_id, "content_type": content_type, "width": width}
        self.images = [*self.images, {**image, "height": height, "keys": keys}]

    def _drop_image(self, image_id: UUID) -> None:
        self.images = [i for i in self.images if i["image_id"] != image_id]

    def _order_images(self, image_ids: Sequence[UUID]) -> None:
        by_id = {image["image_id"]: image for image in self.images}
        self.images = [by_id[image_id] for image_id in image_ids]
