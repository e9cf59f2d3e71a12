"""What a bulletin request is refused for, in Chinese and English."""

from __future__ import annotations

from sanpi.kit.messages import template

# {why}: the office library's English reason (which fonts it looked for); the Chinese says what
# an operator does about it.
NO_FONT = template(
    "bulletin.no_font",
    zh="无法生成 PDF：服务器没有安装中文字体（运维人员可运行 make fonts-cjk 安装）",
    en="cannot produce the PDF: {why}",
)
NOT_YET = template(
    "bulletin.not_yet",
    zh="{period}尚未开始（今天是 {today}）：没有可以通报的内容",
    en="{period} has not begun (today is {today}): there is nothing to report",
)
# A 503: the registry could not give the district's indicators the bulletin sets out.
REGISTRY_FAILED = template(
    "bulletin.registry_failed",
    zh="登记服务（{url}）无法提供区级指标：{why}；请稍后再试",
    en="the registry ({url}) could not give the district's indicators: {why}; retry later",
)
REGISTRY_ANSWERED = template(
    "bulletin.registry_answered",
    zh="登记服务的区级指标答复 {status}：请稍后再试",
    en="the registry answered {status} for the district's indicators; retry later",
)
