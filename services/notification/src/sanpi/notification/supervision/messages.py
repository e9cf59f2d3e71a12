"""What a 督办 (supervision) request is refused for, in Chinese and English."""

from __future__ import annotations

from sanpi.kit.messages import template

NO_ITEM = template(
    "supervision.missing",
    zh="督办事项 {item_id} 不存在",
    en="supervision item {item_id} not found",
)
DISTRICT_ITEM = template(
    "supervision.district_admin",
    zh="此督办事项涉及全区，仅管理员可处理",
    en="the item concerns the whole district: only an admin acts on it",
)
CLOSED = template(
    "supervision.closed",
    zh="督办事项 {item_id} 已办结，不能再反馈",
    en="supervision item {item_id} is closed; it takes no more responses",
)
