"""The milestone's schema history (Alembic): its tables and the folder of its revisions."""

from pathlib import Path

from sanpi.kit.migrations import Migrations
from sanpi.milestone.assigned.models import AssignedIssue, IssueFeedback
from sanpi.milestone.evidence.models import EvidenceFile, PhotoFinding
from sanpi.milestone.lifecycle.models import StageChange, TrackedProject
from sanpi.milestone.nodes.models import Milestone, MilestoneBaseline
from sanpi.milestone.progress.models import InvestmentPlan, ProgressReport
from sanpi.milestone.rules.models import Alert, EvaluationDue, PinnedDate, PortfolioTarget
from sanpi.milestone.timeline.models import TimelineEntry

MIGRATIONS = Migrations(
    service="milestone",
    directory=Path(__file__).parent,
    tables=(
        TrackedProject,
        StageChange,
        Milestone,
        MilestoneBaseline,
        InvestmentPlan,
        ProgressReport,
        Alert,
        PinnedDate,
        EvaluationDue,
        PortfolioTarget,
        TimelineEntry,
        EvidenceFile,
        PhotoFinding,
        AssignedIssue,
        IssueFeedback,
    ),
)
