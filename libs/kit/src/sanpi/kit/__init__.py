"""sanpi.kit: what every sanpi service is built from (imported, never run on its own)."""

from sanpi.kit.app import (
    ReadSessionDep,
    Runtime,
    RuntimeDep,
    ServiceSpec,
    UnitOfWorkDep,
    create_service_app,
)
from sanpi.kit.auth import (
    SERVICE_AUDIENCES,
    Admin,
    Authenticated,
    Principal,
    Role,
    Writer,
    audience_of,
    issue_token,
    require_roles,
    service_token,
    verify_token,
)
from sanpi.kit.clock import (
    CAMPAIGN_TZ,
    AsOfDay,
    CampaignDate,
    Clock,
    FixedClock,
    SystemClock,
    today,
)
from sanpi.kit.concurrency import IfMatch, check_version, check_versions, etag, parse_if_match
from sanpi.kit.consumer import EventConsumer, Handlers, Outcome
from sanpi.kit.db import Database, UTCDateTime, utcnow
from sanpi.kit.errors import (
    Conflict,
    FieldProblem,
    Forbidden,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    Problem,
    ServiceUnavailable,
    Unauthorized,
)
from sanpi.kit.idempotency import IdempotencyKey, run_idempotent
from sanpi.kit.migrations import KIT_TABLES, Migrations
from sanpi.kit.outbox import OutboxMessage, OutboxRelay, PendingEvent
from sanpi.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, decode_cursor, encode_cursor
from sanpi.kit.settings import ServiceSettings
from sanpi.kit.slots import CommitSignal, Slot
from sanpi.kit.unit_of_work import Reading, UnitOfWork

__all__ = [
    "CAMPAIGN_TZ",
    "DEFAULT_LIMIT",
    "KIT_TABLES",
    "MAX_LIMIT",
    "SERVICE_AUDIENCES",
    "Admin",
    "AsOfDay",
    "Authenticated",
    "CampaignDate",
    "Clock",
    "CommitSignal",
    "Conflict",
    "Database",
    "EventConsumer",
    "FieldProblem",
    "FixedClock",
    "Forbidden",
    "Handlers",
    "IdempotencyKey",
    "IfMatch",
    "InvalidInput",
    "Migrations",
    "NotFound",
    "OutboxMessage",
    "OutboxRelay",
    "Outcome",
    "Page",
    "PendingEvent",
    "PreconditionFailed",
    "Principal",
    "Problem",
    "ReadSessionDep",
    "Reading",
    "Role",
    "Runtime",
    "RuntimeDep",
    "ServiceSettings",
    "ServiceSpec",
    "ServiceUnavailable",
    "Slot",
    "SystemClock",
    "UTCDateTime",
    "Unauthorized",
    "UnitOfWork",
    "UnitOfWorkDep",
    "Writer",
    "audience_of",
    "check_version",
    "check_versions",
    "create_service_app",
    "decode_cursor",
    "encode_cursor",
    "etag",
    "issue_token",
    "parse_if_match",
    "require_roles",
    "run_idempotent",
    "service_token",
    "today",
    "utcnow",
    "verify_token",
]
