"""The inbox channel: the notification is a row of this service's own table, read over
GET /v1/inbox and acknowledged there; storing it is delivering it."""

from __future__ import annotations

import datetime as dt

from sanpi.kit import FieldProblem
from sanpi.notification.channels.base import Context, Outgoing, Plugin, Target, only
from sanpi.notification.channels.egress import Egress
from sanpi.notification.channels.result import AttemptResult


class InboxChannel(Plugin[None, None]):
    name = "inbox"

    def validate(self, target: Target, policy: Egress) -> list[FieldProblem]:
        return only(target, keep=(), channel=self.name)

    def render(self, outgoing: Outgoing, ctx: Context, *, now: dt.datetime) -> None:
        return None

    async def send(self, rendered: None, ctx: Context) -> None:
        return None

    def classify(self, sent: None) -> AttemptResult:
        return AttemptResult.ok(None, 0)
