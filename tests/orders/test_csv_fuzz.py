"""The parser never crashes: random bytes and broken CSV end in rows, reasons, or a CsvFormatError naming a line,
never in any other exception (which a page or the background import would turn into a server error)."""

import csv
import io
from zoneinfo import ZoneInfo

from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orders.imports.grouping import check_order, group_orders, order_from_rows
from orders.imports.parsing import auto_mapping, parse_row
from orders.imports.reading import (
    CsvFormatError,
    detect_delimiter,
    detect_encoding,
    open_rows,
    read_headers,
    refuse_binary,
)
from orders.models import ImportKind

ZONE = ZoneInfo("Europe/Moscow")
HEADERS = [
    "Номер заказа",
    "Дата",
    "Статус",
    "Сумма",
    "Доставка",
    "Скидка",
    "Телефон",
    "Email",
    "Товар",
    "Цена",
    "Кол-во",
    "Сумма позиции",
]
CELLS = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["1001", "01.03.2026", "доставлен", "1 500,00", "-5", "1e999999", "NaN", "Infinity", "0", '"']),
    st.sampled_from(["+7 916 555-44-33", "a@b.ru", "2026-13-45T99:00+0300", "9" * 40, "1,5", "0,001"]),
)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse_file(content: bytes, kind: str = ImportKind.ORDERS) -> None:
    with translation.override("en"):
        _parse_file(content, kind)


def _parse_file(content: bytes, kind: str) -> None:
    """What the upload and the import do with a file, without the database."""
    try:
        refuse_binary(content[: 64 * 1024])
        encoding = detect_encoding(content[: 64 * 1024])
        delimiter = detect_delimiter(content[: 64 * 1024].decode(encoding, errors="ignore"))
        headers = read_headers(io.BytesIO(content), encoding, delimiter)
        mapping = auto_mapping(headers, kind)
        seen: set[str] = set()
        rows = []
        for line, row in open_rows(io.BytesIO(content), encoding, delimiter):
            key = row.get(mapping.get("external_id", ""), "")
            rows.append(parse_row(line, row, mapping, kind, ZONE, "RU", bool(key) and key in seen))
            seen.add(key)
    except CsvFormatError as error:
        assert "Line" in str(error) or "UTF-16" in str(error)
        return
    if kind == ImportKind.ORDERS:
        for order in group_orders(rows):
            check_order(order)
            if not any(row.errors for row in order):
                order_from_rows(order, "csv")


def csv_text(rows: list[list[str]], delimiter: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes_never_crash_the_parser(content):
    parse_file(content)


@FUZZ
@given(
    st.lists(st.lists(CELLS, min_size=len(HEADERS), max_size=len(HEADERS)), max_size=8),
    st.sampled_from([";", ",", "\t"]),
    st.sampled_from(["utf-8", "cp1251"]),
)
def test_well_formed_files_with_any_values_never_crash_the_parser(rows, delimiter, encoding):
    text = csv_text([HEADERS, *rows], delimiter)
    parse_file(text.encode(encoding, errors="replace"))


@FUZZ
@given(
    st.lists(st.lists(CELLS, min_size=len(HEADERS), max_size=len(HEADERS)), min_size=1, max_size=6),
    st.lists(st.tuples(st.integers(min_value=0), st.sampled_from(['"', "\x00", "\r", "\n", ";", "\xff", '""']))),
)
def test_broken_csv_never_crashes_the_parser(rows, damage):
    content = bytearray(csv_text([HEADERS, *rows], ";").encode("utf-8"))
    for position, text in damage[:10]:
        at = position % (len(content) + 1)
        content[at:at] = text.encode("latin-1")
    parse_file(bytes(content))


@FUZZ
@given(st.lists(st.lists(CELLS, min_size=3, max_size=3), max_size=6))
def test_customer_files_with_any_values_never_crash_the_parser(rows):
    text = csv_text([["Телефон", "Email", "ФИО"], *rows], ";")
    parse_file(text.encode(), kind=ImportKind.CUSTOMERS)
