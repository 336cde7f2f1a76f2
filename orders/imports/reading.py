"""Reading a CSV file that may be broken: every way it can fail (bytes that are not text, a quote left open, a
field too long, a line that never ends) becomes a :class:`CsvFormatError` that names the line, never a crash.

The file is decoded one physical line at a time, so a byte that does not belong to the detected encoding is
reported at its own line rather than somewhere inside a 64 KB block; the csv reader is strict, so a quote left
open or a quoted value followed by more text is an error on its line instead of silently swallowing the rows that
follow it.
"""

import codecs
import csv
from collections.abc import Iterator
from typing import IO

from django.utils.translation import gettext as _

# Python's own limit for one field, kept: a longer field is almost always a quote left open.
MAX_FIELD_CHARS = 128 * 1024
# One physical line longer than this is not a spreadsheet's line (a binary file, or no line breaks at all).
MAX_LINE_BYTES = 1024 * 1024
# A quoted field may hold line breaks (an address over two lines); one that runs over this many lines has lost its
# closing quote.
MAX_RECORD_LINES = 50
SNIFF_CHARS = 16 * 1024


class CsvFormatError(ValueError):
    """The file cannot be read as CSV from this line on; the message names the line and says why."""


def detect_encoding(sample: bytes) -> str:
    """UTF-8 (with or without BOM) when it decodes, else Windows-1251, what Russian Excel saves."""
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte letter cut at the end of the sample is still UTF-8.
        if error.start < len(sample) - 3:
            return "cp1251"
    return "utf-8-sig"


def detect_delimiter(text: str) -> str:
    sample = text[:SNIFF_CHARS]
    try:
        return csv.Sniffer().sniff(sample, delimiters=";,\t").delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample.strip() else ""
        return max(";,\t", key=first.count)


def refuse_binary(head: bytes) -> None:
    """Say what a file is when it is plainly not CSV text (an Excel workbook, a UTF-16 “Unicode text” file)."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise CsvFormatError(
            _("The file is saved as UTF-16 (“Unicode text”); save it as “CSV UTF-8” or “CSV (semicolon-separated)”.")
        )
    if b"\x00" in head:
        line = head[: head.index(b"\x00")].count(b"\n") + 1
        raise CsvFormatError(
            _("Line %(line)s holds binary data: this is not a CSV file (an Excel workbook must first be saved as CSV).")
            % {"line": line}
        )


def _text_lines(handle: IO[bytes], encoding: str) -> Iterator[str]:
    """The file's physical lines as text, each decoded on its own so a bad byte is named by its line."""
    number = 0
    while True:
        raw = handle.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE_BYTES:
            raise CsvFormatError(
                _("Line %(line)s is longer than 1 MB: the file has no line breaks, or it is not a CSV file.")
                % {"line": number}
            )
        if b"\x00" in raw:
            raise CsvFormatError(_("Line %(line)s holds binary data (a zero byte).") % {"line": number})
        try:
            yield raw.decode(encoding if number == 1 else encoding.replace("-sig", ""))
        except UnicodeDecodeError as error:
            raise CsvFormatError(
                _(
                    "Line %(line)s is not in the file's encoding (%(encoding)s) at character %(position)s: save the "
                    "whole file in one encoding, UTF-8 or Windows-1251."
                )
                % {"line": number, "encoding": encoding, "position": error.start + 1}
            ) from error


def _format_error(error: csv.Error, line: int) -> CsvFormatError:
    if "field larger than field limit" in str(error):
        return CsvFormatError(
            _('Line %(line)s: a value is longer than 128 KB; most likely a quote (") was left open on this line.')
            % {"line": line}
        )
    return CsvFormatError(
        _(
            'Line %(line)s is not valid CSV: a quote (") is left open or is followed by more text. Put values that '
            'contain quotes in quotes and double the quotes inside ("").'
        )
        % {"line": line}
    )


def read_records(handle: IO[bytes], encoding: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(line the record starts on, its cells) for every record, the header first; raises
    :class:`CsvFormatError` naming the line where reading fails."""
    reader = csv.reader(_text_lines(handle, encoding), delimiter=delimiter, strict=True)
    start = 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise _format_error(error, start) from error
        if reader.line_num - start >= MAX_RECORD_LINES:
            raise CsvFormatError(
                _("Line %(line)s: a quoted value runs over %(count)s lines; most likely its closing quote is missing.")
                % {"line": start, "count": reader.line_num - start + 1}
            )
        yield start, record
        start = reader.line_num + 1


def open_rows(handle: IO[bytes], encoding: str, delimiter: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row by header) for every non-blank row; the header is line 1 (or the first line with text)."""
    records = read_records(handle, encoding, delimiter)
    headers: list[str] | None = None
    for line, record in records:
        if headers is None:
            if any(cell.strip() for cell in record):
                headers = [cell.strip() for cell in record]
            continue
        if not any(cell.strip() for cell in record):
            continue
        row: dict[str, str] = {}
        for header, value in zip(headers, record, strict=False):
            row.setdefault(header, value.strip())
        yield line, row


def read_headers(handle: IO[bytes], encoding: str, delimiter: str) -> list[str]:
    for _line, record in read_records(handle, encoding, delimiter):
        if any(cell.strip() for cell in record):
            return [cell.strip() for cell in record]
    return []
