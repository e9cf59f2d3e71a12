"""Demo data sets as pure data (no I/O): the 郑州高新区 district (docs/domain.md#district-demo) and the province
benchmark (docs/domain.md#province-benchmark). A seed makes every run identical; the loader sends them through the public API."""

from __future__ import annotations

import datetime as dt
import math
import random
import uuid
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

D = dt.date
DISTRICT = "郑州高新区"
# [weights proposal] of docs/domain.md#district-demo.
PARK_WEIGHTS = {"梧桐": 0.30, "双桥": 0.25, "石佛": 0.20, "枫杨": 0.25}
SEED_004_TARGETS_2023 = {
    "SIGN_AMOUNT": 4_000_000,
    "NEW_START_INVESTMENT": 2_900_000,
    "MFG_SIGN_AMOUNT": 1_800_000,
    "MFG_SIGN_COUNT": 12,
}
LEADING = ["IOT", "ELECTRONIC_INFORMATION", "BEIDOU", "NEW_MATERIALS"]
EMERGING = ["COMPUTING", "HYDROGEN_STORAGE", "LIFE_HEALTH", "NEXT_GEN_IT"]
FUTURE = ["QUANTUM", "BRAIN_INSPIRED", "FUTURE_NETWORK", "FRONTIER_MATERIALS"]
INDUSTRY_WORDS = {
    "IOT": "物联网", "ELECTRONIC_INFORMATION": "电子信息", "BEIDOU": "北斗导航", "NEW_MATERIALS": "新材料",
    "COMPUTING": "算力", "HYDROGEN_STORAGE": "氢能储能", "LIFE_HEALTH": "生物医药", "NEXT_GEN_IT": "软件信息",
    "QUANTUM": "量子科技", "BRAIN_INSPIRED": "类脑智能", "FUTURE_NETWORK": "未来网络",
    "FRONTIER_MATERIALS": "前沿材料", "OTHER": "综合",
}  # fmt: skip
COMPANY_PREFIXES = [
    "华夏",
    "中原",
    "豫兴",
    "汇智",
    "天成",
    "博远",
    "恒信",
    "新锐",
    "凯达",
    "宏图",
    "瑞丰",
    "启明",
]
COMPANY_CITIES = ["上海", "北京", "深圳", "杭州", "苏州", "广州", "南京", "武汉", "郑州", "成都"]
PROJECT_KINDS = ["产业园", "研发生产基地", "总部项目", "创新中心", "智能制造项目"]
SPONSOR_LEADERS = ["张建国", "李卫东", "王海涛", "刘志强", "陈立新", "赵文博"]
PARK_DIRECTORS = {"梧桐": "孙浩", "双桥": "周宁", "石佛": "吴磊", "枫杨": "郑洁"}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
EVIDENCE = "https://evidence.example/demo"


@dataclass(frozen=True)
class DemoPeriod:
    number: int
    event_date: dt.date


@dataclass
class DemoProject:
    """One project: the create body, plus the stage dates it is meant to reach (the milestone
    service's part, posted by the loader up to the data set's `as_of`)."""

    key: str
    body: dict[str, Any]
    fulfilled: dt.date | None = None
    started: dt.date | None = None
    produced: dt.date | None = None
    effective: dt.date | None = None
    cancelled: dt.date | None = None
    # Days between stages, kept so that a start moved to an event day moves what follows.
    gaps: tuple[int, int, int, int] = (0, 0, 0, 0)

    @property
    def on_track(self) -> bool:
        """A real project named in the sources: kept on plan (no alert but blue)."""
        return self.body["name"] in NAMED_NAMES

    @property
    def direct(self) -> bool:
        return bool(self.body.get("initial_stage") == "UNDER_CONSTRUCTION")

    @property
    def signed(self) -> dt.date | None:
        value = self.body.get("signed_date")
        return None if value is None else D.fromisoformat(value)

    @property
    def amount(self) -> int:
        return int(self.body["total_investment"])

    @property
    def in_statistics(self) -> dt.date | None:
        """入库纳统: most projects enter the statistics 10–55 days after their start, one in ten
        only after 70–120 days (rule R08 watches the gap). Drawn from the project's own key,
        not the data set's generator, so that every other figure of the demo stays as it was."""
        if self.started is None:
            return None
        rng = random.Random(f"{self.key}:in-statistics")
        late = rng.random() < 0.1
        if self.on_track:  # within R08's month
            return self.started + dt.timedelta(days=rng.randint(10, 28))
        return self.started + dt.timedelta(
            days=rng.randint(70, 120) if late else rng.randint(10, 55)
        )

    def milestones(self, as_of: dt.date) -> list[tuple[str, dt.date, list[str]]]:
        """(kind, date, evidence) of the milestones reached by `as_of`, in order."""
        steps = [
            ("FULFILLED", None if self.direct else self.fulfilled),
            ("STARTED", None if self.direct else self.started),
            ("IN_STATISTICS", self.in_statistics),
            ("IN_PRODUCTION", self.produced),
            ("EFFECTIVE", self.effective),
        ]
        found = []
        for kind, day in steps:
            if day is None or day > as_of or (self.cancelled and day >= self.cancelled):
                continue
            evidence = []
            if kind in ("STARTED", "IN_PRODUCTION"):
                evidence = [f"{EVIDENCE}/{self.key}/{kind.lower()}-{day}.jpg"]
            found.append((kind, day, evidence))
        # 入库纳统 may come after production on a short build: in date order (stable).
        return sorted(found, key=lambda step: step[1])


