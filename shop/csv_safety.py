"""CSV that a spreadsheet opens safely: cells that would run as formulas are neutralised, and Excel reads UTF-8.

Every export of the shop's data passes customer-supplied text (names, addresses, notes) to a spreadsheet. Excel,
LibreOffice and Google Sheets evaluate a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, after a tab or a
carriage return, whatever follows), so a customer called ``=HYPERLINK("http://evil", "click")`` would become a live
link in the manager's sheet (OWASP "CSV injection"). Prefixing such a cell with an apostrophe makes the spreadsheet
show it as text; the apostrophe itself is not displayed.
"""

import csv
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

# What a spreadsheet treats as the start of a formula, or as a control character that lets the next one through.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# UTF-8 byte-order mark: without it Excel reads UTF-8 as the local code page and Cyrillic turns into mojibake.
BOM = "\ufeff"
# Russian Excel uses the comma as its decimal separator and expects ``;`` between fields.
SEPARATORS = {"semicolon": ";", "comma": ","}


def neutralize_cell(value: Any) -> str:
    """One cell as text a spreadsheet will never execute. Numbers pass unchanged: a negative amount is data,
    and it never comes from a customer's free text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | Decimal):
        return str(value)
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def neutralize_row(values: Iterable[Any]) -> list[str]:
    return [neutralize_cell(value) for value in values]


class _Echo:
    """A file-like object that hands back what is written, so csv.writer can feed a streaming response."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Iterable[Any]], delimiter: str = ";", bom: bool = True) -> Iterator[str]:
    """Encode rows as CSV lines, one string per row, every cell neutralised; the first line carries the BOM."""
    writer = csv.writer(_Echo(), delimiter=delimiter, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    first = True
    for row in rows:
        line: str = writer.writerow(neutralize_row(row))
        if first and bom:
            line = BOM + line
        first = False
        yield line
