"""Residents' photos are re-encoded without metadata; anything else is refused."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from bot.channels.photos import MAX_PHOTO_BYTES, InvalidPhoto, strip_exif
from tests.channels.helpers import jpeg_with_exif


def test_jpeg_loses_exif_and_gps() -> None:
    clean, ctype = strip_exif(jpeg_with_exif())
    assert ctype == "image/jpeg" and b"SecretCam" not in clean
    with Image.open(io.BytesIO(clean)) as im:
        assert im.format == "JPEG" and im.size == (64, 48) and not im.getexif()


def test_orientation_is_applied_to_the_pixels() -> None:
    img = Image.new("RGB", (40, 20), (0, 0, 255))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90 degrees: shown 20 wide, 40 high
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif)
    clean, _ = strip_exif(out.getvalue())
    with Image.open(io.BytesIO(clean)) as im:
        assert im.size == (20, 40) and not im.getexif()


def test_png_stays_png() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (8, 8), (0, 255, 0, 128)).save(out, format="PNG")
    clean, ctype = strip_exif(out.getvalue())
    assert ctype == "image/png" and clean.startswith(b"\x89PNG")


@pytest.mark.parametrize("data", [b"not an image", b"\xff\xd8" + b"\x00" * 100])
def test_non_images_are_refused(data: bytes) -> None:
    with pytest.raises(InvalidPhoto):
        strip_exif(data)


def test_too_large_is_refused_before_decoding() -> None:
    with pytest.raises(InvalidPhoto, match="too large"):
        strip_exif(b"\xff" * (MAX_PHOTO_BYTES + 1))
