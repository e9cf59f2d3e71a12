"""Shared domain vocabulary (DOMAIN.md §2.1): lifecycle stages, milestone kinds, parks, severities."""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    """Lifecycle stage of a project (DOMAIN.md §2.3). The milestone service is its only writer."""

    SIGNED = "SIGNED"  # 签约
    FULFILLING = "FULFILLING"  # 履约
    UNDER_CONSTRUCTION = "UNDER_CONSTRUCTION"  # 开工 / 在建
    IN_PRODUCTION = "IN_PRODUCTION"  # 投产
    EFFECTIVE = "EFFECTIVE"  # 达效
    SUSPENDED = "SUSPENDED"  # 停工 / 暂停
    CANCELLED = "CANCELLED"  # 终止 / 清退


class MilestoneKind(StrEnum):
    """The milestone kinds of DOMAIN.md §2.2; FULFILLED, STARTED, IN_PRODUCTION, EFFECTIVE move the stage."""

    SIGNED = "SIGNED"
    FULFILLED = "FULFILLED"
    LAND_ACQUIRED = "LAND_ACQUIRED"
    PLANNING_PERMIT = "PLANNING_PERMIT"
    CONSTRUCTION_PERMIT = "CONSTRUCTION_PERMIT"
    STARTED = "STARTED"
    TOPPED_OUT = "TOPPED_OUT"
    EQUIPMENT_IN = "EQUIPMENT_IN"
    COMPLETED = "COMPLETED"
    TRIAL_PRODUCTION = "TRIAL_PRODUCTION"
    IN_PRODUCTION = "IN_PRODUCTION"
    EFFECTIVE = "EFFECTIVE"
    IN_STATISTICS = "IN_STATISTICS"
    CUSTOM = "CUSTOM"


class Severity(StrEnum):
    """Alert colours, lowercase on the wire (ARCHITECTURE.md, HTTP contract)."""

    BLUE = "blue"
    GREEN = "green"
    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"


SEVERITY_ORDER: dict[Severity, int] = {
    Severity.BLUE: 0,
    Severity.GREEN: 1,
    Severity.YELLOW: 2,
    Severity.ORANGE: 3,
    Severity.RED: 4,
}

# The four park operation centres of 郑州高新区 (seed 004). Deployments for other districts
# configure their own list in the registry's settings.
ZHENGZHOU_HIGH_TECH_PARKS: tuple[str, ...] = ("梧桐", "双桥", "石佛", "枫杨")
