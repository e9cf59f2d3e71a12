"""Request and response models of the contact book."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from sanpi.kit import Page
from sanpi.notification.contacts.models import Contact

_NAME = Field(min_length=1, max_length=100, description="姓名，如 王建国；或单位值班席位")
_UNIT = Field(min_length=1, max_length=200, description="责任单位，如 梧桐园区运营中心")
_MOBILE = Field(default=None, pattern=r"^1\d{10}$", description="11 位手机号")


class ContactFields(BaseModel):
    """Where a contact is reached; at least one address is needed (checked by the service)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    park: str | None = Field(default=None, min_length=1, max_length=64, description="园区")
    wecom_mobile: str | None = _MOBILE
    wecom_robot_url: str | None = Field(
        default=None, max_length=2000, description="企业微信群机器人 Webhook 地址"
    )
    email: str | None = Field(default=None, max_length=320)
    dingtalk_mobile: str | None = _MOBILE
    dingtalk_robot_url: str | None = Field(default=None, max_length=2000)
    dingtalk_secret: str | None = Field(
        default=None, max_length=200, description="钉钉机器人加签密钥（SEC…），存储时加密"
    )
    feishu_robot_url: str | None = Field(default=None, max_length=2000)
    feishu_secret: str | None = Field(
        default=None, max_length=200, description="飞书机器人签名校验密钥，存储时加密"
    )


class ContactCreate(ContactFields):
    name: str = _NAME
    unit: str = _UNIT


class ContactUpdate(ContactFields):
    """A PATCH: the fields given replace the stored ones (null clears an address)."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    unit: str | None = Field(default=None, min_length=1, max_length=200)
    active: bool | None = None


class ContactPublic(BaseModel):
    id: str
    name: str
    unit: str
    park: str | None
    wecom_mobile: str | None
    wecom_robot_url: str | None
    email: str | None
    dingtalk_mobile: str | None
    dingtalk_robot_url: str | None
    feishu_robot_url: str | None
    has_dingtalk_secret: bool = Field(description="a 钉钉 secret is stored (never shown)")
    has_feishu_secret: bool = Field(description="a 飞书 secret is stored (never shown)")
    active: bool
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, contact: Contact) -> ContactPublic:
        values = contact.model_dump(exclude={"dingtalk_secret", "feishu_secret"})
        return cls(
            **values,
            has_dingtalk_secret=bool(contact.dingtalk_secret),
            has_feishu_secret=bool(contact.feishu_secret),
        )


class ContactsPage(Page[ContactPublic]):
    pass
