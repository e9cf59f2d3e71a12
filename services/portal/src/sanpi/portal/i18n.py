"""Languages of the pages: Chinese by default, English as a switch; gettext catalogues read with
Babel, and the formats of dates, amounts and severities in each language."""

from __future__ import annotations

import datetime as dt
import gettext as gettext_module
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from sanpi.kit import CAMPAIGN_TZ

LOCALE_DIR = Path(__file__).parent / "locale"
# The msgids are English; Chinese is a catalogue like any other, and the default.
LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
BABEL_LOCALES = {"zh": "zh_Hans_CN", "en": "en"}
DOMAIN = "messages"

_language: ContextVar[str] = ContextVar("sanpi_portal_language", default=DEFAULT_LANGUAGE)


@cache
def translations(language: str) -> gettext_module.NullTranslations:
    """The catalogue of `language`, compiled from its .po in memory (no build step, no .mo in
    the repository); English answers the msgids themselves."""
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language == "en" or not path.exists():
        return gettext_module.NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=BABEL_LOCALES[language], domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext_module.GNUTranslations(compiled)


def language() -> str:
    return _language.get()


@contextmanager
def use_language(lang: str) -> Iterator[None]:
    """Pages, messages and formats inside are in `lang` (a request's, or a test's)."""
    token = _language.set(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        _language.reset(token)


def set_language(lang: str) -> None:
    """For the rest of this task (a request): the middleware sets it once per request."""
    _language.set(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)


def _(message: str, **values: object) -> str:
    """The message in the current language, with %(name)s placeholders filled."""
    text = translations(language()).gettext(message)
    return text % values if values else text


def ngettext(singular: str, plural: str, n: int, **values: object) -> str:
    text = translations(language()).ngettext(singular, plural, n)
    return text % {"num": n, **values}


def N_(message: str) -> str:  # noqa: N802 - gettext's name for "mark for extraction only"
    """Marks a msgid for extraction where it is defined; translated where it is shown."""
    return message


# --- formats ----------------------------------------------------------------------------------


def day(value: dt.date | str | None) -> str:
    """2023年3月1日 in Chinese, Mar 1, 2023 in English; an empty string for no date. Takes the
    ISO text the services answer too."""
    if not value:
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        value = value.astimezone(CAMPAIGN_TZ).date()
    lang = language()
    return format_date(value, "long" if lang == "zh" else "medium", locale=BABEL_LOCALES[lang])


def moment(value: dt.datetime | str | None) -> str:
    """A timestamp on the campaign's clock (Asia/Shanghai), to the minute."""
    if not value:
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    lang = language()
    pattern = "yyyy年M月d日 HH:mm" if lang == "zh" else "MMM d, yyyy HH:mm"
    return format_datetime(
        value.astimezone(CAMPAIGN_TZ), pattern, tzinfo=CAMPAIGN_TZ, locale=BABEL_LOCALES[lang]
    )


# 1亿 = 10,000万: at and above it officials read 亿元 (docs/domain.md#amounts-and-dates).
YI_IN_WAN = 10_000


def amount(wan: int | float | None) -> str:
    """An amount held in 万元: 5,000万元 / 12.35亿元; in English CNY 50.0 m / CNY 1.24 bn."""
    if wan is None:
        return ""
    if language() == "zh":
        if abs(wan) >= YI_IN_WAN:
            return f"{wan / YI_IN_WAN:,.2f}亿元"
        return f"{wan:,.0f}万元"
    millions = wan / 100  # 1万元 = 10,000 CNY
    if abs(millions) >= 1000:
        return f"CNY {millions / 1000:,.2f} bn"
    return f"CNY {millions:,.1f} m"


def percent(ratio: float | None, digits: int = 1) -> str:
    if ratio is None:
        return "—"
    return f"{ratio * 100:.{digits}f}%"


def report_period(key: str | None) -> str:
    """A report period's key as people say it: 2023-06-X1 → 2023年6月上旬 (early June 2023),
    2023-06 → 2023年6月 (June 2023)."""
    if not key:
        return ""
    from sanpi.events.xun import parse_period

    try:
        period = parse_period(key)
    except ValueError:
        return key
    # Named once, in sanpi.events: the sheets, the bulletin and the digests say the same.
    return period.zh if language() == "zh" else period.en
