"""The one checked reader behind every input file.

Every CSV the book reads -- the study table, its covariates, the published numbers, the
CRB-401 tables, the paper's other tables and every file of a curve folder -- goes through
:func:`read_csv`, which reads it exactly or refuses it with one
:class:`~analysis.inputs.errors.InputError` listing every problem by file, row (or
record) and column:

- the file: it exists, is not larger than :data:`MAX_BYTES`, is not empty, is UTF-8 (a
  byte-order mark is allowed) and comma-separated;
- the header: names trimmed of surrounding spaces, none empty, none twice, every
  required column present, and no unknown column (with a "did you mean" when a known
  name is close, as ``neurotox_N`` is to ``neurotox_n``);
- the rows: each has as many fields as the header (a ragged row is refused, never
  padded with blanks); blank lines are skipped.

Cells come back as text, trimmed: an id such as ``01`` stays ``01``. The typed readers
(:func:`counts`, :func:`numbers`, :func:`percents`, :func:`choices`, :func:`dates`)
parse a column for every row at once and report what they cannot read; counts are exact
integers, and a count beyond 2**53 (where floating point stops counting one by one) is
refused with its value quoted.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from ..text.quoting import shown
from .errors import InputError, Problem

__all__ = [
    "MAX_BYTES",
    "MAX_COUNT",
    "NOT_DISCLOSED",
    "Table",
    "read_csv",
    "Parsed",
    "counts",
    "numbers",
    "percents",
    "choices",
    "dates",
]

#: The largest input file read (a study table of thousands of cohorts is a few MB).
MAX_BYTES = 20 * 2**20
#: The largest count read exactly: beyond it, floats no longer hold every whole number.
MAX_COUNT = 2**53
#: A cell marked "not disclosed".
NOT_DISCLOSED = "ND"


@dataclass(frozen=True)
class Table:
    """A CSV file read and checked by :func:`read_csv`: ``cells`` holds every cell as
    trimmed text (columns in file order), ``lines`` the file line of each row, ``path``
    the file, ``what`` the kind of file and ``kind`` what a record is, for messages."""

    cells: pd.DataFrame
    lines: np.ndarray
    path: Path
    what: str
    kind: str
    key: str | None = None
    error: type[InputError] = InputError

    def names(self) -> list[str]:
        """Each row's name in messages: its key (``study_id`` …) or, if blank, its line."""
        if self.key is None or self.key not in self.cells:
            return [f"line {line}" for line in self.lines]
        keys = self.cells[self.key]
        return [k if k else f"line {line}" for k, line in zip(keys, self.lines)]

    def problem(self, row: int, column: str, message: str) -> Problem:
        return Problem(self.names()[row], column, message, self.kind)

    def refuse(self, problems: list[Problem]) -> None:
        """Raise the one error of this file if ``problems`` holds any."""
        if problems:
            raise self.error(self.path, problems, self.what)


def _file_problem(path: Path, message: str, what: str, error: type[InputError] = InputError) -> InputError:
    return error(path, [Problem("(file)", "(all)", message, "file")], what)


def _decode(path: Path, what: str, error: type[InputError]) -> str:
    if not path.exists():
        raise FileNotFoundError(f"{what} not found: {path}")
    if not path.is_file():
        raise FileNotFoundError(f"{what} is not a file: {path}")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise _file_problem(path, f"the file is {size / 2**20:,.0f} MB; a {what} is read up to {MAX_BYTES // 2**20} MB", what, error)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise _file_problem(path, f"cannot be read ({exc.strerror})", what, error) from None
    if not content.strip():
        raise _file_problem(path, "the file is empty", what, error)
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        hint = " (it looks like Latin-1 or Windows-1252: save it as UTF-8)" if _latin1(content) else ""
        raise _file_problem(path, f"not UTF-8 text ({exc.reason} at byte {exc.start}){hint}", what, error) from None


def _latin1(content: bytes) -> bool:
    try:
        content.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return True


