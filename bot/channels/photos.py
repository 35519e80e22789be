"""Photos from residents: checked and re-encoded without any metadata before they are stored.

Used by every channel (LINE and Telegram downloads, the widget's upload). The size limit is the
store's (:data:`bot.store.validation.MAX_PHOTO_BYTES`).
"""

from __future__ import annotations

import io

from bot.store.validation import MAX_PHOTO_BYTES

__all__ = ["MAX_PHOTO_BYTES", "MAX_PHOTO_PIXELS", "InvalidPhoto", "strip_exif"]

MAX_PHOTO_PIXELS = 40_000_000


class InvalidPhoto(ValueError):
    """The uploaded bytes are not an acceptable image."""


def strip_exif(data: bytes) -> tuple[bytes, str]:
    """Re-encode an image without any metadata (EXIF, GPS, XMP, comments).

    The EXIF orientation is applied to the pixels first. JPEG stays JPEG (quality 90); other
    formats become PNG.

    Returns
    -------
    (bytes, content_type)

    Raises
    ------
    InvalidPhoto
        when the bytes are not a decodable image or too large.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if len(data) > MAX_PHOTO_BYTES:
        raise InvalidPhoto("too large")
    try:
        with Image.open(io.BytesIO(data)) as opened:
            if opened.width * opened.height > MAX_PHOTO_PIXELS:
                raise InvalidPhoto("too many pixels")
            fmt = (opened.format or "").upper()
            opened.load()
            img: Image.Image = ImageOps.exif_transpose(opened)
            out = io.BytesIO()
            if fmt == "JPEG":
                img = img.convert("RGB")
                img.save(out, format="JPEG", quality=90)
                return out.getvalue(), "image/jpeg"
            if img.mode not in ("RGB", "RGBA", "L", "LA"):
                img = img.convert("RGBA")
            img.save(out, format="PNG")
            return out.getvalue(), "image/png"
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise InvalidPhoto("not an image") from exc
