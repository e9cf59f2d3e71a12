"""What the campaign's codes are called on the pages: stages, milestones, severities, rules,
categories. The msgids are marked here and translated where shown (the catalogue holds Chinese);
a vocabulary sanpi.events names in Chinese takes its Chinese from there (`Named`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar

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
from sanpi.events.vocabulary import (
    ALERT_RULE_EN,
    ALERT_RULE_ZH,
    BATCH_ZH,
    ISSUE_CATEGORY_LABELS,
    MILESTONE_KIND_EN,
    MILESTONE_KIND_ZH,
    STAGE_ZH,
    TARGET_EN,
    TARGET_ZH,
)
from sanpi.kit import Role
from sanpi.portal.i18n import N_, _, language

K = TypeVar("K", bound=StrEnum)


@dataclass(frozen=True)
class Named(Generic[K]):
    """A vocabulary whose Chinese lives in sanpi.events: the pages show `zh` in Chinese and the
    portal's own `en` in English, with no catalogue entry in between."""

    codes: type[K]
    zh: Mapping[K, str]
    en: Mapping[K, str]

    def get(self, code: str) -> str | None:
        try:
            member = self.codes(code)
        except ValueError:
            return None
        return (self.zh if language() == "zh" else self.en).get(member)


# Stages, batches and targets are named in Chinese once, in sanpi.events (the registry's sheets
# and the bulletin say them too); the portal adds the English.
STAGES = Named(
    Stage,
    zh=STAGE_ZH,
    en={
        Stage.SIGNED: "Signed",
        Stage.FULFILLING: "Fulfilling",
        Stage.UNDER_CONSTRUCTION: "Under construction",
        Stage.IN_PRODUCTION: "In production",
        Stage.EFFECTIVE: "Effective",
        Stage.SUSPENDED: "Suspended",
        Stage.CANCELLED: "Cancelled",
    },
)

# Stages in which a project still reports progress (the batch 旬报 lists these).
REPORTING_STAGES = (Stage.SIGNED, Stage.FULFILLING, Stage.UNDER_CONSTRUCTION, Stage.IN_PRODUCTION)

# Milestone kinds are named in Chinese once, in sanpi.events (the alerts, the timeline and the
# bulletin say them too), and in English once there too (the alerts' English says them). Plain
# strings, not msgids: a catalogue entry would be a second Chinese name to keep equal.
MILESTONES = Named(
    MilestoneKind,
    zh=MILESTONE_KIND_ZH,
    en=MILESTONE_KIND_EN,
)

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

# Rules are named once, in sanpi.events (the messages, the digests and the rule book say the same
# words); the pages start the English with a capital.
RULES = Named(
    AlertRule,
    zh=ALERT_RULE_ZH,
    en={rule: name[:1].upper() + name[1:] for rule, name in ALERT_RULE_EN.items()},
)

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

# Named in Chinese in sanpi.events too (the milestone service's issue texts say them).
ISSUE_CATEGORIES = Named(
    IssueCategory,
    zh=ISSUE_CATEGORY_LABELS,
    en={
        IssueCategory.LAND: "Land paperwork",
        IssueCategory.APPROVAL: "Approvals",
        IssueCategory.FUNDING: "Funding",
        IssueCategory.POWER: "Power connection",
        IssueCategory.DEMOLITION: "Demolition and relocation",
        IssueCategory.OTHER: "Other matters",
    },
)

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

BATCHES = Named(
    BatchType,
    zh=BATCH_ZH,
    en={
        BatchType.SIGN: "Signing batch",
        BatchType.START: "Start batch",
        BatchType.PRODUCE: "Production batch",
    },
)

PERIOD_STATUSES: dict[str, str] = {
    PeriodStatus.PLANNED: N_("Planned"),
    PeriodStatus.OPEN_FOR_DECLARATION: N_("Open for declaration"),
    PeriodStatus.HELD: N_("Held"),
    PeriodStatus.CLOSED: N_("Closed"),
}

TARGETS = Named(
    TargetKind,
    zh=TARGET_ZH,
    en=TARGET_EN,
)

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


def label(table: dict[str, str] | Named[Any], code: str | None) -> str:
    """The translated name of `code`, or the code itself when the table does not know it."""
    if code is None:
        return ""
    if isinstance(table, Named):
        return table.get(code) or code
    msgid = table.get(code)
    return _(msgid) if msgid else code
