"""Notes in the page where the data cannot support an analysis, and a comparison shown
as its forest plot or its note."""

from __future__ import annotations

import html

from IPython.display import HTML, display

from ..meta.results import PooledProportion
from ..plots.forest import subgroup_forest_plot
from ..review.outcomes import SubgroupComparison

__all__ = ["show_note", "show_comparison"]


def show_note(text: str) -> None:
    """Display ``text`` (escaped: it may quote user input) as a note box in the page;
    nothing when empty. Used where the data cannot support an analysis."""
    if not text:
        return
    display(HTML(f'<div class="admonition note"><p class="admonition-title">Note</p><p>{html.escape(text)}</p></div>'))


def show_comparison(comparison: SubgroupComparison, overall: PooledProportion | None = None, title: str = "") -> None:
    """The forest plot of a :class:`~analysis.review.outcomes.SubgroupComparison`, or its
    note when the table cannot support the comparison."""
    if comparison.result is None:
        show_note(comparison.note)
        return
    subgroup_forest_plot(comparison.result, overall=overall, title=title, marks=comparison.marks)
