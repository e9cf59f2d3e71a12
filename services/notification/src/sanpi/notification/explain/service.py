"""Explains one subscription's decision about one event with the dispatcher's own rules: the
filter conditions (routing.filters.checks, which `matches` is made of), the subscription's age
(`hears`), the history cut (`is_history`), urgency, grouping and quiet hours as fan-out decided
them, then the deliveries as the log holds them, with their attempts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import CloudEvent, Severity
from sanpi.kit import NotFound, Principal, utcnow
from sanpi.kit.messages import Lang
from sanpi.notification.channels.templates import Kind
from sanpi.notification.delivery import repository as deliveries
from sanpi.notification.delivery import service as dispatch
from sanpi.notification.delivery.models import Delivery, DeliveryStatus
from sanpi.notification.delivery.schemas import AttemptPublic
from sanpi.notification.explain.schemas import (
    ExplainedDelivery,
    ExplainedEvent,
    Explanation,
    Outcome,
    Step,
    Verdict,
)
from sanpi.notification.explain.texts import condition, json_value, say, when
from sanpi.notification.routing.filters import Routing, checks
from sanpi.notification.settings import NotificationSettings
from sanpi.notification.stream import repository as stream_log
from sanpi.notification.stream import service as stream
from sanpi.notification.subscriptions import service as subscription_rules
from sanpi.notification.subscriptions.models import Channel, Subscription

FOLLOW_UPS = (Kind.REPEAT, Kind.ESCALATION)
CHANNELS = {
    "webhook": "Webhook",
    "email": "电子邮件",
    "inbox": "站内信箱",
    "stream": "实时流",
    "wecom": "企业微信机器人",
    "dingtalk": "钉钉机器人",
    "feishu": "飞书机器人",
}


async def _subscription(
    session: AsyncSession, subscription_id: str, principal: Principal, lang: Lang
) -> Subscription:
    try:
        return await subscription_rules.get_owned(
            session, subscription_id=subscription_id, principal=principal
        )
    except NotFound:
        raise NotFound(
            say(
                lang,
                f"订阅 {subscription_id} 不存在（或不是你的订阅）",
                f"subscription {subscription_id} not found (or not yours)",
            )
        ) from None


def _alert_routing(event: CloudEvent) -> Routing:
    """What urgency and grouping need, from an alert's own data (when the event log no longer
    holds the routing dispatch used): alerts carry their routing attributes."""
    data = event.data
    severity = str(data.get("severity") or "")
    return Routing(
        event_type=event.type,
        severity=Severity(severity) if severity in {s.value for s in Severity} else None,
        park=data.get("park"),
        alert_key=data.get("alert_key"),
        evaluation_id=data.get("evaluation_id"),
        project_id=data.get("project_id"),
        project_name=data.get("project_name"),
    )


def _status_text(
    delivery: Delivery, attempts: Sequence[AttemptPublic], now: dt.datetime, lang: Lang
) -> str:
    tries = len(attempts)
    if delivery.status == DeliveryStatus.DELIVERED:
        at = delivery.delivered_at or (attempts[-1].at if attempts else now)
        return say(
            lang,
            f"已送达：{when(at, lang)}，第 {tries} 次尝试成功",
            f"delivered {when(at, lang)}, on attempt {tries}",
        )
    if delivery.status == DeliveryStatus.DEAD:
        return say(
            lang,
            f"发送失败：{tries} 次尝试都未成功，已进入死信（可重发）；最后的错误：{delivery.last_error}",
            f"failed: {tries} attempts, now a dead letter (can be replayed); last error: "
            f"{delivery.last_error}",
        )
    if delivery.status == DeliveryStatus.CANCELLED:
        return say(
            lang,
            f"已取消，未发送：{delivery.last_error or '订阅已删除'}",
            f"cancelled, never sent: {delivery.last_error or 'the subscription was deleted'}",
        )
    if delivery.leased_until is not None and delivery.leased_until > utcnow():
        # In flight: a claim leaves next_attempt_at as it was (its due time, maybe past), so
        # neither "queued from" nor "next at" would be true; the lease is real time.
        return say(
            lang,
            f"正在发送：第 {delivery.attempts} 次尝试",
            f"being sent: attempt {delivery.attempts}",
        )
    if delivery.held_until is not None and delivery.held_until > now and tries == 0:
        return say(
            lang,
            f"已排队，在免打扰时段中：{when(delivery.held_until, lang)}发出",
            f"queued, held by quiet hours: leaves {when(delivery.held_until, lang)}",
        )
    if delivery.deferred_until is not None and delivery.deferred_until > utcnow():
        return say(
            lang,
            f"已排队，群机器人限速暂缓：{when(delivery.deferred_until, lang)}起发送",
            f"queued, held by the group robot's rate limit: sent from "
            f"{when(delivery.deferred_until, lang)}",
        )
    if tries:
        return say(
            lang,
            f"等待重试：已失败 {tries} 次（{delivery.last_error}），下次尝试 "
            f"{when(delivery.next_attempt_at, lang)}",
            f"retrying: {tries} failed attempts ({delivery.last_error}), next at "
            f"{when(delivery.next_attempt_at, lang)}",
        )
    return say(
        lang,
        f"已排队，{when(delivery.next_attempt_at, lang)}起发送",
        f"queued, to be sent from {when(delivery.next_attempt_at, lang)}",
    )


def _follow_up_text(delivery: Delivery, lang: Lang) -> str:
    if delivery.kind == Kind.REPEAT:
        return say(
            lang,
            f"红色预警未确认：第 {delivery.repeat} 次提醒",
            f"red alert not acknowledged: reminder {delivery.repeat}",
        )
    target = delivery.target or ""
    return say(
        lang,
        f"红色预警未确认：升级督办第 {delivery.escalation_level} 级，发给 {target}",
        f"red alert not acknowledged: escalation level {delivery.escalation_level}, to {target}",
    )


def _verdict_of(delivery: Delivery, now: dt.datetime) -> Verdict:
    if delivery.status == DeliveryStatus.DELIVERED:
        return Verdict.NOTIFIED
    if delivery.status == DeliveryStatus.DEAD:
        return Verdict.FAILED
    if delivery.status == DeliveryStatus.CANCELLED:
        return Verdict.CANCELLED
    if delivery.held_until is not None and delivery.held_until > now and delivery.attempts == 0:
        return Verdict.HELD
    return Verdict.PENDING


async def explain(
    session: AsyncSession,
    *,
    subscription_id: str,
    event_id: str,
    principal: Principal,
    settings: NotificationSettings,
    now: dt.datetime,
    lang: Lang,
) -> Explanation:
    """Every step of the decision about `event_id` for the subscription, in `lang`. 404 when the
    subscription is not the caller's, or when the service holds the event neither in its event
    log nor in a notification to this subscription."""
    subscription = await _subscription(session, subscription_id, principal, lang)
    logged = await stream_log.by_event_id(session, event_id)
    carried = await deliveries.carrying(session, subscription.id, event_id)
    if logged is None and carried is None:
        days = settings.stream_retention_s / 86400
        raise NotFound(
            say(
                lang,
                f"事件 {event_id} 不在通知服务中：它没有到达本服务，或已超过事件日志的保存期"
                f"（{days:g} 天），且此订阅没有因它发出过通知",
                f"event {event_id} is not held by the notification service: it never arrived, "
                f"or it is older than the event log keeps ({days:g} days), and this "
                "subscription was never notified of it",
            )
        )
    payload = logged.payload if logged is not None else carried.payload  # type: ignore[union-attr]
    event = CloudEvent.model_validate_json(payload)
    routing = stream.routing_of(logged.routing) if logged is not None else _alert_routing(event)
    steps: list[Step] = []
    subject = routing.project_name or event.subject or ""
    if logged is not None:
        steps.append(
            Step(
                step="event",
                outcome=Outcome.PASSED,
                actual=event.type,
                reason=say(
                    lang,
                    f"事件 {event.id}（{subject}）于 {when(logged.appended_at, lang)}到达通知服务",
                    f"event {event.id} ({subject}) reached the notification service "
                    f"{when(logged.appended_at, lang)}",
                ),
            )
        )
    else:
        days = settings.stream_retention_s / 86400
        steps.append(
            Step(
                step="event",
                outcome=Outcome.INFO,
                actual=event.type,
                reason=say(
                    lang,
                    f"事件 {event.id} 已不在事件日志中（保存 {days:g} 天），当时的条件无法重算；"
                    "以下按它的通知记录说明：它当时通过了此订阅的全部条件",
                    f"event {event.id} has left the event log (kept {days:g} days): the "
                    "conditions cannot be re-checked; what follows comes from its notification, "
                    "so it passed every condition of this subscription then",
                ),
            )
        )

    steps.append(_subscription_step(subscription, lang))
    main = await deliveries.get(session, carried.delivery_id) if carried is not None else None
    failed: list[str] = []
    verdict: Verdict | None = None
    if logged is not None:
        received = logged.appended_at
        history = dispatch.is_history(event, settings, at=received)
        steps.append(
            Step(
                step="history",
                outcome=Outcome.FAILED if history else Outcome.PASSED,
                actual=event.time,
                reason=say(
                    lang,
                    f"事件发生于 {when(event.time, lang)}，"
                    + (
                        f"到达时已早于通知记录的保存期（{settings.delivery_retention_days:g} 天）：只记入日志，不再通知"
                        if history
                        else "不是历史事件"
                    ),
                    f"the event happened {when(event.time, lang)}"
                    + (
                        f", older than the delivery log keeps "
                        f"({settings.delivery_retention_days:g} days) when it arrived: logged, "
                        "notifying no one"
                        if history
                        else ": not history"
                    ),
                ),
            )
        )
        hears = dispatch.hears(subscription, event.time)
        steps.append(
            Step(
                step="after_subscription",
                outcome=Outcome.PASSED if hears else Outcome.FAILED,
                wanted=subscription.created_at,
                actual=event.time,
                reason=say(
                    lang,
                    f"订阅建于 {when(subscription.created_at, lang)}，"
                    + (
                        "事件在其后发生"
                        if hears
                        else "事件发生得更早：订阅只接收建立之后发生的事件"
                    ),
                    f"the subscription was made {when(subscription.created_at, lang)}"
                    + (
                        "; the event happened after"
                        if hears
                        else "; the event happened before: a subscription hears only later events"
                    ),
                ),
            )
        )
        for check in checks(subscription_rules.filter_of(subscription), routing):
            said = condition(check, routing, lang)
            outcome = (
                Outcome.NOT_SET
                if check.passed is None
                else Outcome.PASSED
                if check.passed
                else Outcome.FAILED
            )
            if outcome is Outcome.FAILED:
                failed.append(said)
            steps.append(
                Step(
                    step=f"filter.{check.condition}",
                    outcome=outcome,
                    wanted=json_value(check.wanted),
                    actual=json_value(check.actual),
                    reason=said,
                )
            )
        if main is None:
            verdict = _unqueued(subscription, history=history, hears=hears, failed=bool(failed))

    urgent = dispatch.is_urgent(event.type, routing)
    group_key = dispatch.group_key_of(event.type, routing)
    follow: list[Delivery] = []
    if verdict is None:
        steps += _sending_steps(subscription, routing, main, urgent, group_key, settings, lang)
        if urgent and routing.alert_key is not None:
            follow = await deliveries.follow_ups(
                session, subscription.id, routing.alert_key, FOLLOW_UPS
            )
    shown = ([main] if main is not None else []) + follow
    explained = await _explained(session, shown, main, now, lang)
    if main is not None:
        verdict = _verdict_of(main, now)
        if failed:
            # Queued under the conditions of then: the subscription has changed since.
            steps.append(
                Step(
                    step="conditions_changed",
                    outcome=Outcome.INFO,
                    wanted=subscription.version,
                    reason=say(
                        lang,
                        f"事件到达时符合订阅当时的条件，已排队发送；订阅此后改过（现为第 "
                        f"{subscription.version} 版，改于 {when(subscription.updated_at, lang)}），"
                        "按现在的条件不会再通知这样的事件",
                        "the event matched the subscription's conditions when it arrived and was "
                        f"queued; the subscription has changed since (version "
                        f"{subscription.version}, {when(subscription.updated_at, lang)}) and "
                        "would not be notified of it now",
                    ),
                )
            )
        steps.append(
            Step(
                step="delivery",
                outcome={
                    Verdict.NOTIFIED: Outcome.PASSED,
                    Verdict.HELD: Outcome.HELD,
                    Verdict.FAILED: Outcome.FAILED,
                    Verdict.CANCELLED: Outcome.FAILED,
                }.get(verdict, Outcome.INFO),
                actual=main.status,
                reason=explained[0].reason,
            )
        )
    assert verdict is not None
    return Explanation(
        subscription_id=subscription.id,
        event=ExplainedEvent(
            id=event.id,
            type=event.type,
            time=event.time,
            received_at=logged.appended_at if logged is not None else None,
            stored=logged is not None,
            routing={k: json_value(v) for k, v in logged.routing.items()} if logged else None,
        ),
        verdict=verdict,
        summary=_summary(verdict, subscription, failed, explained, lang),
        steps=steps,
        deliveries=explained,
    )


def _subscription_step(subscription: Subscription, lang: Lang) -> Step:
    channel = str(subscription.channel)
    if not subscription.active:
        reason = subscription.disabled_reason or ""
        return Step(
            step="subscription",
            outcome=Outcome.FAILED,
            actual=channel,
            reason=say(
                lang,
                f"订阅目前已停用（{reason}）：停用期间到达的事件不通知",
                f"the subscription is now inactive ({reason}): events arriving while it is "
                "inactive notify no one",
            ),
        )
    if subscription.channel == Channel.STREAM:
        return Step(
            step="subscription",
            outcome=Outcome.INFO,
            actual=channel,
            reason=say(
                lang,
                "实时流订阅：不排队发送，事件到达时连着的客户端才收到（断线重连时按 Last-Event-ID 补发）",
                "a live-stream subscription: nothing is queued; clients connected when the event "
                "arrived received it (a reconnect with Last-Event-ID resumes)",
            ),
        )
    return Step(
        step="subscription",
        outcome=Outcome.PASSED,
        actual=channel,
        reason=say(
            lang,
            f"订阅有效，渠道：{CHANNELS.get(channel, channel)}；按订阅当前的条件（第 "
            f"{subscription.version} 版）判断",
            f"the subscription is active, channel {channel}; judged by its current conditions "
            f"(version {subscription.version})",
        ),
    )


def _unqueued(subscription: Subscription, *, history: bool, hears: bool, failed: bool) -> Verdict:
    """Why nothing was queued, in fan-out's order of deciding."""
    if history:
        return Verdict.HISTORY
    if not hears:
        return Verdict.BEFORE_SUBSCRIPTION
    if failed:
        return Verdict.FILTERED_OUT
    if subscription.channel == Channel.STREAM:
        return Verdict.LIVE_ONLY
    if not subscription.active:
        return Verdict.INACTIVE
    return Verdict.NOT_QUEUED


