"""What the campaign's codes are called on the pages: stages, milestones, severities, rules,
categories. The msgids are marked here and translated where shown (the catalogue holds Chinese)."""

from __future__ import annotations

from sanpi.events import (
    AlertRule,
    BatchType,
    Category,
    ChainTag,
    IssueCategory,
    IssueStatus,
    IssueTerm,
    MilestoneKind,
    PeriodStatus,
    Severity,
    Stage,
    TargetKind,
)
from sanpi.kit import Role
from sanpi.portal.i18n import N_, _

STAGES: dict[str, str] = {
    Stage.SIGNED: N_("Signed"),
    Stage.FULFILLING: N_("Fulfilling"),
    Stage.UNDER_CONSTRUCTION: N_("Under construction"),
    Stage.IN_PRODUCTION: N_("In production"),
    Stage.EFFECTIVE: N_("Effective"),
    Stage.SUSPENDED: N_("Suspended"),
    Stage.CANCELLED: N_("Cancelled"),
}

# Stages in which a project still reports progress (the batch 旬报 lists these).
REPORTING_STAGES = (Stage.SIGNED, Stage.FULFILLING, Stage.UNDER_CONSTRUCTION, Stage.IN_PRODUCTION)

MILESTONES: dict[str, str] = {
    MilestoneKind.SIGNED: N_("Signed (milestone)"),
    MilestoneKind.FULFILLED: N_("Contract fulfilled"),
    MilestoneKind.LAND_ACQUIRED: N_("Land acquired"),
    MilestoneKind.PLANNING_PERMIT: N_("Planning permit"),
    MilestoneKind.CONSTRUCTION_PERMIT: N_("Construction permit"),
    MilestoneKind.STARTED: N_("Construction started"),
    MilestoneKind.TOPPED_OUT: N_("Topped out"),
    MilestoneKind.EQUIPMENT_IN: N_("Equipment installed"),
    MilestoneKind.COMPLETED: N_("Construction completed"),
    MilestoneKind.TRIAL_PRODUCTION: N_("Trial production"),
    MilestoneKind.IN_PRODUCTION: N_("Production started"),
    MilestoneKind.EFFECTIVE: N_("Target output reached"),
    MilestoneKind.IN_STATISTICS: N_("Entered in statistics"),
    MilestoneKind.CUSTOM: N_("Other milestone"),
}

# Milestones the service refuses without a dated photo or document.
NEEDS_EVIDENCE = (MilestoneKind.STARTED, MilestoneKind.IN_PRODUCTION)

# Colour words: a severity is never shown by colour alone.
SEVERITIES: dict[str, str] = {
    Severity.RED: N_("Red"),
    Severity.ORANGE: N_("Orange"),
    Severity.YELLOW: N_("Yellow"),
    Severity.BLUE: N_("Blue"),
    Severity.GREEN: N_("Green"),
}
SEVERITY_ORDER = (Severity.RED, Severity.ORANGE, Severity.YELLOW, Severity.BLUE, Severity.GREEN)

RULES: dict[str, str] = {
    AlertRule.R01: N_("Signed, contract not yet fulfilled"),
    AlertRule.R02: N_("Signed but not started"),
    AlertRule.R03: N_("Funds arrival low"),
    AlertRule.R04: N_("Investment behind time progress"),
    AlertRule.R05: N_("Milestone overdue"),
    AlertRule.R06: N_("No substantive progress"),
    AlertRule.R07: N_("Progress report missing"),
    AlertRule.R08: N_("Started but not in statistics"),
    AlertRule.R09: N_("Production date passed"),
    AlertRule.R10: N_("In production, target output not reached"),
    AlertRule.R11: N_("Suspended too long"),
    AlertRule.R12: N_("Assigned issue overdue"),
    AlertRule.R13: N_("Candidate for clearing out"),
    AlertRule.R14: N_("Conversion rate below target"),
    AlertRule.R15: N_("Annual target pace behind"),
    AlertRule.R16: N_("Data quality problem"),
    AlertRule.R17: N_("Deadline approaching"),
    AlertRule.R18: N_("Projected to miss the plan"),
}

# What each rule checks, in a sentence (docs/domain.md#the-rule-book), shown beside it.
RULE_TEXTS: dict[str, str] = {
    AlertRule.R01: N_("No fulfilment evidence 60 days (yellow) or 90 days (red) after signing."),
    AlertRule.R02: N_(
        "The planned start month ended without a start (yellow); 3 months past it or 180 days "
        "since signing (red)."
    ),
    AlertRule.R03: N_("Less than 25% of the contracted capital arrived 3 months after signing."),
    AlertRule.R04: N_(
        "Completed investment behind time progress by 10 to 30 points (yellow) or more (red)."
    ),
    AlertRule.R05: N_("A milestone is past its date: 1 day (yellow), 8 (orange), 15 (red)."),
    AlertRule.R06: N_(
        "No change in investment or physical progress for 2 weeks (yellow), 3 (red)."
    ),
    AlertRule.R07: N_("A 10-day or monthly report was not submitted by its deadline."),
    AlertRule.R08: N_("Started more than a month ago and not yet in the statistics."),
    AlertRule.R09: N_("The planned production date has passed."),
    AlertRule.R10: N_("In production for a year and output below half of the design."),
    AlertRule.R11: N_("Suspended for more than 30 days (yellow) or 90 days (red)."),
    AlertRule.R12: N_("An assigned issue is past its due time."),
    AlertRule.R13: N_("Red for signed-not-started over a year: review for clearing out."),
    AlertRule.R14: N_("The park's conversion rate is below its target."),
    AlertRule.R15: N_("Annual target attainment is behind time progress."),
    AlertRule.R16: N_("Reported figures contradict each other or earlier reports."),
    AlertRule.R17: N_("A milestone or report is due within days."),
    AlertRule.R18: N_(
        "At the pace so far the start or production date will be missed by 15 days (blue) or "
        "60 days (yellow)."
    ),
}

