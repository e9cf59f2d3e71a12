"""Uploaded evidence files, and the photo findings of milestones that R16 counts."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from sanpi.kit import UTCDateTime, utcnow


class EvidenceFile(SQLModel, table=True):
    """One uploaded photo of a project. The bytes live in the evidence store, named by SHA-256;
    the same photo uploaded again for the same project is this row again."""

    __tablename__ = "evidence_file"
    __table_args__ = (
        UniqueConstraint("project_id", "sha256", name="evidence_file_project_id_sha256_key"),
        Index("ix_evidence_file_project_created", "project_id", "uploaded_at", "id"),
    )

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    project_id: str = Field(max_length=36)
    sha256: str = Field(max_length=64)
    size_bytes: int
    # What the bytes are (sniffed by Pillow), never what the client declared.
    content_type: str = Field(max_length=64)
    filename: str = Field(default="", max_length=255)
    width: int
    height: int
    # EXIF DateTimeOriginal, read in its own offset (OffsetTimeOriginal) or Asia/Shanghai.
    captured_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The campaign day it was taken on (Asia/Shanghai), what a milestone's date is compared with.
    captured_on: dt.date | None = None
    latitude: float | None = None
    longitude: float | None = None
    uploaded_by: str = Field(max_length=128)
    uploaded_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PhotoFinding(SQLModel, table=True):
    """A photo a milestone cites that does not prove its date: taken on another day, or without
    a capture date. R16 (data quality) counts these within its window."""

    __tablename__ = "photo_finding"

    id: int | None = Field(default=None, primary_key=True)
    project_id: str = Field(max_length=36, index=True)
    milestone_id: str = Field(max_length=36, index=True)
    kind: str = Field(max_length=32, description="the milestone's kind (STARTED …)")
    label: str = Field(default="", max_length=100)
    milestone_date: dt.date
    evidence_id: str = Field(max_length=36)
    code: str = Field(max_length=32, description="PHOTO_DATE_MISMATCH or PHOTO_UNDATED")
    captured_on: dt.date | None = None
    recorded_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