@dataclass(frozen=True)
class DemoListing:
    project_key: str
    period: int
    batch: str  # SIGN, START, PRODUCE


@dataclass
class DemoDataset:
    name: str
    seed: int
    district: str
    parks: list[str]
    as_of: dt.date
    periods: list[DemoPeriod]
    projects: list[DemoProject]
    listings: list[DemoListing]
    targets: list[tuple[int, str, str, int]] = field(default_factory=list)

    def project(self, key: str) -> DemoProject:
        return next(p for p in self.projects if p.key == key)

    def listed(self, period: int, batch: str | None = None) -> list[DemoListing]:
        return [
            x for x in self.listings if x.period == period and (batch is None or x.batch == batch)
        ]

    def project_id(self, key: str) -> str:
        """A stable id per (data set, seed, key): a province import re-run is recognised."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sanpi-demo/{self.name}/{self.seed}/{key}"))


# --- small distributions (random.Random has no Poisson) -------------------------------------------


def poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method; the means here are ≤ 12, where it is exact and fast."""
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def days(rng: random.Random, median: float, sigma: float) -> int:
    return max(1, round(rng.lognormvariate(math.log(median), sigma)))


def amount_wan(
    rng: random.Random, mu: float, sigma: float, low: float = 1, high: float = 200
) -> int:
    """A lognormal amount in 亿元 truncated to [low, high], returned in 万元 (1亿 = 10^4 万元)."""
    while True:
        yi = rng.lognormvariate(mu, sigma)
        if low <= yi <= high:
            return round(yi * 10_000)


def first_working_day(year: int, month: int) -> dt.date:
    """Monday–Friday, after New Year's Day (1 Jan) and the National Day week (1–7 Oct)."""
    day = D(year, month, {1: 2, 10: 8}.get(month, 1))
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


# The event days on record (docs/domain.md#demo-and-benchmark-data): the 1st, the 4th, the 5th, the 7th (the first
# working day after the Spring Festival), the 8th, the 9th and the 15th (a Sunday). The others
# fall on the first working day of January, April, July or October.
PERIOD_DATES = {1: D(2021, 7, 10), 4: D(2022, 4, 6), 5: D(2022, 7, 5), 7: D(2023, 1, 28), 8: D(2023, 5, 8), 9: D(2023, 8, 15), 15: D(2025, 1, 5)}  # fmt: skip


def quarterly_periods(first: int, last: int, year: int, month: int) -> list[DemoPeriod]:
    """Periods `first`–`last`, one a quarter from (`year`, `month`): the day on record where
    there is one, else the quarter's first working day."""
    found = []
    for number in range(first, last + 1):
        found.append(DemoPeriod(number, PERIOD_DATES.get(number) or first_working_day(year, month)))  # fmt: skip
        month += 3
        if month > 12:
            year, month = year + 1, month - 12
    return found


def district_periods() -> list[DemoPeriod]:
    """The 5th–16th periods (July 2022 to April 2025)."""
    return quarterly_periods(5, 16, 2022, 7)


# --- the district ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Named:
    """A real project named in the news and where the demo puts it."""

    name: str
    enterprise: str
    park: str
    chain_tag: str
    manufacturing: bool
    period: int
    batch: str  # the list it is on
    direct: bool = False
    # A START of a signed project: the (unlisted) signing day.
    signed: dt.date | None = None
    content: str | None = None


