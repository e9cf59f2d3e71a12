"""Milestone settings: SANPI_MILESTONE_* environment variables (shared ones may be SANPI_*).

Rule thresholds are nested: SANPI_MILESTONE_RULES__R04__RED=25 sets R04's red gap to 25 points."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, Field
from pydantic_settings import SettingsConfigDict

from sanpi.kit import Runtime, ServiceSettings


class R01Thresholds(BaseModel):
    """Signed, no 履约 evidence, in days since signing (Anqing's 2–3-month checks of land and
    capital; "more than 60 days" is 61 days or more)."""

    yellow_days: int = 61
    red_days: int = 91


class R02Thresholds(BaseModel):
    """Signed but not started (docs/domain.md#the-rule-book R02, Yinchuan practice)."""

    # Yellow once the planned start month has ended (+ this many months) without a start.
    yellow_months_after_start_month: int = 0
    # Red after 3 consecutive months past the planned start ...
    red_months_after_planned_start: int = 3
    # ... or 180 days since signing ("signed = can start within the year").
    red_days_since_signing: int = 180


class R03Thresholds(BaseModel):
    """Funds arrival low (资金到位率, projects with a contract amount): the latest reported funds
    arrived below this share of the contract amount, this many months after signing (Anqing:
    25 % within 3 months)."""

    min_share: float = 0.25
    yellow_months: int = 3
    red_months: int = 6


class R04Thresholds(BaseModel):
    """Investment completion behind 序时进度, in percentage points (Yinchuan lights)."""

    yellow: float = 10.0  # 0–10 points behind is green ("watch")
    red: float = 30.0


class R05Thresholds(BaseModel):
    """Milestone (node) overdue, in days (construction schedule warnings 7/15 days)."""

    yellow: int = 1
    orange: int = 8
    red: int = 15


class R06Thresholds(BaseModel):
    """No change in completed investment or physical progress (Guangshan: 2 weeks, 3 weeks)."""

    yellow_days: int = 14
    red_days: int = 21


class R07Thresholds(BaseModel):
    """旬/月 report missing after its deadline; red on consecutive misses."""

    yellow_missed: int = 1
    red_missed: int = 2


class R08Thresholds(BaseModel):
    """Started but not in statistics (入库纳统, the IN_STATISTICS milestone): more than this many
    months after the start (Yinchuan)."""

    yellow_months: int = 1
    red_months: int = 2


class R09Thresholds(BaseModel):
    """Under construction past the planned production date, in days late."""

    yellow: int = 1
    orange: int = 31
    red: int = 91


class R10Thresholds(BaseModel):
    """In production but not yet 达效, in months since production (docs/domain.md#the-rule-book R10: 12 and 24;
    output against design capacity is not reported to sanpi, so time alone decides)."""

    yellow_months: int = 12
    red_months: int = 24


class R11Thresholds(BaseModel):
    """Suspended too long, in days; red sooner when no 复工 (resume) date was planned."""

    yellow: int = 31
    red: int = 91
    red_without_resume_plan: int = 31


class R12Thresholds(BaseModel):
    """交办事项 (assigned issues) by the 13710 rule: feedback within 3 working days, a routine
    issue solved within 7 working days, a major one within a month; red at twice the time."""

    feedback_working_days: int = 3
    routine_working_days: int = 7
    major_months: int = 1
    red_multiple: int = 2


class R13Thresholds(BaseModel):
    """Cancellation candidate (清理): R02 red for more than this many months, or the investor's
    funding failed. Red only, and never a cancellation: the registry cancels, people decide."""

    r02_red_months: int = 12
    # The investor's funding failed: funds arrived still below R03's share (25 %) this many
    # months after signing (sanpi reads it from the reports; nobody has to declare it).
    funding_failed_months: int = 12


class R14Thresholds(BaseModel):
    """Portfolio conversion (签约项目开工率) of each period's signings, per park and district-wide,
    in percent (Junan: 80 % against a 100 % target)."""

    # A cohort's rate below the target is yellow, this many points below it red.
    target: float = 80.0
    red_below: float = 20.0
    # A signing is judged once it is this old: signed = "can start within the year", and R02
    # turns red 180 days after signing; a cohort signed last week is not "below target".
    judged_after_days: int = 180
    # Fewer judged signings than this in a cohort: silent (one project is R02's, not a rate).
    min_signings: int = 3


class R15Thresholds(BaseModel):
    """Annual target pace: attainment (签约额, 新开工投资额, 制造业签约额, 制造业签约个数) behind
    序时进度 by more than this many percentage points."""

    yellow: float = 10.0
    red: float = 20.0


class R16Thresholds(BaseModel):
    """Data quality: count of problems (downward corrections, physical % falling, completed >
    total, a milestone whose photos were not taken on its day)."""

    yellow: int = 1
    red: int = 2  # "repeated"
    lookback_days: int = 90


class R17Thresholds(BaseModel):
    """Blue pre-warning: a milestone due soon, a report deadline close."""

    milestone_days: int = 7
    report_days: int = 2


class R18Thresholds(BaseModel):
    """Slip forecast: days the projected start or production date lies past the plan in force,
    while that date is still ahead (sanpi's own rule)."""

    blue: int = 15
    yellow: int = 60


class RuleSettings(BaseModel):
    r01: R01Thresholds = Field(default_factory=R01Thresholds)
    r02: R02Thresholds = Field(default_factory=R02Thresholds)
    r03: R03Thresholds = Field(default_factory=R03Thresholds)
    r04: R04Thresholds = Field(default_factory=R04Thresholds)
    r05: R05Thresholds = Field(default_factory=R05Thresholds)
    r06: R06Thresholds = Field(default_factory=R06Thresholds)
    r07: R07Thresholds = Field(default_factory=R07Thresholds)
    r08: R08Thresholds = Field(default_factory=R08Thresholds)
    r09: R09Thresholds = Field(default_factory=R09Thresholds)
    r10: R10Thresholds = Field(default_factory=R10Thresholds)
    r11: R11Thresholds = Field(default_factory=R11Thresholds)
    r12: R12Thresholds = Field(default_factory=R12Thresholds)
    r13: R13Thresholds = Field(default_factory=R13Thresholds)
    r14: R14Thresholds = Field(default_factory=R14Thresholds)
    r15: R15Thresholds = Field(default_factory=R15Thresholds)
    r16: R16Thresholds = Field(default_factory=R16Thresholds)
    r17: R17Thresholds = Field(default_factory=R17Thresholds)
    r18: R18Thresholds = Field(default_factory=R18Thresholds)


class MilestoneSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="SANPI_MILESTONE_", extra="ignore", env_nested_delimiter="__"
    )

    SERVICE: ClassVar[str] = "milestone"

    port: int = 8002

    # Report deadlines (docs/domain.md#deadlines, R07): a 旬 report by the 旬's end + 2 days, a monthly
    # report by the 5th of the next month (豫政办〔2018〕38号).
    xun_report_grace_days: int = 2
    month_report_due_day: int = 5

    # The scheduled evaluation pass; 0 turns the schedule off (events still trigger evaluation).
    # 10 minutes: the finest rule unit is a day, so a pass every 10 minutes notices a new day
    # within minutes while costing one query round per pass.
    evaluation_interval_s: float = 600.0
    # Evaluate a project's rules again after every change to it (reports, milestones…), once
    # the change has committed and before it is answered: the projects of the transactions that
    # committed meanwhile (requests, consumer batches) are evaluated together in one pass.
    evaluate_on_events: bool = True
    # Worker processes that judge a full pass's projects beside the service's own process (0:
    # the service judges them alone). A full pass is CPU-bound Python: at province scale one
    # core takes ~4-6 s of it, and a worker on a second core nearly halves that (docs/
    # operations.md). Each worker holds a database connection and ~100 MiB.
    evaluation_workers: int = Field(default=0, ge=0, le=16)
    # Changed projects whose evaluation did not run (a crash, a failed pass) are evaluated by a
    # sweep this often, and at start-up; a change's mark younger than this is left to its own.
    evaluation_sweep_s: float = 5.0
    # A park's light: red when at least this share of its projects are red; yellow when any is
    # red, or this share is yellow or worse; green otherwise (docs/domain.md#colours).
    traffic_light_share: float = 0.2
    # The service holds the demo data set (`make up` loads it): bulletins say 演示数据 in their
    # header, as the demo lists real companies' projects with generated progress.
    demo_data: bool = False
    # Alert and traffic-light gauges are recounted this often (twice a 15 s scrape interval).
    metrics_refresh_s: float = 30.0

    rules: RuleSettings = Field(default_factory=RuleSettings)
    # The scope of district-wide targets (the registry's SANPI_REGISTRY_DISTRICT): a target.set
    # for this scope is the district's, any other scope is a park's (R15).
    district: str = "郑州高新区"
    # The bulletin (通报) reads the district's indicators from the registry's API (never its
    # database), as a viewer with a token of a minute. Local `make up` runs it on 8001.
    registry_url: str = "http://127.0.0.1:8001"
    # How long the bulletin waits for the registry's answer (it reads the ledger in milliseconds;
    # 10 s is a registry that is down or overloaded: the bulletin then answers 503).
    registry_timeout_s: float = 10.0

    # Evidence photos (POST /v1/projects/{id}/evidence) are stored here, one file per SHA-256;
    # empty means <data_dir>/evidence.
    evidence_dir: str = ""
    # The largest photo accepted: a phone's 48-megapixel JPEG is 5–8 MB.
    evidence_max_bytes: int = 10 * 1024 * 1024
    # Pixels (width × height) a photo may declare, checked before any pixel is decoded: a 48 MP
    # phone camera (8000 × 6000) fits; a decompression bomb (a few KB of PNG declaring 100,000 ×
    # 100,000) does not. Pillow's own warning threshold is 89 M.
    evidence_max_pixels: int = 60_000_000
    # A batch request (POST /v1/progress/batch) may be this large: 500 rows with long narratives.
    batch_max_bytes: int = 8 * 1024 * 1024
    # A 旬报 sheet (POST /v1/progress/import) holds a row per project: a province's 20,000
    # projects fit twice.
    report_sheet_max_rows: int = 50_000
    # A 旬报 sheet's file may be this large (20,000 rows of XLSX are ~2 MB); larger is a 422.
    report_sheet_max_bytes: int = 32 * 1024 * 1024

    @property
    def effective_evidence_dir(self) -> Path:
        return Path(self.evidence_dir) if self.evidence_dir else self.data_dir / "evidence"


def settings_of(runtime: Runtime) -> MilestoneSettings:
    """The running service's settings, typed (a route's or a job's Runtime)."""
    settings = runtime.settings
    assert isinstance(settings, MilestoneSettings)
    return settings
