"""Sentences about what the 2020 paper printed, made from its printed tables: facts
about the paper, phrased as the paper's."""

from __future__ import annotations

import re

import pandas as pd

__all__ = ["table2_sentences", "leading_number"]


def leading_number(cell: str) -> float | None:
    """The number a printed table cell starts with ("82 (450 × 10⁶ cohort)" -> 82.0);
    None when it starts with none."""
    match = re.match(r"\s*(\d+(?:\.\d+)?)", str(cell))
    return float(match.group(1)) if match else None


def _more_or_less(a: float, b: float, more: str, less: str, same: str) -> str:
    return more if a > b else less if a < b else same


def table2_sentences(table2: pd.DataFrame, first: tuple[str, str], second: tuple[str, str]) -> dict[str, str]:
    """The contrasts of the paper's Table 2 in words, from its numbers (the ``second``
    trial against the ``first``, each given as (name, column)), without restating them:
    the table is shown beside the prose."""
    row = table2.set_index("characteristic")
    (a_name, a), (b_name, b) = first, second
    value = lambda name, column: leading_number(row.loc[name, column])  # noqa: E731
    age = _more_or_less(value("Median age (range) — years", b), value("Median age (range) — years", a),
                        "older", "younger", "of the same median age")
    lines = _more_or_less(value("Median prior lines (range)", b), value("Median prior lines (range)", a),
                          "more", "fewer", "as many")
    neuro = _more_or_less(value("Neurotoxicity (%)", b), value("Neurotoxicity (%)", a), "more", "less", "as much")
    binder = lambda column: row.loc["Binder", column][0].lower() + row.loc["Binder", column][1:]  # noqa: E731
    return {
        "patients": (f"In the paper's Table 2, {b_name}'s patients were {age} than {a_name}'s, had had {lines} prior lines of "
                     f"therapy, and had {neuro} neurotoxicity."),
        "binder": f"{a_name}'s CAR uses a {binder(a)} binder, {b_name}'s a {binder(b)} binder.",
    }
