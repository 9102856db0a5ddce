"""Numbers and counts as a reader sees them. The rounding (halves up, as printed tables
round) and the p-value format are the engine's own (:mod:`analysis.meta.report`), so that
prose, tables, plots and a printed fit all show the same digits."""

from __future__ import annotations

import math
import re
from typing import Sequence

from ..meta.report import fixed, level_text, p_value, round_half_up

__all__ = [
    "round_half_up",
    "number",
    "percent",
    "interval",
    "p_value",
    "published_p",
    "level_text",
    "plural",
    "join",
    "share",
    "typeset",
]


def number(value: float, decimals: int = 1) -> str:
    """A number rounded for prose (halves up, as printed tables); ``—`` when not finite."""
    return fixed(value, decimals)


def percent(value: float, decimals: int = 1) -> str:
    return f"{number(value, decimals)}%" if math.isfinite(value) else "—"


def interval(low: float, high: float, decimals: int = 1, unit: str = "%") -> str:
    """``68.6–88.2%``; a single value when both ends round alike (never ``94–94%``)."""
    a, b = number(low, decimals), number(high, decimals)
    if a == "—" or b == "—":
        return "not estimable"
    return f"{a}{unit}" if a == b else f"{a}–{b}{unit}"


def published_p(value: str) -> str:
    """A p-value as printed in a source (``"<0.0001"``, ``"0.028"``) in the book's form
    (``p < 0.0001``, ``p = 0.028``); "" for an empty cell."""
    value = str(value).strip()
    return "" if value == "" else f"p {value[0]} {value[1:]}" if value[0] in "<>" else f"p = {value}"


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """``1 cohort``, ``2 cohorts``, ``1 analysis``/``2 analyses`` (with ``plural_form``)."""
    return f"{count:,} {noun if count == 1 else (plural_form or noun + 's')}"


def join(items: Sequence[str], conjunction: str = "and") -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def share(part: int, whole: int, noun: str) -> str:
    """``All 4 trials``, ``3 of the 4 trials``, ``None of the 4 trials``, ``The one trial``:
    a part of a whole as the subject of a sentence."""
    if whole == 1:
        return f"The one {noun}" if part else f"Not the one {noun}"
    if part == whole:
        return f"All {plural(whole, noun)}"
    return f"{'None' if part == 0 else part} of the {plural(whole, noun)}"


_RANGE = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)(?![\w.])")


def typeset(label: str) -> str:
    """A data label as printed: ``>=60`` -> ``≥60``, ``150-800`` -> ``150–800``."""
    # A range of two numbers only: "4-1BB" is a name, not a range.
    return _RANGE.sub(r"\1–\2", str(label).replace(">=", "≥").replace("<=", "≤"))
