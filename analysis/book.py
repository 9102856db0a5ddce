"""Helpers that hand computed numbers to the book's prose through myst-nb ``glue``.

Every number in a chapter's text is glued, never typed. myst-nb renders what it is
given, so values are converted to plain Python ``float``/``int`` first: a numpy scalar
would print as ``np.float64(80.2)``.

Importing this module makes a chapter's kernel escape every table it shows, headers
included (:func:`analysis.safety.escape_html_output`): the study table is user input.
Glue text with ``{glue:text}`` (a text node), never ``{glue:md}``, which would read
markup in it; result tables are written with formulas defused (:func:`write_csv`).
"""

from __future__ import annotations

import html
import numbers
from pathlib import Path

import pandas as pd
from pandas.io.formats.style import Styler as EscapedTable  # built with escape="html" (cells and headers)

from . import paper
from .data import load_covariates
from .phrasing import join, plural

from .proportions import PooledProportion, SubgroupAnalysis
from .safety import escape_html_output, write_csv

__all__ = [
    "plain",
    "glue",
    "pooled_fields",
    "glue_pooled",
    "glue_subgroups",
    "key_safe",
    "save_results",
    "write_csv",
    "provenance",
    "glue_provenance",
    "show_note",
    "covariate_note",
    "show_comparison",
    "COLUMN_LABELS",
    "table",
    "rule_table",
]

escape_html_output()


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
    ``_build``. Text that a spreadsheet would run as a formula is defused
    (:func:`analysis.safety.write_csv`). Returns the files written."""
    from .data import DATA_DIR

    folder = Path(output_dir or DATA_DIR.parent / "_build") / "results" / chapter
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in tables.items():
        written.append(write_csv(table, folder / f"{name}.csv"))
    return written


def display_path(path: str | Path | None, default: Path = paper.STUDIES) -> str:
    """A data file as a reader should see it: its path from the repository root, or its
    absolute path when it lives elsewhere (two tables may share a file name)."""
    file = Path(path or default).resolve()
    root = paper.STUDIES.resolve().parent.parent
    return str(file.relative_to(root)) if file.is_relative_to(root) else str(file)


def provenance(path: str | Path | None, studies: pd.DataFrame) -> str:
    """Which table a page was built from: file path, cohorts, patients, short checksum."""
    edition = " — the paper's Table 1" if paper.is_paper_table(path) else ""
    return (f"{display_path(path)}{edition} ({plural(len(studies), 'cohort')}, {plural(int(studies['n_total'].sum()), 'patient')}; "
            f"SHA-256 {paper.checksum(path)})")


def inferred_sentence(studies: pd.DataFrame, covariates_path: str | Path | None, factors: tuple[str, ...] = ("age", "prior_lines")) -> str:
    """How many of this table's covariate groups are inferred rather than sourced, and
    the file that says which."""
    from .data import DEFAULT_COVARIATES

    names = {"age": "age", "prior_lines": "prior-lines"}
    parts = [f"{int((studies[f'{by}_status'] == 'inferred').sum())} of {len(studies)} cohorts' {names.get(by, by)} groups"
             for by in factors if f"{by}_status" in studies]
    if not parts:
        return "This table has no covariates, so no group is sourced or inferred."
    return (f"In this table {join(parts)} are inferred rather than sourced "
            f"({display_path(covariates_path, DEFAULT_COVARIATES)} says which, from where, and how).")


def glue_provenance(path: str | Path | None, studies: pd.DataFrame) -> None:
    """Glue ``provenance`` (see :func:`provenance`) for the page's data note."""
    glue("provenance", provenance(path, studies))


def show_note(text: str) -> None:
    """Display ``text`` (escaped: it may quote user input) as a note box in the page;
    nothing when empty. Used where the data cannot support an analysis."""
    if not text:
        return
    from IPython.display import HTML, display

    display(HTML(f'<div class="admonition note"><p class="admonition-title">Note</p><p>{html.escape(text)}</p></div>'))