# Where the sources put them. The 5th period's report (ansshj.com) names 中软国际, 新开普 and
# 郑州机械研究所 among its projects. The 7th period's report names two groups: 上海重塑,
# 艾格莱德 and 清智 were signed in 2022 (the demo lists them at the 6th, the last event of 2022),
# and 雄韬, 艾派克, 京东方艺云 and 张江生物银行 were signed projects to be pushed to
# substantive landing (开工) in 2023 (the demo starts them at the 8th, 2023-05-08, signed unlisted
# in November and December 2022). Which list of the period, and the 2023 periods, are the demo's
# choice. The demo keeps these real projects on plan (`on_track`): their progress is generated,
# and a red or yellow alert would be a made-up claim about a real company. So each starts within
# 180 days of its signing (R02's red), and the 9th period's two moved to the 8th.
NAMED = [
    Named("中软国际中原数字总部", "中软国际有限公司", "梧桐", "NEXT_GEN_IT", False, 5, "SIGN"),
    Named("新开普智慧教育研发产业基地", "新开普电子股份有限公司", "石佛", "ELECTRONIC_INFORMATION", False, 5, "START", direct=True),
    Named("郑州机械研究所高端装备制造产业园", "郑州机械研究所有限公司", "石佛", "NEW_MATERIALS", True, 5, "START", direct=True, content="高端装备制造产业园，建筑面积 7.41万㎡"),
    Named("上海重塑燃料电池产业化基地", "上海重塑能源集团股份有限公司", "枫杨", "HYDROGEN_STORAGE", True, 6, "SIGN"),
    Named("艾格莱德汽车传感及控制器研发生产基地", "艾格莱德(郑州)汽车科技有限公司", "双桥", "IOT", True, 6, "SIGN"),
    Named("清华河北院清智机器人创新中心", "清华大学河北高端装备研究院", "梧桐", "BRAIN_INSPIRED", False, 6, "SIGN"),
    Named("雄韬氢能产业园", "深圳市雄韬电源科技股份有限公司", "枫杨", "HYDROGEN_STORAGE", True, 8, "START", signed=D(2022, 11, 21)),
    Named("珠海艾派克微集成电路封测", "珠海艾派克微电子有限公司", "双桥", "ELECTRONIC_INFORMATION", True, 8, "START", signed=D(2022, 11, 16)),
    Named("京东方艺云区域总部", "京东方艺云科技有限公司", "梧桐", "ELECTRONIC_INFORMATION", False, 8, "START", signed=D(2022, 12, 20)),
    Named("上海张江生物银行河南分行", "上海张江生物技术有限公司", "石佛", "LIFE_HEALTH", False, 8, "START", signed=D(2022, 12, 12)),
]  # fmt: skip
# Batch sizes and amounts on record (ansshj.com/news/279390): the 5th period listed
# 5 signed (33.4亿, plan 25.6亿), 3 started (17.1亿), 4 producing (37.1亿); the 7th 12 for 160.7亿.
FIXED_COUNTS = {5: {"SIGN": 5, "START": 3, "PRODUCE": 4}, 7: {"SIGN": 5, "START": 4, "PRODUCE": 3}}
FIXED_AMOUNTS = {
    (5, "SIGN"): 334_000,
    (5, "START"): 171_000,
    (5, "PRODUCE"): 371_000,
    (7, None): 1_607_000,
}
MEANS = {"SIGN": 5.0, "START": 3.5, "PRODUCE": 4.0}
NAMED_NAMES = {x.name for x in NAMED}
# What the district reached in 2023 in the demo (docs/domain.md#district-demo): just over its targets of 400亿
# signed (45 % of it manufacturing, at least 13 signings) and 290亿 of new starts.
DEMO_2023 = {
    "SIGN_AMOUNT": 4_100_000,
    "MFG_SHARE": 0.45,
    "MFG_SIGN_COUNT": 13,
    "NEW_START_INVESTMENT": 2_950_000,
}


