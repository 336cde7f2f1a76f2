"""Cells a spreadsheet would execute are neutralised; everything else passes through unchanged."""

import csv
import io
from decimal import Decimal

import pytest

from shop.csv_safety import BOM, csv_lines, neutralize_cell, neutralize_row


@pytest.mark.parametrize("text", ["=1+1", "+7 999 123-45-67", "-5", "@SUM(A1)", "\t=1", "\r=1"])
def test_a_cell_that_starts_a_formula_gets_an_apostrophe(text):
    assert neutralize_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["Анна", "a=b", "100%", "", " =1 is fine after a space? no: shown as text"])
def test_ordinary_text_is_unchanged(text):
    assert neutralize_cell(text) == text


@pytest.mark.parametrize(("value", "expected"), [(-5, "-5"), (Decimal("-1.50"), "-1.50"), (None, ""), (True, "1")])
def test_numbers_none_and_booleans_are_written_as_data(value, expected):
    assert neutralize_cell(value) == expected


def test_a_row_is_neutralised_cell_by_cell():
    assert neutralize_row(["=cmd", "ok", 3]) == ["'=cmd", "ok", "3"]


def test_only_the_first_line_carries_the_bom():
    lines = list(csv_lines([["a", "b"], ["c", "d"]]))
    assert lines[0].startswith(BOM)
    assert not lines[1].startswith(BOM)


def test_lines_parse_back_with_the_chosen_separator():
    text = "".join(csv_lines([["id", "name"], [1, 'Анна; "Ромашка"']], delimiter=";", bom=False))
    assert list(csv.reader(io.StringIO(text), delimiter=";")) == [["id", "name"], ["1", 'Анна; "Ромашка"']]
