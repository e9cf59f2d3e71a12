"""The 通报 of the district demo (as `make up` loads it, over the public APIs, on a stack and
broker of its own: tests/demo/conftest.py): its red projects and its park ranking are what the
services' own APIs say for the 旬 — the alerts of an evaluation as of the 旬's last day, the
traffic lights, the registry's indicators, and each project's investment plan and progress
reports.

The bulletin pinned is 2023-03-X2, in the district's first 2023 quarter: the demo's projects on
plan post their reports of the 100 days to the end of March 2023 and of the 100 days to the demo's
day (2025-04-01), the others their whole history. The district's 2023 targets give the bulletin
its 签约额 rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from sanpi.client import SanpiClient
from sanpi.client.demo.generator import NAMED
from sanpi.events.xun import parse_period
from tests.conftest import ROOT
from tests.demo.conftest import LoadedDemo
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

PERIOD = "2023-03-X2"
AS_OF = dt.date(2023, 3, 20)
ORDER = ["green", "blue", "yellow", "orange", "red"]
MARKS = {"red": "red", "orange": "yellow", "yellow": "yellow", "green": "green", "blue": "green"}


def every(page: Callable[..., dict[str, Any]], **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        found = page(**params, limit=500, **({"cursor": cursor} if cursor else {}))
        items += found["items"]
        cursor = found.get("next_cursor")
        if not cursor:
            return items


def existed(project: dict[str, Any]) -> bool:
    """Whether the project was in the campaign on the 旬's last day: signed (or registered as
    started, or producing) by then, and not cancelled by then. The demo signs most of its projects
    after March 2023: the bulletin of 2023-03-X2 must not count them."""
    since = project["signed_date"] or project["started_date"] or project["production_date"]
    cancelled = project["cancelled_on"]
    return (
        since is not None
        and dt.date.fromisoformat(since) <= AS_OF
        and (cancelled is None or dt.date.fromisoformat(cancelled) > AS_OF)
    )


def expected_mark(counts: dict[str, int], share: float = 0.2) -> str:
    """红/黄/绿 as the bulletin's legend states it: 红 when at least a fifth of the park's
    projects are red; 黄 when any is red, or a fifth are yellow or worse (orange counted as 黄);
    绿 otherwise."""
    total = sum(counts.values())
    worse = 0
    for colour in ("red", "orange", "yellow"):
        worse += counts.get(colour, 0)
        if total and worse / total >= share:
            return MARKS[colour]
    return "yellow" if counts.get("red", 0) else "green"


def completion_by_park(client: SanpiClient, building: set[str]) -> dict[str, float | None]:
    """Each park's completion of its projects' annual plans as of the 旬's end, from the public
    API alone: the plan of the year, and the year-to-date figure of the last report (in period
    order) of a period that ended by then. `building` gets the projects whose plan has
    investment in the months before the 旬's (under construction then) and no report by then."""
    done: dict[str, int] = {}
    planned: dict[str, int] = {}
    for project in every(client.registry.list_projects):
        if not existed(project):
            continue
        plans = client.milestone.investment_plans(project["id"])["items"]
        plan = next((p["annual_plan"] for p in plans if p["year"] == AS_OF.year), 0)
        if plan <= 0:
            continue
        reports = every(client.milestone.progress, project_id=project["id"])
        this_year = sorted(
            (
                r
                for r in reports
                if dt.date.fromisoformat(r["period_end"]) <= AS_OF
                and parse_period(r["period_key"]).year == AS_OF.year
            ),
            key=lambda r: parse_period(r["period_key"]).in_order,
        )
        early = next((p["monthly"] for p in plans if p["year"] == AS_OF.year), None) or []
        if sum(early[: AS_OF.month - 1]) > 0 and not this_year:
            building.add(project["id"])
        park = project["park"]
        planned[park] = planned.get(park, 0) + plan
        done[park] = done.get(park, 0) + (
            this_year[-1]["completed_investment_ytd"] if this_year else 0
        )
    return {park: round(done[park] / planned[park] * 100, 1) for park in planned}


# The package's demo loads in this test's time when it runs first (alone, say): over two minutes
# on SQLite, more than the default five on PostgreSQL on a busy machine.
@pytest.mark.timeout(900)
async def test_the_demo_bulletin_lists_the_apis_red_projects_and_park_ranking(
    loaded: LoadedDemo,
) -> None:
    demo = loaded
    try:
        await _bulletin_matches_the_apis(demo)
    finally:
        # The other tests of the package read the demo as the loader left it: pinned to its day.
        with demo.client() as client:
            client.milestone.evaluate(as_of=demo.data.as_of.isoformat(), pin=True)


