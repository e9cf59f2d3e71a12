"""The working-day calendar (sanpi.kit.workdays) on real dates: holidays, 调休 make-up days, unknown years."""

from __future__ import annotations

import datetime as dt

import pytest
from prometheus_client import REGISTRY

from sanpi.kit import workdays
from sanpi.kit.clock import CAMPAIGN_TZ
from sanpi.kit.workdays import (
    CalendarYearUnknown,
    OfficeHours,
    add_working_days,
    add_working_time,
    holiday_name,
    is_make_up_day,
    is_working_day,
    next_working_day,
    working_day_on_or_after,
    working_days_between,
    working_time_between,
)


def cst(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=CAMPAIGN_TZ)


def test_national_day_2025_holidays_and_make_up_days() -> None:
    # 2025: 10-01..10-08 off; Sunday 09-28 and Saturday 10-11 are worked (调休上班).
    assert not is_working_day(dt.date(2025, 10, 4))  # a Saturday inside the holiday
    assert not is_working_day(dt.date(2025, 10, 8))  # a Wednesday inside the holiday
    assert is_working_day(dt.date(2025, 9, 28))  # a Sunday, worked
    assert is_working_day(dt.date(2025, 10, 11))  # a Saturday, worked
    assert is_make_up_day(dt.date(2025, 9, 28))
    assert not is_make_up_day(dt.date(2025, 9, 29))  # an ordinary Monday
    assert not is_working_day(dt.date(2025, 10, 12))  # the ordinary Sunday after
    assert holiday_name(dt.date(2025, 10, 1)) is not None
    assert holiday_name(dt.date(2025, 10, 1)).zh == "国庆节"  # type: ignore[union-attr]
    assert holiday_name(dt.date(2025, 9, 28)).zh == "国庆节"  # type: ignore[union-attr]
    assert holiday_name(dt.date(2025, 9, 29)) is None


def test_spring_festival_2026() -> None:
    # 2026: 02-15 (Sunday) .. 02-23 off; Saturdays 02-14 and 02-28 worked.
    assert is_working_day(dt.date(2026, 2, 13))
    assert is_working_day(dt.date(2026, 2, 14))
    assert all(not is_working_day(dt.date(2026, 2, d)) for d in range(15, 24))
    assert is_working_day(dt.date(2026, 2, 24))
    assert is_working_day(dt.date(2026, 2, 28))
    assert holiday_name(dt.date(2026, 2, 17)).en == "Spring Festival"  # type: ignore[union-attr]
    assert next_working_day(dt.date(2026, 2, 14)) == dt.date(2026, 2, 24)
    assert add_working_days(dt.date(2026, 2, 13), 1) == dt.date(2026, 2, 14)
    assert add_working_days(dt.date(2026, 2, 13), 2) == dt.date(2026, 2, 24)
    assert add_working_days(dt.date(2026, 2, 24), -2) == dt.date(2026, 2, 13)


def test_the_years_working_days_match_the_published_totals() -> None:
    # The published totals: 251 working days in 2024, 248 in 2025 (two more statutory holidays).
    def count(year: int) -> int:
        return working_days_between(dt.date(year - 1, 12, 31), dt.date(year, 12, 31))

    assert count(2024) == 251
    assert count(2025) == 248


def test_next_working_day_steps_over_the_whole_holiday() -> None:
    assert next_working_day(dt.date(2025, 9, 30)) == dt.date(2025, 10, 9)
    # Friday → the 调休 Sunday
    assert next_working_day(dt.date(2025, 9, 26)) == dt.date(2025, 9, 28)
    assert working_day_on_or_after(dt.date(2025, 10, 9)) == dt.date(2025, 10, 9)
    assert working_day_on_or_after(dt.date(2025, 10, 3)) == dt.date(2025, 10, 9)


