"""Language and presentation helpers: locale choice, Riga time, euros, amounts in words."""

import re
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import parse_pattern
from flask import current_app, has_request_context, request, session
from flask_babel import get_locale
from flask_babel import gettext as _gettext
from flask_babel import ngettext as _ngettext
from flask_login import current_user
from markupsafe import Markup, escape
from num2words import num2words

RIGA = ZoneInfo("Europe/Riga")


def N_(message: str) -> str:
    """Marks a message for the catalogues without translating it where it is written (it is
    translated where it is shown)."""
    return message


class Translatable(str):
    """A sentence for people kept as its message id and named parameters, e.g. a problem a
    workflow or form loader found in a file: `Translatable("unknown key %(key)s", key="'x'")`.

    Loaders sit below the pages and run outside requests (start-up, `flask workflow check`), so
    they cannot translate where they write. The value itself is the English text (logs, the
    command line, comparisons and `in` in tests read English); `str()` and a template's `{{ }}`
    give the text in the request's language, and English outside a request. Parameters that are
    Translatable themselves (where in the file, a kind of value) are rendered in the same
    language; other parameters (the file's own keys, as typed) stay as they are. With `plural`,
    `num` chooses the form (ngettext). Extracted for the catalogues by the keyword
    `Translatable` (catalogues.KEYWORDS)."""

    def __new__(cls, msgid: str, plural: str | None = None, **params):
        english = _english(msgid, plural, params)
        self = super().__new__(cls, english)
        self.msgid, self.plural, self.params = msgid, plural, params
        return self

    def __str__(self) -> str:
        if not has_request_context():
            return str.__str__(self)
        params = {k: str(v) if isinstance(v, Translatable) else v for k, v in self.params.items()}
        if self.plural is not None:
            return _ngettext(self.msgid, self.plural, **params)
        return _gettext(self.msgid, **params)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __html__(self) -> Markup:
        return escape(str(self))

    def __repr__(self) -> str:
        return f"Translatable({str.__str__(self)!r})"

    def __reduce__(self):
        return (_rebuild, (self.msgid, self.plural, self.params))


def ntranslatable(singular: str, plural: str, num: int, **params) -> Translatable:
    """A Translatable with a singular and a plural ("%(num)d idea", "%(num)d ideas"), chosen
    by `num` in each language (extracted by the keyword `ntranslatable`)."""
    return Translatable(singular, plural, num=num, **params)


def _rebuild(msgid, plural, params):
    return Translatable(msgid, plural, **params)


def _english(msgid: str, plural: str | None, params: dict) -> str:
    params = {k: str.__str__(v) if isinstance(v, Translatable) else v for k, v in params.items()}
    text = plural if plural is not None and params.get("num") != 1 else msgid
    return text % params if params else text


# The kind of a value found where another was expected, named for people ("must be text, not a
# number"), not by Python's type name.
KINDS_OF_VALUE = {
    bool: N_("yes or no"),
    int: N_("a number"),
    float: N_("a number"),
    list: N_("a list"),
    dict: N_("a mapping"),
    str: N_("text"),
}


def kind_of(value) -> Translatable:
    """What `value` is, for a sentence: "a number", "a list", "a mapping", "yes or no"…"""
    return Translatable(KINDS_OF_VALUE.get(type(value), N_("something else")))


def unreadable(error: OSError) -> Translatable:
    """Why a data file (a workflow or form file) could not be read, for people."""
    if isinstance(error, FileNotFoundError):
        return Translatable("cannot read the file: it is not there")
    if isinstance(error, PermissionError):
        return Translatable("cannot read the file: GrantFlow may not read it (permissions)")
    if isinstance(error, IsADirectoryError):
        return Translatable("cannot read the file: it is a folder")
    return Translatable("cannot read the file (%(reason)s)", reason=error.strerror or type(error).__name__)


def not_yaml(error: Exception) -> Translatable:
    """A data file that is not valid YAML, with where the reader stopped (line and column, as
    an editor counts them) and the YAML reader's own words (English, kept for the English text)."""
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    detail = " ".join(str(getattr(error, "problem", None) or error).split())
    if mark is None:
        return Translatable("not valid YAML: %(detail)s", detail=detail)
    return Translatable(
        "not valid YAML at line %(line)d, column %(column)d: %(detail)s",
        line=mark.line + 1,
        column=mark.column + 1,
        detail=detail,
    )


