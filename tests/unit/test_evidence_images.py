"""What Pillow reads of an uploaded photo (sanpi.milestone.evidence.images, pure): the type from
the bytes, EXIF capture day in its own offset, refusals before any pixel is decoded."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import Image

from sanpi.milestone.evidence.images import Refused, inspect
from tests.support.images import DATE_TIME_ORIGINAL, EXIF_IFD, jpeg, jpeg_declaring, png_declaring

pytestmark = pytest.mark.db_independent

LIMIT = 60_000_000


def saved(fmt: str, *, original: str | None = None, offset: str | None = None) -> bytes:
    exif = Image.Exif()
    if original is not None:
        exif.get_ifd(EXIF_IFD)[DATE_TIME_ORIGINAL] = original
    if offset is not None:
        exif.get_ifd(EXIF_IFD)[0x9011] = offset  # OffsetTimeOriginal
    out = io.BytesIO()
    Image.new("RGB", (32, 24), "white").save(out, fmt, exif=exif.tobytes())
    return out.getvalue()


@pytest.mark.parametrize(("fmt", "content_type"), [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")])  # fmt: skip
def test_each_format_is_read_with_its_exif_day(fmt: str, content_type: str) -> None:
    found = inspect(saved(fmt, original="2023:03:01 23:30:00"), max_pixels=LIMIT)
    assert (found.content_type, found.width, found.height) == (content_type, 32, 24)
    # 23:30 in Zhengzhou is 15:30 UTC, and still the 1st in the campaign's calendar.
    assert found.captured_at == dt.datetime(2023, 3, 1, 15, 30, tzinfo=dt.UTC)
    assert found.captured_on == dt.date(2023, 3, 1)


def test_the_offset_the_camera_wrote_decides_the_campaign_day() -> None:
    # 20:00 in London (+00:00) is 04:00 the next day in Zhengzhou.
    found = inspect(
        saved("JPEG", original="2023:03:01 20:00:00", offset="+00:00"), max_pixels=LIMIT
    )
    assert found.captured_at == dt.datetime(2023, 3, 1, 20, 0, tzinfo=dt.UTC)
    assert found.captured_on == dt.date(2023, 3, 2)


@pytest.mark.parametrize("original", [None, "0000:00:00 00:00:00", "yesterday", "1970:01:01 00:00:00"])  # fmt: skip
def test_a_missing_or_unreadable_capture_date_is_none(original: str | None) -> None:
    found = inspect(saved("JPEG", original=original), max_pixels=LIMIT)
    assert (found.captured_at, found.captured_on) == (None, None)


def test_the_gps_position_is_read_in_degrees() -> None:
    found = inspect(jpeg(gps=(34.7466, 113.6253)), max_pixels=LIMIT)
    assert (found.latitude, found.longitude) == pytest.approx((34.7466, 113.6253), abs=1e-4)
    assert inspect(jpeg(), max_pixels=LIMIT).latitude is None


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "evidence.empty"),
        (b"GIF89a" + b"\x00" * 40, "evidence.not_an_image"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "evidence.not_an_image"),
        (jpeg()[:60], "evidence.not_an_image"),  # cut inside its header
        (png_declaring(8_000, 7_501), "evidence.too_many_pixels"),  # one row above 60 M
        (png_declaring(50_000, 50_000), "evidence.far_too_many_pixels"),  # Pillow's own error
        (jpeg_declaring(65_000, 65_000), "evidence.far_too_many_pixels"),
    ],
)
def test_what_is_refused_and_why(data: bytes, code: str) -> None:
    with pytest.raises(Refused) as refused:
        inspect(data, max_pixels=LIMIT)
    assert refused.value.message.code == code


def test_the_limit_is_inclusive_and_nothing_is_decoded() -> None:
    # 8000 × 7500 is exactly the limit: read (its header only: the IDAT holds one row).
    found = inspect(png_declaring(8_000, 7_500), max_pixels=LIMIT)
    assert (found.width, found.height) == (8_000, 7_500)


def test_a_png_whose_chunks_are_corrupt_is_damaged() -> None:
    data = bytearray(saved("PNG"))
    data[-20] ^= 0xFF  # inside the IDAT chunk: its CRC no longer matches
    with pytest.raises(Refused) as refused:
        inspect(bytes(data), max_pixels=LIMIT)
    assert refused.value.message.code == "evidence.damaged"
