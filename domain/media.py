"""Media: the images sellers show their products with, the limits they are held to, and the
port through which their bytes are stored."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from domain.errors import Conflict, DomainError, NotFound, TooLarge, Unsupported

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
