"""Request and response models of digests: a subscription's digest settings and the digests sent."""

from __future__ import annotations

import datetime as dt
import json
import re

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from sanpi.kit import FieldProblem, InvalidInput
from sanpi.notification.digests import messages as refusals

WALL_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
# Declared in the OpenAPI document; checked by `problems` so that a bad time is answered in
# Chinese, naming the field (pydantic's own pattern error reads "String should match pattern").
_TIME: JsonDict = {"pattern": WALL_CLOCK.pattern}


class DigestOptions(BaseModel):
    """A digest of the subscription's red alerts, per park: what turned red, what is still red,
    what was resolved since the last one. Daily at `daily_at` and/or at the end of each 旬 (X1 on
    the 10th, X2 on the 20th, X3 at month end) at `xun_at`, Asia/Shanghai. `working_days_only`
    skips weekends and public holidays and sends on 调休 make-up days (a 旬 ending on a day off is
    summed up on the next working day). `instead_of_immediate`: the digest replaces the immediate
    messages (no message per alert, no reminders, no escalation from this subscription)."""

    model_config = ConfigDict(extra="forbid")

    daily_at: str | None = Field(
        default=None,
        max_length=16,
        examples=["08:30"],
        description="every day at this time (HH:MM, Asia/Shanghai)",
        json_schema_extra=_TIME,
    )
    xun_at: str | None = Field(
        default=None,
        max_length=16,
        examples=["17:30"],
        description="on the last day of each 旬 at this time (HH:MM, Asia/Shanghai)",
        json_schema_extra=_TIME,
    )
    working_days_only: bool = False
    instead_of_immediate: bool = False

    def problems(self, prefix: str = "digest") -> list[FieldProblem]:
        """What is wrong, each naming its field (catalogued: answered in the reader's language)."""
        found = []
        for name in ("daily_at", "xun_at"):
            value = getattr(self, name)
            if value is not None and not WALL_CLOCK.fullmatch(value):
                shown = json.dumps(value, ensure_ascii=False)
                found.append(FieldProblem(f"{prefix}.{name}", refusals.NOT_A_TIME(given=shown)))
        if self.daily_at is None and self.xun_at is None:
            found.append(FieldProblem(prefix, refusals.NO_TIME()))
        return found

    def check(self, prefix: str = "digest") -> None:
        """Raises a 422 naming each bad field."""
        found = self.problems(prefix)
        if found:
            raise InvalidInput.naming(found)


class DigestPublic(BaseModel):
    """A digest that was queued: which slot, the window it covers, and what it counted."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    subscription_id: str
    kind: str = Field(description="daily or xun")
    slot: str = Field(description="the day (2025-09-28) or the 旬 (2025-09-X3)")
    due_at: dt.datetime
    window_start: dt.datetime
    window_end: dt.datetime
    turned_red: int
    still_red: int
    resolved: int
    delivery_id: str = Field(description="follow it in GET /v1/deliveries")
    created_at: dt.datetime
