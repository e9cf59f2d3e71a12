"""The subscription table: owned by the token subject that created it."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from sanpi.kit import UTCDateTime, utcnow


class Channel(StrEnum):
    WEBHOOK = "webhook"  # Standard Webhooks POST to `url`
    EMAIL = "email"  # SMTP to `email`
    STREAM = "stream"  # read live over GET /v1/stream?subscription=<id>; nothing is queued
    INBOX = "inbox"  # read over GET /v1/inbox, acknowledged item by item
    WECOM = "wecom"  # 企业微信 group robot at `url`
    DINGTALK = "dingtalk"  # 钉钉 custom robot at `url`, signed with `secret` (加签)
    FEISHU = "feishu"  # 飞书 custom bot at `url`, signed with `secret` (签名校验)


class Language(StrEnum):
    ZH = "zh"
    EN = "en"


class Subscription(SQLModel, table=True):
    __tablename__ = "subscription"

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    owner: str = Field(max_length=128, index=True)
    channel: Channel = Field(max_length=16)
    url: str | None = Field(default=None, max_length=2000)
    email: str | None = Field(default=None, max_length=320)
    # Sealed (kit/sealing.py: "fernet:<key id>:<token>"), never plaintext; shown once, in the
    # answer that made it.
    secret: str | None = Field(default=None, max_length=512)
    # 企业微信 / 钉钉: the mobile numbers a red alert @-mentions in the group.
    mention_mobiles: list[str] = Field(default_factory=list, sa_type=JSON)
    # Secret rotation: the previous secret keeps signing until it expires.
    previous_secret: str | None = Field(default=None, max_length=512)
    previous_secret_expires_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Filters. Event types are exact, or a prefix pattern ending in *; empty means every event.
    event_types: list[str] = Field(default_factory=list, sa_type=JSON)
    min_severity: str | None = Field(default=None, max_length=8)
    parks: list[str] = Field(default_factory=list, sa_type=JSON)
    chain_tags: list[str] = Field(default_factory=list, sa_type=JSON)
    categories: list[str] = Field(default_factory=list, sa_type=JSON)
    periods: list[int] = Field(default_factory=list, sa_type=JSON)
    project_ids: list[str] = Field(default_factory=list, sa_type=JSON)
    min_investment: int | None = None
    # Quiet hours, Asia/Shanghai wall clock "HH:MM"; non-red notifications wait for quiet_end.
    quiet_start: str | None = Field(default=None, max_length=5)
    quiet_end: str | None = Field(default=None, max_length=5)
    language: Language = Field(default=Language.ZH, max_length=2)
    # Digest (digests/): daily at this Asia/Shanghai time and/or at the end of each 旬 at that
    # one ("HH:MM"); on working days only (调休 included) when asked; instead of the immediate
    # messages when asked.
    digest_daily_at: str | None = Field(default=None, max_length=5)
    digest_xun_at: str | None = Field(default=None, max_length=5)
    digest_working_days_only: bool = False
    digest_instead_of_immediate: bool = False
    # When the digest settings were last given (the service's clock): no slot before it is
    # this subscription's, and its first digest covers what happened since.
    digest_since: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Escalation ladder (督办) above the owner: {"unit_head", "sponsor_leader", "district"}.
    escalation_contacts: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    active: bool = True
    disabled_reason: str | None = Field(default=None, max_length=500)
    # Sustained-failure tracking: reset by every successful attempt.
    consecutive_failures: int = 0
    failing_since: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The last failed attempt's error while failing (e.g. a robot refusing the signature).
    last_error: str | None = Field(default=None, max_length=500)
    version: int = 1
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