CATEGORIES: dict[str, str] = {
    Category.ADVANCED_MANUFACTURING: N_("Advanced manufacturing"),
    Category.STRATEGIC_EMERGING: N_("Strategic emerging industry"),
    Category.DIGITAL_NEW_INFRA: N_("Digital economy and new infrastructure"),
    Category.MAJOR_INFRA: N_("Major infrastructure"),
    Category.MODERN_SERVICES: N_("Modern services"),
    Category.SOCIAL_LIVELIHOOD: N_("Social livelihood"),
    Category.OTHER: N_("Other category"),
}

ISSUE_CATEGORIES: dict[str, str] = {
    IssueCategory.LAND: N_("Land paperwork"),
    IssueCategory.APPROVAL: N_("Approvals"),
    IssueCategory.FUNDING: N_("Funding"),
    IssueCategory.POWER: N_("Power connection"),
    IssueCategory.DEMOLITION: N_("Demolition and relocation"),
    IssueCategory.OTHER: N_("Other matters"),
}

ISSUE_TERMS: dict[str, str] = {
    IssueTerm.ROUTINE: N_("Routine (7 working days)"),
    IssueTerm.MAJOR: N_("Major (1 month)"),
}

ISSUE_STATUSES: dict[str, str] = {
    IssueStatus.OPEN: N_("Waiting for feedback"),
    IssueStatus.IN_PROGRESS: N_("Feedback given, in hand"),
    IssueStatus.CLOSED: N_("Closed out"),
}

CHAINS: dict[str, str] = {
    ChainTag.IOT: N_("Internet of things"),
    ChainTag.ELECTRONIC_INFORMATION: N_("Electronic information"),
    ChainTag.BEIDOU: N_("BeiDou applications"),
    ChainTag.NEW_MATERIALS: N_("New materials"),
    ChainTag.COMPUTING: N_("Computing"),
    ChainTag.HYDROGEN_STORAGE: N_("Hydrogen and energy storage"),
    ChainTag.LIFE_HEALTH: N_("Life and health"),
    ChainTag.NEXT_GEN_IT: N_("Next-generation IT"),
    ChainTag.QUANTUM: N_("Quantum information"),
    ChainTag.BRAIN_INSPIRED: N_("Brain-inspired intelligence"),
    ChainTag.FUTURE_NETWORK: N_("Future networks"),
    ChainTag.FRONTIER_MATERIALS: N_("Frontier materials"),
    ChainTag.OTHER: N_("Other chain"),
}

BATCHES: dict[str, str] = {
    BatchType.SIGN: N_("Signing batch"),
    BatchType.START: N_("Start batch"),
    BatchType.PRODUCE: N_("Production batch"),
}

PERIOD_STATUSES: dict[str, str] = {
    PeriodStatus.PLANNED: N_("Planned"),
    PeriodStatus.OPEN_FOR_DECLARATION: N_("Open for declaration"),
    PeriodStatus.HELD: N_("Held"),
    PeriodStatus.CLOSED: N_("Closed"),
}

TARGETS: dict[str, str] = {
    TargetKind.SIGN_AMOUNT: N_("Amount signed by new projects"),
    TargetKind.NEW_START_INVESTMENT: N_("Investment of newly started projects"),
    TargetKind.MFG_SIGN_AMOUNT: N_("Amount signed by manufacturing projects"),
    TargetKind.MFG_SIGN_COUNT: N_("Manufacturing projects signed"),
}

ROLES: dict[str, str] = {
    Role.ADMIN: N_("Administrator"),
    Role.OPERATOR: N_("Park operator"),
    Role.VIEWER: N_("Viewer"),
}

CHANNELS: dict[str, str] = {
    "webhook": N_("Webhook"),
    "email": N_("E-mail"),
    "inbox": N_("Inbox"),
    "stream": N_("Live stream"),
    "wecom": N_("WeCom group robot"),
    "dingtalk": N_("DingTalk group robot"),
    "feishu": N_("Feishu group robot"),
}

def label(table: dict[str, str], code: str | None) -> str:
    """The translated name of `code`, or the code itself when the table does not know it."""
    if code is None:
        return ""
    msgid = table.get(code)
    return _(msgid) if msgid else code
