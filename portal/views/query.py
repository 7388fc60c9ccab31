"""Numbers from the URL, read one way for every list, filter and the API.

`?page=99999999999999999999` is a valid Python int and an OverflowError in the database's
OFFSET; `type=int` also takes "-3", " 7", "1_000" and non-ASCII digits. Here a number is ASCII
digits within the bounds the caller gives; anything else is the default. In the path, `<int:...>`
stops at the database's integers: a bigger number is a page that does not exist.
"""

from __future__ import annotations

from flask import request
from werkzeug.routing import IntegerConverter

DATABASE_INT_MAX = 2**31 - 1  # ids are INTEGER columns on PostgreSQL

MAX_PAGE = 10_000  # deeper than any list here is read; keeps OFFSET far inside 64 bits
_MAX_DIGITS = 12


def number_arg(name: str, default: int | None, *, low: int, high: int, clamp: bool = False) -> int | None:
    """The number, or the default when it is none or out of bounds (`clamp`: `high` above it)."""
    return read_number(request.args.get(name), default, low=low, high=high, clamp=clamp)


def read_number(value: str | None, default: int | None, *, low: int, high: int, clamp: bool = False) -> int | None:
    """`number_arg` of a value already taken from the request (the API's argument schemas)."""
    value = (value or "").strip()
    if not (value.isascii() and value.isdigit()):
        return default
    number = int(value) if len(value.lstrip("0")) <= _MAX_DIGITS else high + 1
    if low <= number <= high:
        return number
    return high if clamp and number > high else default


def page_arg(max_page: int = MAX_PAGE) -> int:
    """The page asked for, from 1; page 1 for anything that is not a page number."""
    return number_arg("page", 1, low=1, high=max_page)


def id_arg(name: str) -> int | None:
    """A row id to filter by (a database integer), or None."""
    return number_arg(name, None, low=1, high=DATABASE_INT_MAX)


def year_arg(default: int | None = None) -> int | None:
    return number_arg("year", default, low=1900, high=2100)


class DatabaseInt(IntegerConverter):
    """`<int:...>` in a route, up to the database's integers."""

    def __init__(self, url_map, fixed_digits: int = 0, min: int | None = None,
                 max: int | None = DATABASE_INT_MAX, signed: bool = False) -> None:
        super().__init__(url_map, fixed_digits, min, max, signed)
