"""The milestone service's pure fold of the registry's master data (lifecycle.service.fold_master),
which its consumer and `sanpi-admin rebuild milestone` both apply: its edges."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from sanpi.events import BatchType, ProjectListed, ProjectRegistered, ProjectUpdated, Stage
from sanpi.milestone.lifecycle.service import MASTER_FIELDS, fold_master

# Pure code, no database: the PostgreSQL pass of make test would repeat these to the letter.
pytestmark = pytest.mark.db_independent

PID = "3f1c2a4e-0000-4000-8000-000000000001"
SNAPSHOT: dict[str, Any] = {
    "project_id": PID,
    "name": "年产 10 万吨新材料项目",
    "park": "郑州经开区",
    "total_investment": 120_000,
    "signed_date": dt.date(2024, 3, 1),
}


def registered(**changes: Any) -> ProjectRegistered:
    return ProjectRegistered(**{**SNAPSHOT, "version": 1, "stage": Stage.SIGNED, **changes})


def updated(version: int, **changes: Any) -> ProjectUpdated:
    return ProjectUpdated(**{**SNAPSHOT, "version": version, **changes}, changed=list(changes))


def listed(period: int) -> ProjectListed:
    return ProjectListed(
        project_id=PID, period=period, batch=BatchType.SIGN, listed_total_investment=120_000
    )


def test_a_registration_starts_the_master_data_with_no_period() -> None:
    master = fold_master(None, registered())
    assert master is not None
    assert {name: master[name] for name in SNAPSHOT if name != "project_id"} == {
        "name": "年产 10 万吨新材料项目",
        "park": "郑州经开区",
        "total_investment": 120_000,
        "signed_date": dt.date(2024, 3, 1),
    }
    assert set(master) == {*MASTER_FIELDS, "registry_version", "periods"}
    assert (master["registry_version"], master["periods"]) == (1, [])


def test_the_first_registration_wins() -> None:
    held = fold_master(None, registered())
    assert fold_master(held, registered(name="重复登记")) is None


def test_an_update_or_a_listing_before_the_registration_changes_nothing() -> None:
    assert fold_master(None, updated(2, name="新名称")) is None
    assert fold_master(None, listed(7)) is None


def test_a_newer_update_replaces_the_master_fields_and_keeps_the_periods() -> None:
    held = fold_master(fold_master(None, registered()), listed(7))
    master = fold_master(held, updated(2, name="新名称", total_investment=150_000))
    assert master is not None
    assert (master["name"], master["total_investment"]) == ("新名称", 150_000)
    assert (master["registry_version"], master["periods"]) == (2, [7])


@pytest.mark.parametrize("version", [1, 2])
def test_an_update_not_newer_than_the_one_applied_is_ignored(version: int) -> None:
    held = fold_master(fold_master(None, registered()), updated(2, name="第二版"))
    assert held is not None
    assert fold_master(held, updated(version, name="迟到的旧版")) is None
    assert held["name"] == "第二版"


def test_periods_are_a_sorted_set_whatever_the_order() -> None:
    held = fold_master(None, registered())
    for period in (9, 7, 8):
        held = fold_master(held, listed(period))
    assert held is not None
    assert held["periods"] == [7, 8, 9]
    assert fold_master(held, listed(8)) is None  # a listing seen again changes nothing


def test_a_listing_needs_only_the_periods_held() -> None:
    # The consumer reads only a listed project's periods (lifecycle.service.listed).
    assert fold_master({"periods": [3]}, listed(1)) == {"periods": [1, 3]}


def test_the_fold_does_not_change_what_it_was_given() -> None:
    held = fold_master(None, registered())
    assert held is not None
    before = {**held, "periods": list(held["periods"])}
    fold_master(held, listed(5))
    fold_master(held, updated(2, name="新名称"))
    assert held == before
