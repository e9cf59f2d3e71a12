"""旬 and month arithmetic (pure): keys, bounds, order, deadlines, 序时进度."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sanpi.events import ReportPeriodKind
from sanpi.events.xun import (
    ReportPeriod,
    add_months,
    last_completed,
    parse_period,
    periods_between,
    time_progress,
    xun_of,
)

# Pure code, no database: the PostgreSQL pass of make test would repeat these to the letter.
pytestmark = pytest.mark.db_independent


@pytest.mark.parametrize(
    ("key", "start", "end"),
    [
        ("2023-03-X1", dt.date(2023, 3, 1), dt.date(2023, 3, 10)),
        ("2023-03-X2", dt.date(2023, 3, 11), dt.date(2023, 3, 20)),
        ("2023-03-X3", dt.date(2023, 3, 21), dt.date(2023, 3, 31)),
        ("2024-02-X3", dt.date(2024, 2, 21), dt.date(2024, 2, 29)),
        ("2023-02-X3", dt.date(2023, 2, 21), dt.date(2023, 2, 28)),
        ("2023-03", dt.date(2023, 3, 1), dt.date(2023, 3, 31)),
    ],
)
def test_keys_and_bounds(key: str, start: dt.date, end: dt.date) -> None:
    period = parse_period(key)
    assert (period.start, period.end, period.key) == (start, end, key)


@pytest.mark.parametrize("key", ["2023-3-X1", "2023-03-X4", "2023-13", "2023-03-x1", "", "2023"])
def test_malformed_keys_are_refused(key: str) -> None:
    with pytest.raises(ValueError, match=r"expected|month|xun"):
        parse_period(key)


def test_deadlines_follow_r07() -> None:
    assert parse_period("2023-03-X2").deadline() == dt.date(2023, 3, 22)  # 旬 end + 2 days
    assert parse_period("2023-03-X3").deadline() == dt.date(2023, 4, 2)
    assert parse_period("2023-12").deadline() == dt.date(2024, 1, 5)  # the 5th of next month
    assert parse_period("2023-03").deadline(month_due_day=10) == dt.date(2023, 4, 10)


def test_a_year_has_36_xun_in_order() -> None:
    xuns = periods_between(parse_period("2023-01-X1"), parse_period("2023-12-X3"))
    assert len(xuns) == 36
    assert [x.index_in_year for x in xuns] == list(range(1, 37))
    assert xuns[-1].next() == parse_period("2024-01-X1")
    assert parse_period("2024-01-X1").previous() == xuns[-1]
    assert parse_period("2024-01").previous() == parse_period("2023-12")


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_every_day_is_in_exactly_its_xun(day: dt.date) -> None:
    period = xun_of(day)
    assert period.start <= day <= period.end
    assert period.next().start == period.end + dt.timedelta(days=1)
    done = last_completed(day, ReportPeriodKind.XUN)
    assert done.end <= day < done.next().end


def test_time_progress() -> None:
    assert time_progress(dt.date(2023, 12, 31)) == 1
    assert time_progress(dt.date(2023, 7, 2)) == Fraction(183, 365)
    # Calendar days at every grain: March 中旬 ends on day 79, not at 8/36 of the year.
    assert time_progress(parse_period("2023-03-X2").end) == Fraction(79, 365)
    assert time_progress(dt.date(2024, 6, 30), 2024) == Fraction(182, 366)
    assert time_progress(dt.date(2022, 12, 31), 2023) == 0
    assert time_progress(dt.date(2024, 1, 1), 2023) == 1


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(dt.date(2023, 1, 31), 1) == dt.date(2023, 2, 28)
    assert add_months(dt.date(2023, 11, 15), 3) == dt.date(2024, 2, 15)


def test_period_validation() -> None:
    with pytest.raises(ValueError, match="month"):
        ReportPeriod(2023, 13)


def test_a_period_reads_as_its_chinese_name() -> None:
    assert parse_period("2023-03-X2").zh == "2023年3月中旬"
    assert parse_period("2023-12-X1").zh == "2023年12月上旬"
    assert parse_period("2024-02-X3").zh == "2024年2月下旬"
    assert parse_period("2023-03").zh == "2023年3月"


def test_a_period_reads_as_its_english_name() -> None:
    assert parse_period("2023-03-X1").en == "early March 2023"
    assert parse_period("2023-03-X2").en == "mid March 2023"
    assert parse_period("2024-12-X3").en == "late December 2024"
    assert parse_period("2023-03").en == "March 2023"
