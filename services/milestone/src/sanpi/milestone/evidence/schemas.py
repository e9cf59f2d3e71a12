"""Response models of evidence files."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from sanpi.milestone.evidence.models import EvidenceFile


def evidence_uri(evidence_id: str) -> str:
    """The reference a milestone's `evidence` cites for an uploaded photo."""
    return f"/v1/evidence/{evidence_id}"


class EvidenceFilePublic(BaseModel):
    id: str
    project_id: str
    uri: str = Field(description="cite it in a milestone's evidence; GET it for the bytes")
    sha256: str
    size_bytes: int
    content_type: str = Field(description="what the bytes are (image/jpeg, image/png, image/webp)")
    filename: str = Field(description="the name the file was uploaded under")
    captured_at: dt.datetime | None = Field(
        description="EXIF DateTimeOriginal, in UTC; null if absent"
    )
    captured_on: dt.date | None = Field(
        description="the day it was taken (Asia/Shanghai), compared with a milestone's date"
    )
    width: int
    height: int
    latitude: float | None = Field(description="EXIF GPS position, if the photo has one")
    longitude: float | None
    uploaded_by: str
    uploaded_at: dt.datetime

    @staticmethod
    def of(row: EvidenceFile) -> EvidenceFilePublic:
        return EvidenceFilePublic(
            id=row.id,
            project_id=row.project_id,
            uri=evidence_uri(row.id),
            sha256=row.sha256,
            size_bytes=row.size_bytes,
            content_type=row.content_type,
            filename=row.filename,
            captured_at=row.captured_at,
            captured_on=row.captured_on,
            width=row.width,
            height=row.height,
            latitude=row.latitude,
            longitude=row.longitude,
            uploaded_by=row.uploaded_by,
            uploaded_at=row.uploaded_at,
        )
