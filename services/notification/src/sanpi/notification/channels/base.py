"""The one interface every channel implements: validate a target, render a message, send it,
classify the answer. The delivery worker only ever talks to this interface (`plugins.of`)."""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Generic, Protocol, TypeVar

import aiohttp
from pydantic import SecretStr

from sanpi.kit import FieldProblem
from sanpi.notification.channels import messages as refusals
from sanpi.notification.channels.egress import Egress
from sanpi.notification.channels.ledger import Ledger
from sanpi.notification.channels.result import AttemptResult
from sanpi.notification.channels.templates import Message


@dataclass(frozen=True)
class Target:
    """Where a subscription sends (as given at creation or in a PATCH): the fields a channel
    may require or refuse."""

    url: str | None = None
    email: str | None = None
    secret: str | None = None  # a robot's signing secret, as the vendor shows it
    mention_mobiles: Sequence[str] = ()


class Outgoing(Protocol):
    """One claimed delivery, as a channel sees it (delivery.service.Claimed has this shape)."""

    @property
    def delivery_id(self) -> str: ...
    @property
    def target(self) -> str: ...
    @property
    def secrets(self) -> list[str]: ...
    @property
    def mentions(self) -> list[str]: ...
    @property
    def language(self) -> str: ...
    @property
    def body(self) -> bytes: ...
    @property
    def content_type(self) -> str: ...
    @property
    def message(self) -> Message: ...


@dataclass
class Context:
    """What a channel sends with: the worker's guarded HTTP client and the settings it needs."""

    client: aiohttp.ClientSession
    settings: ChannelSettings
    # Where robots.py keeps the vendors' per-robot limits: the database's send ledger, which every
    # replica and lane on the database consults (the delivery worker passes it).
    ledger: Ledger | None = None


class ChannelSettings(Protocol):
    """The settings the channels read (NotificationSettings has them)."""

    @property
    def portal_url(self) -> str: ...
    @property
    def egress(self) -> Egress: ...
    @property
    def smtp_host(self) -> str: ...
    @property
    def smtp_port(self) -> int: ...
    @property
    def smtp_from(self) -> str: ...
    @property
    def smtp_username(self) -> str: ...
    @property
    def smtp_password(self) -> SecretStr: ...
    @property
    def smtp_starttls(self) -> bool: ...
    @property
    def smtp_tls(self) -> bool: ...
    @property
    def smtp_ca_file(self) -> str: ...
    @property
    def smtp_timeout_s(self) -> float: ...
    @property
    def robot_window_s(self) -> float: ...


Rendered = TypeVar("Rendered")
Sent = TypeVar("Sent")


class Plugin(ABC, Generic[Rendered, Sent]):
    """A channel. `render` is pure (what the receiver will get), `send` talks to the receiver
    once and never raises, `classify` reads the answer: delivered, retry later or give up."""

    name: ClassVar[str]
    # False: nothing is queued for it (the live stream is read over the API).
    queued: ClassVar[bool] = True

    @abstractmethod
    def validate(self, target: Target, policy: Egress) -> list[FieldProblem]:
        """What is wrong with a target for this channel (empty: nothing), without I/O."""

    @abstractmethod
    def render(self, outgoing: Outgoing, ctx: Context, *, now: dt.datetime) -> Rendered:
        """The request the receiver will get for this delivery."""

    @abstractmethod
    async def send(self, rendered: Rendered, ctx: Context) -> Sent:
        """One attempt; never raises (a failure is an answer to classify)."""

    @abstractmethod
    def classify(self, sent: Sent) -> AttemptResult:
        """Delivered, retry later, or give up."""

    async def deliver(self, outgoing: Outgoing, ctx: Context) -> AttemptResult:
        """One attempt end to end: what the delivery worker calls."""
        rendered = self.render(outgoing, ctx, now=dt.datetime.now(dt.UTC))
        return self.classify(await self.send(rendered, ctx))


def only(target: Target, *, keep: Sequence[str], channel: str) -> list[FieldProblem]:
    """Refuses the target fields a channel does not use, naming each."""
    problems = []
    for name in ("url", "email", "secret", "mention_mobiles"):
        if name not in keep and getattr(target, name):
            problems.append(FieldProblem(name, refusals.NOT_USED(channel=channel)))
    return problems
