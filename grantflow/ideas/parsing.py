"""Reading what people type: counts, dates and text as a Latvian user writes them (numbers
and euros: core.parsing).

Each reader returns the value, or raises `Unreadable` with a message for the field. Forms
keep the text they could not read (see `Idea.draft_raw`), so nothing typed is lost."""

import re

from flask_babel import lazy_gettext as _l

from grantflow.core.parsing import MAX_MONEY, Unreadable, day, decimal_amount, money

__all__ = ["MAX_MONEY", "Unreadable", "count", "day", "decimal_amount", "money", "reader_lookup", "reread", "text_of"]

MAX_COUNT = 10_000_000


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
