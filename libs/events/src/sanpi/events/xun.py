"""旬 and month arithmetic for report periods (`2023-03-X2` = March 中旬, `2023-03`): pure functions."""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
from dataclasses import dataclass
from fractions import Fraction

from sanpi.events.vocabulary import ReportPeriodKind

XUNS_PER_YEAR = 36
_XUN_KEY = re.compile(r"^(\d{4})-(\d{2})-X([123])$")
_MONTH_KEY = re.compile(r"^(\d{4})-(\d{2})$")
# The one place a 旬 is named (the sheets, the bulletin, the digests, the portal read these).
_XUN_ZH = ("上旬", "中旬", "下旬")
_XUN_EN = ("early", "mid", "late")
# Fixed, not strftime's %B: that follows the process's locale.
_MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True, order=True)
class ReportPeriod:
    """One 旬 (上旬 1–10, 中旬 11–20, 下旬 21–month end) or one calendar month.

    `xun` is 1, 2 or 3 for a 旬 and 0 for a whole month, so a month sorts before its 旬."""

    year: int
    month: int
    xun: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"month must be 1..12, not {self.month}")
        if self.xun not in (0, 1, 2, 3):
            raise ValueError(f"xun must be 1, 2 or 3 (0 for a month), not {self.xun}")
        if not 1900 <= self.year <= 2999:
            raise ValueError(f"year out of range: {self.year}")

    @property
    def kind(self) -> ReportPeriodKind:
        return ReportPeriodKind.MONTH if self.xun == 0 else ReportPeriodKind.XUN

    @property
    def key(self) -> str:
        base = f"{self.year:04d}-{self.month:02d}"
        return base if self.xun == 0 else f"{base}-X{self.xun}"

    @property
    def zh(self) -> str:
        """What a reader calls it: 2023年3月中旬, 2023年3月."""
        base = f"{self.year}年{self.month}月"
        return base if self.xun == 0 else base + _XUN_ZH[self.xun - 1]

    @property
    def en(self) -> str:
        """The same in English: mid March 2023, March 2023."""
        base = f"{_MONTHS_EN[self.month - 1]} {self.year}"
        return base if self.xun == 0 else f"{_XUN_EN[self.xun - 1]} {base}"

    @property
    def start(self) -> dt.date:
        day = {0: 1, 1: 1, 2: 11, 3: 21}[self.xun]
        return dt.date(self.year, self.month, day)

    # Cached: a full rule evaluation reads the end of ~1.8M report periods several times each
    # (sorting, windows), and the month's length costs a calendar lookup every time.
    @functools.cached_property
    def end(self) -> dt.date:
        if self.xun in (1, 2):
            return dt.date(self.year, self.month, 10 * self.xun)
        return dt.date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    @functools.cached_property
    def in_order(self) -> tuple[dt.date, bool]:
        """Sort key in time: by the day the period ends, a 下旬 before the month it closes
        (its report is due first). Cached like `end`: a full rule evaluation sorts ~1.8M."""
        return self.end, self.xun == 0

    @property
    def index_in_year(self) -> int:
        """1..36 for a 旬, 1..12 for a month."""
        return self.month if self.xun == 0 else (self.month - 1) * 3 + self.xun

    def next(self) -> ReportPeriod:
        if self.xun in (1, 2):
            return ReportPeriod(self.year, self.month, self.xun + 1)
        year, month = (self.year + 1, 1) if self.month == 12 else (self.year, self.month + 1)
        return ReportPeriod(year, month, 1 if self.xun == 3 else 0)

    def previous(self) -> ReportPeriod:
        if self.xun in (2, 3):
            return ReportPeriod(self.year, self.month, self.xun - 1)
        year, month = (self.year - 1, 12) if self.month == 1 else (self.year, self.month - 1)
        return ReportPeriod(year, month, 3 if self.xun == 1 else 0)

    def deadline(self, *, xun_grace_days: int = 2, month_due_day: int = 5) -> dt.date:
        """The last day a report for this period is on time (docs/domain.md#deadlines, R07)."""
        if self.xun:
            return self.end + dt.timedelta(days=xun_grace_days)
        return self.end + dt.timedelta(days=month_due_day)

    def __str__(self) -> str:
        return self.key


def parse_period(key: str) -> ReportPeriod:
    """`2023-03-X2` or `2023-03` → ReportPeriod; ValueError with a readable reason otherwise."""
    match = _XUN_KEY.match(key) or _MONTH_KEY.match(key)
    if match is None:
        raise ValueError("expected YYYY-MM-X1|X2|X3 (a 旬) or YYYY-MM (a month)")
    groups = match.groups()
    xun = int(groups[2]) if len(groups) == 3 else 0
    return ReportPeriod(int(groups[0]), int(groups[1]), xun)


def xun_of(day: dt.date) -> ReportPeriod:
    """The 旬 a day falls in."""
    return ReportPeriod(day.year, day.month, min(3, (day.day - 1) // 10 + 1))


def month_of(day: dt.date) -> ReportPeriod:
    return ReportPeriod(day.year, day.month)


def period_of(day: dt.date, kind: ReportPeriodKind) -> ReportPeriod:
    return xun_of(day) if kind is ReportPeriodKind.XUN else month_of(day)


def last_completed(day: dt.date, kind: ReportPeriodKind) -> ReportPeriod:
    """The latest period of `kind` that ended on or before `day`."""
    current = period_of(day, kind)
    return current if current.end <= day else current.previous()


def periods_between(first: ReportPeriod, last: ReportPeriod) -> list[ReportPeriod]:
    """Every period from `first` to `last` inclusive (same kind), oldest first."""
    if first.kind is not last.kind:
        raise ValueError("periods_between needs two periods of the same kind")
    out: list[ReportPeriod] = []
    period = first
    while period <= last:
        out.append(period)
        period = period.next()
    return out


def time_progress(day: dt.date, year: int | None = None) -> Fraction:
    """序时进度, the one definition every part of sanpi uses (R04's alerts, the indicators, the
    gauges, the bulletins): the share of `year` (default: `day`'s) elapsed at the end of `day`, in
    calendar days — day of year / days in the year; 0 before the year, 1 after it.

    Calendar days, not whole 旬 or months: bulletins print 序时进度 for any day ("截至6月30日
    序时进度 49.6 %"), and counting whole periods made an alert on a period's last day disagree
    with the panel by up to 2 points (旬 are 8 to 11 days long). Exact, so that percentages round
    half up on the true value (sanpi.events.percent)."""
    year = day.year if year is None else year
    if day.year != year:
        return Fraction(0 if day.year < year else 1)
    days_in_year = 366 if calendar.isleap(year) else 365
    return Fraction(day.timetuple().tm_yday, days_in_year)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, clamped to the month's end (Jan 31 + 1 month = Feb 28/29)."""
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def month_end(day: dt.date) -> dt.date:
    return dt.date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])
