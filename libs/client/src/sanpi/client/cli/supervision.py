"""`sanpi supervision list|show|respond|close` (督办 items) and `sanpi contacts …` (the contact
book): the notification service."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from sanpi.client.cli.common import JsonOpt, TokenOpt
from sanpi.client.cli.notifications import _call

ITEM_COLUMNS = [
    "id",
    "status",
    "overdue",
    "level",
    "park",
    "unit",
    "contact_name",
    "project_name",
    "rule",
    "due_at",
]
CONTACT_COLUMNS = [
    "id",
    "name",
    "unit",
    "park",
    "wecom_mobile",
    "email",
    "wecom_robot_url",
    "dingtalk_robot_url",
    "feishu_robot_url",
]

app = typer.Typer(
    help="督办 items: escalated red alerts a responsible unit answers and an official closes.",
    no_args_is_help=True,
)
contacts_app = typer.Typer(
    help="The contact book 督办 items reach (admins manage it).", no_args_is_help=True
)


@app.command("list")
def list_items(
    status: Annotated[
        str, typer.Option(help="active (open or responded), open, responded, closed or all")
    ] = "active",
    unit: Annotated[str | None, typer.Option(help="责任单位, e.g. 梧桐园区运营中心")] = None,
    park: Annotated[list[str] | None, typer.Option(help="园区 (repeat for several)")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    cursor: Annotated[str | None, typer.Option(help="next_cursor of the previous page")] = None,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """督办 items, soonest due first (one page; --json shows next_cursor)."""
    _call(
        lambda sanpi: sanpi.notification.supervision_items(
            status=status, unit=unit, park=park or [], limit=limit, cursor=cursor
        ),
        token,
        as_json,
        ITEM_COLUMNS,
    )


@app.command("show")
def show_item(item_id: str, token: TokenOpt = None) -> None:
    """One 督办 item, with its response and closure."""
    _call(lambda sanpi: sanpi.notification.supervision_item(item_id), token, True, None)


@app.command("respond")
def respond(
    item_id: str,
    response: Annotated[str, typer.Argument(help="整改说明: what was done, and by when")],
    token: TokenOpt = None,
) -> None:
    """Answer a 督办 item for the responsible unit (needs write rights on its park)."""
    _call(
        lambda sanpi: sanpi.notification.respond_supervision(item_id, response), token, True, None
    )


@app.command("close")
def close(
    item_id: str,
    note: Annotated[str | None, typer.Option(help="办结意见")] = None,
    token: TokenOpt = None,
) -> None:
    """Close a 督办 item (办结) as an official."""
    _call(lambda sanpi: sanpi.notification.close_supervision(item_id, note), token, True, None)


def _address_options(
    park: str | None,
    wecom_mobile: str | None,
    wecom_robot: str | None,
    email: str | None,
    dingtalk_mobile: str | None,
    dingtalk_robot: str | None,
    dingtalk_secret: str | None,
    feishu_robot: str | None,
    feishu_secret: str | None,
) -> dict[str, Any]:
    given = {
        "park": park,
        "wecom_mobile": wecom_mobile,
        "wecom_robot_url": wecom_robot,
        "email": email,
        "dingtalk_mobile": dingtalk_mobile,
        "dingtalk_robot_url": dingtalk_robot,
        "dingtalk_secret": dingtalk_secret,
        "feishu_robot_url": feishu_robot,
        "feishu_secret": feishu_secret,
    }
    return {k: v for k, v in given.items() if v is not None}


ParkOpt = Annotated[str | None, typer.Option(help="园区 (none: the whole unit)")]
WecomMobileOpt = Annotated[
    str | None, typer.Option(help="企业微信 mobile, @-mentioned in the group robot's message")
]
WecomRobotOpt = Annotated[str | None, typer.Option(help="企业微信 group robot webhook URL")]
EmailOpt = Annotated[str | None, typer.Option(help="e-mail address")]
DingtalkMobileOpt = Annotated[str | None, typer.Option(help="钉钉 mobile, @-mentioned")]
DingtalkRobotOpt = Annotated[str | None, typer.Option(help="钉钉 custom robot webhook URL")]
DingtalkSecretOpt = Annotated[str | None, typer.Option(help="钉钉 加签 secret (SEC…)")]
FeishuRobotOpt = Annotated[str | None, typer.Option(help="飞书 custom bot webhook URL")]
FeishuSecretOpt = Annotated[str | None, typer.Option(help="飞书 签名校验 secret")]


@contacts_app.command("add")
def add_contact(
    name: Annotated[str, typer.Option(help="姓名, or a unit's duty desk")],
    unit: Annotated[str, typer.Option(help="责任单位")],
    park: ParkOpt = None,
    wecom_mobile: WecomMobileOpt = None,
    wecom_robot: WecomRobotOpt = None,
    email: EmailOpt = None,
    dingtalk_mobile: DingtalkMobileOpt = None,
    dingtalk_robot: DingtalkRobotOpt = None,
    dingtalk_secret: DingtalkSecretOpt = None,
    feishu_robot: FeishuRobotOpt = None,
    feishu_secret: FeishuSecretOpt = None,
    token: TokenOpt = None,
) -> None:
    """Add a contact (admin); at least one address."""
    body = {
        "name": name,
        "unit": unit,
        **_address_options(
            park,
            wecom_mobile,
            wecom_robot,
            email,
            dingtalk_mobile,
            dingtalk_robot,
            dingtalk_secret,
            feishu_robot,
            feishu_secret,
        ),
    }
    _call(lambda sanpi: sanpi.notification.add_contact(body), token, True, None)


@contacts_app.command("list")
def list_contacts(
    unit: Annotated[str | None, typer.Option(help="责任单位")] = None,
    park: Annotated[str | None, typer.Option(help="园区")] = None,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The contact book (first page)."""
    _call(
        lambda sanpi: sanpi.notification.contacts(unit=unit, park=park),
        token,
        as_json,
        CONTACT_COLUMNS,
    )


@contacts_app.command("update")
def update_contact(
    contact_id: str,
    name: Annotated[str | None, typer.Option()] = None,
    unit: Annotated[str | None, typer.Option()] = None,
    park: ParkOpt = None,
    wecom_mobile: WecomMobileOpt = None,
    wecom_robot: WecomRobotOpt = None,
    email: EmailOpt = None,
    dingtalk_mobile: DingtalkMobileOpt = None,
    dingtalk_robot: DingtalkRobotOpt = None,
    dingtalk_secret: DingtalkSecretOpt = None,
    feishu_robot: FeishuRobotOpt = None,
    feishu_secret: FeishuSecretOpt = None,
    token: TokenOpt = None,
) -> None:
    """Change a contact (admin): the options given replace the stored values."""
    changes = {
        **{k: v for k, v in {"name": name, "unit": unit}.items() if v is not None},
        **_address_options(
            park,
            wecom_mobile,
            wecom_robot,
            email,
            dingtalk_mobile,
            dingtalk_robot,
            dingtalk_secret,
            feishu_robot,
            feishu_secret,
        ),
    }
    _call(lambda sanpi: sanpi.notification.update_contact(contact_id, changes), token, True, None)


@contacts_app.command("remove")
def remove_contact(contact_id: str, token: TokenOpt = None) -> None:
    """Remove a contact (admin)."""
    _call(lambda sanpi: sanpi.notification.remove_contact(contact_id), token, True, None)