def _close(name: str, known: Iterable[str]) -> str:
    match = difflib.get_close_matches(name.lower(), [k.lower() for k in known], n=1, cutoff=0.8)
    if not match:
        return ""
    original = next(k for k in known if k.lower() == match[0])
    return f" (did you mean {original!r}?)"


def read_csv(
    path: str | Path,
    *,
    what: str,
    required: Sequence[str],
    optional: Sequence[str] = (),
    kind: str = "row",
    key: str | None = None,
    header: bool = True,
    allow_unknown: bool = False,
    error: type[InputError] = InputError,
) -> Table:
    """Read a CSV file as text cells, checked as the module docstring says.

    ``required`` and ``optional`` are the columns the file may have (``allow_unknown``:
    others are kept, not refused); ``key`` names each row in messages. With
    ``header=False`` the file has no header row and its columns are ``required`` then
    ``optional``, in that order (a digitizer's export as saved). ``error`` is the
    error class raised (:class:`~analysis.inputs.errors.StudyDataError` for the study
    table).
    """
    path = Path(path)
    text = _decode(path, what, error)
    rows = list(csv.reader(io.StringIO(text), strict=False))
    numbered = [(line, row) for line, row in enumerate(rows, start=1) if any(cell.strip() for cell in row)]
    if not numbered:
        raise _file_problem(path, "the file is empty", what, error)
    known = [*required, *optional]
    if header:
        (_, names), body = numbered[0], numbered[1:]
        names = [name.strip() for name in names]
    else:
        body = numbered
        width = len(body[0][1])
        names = list(known) if width == len(known) else [f"column {i + 1}" for i in range(width)]
    problems: list[Problem] = []
    where = lambda column, message: Problem("(all)", column, message, "file")  # noqa: E731
    if header and len(names) == 1 and re.search(r"[;\t|]", names[0]):
        raise error(path, [where(names[0][:40], "the file does not look comma-separated (its header holds "
                                                      f"{'semicolons' if ';' in names[0] else 'tabs or bars'}): save it as CSV")], what)
    for position, name in enumerate(names, start=1):
        if not name:
            problems.append(where(f"column {position}", "the header has an empty column name"))
    seen: set[str] = set()
    for name in names:
        if name and name in seen:
            problems.append(where(name, "the column appears twice in the header"))
        seen.add(name)
    missing = [c for c in required if c not in names]
    problems += [where(c, "required column is missing" + _close(c, [n for n in names if n not in known]))
                 for c in missing]
    if not allow_unknown:
        problems += [where(n, "unknown column" + (_close(n, known) or " (the columns this file may have are listed in data/README.md)"))
                     for n in dict.fromkeys(names) if n and n not in known]
    width = len(names)
    cells = []
    lines = []
    for line, row in body:
        if len(row) != width:
            label = row[names.index(key)].strip() if key in names and names.index(key) < len(row) else f"line {line}"
            problems.append(Problem(label or f"line {line}", "(row)",
                                    f"line {line} has {len(row)} fields, the header {width}: a ragged row is not read "
                                    "(a missing comma, or one too many?)", kind))
            continue
        cells.append([cell.strip() for cell in row])
        lines.append(line)
    if problems:
        raise error(path, problems, what)
    frame = pd.DataFrame(cells, columns=names, dtype=object) if cells else pd.DataFrame(columns=names, dtype=object)
    return Table(frame, np.asarray(lines, dtype=int), path, what, kind, key, error)


@dataclass(frozen=True)
class Parsed:
    """One column parsed for every row: values (``float`` array; NaN where blank, ND or
    unreadable; object array for dates and choices), masks of blank and ND cells, and
    an error message per cell ("" where fine)."""

    values: np.ndarray
    blank: np.ndarray
    nd: np.ndarray
    errors: np.ndarray = field(repr=False)

    @property
    def given(self) -> np.ndarray:
        return ~(self.blank | self.nd)


def _column(table: Table, column: str) -> pd.Series:
    return table.cells[column] if column in table.cells else pd.Series([""] * len(table.cells), dtype=object)


