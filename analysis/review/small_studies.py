"""Small-study effects of one pooled outcome, done for proportions: the rank correlation
of the cohorts' rates with their sizes, Peters' regression on 1/n and trim-and-fill as a
sensitivity analysis (the engine's :mod:`~analysis.meta.bias`), each with its sentence,
or a note where the cohorts cannot support it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import pandas as pd

from ..meta.bias import EggerTest, RankCorrelation, TrimAndFill, peters_test, rank_correlation_test, trim_and_fill
from ..meta.results import PooledProportion
from ..text import methods as words
from ..text.phrasing import ALPHA
from .outcomes import fit_or_note

__all__ = ["SmallStudyEffects", "small_study_effects"]


@dataclass(frozen=True)
class SmallStudyEffects:
    """The three small-study analyses of one outcome (None where the cohorts cannot
    support one; ``notes`` says why) and the sentences ``size`` and ``trimfill``."""

    rank: RankCorrelation | None
    peters: EggerTest | None
    trim: TrimAndFill | None
    notes: Mapping[str, str]
    sentences: Mapping[str, str]
    alpha: float

    def detected(self) -> bool | None:
        """Whether either test finds small-study effects at ``alpha`` (None: neither could run)."""
        ps = [t.p for t in (self.rank, self.peters) if t is not None and math.isfinite(t.p)]
        return None if not ps else any(p < self.alpha for p in ps)


def small_study_effects(rows: pd.DataFrame, engine: PooledProportion, alpha: float = ALPHA) -> SmallStudyEffects:
    """The cohorts ``rows`` (``events``, ``n``) pooled as ``engine`` (its transform and τ²
    method are those of trim-and-fill)."""
    rank, rank_note = fit_or_note(lambda: rank_correlation_test(rows["events"], rows["n"]))
    peters, peters_note = fit_or_note(lambda: peters_test(rows["events"], rows["n"], transform=engine.transform))
    trim, trim_note = fit_or_note(lambda: trim_and_fill(rows["events"], rows["n"], transform=engine.transform,
                                                        tau2=engine.tau2_method, level=engine.level))
    notes = {"rank": rank_note, "peters": peters_note, "trimfill": trim_note}
    if rank is not None and peters is not None:
        size = words.small_study_sentence(rank.tau, rank.p, peters.p, alpha)
    else:
        size = words.small_study_unavailable(rank_note or peters_note)
    filled = (words.trim_fill_sentence(trim.k0, trim.side, trim.estimate, trim.low, trim.high, engine.estimate, engine.level)
              if trim is not None else words.small_study_unavailable(trim_note, "Trim-and-fill"))
    return SmallStudyEffects(rank, peters, trim, notes, {"size": size, "trimfill": filled}, alpha)
