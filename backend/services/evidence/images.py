"""Photos in: what a file really is (by its bytes, not its name or declared type), whether it decodes whole, and the
copies made from it (display, thumbnail), orientation applied and metadata stripped. Nothing here touches storage
or the database.

Speed: a JPEG is decoded at the smallest DCT scale that still covers the display size (`Image.draft`), which reads
the whole entropy-coded stream (a truncated file still fails) but does a fraction of the work of a full decode.
"""
from __future__ import annotations

import hashlib
import io
import math
import warnings
from dataclasses import dataclass
from datetime import tzinfo

from PIL import Image, ImageFile, ImageOps

from ...errors import InvalidInput, TooLarge, UnsupportedMedia
from geo.exif import ExifFacts, read_exif

try:  # HEIC from iPhones; without pillow-heif such files are refused as unsupported, not misread
    import pillow_heif

    pillow_heif.register_heif_opener()
    HEIF_OK = True
except ImportError:  # pragma: no cover - pillow-heif is a dependency
    HEIF_OK = False

ImageFile.LOAD_TRUNCATED_IMAGES = False  # a truncated photo is refused, never padded with grey
DISPLAY_LONG_EDGE_PX = 1920
THUMBNAIL_LONG_EDGE_PX = 320
DISPLAY_QUALITY = 80
THUMBNAIL_QUALITY = 72

MEDIA_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "HEIF": "image/heic"}
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/heic": "heic"}
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sniff(data: bytes) -> str:
    """The format the first bytes declare ('JPEG', 'PNG', 'WEBP', 'HEIF'), or UnsupportedMedia naming what it is."""
    head = data[:64]
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        if not HEIF_OK:  # pragma: no cover
            raise UnsupportedMedia("image_unsupported", kind="HEIC")
        return "HEIF"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if stripped.startswith((b"<svg", b"<?xml", b"<!doctype svg")):
        raise UnsupportedMedia("image_svg")
    kind = ("GIF" if head[:4] == b"GIF8" else "TIFF" if head[:4] in (b"II*\x00", b"MM\x00*") else
            "BMP" if head[:2] == b"BM" else "PDF" if head[:5] == b"%PDF-" else None)
    if kind:
        raise UnsupportedMedia("image_unsupported", kind=kind)
    raise UnsupportedMedia("not_an_image")


@dataclass(frozen=True)
class CheckedImage:
    """A photo that decoded whole: its format, size (as stored, before orientation), EXIF facts, and the decoded
    picture, already reduced to at least `DISPLAY_LONG_EDGE_PX` when the format allows it."""

    format: str
    media_type: str
    width: int
    height: int
    exif: ExifFacts
    picture: Image.Image


def check_image(data: bytes, *, max_bytes: int, max_pixels: int, local_tz: tzinfo) -> CheckedImage:
    """Refuse what is not a whole, supported, reasonably sized photo; return it decoded. Raises TooLarge,
    UnsupportedMedia or InvalidInput with a code the edge turns into a message."""
    if len(data) > max_bytes:
        raise TooLarge("image_too_large", max_mb=max_bytes // (1024 * 1024))
    if not data:
        raise InvalidInput("image_empty")
    # Pillow's flag is process-wide and WeasyPrint sets it on import (the notices): set again here, every time
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    declared = sniff(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise TooLarge("image_too_many_pixels", max_mp=max_pixels // 1_000_000) from None
        except Exception:  # Pillow raises what the codec raises: an unreadable header is not an image
            raise InvalidInput("image_corrupt") from None
    if image.format != declared:  # a PNG header on JPEG data and the like
        raise UnsupportedMedia("image_magic_mismatch", declared=declared, actual=image.format or "?")
    width, height = image.size
    if width * height > max_pixels:
        raise TooLarge("image_too_many_pixels", max_mp=max_pixels // 1_000_000)
    exif = read_exif(image, local_tz)
    try:
        if image.format == "JPEG":
            image.draft("RGB", _display_size(width, height))
        image.load()
    except Exception:  # truncated ("image file is truncated"), broken entropy data, a codec refusing it
        raise InvalidInput("image_corrupt") from None
    return CheckedImage(declared, MEDIA_TYPES[declared], width, height, exif, image)


def _display_size(width: int, height: int) -> tuple[int, int]:
    """The display copy's size: what a JPEG must at least be decoded to. Both sides count (draft keeps every side
    at or above the request), so a (1920, 1920) box would keep a 4032x3024 photo at full size."""
    scale = min(1.0, DISPLAY_LONG_EDGE_PX / max(width, height))
    return max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))


@dataclass(frozen=True)
class Derived:
    data: bytes
    media_type: str
    width: int
    height: int


def upright_rgb(picture: Image.Image) -> Image.Image:
    """The picture turned as its EXIF orientation says, in RGB (transparency on white): what people see."""
    turned = ImageOps.exif_transpose(picture)
    if turned.mode == "RGB":
        return turned
    if turned.mode in ("RGBA", "LA", "P", "PA"):
        rgba = turned.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, (255, 255, 255))
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    return turned.convert("RGB")


def fit(picture: Image.Image, long_edge_px: int) -> Image.Image:
    """A copy no larger than `long_edge_px` on its long edge (never enlarged)."""
    copy = picture.copy()
    copy.thumbnail((long_edge_px, long_edge_px), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return copy


def encode_jpeg(picture: Image.Image, quality: int) -> Derived:
    out = io.BytesIO()
    # No exif= or icc: a derived copy carries no metadata (EXIF of the original stays in the original only).
    picture.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
    return Derived(out.getvalue(), "image/jpeg", picture.width, picture.height)


def display_copy(upright: Image.Image) -> Derived:
    return encode_jpeg(fit(upright, DISPLAY_LONG_EDGE_PX), DISPLAY_QUALITY)


def thumbnail(upright: Image.Image) -> Derived:
    return encode_jpeg(fit(upright, THUMBNAIL_LONG_EDGE_PX), THUMBNAIL_QUALITY)
