"""Digest rules: which slots are due, what a digest says (per park: turned red, still red,
resolved since the last one), and queuing it once per slot as one delivery of the subscription."""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import AlertRaised, Severity
from sanpi.kit import Database, Page, Principal, UnitOfWork
from sanpi.kit.pagination import created_key_after, page_by_created
from sanpi.kit.retention import Retained
from sanpi.notification import metrics
from sanpi.notification.channels.templates import Kind
from sanpi.notification.delivery import service as delivery
from sanpi.notification.digests import bulletin as bulletins
from sanpi.notification.digests import repository
from sanpi.notification.digests.bulletin import BulletinSource, Unavailable
from sanpi.notification.digests.models import DigestBulletin, DigestSent
from sanpi.notification.digests.schedule import DigestKind, Plan, Slot, due_now
from sanpi.notification.digests.schemas import DigestPublic
from sanpi.notification.escalation.models import AlertState
from sanpi.notification.routing.filters import Filter, Routing, matches
from sanpi.notification.settings import NotificationSettings
from sanpi.notification.subscriptions import service as subscriptions
from sanpi.notification.subscriptions.models import Subscription
from sanpi.notification.subscriptions.repository import with_digest

log = logging.getLogger("sanpi.notification.digests")

# Not a domain event: it exists only inside the digest notification that carries it.
DIGEST_EVENT_TYPE = "sanpi.notification.digest.v1"
KINDS = {DigestKind.DAILY: Kind.DAILY_DIGEST, DigestKind.XUN: Kind.XUN_DIGEST}
DIGEST_KINDS = frozenset(KINDS.values())
# Digest ids are derived from the slot, so that the carried event of one slot is one id
# whichever replica makes it (a second guard beside the unique slot).
_NAMESPACE = uuid.UUID("6f1d3c1e-5b0a-4d4e-9a57-3c2f7d1e8b90")


def retained(settings: NotificationSettings) -> list[Retained]:
    """The digests and their bulletins, kept as long as the delivery log they went out through."""
    return repository.retained(settings.delivery_retention_days * 86400)


def plan_of(subscription: Subscription) -> Plan:
    return Plan.of(
        subscription.digest_daily_at,
        subscription.digest_xun_at,
        subscription.digest_working_days_only,
    )


@dataclass(frozen=True)
class Due:
    """A slot due for a subscription, with the window its digest covers."""

    subscription: Subscription
    slot: Slot
    window_start: dt.datetime


def due_slots(
    subscriptions_: Iterable[Subscription],
    latest_sent: dict[tuple[str, str], DigestSent],
    now: dt.datetime,
) -> list[Due]:
    """The slot of each subscription and kind that is due now (schedule.due_now) and not sent
    yet. Never an older one: a service that was down over several slots sends one digest,
    covering them all. A slot due before the digest was asked for is not its to send."""
    found = []
    for subscription in subscriptions_:
        plan = plan_of(subscription)
        for kind in plan.kinds:
            slot = due_now(plan, kind, now)
            since = subscription.digest_since or subscription.created_at
            if slot is None or slot.due_at < since:
                continue
            last = latest_sent.get((subscription.id, kind.value))
            if last is not None and (last.slot == slot.key or last.due_at >= slot.due_at):
                continue
            start = last.window_end if last is not None else since
            found.append(Due(subscription, slot, start))
    return found


def _item(state: AlertState, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "alert_key": state.alert_key,
        "project_id": state.project_id,
        "project_name": data.get("project_name"),
        "rule": data.get("rule"),
        "title": data.get("title"),
        # English readers' words (absent from an event raised before it carried them).
        "title_en": data.get("title_en") or None,
        "severity": state.severity if state.firing else "resolved",
        "red_since": state.red_since.isoformat() if state.red_since else None,
        "red_ended_at": state.red_ended_at.isoformat() if state.red_ended_at else None,
        "acknowledged_by": state.acknowledged_by,
    }


