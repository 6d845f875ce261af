"""Reading numbers as people type them, in either language: "1 234,50", "1234.50",
"1,234.50", "345,67 €". One reader for every money input (core.forms.MoneyField, the idea's
budget lines, the report's spending); each refusal says what was wrong, in the reader's
language."""

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l

from grantflow.core.i18n import format_input

MAX_MONEY = Decimal("10000000")  # ten million euros: far above any grant, below any overflow


@lru_cache(maxsize=4096)
def is_email(text: str) -> bool:
    """Whether `text` is written as an e-mail address (email_validator's syntax check, without
    asking DNS). Remembered per address: the check took a third of an idea's completeness
    rules, which every save, check and submission of the idea asks again of the same address."""
    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


class Unreadable(ValueError):
    def __init__(self, message):
        self.message = str(message)
        super().__init__(self.message)


def number_text(text: str) -> str:
    """'1 234,50 €' -> '1234.50'; with both separators, the last one is the decimal mark."""
    text = re.sub(r"[\s\u00a0\u202f€]", "", text)
    if "," in text and "." in text:
        decimal_mark = "," if text.rfind(",") > text.rfind(".") else "."
        text = text.replace("." if decimal_mark == "," else ",", "")
    return text.replace(",", ".")


def _example() -> str:
    return format_input(Decimal("150.50"))


def decimal_amount(text: str, places: int = 2, maximum: Decimal = MAX_MONEY) -> Decimal | None:
    """A non-negative amount with at most `places` decimals; None when left empty."""
    text = (text or "").strip()
    if not text:
        return None
    cleaned = number_text(text)
    # ASCII digits only (`\d` also takes '٣'); the size is checked before rounding, which
    # raises InvalidOperation beyond 28 digits (a 27-digit amount with two decimals).
    if re.fullmatch(r"-[0-9]+(\.[0-9]+)?", cleaned) and Decimal(cleaned) != 0:
        raise Unreadable(_l("The amount cannot be negative."))
    if not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", cleaned):
        raise Unreadable(_l("Write a number, e.g. 150 or %(example)s.", example=_example()))
    try:
        value = abs(Decimal(cleaned))  # "-0" is nought
    except InvalidOperation:  # pragma: no cover - the pattern above admits only numbers
        raise Unreadable(_l("Write a number, e.g. 150 or %(example)s.", example=_example())) from None
    if value > maximum:
        raise Unreadable(_l("This number is too large."))
    if value != value.quantize(Decimal(1).scaleb(-places)):
        if places == 2:
            raise Unreadable(_l("Euros with at most two decimals."))
        raise Unreadable(_l("Use at most %(places)d decimal places.", places=places))
    return value.quantize(Decimal(1).scaleb(-places))


def money(text: str) -> Decimal | None:
    return decimal_amount(text, 2)


def decimal_number(text: str, places: int = 2, maximum: Decimal = MAX_MONEY) -> Decimal | None:
    """A number that is not money (a criterion's weight, a threshold of points), written
    either language's way ("1,5" or "1.5"); None when left empty. Its range is the field's
    validators' to check, with their own message."""
    text = (text or "").strip()
    if not text:
        return None
    cleaned = number_text(text)
    if not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", cleaned):
        raise Unreadable(_l("Write a number, e.g. 2 or %(example)s.", example=format_input(Decimal("1.5"))))
    value = Decimal(cleaned)
    if abs(value) > maximum:
        raise Unreadable(_l("This number is too large."))
    if value != value.quantize(Decimal(1).scaleb(-places)):
        raise Unreadable(_l("Use at most %(places)d decimal places.", places=places))
    return value.quantize(Decimal(1).scaleb(-places))


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
