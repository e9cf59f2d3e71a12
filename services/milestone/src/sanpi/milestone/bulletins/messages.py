"""What a bulletin request is refused for, in Chinese and English."""

from __future__ import annotations

from sanpi.kit.messages import template

BAD_PERIOD = template(
    "bulletin.bad_period",
    zh="应为 2023-03-X2（旬）或 2023-03（月），收到 {given}",
    en="expected a 旬 (2023-03-X2) or a month (2023-03), got {given}",
)
# {why}: the office library's English reason (which fonts it looked for); the Chinese says what
# an operator does about it.
NO_FONT = template(
    "bulletin.no_font",
    zh="无法生成 PDF：服务器没有安装中文字体（运维人员可运行 make fonts-cjk 安装）",
    en="cannot produce the PDF: {why}",
)
