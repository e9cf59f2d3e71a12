"""Notification settings: SANPI_NOTIFICATION_* environment variables (shared ones may be SANPI_*)."""

from __future__ import annotations

import functools
from typing import ClassVar, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from sanpi.kit import ServiceSettings
from sanpi.kit.sealing import SecretBox, check_key
from sanpi.notification.channels.egress import Egress
from sanpi.notification.escalation.working_time import (
    Delay,
    WorkingTime,
    parse_delay,
    parse_office_hours,
)

# Refused in production, as the development JWT secret is: everyone can read it here.
DEV_SECRET_KEY = "c2FucGktZGV2ZWxvcG1lbnQta2V5LWNoYW5nZS1tZSE="  # noqa: S105


@functools.lru_cache(maxsize=8)
def _box(keys: tuple[str, ...]) -> SecretBox:
    return SecretBox(keys)


class NotificationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SANPI_NOTIFICATION_", extra="ignore")

    SERVICE: ClassVar[str] = "notification"

    port: int = 8003
    # SSRF guard (channels/egress.py): webhooks reach public addresses only. This lets loopback
    # (127.0.0.0/8, ::1) through as well, and nothing else: even with it on, private ranges,
    # 100.64.0.0/10 (100.100.100.200) and link-local (169.254.169.254) stay refused. `make up`
    # and the tests turn it on so a receiver on this machine works; production refuses it.
    allow_loopback_targets: bool = False
    webhook_timeout_s: float = 10.0
    # 8 attempts with exponential backoff from 2 s (capped at 1 h) span about 4 minutes before a
    # delivery becomes a dead letter; Retry-After from the receiver can stretch each wait.
    delivery_max_attempts: int = 8
    delivery_backoff_base_s: float = 2.0
    delivery_backoff_max_s: float = 3600.0
    # A claimed delivery is retried by any worker if its sender died before recording the result.
    delivery_lease_s: float = 60.0
    # The minute a group robot's limit of 20 messages a minute counts in, held across every
    # replica on this database (channels/ledger.py): a minute and a second. A send's slots are
    # stamped again with the robot's answer; the second is for a send whose second stamp failed.
    robot_window_s: float = Field(default=61.0, gt=0)
    delivery_concurrency: int = 16
    # Claim-send-record loops of the delivery worker (delivery/jobs.py): with one, the POSTs
    # wait while the loop claims and records its batches; with two, one sends while the other
    # claims or records. They share the queue as replicas do: a claim's lease (real time, not
    # the rules' clock) and its token keep a delivery to one loop, and a loop slower than its
    # lease (delivery_lease_s) has its outcome dropped (sanpi_notification_stale_outcomes_total).
    delivery_lanes: int = Field(default=2, ge=1)
    # Sustained failure: a subscription whose receiver has failed every attempt for this long
    # AND at least this many times in a row is disabled (endpoint_disabled event). 5 days is what
    # Svix, the reference Standard Webhooks sender, waits; 20 failures rule out one bad evening.
    endpoint_disable_after_s: float = 5 * 86400.0
    endpoint_disable_min_failures: int = 20
    # After a secret rotation the old secret keeps signing (both signatures in webhook-signature)
    # this long, so that receivers can roll out the new one: 24 h, as Svix does.
    secret_rotation_grace_s: float = 86400.0
    # Keys that seal the signing secrets stored in the database (kit/sealing.py), newest first:
    # the first seals, every one opens. A JSON list: '["<new key>", "<old key>"]'; a new key
    # from `python -m sanpi.notification secrets new-key`. Production refuses the development
    # key and an empty list.
    secret_keys: list[SecretStr] = Field(default_factory=lambda: [SecretStr(DEV_SECRET_KEY)])

    # E-mail channel (aiosmtplib). Empty username means no AUTH.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_from: str = "sanpi <sanpi@localhost>"
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = False
    # Implicit TLS from the first byte (port 465, what most Chinese mail providers offer), as
    # opposed to STARTTLS (an upgrade of a plain connection, port 587). One or the other.
    smtp_tls: bool = False
    # A CA bundle to check the server's certificate with (a provider's own CA); empty: the
    # system's CAs.
    smtp_ca_file: str = ""
    smtp_timeout_s: float = 10.0

    # The portal a robot message links to: its project page is {portal_url}/projects/{id}.
    # Empty: robot messages carry no link.
    portal_url: str = "http://127.0.0.1:8000"

    # Alert grouping: non-red alerts of one evaluation pass for one park leave as one message once
    # no sibling has arrived for this long (each arrival restarts the wait). The milestone relay
    # publishes a pass in batches of 500 within milliseconds; 10 s of quiet means the pass is
    # over, and a yellow alert is not urgent to the second.
    grouping_window_s: float = 10.0
    # ... but never more than this after the first alert of the group (a flood still goes out).
    grouping_max_s: float = 300.0
    # A red alert that still fires and is not acknowledged is sent again at this interval.
    red_repeat_interval_s: float = 2 * 3600.0
    # Escalation (督办) of an unacknowledged red alert: the working time after the first red
    # notification at which levels 1 (unit head), 2 (sponsor leader) and 3 (district) are reached,
    # each "<n>m", "<n>h" or "<n>d" (working minutes, hours, days: office hours on working days,
    # weekends and public holidays skipped, 调休 make-up days worked). 4 working hours keeps it
    # within a working day; 10 working days is two weeks, "red for more than one period".
    escalation_delays: list[str] = Field(
        default_factory=lambda: ["4h", "1d", "10d"], min_length=3, max_length=3
    )
    # "calendar": working time runs in office hours on working days of the shared calendar
    # (weekends and public holidays skipped, 调休 make-up days worked); "all": every hour counts (a 24/7 duty
    # desk, or a test running the service on the wall clock).
    working_days: Literal["calendar", "all"] = "calendar"
    # Office hours (Asia/Shanghai, "HH:MM-HH:MM" spans; the gap between two is the lunch break)
    # in which working minutes and hours run on working days.
    office_hours: list[str] = Field(
        default_factory=lambda: ["09:00-12:00", "13:00-17:00"], min_length=1
    )
    # A 督办 item (supervision item) opened by an escalation is due this many working days
    # later; unanswered by then it is re-escalated one level up, with a new due time as long.
    supervision_due_days: int = Field(default=3, ge=1, le=60)
    # Who level 3 reaches when a subscription names no district contact.
    escalation_district_contact: str = "区督查办"
    # How often the alert timers (repeat, escalation) and gauges are checked.
    timer_poll_s: float = 1.0
    # How often the digest job looks for due digests (daily / 旬 slots): a digest leaves at most
    # this long after its time.
    digest_poll_s: float = 30.0
    # A 旬 digest carries that 旬's bulletin (通报): the e-mail attaches the PDF, robot messages
    # link to it in the portal. It is read from the milestone service's API (never its
    # database) with a viewer token of a minute signed with jwt_secret, once per 旬. Empty: 旬
    # digests go without it. Local `make up` runs the milestone service on 8002.
    milestone_url: str = "http://127.0.0.1:8002"
    # How long the digest job waits for the bulletin (a PDF is under a second of the milestone
    # service's CPU; beyond this the digest goes out without it and says so).
    bulletin_timeout_s: float = Field(default=30.0, gt=0)

    # Live stream (SSE): a comment line this often keeps proxies from closing an idle stream
    # (most cut at 30-60 s); events stay replayable for Last-Event-ID this long.
    stream_heartbeat_s: float = 15.0
    stream_retention_s: float = 7 * 86400.0
    stream_poll_s: float = 0.5

    # The delivery log (a notification, the events it carried, its attempts) is kept this long
    # after the notification was queued, once it was delivered or cancelled; an inbox message
    # nobody acknowledged stays. An event older than this is history, not news: it notifies no
    # one, so that a replay of old events (ids that left the consumer inbox, a new consumer
    # group) cannot notify twice once their deliveries are gone. 0 keeps them for ever.
    delivery_retention_days: float = 90.0
    # Dead letters (notifications that used up their attempts) are kept this long for a replay
    # (`sanpi dead-letters replay`) after they were queued. 0 keeps them for ever.
    dead_delivery_retention_days: float = 90.0

    @field_validator("secret_keys")
    @classmethod
    def _keys_are_fernet_keys(cls, keys: list[SecretStr]) -> list[SecretStr]:
        for key in keys:
            check_key(key.get_secret_value())
        return keys

    @field_validator("escalation_delays")
    @classmethod
    def _delays_are_working_time(cls, delays: list[str]) -> list[str]:
        for delay in delays:
            parse_delay(delay)
        return delays

    @field_validator("office_hours")
    @classmethod
    def _office_hours_parse(cls, spans: list[str]) -> list[str]:
        parse_office_hours(spans)
        return spans

    @property
    def escalation_steps(self) -> list[Delay]:
        """The escalation delays, parsed."""
        return [parse_delay(d) for d in self.escalation_delays]

    @property
    def working_time(self) -> WorkingTime:
        """Office hours on the working days of the shared calendar."""
        return WorkingTime(
            hours=parse_office_hours(self.office_hours), continuous=self.working_days == "all"
        )

    @property
    def supervision_due(self) -> Delay:
        return Delay(float(self.supervision_due_days), "d")

    @property
    def secret_box(self) -> SecretBox:
        """Seals and opens the stored signing secrets."""
        return _box(tuple(k.get_secret_value() for k in self.secret_keys))

    @property
    def egress(self) -> Egress:
        """The SSRF policy of every channel that calls out."""
        return Egress(allow_loopback=self.allow_loopback_targets)

    @model_validator(mode="after")
    def _refuse_loopback_targets_in_production(self) -> NotificationSettings:
        if self.env == "production" and self.allow_loopback_targets:
            raise ValueError(
                "allow_loopback_targets: refused in production (webhooks to this machine are an "
                "SSRF hole)"
            )
        if self.smtp_tls and self.smtp_starttls:
            raise ValueError(
                "smtp_tls and smtp_starttls: choose one (implicit TLS on 465, or STARTTLS on 587)"
            )
        keys = [k.get_secret_value() for k in self.secret_keys]
        if self.env == "production" and (not keys or DEV_SECRET_KEY in keys):
            raise ValueError(
                "secret_keys: set SANPI_NOTIFICATION_SECRET_KEYS to your own key(s) in production "
                "(python -m sanpi.notification secrets new-key makes one)"
            )
        return self
