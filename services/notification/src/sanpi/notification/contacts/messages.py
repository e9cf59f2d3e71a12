"""What a contact request is refused for, in Chinese and English."""

from __future__ import annotations

from sanpi.kit.messages import template

NO_ADDRESS = template(
    "contact.no_address",
    zh="联系人至少需要一个联系方式：{names}",
    en="a contact needs at least one address: {names}",
)
ONE_ADDRESS = template(
    "contact.one_address",
    zh="至少填写一个联系方式（{label}等）",
    en="give at least one address ({label} or another)",
)
SECRET_WITHOUT_URL = template(
    "contact.secret_without_url",
    zh="没有 {url_field} 时不使用此字段",
    en="not used without {url_field}",
)
NOT_AN_EMAIL = template(
    "contact.not_an_email", zh="不是有效的电子邮箱地址", en="not an e-mail address"
)
NO_CONTACT = template(
    "contact.missing", zh="联系人 {contact_id} 不存在", en="contact {contact_id} not found"
)
NOT_NULL = template("contact.not_null", zh="不能为空", en="may not be null")
FIELD_NOT_NULL = template(
    "contact.field_not_null", zh="{field}: 不能为空", en="{field}: may not be null"
)
