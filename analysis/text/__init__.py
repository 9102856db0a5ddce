"""Text: everything a reader reads that is made from numbers -- labels
(:mod:`~analysis.text.labels`), numbers and counts (:mod:`~analysis.text.numbers`),
sentences that state a direction, ranking, size or significance
(:mod:`~analysis.text.phrasing` and its companions for editions, the reproduction report
and the paper's tables), and user text quoted for messages
(:mod:`~analysis.text.quoting`). Text knows the engine's result types, never the review,
the inputs or the book."""

from . import methods, overview, survival, trial
from .editions import NOT_THE_PAPER, describe_comparison, findings_summary, pooled_shift
from .labels import *  # noqa: F403 -- the label tables are the package's vocabulary
from .labels import __all__ as _labels
from .numbers import *  # noqa: F403
from .numbers import __all__ as _numbers
from .paper import table2_sentences
from .phrasing import *  # noqa: F403
from .phrasing import __all__ as _phrasing
from .reproduction import verdict_sentence

__all__ = ["methods", "overview", "survival", "trial", *_labels, *_numbers, *_phrasing, "NOT_THE_PAPER", "describe_comparison", "findings_summary", "pooled_shift",
           "table2_sentences", "verdict_sentence"]