def _routing(data: dict[str, Any]) -> Routing:
    """An alert as a subscription's filter sees it, red (what a digest is about)."""
    return Routing(
        event_type=AlertRaised.TYPE,
        severity=Severity.RED,
        park=data.get("park"),
        chain_tag=data.get("chain_tag"),
        category=data.get("category"),
        periods=frozenset(data.get("periods") or ()),
        project_id=data.get("project_id"),
        total_investment=data.get("total_investment"),
        alert_key=data.get("alert_key"),
    )


def sections(
    states: Sequence[AlertState],
    wanted: Filter,
    *,
    window_start: dt.datetime,
    window_end: dt.datetime,
) -> list[dict[str, Any]]:
    """Per park (named parks by name, the district's own alerts last): the alerts that turned
    red in the window, those red since before it, and those whose red ended in it (pure)."""
    parks: dict[str | None, dict[str, list[dict[str, Any]]]] = {}
    for state in states:
        data: dict[str, Any] = json.loads(state.last_payload).get("data", {})
        if not matches(wanted, _routing(data)):
            continue
        red = state.firing and state.severity == Severity.RED.value
        if red and state.red_since is not None and state.red_since > window_start:
            section = "turned_red"
        elif red:
            section = "still_red"
        elif state.red_ended_at is not None and window_start < state.red_ended_at <= window_end:
            section = "resolved"
        else:
            continue
        park = parks.setdefault(state.park, {"turned_red": [], "still_red": [], "resolved": []})
        park[section].append(_item(state, data))
    out = []
    for name in sorted(parks, key=lambda p: (p is None, p or "")):
        found = parks[name]
        for items in found.values():
            items.sort(key=lambda i: (i.get("red_since") or "", i["alert_key"]))
        out.append({"park": name, **found})
    return out


@dataclass(frozen=True)
class BulletinNote:
    """What a 旬 digest says of its 旬's bulletin: where to open it and the attachment's name, or
    why it is missing (Chinese, as the milestone service's answer was)."""

    period: str
    url: str | None = None
    filename: str | None = None
    missing: str | None = None

    def fields(self) -> dict[str, Any]:
        if self.missing is not None:
            return {"bulletin_period": self.period, "bulletin_missing": self.missing}
        return {
            "bulletin_period": self.period,
            "bulletin_url": self.url,
            "bulletin_filename": self.filename,
        }


def payload(
    due: Due,
    parks: list[dict[str, Any]],
    *,
    now: dt.datetime,
    bulletin: BulletinNote | None = None,
) -> dict[str, Any]:
    """What a digest says, as the data of the event its delivery carries (the webhook's
    envelope holds it; the message is rendered from it)."""
    subscription, slot = due.subscription, due.slot
    return {
        **(bulletin.fields() if bulletin is not None else {}),
        "subscription_id": subscription.id,
        "kind": slot.kind.value,
        "slot": slot.key,
        "due_at": slot.due_at.isoformat(),
        "window_start": due.window_start.isoformat(),
        "window_end": now.isoformat(),
        "working_days_only": subscription.digest_working_days_only,
        "unknown_calendar_year": slot.unknown_year,
        "totals": {
            section: sum(len(p[section]) for p in parks)
            for section in ("turned_red", "still_red", "resolved")
        },
        "parks": parks,
    }


async def _queue(
    uow: UnitOfWork, due: Due, *, now: dt.datetime, bulletin: BulletinNote | None
) -> DigestSent:
    """The digest row, its delivery and the payload it carries, in the caller's unit of work."""
    session = uow.session
    subscription, slot = due.subscription, due.slot
    states = await repository.red_or_ended_since(session, due.window_start)
    parks = sections(
        states,
        subscriptions.filter_of(subscription),
        window_start=due.window_start,
        window_end=now,
    )
    data = payload(due, parks, now=now, bulletin=bulletin)
    queued = delivery.queue_own_event(
        uow,
        subscription,
        kind=KINDS[slot.kind],
        event_type=DIGEST_EVENT_TYPE,
        data=data,
        event_id=str(uuid.uuid5(_NAMESPACE, f"{subscription.id}|{slot.kind}|{slot.key}")),
        now=now,
        urgent=False,
    )
    totals = data["totals"]
    row = DigestSent(
        subscription_id=subscription.id,
        kind=slot.kind.value,
        slot=slot.key,
        due_at=slot.due_at,
        window_start=due.window_start,
        window_end=now,
        turned_red=totals["turned_red"],
        still_red=totals["still_red"],
        resolved=totals["resolved"],
        delivery_id=queued.id,
        created_at=now,
    )
    repository.add(session, row)
    return row


