"""Images as sellers upload them, made safe to show: decoded by their content (never their
name), held to byte and pixel limits before any pixel is decoded, decoded no larger than Velora
keeps them (a JPEG straight at a fraction of its size), turned upright, re-encoded without their
metadata (camera, GPS position, colour-profile text), and made in smaller sizes.

Decoding is the one step that takes memory in proportion to the pixels, so each process decodes
at most a few images at once (`ImageCleaner`); the others wait their turn, as password checks
do, and past the wait are refused as busy. An image refused from its header never waits."""

from __future__ import annotations

import io
import logging
import threading
import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from PIL import Image, UnidentifiedImageError

from domain.media import (
    DERIVED_SIZES,
    EXTENSIONS,
    MAX_IMAGE_BYTES,
    MAX_IMAGE_PIXELS,
    MAX_IMAGE_SIDE,
    Blob,
    BlobStore,
    BlobStoreUnavailable,
    ImageTooLarge,
    NotAnImage,
    image_key,
)

log = logging.getLogger("velora.media")
# Pillow's names of the formats Velora takes, and their media types.
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
# The modes each format is written in; anything else is converted first.
_MODES = {"JPEG": ("RGB", "L"), "PNG": ("RGB", "RGBA", "L", "LA", "P"), "WEBP": ("RGB", "RGBA")}
_SAVE: dict[str, dict[str, Any]] = {
    "JPEG": {"quality": 88, "optimize": True},
    "PNG": {"optimize": True},
    "WEBP": {"quality": 85},
}
# How EXIF's orientation tag says to turn the picture upright.
_ORIENTATION = 0x0112
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# Pillow warns of a decompression bomb past this many pixels and refuses past twice as many,
# in Image.open itself, wherever Pillow is used in the process; below that Velora checks the
# pixel count itself, before decoding.
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS


class DecodesBusy(RuntimeError):
    """Every decode turn of this process stayed taken for the whole wait: nothing about the
    upload was wrong, and it may be sent again in a moment."""


@dataclass(frozen=True)
class CleanImage:
    content_type: str
    width: int
    height: int
    # "original" (cleaned, fitted within MAX_IMAGE_SIDE) and each derived size, encoded.
    renditions: dict[str, bytes]


class ImageCleaner:
    """Cleans uploads, decoding at most `concurrent` at once in this process: a burst of large
    uploads waits its turn instead of taking gigabytes; past `wait_s` in line it is refused."""

    def __init__(self, *, concurrent: int = 2, wait_s: float = 10.0) -> None:
        self._turns = threading.BoundedSemaphore(concurrent)
        self._wait_s = wait_s

    def clean(self, data: bytes) -> CleanImage:
        """The upload as Velora keeps it; NotAnImage or ImageTooLarge when it cannot be (judged
        before waiting for a turn), DecodesBusy when no turn came in time."""
        kind, size = inspected(data)
        with self.turn():
            return _cleaned(data, kind, size)

    @contextmanager
    def turn(self) -> Iterator[None]:
        """One decode's turn: held while pixels are in memory."""
        if not self._turns.acquire(timeout=self._wait_s):
            raise DecodesBusy("too many images are being decoded at once; try again in a moment")
        try:
            yield
        finally:
            self._turns.release()


def clean_image(data: bytes) -> CleanImage:
    """The upload as Velora keeps it, with no limit on decodes at once (ImageCleaner has one);
    NotAnImage or ImageTooLarge when it cannot be."""
    kind, size = inspected(data)
    return _cleaned(data, kind, size)


def inspected(data: bytes) -> tuple[str, tuple[int, int]]:
    """The upload's format and size, from its bytes and header alone: no pixel is decoded
    (Image.open is lazy), so a decompression bomb is refused at the cost of reading a header."""
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageTooLarge(f"an image has at most {MAX_IMAGE_BYTES} bytes")
    with _reading(), Image.open(io.BytesIO(data)) as probe:
        kind = probe.format or ""
        if kind not in FORMATS:
            raise NotAnImage("send a JPEG, PNG or WebP image")
        width, height = probe.size
        if width * height > MAX_IMAGE_PIXELS:
            raise ImageTooLarge(f"an image has at most {MAX_IMAGE_PIXELS} pixels")
        probe.verify()  # the whole file is well formed
    return kind, (width, height)


