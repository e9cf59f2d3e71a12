"""The working-day calendar of mainland China: public holidays and 调休 make-up working days.

Officials count deadlines in working days (工作日): a Saturday can be a working day (调休上班) and a
Thursday a holiday. The State Council publishes each year's arrangement in the autumn before; the
`chinesecalendar` package carries the published years. A date in a year the installed package does
not know raises `CalendarYearUnknown` naming the year, and counts in
`sanpi_calendar_unknown_year_total`: nothing here guesses that such a year is a plain Monday-Friday
week, since a guess is wrong on about a dozen days a year, and silently so.

Days are Asia/Shanghai calendar days (`CAMPAIGN_TZ`); datetimes given here must be timezone-aware and
come back in the timezone they were given in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import overload

import chinese_calendar
from chinese_calendar import constants as _published

from sanpi.kit.clock import CAMPAIGN_TZ
from sanpi.kit.messages import Bilingual, MessageError, template
from sanpi.kit.metrics import CALENDAR_UNKNOWN_YEAR

UNKNOWN_YEAR = template(
    "calendar.unknown_year",
    zh="工作日历不含 {year} 年的节假日和调休安排（已知 {first}–{last} 年），请升级 chinesecalendar 包",
    en=(
        "the working-day calendar does not know the public holidays and make-up working days of "
        "{year} (it knows {first}-{last}): upgrade the chinesecalendar package"
    ),
)

# The package's holiday names (English) in Chinese, for messages that say why a day is off.
_HOLIDAY_NAMES = {
    chinese_calendar.Holiday.new_years_day: Bilingual("元旦", "New Year's Day"),
    chinese_calendar.Holiday.spring_festival: Bilingual("春节", "Spring Festival"),
    chinese_calendar.Holiday.tomb_sweeping_day: Bilingual("清明节", "Tomb-sweeping Day"),
    chinese_calendar.Holiday.labour_day: Bilingual("劳动节", "Labour Day"),
    chinese_calendar.Holiday.dragon_boat_festival: Bilingual("端午节", "Dragon Boat Festival"),
    chinese_calendar.Holiday.national_day: Bilingual("国庆节", "National Day"),
    chinese_calendar.Holiday.mid_autumn_festival: Bilingual("中秋节", "Mid-autumn Festival"),
    chinese_calendar.Holiday.anti_fascist_70th_day: Bilingual(
        "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日", "Anti-Fascist 70th Day"
    ),
}


@cache
def known_years() -> range:
    """The years whose holidays and make-up days the installed package carries."""
    years = {day.year for day in _published.holidays} | {day.year for day in _published.workdays}
    return range(min(years), max(years) + 1)


class CalendarYearUnknown(MessageError):
    """A date in a year whose holiday arrangement is not in the installed calendar package."""

    def __init__(self, year: int) -> None:
        known = known_years()
        super().__init__(UNKNOWN_YEAR(year=year, first=known.start, last=known.stop - 1))
        self.year = year


def _check(day: dt.date) -> None:
    if day.year not in known_years():
        CALENDAR_UNKNOWN_YEAR.labels(year=str(day.year)).inc()
        raise CalendarYearUnknown(day.year)


def is_working_day(day: dt.date) -> bool:
    """True on a working day: Monday-Friday unless a public holiday, and a 调休 weekend day."""
    _check(day)
    return bool(chinese_calendar.is_workday(day))


def is_make_up_day(day: dt.date) -> bool:
    """True on a weekend day that is a working day (调休上班)."""
    return day.weekday() >= 5 and is_working_day(day)


def holiday_name(day: dt.date) -> Bilingual | None:
    """The public holiday `day` belongs to (a holiday, or the 调休 day worked for one), else None."""
    _check(day)
    _, holiday = chinese_calendar.get_holiday_detail(day)
    if holiday is None:
        return None
    for member, name in _HOLIDAY_NAMES.items():
        if member.value == holiday:
            return name
    return Bilingual(str(holiday), str(holiday))


def next_working_day(day: dt.date) -> dt.date:
    """The first working day after `day` (never `day` itself)."""
    return add_working_days(day, 1)


def working_day_on_or_after(day: dt.date) -> dt.date:
    """`day` when it is a working day, else the next one."""
    return day if is_working_day(day) else next_working_day(day)


@overload
def add_working_days(start: dt.datetime, days: int) -> dt.datetime: ...
@overload
def add_working_days(start: dt.date, days: int) -> dt.date: ...
def add_working_days(start: dt.date, days: int) -> dt.date:
    """The `days`-th working day after `start` (before it when negative), at the same Asia/Shanghai
    time of day for a datetime: Friday 15:00 plus 1 is Monday 15:00, or the Sunday 15:00 of a 调休
    weekend. `start` itself may be a holiday; it is never counted."""
    if isinstance(start, dt.datetime):
        local = _local(start)
        moved = add_working_days(local.date(), days)
        return dt.datetime.combine(moved, local.timetz()).astimezone(start.tzinfo)
    step = 1 if days >= 0 else -1
    day: dt.date = start
    remaining = abs(days)
    while remaining:
        day += dt.timedelta(days=step)
        if is_working_day(day):
            remaining -= 1
    return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """How many working days lie after `start` up to and including `end` (negative if end < start):
    a report due 3 working days after a Friday, handed in on the Wednesday, took 3."""
    if end < start:
        return -working_days_between(end, start)
    count = 0
    day = start
    while day < end:
        day += dt.timedelta(days=1)
        count += is_working_day(day)
    return count


@dataclass(frozen=True)
class OfficeHours:
    """The hours of a working day that count as working time, as Asia/Shanghai wall-clock spans
    (a lunch break is the gap between two spans)."""

    spans: tuple[tuple[dt.time, dt.time], ...]

    def __post_init__(self) -> None:
        previous = dt.time.min
        for begin, end in self.spans:
            if not previous <= begin < end:
                raise ValueError(
                    "office hours must be increasing, non-empty, non-overlapping spans"
                )
            previous = end

    @property
    def per_day(self) -> dt.timedelta:
        return sum((_span(day_begin, day_end) for day_begin, day_end in self.spans), dt.timedelta())


def _span(begin: dt.time, end: dt.time) -> dt.timedelta:
    day = dt.date(2000, 1, 1)
    return dt.datetime.combine(day, end) - dt.datetime.combine(day, begin)


# 9:00-12:00 and 13:00-17:00: seven hours, the common shape of a government office day (the exact
# times differ by city and season; a service that needs others passes its own OfficeHours).
OFFICE_HOURS = OfficeHours(
    ((dt.time(9, 0), dt.time(12, 0)), (dt.time(13, 0), dt.time(17, 0))),
)


def _local(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("working-time arithmetic needs a timezone-aware datetime")
    return moment.astimezone(CAMPAIGN_TZ)


def _spans_of(day: dt.date, hours: OfficeHours) -> list[tuple[dt.datetime, dt.datetime]]:
    if not is_working_day(day):
        return []
    return [
        (
            dt.datetime.combine(day, begin, tzinfo=CAMPAIGN_TZ),
            dt.datetime.combine(day, end, tzinfo=CAMPAIGN_TZ),
        )
        for begin, end in hours.spans
    ]


def working_time_between(
    start: dt.datetime, end: dt.datetime, hours: OfficeHours = OFFICE_HOURS
) -> dt.timedelta:
    """The working time (office hours of working days) from `start` to `end`; zero if end <= start."""
    begin, finish = _local(start), _local(end)
    total = dt.timedelta()
    day = begin.date()
    while day <= finish.date():
        for span_begin, span_end in _spans_of(day, hours):
            overlap = min(span_end, finish) - max(span_begin, begin)
            if overlap > dt.timedelta():
                total += overlap
        day += dt.timedelta(days=1)
    return total


def add_working_time(
    start: dt.datetime, duration: dt.timedelta, hours: OfficeHours = OFFICE_HOURS
) -> dt.datetime:
    """The moment `duration` of working time after `start`: 4 working hours from Friday 15:00 end
    on Monday 11:00 (office hours 9-12, 13-17). A duration that ends exactly at the close of office
    hours ends then, not at the next opening."""
    if duration < dt.timedelta():
        raise ValueError("a working-time delay cannot be negative")
    cursor = _local(start)
    if not duration:
        return start
    remaining = duration
    day = cursor.date()
    while True:
        for span_begin, span_end in _spans_of(day, hours):
            begin = max(span_begin, cursor)
            if begin >= span_end:
                continue
            available = span_end - begin
            if remaining <= available:
                return (begin + remaining).astimezone(start.tzinfo)
            remaining -= available
        day += dt.timedelta(days=1)
