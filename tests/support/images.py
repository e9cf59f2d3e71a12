"""Photos for tests: real JPEGs with the EXIF a phone writes, and crafted decompression bombs."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

EXIF_IFD, GPS_IFD = 0x8769, 0x8825
DATE_TIME_ORIGINAL = 0x9003


def jpeg(
    captured: str | None = "2023:03:01 09:30:00",
    *,
    size: tuple[int, int] = (64, 48),
    colour: str = "red",
    gps: tuple[float, float] | None = None,
) -> bytes:
    """A JPEG whose EXIF DateTimeOriginal is `captured` (None: no EXIF at all), as a phone
    without a time-zone offset writes it."""
    image = Image.new("RGB", size, colour)
    out = io.BytesIO()
    if captured is None and gps is None:
        image.save(out, "JPEG")
        return out.getvalue()
    exif = Image.Exif()
    if captured is not None:
        exif.get_ifd(EXIF_IFD)[DATE_TIME_ORIGINAL] = captured
    if gps is not None:
        lat, lon = gps
        exif.get_ifd(GPS_IFD).update(
            {1: "N", 2: _dms(lat), 3: "E", 4: _dms(lon)},
        )
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60, 2)
    return float(degrees), float(minutes), seconds


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int) -> bytes:
    """A few hundred bytes of valid PNG structure whose header declares width × height pixels
    (a decompression bomb: decoding it would allocate width × height × 3 bytes)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    # One compressed row of zeros stands for all of them: a real bomb's IDAT is all zeros too.
    pixels = zlib.compress(b"\x00" * (1 + 3 * min(width, 4096)), 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", pixels)
        + _chunk(b"IEND", b"")
    )


def jpeg_declaring(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header (SOF0) is rewritten to declare width × height."""
    data = bytearray(jpeg(None, size=(16, 16)))
    at = data.index(b"\xff\xc0")
    # FF C0, length (2), precision (1), height (2), width (2)
    struct.pack_into(">HH", data, at + 5, height, width)
    return bytes(data)