def fitted(size: tuple[int, int], longest: int) -> tuple[int, int]:
    """`size` shrunk, proportions kept, until its longest side is at most `longest`."""
    width, height = size
    if max(width, height) <= longest:
        return size
    if width >= height:
        return longest, max(1, round(height * longest / width))
    return max(1, round(width * longest / height)), longest


def _cleaned(data: bytes, kind: str, size: tuple[int, int]) -> CleanImage:
    kept = fitted(size, MAX_IMAGE_SIDE)
    with _reading(), Image.open(io.BytesIO(data)) as image:
        image.seek(0)  # an animation's first frame
        if kind == "JPEG":
            # Decoded at the smallest of 1/1, 1/2, 1/4 or 1/8 that is still at least the
            # size kept: a 6000 x 4000 photo is never in memory at more than 3000 x 2000.
            image.draft(None, kept)
        image.load()
        orientation = image.getexif().get(_ORIENTATION)
        original = _resized(image, kept)
    if orientation in _UPRIGHT:
        original = original.transpose(_UPRIGHT[orientation])
    renditions = {"original": _encoded(original, kind)}
    for name, longest in DERIVED_SIZES.items():
        renditions[name] = _encoded(_resized(original, fitted(original.size, longest)), kind)
    return CleanImage(FORMATS[kind], original.width, original.height, renditions)


@contextmanager
def _reading() -> Iterator[None]:
    """Pillow's complaints about a file, as the media context's errors."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLarge(f"an image has at most {MAX_IMAGE_PIXELS} pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise NotAnImage("the file is not a readable JPEG, PNG or WebP image") from None


def _resized(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """A copy of the image at `size` (a plain copy when it is that size already)."""
    if image.size == size:
        return image.copy()
    if image.mode == "P":
        # A palette cannot be resampled; its colours (and which one is clear) are kept.
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _encoded(image: Image.Image, kind: str) -> bytes:
    """The pixels alone, in the upload's format: no EXIF, XMP, ICC profile or text chunks."""
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")  # a bare palette copy would lose which colour is clear
    if image.mode not in _MODES[kind]:
        image = image.convert("RGBA" if "A" in image.getbands() and kind != "JPEG" else "RGB")
    bare = Image.new(image.mode, image.size)
    if image.mode == "P":
        bare.putpalette(image.getpalette() or [])
    bare.paste(image)
    out = io.BytesIO()
    bare.save(out, format=kind, **_SAVE[kind])
    return out.getvalue()


class StoredImages:
    """Puts an image's bytes in the blob store for a product to show, and deletes them: an
    application's mixin, whose `_blobs` and `_images` its constructor sets."""

    _blobs: BlobStore
    _images: ImageCleaner

    def _store(
        self, image: CleanImage, tenant_id: UUID, product_id: UUID, image_id: UUID
    ) -> dict[str, str]:
        """Stores every rendition of a cleaned image under the product's keys; answers them."""
        ext = EXTENSIONS[image.content_type]
        keys = {
            size: image_key(tenant_id, product_id, image_id, size, ext) for size in image.renditions
        }
        for size, data in image.renditions.items():
            self._blobs.put(keys[size], Blob(data, image.content_type))
        return keys

    def _copy(
        self,
        keys: Mapping[str, str],
        content_type: str,
        tenant_id: UUID,
        product_id: UUID,
        image_id: UUID,
    ) -> dict[str, str]:
        """Copies the bytes stored under `keys` to another product's keys; answers them (a
        rendition missing from the store is missing from the copy too)."""
        ext = EXTENSIONS[content_type]
        copied = {}
        for size, key in keys.items():
            copied[size] = image_key(tenant_id, product_id, image_id, size, ext)
            blob = self._blobs.get(key)
            if blob is not None:
                self._blobs.put(copied[size], blob)
        return copied

    def _forget(self, keys: Iterable[str]) -> None:
        """Deletes blobs nothing shows any more. One that stays (the store failed) is only
        unreferenced bytes, so the command that got this far still stands."""
        try:
            self._blobs.delete(keys)
        except BlobStoreUnavailable as e:
            log.warning("could not delete image blobs: %s", e)
