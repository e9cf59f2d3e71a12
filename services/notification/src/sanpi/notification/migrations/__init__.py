"""The notification's schema history (Alembic): its tables and the folder of its revisions."""

from pathlib import Path

from sanpi.kit.migrations import Migrations
from sanpi.notification.channels.ledger import RobotSendSlot
from sanpi.notification.contacts.models import Contact
from sanpi.notification.delivery.models import Delivery, DeliveryAttempt, DeliveryEvent
from sanpi.notification.digests.models import DigestBulletin, DigestSent
from sanpi.notification.escalation.models import AlertFollow, AlertState
from sanpi.notification.routing.models import ProjectView
from sanpi.notification.stream.models import StreamEvent
from sanpi.notification.subscriptions.models import Subscription
from sanpi.notification.supervision.models import SupervisionItem

MIGRATIONS = Migrations(
    service="notification",
    directory=Path(__file__).parent,
    tables=(
        Subscription,
        Delivery,
        DeliveryEvent,
        DeliveryAttempt,
        ProjectView,
        AlertState,
        AlertFollow,
        StreamEvent,
        Contact,
        SupervisionItem,
        DigestSent,
        DigestBulletin,
        RobotSendSlot,
    ),
)
