"""Service settings from SANPI_<SERVICE>_* environment variables, with shared SANPI_* fallbacks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from sanpi.kit.auth import audience_of

DEV_JWT_SECRET = "sanpi-development-secret-change-me"  # noqa: S105 - refused outside development
MIN_JWT_SECRET_BYTES = 32

# Settings that every service shares and that may therefore come from SANPI_<NAME> as well as
# SANPI_<SERVICE>_<NAME>. Database URLs and ports are deliberately not here: one shared
# SANPI_DATABASE_URL would point three services at one database.
SHARED_FIELDS = frozenset(
    {
        "env",
        "kafka_bootstrap",
        "kafka_enabled",
        "kafka_partitions",
        "kafka_replication_factor",
        "jwt_secret",
        "jwt_max_ttl_s",
        "cors_origins",
        "rate_limit_writes_per_s",
        "rate_limit_writes_burst",
        "log_level",
        "log_format",
        "data_dir",
        "consumer_stall_s",
        "consumer_linger_ms",
        "sqlite_synchronous",
        "inbox_retention_days",
        "idempotency_retention_hours",
        "prune_interval_s",
        "shutdown_grace_s",
        "outbox_max_backlog",
        "otlp_endpoint",
    }
)


class _SharedEnvSource(EnvSettingsSource):
    """Reads SANPI_<NAME> for the shared fields only."""

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in super().__call__().items() if k in SHARED_FIELDS}

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        if field_name not in SHARED_FIELDS:
            return None, field_name, False
        return super().get_field_value(field, field_name)


class ServiceSettings(BaseSettings):
    """What every sanpi service needs. Subclasses set SERVICE, `port` and the env prefix."""

    # Subclasses set their own prefix; this one only keeps a bare ServiceSettings() from reading
    # unprefixed variables such as HOST or PORT.
    model_config = SettingsConfigDict(env_prefix="SANPI_SERVICE_", extra="ignore")

    SERVICE: ClassVar[str] = "service"

    env: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    # json: one JSON object per line, for files and log collectors (the services `make up`
    # starts write to .run/logs/*.log, and a container's stderr is collected the same way);
    # text: one readable line per record, for a person watching a terminal.
    log_format: Literal["json", "text"] = "json"
    # Traces: the OTLP/HTTP receiver of a trace backend, e.g. http://127.0.0.1:4318 (Jaeger's).
    # Empty: off, unless the standard OTEL_EXPORTER_OTLP_ENDPOINT or
    # OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set; OTEL_SDK_DISABLED=true turns it off whatever is
    # set. Off, the services load no tracing code at all.
    otlp_endpoint: str = ""
    data_dir: Path = Path(".run")
    # Empty means the embedded default: SQLite at <data_dir>/<service>.db.
    database_url: str = ""
    # How long a SQLite writer waits for the lock before the request answers 503 (10 s rides out
    # any burst of our own short transactions).
    database_busy_timeout_ms: int = 10_000
    # What a SQLite commit waits for (the journal is a write-ahead log). FULL: the log is synced
    # to disk at every commit, so every answered write and every applied event survives a power
    # loss or an operating-system crash. NORMAL syncs only at checkpoints: a crash of the
    # service loses nothing, but a power loss may undo the last commits (the file stays
    # consistent) although clients were answered 201 and Kafka offsets were committed past the
    # events they applied. The tests and `make bench` run NORMAL; production keeps FULL.
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"

    kafka_enabled: bool = True
    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_partitions: int = 6
    kafka_replication_factor: int = 1
    # 5 ms batches sends under load; 0 sends one request per message and collapses above a few
    # thousand msg/s (aiokafka; docs/architecture.md#kafka).
    kafka_linger_ms: int = 5
    # Empty means sanpi-<service>; every replica of a service shares the group.
    consumer_group: str = ""

    # A poison record is retried this many times, with exponential backoff from the base delay,
    # before it goes to the dead-letter topic: bounded at ~1.5 s so a partition never stalls long.
    consumer_max_attempts: int = 4
    consumer_backoff_ms: int = 100
    # A consumer that processed nothing for this long while the broker holds records for it is
    # replaced by a fresh one (a handler's retries take at most a few seconds, a batch of 500
    # well under a minute). The check asks the broker through short-lived clients of its own,
    # not the consumer's, which can stay wedged after a broker restart: records waiting on a
    # partition the consumer holds, or on partitions whose committed offsets stood still for a
    # whole check while it holds none of them, mean a stall. With the broker away the check is
    # skipped (logged once).
    consumer_stall_s: float = 60.0
    # How long stopping a consumer may take (leaving the group, closing its connections) before
    # it is abandoned: a stalled one may never finish stopping.
    consumer_stop_s: float = 15.0
    # Records of one fetch (any of its partitions) applied in one transaction at most: only a
    # consumer catching up (a backlog, a replay) fills it; live traffic brings a few records a
    # linger (below). 200: the scale bench's replay (2,000 projects, SQLite) cost 0.48–0.61 CPU-s
    # per 1,000 events against 0.61–0.68 at 50, 3 interleaved runs each (a batch pays its
    # queries, commit and rule evaluation once); 500 did no better in-process. At ~0.5 ms an
    # event, 200 hold SQLite's write lock ~0.1 s, as 50 did at 2 ms each.
    consumer_transaction_records: int = 200
    # After a fetch smaller than a transaction's worth, the consumer waits this long and takes
    # what arrived meanwhile, from every partition, into the same transaction: at a live rate a
    # fetch holds ~1 record, and a transaction of one costs the notification service ~14 CPU-ms
    # an event against ~7 at three. 50: fed alone through Kafka at 30 events/s it cost 9.3–9.6
    # CPU-ms an event against 11.5–13.0 without and 10.7–13.0 at 20. A lone event waits this
    # much longer; 0 turns it off.
    consumer_linger_ms: int = 50
    # How often the relay looks for outbox rows that no local commit announced (other replicas,
    # rows left by a crash). Local commits wake it at once.
    outbox_poll_interval_ms: int = 500
    # Writes answer 503 (Retry-After) once this many events wait in the outbox unpublished, as
    # they pile up while Kafka is away: a bounded wait for the client instead of a full disk
    # (a row is ~1 KB; 100,000 are ~100 MB, a day of a province's writes). 0: no limit.
    outbox_max_backlog: int = 100_000

    # Ids of applied events (the consumer inbox) are kept this long; a record that comes back
    # is recognised as a duplicate only while its id is kept. Records come back within seconds
    # (a crash between applying a batch and committing its offsets, an event the relay sent
    # twice), and later only as a redriven dead letter or when a consumer group reads a topic
    # again because Kafka forgot its committed offsets (offsets.retention.minutes: 7 days after
    # the group's last member left; the sanpi topics themselves keep every record for ever).
    # 90 days is far beyond both; an event older than that which comes back is applied again,
    # which the projections survive (they keep the newer state) and the notification service
    # does not notify (events older than its delivery log are not news). 0 keeps them for ever.
    inbox_retention_days: float = 90.0
    # Stored answers to requests with an Idempotency-Key are kept this long: a client retries
    # within minutes (a phone back online, a crashed import resumed), and a day is what Stripe,
    # whose design this follows, keeps. A retry after that is a new request. 0: for ever.
    idempotency_retention_hours: float = 24.0
    # How often the pruner deletes what the retention settings no longer keep.
    prune_interval_s: float = 600.0
    # On a stop (SIGTERM, a rolling update), how long the consumer may take to finish its batch
    # and the background workers their round (a send waits for its receiver's answer, at most
    # the webhook timeout) before they are cancelled. Keep it below the orchestrator's own grace
    # (terminationGracePeriodSeconds: 40 s in deploy/k8s; after the grace come up to 10 s to
    # flush the outbox and 5 s for the Kafka producer's stop).
    shutdown_grace_s: float = Field(default=15.0, ge=0)

    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    # Tokens living longer than this (exp - iat) are refused, whoever signed them: a leaked token
    # is good for a day at most. `sanpi token issue` reads the same SANPI_JWT_MAX_TTL_S.
    jwt_max_ttl_s: float = Field(default=86_400.0, gt=0)

    # Origins whose pages may call the API from a browser (CORS), e.g. ["https://portal.example"].
    # Empty: no CORS at all; the portal calls the services from its server, not from pages.
    cors_origins: list[str] = Field(default_factory=list)
    # Writes (POST, PUT, PATCH, DELETE) a second per token subject and replica, once a burst of
    # rate_limit_writes_burst is spent (429 with Retry-After above). A person at the portal writes a few times a
    # minute and bulk work goes through the import and batch routes, so only a runaway script or
    # a stolen token meets the limit. 0 turns it off (`make up` and the test stacks do).
    rate_limit_writes_per_s: float = Field(default=20.0, ge=0)
    # The writes a subject may send at once before the rate above applies.
    rate_limit_writes_burst: int = Field(default=200, ge=1)

    # Largest request body accepted (413 above). 1 MiB holds any JSON command many times over;
    # upload routes (imports) set their own, larger limit on their router.
    max_body_bytes: int = 1_048_576

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> ServiceSettings:
        if self.env != "production":
            return self
        secret = self.jwt_secret.get_secret_value()
        if secret == DEV_JWT_SECRET:
            raise ValueError("jwt_secret: set SANPI_JWT_SECRET; the development secret is refused")
        if len(secret.encode()) < MIN_JWT_SECRET_BYTES:
            # HS256 keys shorter than the hash (32 bytes) fall to an offline guess (RFC 7518 3.2).
            raise ValueError(
                f"jwt_secret: at least {MIN_JWT_SECRET_BYTES} bytes in production "
                f"(this one has {len(secret.encode())}); e.g. openssl rand -base64 48"
            )
        return self

    @property
    def audience(self) -> str:
        """The `aud` a token must name to be accepted here: sanpi-<service>."""
        return audience_of(self.SERVICE)

    @property
    def jwt_max_ttl(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.jwt_max_ttl_s)

    @property
    def effective_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file per service under data_dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / f'{self.SERVICE}.db').resolve()}"

    @property
    def group_id(self) -> str:
        """The Kafka consumer group of this service (replicas share it, and its inbox name)."""
        return self.consumer_group or f"sanpi-{self.SERVICE}"

    @property
    def event_source(self) -> str:
        """The CloudEvents `source` of everything this service publishes."""
        return f"/sanpi/{self.SERVICE}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        shared = _SharedEnvSource(settings_cls, env_prefix="SANPI_")
        return init_settings, env_settings, shared, dotenv_settings, file_secret_settings
