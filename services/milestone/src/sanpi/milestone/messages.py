"""Refusals every area of the milestone service shares (a project it has not heard of), in
Chinese and English; each area's own refusals live in its messages module."""

from __future__ import annotations

from sanpi.kit.messages import template

UNKNOWN_PROJECT = template(
    "project.unknown",
    zh="项目 {project_id} 不存在（里程碑服务尚未收到它的登记）",
    en="project {project_id} is not known to the milestone service",
)
