"""The filters of the 督办 list and its two forms (respond, close)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class SupervisionFilters(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    tab: Literal["active", "closed"] = "active"
    park: str | None = Field(default=None, max_length=64)
    unit: str | None = Field(default=None, max_length=200)
    cursor: str | None = Field(default=None, max_length=400)


class RespondForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    item_id: str = Field(min_length=1, max_length=36)
    response: str = Field(min_length=1, max_length=2000)


class CloseForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    item_id: str = Field(min_length=1, max_length=36)
    note: str | None = Field(default=None, max_length=2000)