# Flask-Login flashes it through gettext (see create_app), so it reads in the page's language.
LOGIN_MESSAGE = N_("Please log in to see this page.")


def select_locale() -> str:
    """A page's own language (`?lang=en`, the addresses search engines are given for each
    language, kept as the choice from then on), an explicit choice in the session, then the
    user's preference, then Latvian."""
    languages = current_app.config["LANGUAGES"]
    if has_request_context():
        asked = request.args.get("lang")
        if asked in languages:
            if session.get("locale") != asked:
                session["locale"] = asked
            return asked
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


# One way of writing dates and numbers per language, used by every filter, page, mail and
# document: Latvian "24. nov. 2026", "1 234,50"; English "24 Nov 2026", "1,234.50".
DATE_PATTERNS = {"lv": "d. MMM y", "en": "d MMM y"}


def _date_pattern(locale: str) -> str:
    return DATE_PATTERNS.get(locale, DATE_PATTERNS["lv"])


def format_when(moment: datetime | None, locale: str | None = None) -> str:
    """A moment in Riga time: "24. nov. 2026, 16:52" (lv), "24 Nov 2026, 16:52" (en)."""
    if moment is None:
        return ""
    locale = locale or locale_code()
    return format_datetime(riga(moment), _date_pattern(locale) + ", HH:mm", locale=locale)


def format_day(day: date | datetime | None, locale: str | None = None) -> str:
    """A day: "24. nov. 2026" (lv), "24 Nov 2026" (en); a moment is taken in Riga time."""
    if day is None:
        return ""
    if isinstance(day, datetime):
        day = riga(day).date()
    locale = locale or locale_code()
    return format_date(day, _date_pattern(locale), locale=locale)


def format_points(value: Decimal | None, locale: str | None = None, empty: str = "") -> str:
    """A number with two decimals in the locale's way: 1 234,50 (lv), 1,234.50 (en)."""
    if value is None:
        return empty
    parsed, pattern = _number_format(locale or locale_code(), "#,##0.00")
    return pattern.apply(value, parsed)  # babel's format_decimal, less its parsing on every call


def format_number(value, locale: str | None = None, empty: str = "—") -> str:
    """Points, weights and counts as few decimals as they need: 7,5 / 10 (lv), 7.5 / 10 (en)."""
    if value is None:
        return empty
    parsed, pattern = _number_format(locale or locale_code(), "#,##0.##")
    return pattern.apply(Decimal(str(value)), parsed)


def format_input(value: Decimal | None, locale: str | None = None) -> str:
    """An amount as a money field shows it to be typed over: 345,67 (lv), 345.67 (en); no
    thousands separators (the field reads them, but a person editing the number need not)."""
    if value is None:
        return ""
    parsed, pattern = _number_format(locale or locale_code(), "0.00")
    return pattern.apply(value, parsed)


@lru_cache(maxsize=32)
def _number_format(locale: str, pattern: str):
    """The locale and a pattern, parsed once (a ranking page or the funding board formats
    hundreds of numbers)."""
    return Locale.parse(locale), parse_pattern(pattern)


def format_money(amount: Decimal | None, locale: str | None = None) -> str:
    if amount is None:
        return ""
    return format_points(amount, locale) + " €"


# Latvian month names in the cases a sentence asks for: "2027. gada 1. aprīlis" (nominative),
# "no 2027. gada 1. aprīļa" (genitive), "līdz 2027. gada 30. jūnijam" (dative), "uz 2027. gada
# 1. aprīli" (accusative), "2027. gada 1. aprīlī" (locative).
LATVIAN_MONTHS = {
    "nominative": ("janvāris", "februāris", "marts", "aprīlis", "maijs", "jūnijs",
                   "jūlijs", "augusts", "septembris", "oktobris", "novembris", "decembris"),
    "genitive": ("janvāra", "februāra", "marta", "aprīļa", "maija", "jūnija",
                 "jūlija", "augusta", "septembra", "oktobra", "novembra", "decembra"),
    "dative": ("janvārim", "februārim", "martam", "aprīlim", "maijam", "jūnijam",
               "jūlijam", "augustam", "septembrim", "oktobrim", "novembrim", "decembrim"),
    "accusative": ("janvāri", "februāri", "martu", "aprīli", "maiju", "jūniju",
                   "jūliju", "augustu", "septembri", "oktobri", "novembri", "decembri"),
    "locative": ("janvārī", "februārī", "martā", "aprīlī", "maijā", "jūnijā",
                 "jūlijā", "augustā", "septembrī", "oktobrī", "novembrī", "decembrī"),
}  # fmt: skip


