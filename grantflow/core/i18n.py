"""Language and presentation helpers: locale choice, Riga time, euros, amounts in words."""

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import parse_pattern
from flask import current_app, has_request_context, session
from flask_babel import get_locale
from flask_login import current_user
from num2words import num2words

RIGA = ZoneInfo("Europe/Riga")


def select_locale() -> str:
    """An explicit choice in the session, then the user's preference, then Latvian."""
    languages = current_app.config["LANGUAGES"]
    if has_request_context():
        chosen = session.get("locale")
        if chosen in languages:
            return chosen
        if current_user and current_user.is_authenticated and current_user.locale in languages:
            return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def locale_code() -> str:
    return str(get_locale() or "lv") if has_request_context() else "lv"


def pick(labels: dict, locale: str | None = None) -> str:
    """The text for the current language from a {lv: ..., en: ...} mapping."""
    locale = locale or locale_code()
    return labels.get(locale) or labels.get("lv") or next(iter(labels.values()), "")


def riga(moment: datetime) -> datetime:
    return moment.astimezone(RIGA)


def format_when(moment: datetime | None, locale: str | None = None) -> str:
    if moment is None:
        return ""
    return format_datetime(riga(moment), "d. MMM yyyy, HH:mm", locale=locale or locale_code())


def format_day(day: date | datetime | None, locale: str | None = None) -> str:
    if day is None:
        return ""
    if isinstance(day, datetime):
        day = riga(day).date()
    return format_date(day, "long", locale=locale or locale_code())


def format_points(value: Decimal | None, locale: str | None = None, empty: str = "") -> str:
    """A number with two decimals in the locale's way: 1 234,50 (lv), 1,234.50 (en)."""
    if value is None:
        return empty
    parsed, pattern = _points_format(locale or locale_code())
    return pattern.apply(value, parsed)  # babel's format_decimal, less its parsing on every call


@lru_cache(maxsize=16)
def _points_format(locale: str):
    """The locale and the pattern of format_points, parsed once (a ranking page or the funding
    board formats hundreds of amounts)."""
    return Locale.parse(locale), parse_pattern("#,##0.00")


def format_money(amount: Decimal | None, locale: str | None = None) -> str:
    if amount is None:
        return ""
    return format_points(amount, locale) + " €"


def latvian_date(day: date) -> str:
    """The Latvian way of writing a date in a letter: 2025. gada 15. martā."""
    months = (
        "janvārī", "februārī", "martā", "aprīlī", "maijā", "jūnijā",
        "jūlijā", "augustā", "septembrī", "oktobrī", "novembrī", "decembrī",
    )  # fmt: skip
    return f"{day.year}. gada {day.day}. {months[day.month - 1]}"


def amount_in_words(amount: Decimal, locale: str = "lv") -> str:
    """E.g. 'viens tūkstotis simts viens eiro, 21 cents'. num2words writes the euros; the cents
    stay in figures, as Latvian payment documents write them.

    Latvian: num2words writes 101 as "simtu viens" (a genitive); a hundred before other words
    is "simts" ("simts viens", "tūkstotis simts viens"), and a thousand or million leading the
    amount is "viens tūkstotis". The noun agrees with the number: Latvian numbers ending in 1,
    but not in 11, take the singular ("21 cents", "11 centi"); "eiro" does not change. English:
    "one euro", "two euros", "one cent"."""
    euros = int(amount)
    cents = int((amount - euros) * 100)
    if locale == "lv":
        words = " ".join("simts" if word == "simtu" else word for word in num2words(euros, lang="lv").split())
        if words.startswith(("tūkstotis", "miljons", "miljards")):
            words = "viens " + words
        cent_word = "cents" if cents % 10 == 1 and cents % 100 != 11 else "centi"
        return f"{words} eiro, {cents:02d} {cent_word}"
    euro_word = "euro" if euros == 1 else "euros"
    cent_word = "cent" if cents == 1 else "cents"
    return f"{num2words(euros, lang='en')} {euro_word}, {cents:02d} {cent_word}"
