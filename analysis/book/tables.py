"""The one table style of the book: human column labels, numbers to fixed places and
right-aligned, p-values as journals print them, every string escaped."""

from __future__ import annotations

import pandas as pd
from pandas.io.formats.style import Styler as EscapedTable  # built with escape="html" (cells and headers)

from ..text.labels import COLUMN_LABELS, OUTCOME_LABELS, RULE_LABELS, SETTING_LABELS
from ..text.numbers import p_value, round_half_up
from ..text.phrasing import estimate_text

__all__ = ["table", "rule_table", "SHORT_COLUMN"]

#: Columns whose longest value has at most this many characters are set on one line.
SHORT_COLUMN = 20


def table(frame: pd.DataFrame, labels: dict[str, str] | None = None, *, decimals: int | dict[str, int] = 1,
          p_values: tuple[str, ...] = (), index: bool = False) -> EscapedTable:
    """A table as the book shows it: human column labels (``labels``, then
    :data:`COLUMN_LABELS`), numbers to ``decimals`` places and right-aligned, p-value
    columns as "p = 0.003" / "p < 0.001", missing values as "—", every string escaped
    (``decimals`` may map a shown column label to its own number of places),
    padded cells (the book's stylesheet), and no row numbers unless ``index``."""
    names = {**COLUMN_LABELS, **(labels or {})}
    shown = frame.rename(columns=lambda c: names.get(c, c) if isinstance(c, str) else c)
    if not index:  # row numbers are not shown: a unique index lets the styles address every row
        shown = shown.reset_index(drop=True)
    p_columns = [names.get(c, c) for c in p_values]
    def places(column: str) -> int:
        return decimals.get(column, 1) if isinstance(decimals, dict) else decimals

    numeric = [c for c in shown.columns if pd.api.types.is_numeric_dtype(shown[c]) and not pd.api.types.is_bool_dtype(shown[c])]
    formats = {c: (lambda v: "—" if pd.isna(v) else p_value(float(v))) for c in p_columns}
    for c in numeric:
        if c not in formats:
            # Thousands separated, a true minus sign, halves rounded up as printed tables do.
            formats[c] = (lambda v: "—" if pd.isna(v) else f"{int(v):,}".replace("-", "−")) \
                if pd.api.types.is_integer_dtype(shown[c]) else \
                (lambda v, d=places(c): "—" if pd.isna(v) else f"{round_half_up(float(v), d):,.{d}f}".replace("-", "−"))
    # A short column (an estimate with its CI, a name) stays on one line; a long text column
    # wraps inside a block of readable width (the stylesheet's .long-text), so that the
    # table fits the page and no column ends up one word per line.
    longest = {c: int(shown[c].astype(str).str.len().max()) if len(shown) else 0 for c in shown.columns}
    short = [c for c, n in longest.items() if n <= SHORT_COLUMN]
    for c, n in longest.items():
        if n > SHORT_COLUMN and c not in formats:
            formats[c] = lambda v: f'<div class="long-text">{v}</div>'  # v arrives escaped
    def heading(label: str) -> str:  # a header of four words or more keeps a width of its own
        return f'<div class="long-head">{label}</div>' if len(label.split()) >= 4 else label

    styler = shown.style.format(formats, na_rep="—", escape="html").format_index(heading, escape="html", axis=1)
    if not index:
        styler = styler.hide(axis="index")
    else:
        styler = styler.format_index(escape="html", axis=0)
    # Text columns that hold numbers ("33 / 33", "12.2 (11.4–17.4)", "p < 0.001") align as numbers.
    numeric_text = [c for c in shown.columns if c not in numeric and shown[c].dtype == object
                    and shown[c].dropna().astype(str).str.fullmatch(r"[\d\s.,%()–\-−/<>=≥≤p]*\d[\d\s.,%()–\-−/<>=≥≤p]*").all()
                    and shown[c].notna().any()]
    right = [c for c in numeric] + p_columns + numeric_text
    if right:
        styler = styler.set_properties(subset=list(dict.fromkeys(right)), **{"text-align": "right"})
    if short:
        styler = styler.set_properties(subset=short, **{"white-space": "nowrap"})
    return styler.set_table_attributes('class="review-table"')


def rule_table(sensitivity: pd.DataFrame) -> EscapedTable:
    """A :func:`analysis.review.outcomes.rule_sensitivity` result as the book shows it:
    each rule and setting in words, the setting in force marked."""
    # One column for the estimate with its CI: the table fits a page.
    shown = pd.DataFrame({
        "rule": sensitivity["rule"].map(RULE_LABELS),
        "setting": [SETTING_LABELS[r][s] for r, s in zip(sensitivity["rule"], sensitivity["setting"])],
        "in_use": sensitivity["in_use"].map({True: "as used", False: "alternative rule"}),
        "outcome": sensitivity["outcome"].map(OUTCOME_LABELS),
        "k": sensitivity["k"], "events": sensitivity["events"], "patients": sensitivity["patients"],
        "Pooled rate (95% CI)": [estimate_text(e, lo, hi) for e, lo, hi in
                                 zip(sensitivity["estimate"], sensitivity["ci_low"], sensitivity["ci_high"])],
        "i2": sensitivity["i2"],
    })
    return table(shown, {"rule": "Where the table…", "setting": "Setting", "in_use": "Status"})
