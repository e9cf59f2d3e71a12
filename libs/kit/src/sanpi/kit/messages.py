"""Messages a person reads about bad input, Chinese first and English on request: a catalogue of
templates with stable codes, the request's language, field labels, and pydantic's errors in Chinese.

A batch answer's rows and a sheet import's rows speak the same way: `FieldMessage.render(lang)`
gives `{"field", "message"}` (message `「累计完成投资」：应为整数万元，收到 "约3亿"`) and
`FieldMessage.for_row(12, lang)` the line of a sheet (`第 12 行「总投资」：…`)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from fastapi import Header
from pydantic_core import ErrorDetails

# The field labels live in sanpi.events (the command line reads them without the kit).
from sanpi.events.labels import LABELS

Lang = Literal["zh", "en"]
LANGUAGES: tuple[Lang, ...] = ("zh", "en")

# --- templates ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """One message in both languages; `{name}` placeholders are filled from the Message's params
    (str.format, so a literal brace is doubled)."""

    code: str
    zh: str
    en: str

    def __call__(self, **params: Any) -> Message:
        return Message(self, params)

    def text(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en


CATALOGUE: dict[str, Template] = {}


def template(code: str, *, zh: str, en: str) -> Template:
    """Registers a message under a stable code (a code is defined once, wherever its area is)."""
    if code in CATALOGUE and CATALOGUE[code] != Template(code, zh, en):
        raise ValueError(f"message code {code} is defined twice")
    found = CATALOGUE[code] = Template(code, zh, en)
    return found


@dataclass(frozen=True)
class Message:
    """A template with its values: rendered late, in the language of whoever reads it."""

    template: Template
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return self.template.code

    def render(self, lang: Lang) -> str:
        values = {k: _localise(v, lang) for k, v in self.params.items()}
        return self.template.text(lang).format(**values)


class MessageError(ValueError):
    """A ValueError a pydantic validator raises with a catalogued message: pydantic reports its
    English text (str), the catalogue gives the Chinese."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.render("en"))
        self.message = message


