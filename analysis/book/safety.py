"""Text from a study table is user input: shown escaped, written defused.

A study table, covariates file, curve folder or published table may hold any text, and
the book shows it in HTML and writes it to CSV files a reader may open in a spreadsheet.
This module holds the two guards of output:

- **HTML.** :func:`escape_html_output` makes escaping the default in a chapter's kernel
  (:mod:`analysis.book` calls it on import): every pandas ``Styler`` escapes its cells
  (``styler.format.escape = "html"``, so a ``.format(...)`` call that forgets
  ``escape="html"`` still escapes) and its headers, index values, index names and
  caption (which ``Styler.format`` never escapes). DataFrame reprs escape by default,
  glued text (``{glue:text}``) is a text node, and :func:`analysis.book.show_note`
  escapes its text. :func:`unsafe_markup` lists what in an HTML output could run script;
  ``scripts/run_chapter.py`` refuses a chapter whose output has any.
- **CSV.** :func:`defuse_formulas` and :func:`write_csv`: a text cell (or index or
  column label) that a spreadsheet would read as a formula — one starting with ``=``,
  ``+``, ``-``, ``@``, a tab or a carriage return (OWASP, "CSV injection") — gets a
  leading ``'``. Numbers, and text that is just a number (``"-2.5"``), are left alone.

Messages quote user text with :mod:`analysis.text.quoting`.
"""

from __future__ import annotations

import copy
import html
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
from IPython import get_ipython
from pandas.io.formats.style import Styler as TableToEscape  # rendered with escape="html" on every label

from ..text.quoting import shown

__all__ = [
    "FORMULA_PREFIXES",
    "defuse_formula",
    "defuse_formulas",
    "write_csv",
    "unsafe_markup",
    "safe_styler_html",
    "escape_html_output",
]

#: First characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?(inf|nan)", re.IGNORECASE)


def defuse_formula(value: object) -> object:
    """``value`` with a leading ``'`` if it is text a spreadsheet would run as a formula;
    anything else (numbers, NaN, text that is only a number) unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def _is_text(dtype: object) -> bool:
    return dtype == object or isinstance(dtype, (pd.CategoricalDtype, pd.StringDtype))


def _defuse_labels(index: pd.Index) -> pd.Index:
    names = [defuse_formula(name) for name in index.names]
    if isinstance(index, pd.MultiIndex) and len(index):
        return pd.MultiIndex.from_tuples([tuple(map(defuse_formula, labels)) for labels in index], names=names)
    if _is_text(index.dtype) and not isinstance(index, pd.MultiIndex):
        return pd.Index([defuse_formula(label) for label in index], dtype=object, name=names[0])
    return index.set_names(names)


def defuse_formulas(table: pd.DataFrame | pd.Series) -> pd.DataFrame:
    """A copy of ``table`` (a Series becomes a one-column frame) with every text cell,
    index label, column label and axis name defused by :func:`defuse_formula`. Numeric
    columns are not touched; in a column of mixed types only the text is."""
    frame = table.to_frame() if isinstance(table, pd.Series) else table.copy()
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        if _is_text(column.dtype):
            frame.isetitem(position, column.astype(object).map(defuse_formula))
    frame.index = _defuse_labels(frame.index)
    frame.columns = _defuse_labels(frame.columns)
    return frame


def write_csv(table: pd.DataFrame | pd.Series, path: str | Path, index: bool | None = None) -> Path:
    """Write ``table`` as CSV with formulas defused (:func:`defuse_formulas`); the
    index is written unless it is a plain ``RangeIndex`` (or as ``index`` says)."""
    frame = defuse_formulas(table)
    if index is None:
        index = not isinstance(table.index, pd.RangeIndex)
    frame.to_csv(path, index=index)
    return Path(path)


# --- HTML ----------------------------------------------------------------------------------

#: Elements an output of the book may contain: tables, text, a scoped style sheet.
_ALLOWED_TAGS = frozenset({
    "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "colgroup", "col", "div", "span", "p", "br",
    "b", "i", "em", "strong", "code", "pre", "sub", "sup", "small", "ul", "ol", "li", "hr", "style", "a",
})
_ALLOWED_ATTRIBUTES = frozenset({
    "class", "id", "style", "colspan", "rowspan", "border", "scope", "title", "align", "valign", "width", "height",
    "scoped", "type", "href",
})
_SAFE_URL = re.compile(r"(https?:|mailto:|#|\.{0,2}/|[\w.-]+(/|\.html|#|$))", re.IGNORECASE)


class _MarkupCheck(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ALLOWED_TAGS:
            self.found.append(f"<{tag}> element")
        for name, value in attrs:
            if name not in _ALLOWED_ATTRIBUTES:
                self.found.append(f"{name}= attribute on <{tag}>")
            elif name == "href" and not _SAFE_URL.match("".join((value or "").split())):
                self.found.append(f"href={shown(value, 40)} on <{tag}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def unsafe_markup(markup: str) -> list[str]:
    """What in an HTML fragment (a cell output) is not plain table or text markup: any
    element other than tables, text and a style sheet (so no ``<script>``, ``<img>``,
    ``<svg>``, ``<iframe>``…), any attribute other than layout ones (so no ``on…=``
    handler) and any link that is not http(s), mailto or relative. Empty: safe."""
    check = _MarkupCheck()
    check.feed(markup)
    check.close()
    return list(dict.fromkeys(check.found))


def safe_styler_html(styler: TableToEscape) -> str:
    """The HTML of ``styler`` with its headers escaped too: column and index labels
    that have no formatter of their own, the index and column names, and the caption
    (``Styler.format(escape="html")`` escapes only the cells). ``styler`` is unchanged."""
    safe = copy.deepcopy(styler)
    for axis, formatters in ((0, "_display_funcs_index"), (1, "_display_funcs_columns")):
        if not getattr(safe, formatters, None):
            safe.format_index(escape="html", axis=axis)

    def escaped(names: list[object]) -> list[object]:
        return [None if name is None else html.escape(str(name)) for name in names]

    data = safe.data.copy(deep=False)
    data.index = data.index.set_names(escaped(list(data.index.names)))
    data.columns = data.columns.set_names(escaped(list(data.columns.names)))
    safe.data = data
    if isinstance(safe.caption, str):
        safe.caption = html.escape(safe.caption)
    elif isinstance(safe.caption, (tuple, list)):
        safe.caption = type(safe.caption)(html.escape(str(part)) for part in safe.caption)
    return safe._repr_html_()


def escape_html_output() -> None:
    """Make escaping the default for tables in this process and, in a notebook kernel,
    for every ``Styler`` it displays (:func:`safe_styler_html`)."""
    pd.set_option("styler.format.escape", "html")
    shell = get_ipython()
    if shell is not None:
        # By name: pandas' Styler (and jinja2) is imported only by a chapter that uses it.
        shell.display_formatter.formatters["text/html"].for_type_by_name("pandas.io.formats.style", "Styler", safe_styler_html)
