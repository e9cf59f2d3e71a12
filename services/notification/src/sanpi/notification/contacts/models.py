"""The contact table: one person of a responsible unit (责任单位), with where to reach them."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlmodel import Field, SQLModel

from sanpi.kit import UTCDateTime, utcnow


class Contact(SQLModel, table=True):
    """A person (or a unit's duty desk) that 督办 items reach. Robot secrets are sealed."""

    __tablename__ = "notification_contact"

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    name: str = Field(max_length=100)
    unit: str = Field(max_length=200, index=True)  # 责任单位
    park: str | None = Field(default=None, max_length=64, index=True)
    # 企业微信: a mobile number @-mentioned in a group robot's message, and/or the group robot
    # of the contact's unit (else the alert subscription's own robot carries the mention).
    wecom_mobile: str | None = Field(default=None, max_length=11)
    wecom_robot_url: str | None = Field(default=None, max_length=2000)
    email: str | None = Field(default=None, max_length=320)
    dingtalk_mobile: str | None = Field(default=None, max_length=11)
    dingtalk_robot_url: str | None = Field(default=None, max_length=2000)
    dingtalk_secret: str | None = Field(default=None, max_length=512)
    feishu_robot_url: str | None = Field(default=None, max_length=2000)
    feishu_secret: str | None = Field(default=None, max_length=512)
    active: bool = True
    version: int = 1
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
