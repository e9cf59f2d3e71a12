"""`sanpi subscribe …`, `sanpi subscriptions …`, `sanpi deliveries`, `sanpi dead-letters replay`,
`sanpi inbox …`, `sanpi alerts ack`, `sanpi notifications explain`: the notification service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from sanpi.client.cli.common import JsonOpt, TokenOpt, client, console, fail, show
from sanpi.client.sdk import ApiError, SanpiClient

COLUMNS = ["id", "channel", "url", "email", "event_types", "parks", "min_severity", "active"]
DELIVERY_COLUMNS = [
    "id",
    "subscription_id",
    "kind",
    "event_type",
    "status",
    "attempts",
    "last_error",
]

subscriptions_app = typer.Typer(
    help="Your subscriptions (notification service).", no_args_is_help=True
)
dead_letters_app = typer.Typer(
    help="Notifications that used up their attempts.", no_args_is_help=True
)
inbox_app = typer.Typer(help="Your inbox (inbox-channel subscriptions).", no_args_is_help=True)
alerts_app = typer.Typer(help="Alerts: list them, or acknowledge one.")
notifications_app = typer.Typer(
    help="Notifications: why a subscription was (not) notified of an event.",
    no_args_is_help=True,
)

# Channels whose target is a URL: the webhook and the group robots.
URL_CHANNELS = ("webhook", "wecom", "dingtalk", "feishu")

ListOpt = list[str] | None


def _call(
    action: Callable[[SanpiClient], Any],
    token: str | None,
    as_json: bool,
    columns: list[str] | None,
) -> None:
    with client(token) as sanpi:
        try:
            show(action(sanpi), as_json, columns)
        except ApiError as exc:
            fail(exc)


def _quiet_hours(value: str | None) -> dict[str, str] | None:
    if value is None:
        return None
    start, sep, end = value.partition("-")
    if not sep:
        raise typer.BadParameter("write quiet hours as HH:MM-HH:MM, e.g. 22:00-07:00")
    return {"start": start.strip(), "end": end.strip()}


DIGEST_HELP = (
    "a digest of red alerts per park: daily@HH:MM and/or xun@HH:MM (end of each 旬), "
    "Asia/Shanghai, e.g. --digest daily@08:30 (repeat for both)"
)


def _digest(
    values: list[str] | None, working_days: bool, digest_only: bool
) -> dict[str, Any] | None:
    """`daily@08:30`, `xun@17:30` → the digest object; the service checks the times."""
    if not values:
        if working_days or digest_only:
            raise typer.BadParameter("--working-days and --digest-only need --digest")
        return None
    digest: dict[str, Any] = {
        "working_days_only": working_days,
        "instead_of_immediate": digest_only,
    }
    for value in values:
        kind, sep, at = value.partition("@")
        if not sep or kind not in ("daily", "xun"):
            raise typer.BadParameter(
                f"write a digest as daily@HH:MM or xun@HH:MM, e.g. daily@08:30 (got {value!r})",
                param_hint="--digest",
            )
        digest[f"{kind}_at"] = at
    return digest


def subscribe(
    target: Annotated[
        str | None,
        typer.Argument(
            help="webhook or robot URL (webhook, wecom, dingtalk, feishu) or e-mail address (email)"
        ),
    ] = None,
    channel: Annotated[
        str, typer.Option(help="webhook, email, inbox, stream, wecom, dingtalk or feishu")
    ] = "webhook",
    secret: Annotated[
        str | None,
        typer.Option(help="robot signing secret: 钉钉 加签 (SEC…) or 飞书 签名校验; stored sealed"),
    ] = None,
    mention: Annotated[
        ListOpt,
        typer.Option(help="wecom, dingtalk: a mobile number a red alert @-mentions (repeat)"),
    ] = None,
    event_type: Annotated[
        ListOpt, typer.Option(help="event type or prefix* (repeat); none = all")
    ] = None,
    min_severity: Annotated[
        str | None, typer.Option(help="blue, green, yellow, orange or red")
    ] = None,
    park: Annotated[ListOpt, typer.Option(help="园区 (repeat)")] = None,
    chain_tag: Annotated[
        ListOpt, typer.Option(help="产业链, e.g. HYDROGEN_STORAGE (repeat)")
    ] = None,
    category: Annotated[ListOpt, typer.Option(help="e.g. ADVANCED_MANUFACTURING (repeat)")] = None,
    period: Annotated[list[int] | None, typer.Option(help="期 number (repeat)")] = None,
    project: Annotated[ListOpt, typer.Option(help="project id (repeat)")] = None,
    min_investment: Annotated[int | None, typer.Option(help="总投资 at least, 万元")] = None,
    quiet_hours: Annotated[str | None, typer.Option(help="Asia/Shanghai, e.g. 22:00-07:00")] = None,
    language: Annotated[str, typer.Option(help="zh or en")] = "zh",
    unit_head: Annotated[str | None, typer.Option(help="escalation level 1 contact")] = None,
    sponsor_leader: Annotated[str | None, typer.Option(help="escalation level 2 contact")] = None,
    district: Annotated[str | None, typer.Option(help="escalation level 3 contact")] = None,
    digest: Annotated[ListOpt, typer.Option(help=DIGEST_HELP)] = None,
    working_days: Annotated[
        bool,
        typer.Option(
            "--working-days", help="digests on working days only (holidays off, 调休 days on)"
        ),
    ] = False,
    digest_only: Annotated[
        bool,
        typer.Option("--digest-only", help="the digest replaces the immediate messages"),
    ] = False,
    token: TokenOpt = None,
) -> None:
    """Subscribe; prints the subscription (with its whsec_ signing secret for a webhook).

    A group robot: `sanpi subscribe 'https://oapi.dingtalk.com/robot/send?access_token=…'
    --channel dingtalk --secret SEC… --mention 13800000001 --min-severity orange`.

    A daily digest at 08:30 on working days, to a 企业微信 group robot:
    sanpi subscribe https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=… --channel wecom
    --digest daily@08:30 --working-days"""
    body: dict[str, Any] = {
        "channel": channel,
        "event_types": event_type or [],
        "min_severity": min_severity,
        "parks": park or [],
        "chain_tags": chain_tag or [],
        "categories": category or [],
        "periods": period or [],
        "project_ids": project or [],
        "min_investment": min_investment,
        "quiet_hours": _quiet_hours(quiet_hours),
        "language": language,
        "escalation_contacts": {
            k: v
            for k, v in {
                "unit_head": unit_head,
                "sponsor_leader": sponsor_leader,
                "district": district,
            }.items()
            if v
        },
    }
    wanted = _digest(digest, working_days, digest_only)
    if wanted is not None:
        body["digest"] = wanted
    if channel in URL_CHANNELS:
        body["url"] = target
    elif channel == "email":
        body["email"] = target
    if secret is not None:
        body["secret"] = secret
    if mention:
        body["mention_mobiles"] = mention
    _call(lambda sanpi: sanpi.notification.subscribe(body), token, True, None)


@subscriptions_app.command("list")
def list_subscriptions(token: TokenOpt = None, as_json: JsonOpt = False) -> None:
    """Your subscriptions (an admin sees all)."""
    _call(lambda sanpi: sanpi.notification.subscriptions(), token, as_json, COLUMNS)


@subscriptions_app.command("show")
def show_subscription(subscription_id: str, token: TokenOpt = None) -> None:
    """One subscription as JSON."""
    _call(lambda sanpi: sanpi.notification.subscription(subscription_id), token, True, None)


@subscriptions_app.command("update")
def update_subscription(
    subscription_id: str,
    active: Annotated[
        bool | None, typer.Option("--active/--paused", help="re-enable or pause")
    ] = None,
    quiet_hours: Annotated[str | None, typer.Option(help="e.g. 22:00-07:00")] = None,
    language: Annotated[str | None, typer.Option(help="zh or en")] = None,
    min_severity: Annotated[str | None, typer.Option(help="blue … red")] = None,
    digest: Annotated[ListOpt, typer.Option(help=DIGEST_HELP)] = None,
    working_days: Annotated[
        bool, typer.Option("--working-days", help="with --digest: on working days only")
    ] = False,
    digest_only: Annotated[
        bool, typer.Option("--digest-only", help="with --digest: instead of immediate messages")
    ] = False,
    no_digest: Annotated[bool, typer.Option("--no-digest", help="stop the digest")] = False,
    token: TokenOpt = None,
) -> None:
    """Change a subscription; `--active` re-enables one that was disabled. `--digest` replaces
    the digest settings as a whole (give --working-days again to keep it)."""
    changes: dict[str, Any] = {}
    if no_digest:
        if digest:
            raise typer.BadParameter("--digest and --no-digest contradict each other")
        changes["digest"] = None
    elif digest or working_days or digest_only:
        changes["digest"] = _digest(digest, working_days, digest_only)
    if active is not None:
        changes["active"] = active
    if quiet_hours is not None:
        changes["quiet_hours"] = _quiet_hours(quiet_hours)
    if language is not None:
        changes["language"] = language
    if min_severity is not None:
        changes["min_severity"] = min_severity
    _call(
        lambda sanpi: sanpi.notification.update_subscription(subscription_id, changes),
        token,
        True,
        None,
    )


@subscriptions_app.command("digests")
def list_digests(subscription_id: str, token: TokenOpt = None, as_json: JsonOpt = False) -> None:
    """The digests queued for a subscription: each day or 旬 once, with its counts."""
    _call(
        lambda sanpi: sanpi.notification.digests(subscription_id),
        token,
        as_json,
        ["slot", "kind", "turned_red", "still_red", "resolved", "delivery_id"],
    )


@subscriptions_app.command("rotate-secret")
def rotate_secret(subscription_id: str, token: TokenOpt = None) -> None:
    """A new whsec_ secret; the old one keeps signing alongside it for the grace period."""
    _call(lambda sanpi: sanpi.notification.rotate_secret(subscription_id), token, True, None)


@subscriptions_app.command("delete")
def delete_subscription(subscription_id: str, token: TokenOpt = None) -> None:
    """Unsubscribe."""

    def unsubscribe(sanpi: SanpiClient) -> dict[str, str]:
        sanpi.notification.unsubscribe(subscription_id)
        return {"deleted": subscription_id}

    _call(unsubscribe, token, True, None)


def deliveries(
    subscription: Annotated[str | None, typer.Option(help="only this subscription's")] = None,
    status: Annotated[
        str | None, typer.Option(help="PENDING, DELIVERED, DEAD or CANCELLED")
    ] = None,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The delivery log (first page), with each delivery's attempts in --json."""
    _call(
        lambda sanpi: sanpi.notification.deliveries(subscription, status),
        token,
        as_json,
        DELIVERY_COLUMNS,
    )


