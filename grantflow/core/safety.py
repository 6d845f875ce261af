"""Small request-safety helpers shared by views."""

from urllib.parse import urlsplit


def safe_next(target: str | None) -> str | None:
    """A redirect target only if it stays on this site (a path, no scheme or host)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def small_int(text: str | None, maximum: int = 2**31 - 1) -> int | None:
    """A whole number typed in a URL or form (ASCII digits, at most `maximum`), or None:
    `str.isdigit()` also accepts '²' and '٣', and a 20-digit id overflows the database."""
    if not isinstance(text, str) or not text.isascii() or not text.isdecimal() or len(text) > 12:
        return None
    value = int(text)
    return value if value <= maximum else None


# Text a spreadsheet program would read as a formula (OWASP "CSV injection"): it starts with
# one of these. Such a cell gets a leading single quote, which the program shows as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value):
    """A value safe to put in an exported CSV or XLSX cell: numbers stay numbers, text that
    would start a formula is prefixed with a single quote. Every export goes through it."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def spreadsheet_row(values) -> list:
    return [spreadsheet_cell(v) for v in values]
