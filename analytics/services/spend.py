"""The owner's marketing spend: one month of one channel from the form, or many from a CSV file.

The file usually comes out of a spreadsheet, so the parsing forgives what spreadsheets write (a byte-order mark,
``;`` or ``,`` between fields, a decimal comma, spaces or non-breaking spaces between thousands, a currency sign, the
apostrophe our own exports put before a cell) and refuses what is not a plain amount (a formula, a negative number).
A file is taken whole or not at all, with every refused line named."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.models import MarketingSpend
from customers.models import Channel
from shop.models import User

MAX_FILE_BYTES = 1_000_000
MONTH_PATTERN = re.compile(r"^(\d{4})[-./](\d{1,2})(?:[-./]\d{1,2})?$|^(\d{1,2})[-./](\d{4})$")
HEADERS = {
    "month": {"month", "месяц"},
    "channel": {"channel", "канал"},
    "amount": {"amount", "spend", "сумма", "расход", "расходы"},
}


class SpendFileError(ValueError):
    """A spend file refused, with the reasons by line."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class SpendLine:
    channel: str
    month: date
    amount: Decimal


def parse_month(text: str) -> date | None:
    """``2026-03``, ``2026-03-01``, ``03.2026`` or ``2026.03`` as the first day of that month."""
    match = MONTH_PATTERN.match(text.strip())
    if match is None:
        return None
    year, month = (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
    if not 1 <= int(month) <= 12:
        return None
    return date(int(year), int(month), 1)


def parse_amount(text: str) -> Decimal | None:
    """A non-negative amount as a spreadsheet writes it, or ``None``."""
    cleaned = text.strip().lstrip("'")
    cleaned = re.sub(r"[\s\u00a0\u202f₽$€]|руб\.?|RUB|USD|EUR", "", cleaned)
    if "," in cleaned and "." in cleaned:
        cleaned = cleaned.replace(",", "") if cleaned.rfind(".") > cleaned.rfind(",") else cleaned.replace(".", "")
    cleaned = cleaned.replace(",", ".")
    if not re.fullmatch(r"\d+(\.\d{1,2})?", cleaned):
        return None
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        return None


def parse_channel(text: str) -> str | None:
    """A channel by its code (``search_ads``) or its label in either language, in any case."""
    wanted = text.strip().lstrip("'").casefold()
    for value, label in Channel.choices:
        if wanted in {value.casefold(), str(label).casefold()}:
            return value
    return None


def _columns(header: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        for key, names in HEADERS.items():
            if name.strip().lstrip("\ufeff").casefold() in names:
                columns[key] = index
    return columns


def _spend_rows(content: bytes) -> tuple[dict[str, int], list[list[str]]]:
    """The file's columns (name → position) and its rows after the header: UTF-8 or Windows-1251, with the
    delimiter (";" or ",") the header uses most."""
    if len(content) > MAX_FILE_BYTES:
        raise SpendFileError([_("The file is larger than 1 MB.")])
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("cp1251")
    header = text.split("\n", 1)[0]
    delimiter = ";" if header.count(";") >= header.count(",") else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    columns = _columns(rows[0]) if rows else {}
    if set(columns) != set(HEADERS):
        raise SpendFileError([_("The first line must name the columns: month, channel, amount.")])
    return columns, rows[1:]


def _spend_line(number: int, cells: dict[str, str], errors: list[str]) -> SpendLine | None:
    """One row read as a spend line, or None with each of its problems added to ``errors``."""
    month, channel, amount = (
        parse_month(cells["month"]),
        parse_channel(cells["channel"]),
        parse_amount(cells["amount"]),
    )
    if month is None:
        errors.append(_("Line %(line)s: “%(value)s” is not a month.") % {"line": number, "value": cells["month"]})
    if channel is None:
        errors.append(_("Line %(line)s: “%(value)s” is not a channel.") % {"line": number, "value": cells["channel"]})
    if amount is None:
        errors.append(_("Line %(line)s: “%(value)s” is not an amount.") % {"line": number, "value": cells["amount"]})
    if month is None or channel is None or amount is None:
        return None
    return SpendLine(channel=channel, month=month, amount=amount)


def spend_file_parse(content: bytes) -> list[SpendLine]:
    """The lines of a spend CSV file (UTF-8 or Windows-1251), or ``SpendFileError`` with every problem found."""
    columns, rows = _spend_rows(content)
    lines: list[SpendLine] = []
    errors: list[str] = []
    for number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = {key: row[index] if index < len(row) else "" for key, index in columns.items()}
        line = _spend_line(number, cells, errors)
        if line is not None:
            lines.append(line)
    if errors:
        raise SpendFileError(errors)
    if not lines:
        raise SpendFileError([_("The file has no spend lines.")])
    return lines


def spend_save(*, channel: str, month: date, amount: Decimal, user: User) -> MarketingSpend:
    """Set one channel's spend for one month (the month's first day); idempotent: the same month again replaces
    the amount through the unique (channel, month) key. Locks nothing beyond the row it writes."""
    spend, _created = MarketingSpend.objects.update_or_create(
        channel=channel,
        month=month.replace(day=1),
        defaults={"amount": amount, "entered_by": user, "updated_at": timezone.now()},
    )
    return spend


def spend_import(*, lines: list[SpendLine], user: User) -> int:
    """Save every line of a parsed file in one transaction (a later line for the same month wins); returns how
    many lines were saved."""
    with transaction.atomic():
        for line in lines:
            spend_save(channel=line.channel, month=line.month, amount=line.amount, user=user)
    return len(lines)