@dataclass(frozen=True)
class Bilingual:
    """A value that reads differently per language (a field label inside another message)."""

    zh: str
    en: str

    def render(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en


def _localise(value: Any, lang: Lang) -> Any:
    if isinstance(value, Bilingual):
        return value.zh if lang == "zh" else value.en
    if isinstance(value, Message):
        return value.render(lang)
    return value


def quoted(value: Any) -> str:
    """A value a person typed, quoted as JSON writes it (Chinese left readable): "约3亿"."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(value)


# --- the request's language -------------------------------------------------------------------------


def language(accept_language: str | None, default: Lang = "zh") -> Lang:
    """The language of an Accept-Language header (RFC 9110 §12.5.4: the highest q wins, ties in
    header order): zh or en, else `default` (no header, `*`, only other languages)."""
    if not accept_language:
        return default
    best: tuple[float, int, Lang] | None = None
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        primary = tag.split("-")[0]
        if q <= 0 or primary not in LANGUAGES:
            continue
        candidate = (-q, position, primary)
        if best is None or candidate < best:
            best = candidate
    return best[2] if best is not None else default


# The request header a route reads the reader's language from (`language(accept_language)`).
AcceptLanguage = Annotated[
    str | None,
    Header(
        alias="Accept-Language",
        description="the language of messages for people: Chinese (default) or en",
    ),
]


# --- field labels -----------------------------------------------------------------------------------


def field_label(name: str, lang: Lang) -> str:
    """A dotted field as people call it: `problems.0.description` → 存在问题第 1 项描述."""
    parts = name.split(".")
    out: list[str] = []
    for part in parts:
        if part.isdigit():
            n = int(part) + 1
            out.append(f"第 {n} 项" if lang == "zh" else f"#{n}")
            continue
        known = LABELS.get(part)
        out.append((known.zh if lang == "zh" else known.en) if known else part)
    return "".join(out) if lang == "zh" else " ".join(out)


def unit(name: str, lang: Lang) -> str:
    known = LABELS.get(name.split(".")[-1])
    if known is None:
        return ""
    return known.unit_zh if lang == "zh" else known.unit_en


# --- messages about a field -------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldMessage:
    """What is wrong with one field (dotted, as in problem+json `errors`)."""

    field: str
    message: Message

    def text(self, lang: Lang) -> str:
        """The message with the field's label: 「累计完成投资」：不能小于 0."""
        if not self.field:
            return self.message.render(lang)
        name = field_label(self.field, lang)
        said = self.message.render(lang)
        return f"「{name}」：{said}" if lang == "zh" else f"{name}: {said}"

    def render(self, lang: Lang) -> dict[str, str]:
        return {"field": self.field, "message": self.text(lang)}

    def for_row(self, row: int, lang: Lang) -> str:
        """One line of a sheet's report: 第 12 行「总投资」：应为整数万元，收到 "约3亿"."""
        said = self.message.render(lang)
        if not self.field:
            return f"第 {row} 行：{said}" if lang == "zh" else f"Row {row}: {said}"
        name = field_label(self.field, lang)
        return f"第 {row} 行「{name}」：{said}" if lang == "zh" else f"Row {row} {name}: {said}"


def render_all(problems: Iterable[FieldMessage], lang: Lang) -> list[dict[str, str]]:
    return [p.render(lang) for p in problems]


# --- pydantic's errors -----------------------------------------------------------------------------

REQUIRED = template("input.required", zh="必须填写", en="field required")
NOT_INTEGER = template("input.integer", zh="应为整数{unit}，收到 {input}", en="{msg}")
NOT_NUMBER = template("input.number", zh="应为数字{unit}，收到 {input}", en="{msg}")
NOT_BOOL = template("input.bool", zh="应为 true 或 false，收到 {input}", en="{msg}")
NOT_DATE = template("input.date", zh="应为日期（如 2023-03-01），收到 {input}", en="{msg}")
NOT_TEXT = template("input.text", zh="应为文字，收到 {input}", en="{msg}")
NOT_LIST = template("input.list", zh="应为列表", en="{msg}")
NOT_OBJECT = template("input.object", zh="应为对象（JSON 对象）", en="{msg}")
AT_LEAST = template("input.ge", zh="不能小于 {limit}{unit}", en="{msg}")
ABOVE = template("input.gt", zh="应大于 {limit}{unit}", en="{msg}")
AT_MOST = template("input.le", zh="不能大于 {limit}{unit}", en="{msg}")
BELOW = template("input.lt", zh="应小于 {limit}{unit}", en="{msg}")
EMPTY = template("input.empty", zh="不能为空", en="{msg}")
TOO_SHORT = template("input.too_short", zh="至少 {limit} 个字符", en="{msg}")
TOO_LONG = template("input.too_long", zh="最多 {limit} 个字符，收到 {actual} 个", en="{msg}")
TOO_FEW = template("input.too_few", zh="至少 {limit} 项", en="{msg}")
TOO_MANY = template("input.too_many", zh="最多 {limit} 项，收到 {actual} 项", en="{msg}")
UNKNOWN_FIELD = template("input.unknown_field", zh="不认识的字段", en="{msg}")
ONE_OF = template("input.one_of", zh="应为 {expected} 之一，收到 {input}", en="{msg}")
NOT_URL = template(
    "input.url", zh="应为网址（如 https://example.cn/hook），收到 {input}", en="{msg}"
)
URL_SCHEME = template("input.url_scheme", zh="网址应以 {schemes} 开头，收到 {input}", en="{msg}")
INVALID = template("input.invalid", zh="不合法：{msg}", en="{msg}")

_BY_TYPE: dict[str, Template] = {
    "int_parsing": NOT_INTEGER,
    "int_type": NOT_INTEGER,
    "int_from_float": NOT_INTEGER,
    "float_parsing": NOT_NUMBER,
    "float_type": NOT_NUMBER,
    "finite_number": NOT_NUMBER,
    "bool_parsing": NOT_BOOL,
    "bool_type": NOT_BOOL,
    "date_parsing": NOT_DATE,
    "date_type": NOT_DATE,
    "date_from_datetime_parsing": NOT_DATE,
    "date_from_datetime_inexact": NOT_DATE,
    "string_type": NOT_TEXT,
    "list_type": NOT_LIST,
    "dict_type": NOT_OBJECT,
    "model_type": NOT_OBJECT,
    "model_attributes_type": NOT_OBJECT,
    "extra_forbidden": UNKNOWN_FIELD,
    "url_parsing": NOT_URL,
    "url_type": NOT_URL,
    "enum": ONE_OF,
    "literal_error": ONE_OF,
}
_LIMITS: dict[str, tuple[Template, str]] = {
    "greater_than_equal": (AT_LEAST, "ge"),
    "greater_than": (ABOVE, "gt"),
    "less_than_equal": (AT_MOST, "le"),
    "less_than": (BELOW, "lt"),
}


def field_name(loc: Sequence[int | str], skip: int = 0) -> str:
    """A pydantic location as a dotted field: ("body", "reports", 3, "cum") with skip=1 →
    reports.3.cum; "" for the whole row (a model-level check)."""
    return ".".join(str(p) for p in loc[skip:])


def from_pydantic(error: ErrorDetails, field_: str) -> FieldMessage:
    """One of pydantic's errors as a catalogued message about `field_`."""
    kind = error.get("type", "")
    msg = str(error.get("msg", "invalid"))
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    given = error.get("input")
    common = {"msg": msg, "input": quoted(given), "unit": _unit(field_)}
    if kind == "missing":
        return FieldMessage(field_, REQUIRED())
    if kind == "value_error" and isinstance(ctx.get("error"), MessageError):
        return FieldMessage(field_, ctx["error"].message)
    if kind in _LIMITS:
        found, key = _LIMITS[kind]
        return FieldMessage(field_, found(**common, limit=_number(ctx.get(key))))
    if kind == "string_too_short":
        limit = ctx.get("min_length", 1)
        return FieldMessage(
            field_, EMPTY(**common) if limit == 1 else TOO_SHORT(**common, limit=limit)
        )
    if kind == "string_too_long":
        actual = len(given) if isinstance(given, str) else "?"
        return FieldMessage(field_, TOO_LONG(**common, limit=ctx.get("max_length"), actual=actual))
    if kind == "too_short":
        return FieldMessage(field_, TOO_FEW(**common, limit=ctx.get("min_length")))
    if kind == "too_long":
        return FieldMessage(
            field_,
            TOO_MANY(**common, limit=ctx.get("max_length"), actual=ctx.get("actual_length")),
        )
    if kind in ("enum", "literal_error"):
        return FieldMessage(field_, ONE_OF(**common, expected=ctx.get("expected", "?")))
    if kind == "url_scheme":
        # pydantic's "'http' or 'https'" as Chinese lists it: http 或 https.
        schemes = str(ctx.get("expected_schemes", "?")).replace("'", "")
        schemes = schemes.replace(" or ", " 或 ").replace(", ", "、")
        return FieldMessage(field_, URL_SCHEME(**common, schemes=schemes))
    return FieldMessage(field_, _BY_TYPE.get(kind, INVALID)(**common))


def _number(value: Any) -> Any:
    """100.0 as people write it: 100."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _unit(field_: str) -> Bilingual:
    return Bilingual(unit(field_, "zh"), unit(field_, "en"))


def from_validation_errors(
    errors: Iterable[ErrorDetails], *, skip: int = 0, prefix: str = ""
) -> list[FieldMessage]:
    """pydantic's errors (ValidationError.errors()) as catalogued messages, each about its field
    (`skip` leading parts of the location dropped, `prefix` put before)."""
    out = []
    for error in errors:
        name = field_name(error.get("loc", ()), skip)
        if prefix:
            name = f"{prefix}.{name}" if name else prefix
        out.append(from_pydantic(error, name))
    return out


def zh_date(value: dt.date) -> str:
    """A day as Chinese text writes it: 2023年3月1日."""
    return f"{value.year}年{value.month}月{value.day}日"
