"""Sentences about the reproduction report: how many published numbers are matched."""

from __future__ import annotations

from typing import Mapping

import pandas as pd

__all__ = ["verdict_sentence"]


def _tally(report: pd.DataFrame) -> str:
    counts = report["verdict"].value_counts()
    n = {v: int(counts.get(v, 0)) for v in ("match", "close", "differs", "cannot compute")}
    return (f"{n['match']} match, {n['close']} {'is' if n['close'] == 1 else 'are'} close, {n['differs']} "
            f"{'differs' if n['differs'] == 1 else 'differ'} and {n['cannot compute']} cannot be computed from the data")


def verdict_sentence(report: pd.DataFrame, what: str, explain: bool = True, tolerance: Mapping[str, float] | None = None) -> str:
    """The tally of a :func:`compare` report in words, counted separately for sourced and
    inferred numbers; with ``explain``, preceded by the ``tolerance`` behind "close"
    (:data:`analysis.review.reproduction.TOLERANCE`; ``report`` has a ``basis`` column)."""
    tolerance = tolerance or {}
    text = (
        f"Each published number is set beside the value computed here. \"Match\" means the computed value rounds to the "
        f"printed one; \"close\" means within {tolerance['estimate']:g} percentage point for rates and their limits, "
        f"{tolerance['i2']:g} points for I² and a relative {tolerance['p']:.0%} for p-values." if explain and tolerance else ""
    )
    kinds = report["basis"]
    sourced, inferred = report[kinds == "sourced"], report[kinds == "inferred"]
    if inferred.empty:
        return f"{text} Of {len(report)} {what}, {_tally(report)}.".strip()
    return (
        f"{text} Of the {len(sourced)} {what} that depend only on the published table (and sourced covariates), "
        f"{_tally(sourced)}. The other {len(inferred)} depend on study groupings by median age or prior lines that this "
        f"book inferred, because no source gave them: of these, {_tally(inferred)}. Their matches show that a grouping "
        "reproducing the paper exists, not that it is the paper's."
    ).strip()