class _District:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.periods = district_periods()
        self.as_of = self.periods[-1].event_date
        self.projects: list[DemoProject] = []
        self.listings: list[DemoListing] = []
        self.pinned: set[str] = set()

    # -- attributes ------------------------------------------------------------------------------

    def _person(self) -> str:
        return self.rng.choice(SURNAMES) + "".join(
            self.rng.choices(GIVEN, k=self.rng.choice([1, 2]))
        )

    def _chain(self) -> str:
        group = self.rng.choices([LEADING, EMERGING, FUTURE, ["OTHER"]], [0.55, 0.30, 0.05, 0.10])[
            0
        ]
        return self.rng.choice(group)

    def _uscc(self) -> str:
        alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
        return "91410100" + "".join(self.rng.choices(alphabet, k=10))

    def _unique(self, name: str) -> str:
        """The template's name, or its 二期/三期… when an earlier project has it: two projects of
        one name could not be told apart in a list, and where both were red the bulletin's order
        between them was that of the ids the registry drew at the load. No draw of the generator:
        every other figure stays as it was."""
        taken = {p.body["name"] for p in self.projects}
        phases = (f"{n}期" for n in "二三四五六七八九")
        found = name
        while found in taken:
            found = f"{name}{next(phases)}"
        return found

    def new_project(
        self,
        *,
        direct: bool,
        day: dt.date,
        named: Named | None = None,
        mu: float = 1.7,
    ) -> DemoProject:
        rng = self.rng
        key = f"p{len(self.projects) + 1:04d}"
        chain = named.chain_tag if named else self._chain()
        mfg = named.manufacturing if named else rng.random() < 0.45
        park = (
            named.park if named else rng.choices(list(PARK_WEIGHTS), list(PARK_WEIGHTS.values()))[0]
        )
        total = amount_wan(rng, mu, 1.1)
        if direct:
            origin = rng.choices(["LOCAL", "OUT_OF_PROVINCE"], [0.7, 0.3])[0]
        else:
            origin = rng.choices(["OUT_OF_PROVINCE", "FOREIGN", "LOCAL"], [0.90, 0.05, 0.05])[0]
        company_city = "郑州" if origin == "LOCAL" else rng.choice(COMPANY_CITIES[:-1])
        if origin == "FOREIGN":
            company_city = rng.choice(["新加坡", "香港", "首尔", "法兰克福"])
        word = INDUSTRY_WORDS[chain]
        enterprise = (
            named.enterprise
            if named
            else f"{company_city}{rng.choice(COMPANY_PREFIXES)}{word}科技有限公司"
        )
        name = (
            named.name if named else self._unique(f"{enterprise[:-6]}{rng.choice(PROJECT_KINDS)}")
        )
        if mfg:
            category = rng.choices(["ADVANCED_MANUFACTURING", "STRATEGIC_EMERGING"], [0.7, 0.3])[0]
        else:
            category = rng.choice(["MODERN_SERVICES", "DIGITAL_NEW_INFRA", "SOCIAL_LIVELIHOOD", "MAJOR_INFRA", "OTHER"])  # fmt: skip
        build = 330 if mfg else 540
        gaps = (days(rng, 45, 0.6), days(rng, 75, 0.7), days(rng, build, 0.5), days(rng, 365, 0.6))
        share = rng.betavariate(2, 4) if direct else rng.betavariate(4, 2)
        body: dict[str, Any] = {
            "name": name,
            "park": park,
            "enterprise": {
                "name": enterprise,
                "uscc": self._uscc(),
                "origin": origin,
                "origin_region": company_city,
            },
            "category": category,
            "chain_tag": chain,
            "is_manufacturing": mfg,
            "funding_origin": origin if origin != "HK_MO_TW" else "FOREIGN",
            "total_investment": total,
            "contract_amount": None if direct else round(total * rng.uniform(0.9, 1.0)),
            "annual_plan_investment": round(total * share),
            "construction_content": named.content if named and named.content else f"新建{word}研发及生产用房约{rng.randint(2, 20)}万㎡",
            "expected_annual_output": round(total * rng.uniform(1.0, 2.5)),
            "expected_jobs": rng.randint(50, 1500),
            "responsible_unit": f"{park}园区运营中心",
            "responsible_person": self._person(),
            "sponsor_leader": rng.choice(SPONSOR_LEADERS),
            "initial_stage": "UNDER_CONSTRUCTION" if direct else "SIGNED",
        }  # fmt: skip
        project = DemoProject(key=key, body=body, gaps=gaps)
        if direct:
            body["started_date"] = day.isoformat()
            project.started = day
        else:
            body["signed_date"] = day.isoformat()
        self._timeline(project, cancellable=named is None)
        self.projects.append(project)
        return project

    def _timeline(self, p: DemoProject, *, cancellable: bool = True) -> None:
        """Stage dates from the signing (or start) day and the project's gaps; 20 % never start,
        4 % are cancelled (docs/domain.md#district-demo: 20 % never start within 24 months, 3–5 % cancelled), never a
        real project of the news."""
        fulfil, start, build, effect = p.gaps
        if not cancellable:
            # A real project keeps to plan: 履约 within 40 days (R01 looks from the 61st), a start
            # within 170 days of the signing (R02 is red from the 180th), 达效 within 11 months of
            # production (R10 from the 12th). Its planned dates are its own (`_named_on_plan`).
            fulfil = min(fulfil, 40)
            p.gaps = (fulfil, min(start, 170 - fulfil), build, min(effect, 330))
            start = p.gaps[1]
        if not p.direct:
            signed = p.signed
            assert signed is not None
            fate = self.rng.random()
            if not cancellable:
                fate = 1.0  # drawn all the same: the other projects stay as they were
            p.fulfilled = signed + dt.timedelta(days=fulfil)
            p.started = None if fate < 0.20 else p.fulfilled + dt.timedelta(days=start)
            if fate < 0.04 and cancellable:
                p.cancelled = signed + dt.timedelta(days=self.rng.randint(90, 400))
                p.fulfilled = None if p.fulfilled >= p.cancelled else p.fulfilled
        self._from_start(p)
        self._plan(p)

    def _from_start(self, p: DemoProject) -> None:
        _, _, build, effect = p.gaps
        p.produced = None if p.started is None else p.started + dt.timedelta(days=build)
        p.effective = None if p.produced is None else p.produced + dt.timedelta(days=effect)

    def _plan(self, p: DemoProject) -> None:
        """倒排工期: planned dates from the day it entered, in stage order."""
        base = p.signed or p.started
        assert base is not None
        build = 330 if p.body["is_manufacturing"] else 540
        start = base + dt.timedelta(days=0 if p.direct else 120)
        plan = {
            "planned_fulfill_date": None if p.direct else base + dt.timedelta(days=45),
            "planned_start_date": start,
            "planned_completion_date": start + dt.timedelta(days=build - 60),
            "planned_production_date": start + dt.timedelta(days=build),
            "planned_effective_date": start + dt.timedelta(days=build + 365),
        }
        p.body.update({k: None if v is None else v.isoformat() for k, v in plan.items()})

    def start_on(self, p: DemoProject, day: dt.date) -> None:
        """The project starts at the event it is listed to start at."""
        p.started = day
        p.cancelled = None
        if p.fulfilled is not None and p.fulfilled > day:
            p.fulfilled = None  # SIGNED → UNDER_CONSTRUCTION directly (skipping 履约 is allowed)
        if p.direct:
            p.body["started_date"] = day.isoformat()
        self._from_start(p)

    # -- the periods ---------------------------------------------------------------------------

    def build(self) -> DemoDataset:
        rng = self.rng
        # Projects started before the 5th period (their START lists were periods 1–4, outside the
        # data set): the 5th and 6th production lists need something to convert.
        for _ in range(16):
            day = D(2020, 10, 1) + dt.timedelta(days=rng.randint(0, 540))
            self.new_project(direct=True, day=day)
        # The named projects signed off the lists, before the period that lists their start.
        for x in NAMED:
            if x.signed is not None:
                self.new_project(direct=False, day=x.signed, named=x)
        previous = D(2022, 4, 6)  # the 4th period
        for period in self.periods:
            self._period(period, previous)
            previous = period.event_date
        self._pin_amounts()
        self._calibrate_2023()
        self._named_on_plan()
        return DemoDataset(
            name="district",
            seed=self.seed,
            district=DISTRICT,
            parks=list(PARK_WEIGHTS),
            as_of=self.as_of,
            periods=self.periods,
            projects=self.projects,
            listings=self.listings,
            targets=[(2023, DISTRICT, k, v) for k, v in SEED_004_TARGETS_2023.items()],
        )

    def _named_on_plan(self) -> None:
        """The named projects' planned dates are the days they reach (a start moved to its
        event day, a production to its listing's): 倒排工期 that they keep, so that no node is
        overdue. No completion (竣工) node: the demo records none, and it would be overdue for
        the 60 days before production."""
        for p in self.projects:
            if not p.on_track:
                continue
            plan = {
                "planned_fulfill_date": None if p.direct else p.fulfilled,
                "planned_start_date": p.started,
                "planned_completion_date": None,
                "planned_production_date": p.produced,
                "planned_effective_date": p.effective,
            }
            p.body.update({k: None if v is None else v.isoformat() for k, v in plan.items()})

    def _between(self, start: dt.date, end: dt.date) -> dt.date:
        return start + dt.timedelta(days=self.rng.randint(1, (end - start).days))

    def _list(self, p: DemoProject, period: int, batch: str) -> None:
        self.listings.append(DemoListing(p.key, period, batch))

    def _period(self, period: DemoPeriod, previous: dt.date) -> None:
        rng, day, n = self.rng, period.event_date, period.number
        counts = FIXED_COUNTS.get(n) or {b: poisson(rng, m) for b, m in MEANS.items()}
        named = [x for x in NAMED if x.period == n]
        # ~40 signings a year (400亿 ÷ ~10亿, docs/domain.md#district-demo): ~10 a quarter, of which the SIGN list holds ~5.
        for _ in range(poisson(rng, 10) - counts["SIGN"]):
            self.new_project(direct=False, day=self._between(previous, day))
        # SIGN: signed at the event.
        signed_here = [
            self.new_project(direct=False, day=day, named=x) for x in named if x.batch == "SIGN"
        ]
        while len(signed_here) < counts["SIGN"]:
            signed_here.append(self.new_project(direct=False, day=day))
        for p in signed_here:
            self._list(p, n, "SIGN")
        # START: 70 % from earlier signings that have started by now, 30 % new direct starts.
        listed_start = {x.project_key for x in self.listings if x.batch == "START"}
        started_here: list[DemoProject] = []
        for x in named:
            if x.batch == "START":
                p = self.new_project(direct=True, day=day, named=x) if x.direct else next(q for q in self.projects if q.body["name"] == x.name)  # fmt: skip
                self.start_on(p, day)
                started_here.append(p)
        candidates = [
            p for p in self.projects
            if not p.direct and p.key not in listed_start and p not in started_here
            and p.started is not None and previous - dt.timedelta(days=120) < p.started <= day + dt.timedelta(days=60)
            and p.cancelled is None and (p.signed or day) < day and p.body["name"] not in NAMED_NAMES
        ]  # fmt: skip
        rng.shuffle(candidates)
        while len(started_here) < counts["START"]:
            if candidates and rng.random() < 0.7:
                p = candidates.pop()
            else:
                p = self.new_project(direct=True, day=day)
            self.start_on(p, day)
            started_here.append(p)
        for p in started_here:
            self._list(p, n, "START")
        # PRODUCE: only projects on an earlier START list (or started before the data set).
        earlier = {x.project_key for x in self.listings if x.batch == "START" and x.period < n}
        produced = {x.project_key for x in self.listings if x.batch == "PRODUCE"}
        ready = [
            p for p in self.projects
            if p.key not in produced and p.produced is not None and p.produced <= day + dt.timedelta(days=180)
            and (p.key in earlier or (p.direct and p.started is not None and p.started < D(2022, 4, 6)))
        ]  # fmt: skip
        ready.sort(key=lambda p: (p.key not in earlier, p.produced or day))
        for p in ready[: counts["PRODUCE"]]:
            if p.produced is not None and p.produced > day:
                p.produced = day
                p.effective = day + dt.timedelta(days=p.gaps[3])
            self._list(p, n, "PRODUCE")

    def _pin_amounts(self) -> None:
        """Scales the listed projects of the 5th and 7th periods to the amounts on record."""
        for (number, batch), target in FIXED_AMOUNTS.items():
            listed = [
                self._by_key(x.project_key)
                for x in self.listings
                if x.period == number and (batch is None or x.batch == batch)
            ]
            fixed = sum(p.amount for p in listed if p.key in self.pinned)
            free = [p for p in listed if p.key not in self.pinned]
            if not free:
                continue
            scale = (target - fixed) / max(1, sum(p.amount for p in free))
            for i, p in enumerate(free):
                remaining = target - fixed - sum(q.amount for q in free[:i])
                amount = remaining if i == len(free) - 1 else max(10_000, round(p.amount * scale))
                self._rescale(p, amount)
                self.pinned.add(p.key)
        # 5th SIGN's annual plan: 25.6亿 of 33.4亿 (77 %).
        for x in [x for x in self.listings if x.period == 5 and x.batch == "SIGN"]:
            p = self._by_key(x.project_key)
            p.body["annual_plan_investment"] = round(p.amount * 256 / 334)

    def _calibrate_2023(self) -> None:
        """Scales the 2023 signings and starts (those not on the 5th and 7th lists, whose
        amounts are on record) so that the year's totals, as the registry counts them on the
        demo's day, land on DEMO_2023: without it one seed signs 600亿, another 240亿."""
        counted = [p for p in self.projects if p.cancelled is None or p.cancelled > self.as_of]
        signed = [p for p in counted if not p.direct and p.signed and p.signed.year == 2023]
        free = [p for p in signed if p.key not in self.pinned]
        # At least DEMO_2023's count of manufacturing signings: the first others become so.
        short = DEMO_2023["MFG_SIGN_COUNT"] - sum(p.body["is_manufacturing"] for p in signed)
        for p in [p for p in free if not p.body["is_manufacturing"]][: max(0, int(short))]:
            p.body["is_manufacturing"] = True
            p.body["category"] = "ADVANCED_MANUFACTURING"
        total = DEMO_2023["SIGN_AMOUNT"]
        mfg_total = round(total * DEMO_2023["MFG_SHARE"])
        for mfg, target in ((True, mfg_total), (False, total - mfg_total)):
            group = [p for p in signed if p.body["is_manufacturing"] is mfg]
            self._scale_to(group, target, field_name="contract_amount")
        starts = [p for p in counted if p.started and p.started.year == 2023]
        self._scale_to(
            starts,
            DEMO_2023["NEW_START_INVESTMENT"],
            field_name="total_investment",
            keep={p.key for p in signed},
        )

    def _scale_to(
        self,
        group: list[DemoProject],
        target: float,
        *,
        field_name: str,
        keep: Collection[str] = (),
    ) -> None:
        """Rescales the group's free projects (not pinned, not in `keep`) so that the group's
        `field_name` sums to `target`, each project staying within [1亿, 200亿]."""
        fixed = sum(p.body[field_name] for p in group if p.key in self.pinned or p.key in keep)
        free = [p for p in group if p.key not in self.pinned and p.key not in keep]
        for _ in range(5):  # clipping at the bounds moves the sum: a few passes settle it
            now = sum(p.body[field_name] for p in free)
            if not free or now == 0 or abs(target - fixed - now) < 1_000:
                break
            ratio = max(0.0, target - fixed) / now
            for p in free:
                wanted = round(p.amount * ratio)
                self._rescale(p, min(2_000_000, max(10_000, wanted)))

    def _by_key(self, key: str) -> DemoProject:
        return next(p for p in self.projects if p.key == key)

    def _rescale(self, p: DemoProject, amount: int) -> None:
        ratio = amount / p.amount
        p.body["total_investment"] = amount
        for field_name in ("contract_amount", "annual_plan_investment", "expected_annual_output"):
            if p.body.get(field_name) is not None:
                p.body[field_name] = min(amount, round(p.body[field_name] * ratio)) if field_name != "expected_annual_output" else round(p.body[field_name] * ratio)  # fmt: skip