async def bulletin_of(
    db: Database, source: BulletinSource, period: str, *, now: dt.datetime
) -> BulletinNote:
    """The 旬's bulletin, stored once (the first replica to fetch it keeps its copy), or why it
    could not be had: the digests then go out without it and say so."""
    async with db.read() as session:
        stored = await repository.bulletin(session, period)
    if stored is None:
        try:
            content = await source.pdf(period)
        except Unavailable as exc:
            log.warning("旬 %s: the digests go without the bulletin: %s", period, exc.reason)
            return BulletinNote(period, missing=exc.reason)
        try:
            async with db.transaction() as uow:
                repository.add(
                    uow.session,
                    DigestBulletin(
                        period=period,
                        filename=bulletins.filename(period),
                        content=content,
                        fetched_at=now,
                    ),
                )
        except sa_exc.IntegrityError:
            log.info("旬 %s: bulletin stored by another replica first", period)
    return BulletinNote(
        period, url=bulletins.link(source.settings, period), filename=bulletins.filename(period)
    )


async def run_due(
    db: Database, *, now: dt.datetime, bulletins_from: BulletinSource | None = None
) -> list[DigestSent]:
    """Queues every digest due at `now` that no one queued yet; returns those it queued. Each in
    a transaction of its own: the unique slot makes a replica that lost the race roll back
    its copy (and its delivery) and move on. A 旬 digest carries its 旬's bulletin from
    `bulletins_from` (fetched before, outside, the digests' transactions); none without."""
    async with db.read() as session:
        wanted = await with_digest(session)
        if not wanted:
            return []
        sent = await repository.latest_sent(session)
    queued = []
    notes: dict[str, BulletinNote] = {}
    for due in due_slots(wanted, sent, now):
        note = None
        if bulletins_from is not None and due.slot.kind is DigestKind.XUN:
            key = due.slot.key
            if key not in notes:
                notes[key] = await bulletin_of(db, bulletins_from, key, now=now)
            note = notes[key]
        try:
            async with db.transaction() as uow:
                row = await _queue(uow, due, now=now, bulletin=note)
        except sa_exc.IntegrityError:
            log.info(
                "digest %s %s of subscription %s: already queued (another replica)",
                due.slot.kind,
                due.slot.key,
                due.subscription.id,
            )
            continue
        metrics.DIGESTS.labels(due.slot.kind.value).inc()
        if note is not None:
            outcome = "missing" if note.missing is not None else "attached"
            metrics.DIGEST_BULLETINS.labels(outcome).inc()
        log.info(
            "digest %s %s queued for subscription %s: %d turned red, %d still red, %d resolved",
            row.kind,
            row.slot,
            row.subscription_id,
            row.turned_red,
            row.still_red,
            row.resolved,
        )
        queued.append(row)
    return queued


async def list_sent(
    session: AsyncSession,
    *,
    subscription_id: str,
    principal: Principal,
    limit: int,
    cursor: str | None,
) -> Page[DigestPublic]:
    """A subscription's digests, oldest first (its owner's, or an admin's)."""
    await subscriptions.get_owned(session, subscription_id=subscription_id, principal=principal)
    rows = await repository.page(
        session, subscription_id=subscription_id, limit=limit + 1, after=created_key_after(cursor)
    )
    found, next_cursor = page_by_created(rows, limit, lambda r: (r.created_at, r.id))
    return Page[DigestPublic](
        items=[DigestPublic.model_validate(r) for r in found], next_cursor=next_cursor
    )