def covariate_note(studies: pd.DataFrame, covariates: pd.DataFrame) -> str:
    """What a reader must know about the study covariates used with this table: studies
    that have none, covariate rows that match no study, and cohorts whose row differs
    from the paper's cohort of the same id (their covariates describe the 2020 cohort)."""
    ids = set(studies["study_id"])
    given = covariates.set_index("study_id")
    columns = [c for c in given.columns if c.endswith("_group")]
    has_any = {sid for sid, row in given[columns].iterrows() if (row != "").any()}
    without = sorted(ids - has_any)
    unmatched = sorted(set(given.index) - ids)
    parts = []
    if without:
        parts.append(f"{plural(len(without), 'cohort')} of this table {'has' if len(without) == 1 else 'have'} no median age or "
                     f"prior-lines group and {'is' if len(without) == 1 else 'are'} left out of those subgroups: {', '.join(without)}.")
    if unmatched:
        parts.append(f"{plural(len(unmatched), 'covariate row')} {'matches' if len(unmatched) == 1 else 'match'} no cohort of this "
                     f"table and {'is' if len(unmatched) == 1 else 'are'} ignored: {', '.join(unmatched)}.")
    # A changed cohort is a concern only if its covariates are still the 2020 ones.
    old = load_covariates(paper.COVARIATES).set_index("study_id")
    changed = [sid for sid in paper.changed_cohorts(studies)
               if sid in has_any and sid in old.index and old.loc[sid].equals(given.loc[sid].reindex(old.columns))]
    if changed:
        parts.append(f"{plural(len(changed), 'cohort')} share{'s' if len(changed) == 1 else ''} an id with a cohort of the paper's "
                     f"table but not its numbers; the covariates given for {'it' if len(changed) == 1 else 'them'} may describe "
                     f"the earlier report: {', '.join(changed)}.")
    return " ".join(parts)


def show_comparison(comparison, overall=None, title: str = "") -> None:
    """The forest plot of a :class:`~analysis.outcomes.SubgroupComparison`, or its note
    when the table cannot support the comparison."""
    if comparison.result is None:
        show_note(comparison.note)
        return
    from .plots import subgroup_forest_plot

    subgroup_forest_plot(comparison.result, overall=overall, title=title, marks=comparison.marks)


#: Column names the analysis functions return -> how a reader sees them.
COLUMN_LABELS: dict[str, str] = {
    "study": "Cohort", "study_id": "Study", "label": "Cohort", "product": "Product", "group": "Group",
    "outcome": "Outcome", "model": "Model", "method": "Method", "k": "Cohorts (k)", "n": "Patients",
    "events": "Events", "estimate": "Estimate (%)", "ci_low": "95% CI, low (%)", "ci_high": "95% CI, high (%)",
    "pi_low": "95% PI, low (%)", "pi_high": "95% PI, high (%)", "i2": "I² (%)", "tau2": "τ²", "h2": "H²", "q": "Q",
    "q_p": "p (Q-test)", "p": "p-value", "weight": "Weight (%)", "weight_pct": "Weight (%)", "rate": "Rate (%)",
    "y": "Logit y", "v": "Variance v", "w": "Weight w = 1/v", "w*y": "w·y", "w*y^2": "w·y²", "w^2": "w²",
    "w_star": "Random-effects weight w*", "dose": "Dose", "dose_group": "Dose group", "verdict": "Verdict",
    "basis": "Basis", "computed": "Computed", "published": "Published", "difference": "Difference", "note": "Note",
    "key": "Number", "source": "Source", "setting": "Setting", "rule": "Rule", "in_use": "In use",
    "patients": "Patients", "coverage": "Coverage", "mean_width": "Mean width (points)", "analysis": "Analysis",
    "event": "Adverse event", "any_grade": "Any grade (n)", "any_rate": "Any grade (%)",
    "any_low": "Any grade, 95% CI low", "any_high": "Any grade, 95% CI high", "severe": "Grade ≥3 (n)",
    "severe_rate": "Grade ≥3 (%)", "severe_low": "Grade ≥3, 95% CI low", "severe_high": "Grade ≥3, 95% CI high",
    "responders": "Responders", "dose_millions": "Dose (10⁶ cells)", "edition": "Table",
}