def _masks(text: pd.Series, allow_nd: bool) -> tuple[np.ndarray, np.ndarray]:
    blank = (text == "").to_numpy()
    nd = (text.str.upper() == NOT_DISCLOSED).to_numpy() & allow_nd
    return blank, nd


def _parse(text: pd.Series, allow_nd: bool, read: Callable[[str], tuple[object, str]], dtype: object = float) -> Parsed:
    blank, nd = _masks(text, allow_nd)
    values = np.full(len(text), np.nan if dtype is float else None, dtype=dtype)
    errors = np.full(len(text), "", dtype=object)
    for i in np.flatnonzero(~(blank | nd)):
        value, error = read(text.iloc[i])
        if error:
            errors[i] = f"{shown(text.iloc[i])} {error}"
        else:
            values[i] = value
    return Parsed(values, blank, nd, errors)


def _exact_count(cell: str) -> tuple[object, str]:
    try:
        number = Decimal(cell)
    except InvalidOperation:
        return None, "is not a number"
    if number.is_nan():
        return None, "is not a number"
    if not number.is_finite():
        return None, "is not a finite number"
    if number != number.to_integral_value():
        return None, "is not a whole number"
    if number < 0:
        return None, "is negative"
    if number > MAX_COUNT:
        return None, f"is beyond the largest count read exactly ({MAX_COUNT:,})"
    return float(int(number)), ""


def counts(table: Table, column: str, allow_nd: bool = False) -> Parsed:
    """Whole numbers ≥ 0 and ≤ 2**53, read exactly; blank (and ``ND`` where allowed)
    are not errors."""
    return _parse(_column(table, column), allow_nd, _exact_count)


def _number(cell: str, low: float, high: float) -> tuple[object, str]:
    try:
        value = float(cell)
    except ValueError:
        return None, "is not a number"
    if not np.isfinite(value):
        return None, "is not a finite number"
    if not low <= value <= high:
        return None, f"is not between {low:g} and {high:g}"
    return value, ""


def numbers(table: Table, column: str, low: float = -np.inf, high: float = np.inf, allow_nd: bool = False) -> Parsed:
    """Finite numbers in [low, high]."""
    return _parse(_column(table, column), allow_nd, lambda c: _number(c, low, high))


def percents(table: Table, column: str, allow_nd: bool = True) -> Parsed:
    """Percentages in [0, 100] (a trailing ``%`` is allowed)."""
    def read(cell: str) -> tuple[object, str]:
        value, error = _number(cell.rstrip("%").strip(), 0.0, 100.0)
        if error == "is not a number":
            return None, "is not a percentage (a number, blank, or ND)"
        return value, error and "is not a percentage between 0 and 100"
    return _parse(_column(table, column), allow_nd, read)


def choices(table: Table, column: str, options: Sequence[str], allow_nd: bool = False) -> Parsed:
    """One of ``options`` (compared ignoring case; the value comes back as written in
    ``options``)."""
    lookup = {option.lower(): option for option in options}

    def read(cell: str) -> tuple[object, str]:
        option = lookup.get(cell.lower())
        return (option, "") if option is not None else (None, f"is not one of {', '.join(options)}")
    return _parse(_column(table, column), allow_nd, read, dtype=object)


_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def dates(table: Table, column: str, allow_nd: bool = True) -> Parsed:
    """ISO dates, as precise as known: ``2023-07-19``, ``2023-07`` or ``2023``."""
    def read(cell: str) -> tuple[object, str]:
        match = _DATE.fullmatch(cell)
        if not match:
            return None, "is not an ISO date (YYYY-MM-DD, YYYY-MM or YYYY)"
        year, month, day = (int(part) if part else None for part in match.groups())
        try:
            pd.Timestamp(year=year, month=month or 1, day=day or 1)
        except ValueError:
            return None, "is not a date in the calendar"
        if not 1990 <= year <= 2100:
            return None, "is not a year of BCMA CAR-T trials"
        return cell, ""
    return _parse(_column(table, column), allow_nd, read, dtype=object)
