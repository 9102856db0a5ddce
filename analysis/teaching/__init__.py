"""Teaching: the random-effects model computed step by step, independent of the engine
(:mod:`~analysis.teaching.steps`), and the worked answers of the book's exercises with
the claims they make (:mod:`~analysis.teaching.exercises`)."""

from . import exercises
from . import lessons
from .steps import DLSteps, dl_steps, hksj_panel, hksj_table, steps_table

__all__ = ["exercises", "lessons", "DLSteps", "dl_steps", "hksj_panel", "hksj_table", "steps_table"]