def district(seed: int = 2023) -> DemoDataset:
    """The 郑州高新区 demo: 12 periods (5th–16th), 4 parks, ~12 listings a period."""
    return _District(seed).build()


# --- the province benchmark -------------------------------------------------------------------------

CITIES = ["郑州", "开封", "洛阳", "平顶山", "安阳", "鹤壁", "新乡", "焦作", "濮阳", "许昌", "漯河", "三门峡", "南阳", "商丘", "信阳", "周口", "驻马店", "济源", "航空港区"]  # fmt: skip
# Zhengzhou and Luoyang hold ~9–10 % of the listings each (303/3325 in the 7th period, docs/domain.md#province-benchmark).
CITY_WEIGHTS = [0.095 if c in ("郑州", "洛阳") else 0.81 / 17 for c in CITIES]


def province_parks(seed: int = 15) -> list[str]:
    """~160 county-level units with 1–6 parks each (docs/domain.md#province-benchmark): about 560 park names."""
    rng = random.Random(seed)
    parks = []
    for city in CITIES:
        for county in range(1, 9 if city != "济源" else 3):
            parks += [f"{city}{county:02d}区{n}号园区" for n in range(1, rng.randint(1, 6) + 1)]
    return parks


def province_periods() -> list[DemoPeriod]:
    """The 1st–15th periods (July 2021 to January 2025)."""
    return quarterly_periods(1, 15, 2021, 7)