def test_adding_working_days_keeps_the_shanghai_time_of_day_and_the_timezone() -> None:
    friday = cst(2025, 9, 26, 15, 0)
    assert add_working_days(friday, 1) == cst(2025, 9, 28, 15, 0)
    assert add_working_days(friday, 2) == cst(2025, 9, 29, 15, 0)
    # Given in UTC (07:00 UTC = 15:00 in Shanghai), answered in UTC.
    utc = friday.astimezone(dt.UTC)
    moved = add_working_days(utc, 3)
    assert moved.tzinfo == dt.UTC
    assert moved == cst(2025, 9, 30, 15, 0)
    # 23:30 UTC on Saturday 10-11 is already Sunday 07:30 in Shanghai: counting starts from Sunday.
    late = dt.datetime(2025, 10, 11, 23, 30, tzinfo=dt.UTC)
    assert add_working_days(late, 1) == cst(2025, 10, 13, 7, 30)
    assert working_days_between(dt.date(2025, 9, 26), dt.date(2025, 10, 9)) == 4
    assert working_days_between(dt.date(2025, 10, 9), dt.date(2025, 9, 26)) == -4


def test_working_hours_between_and_after() -> None:
    # Friday 16:00 → the 调休 Sunday 10:00: one hour on Friday, one on Sunday.
    assert working_time_between(cst(2025, 9, 26, 16), cst(2025, 9, 28, 10)) == dt.timedelta(hours=2)
    # A lunch break and a whole holiday count nothing.
    assert working_time_between(cst(2025, 9, 30, 11), cst(2025, 10, 9, 14)) == dt.timedelta(
        hours=1 + 4 + 3 + 1
    )
    assert working_time_between(cst(2025, 10, 9, 14), cst(2025, 10, 9, 10)) == dt.timedelta()
    # 4 working hours from Tuesday 09-30 15:00: two that day, two after the National Day week.
    assert add_working_time(cst(2025, 9, 30, 15), dt.timedelta(hours=4)) == cst(2025, 10, 9, 11)
    # Ending exactly at the close of the day ends then, not at the next opening.
    assert add_working_time(cst(2025, 9, 30, 15), dt.timedelta(hours=2)) == cst(2025, 9, 30, 17)
    # Started outside office hours (Saturday 10-04), the clock runs from the next opening.
    assert add_working_time(cst(2025, 10, 4, 20), dt.timedelta(minutes=30)) == cst(
        2025, 10, 9, 9, 30
    )
    assert add_working_time(cst(2025, 10, 4, 20), dt.timedelta()) == cst(2025, 10, 4, 20)
    eight_to_six = OfficeHours(((dt.time(8), dt.time(18)),))
    assert eight_to_six.per_day == dt.timedelta(hours=10)
    assert add_working_time(cst(2025, 9, 26, 17), dt.timedelta(hours=2), eight_to_six) == cst(
        2025, 9, 28, 9
    )


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        add_working_time(dt.datetime(2025, 9, 30, 15), dt.timedelta(hours=1))  # noqa: DTZ001
    with pytest.raises(ValueError, match="negative"):
        add_working_time(cst(2025, 9, 30, 15), dt.timedelta(hours=-1))
    with pytest.raises(ValueError, match="spans"):
        OfficeHours(((dt.time(13), dt.time(12)),))


def unknown_year_count(year: int) -> float:
    value = REGISTRY.get_sample_value("sanpi_calendar_unknown_year_total", {"year": str(year)})
    return value or 0.0


def test_a_year_the_package_does_not_know_is_refused_naming_the_year() -> None:
    assert workdays.known_years().stop - 1 == 2026
    before = unknown_year_count(2027)
    with pytest.raises(CalendarYearUnknown) as refused:
        is_working_day(dt.date(2027, 1, 4))  # a Monday, but 2027's holidays are not published here
    assert refused.value.year == 2027
    assert "2027" in refused.value.message.render("zh")
    assert "chinesecalendar" in refused.value.message.render("zh")
    assert "2004–2026" in refused.value.message.render("zh")
    assert "2027" in str(refused.value)
    assert unknown_year_count(2027) == before + 1
    # Counting forward off the end of the known years is refused too, not guessed.
    with pytest.raises(CalendarYearUnknown):
        add_working_days(dt.date(2026, 12, 30), 5)
    with pytest.raises(CalendarYearUnknown):
        is_working_day(dt.date(1999, 5, 3))
