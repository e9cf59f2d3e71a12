"""Portal settings: SANPI_PORTAL_* environment variables (shared ones may be SANPI_*)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from sanpi.kit import Runtime, ServiceSettings


class PortalSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SANPI_PORTAL_", extra="ignore")

    SERVICE: ClassVar[str] = "portal"

    port: int = 8000
    # The portal publishes no events and consumes none: it owns accounts only and reaches the
    # other services over their HTTP APIs.
    kafka_enabled: bool = False

    # Where the registry service answers (its local port by default).
    registry_url: str = "http://127.0.0.1:8001"
    # Where the milestone service answers.
    milestone_url: str = "http://127.0.0.1:8002"
    # Where the notification service answers.
    notification_url: str = "http://127.0.0.1:8003"
    # A page waits this long for a service before it shows "service unavailable": a healthy
    # service answers a page's reads in tens of milliseconds.
    upstream_timeout_s: float = 10.0
    # The token the portal mints for a user lives this long; it is renewed a minute before.
    # Short: a disabled account or a changed role reaches the services within minutes.
    upstream_token_ttl_s: int = 300

    # Sessions: the cookie dies when the browser closes; the server forgets a session after
    # this much idle time (a working day) ...
    session_idle_s: int = 8 * 3600
    # ... and after this long whatever happens (a week).
    session_max_s: int = 7 * 86400
    # Secure cookies: "auto" sets Secure when the request came over HTTPS (directly or as
    # X-Forwarded-Proto from a trusted proxy); "always" for deployments behind TLS only.
    cookie_secure: str = Field(default="auto", pattern="^(auto|always|never)$")
    # Proxies whose X-Forwarded-Proto/For are believed (the ingress); empty: none.
    trusted_proxies: list[str] = Field(default_factory=list)

    # Lock-out (OWASP ASVS 2.2.1): after this many wrong passwords in a row an account is
    # locked for lockout_s; a successful login resets the count.
    lockout_failures: int = 5
    # How long a locked account refuses every login.
    lockout_s: int = 15 * 60
    # Rate limit of login attempts per client address (any user name): a burst of 10, then one
    # every 6 s. Guessing across many accounts from one address is slowed, not only one account.
    login_burst: int = 10
    # Seconds for one more login attempt to be allowed after the burst.
    login_refill_s: float = 6.0

    # Photos of milestones go through the portal to the milestone service, which takes 10 MiB
    # (a phone's full-resolution JPEG is 3-8 MiB); a bigger one is refused there, in words.
    upload_max_bytes: int = 12 * 1024 * 1024

    # Rows per page of the lists.
    page_size: int = 20

    # The admin account `make up` creates; its password is written to this file (mode 600).
    admin_password_file: Path = Path(".run/portal-admin.password")


def settings_of(runtime: Runtime) -> PortalSettings:
    """The portal's settings from the running app."""
    settings = runtime.settings
    assert isinstance(settings, PortalSettings)
    return settings