# Listings on record at the province (docs/domain.md#province-benchmark): signed, started, producing of the 4th, 8th
# and 15th periods; the 7th's 3,325 in all; the 9th's 1,220 signed and started and 1,072
# producing. Periods 1–6 listed 13,110 projects together.
PROVINCE_COUNTS = {4: (560, 1009, 785), 8: (651, 769, 907), 15: (610, 602, 1033)}
PROVINCE_TOTALS = {7: 3325}
PROVINCE_9TH = (1220, 1072)
PROVINCE_1_TO_6 = 13_110
# The whole set's listings: the middle of the 35–40k the per-period spread gives; the periods of
# 2023's last event and 2024 (10th–14th), with nothing on record, take what the others leave
# (about 2,800 each: 2024's events listed more than 2023's).
PROVINCE_LISTINGS = 37_500


def province_counts(rng: random.Random) -> dict[int, tuple[int, int, int]]:
    """Signed, started and producing listings of each period at 20,000 projects: the figures on
    record, the others drawn (signed ~N(620, 40), started ~N(800, 150), producing ~N(950, 100))
    and scaled so that periods 1–6 hold 13,110 and all fifteen PROVINCE_LISTINGS."""
    drawn = {
        n: (max(1.0, rng.gauss(620, 40)), max(1.0, rng.gauss(800, 150)), max(1.0, rng.gauss(950, 100)))
        for n in range(1, 16)
    }  # fmt: skip

    def scaled(draw: tuple[float, float, float], total: float) -> tuple[int, int, int]:
        factor = total / sum(draw)
        sign, start = round(draw[0] * factor), round(draw[1] * factor)
        return sign, start, round(total) - sign - start

    counts: dict[int, tuple[int, int, int]] = dict(PROVINCE_COUNTS)
    counts[7] = scaled(drawn[7], PROVINCE_TOTALS[7])
    sign_start = scaled((drawn[9][0], drawn[9][1], 0.0), PROVINCE_9TH[0])
    counts[9] = (sign_start[0], sign_start[1], PROVINCE_9TH[1])
    for group, total in (
        ([1, 2, 3, 5, 6], PROVINCE_1_TO_6 - sum(PROVINCE_COUNTS[4])),
        ([10, 11, 12, 13, 14], PROVINCE_LISTINGS - PROVINCE_1_TO_6 - sum(sum(counts[n]) for n in (7, 8, 9, 15))),
    ):  # fmt: skip
        factor = total / sum(sum(drawn[n]) for n in group)
        shares = [sum(drawn[n]) * factor for n in group]
        whole = [round(x) for x in shares]
        whole[-1] += round(total) - sum(whole)  # the group's total exactly
        for n, size in zip(group, whole, strict=True):
            counts[n] = scaled(drawn[n], size)
    return dict(sorted(counts.items()))