def _sending_steps(
    subscription: Subscription,
    routing: Routing,
    main: Delivery | None,
    urgent: bool,
    group_key: str | None,
    settings: NotificationSettings,
    lang: Lang,
) -> list[Step]:
    """How a matching event was sent: at once (red), grouped, held by quiet hours."""
    steps: list[Step] = []
    if urgent:
        steps.append(
            Step(
                step="urgent",
                outcome=Outcome.INFO,
                actual=routing.severity,
                reason=say(
                    lang,
                    "红色预警：立即单独发送，不受免打扰时段限制；未确认时按间隔提醒并逐级升级督办",
                    "a red alert: sent at once and alone, through quiet hours; reminded and "
                    "escalated while not acknowledged",
                ),
            )
        )
    if group_key is not None:
        park = routing.park or say(lang, "全区", "the district")
        window = f"{settings.grouping_window_s:g}"
        steps.append(
            Step(
                step="grouping",
                outcome=Outcome.INFO,
                actual=group_key,
                reason=say(
                    lang,
                    f"非红色预警合并：同一次评估中{park}的预警合为一条消息（最后一条到达后再等 {window} 秒）",
                    f"non-red alerts are grouped: those of one evaluation pass for {park} make "
                    f"one message (sent {window} s after the last one joins)",
                ),
            )
        )
    start, end = subscription.quiet_start, subscription.quiet_end
    if not start or not end:
        steps.append(
            Step(
                step="quiet_hours",
                outcome=Outcome.NOT_SET,
                reason=say(lang, "未设免打扰时段", "no quiet hours"),
            )
        )
    elif urgent:
        steps.append(
            Step(
                step="quiet_hours",
                outcome=Outcome.PASSED,
                wanted=f"{start}-{end}",
                reason=say(
                    lang,
                    f"免打扰时段 {start}–{end}（北京时间）不拦红色预警",
                    f"quiet hours {start}-{end} (Asia/Shanghai) do not hold red alerts",
                ),
            )
        )
    elif main is not None and main.held_until is not None:
        steps.append(
            Step(
                step="quiet_hours",
                outcome=Outcome.HELD,
                wanted=f"{start}-{end}",
                actual=main.held_until,
                reason=say(
                    lang,
                    f"在免打扰时段 {start}–{end}（北京时间）内排队：消息压到 "
                    f"{when(main.held_until, lang)}才发",
                    f"queued inside quiet hours {start}-{end} (Asia/Shanghai): held until "
                    f"{when(main.held_until, lang)}",
                ),
            )
        )
    else:
        steps.append(
            Step(
                step="quiet_hours",
                outcome=Outcome.PASSED,
                wanted=f"{start}-{end}",
                reason=say(
                    lang,
                    f"排队时不在免打扰时段 {start}–{end}（北京时间）内",
                    f"queued outside quiet hours {start}-{end} (Asia/Shanghai)",
                ),
            )
        )
    return steps