def latvian_date(day: date | datetime, case: str = "locative") -> str:
    """A date as a Latvian letter writes it, in the case the sentence needs: "2025. gada
    15. martā" (locative, "on"), "no 2025. gada 15. marta" (genitive, after "no"), "līdz
    2025. gada 15. martam" (dative, after "līdz"), "2025. gada 15. marts" (nominative)."""
    if isinstance(day, datetime):
        day = riga(day).date()
    return f"{day.year}. gada {day.day}. {LATVIAN_MONTHS[case][day.month - 1]}"


def letter_date(day: date | datetime, locale: str, case: str = "locative") -> str:
    """A date in a document's sentence: Latvian in the case asked for, English "1 April 2027"."""
    if locale == "lv":
        return latvian_date(day, case)
    if isinstance(day, datetime):
        day = riga(day).date()
    return format_date(day, "d MMMM y", locale="en")


QUOTES = {"lv": ("„", "”"), "en": ("“", "”")}


def quoted(text, locale: str | None = None) -> str:
    """Text in the language's quotation marks: „teksts” (lv), “text” (en)."""
    opening, closing = QUOTES.get(locale or locale_code(), QUOTES["lv"])
    return f"{opening}{text}{closing}"


def typographic_quotes(text: str | None, locale: str | None = None) -> str:
    """Stored names as typed (biedrība "Kopiena") with the language's quotation marks
    (biedrība „Kopiena”), so a document does not mix straight and typographic quotes."""
    if not text:
        return text or ""
    locale = locale or locale_code()
    opening, closing = QUOTES.get(locale, QUOTES["lv"])
    text = re.sub(r'"([^"]*)"', lambda m: f"{opening}{m[1]}{closing}", text)
    if locale == "lv":
        text = re.sub(r"“([^“”]*)”", lambda m: f"„{m[1]}”", text)
    return text


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


# The languages every text of a workflow or form file is given in.
FILE_LANGS = ("lv", "en")


def label_map(value, where: Translatable, problems: list, what: Translatable | None = None) -> dict:
    """A text of a workflow or form file in both languages: exactly Latvian and English text
    (an unquoted comma in YAML, `{lv: Jā, nē, en: Yes}`, makes a map with an extra key, refused
    here). Each problem found goes to `problems`, located by `where`; `what` names the kind of
    text ("label", "title", "help"…). Returns {lv, en}, empty where missing."""
    what = what if what is not None else Translatable("label")
    if isinstance(value, str):
        problems.append(
            Translatable(
                "%(where)s: %(what)s must give both languages, e.g. {lv: ..., en: ...}", where=where, what=what
            )
        )
        return {lang: value for lang in FILE_LANGS}
    if not isinstance(value, dict):
        problems.append(
            Translatable("%(where)s: %(what)s is missing", where=where, what=what)
            if value is None
            else Translatable("%(where)s: %(what)s must be {lv: ..., en: ...}", where=where, what=what)
        )
        return {lang: "" for lang in FILE_LANGS}
    extra = sorted(str(key) for key in value if key not in FILE_LANGS)
    if extra:
        problems.append(
            Translatable(
                "%(where)s: %(what)s has unknown key(s) %(keys)s; it must be exactly {lv: ..., en: ...} "
                "(quote text that holds a comma or a colon)",
                where=where,
                what=what,
                keys=", ".join(map(repr, extra)),
            )
        )
    for lang in FILE_LANGS:
        text = value.get(lang)
        if text is not None and not isinstance(text, str):
            problems.append(
                Translatable(
                    "%(where)s: %(what)s %(lang)s must be text, not %(kind)s",
                    where=where,
                    what=what,
                    lang=repr(lang),
                    kind=kind_of(text),
                )
            )
        elif not text:
            problems.append(Translatable("%(where)s: %(what)s has no %(lang)s text", where=where, what=what, lang=repr(lang)))
    return {lang: str(value.get(lang, "")) for lang in FILE_LANGS}
