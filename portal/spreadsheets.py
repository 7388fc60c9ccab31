"""Rows for the CSV and XLSX files the portal writes, so that no text a user typed (a unit's name,
a manifest's file name) becomes a formula when the file is opened in a spreadsheet.

A spreadsheet takes a cell that starts with =, +, - or @ (some also after a tab or a carriage
return) as a formula, and a formula can run commands (DDE) or send the sheet's data to a web
address (HYPERLINK, WEBSERVICE): "CSV injection" (OWASP). Every writer goes through this module:
- XLSX: every text is stored as a string cell, exactly as typed (openpyxl stores a text that starts
  with = as a formula, and one like #N/A as an error);
- CSV has no types: a text starting with one of those characters gets a leading single quote, as
  OWASP advises; a spreadsheet shows it as text (with the quote), and numbers stay plain numbers.
"""

from __future__ import annotations

from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """The value as a CSV cell: text that could be taken for a formula gets a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_row(values: Iterable) -> list:
    return [csv_cell(value) for value in values]


def append_row(sheet, values: Iterable) -> None:
    """Append a row to an openpyxl worksheet, every text as a string cell, never a formula."""
    from openpyxl.cell import Cell

    cells = []
    for value in values:
        cell = Cell(sheet, value=value)
        if isinstance(value, str):
            cell.data_type = "s"  # after the value: setting it guesses the type again
        cells.append(cell)
    sheet.append(cells)
