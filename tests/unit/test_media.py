"""Images are judged by their content, held to byte and pixel limits before decoding, turned
upright, stripped of metadata and made in smaller sizes."""

from __future__ import annotations

import functools
import io
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from domain.media import (
    DERIVED_SIZES,
    MAX_IMAGE_BYTES,
    MAX_IMAGE_SIDE,
    ImageTooLarge,
    NotAnImage,
)
from services.media import DecodesBusy, ImageCleaner, clean_image

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def encoded(image: Image.Image, kind: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=kind, **params)
    return out.getvalue()


def photo(width: int = 1600, height: int = 900) -> Image.Image:
    image = Image.new("RGB", (width, height), (200, 30, 30))
    image.paste((20, 20, 220), (0, 0, width // 2, height // 3))
    return image


def with_claimed_size(png: bytes, width: int, height: int) -> bytes:
    """A real PNG whose header claims another size: what a decompression bomb looks like from
    outside (a few bytes that say 'decode me into gigabytes')."""
    ihdr_start = 8 + 8  # signature, then the IHDR chunk's length and type
    body = struct.pack(">II", width, height) + png[ihdr_start + 8 : ihdr_start + 13]
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + body))
    return png[:ihdr_start] + body + crc + png[ihdr_start + 17 :]


def test_a_jpeg_loses_its_exif_and_gps_and_stands_upright() -> None:
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # the camera was turned: the picture must be rotated 90 degrees
    exif[0x010F] = "SpyCam Inc."  # Make
    exif.get_ifd(GPS_IFD)[2] = (52.0, 31.0, 12.0)  # latitude
    upload = encoded(photo(1600, 900), "JPEG", exif=exif, quality=90)
    assert b"SpyCam" in upload

    clean = clean_image(upload)
    assert clean.content_type == "image/jpeg"
    assert (clean.width, clean.height) == (900, 1600)
    for size, data in clean.renditions.items():
        assert b"SpyCam" not in data and b"Exif" not in data, size
        with Image.open(io.BytesIO(data)) as out:
            assert out.format == "JPEG"
            assert not out.getexif()
            assert out.height > out.width  # upright already, with nothing left to say so


