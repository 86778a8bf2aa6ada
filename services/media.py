"""Images as sellers upload them, made safe to show: decoded by their content (never their
name), held to byte and pixel limits before any pixel is decoded, turned upright, re-encoded
without their metadata (camera, GPS position, colour-profile text), and made in smaller sizes."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from domain.media import DERIVED_SIZES, MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, ImageTooLarge, NotAnImage

# Pillow's names of the formats Velora takes, and their media types.
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
# The modes each format is written in; anything else is converted first.
_MODES = {"JPEG": ("RGB", "L"), "PNG": ("RGB", "RGBA", "L", "LA", "P"), "WEBP": ("RGB", "RGBA")}
_SAVE: dict[str, dict[str, Any]] = {
    "JPEG": {"quality": 88, "optimize": True},
    "PNG": {"optimize": True},
    "WEBP": {"quality": 85},
}
# Pillow refuses on its own to open anything this much beyond the limit (a decompression bomb);
# below that Velora checks the pixel count itself, before decoding.
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS


@dataclass(frozen=True)
class CleanImage:
    content_type: str
    width: int
    height: int
    # "original" (cleaned, full size) and each derived size, encoded.
    renditions: dict[str, bytes]


def clean_image(data: bytes) -> CleanImage:
    """The upload as Velora keeps it; NotAnImage or ImageTooLarge when it cannot be."""
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageTooLarge(f"an image has at most {MAX_IMAGE_BYTES} bytes")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:  # reads the header only
                kind = probe.format or ""
                if kind not in FORMATS:
                    raise NotAnImage("send a JPEG, PNG or WebP image")
                width, height = probe.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise ImageTooLarge(f"an image has at most {MAX_IMAGE_PIXELS} pixels")
                probe.verify()  # the whole file is well formed
            with Image.open(io.BytesIO(data)) as image:
                image.seek(0)  # an animation's first frame
                image.load()
                upright = ImageOps.exif_transpose(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLarge(f"an image has at most {MAX_IMAGE_PIXELS} pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise NotAnImage("the file is not a readable JPEG, PNG or WebP image") from None
    renditions = {"original": _encoded(upright, kind)}
    for size, longest in DERIVED_SIZES.items():
        smaller = upright.copy()
        smaller.thumbnail((longest, longest), Image.Resampling.LANCZOS)
        renditions[size] = _encoded(smaller, kind)
    return CleanImage(FORMATS[kind], upright.width, upright.height, renditions)


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
