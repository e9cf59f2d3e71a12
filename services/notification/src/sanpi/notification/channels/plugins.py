"""The channels by name: the one place that knows which module sends which channel."""

from __future__ import annotations

from typing import Any

from sanpi.notification.channels.base import Plugin
from sanpi.notification.channels.dingtalk import DingtalkChannel
from sanpi.notification.channels.email import EmailChannel
from sanpi.notification.channels.feishu import FeishuChannel
from sanpi.notification.channels.inbox import InboxChannel
from sanpi.notification.channels.stream import StreamChannel
from sanpi.notification.channels.webhook import WebhookChannel
from sanpi.notification.channels.wecom import WecomChannel

PLUGINS: dict[str, Plugin[Any, Any]] = {
    plugin.name: plugin
    for plugin in (
        WebhookChannel(),
        EmailChannel(),
        StreamChannel(),
        InboxChannel(),
        WecomChannel(),
        DingtalkChannel(),
        FeishuChannel(),
    )
}
ROBOTS = frozenset({"wecom", "dingtalk", "feishu"})


def of(channel: str) -> Plugin[Any, Any]:
    """The plugin of a channel (KeyError for a name no module sends)."""
    return PLUGINS[channel]