def province(projects: int = 20_000, seed: int = 15) -> DemoDataset:
    """The benchmark of docs/domain.md#province-benchmark: 15 periods, ~560 parks, `projects` unique projects with rolling
    SIGN → START → PRODUCE listings (signed ~620, started ~800, producing ~950 a period at 20k)."""
    rng = random.Random(seed)
    parks = province_parks(seed)
    by_city: dict[str, list[str]] = {}
    for park in parks:
        by_city.setdefault(next(c for c in CITIES if park.startswith(c)), []).append(park)
    scale = projects / 20_000
    periods = province_periods()
    made: list[DemoProject] = []
    listings: list[DemoListing] = []
    waiting_start: list[DemoProject] = []  # signed, not yet on a START list
    waiting_production: list[tuple[int, DemoProject]] = []  # (START period, project)

    def new(day: dt.date, direct: bool, mu: float) -> DemoProject | None:
        if len(made) >= projects:
            return None
        city = rng.choices(CITIES, CITY_WEIGHTS)[0]
        key = f"v{len(made) + 1:06d}"
        total = amount_wan(rng, mu, 1.1, 0.5, 300)
        if direct and rng.random() < 0.01:
            total = round(rng.uniform(50, 300) * 10_000)  # the ~1 % mega mixture
        body: dict[str, Any] = {
            "name": f"{city}{rng.choice(COMPANY_PREFIXES)}{rng.choice(list(INDUSTRY_WORDS.values()))}{rng.choice(PROJECT_KINDS)}{key[1:]}",
            "park": rng.choice(by_city[city]),
            "enterprise": {"name": f"{rng.choice(COMPANY_CITIES)}{rng.choice(COMPANY_PREFIXES)}科技有限公司"},
            "category": rng.choice(["ADVANCED_MANUFACTURING", "STRATEGIC_EMERGING", "MAJOR_INFRA", "MODERN_SERVICES", "SOCIAL_LIVELIHOOD", "OTHER"]),
            "chain_tag": rng.choice([*LEADING, *EMERGING, *FUTURE, "OTHER"]),
            "is_manufacturing": rng.random() < 0.45,
            "total_investment": total,
            "initial_stage": "UNDER_CONSTRUCTION" if direct else "SIGNED",
            ("started_date" if direct else "signed_date"): day.isoformat(),
        }  # fmt: skip
        project = DemoProject(key=key, body=body)
        made.append(project)
        return project

    counts = province_counts(rng)
    for period in periods:
        n, day = period.number, period.event_date
        sign, start, produce = (round(c * scale) for c in counts[n])
        waiting_production.sort(key=lambda item: item[0])
        ready = [item for item in waiting_production if item[0] < n][:produce]
        for item in ready:
            waiting_production.remove(item)
            listings.append(DemoListing(item[1].key, n, "PRODUCE"))
        # Too few earlier starts (the 1st period has none): projects started before the lists.
        for _ in range(produce - len(ready)):
            before = periods[0].event_date - dt.timedelta(days=rng.randint(200, 900))
            project = new(before, True, 1.0)
            if project is None:
                break
            listings.append(DemoListing(project.key, n, "PRODUCE"))
        for i in range(start):
            # 70 % from earlier signings, as in the district (docs/domain.md#district-demo).
            rolled = waiting_start.pop(0) if waiting_start and i % 10 < 7 else None
            project = rolled or new(day, True, 1.3)
            if project is None:
                break
            listings.append(DemoListing(project.key, n, "START"))
            waiting_production.append((n, project))
        for _ in range(sign):
            project = new(day, False, 1.55)
            if project is None:
                break
            listings.append(DemoListing(project.key, n, "SIGN"))
            waiting_start.append(project)
    while len(made) < projects:  # unlisted signings fill the rest
        new(periods[-1].event_date, False, 1.55)
    return DemoDataset(
        name="province",
        seed=seed,
        district="河南省",
        parks=parks,
        as_of=periods[-1].event_date,
        periods=periods,
        projects=made,
        listings=listings,
    )


def periods_by_key(data: DemoDataset) -> dict[str, dict[str, int]]:
    """project key → {batch: period}: the 签约/开工/投产期次 of each project."""
    found: dict[str, dict[str, int]] = {}
    for x in data.listings:
        found.setdefault(x.project_key, {})[x.batch] = x.period
    return found


T = TypeVar("T")


def chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
