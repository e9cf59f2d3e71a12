"""The subscription form, checked on the server before the notification service checks it again."""

from __future__ import annotations

import re
from typing import Annotated, Literal
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from sanpi.events import ChainTag, Severity
from sanpi.portal.i18n import _

# What a person subscribes to, in words; each is a set of event types.
TOPICS: dict[str, list[str]] = {
    "alerts": ["sanpi.alert.*"],
    "stages": ["sanpi.project.stage_changed.v1"],
    "milestones": ["sanpi.milestone.*"],
    "reports": ["sanpi.progress.reported.v1"],
    "projects": ["sanpi.project.registered.v1", "sanpi.project.listed.v1"],
}

EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MOBILE = re.compile(r"^1\d{10}$")
MAX_MENTIONS = 20
# The notification service's group robots: which sign their messages (钉钉 加签, 飞书 签名校验)
# and which can @ a member by mobile number in a red alert.
ROBOTS = frozenset({"wecom", "dingtalk", "feishu"})
SIGNED = frozenset({"dingtalk", "feishu"})
MENTIONING = frozenset({"wecom", "dingtalk"})
WITH_URL = ROBOTS | {"webhook"}


class SubscriptionForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    channel: Literal["webhook", "email", "inbox", "wecom", "dingtalk", "feishu"]
    url: str | None = Field(default=None, max_length=2000, validate_default=True)
    email: str | None = Field(default=None, max_length=320, validate_default=True)
    secret: str | None = Field(default=None, max_length=256, validate_default=True)
    # One text field (works without JavaScript): numbers separated by commas or spaces.
    mention_mobiles: str | None = Field(default=None, max_length=600)
    topics: list[Literal["alerts", "stages", "milestones", "reports", "projects"]] = Field(
        default_factory=list, max_length=10
    )
    min_severity: Severity | None = None
    parks: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=100
    )
    chain_tags: list[ChainTag] = Field(default_factory=list, max_length=50)
    language: Literal["zh", "en"] = "zh"
    # A digest of red alerts per park: daily at a time and/or at the end of each 旬.
    digest_daily_at: str | None = Field(default=None, max_length=16)
    digest_xun_at: str | None = Field(default=None, max_length=16)
    digest_options: list[Literal["working_days", "instead"]] = Field(
        default_factory=list, max_length=2
    )

    @field_validator("digest_daily_at", "digest_xun_at")
    @classmethod
    def _time_of_day(cls, value: str | None) -> str | None:
        if value and not TIME.match(value):
            raise ValueError(_("Enter a time of day such as 08:30."))
        return value or None

    @field_validator("url")
    @classmethod
    def _url_for_webhooks(cls, value: str | None, info: ValidationInfo) -> str | None:
        channel = info.data.get("channel")
        if channel in WITH_URL:
            if not value:
                raise ValueError(
                    _("A webhook needs the address that receives it.")
                    if channel == "webhook"
                    else _(
                        "A group robot needs its webhook address, shown in the robot's settings."
                    )
                )
            if not re.match(r"^https?://[^\s/]+", value):
                raise ValueError(_("Enter an address beginning with http:// or https://."))
        return value if channel in WITH_URL else None

    @field_validator("secret")
    @classmethod
    def _secret_for_signed_robots(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Only 钉钉 and 飞书 sign; a secret typed for another channel (every field is visible
        # without JavaScript) is dropped rather than sent, as the URL is for e-mail.
        if info.data.get("channel") not in SIGNED:
            return None
        if not value:
            raise ValueError(
                _(
                    "DingTalk and Feishu robots need the signing secret of the robot's security "
                    "settings."
                )
            )
        return value

    @field_validator("mention_mobiles")
    @classmethod
    def _mobiles(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("channel") not in MENTIONING or not value:
            return None
        mobiles = mobiles_of(value)
        for mobile in mobiles:
            if not MOBILE.match(mobile):
                raise ValueError(_("Not an 11-digit mobile number: %(m)s", m=mobile))
        if len(mobiles) > MAX_MENTIONS:
            raise ValueError(_("At most %(n)s mobile numbers.", n=MAX_MENTIONS))
        return ",".join(mobiles)

    @field_validator("email")
    @classmethod
    def _address_for_email(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("channel") == "email":
            if not value:
                raise ValueError(_("E-mail needs an address."))
            if not EMAIL.match(value):
                raise ValueError(_("Enter an e-mail address such as zhang@example.cn."))
        return value if info.data.get("channel") == "email" else None

    def body(self) -> dict[str, object]:
        """The notification service's SubscriptionCreate."""
        event_types = sorted({t for topic in self.topics for t in TOPICS[topic]})
        body: dict[str, object] = {
            "channel": self.channel,
            "event_types": event_types,
            "parks": self.parks,
            "chain_tags": [str(c) for c in self.chain_tags],
            "language": self.language,
        }
        if self.min_severity is not None:
            body["min_severity"] = str(self.min_severity)
        if self.url:
            body["url"] = self.url
        if self.email:
            body["email"] = self.email
        if self.secret:
            body["secret"] = self.secret
        if self.mention_mobiles:
            body["mention_mobiles"] = mobiles_of(self.mention_mobiles)
        if self.digest_daily_at or self.digest_xun_at:
            body["digest"] = {
                "daily_at": self.digest_daily_at,
                "xun_at": self.digest_xun_at,
                "working_days_only": "working_days" in self.digest_options,
                "instead_of_immediate": "instead" in self.digest_options,
            }
        return body


def mobiles_of(text: str) -> list[str]:
    """The numbers of the @ field, whichever separators a person typed (，、; or spaces)."""
    return [m for m in re.split(r"[\s,，、;；]+", text) if m]


def shown_address(channel: str, url: str | None) -> str | None:
    """A robot's URL for a page: its access token (钉钉 access_token, 企业微信 key, 飞书 hook id)
    lets anyone post into the group, so a page shows only its first characters."""
    if not url or channel not in ROBOTS:
        return url
    parts = urlsplit(url)
    if parts.query:
        query = "&".join(f"{k}={v[:4]}…" for k, v in parse_qsl(parts.query))
        return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
    head, _sep, last = parts.path.rpartition("/")
    return urlunsplit((parts.scheme, parts.netloc, f"{head}/{last[:4]}…", "", ""))


def topics_of(event_types: list[str]) -> list[str]:
    """The topics a subscription's event types amount to (for showing it)."""
    chosen = set(event_types)
    return [name for name, types in TOPICS.items() if set(types) <= chosen]
