"""The account forms, checked on the server (messages in the page's language)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from sanpi.kit import Role
from sanpi.portal.i18n import _

# NIST SP 800-63B: length, not composition rules; at most what argon2 is comfortable hashing.
PASSWORD_MIN = 10
PASSWORD_MAX = 128
Password = Annotated[str, Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)]


class LoginForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=False)

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=PASSWORD_MAX)


class AccountFields(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    display_name: str = Field(min_length=1, max_length=100)
    role: Role
    parks: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=100, validate_default=True
    )
    disabled: bool = False

    @field_validator("parks")
    @classmethod
    def _operator_has_parks(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if info.data.get("role") is Role.OPERATOR and not value:
            raise ValueError(_("A park operator needs at least one park."))
        return value


class PasswordFields(BaseModel):
    password: Password
    password_confirm: str = Field(min_length=1, max_length=PASSWORD_MAX)

    @field_validator("password_confirm")
    @classmethod
    def _same(cls, value: str, info: ValidationInfo) -> str:
        if "password" in info.data and value != info.data["password"]:
            raise ValueError(_("The two passwords differ."))
        return value


class NewAccount(AccountFields, PasswordFields):
    username: str = Field(min_length=2, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.\-]{1,63}$")
