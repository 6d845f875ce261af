"""Writing rows as CSV or XLSX, every cell through `safety.spreadsheet_cell`, so no exported
text (an organisation called `=HYPERLINK(...)`) becomes a live formula in a spreadsheet
program. Every export (the ranking, the administrators' exports) writes through here."""

import csv
import io
from collections.abc import Iterable

from grantflow.core.safety import spreadsheet_row


def csv_bytes(header: list, rows: Iterable[list]) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet programs read the Latvian letters."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(spreadsheet_row(header))
    for row in rows:
        writer.writerow(spreadsheet_row(row))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(title: str, header: list, rows: Iterable[list]) -> bytes:
    """One sheet named `title` (at most 31 characters, as the format allows). Text is written as
    text: neutralised by spreadsheet_cell, a value starting with "=" never reaches openpyxl,
    which would store it as a formula."""
    from openpyxl import Workbook  # noqa: PLC0415 - heavy, and only the exports need it

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31] or "Sheet")
    sheet.append(spreadsheet_row(header))
    for row in rows:
        sheet.append(spreadsheet_row(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
