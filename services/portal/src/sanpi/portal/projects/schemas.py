"""The filters of 我的项目, checked on the server."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from sanpi.events import ChainTag, Severity, Stage


class ListFilters(BaseModel):
    """What the filter form and the page links carry; each is optional."""

    model_config = ConfigDict(str_strip_whitespace=True)

    park: str | None = Field(default=None, max_length=64)
    stage: Stage | None = None
    period: int | None = Field(default=None, ge=1, le=1000)
    chain: ChainTag | None = None
    colour: Severity | None = None
    q: str | None = Field(default=None, max_length=100)
    cursor: str | None = Field(default=None, max_length=400)
