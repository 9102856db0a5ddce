"""Helpers that hand computed numbers to the book's prose through myst-nb ``glue``.

Every number in a chapter's text is glued, never typed. myst-nb renders what it is
given, so values are converted to plain Python ``float``/``int`` first: a numpy scalar
would print as ``np.float64(80.2)``.
"""

from __future__ import annotations

import numbers
from pathlib import Path

import pandas as pd

from .proportions import PooledProportion, SubgroupAnalysis

__all__ = ["plain", "glue", "pooled_fields", "glue_pooled", "glue_subgroups", "key_safe", "save_results"]


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
    from myst_nb import glue as _glue

    _glue(name, plain(value), display=False)


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



def save_results(output_dir: str | Path | None, chapter: str, **tables: pd.DataFrame) -> list[Path]:
    """Write a chapter's result tables as ``<output_dir>/results/<chapter>/<name>.csv``
    (the build publishes them next to the HTML); ``output_dir=None``: the repository's
    ``_build``. Returns the files written."""
    from .data import DATA_DIR

    folder = Path(output_dir or DATA_DIR.parent / "_build") / "results" / chapter
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in tables.items():
        path = folder / f"{name}.csv"
        table.to_csv(path, index=not isinstance(table.index, pd.RangeIndex))
        written.append(path)
    return written