def test_derived_sizes_fit_their_box_and_keep_the_proportions() -> None:
    clean = clean_image(encoded(photo(2400, 1200), "PNG"))
    assert set(clean.renditions) == {"original", *DERIVED_SIZES}
    for size, longest in DERIVED_SIZES.items():
        with Image.open(io.BytesIO(clean.renditions[size])) as out:
            assert out.size == (longest, longest // 2)
    small = clean_image(encoded(photo(200, 100), "PNG"))
    with Image.open(io.BytesIO(small.renditions["large"])) as out:
        assert out.size == (200, 100)  # never enlarged


def test_png_text_and_colour_profiles_are_dropped_and_transparency_kept() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jane Doe, 12 Secret Lane")
    rgba = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    upload = encoded(rgba, "PNG", pnginfo=info, icc_profile=b"\0" * 128)
    clean = clean_image(upload)
    data = clean.renditions["original"]
    assert b"Secret Lane" not in data and b"iCCP" not in data
    with Image.open(io.BytesIO(data)) as out:
        assert out.mode == "RGBA" and out.getpixel((1, 1))[3] == 0


def test_webp_is_taken() -> None:
    clean = clean_image(encoded(photo(300, 200), "WEBP"))
    assert (clean.content_type, clean.width, clean.height) == ("image/webp", 300, 200)


@pytest.mark.parametrize(
    "upload",
    [
        b"GIF89a" + b"\0" * 100,
        encoded(photo(10, 10), "GIF"),
        encoded(photo(10, 10), "BMP"),
        b"%PDF-1.7\n" + b"x" * 500,
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        b"",
        encoded(photo(), "JPEG")[:2000],  # cut short
        b"\x89PNG\r\n\x1a\n" + b"\0" * 64,
    ],
    ids=["gif-header", "gif", "bmp", "pdf", "svg", "empty", "truncated-jpeg", "png-garbage"],
)
def test_anything_but_a_readable_jpeg_png_or_webp_is_not_an_image(upload: bytes) -> None:
    with pytest.raises(NotAnImage):
        clean_image(upload)


def test_too_many_bytes_or_pixels_are_refused_before_decoding() -> None:
    with pytest.raises(ImageTooLarge):
        clean_image(b"\xff\xd8" + b"\0" * MAX_IMAGE_BYTES)
    png = encoded(Image.new("L", (1, 1)), "PNG")
    for width, height in ((8_000, 6_000), (100_000, 100_000)):  # 48 MP; Pillow's own bomb
        with pytest.raises(ImageTooLarge):
            clean_image(with_claimed_size(png, width, height))


@functools.cache
def camera_jpeg(width: int, height: int, mode: str = "RGB") -> bytes:
    """A real JPEG of many megapixels in a small file: flat colour compresses to almost
    nothing, so a few hundred kilobytes decode into a great deal of memory."""
    image = Image.new(mode, (width, height), 128 if mode == "L" else (200, 30, 30))
    image.paste(30 if mode == "L" else (20, 20, 220), (0, 0, width // 2, height // 3))
    return encoded(image, "JPEG", quality=85)


# The bomb: 39.5 megapixels in a file of a few hundred kilobytes.
BOMB = (7680, 5144)
# A 24-megapixel camera's photo: within the limit, but far more pixels than Velora keeps.
CAMERA = (6000, 4000)

PEAK_SCRIPT = """
import re, sys
from domain.media import ImageTooLarge
from services.media import clean_image

def kib(field):
    with open("/proc/self/status") as status:
        return int(re.search(field + r":\\s+(\\d+)", status.read()).group(1))

data = open(sys.argv[1], "rb").read()
with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")  # the peak (VmHWM) starts again from what the process holds now
before = kib("VmRSS")
try:
    clean = clean_image(data)
    outcome = f"{clean.width}x{clean.height}"
except ImageTooLarge:
    outcome = "too large"
print(outcome, kib("VmHWM") - before)
"""


def cleaned_in_a_fresh_process(data: bytes, tmp_path: Path) -> tuple[str, int]:
    """What clean_image made of the upload, and by how many bytes the peak memory of a process
    that did nothing else grew meanwhile (Pillow's pixels live outside Python's allocator, so
    tracemalloc would not see them). Linux alone lets a process measure that peak afresh."""
    if not Path("/proc/self/clear_refs").exists():
        pytest.skip("measuring a peak afresh needs Linux's /proc/self/clear_refs")
    upload = tmp_path / "upload.jpg"
    upload.write_bytes(data)
    root = Path(__file__).resolve().parents[2]
    ran = subprocess.run(
        [sys.executable, "-c", PEAK_SCRIPT, str(upload)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    outcome, grown_kib = ran.stdout.strip().rsplit(" ", 1)
    return outcome, int(grown_kib) * 1024


def test_a_jpeg_bomb_is_refused_from_its_header_without_decoding(tmp_path: Path) -> None:
    bomb = camera_jpeg(*BOMB)
    assert len(bomb) < 1024 * 1024
    with pytest.raises(ImageTooLarge):
        clean_image(bomb)
    outcome, grown = cleaned_in_a_fresh_process(bomb, tmp_path)
    assert outcome == "too large"
    # Decoded, its pixels alone would take 118 MB; refused from the header, next to nothing.
    assert grown < 16 * 1024 * 1024, grown


def test_a_large_jpeg_is_decoded_at_a_fraction_of_its_size_and_kept_at_the_largest_size(
    tmp_path: Path,
) -> None:
    clean = clean_image(camera_jpeg(*CAMERA))
    assert (clean.width, clean.height) == (MAX_IMAGE_SIDE, 1707)
    expected = {"original": (MAX_IMAGE_SIDE, 1707), "large": (1200, 800), "thumb": (320, 213)}
    for size, dimensions in expected.items():
        with Image.open(io.BytesIO(clean.renditions[size])) as out:
            assert out.size == dimensions, size
    outcome, grown = cleaned_in_a_fresh_process(camera_jpeg(*CAMERA), tmp_path)
    assert outcome == f"{MAX_IMAGE_SIDE}x1707"
    # JPEG's draft mode decodes it at half size (3000 x 2000), then resizes that: its full 24
    # megapixels, 96 MB as Pillow holds RGB (four bytes a pixel), are never in memory at once.
    assert grown < CAMERA[0] * CAMERA[1] * 4, grown


def test_a_png_is_kept_at_the_largest_size_too() -> None:
    clean = clean_image(encoded(photo(4000, 1000), "PNG"))
    assert (clean.width, clean.height) == (MAX_IMAGE_SIDE, 640)


def test_decodes_beyond_the_limit_wait_their_turn_and_bombs_never_wait() -> None:
    cleaner = ImageCleaner(concurrent=1, wait_s=0.05)
    upload = encoded(photo(400, 300), "JPEG")
    with cleaner.turn():  # another upload is being decoded
        with pytest.raises(DecodesBusy):
            cleaner.clean(upload)
        with pytest.raises(ImageTooLarge):  # judged from its header, needing no turn
            cleaner.clean(camera_jpeg(*BOMB, mode="L"))
    assert cleaner.clean(upload).width == 400  # its turn is free again