async def _bulletin_matches_the_apis(demo: LoadedDemo) -> None:
    with demo.client() as client:

        def pinned() -> dict[str, Any]:
            """The bulletin, and the API's own alerts: an evaluation as of the 旬's last day (the
            day pinned: another day would only be previewed), its firing red ones, which the
            traffic lights below count too. Right after the load the service is still applying
            its last events, which may change an alert between the two reads: the comparison is
            made again until the service is quiet."""
            bulletin: dict[str, Any] = client.milestone.bulletin(PERIOD)
            client.milestone.evaluate(as_of=AS_OF.isoformat(), pin=True)
            red = every(client.milestone.alerts, severity="red", state="FIRING")
            shown = sorted(
                (p["project_id"], h["rule"]) for p in bulletin["red_projects"] for h in p["rules"]
            )
            # A rule raised per 旬 and per month (R04, R07) is one line of its project.
            assert shown == sorted({(a["project_id"], a["rule"]) for a in red})
            return bulletin

        bulletin = await eventually(pinned, timeout=120, interval=2, what="red list = red alerts")
        assert (bulletin["as_of"], bulletin["provisional"]) == (AS_OF.isoformat(), False)
        assert bulletin["period_label"] == "2023年3月中旬"
        # The stack runs on the demo (as `make up` starts it): the bulletin says so.
        assert bulletin["demo"] is True
        # The real projects the demo names from its sources are on plan: none is red.
        named = {x.name for x in NAMED}
        assert not named & {p["name"] for p in bulletin["red_projects"]}
        assert len(bulletin["red_projects"]) >= 3, "the demo makes red alerts"
        projects = {p["id"]: p for p in every(client.registry.list_projects)}
        # The demo's projects are cancelled on the demo's days (not on the day it is loaded):
        # those cancelled before the 旬's end are not active in it, nor red.
        cancelled = {p["id"]: p["cancelled_on"] for p in projects.values() if p["cancelled_on"]}
        assert cancelled == {
            demo.first.ids[p.key]: p.cancelled.isoformat()
            for p in demo.data.projects
            if p.cancelled is not None and p.cancelled <= demo.data.as_of
        }
        for listed in bulletin["red_projects"]:
            project = projects[listed["project_id"]]
            assert (listed["name"], listed["park"]) == (project["name"], project["park"])
            assert listed["responsible_unit"] == project.get("responsible_unit")

        # The ranking: completion of the annual plans, best first, each park's red count and
        # mark as the traffic lights of the same evaluation show them.
        silent: set[str] = set()
        completion = completion_by_park(client, silent)
        # The projects building in early 2023 reported (the demo posts their 旬报 of the first
        # quarter), bar the ones whose reports are missing on purpose (the demo's 2 % noise).
        assert len(silent) <= 2, silent
        expected = sorted(completion, key=lambda park: (-(completion[park] or 0.0), park))
        ranked = [p for p in bulletin["parks"] if p["investment"]["completion_pct"] is not None]
        assert [(p["rank"], p["park"]) for p in ranked] == list(enumerate(expected, start=1))
        assert {p["park"]: p["investment"]["completion_pct"] for p in ranked} == completion
        reds_by_park: dict[str, int] = {}
        for listed in bulletin["red_projects"]:
            reds_by_park[listed["park"]] = reds_by_park.get(listed["park"], 0) + 1
        assert {p["park"]: p["red"] for p in bulletin["parks"]} == {
            p["park"]: reds_by_park.get(p["park"], 0) for p in bulletin["parks"]
        }
        # The traffic lights of the same evaluation count the projects of today, each in the colour
        # of its worst firing alert: less those signed after the 旬, plus those active in it and
        # cancelled since, they are the bulletin's.
        worst: dict[str, str] = {}
        for alert in every(client.milestone.alerts, state="FIRING"):
            pid, severity = alert["project_id"], alert["severity"]
            if pid is not None and ORDER.index(severity) > ORDER.index(worst.get(pid, "green")):
                worst[pid] = severity
        shift: dict[str, dict[str, int]] = {}
        for project in projects.values():
            later = project["cancelled_on"] is not None
            if existed(project) is later:  # unborn and live, or in the 旬 and cancelled since
                by_colour = shift.setdefault(project["park"], {})
                colour = worst.get(project["id"], "green")
                by_colour[colour] = by_colour.get(colour, 0) + (1 if later else -1)
        assert any(n < 0 for c in shift.values() for n in c.values()), "signed after the 旬"

        def lights_agree() -> bool:
            """Read again until the service is quiet: a late event of the load (a cancellation,
            a milestone) can land between the bulletin's read and the lights' read."""
            parks = client.milestone.bulletin(PERIOD)["parks"]
            lights = {x["park"]: x for x in client.milestone.traffic_lights()["items"]}
            for park in parks:
                counts = dict(lights[park["park"]]["counts"])
                for colour, n in shift.get(park["park"], {}).items():
                    counts[colour] = counts.get(colour, 0) + n
                assert park["projects"] == sum(counts.values()), (park, counts)
                assert park["red"] == counts["red"], (park, counts)
                assert park["mark"] == expected_mark(counts), (park, counts)
            return True

        await eventually(lights_agree, timeout=120, interval=2, what="bulletin parks = lights")
        # The district's part is the registry's indicators as of the same day.
        indicators = client.registry.indicators(as_of=AS_OF.isoformat())
        assert bulletin["district"]["time_progress_pct"] == indicators["time_progress_pct"]
        assert [(t["kind"], t["attainment_pct"]) for t in bulletin["district"]["targets"]] == [
            (t["kind"], t["attainment_pct"]) for t in indicators["targets"]
        ]
        # The district's 2023 targets, 签约额 first, each with its attainment by then.
        assert [t["kind"] for t in bulletin["district"]["targets"]] == [
            "SIGN_AMOUNT", "NEW_START_INVESTMENT", "MFG_SIGN_AMOUNT", "MFG_SIGN_COUNT"
        ]  # fmt: skip
        assert all(t["attainment_pct"] is not None for t in bulletin["district"]["targets"])
        # Every park ranked by the plans of 2023 and the reports of its first quarter.
        assert len(ranked) == 4
        # The district's investment is its parks' (projects signed after the 旬 in neither).
        for field in ("annual_plan", "completed_ytd", "expected_ytd"):
            assert bulletin["district"]["investment"][field] == sum(
                p["investment"][field] for p in bulletin["parks"]
            ), field
        # The printable bulletin, kept in .run/ (the docs' picture is its first page, by pdftoppm).
        pdf = client.milestone.bulletin(PERIOD, "pdf")
        assert pdf[:5] == b"%PDF-"
        (ROOT / ".run" / f"bulletin-{PERIOD}.pdf").write_bytes(pdf)