async def _explained(
    session: AsyncSession,
    shown: list[Delivery],
    main: Delivery | None,
    now: dt.datetime,
    lang: Lang,
) -> list[ExplainedDelivery]:
    ids = [d.id for d in shown]
    attempts: dict[str, list[AttemptPublic]] = {}
    for attempt in await deliveries.attempts_of(session, ids):
        attempts.setdefault(attempt.delivery_id, []).append(AttemptPublic.model_validate(attempt))
    carried = await deliveries.event_ids_of(session, ids)
    out = []
    for delivery in shown:
        log = attempts.get(delivery.id, [])
        reason = _status_text(delivery, log, now, lang)
        events = carried.get(delivery.id, [delivery.event_id])
        if delivery is main and len(events) > 1:
            reason = say(
                lang,
                f"与另外 {len(events) - 1} 条事件合为一条消息；{reason}",
                f"one message with {len(events) - 1} other events; {reason}",
            )
        elif delivery is not main:
            reason = f"{_follow_up_text(delivery, lang)}{say(lang, '；', '; ')}{reason}"
        out.append(
            ExplainedDelivery.model_validate(delivery).model_copy(
                update={"attempt_log": log, "event_ids": events, "reason": reason}
            )
        )
    return out


def _summary(
    verdict: Verdict,
    subscription: Subscription,
    failed: list[str],
    explained: list[ExplainedDelivery],
    lang: Lang,
) -> str:
    if verdict is Verdict.FILTERED_OUT:
        return say(lang, "没有通知：", "not notified: ") + say(lang, "；", "; ").join(failed)
    if verdict is Verdict.HISTORY:
        return say(lang, "没有通知：事件到达时已是历史事件", "not notified: the event was history")
    if verdict is Verdict.BEFORE_SUBSCRIPTION:
        return say(
            lang,
            "没有通知：事件发生在订阅建立之前",
            "not notified: the event happened before the subscription was made",
        )
    if verdict is Verdict.LIVE_ONLY:
        return say(
            lang,
            "符合条件；实时流订阅只推送给事件到达时连着的客户端，没有发送记录",
            "matches; a live stream reaches only the clients connected then, and keeps no "
            "delivery log",
        )
    if verdict is Verdict.INACTIVE:
        return say(
            lang,
            f"没有通知：订阅已停用（{subscription.disabled_reason or ''}）",
            f"not notified: the subscription is inactive ({subscription.disabled_reason or ''})",
        )
    if verdict is Verdict.NOT_QUEUED:
        return say(
            lang,
            f"按订阅当前的条件应当通知，但没有通知记录：订阅可能在事件到达后改过（当前第 "
            f"{subscription.version} 版，改于 {when(subscription.updated_at, lang)}），或当时处于停用状态，"
            "或记录已过保存期",
            f"matches the subscription's current conditions, yet no notification is recorded: it "
            f"may have changed since the event arrived (version {subscription.version}, changed "
            f"{when(subscription.updated_at, lang)}), been inactive then, or the record has "
            "been pruned",
        )
    # Queued: where its notification stands says it all (已送达 …, 已排队 …, 发送失败 …).
    return explained[0].reason
