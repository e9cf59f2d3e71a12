"""Event models, one module per producing service (each service writes only its own topic)."""

from sanpi.events.models.alerts import AlertEvent, AlertRaised, AlertResolved, AlertUpdated
from sanpi.events.models.base import ProjectEvent
from sanpi.events.models.milestones import (
    EvidencePhoto,
    MilestoneAchieved,
    MilestoneDueSoon,
    MilestoneOverdue,
    MilestoneReplanned,
    ProgressReported,
    ProjectStageChanged,
)
from sanpi.events.models.notifications import (
    NotificationAcknowledged,
    NotificationDelivered,
    NotificationEndpointDisabled,
    NotificationEscalated,
    NotificationFailed,
)
from sanpi.events.models.projects import (
    EnterpriseInfo,
    PeriodClosed,
    PeriodEvent,
    PeriodHeld,
    PeriodOpened,
    ProjectCancelled,
    ProjectListed,
    ProjectMasterData,
    ProjectRegistered,
    ProjectUpdated,
    TargetSet,
)

__all__ = [
    "AlertEvent",
    "AlertRaised",
    "AlertResolved",
    "AlertUpdated",
    "EnterpriseInfo",
    "EvidencePhoto",
    "MilestoneAchieved",
    "MilestoneDueSoon",
    "MilestoneOverdue",
    "MilestoneReplanned",
    "NotificationAcknowledged",
    "NotificationDelivered",
    "NotificationEndpointDisabled",
    "NotificationEscalated",
    "NotificationFailed",
    "PeriodClosed",
    "PeriodEvent",
    "PeriodHeld",
    "PeriodOpened",
    "ProgressReported",
    "ProjectCancelled",
    "ProjectEvent",
    "ProjectListed",
    "ProjectMasterData",
    "ProjectRegistered",
    "ProjectStageChanged",
    "ProjectUpdated",
    "TargetSet",
]
