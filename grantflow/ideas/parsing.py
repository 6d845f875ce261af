"""Reading what people type: numbers, euros and dates as a Latvian user writes them.

Each reader returns the value, or raises `Unreadable` with a message for the field. Forms
keep the text they could not read (see `Idea.draft_raw`), so nothing typed is lost."""

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

MAX_MONEY = Decimal("10000000")  # ten million euros: far above any grant, below any overflow
MAX_COUNT = 10_000_000


class Unreadable(ValueError):
    def __init__(self, message):
        self.message = str(message)
        super().__init__(self.message)


def _number_text(text: str) -> str:
    """'1 234,50 €' -> '1234.50'; with both separators, the last one is the decimal mark."""
    text = re.sub(r"[\s\u00a0\u202f€]", "", text)
    if "," in text and "." in text:
        decimal_mark = "," if text.rfind(",") > text.rfind(".") else "."
        text = text.replace("." if decimal_mark == "," else ",", "")
    return text.replace(",", ".")


def decimal_amount(text: str, places: int = 2, maximum: Decimal = MAX_MONEY) -> Decimal | None:
    """A non-negative amount with at most `places` decimals; None when left empty."""
    text = (text or "").strip()
    if not text:
        return None
    cleaned = _number_text(text)
    # ASCII digits only (`\d` also takes '٣'); the size is checked before rounding, which
    # raises InvalidOperation beyond 28 digits (a 27-digit amount with two decimals).
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", cleaned):
        raise Unreadable(_l("Write a number, e.g. 150 or 150,50."))
    try:
        value = Decimal(cleaned)
    except InvalidOperation:  # pragma: no cover - the pattern above admits only numbers
        raise Unreadable(_l("Write a number, e.g. 150 or 150,50.")) from None
    if value > maximum:
        raise Unreadable(_l("This number is too large."))
    if value != value.quantize(Decimal(1).scaleb(-places)):
        raise Unreadable(_l("Use at most %(places)d decimal places.", places=places))
    return value.quantize(Decimal(1).scaleb(-places))


def money(text: str) -> Decimal | None:
    return decimal_amount(text, 2)


def count(text: str) -> int | None:
    """A whole, non-negative number; None when left empty."""
    text = re.sub(r"[\s\u00a0\u202f]", "", text or "")
    if not text:
        return None
    if not text.isdecimal() or not text.isascii():
        raise Unreadable(_l("Write a whole number, e.g. 40."))
    value = int(text)
    if value > MAX_COUNT:
        raise Unreadable(_l("This number is too large."))
    return value


def day(text: str) -> date | None:
    """2026-05-01 (what a date field sends) or 1.5.2026 (how people write it); None when empty."""
    text = (text or "").strip()
    if not text:
        return None
    for pattern in ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%Y."):
        try:
            value = datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        if not 2000 <= value.year <= 2100:
            raise Unreadable(_l("Check the year."))
        return value
    raise Unreadable(_l("Write a date as DD.MM.YYYY, e.g. 15.05.2026."))


def text_of(value: str, limit: int) -> str:
    """Text as typed (trailing blanks and NUL characters removed), or Unreadable if too long."""
    value = (value or "").replace("\x00", "").rstrip()
    if len(value) > limit:
        raise Unreadable(
            _l("Too long: at most %(limit)d characters (now %(length)d).", limit=limit, length=len(value))
        )
    return value


def reader_lookup(readers: dict, row_key: re.Pattern):
    """A function giving the reader of a form key, e.g. `budget_lines-3-unit_cost` ->
    readers["budget_lines.unit_cost"]."""

    def reader_for(key: str):
        match = row_key.match(key)
        return readers.get(f"{match[1]}.{match[3]}" if match else key)

    return reader_for


def reread(raw: dict | None, reader_for) -> dict[str, str]:
    """The message for each kept text, read again so the message is in today's language."""
    problems = {}
    for key, text in (raw or {}).items():
        reader = reader_for(key)
        try:
            reader(text) if reader else None
        except Unreadable as error:
            problems[key] = error.message
    return problems
