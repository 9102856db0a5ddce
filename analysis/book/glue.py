"""Handing computed numbers and sentences to the book's prose through myst-nb ``glue``.

Every number in a chapter's text is glued, never typed. myst-nb renders what it is
given, so values are converted to plain Python ``float``/``int``/``str`` first (a numpy
scalar would print as ``np.float64(80.2)``). Numbers meant for prose are glued as text
already rounded (:func:`glue_number`); chapters use no glue format specs. Glue text with
``{glue:text}`` (a text node), never ``{glue:md}``, which would read markup in it.
"""

from __future__ import annotations

import numbers
from typing import Mapping

from myst_nb import glue as myst_glue

from ..meta.results import PooledProportion, SubgroupAnalysis
from ..text.numbers import number

__all__ = ["plain", "glue", "glue_all", "glue_number", "pooled_fields", "glue_pooled", "glue_subgroups", "key_safe"]


def plain(value: object) -> float | int | str:
    """``value`` as a plain int, float or str; anything else is an error."""
    if isinstance(value, bool):
        raise TypeError("glue a number or text, not a bool")
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, str):
        return value
    raise TypeError(f"cannot glue {type(value).__name__}: {value!r}")


def glue(name: str, value: object) -> None:
    """Glue one value (converted by :func:`plain`) without displaying it."""
    myst_glue(name, plain(value), display=False)


def glue_all(prefix: str, sentences: Mapping[str, str]) -> None:
    """Glue each of ``sentences`` as ``{prefix}_{name}``."""
    for name, text in sentences.items():
        glue(f"{prefix}_{name}", text)


def glue_number(name: str, value: float, decimals: int = 1) -> None:
    """Glue a number for prose as text, rounded halves up (:func:`analysis.text.number`),
    so that prose rounds as the tables do; glue's own ``:.1f`` would round halves to even."""
    glue(name, number(value, decimals))


def pooled_fields(result: PooledProportion) -> dict[str, float | int]:
    """The numbers prose quotes from a pooled result, percent scale for proportions."""
    s = result.summary()
    return {
        "est": s["estimate"],
        "lo": s["ci_low"],
        "hi": s["ci_high"],
        "pi_lo": s["pi_low"],
        "pi_hi": s["pi_high"],
        "i2": s["i2"],
        "tau2": s["tau2"],
        "q_p": s["q_p"],
        "k": result.k,
        "n": result.n_total,
        "events": result.events_total,
    }


def glue_pooled(prefix: str, result: PooledProportion) -> None:
    """Glue ``{prefix}_est``, ``_lo``, ``_hi``, ``_pi_lo``, ``_pi_hi``, ``_i2``, ``_tau2``,
    ``_q_p``, ``_k``, ``_n`` and ``_events``."""
    for field, value in pooled_fields(result).items():
        glue(f"{prefix}_{field}", value)


def glue_subgroups(prefix: str, result: SubgroupAnalysis) -> None:
    """Glue every subgroup as ``{prefix}_{group}_*`` plus ``{prefix}_p``, ``_q`` and
    ``_df`` of the test. Group names are made safe for glue keys."""
    glue(f"{prefix}_p", result.p)
    glue(f"{prefix}_q", result.q_between)
    glue(f"{prefix}_df", result.df)
    for group, pooled in result.groups.items():
        glue_pooled(f"{prefix}_{key_safe(group)}", pooled)


def key_safe(name: str) -> str:
    """A subgroup name as a glue-key fragment: ``anti-CD3/CD28`` -> ``anti_cd3_cd28``,
    ``>=5`` -> ``ge5``, ``<60`` -> ``lt60`` (comparisons spelled out, so they stay distinct)."""
    for sign, word in ((">=", "ge"), ("<=", "le"), (">", "gt"), ("<", "lt")):
        name = name.replace(sign, word)
    return "".join(c if c.isalnum() else "_" for c in name.lower()).strip("_")