@dead_letters_app.command("replay")
def replay(
    subscription: Annotated[str | None, typer.Option(help="only this subscription's")] = None,
    delivery: Annotated[ListOpt, typer.Option(help="only this delivery (repeat)")] = None,
    token: TokenOpt = None,
) -> None:
    """Queue dead letters again, each with a full set of attempts."""
    _call(
        lambda sanpi: sanpi.notification.replay_dead_letters(subscription, delivery),
        token,
        True,
        None,
    )


@inbox_app.command("list")
def inbox_list(
    unacknowledged: Annotated[bool, typer.Option(help="only items not acknowledged")] = False,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Your inbox."""
    _call(
        lambda sanpi: sanpi.notification.inbox(unacknowledged),
        token,
        as_json,
        ["id", "severity", "subject", "acknowledged_at"],
    )


@inbox_app.command("ack")
def inbox_ack(item_id: str, token: TokenOpt = None) -> None:
    """Acknowledge one inbox item."""
    _call(lambda sanpi: sanpi.notification.acknowledge_item(item_id), token, True, None)


@alerts_app.command("ack")
def alert_ack(alert_key: str, token: TokenOpt = None) -> None:
    """Acknowledge an alert: its reminders stop and it does not escalate."""
    _call(lambda sanpi: sanpi.notification.acknowledge_alert(alert_key), token, True, None)


# How each step's outcome is marked in the text answer.
MARKS = {"passed": "✓", "failed": "✗", "held": "⏸", "info": "•", "not_set": "·"}


@notifications_app.command("explain")
def explain(
    subscription: Annotated[str, typer.Option(help="the subscription's id")],
    event: Annotated[str, typer.Option(help="the event's id (a CloudEvent id)")],
    language: Annotated[str | None, typer.Option("--lang", help="zh (default) or en")] = None,
    every_step: Annotated[
        bool, typer.Option("--all", help="also the filter conditions the subscription leaves open")
    ] = False,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Why the subscription was (not) notified of the event: each step of the decision (filters,
    quiet hours, grouping, red alerts sent at once) and each notification with its attempts."""
    with client(token) as sanpi:
        try:
            answer = sanpi.notification.explain(subscription, event, language)
        except ApiError as exc:
            fail(exc)
    if as_json:
        show(answer, True)
        return
    console.print(answer["summary"], markup=False, highlight=False, soft_wrap=True)
    for step in answer["steps"]:
        if step["outcome"] == "not_set" and not every_step:
            continue
        console.print(
            f"  {MARKS.get(step['outcome'], '?')} {step['reason']}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    for delivery in answer["deliveries"]:
        console.print(
            f"  {delivery['id']} {delivery['channel']} {delivery['kind']} {delivery['status']}: "
            f"{delivery['reason']}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        for attempt in delivery["attempt_log"]:
            answered = attempt["status_code"] if attempt["status_code"] is not None else "-"
            said = f" {attempt['error']}" if attempt["error"] else ""
            console.print(
                f"    #{attempt['number']} {attempt['at']} → {answered}{said} "
                f"({attempt['duration_ms']} ms)",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
