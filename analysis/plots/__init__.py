"""Figures: forest plots (per study, by subgroup, leave-one-out), diagnostics (funnel,
Baujat, GOSH, dose bubbles) and summaries (study flow, estimates by edition). Plots draw
fits of :mod:`analysis.meta` with the labels and number formats of :mod:`analysis.text`;
every text from a data file is drawn literally (:func:`drawable`). Survival figures are in
:mod:`analysis.plots.survival`, imported by the chapters that draw curves."""

from .diagnostics import baujat_plot, bubble_plot, dose_response_plot, funnel_plot, gosh_plot, size_funnel_plot
from .forest import MAX_STUDY_ROWS, forest_plot, leave_one_out_plot, subgroup_forest_plot
from .quality import risk_of_bias_plot
from .theme import drawable
from .summary import coverage_plot, cumulative_plot, editions_plot, flow_diagram, model_panel_plot, subgroup_editions_plot, update_flow_diagram

__all__ = [
    "MAX_STUDY_ROWS",
    "forest_plot",
    "subgroup_forest_plot",
    "leave_one_out_plot",
    "funnel_plot",
    "size_funnel_plot",
    "baujat_plot",
    "gosh_plot",
    "bubble_plot",
    "dose_response_plot",
    "flow_diagram",
    "update_flow_diagram",
    "cumulative_plot",
    "editions_plot",
    "subgroup_editions_plot",
    "model_panel_plot",
    "coverage_plot",
    "risk_of_bias_plot",
    "drawable",
]
