"""What an uploaded file is, read by Pillow from its bytes alone (pure, no I/O): the image type,
its size, the EXIF capture date and position; refusals for non-images and decompression bombs."""

from __future__ import annotations

import datetime as dt
import io
import warnings
from dataclasses import dataclass
from typing import Any

from PIL import Image, UnidentifiedImageError

from sanpi.kit import CAMPAIGN_TZ
from sanpi.kit.messages import MessageError
from sanpi.milestone.evidence.messages import BOMB, BOMB_HUGE, DAMAGED, EMPTY, NOT_AN_IMAGE

# What a site photo comes as (phones: JPEG; screenshots and edited ones: PNG, WebP). The
# content type is the format's, whatever the client declared.
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}

_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
_DATE_TIME_ORIGINAL = 0x9003
_OFFSET_TIME_ORIGINAL = 0x9011


class Refused(MessageError):
    """The file is not a photo this service keeps; `message` says why."""


@dataclass(frozen=True)
class Inspected:
    content_type: str
    width: int
    height: int
    captured_at: dt.datetime | None  # UTC
    captured_on: dt.date | None  # the campaign day (Asia/Shanghai)
    latitude: float | None
    longitude: float | None


def inspect(data: bytes, *, max_pixels: int) -> Inspected:
    """Reads the header (never the pixels) of a JPEG, PNG or WebP: refuses anything else, and
    an image that declares more than `max_pixels` before a pixel is decoded."""
    if not data:
        raise Refused(EMPTY())
    with warnings.catch_warnings():
        # Pillow warns above Image.MAX_IMAGE_PIXELS (89 M) and raises above twice that; our own,
        # lower limit below refuses the first with the size declared, the error stays a backstop.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=list(FORMATS))
        except Image.DecompressionBombError as exc:
            raise Refused(BOMB_HUGE(**_limits(max_pixels))) from exc
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
            raise Refused(NOT_AN_IMAGE()) from exc
    with image:
        width, height = image.size
        if width <= 0 or height <= 0:
            raise Refused(NOT_AN_IMAGE())
        if width * height > max_pixels:
            raise Refused(BOMB(width=width, height=height, **_limits(max_pixels)))
        content_type = FORMATS[str(image.format)]
        # The EXIF block as the header gave it: Image.getexif() decodes a PNG's pixels to look
        # for one after them.
        exif = Image.Exif()
        raw = image.info.get("exif")
        if isinstance(raw, bytes):
            try:
                exif.load(raw)
            except Exception:  # a broken EXIF block says nothing about the photo's date
                exif = Image.Exif()
        captured_at = _captured_at(exif)
        latitude, longitude = _position(exif)
        try:
            # Checks the file's structure (PNG chunk CRCs) without decoding the pixels.
            image.verify()
        except Exception as exc:
            raise Refused(DAMAGED(reason=str(exc) or type(exc).__name__)) from exc
    return Inspected(
        content_type=content_type,
        width=width,
        height=height,
        captured_at=captured_at,
        captured_on=captured_at.astimezone(CAMPAIGN_TZ).date() if captured_at else None,
        latitude=latitude,
        longitude=longitude,
    )


def _limits(max_pixels: int) -> dict[str, int | float]:
    """The pixel limit as each language counts: 6000 (万像素), 60 (megapixels)."""
    megapixels = max_pixels / 1_000_000
    return {
        "limit": max_pixels // 10_000,
        "megapixels": int(megapixels) if megapixels.is_integer() else megapixels,
    }


def _captured_at(exif: Image.Exif) -> dt.datetime | None:
    """EXIF DateTimeOriginal in its OffsetTimeOriginal, else in Asia/Shanghai (a camera without
    an offset keeps local time, and the campaign's sites are in that zone); None if absent or
    unreadable."""
    try:
        details = exif.get_ifd(_EXIF_IFD)
    except Exception:
        return None
    raw = details.get(_DATE_TIME_ORIGINAL)
    if not isinstance(raw, str):
        return None
    zone: dt.tzinfo = CAMPAIGN_TZ
    offset = details.get(_OFFSET_TIME_ORIGINAL)
    if isinstance(offset, str):
        try:
            zone = dt.datetime.strptime(offset.strip("\x00 "), "%z").tzinfo or CAMPAIGN_TZ
        except ValueError:
            zone = CAMPAIGN_TZ
    try:
        local = dt.datetime.strptime(raw.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S").replace(
            tzinfo=zone
        )
    except ValueError:
        return None
    if not 1990 <= local.year <= 2100:
        return None
    return local.astimezone(dt.UTC)


def _position(exif: Image.Exif) -> tuple[float | None, float | None]:
    """The GPS position (degrees, south and west negative), or None for each part missing."""
    try:
        gps = exif.get_ifd(_GPS_IFD)
    except Exception:
        return None, None
    return _degrees(gps.get(2), gps.get(1), "S"), _degrees(gps.get(4), gps.get(3), "W")


def _degrees(value: Any, ref: Any, negative: str) -> float | None:
    try:
        d, m, s = (float(v) for v in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    degrees = d + m / 60 + s / 3600
    if isinstance(ref, bytes):
        ref = ref.decode(errors="replace")
    if isinstance(ref, str) and ref.strip("\x00 ").upper() == negative:
        degrees = -degrees
    return round(degrees, 7)