def table(frame: pd.DataFrame, labels: dict[str, str] | None = None, *, decimals: int | dict[str, int] = 1,
          p_values: tuple[str, ...] = (), index: bool = False) -> EscapedTable:
    """A table as the book shows it: human column labels (``labels``, then
    :data:`COLUMN_LABELS`), numbers to ``decimals`` places and right-aligned, p-value
    columns as "p = 0.003" / "p < 0.001", missing values as "—", every string escaped
    (``decimals`` may map a shown column label to its own number of places),
    padded cells (the book's stylesheet), and no row numbers unless ``index``."""
    from .phrasing import p_value, round_half_up

    names = {**COLUMN_LABELS, **(labels or {})}
    shown = frame.rename(columns=lambda c: names.get(c, c) if isinstance(c, str) else c)
    p_columns = [names.get(c, c) for c in p_values]
    def places(column: str) -> int:
        return decimals.get(column, 1) if isinstance(decimals, dict) else decimals

    numeric = [c for c in shown.columns if pd.api.types.is_numeric_dtype(shown[c]) and not pd.api.types.is_bool_dtype(shown[c])]
    formats = {c: (lambda v: "—" if pd.isna(v) else p_value(float(v))) for c in p_columns}
    for c in numeric:
        if c not in formats:
            # Thousands separated, a true minus sign, halves rounded up as printed tables do.
            formats[c] = (lambda v: "—" if pd.isna(v) else f"{int(v):,}".replace("-", "−")) \
                if pd.api.types.is_integer_dtype(shown[c]) else \
                (lambda v, d=places(c): "—" if pd.isna(v) else f"{round_half_up(float(v), d):,.{d}f}".replace("-", "−"))
    styler = shown.style.format(formats, na_rep="—", escape="html").format_index(escape="html", axis=1)
    if not index:
        styler = styler.hide(axis="index")
    else:
        styler = styler.format_index(escape="html", axis=0)
    # Text columns that hold numbers ("33 / 33", "12.2 (11.4–17.4)", "p < 0.001") align as numbers.
    numeric_text = [c for c in shown.columns if c not in numeric and shown[c].dtype == object
                    and shown[c].dropna().astype(str).str.fullmatch(r"[\d\s.,%()–\-−/<>=≥≤p]*\d[\d\s.,%()–\-−/<>=≥≤p]*").all()
                    and shown[c].notna().any()]
    right = [c for c in numeric] + p_columns + numeric_text
    if right:
        styler = styler.set_properties(subset=list(dict.fromkeys(right)), **{"text-align": "right"})
    return styler.set_table_attributes('class="review-table"')


def rule_table(sensitivity: pd.DataFrame) -> EscapedTable:
    """A :func:`analysis.outcomes.rule_sensitivity` result as the book shows it: each rule
    and setting in words, the setting in force marked."""
    from .data import RULE_LABELS, SETTING_LABELS
    from .phrasing import OUTCOME_LABELS

    shown = sensitivity.assign(
        setting=[SETTING_LABELS[r][s] for r, s in zip(sensitivity["rule"], sensitivity["setting"])],
        rule=sensitivity["rule"].map(RULE_LABELS),
        outcome=sensitivity["outcome"].map(OUTCOME_LABELS),
        in_use=sensitivity["in_use"].map({True: "as used", False: "alternative rule"}),
    )
    return table(shown, {"rule": "Where the table…", "setting": "Setting", "in_use": "Status"})
