"""The study table: reading, validating and deriving event counts.

``data/studies.csv`` keeps Table 1 of Roex et al. (2020) as published: category columns
hold the published wording and outcome columns the published percentages. This module
maps the wording onto analysis categories and turns percentages into event counts by
the rules in ``data/README.md``. Every problem in a file is reported at once, in one
:class:`~analysis.inputs.errors.StudyDataError` that names the file, the study and the
column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal

import numpy as np
import pandas as pd

from ..text.labels import PERCENT_LABELS
from ..text.numbers import number, plural
from ..text.quoting import shown
from .errors import Problem, StudyDataError
from .paths import DEFAULT_STUDIES
from .reader import Parsed, choices, counts, numbers, read_csv
from .reader import dates as read_dates
from .reader import percents as read_percents

__all__ = [
    "CATEGORIES",
    "OUTCOMES",
    "ADDED_OUTCOMES",
    "ALL_OUTCOMES",
    "LATE_HARMS",
    "CHOICE_COLUMNS",
    "PRIMARY_SOURCES",
    "SOURCES",
    "ExtractionRules",
    "RULE_OPTIONS",
    "COUNT_COLUMNS",
    "load_studies",
    "parse_dose",
    "dose_ranges",
]

#: Analysis categories, in display order.
CATEGORIES: dict[str, list[str]] = {
    "origin": ["murine", "human", "camelid", "ND"],
    "expansion": ["anti-CD3", "anti-CD3/CD28", "none", "ND"],
    "loading": ["lentiviral", "retroviral", "transposon", "ND"],
    "costim": ["4-1BB", "CD28", "ND"],
}

#: Outcome -> denominator column: the outcomes of the paper.
OUTCOMES: dict[str, str] = {
    "crs_any": "n_safety",
    "crs_severe": "n_safety",
    "neurotox": "n_safety",
    "orr": "n_response",
    "cr": "n_response",
}
#: The late and serious harms a table may report (counts of the patients evaluable for safety).
LATE_HARMS = ("movement", "cranial_palsy", "spm", "tcell_malignancy", "infection_g3", "nonrelapse_death")
#: Outcomes a table may add: ICANS apart from other neurotoxicity, and the late harms.
ADDED_OUTCOMES: dict[str, str] = {"icans": "n_safety", **{harm: "n_safety" for harm in LATE_HARMS}}
ALL_OUTCOMES: dict[str, str] = {**OUTCOMES, **ADDED_OUTCOMES}

#: Published percentage column -> its denominator (the columns of the paper's Table 1).
PERCENT_COLUMNS: dict[str, str] = {
    "crs_g12_pct": "n_safety",
    "crs_g3_pct": "n_safety",
    "neurotox_pct": "n_safety",
    "cr_pct": "n_response",
    "vgpr_pct": "n_response",
    "pr_pct": "n_response",
    "cr_vgpr_pct": "n_response",
}
TEXT_COLUMNS = ["study_id", "product", "binder", "expansion", "loading", "costim"]
#: Optional percentage columns a table may add: objective response given directly (for
#: reports that print ORR but not its split; a split also given must agree), any-grade
#: CRS (for reports without a grade split), ICANS apart from other neurotoxicity, and the
#: late and serious harms (all of the patients evaluable for safety).
OPTIONAL_PERCENT_COLUMNS: dict[str, str] = {
    "orr_pct": "n_response",
    "crs_any_pct": "n_safety",
    "icans_pct": "n_safety",
    "movement_pct": "n_safety",
    "cranial_palsy_pct": "n_safety",
    "spm_pct": "n_safety",
    "tcell_malignancy_pct": "n_safety",
    "infection_g3_pct": "n_safety",
    "nonrelapse_death_pct": "n_safety",
}
REQUIRED_COLUMNS = TEXT_COLUMNS + ["n_safety", "n_response"] + list(PERCENT_COLUMNS)
OPTIONAL_TEXT_COLUMNS = ["registration", "car_product", "trial", "refs", "dose", "conditioning", "phase", "source",
                         "late_harm_notes"]
#: Optional columns with a fixed set of values (documented in ``data/README.md``).
CHOICE_COLUMNS: dict[str, tuple[str, ...]] = {
    "neurotox_definition": ("any", "icans", "investigator"),
    "source_type": ("journal", "regulatory", "conference", "secondary"),
    "population": ("relapsed/refractory", "newly diagnosed", "prior anti-BCMA"),
    "design": ("single-arm", "randomized"),
    "response_denominator": ("infused", "itt"),
    "cell_source": ("autologous", "allogeneic"),
}
DATE_COLUMNS = ("data_cut", "publication_date")
#: Every optional column a study table may have (any other column is refused, with a
#: "did you mean" where a known name is close).
OPTIONAL_COLUMNS: list[str] = []  # filled in below, once every group is defined
#: Published median PFS (months, with its 95% CI) and median follow-up of a cohort.
MONTH_COLUMNS = ("pfs_median", "pfs_ci_low", "pfs_ci_high", "followup_months")
#: Sources whose numbers enter the main analysis; the others enter a sensitivity analysis.
PRIMARY_SOURCES = ("journal", "regulatory")
#: What a table is read for: the main analysis (primary sources) or the sensitivity analysis (all).
SOURCES = ("primary", "all")
Sources = Literal["primary", "all"]
# Marker for "not disclosed" in a percentage column (Table 1 writes "ND").
NOT_DISCLOSED = "ND"
#: The event counts the loader derives (besides the imputation flags).
DERIVED = ["crs_any", "crs_severe", "neurotox", "orr", "cr", "vgpr", "pr", "icans", *LATE_HARMS]
#: The note of a cohort whose "neurotoxicity" is ICANS only.
MOVED_NOTE = "its neurotoxicity is ICANS only (neurotox_definition): counted as ICANS, not as neurotoxicity of any kind"

Treatment = Literal["zero", "missing"]


#: The settings each extraction rule accepts.
RULE_OPTIONS: dict[str, tuple[str, str]] = {
    "unreported_neurotox": ("zero", "missing"),
    "unreported_crs_grade": ("zero", "missing"),
    "unreported_response": ("zero", "missing"),
    "combined_cr_vgpr": ("missing", "cr"),
    "not_disclosed": ("zero", "missing"),
}

@dataclass(frozen=True)
class ExtractionRules:
    """How outcomes that Table 1 does not report are turned into counts.

    The defaults are the choices that reproduce the paper's pooled numbers.

    Attributes
    ----------
    unreported_neurotox
        ``"zero"``: a study listing no neurotoxicity had none (the paper's choice);
        ``"missing"``: such studies are left out of neurotoxicity analyses.
    unreported_crs_grade
        A CRS grade band (1-2 or >=3) that a study does not list: ``"zero"`` counts it
        as zero events (e.g. a study listing only grade >=3 CRS had no grade 1-2);
        ``"missing"`` leaves the study out of any CRS outcome that needs the band.
    unreported_response
        A study that lists some response categories but not others (e.g. VGPR and PR
        but no CR): ``"zero"`` or ``"missing"`` for the unlisted categories.
    combined_cr_vgpr
        A study reporting only "sCR/CR + VGPR" combined: ``"missing"`` leaves it out of
        CR (its ORR is still complete), ``"cr"`` counts the combined figure as CR.
    not_disclosed
        Categories marked ND ("not disclosed"): ``"missing"`` leaves the study out of
        any outcome needing them; ``"zero"`` counts them as zero, so ORR becomes a
        lower bound.
    """

    unreported_neurotox: Treatment = "zero"
    unreported_crs_grade: Treatment = "zero"
    unreported_response: Treatment = "zero"
    combined_cr_vgpr: Literal["missing", "cr"] = "missing"
    not_disclosed: Treatment = "missing"

    def __post_init__(self) -> None:
        for name, options in RULE_OPTIONS.items():
            if getattr(self, name) not in options:
                raise ValueError(
                    f"ExtractionRules.{name}={getattr(self, name)!r}; choose one of {options}"
                )


# --- category wording -> analysis category -------------------------------------------------

# Words that may accompany a category without changing it (additives, safety switches).
_EXPANSION_ADDITIVES = {"il-2", "pi3k inhibitor"}
_COSTIM_EXTRAS = {"ox40", "egfrt", "rimiducid ss"}


def _tokens(text: str) -> list[str]:
    return [t.strip() for t in re.split(r"[+/]", text.lower()) if t.strip()]


def _origin(text: str) -> str | None:
    t = text.strip().lower()
    if t in ("nd", "not disclosed"):
        return "ND"
    first = t.split()[0] if t else ""
    if first == "murine":
        return "murine"
    if first in ("human", "humanized", "humanised"):
        return "human"
    if first in ("alpaca", "llama", "camelid"):
        return "camelid"
    return None


def _expansion(text: str) -> str | None:
    t = text.strip().lower()
    if t in ("nd", "not disclosed"):
        return "ND"
    if t == "none":
        return "none"
    antibodies = set()
    for token in _tokens(t):
        if token in _EXPANSION_ADDITIVES:
            continue
        name = token.removeprefix("anti-").removeprefix("a")
        if name not in ("cd3", "cd28"):
            return None
        antibodies.add(name)
    if antibodies == {"cd3"}:
        return "anti-CD3"
    if antibodies == {"cd3", "cd28"}:
        return "anti-CD3/CD28"
    return None


def _loading(text: str) -> str | None:
    t = text.strip().lower()
    mapping = {
        "nd": "ND",
        "not disclosed": "ND",
        "lentiviral": "lentiviral",
        "retroviral": "retroviral",
        "gamma-retroviral": "retroviral",
        "transposon": "transposon",
    }
    return mapping.get(t)


def _costim(text: str) -> str | None:
    t = text.strip().lower()
    if t in ("nd", "not disclosed"):
        return "ND"
    tokens = _tokens(t)
    if any(tok not in ("cd28", "4-1bb") and tok not in _COSTIM_EXTRAS for tok in tokens):
        return None
    # CD28 alone or with OX40/4-1BB counts as CD28, as in the paper.
    if "cd28" in tokens:
        return "CD28"
    if "4-1bb" in tokens:
        return "4-1BB"
    return None


_CATEGORY_MAPS: dict[str, tuple[str, Callable[[str], str | None]]] = {
    # output column: (input column, mapping)
    "origin": ("binder", _origin),
    "expansion": ("expansion", _expansion),
    "loading": ("loading", _loading),
    "costim": ("costim", _costim),
}


# --- reading -----------------------------------------------------------------------------


def _round_half_up(x: np.ndarray) -> np.ndarray:
    # The tiny offset keeps exact halves (e.g. 12.5) from rounding down through
    # floating-point error in pct * n / 100.
    return np.floor(x + 0.5 + 1e-9)


def _decimals(text: pd.Series) -> np.ndarray:
    """Decimal places as printed ("73" -> 0, "5.6" -> 1)."""
    return text.str.rstrip("%").str.partition(".")[2].str.len().to_numpy()


def load_studies(
    path: str | Path | None = None, rules: ExtractionRules | None = None, *, require_outcome: bool = True,
    sources: Sources = "primary",
) -> pd.DataFrame:
    """Read, validate and derive the study table.

    Parameters
    ----------
    path
        CSV file in the format of ``data/studies.csv`` (see ``data/README.md``);
        defaults to that file.
    rules
        How unreported outcomes become counts; defaults to the paper's choices.
    require_outcome
        Refuse a table in which no cohort reports any outcome under ``rules`` (the
        default); ``False`` reads it anyway (a sensitivity analysis that flips a rule
        may leave nothing to pool, which it says).
    sources
        ``"primary"`` (the main analysis): the cohorts whose ``source_type`` is a journal
        or a regulator (or not given, as in the paper's table); ``"all"`` (the
        sensitivity analysis): every cohort, a cohort given twice -- from a primary and
        from a conference or secondary source -- by its second row. Every row is checked
        either way.

    Returns
    -------
    DataFrame with one row per study: identifiers, ``n_safety``, ``n_response``,
    ``n_total``, categorical ``origin``, ``expansion``, ``loading``, ``costim`` (the
    published wording kept as ``*_published``), nullable integer event counts
    ``crs_any``, ``crs_severe``, ``neurotox``, ``orr``, ``cr``, ``vgpr``, ``pr``,
    ``extraction_notes`` for percentages that no whole count reproduces, and the
    optional text columns (``source``, ``phase``, ``dose``, …; blank when absent).

    Raises
    ------
    FileNotFoundError
        if ``path`` is not an existing file.
    StudyDataError
        listing every problem (study and column) found in the file, in one pass.
    """
    path = Path(path) if path is not None else DEFAULT_STUDIES
    rules = rules or ExtractionRules()
    table = read_csv(path, what="study table", required=REQUIRED_COLUMNS, optional=OPTIONAL_COLUMNS, kind="study",
                     key="study_id", error=StudyDataError)
    raw = table.cells
    if raw.empty:
        raise StudyDataError(path, [Problem("(file)", "(all)", "the table has no studies", "file")])

    ids = raw["study_id"]
    rows = len(raw)
    study = table.names()
    found: list[tuple[int, int, Problem]] = []  # (row, column order, problem): sorted at the end

    def flag(mask: np.ndarray, column: str, order: int, message: Callable[[int], str]) -> None:
        for i in np.flatnonzero(mask):
            found.append((int(i), order, Problem(str(study[i]), column, message(int(i)))))

    if sources not in SOURCES:
        raise ValueError(f"sources must be one of {SOURCES}, got {sources!r}")
    flag((ids == "").to_numpy(), "study_id", 0, lambda i: "study_id is empty")
    # A cohort may be given twice: once from a primary source, once from a conference or
    # secondary one (the sensitivity analysis reads the second).
    primary = (raw["source_type"].str.lower().isin(("", *PRIMARY_SOURCES)).to_numpy() if "source_type" in raw
               else np.ones(rows, bool))
    for sid in ids[ids.duplicated() & (ids != "")].unique():
        where = np.flatnonzero(ids == sid)
        if len(where) == 2 and primary[where].sum() == 1:
            continue
        file_rows = ", ".join(str(table.lines[i]) for i in where)
        found.append((int(where[0]), 0, Problem(sid, "study_id", (
            f"duplicate study_id (file lines {file_rows}); a cohort may be given twice only as one row from a primary "
            "source (journal, regulatory) and one from a conference or secondary source"))))
    # Of a cohort given twice, the sensitivity analysis reads the non-primary row.
    twice = (ids.isin(set(ids[primary])) & ids.isin(set(ids[~primary]))).to_numpy()
    keep = primary if sources == "primary" else ~(primary & twice)

    sizes: dict[str, np.ndarray] = {}
    for order, column in enumerate(("n_safety", "n_response"), start=1):
        parsed = counts(table, column)
        flag(parsed.errors != "", column, order, lambda i, e=parsed.errors: e[i])
        flag(parsed.blank, column, order, lambda i: "sample size is blank")
        flag(parsed.values == 0, column, order, lambda i: "sample size must be at least 1")
        sizes[column] = np.where(parsed.values >= 1, parsed.values, np.nan)

    percents: dict[str, Parsed] = {}
    given_counts: dict[str, Parsed | None] = {}
    given_columns = {**PERCENT_COLUMNS, **{c: d for c, d in OPTIONAL_PERCENT_COLUMNS.items()
                                           if c in raw.columns or _COUNT_OF[c] in raw.columns}}
    for order, (column, denominator) in enumerate(given_columns.items(), start=10):
        pct = percents[column] = read_percents(table, column)
        flag(pct.errors != "", column, order, lambda i, e=pct.errors: e[i])
        count_column = _COUNT_OF[column]
        if count_column not in raw.columns:
            given_counts[column] = None
            continue
        cnt = given_counts[column] = counts(table, count_column, allow_nd=True)
        flag(cnt.errors != "", count_column, order, lambda i, e=cnt.errors: e[i])
        n = sizes[denominator]
        with np.errstate(invalid="ignore"):
            flag(cnt.values > n, count_column, order,
                 lambda i, c=cnt, d=denominator, n=n: f"{c.values[i]:g} events exceed {d}={n[i]:g}")
            both = ~np.isnan(cnt.values) & ~np.isnan(pct.values) & ~np.isnan(n)
            # A row giving both must agree: the printed percentage rounds from count / n.
            gap = np.abs(100 * cnt.values / n - pct.values)
            tolerance = 0.5 * 10.0 ** -_decimals(raw[column] if column in raw else pd.Series([""] * rows)) + 1e-9
        flag(both & (gap > tolerance), count_column, order,
             lambda i, c=cnt, p=pct, col=column, n=n: f"{c.values[i]:g} of {n[i]:g} is {number(100 * c.values[i] / n[i])}%, "
             f"but {col} gives {p.values[i]:g}%")
        flag((cnt.nd & ~np.isnan(pct.values)) | (pct.nd & ~np.isnan(cnt.values)), count_column, order,
             lambda i, col=column: f"ND here but a value in {col} (or the reverse)")

    flag((raw["product"] == "").to_numpy(), "product", 30, lambda i: "product is empty")
    if "dose" in raw.columns:
        dose_errors = {}
        for text in raw["dose"].unique():
            try:
                parse_dose(text)
            except ValueError as exc:
                dose_errors[text] = str(exc)
        flag(raw["dose"].isin(list(dose_errors)).to_numpy(), "dose", 31, lambda i: dose_errors[raw["dose"].iloc[i]])
    described: dict[str, np.ndarray] = {}
    for order, (column, options) in enumerate(CHOICE_COLUMNS.items(), start=32):
        parsed = choices(table, column, options, allow_nd=True)
        flag(parsed.errors != "", column, order, lambda i, e=parsed.errors: e[i])
        described[column] = np.where(parsed.values == None, "", parsed.values)  # noqa: E711 -- blank, ND or unread
    for order, column in enumerate(DATE_COLUMNS, start=38):
        parsed = read_dates(table, column)
        flag(parsed.errors != "", column, order, lambda i, e=parsed.errors: e[i])
        described[column] = np.where(parsed.values == None, "", parsed.values)  # noqa: E711
    months = {}
    for order, column in enumerate(MONTH_COLUMNS, start=40):
        months[column] = numbers(table, column, 0.0, 600.0, allow_nd=True)
        flag(months[column].errors != "", column, order, lambda i, e=months[column].errors: e[i])
    with np.errstate(invalid="ignore"):
        low, median, high = (months[c].values for c in ("pfs_ci_low", "pfs_median", "pfs_ci_high"))
        flag((low > median) | (median > high) | (low > high), "pfs_median", 44,
             lambda i: f"the median PFS and its CI are not in order (low {low[i]:g}, median {median[i]:g}, high {high[i]:g})")

    categories: dict[str, pd.Series] = {}
    for order, (out_col, (in_col, mapper)) in enumerate(_CATEGORY_MAPS.items(), start=50):
        mapping = {text: mapper(text) for text in raw[in_col].unique()}
        categories[out_col] = raw[in_col].map(mapping)
        flag(categories[out_col].isna().to_numpy(), in_col, order, lambda i, c=in_col, o=out_col: (
            f"unknown {o} {shown(raw[c].iloc[i])} (see data/README.md for the accepted wording; "
            f"categories: {', '.join(CATEGORIES[o])})"))

    definition = described["neurotox_definition"]
    events, imputed, moved = _derive(percents, given_counts, sizes, rules, definition)
    if "orr_pct" in percents:
        # Only a split given in full (no blank or ND imputed by a rule) must add up to ORR.
        explicit = np.ones(rows, dtype=bool)
        for column in ("cr_pct", "vgpr_pct", "pr_pct"):
            pct, cnt = percents[column], given_counts[column]
            value_given = ~np.isnan(pct.values) | (cnt is not None and ~np.isnan(cnt.values))
            explicit &= value_given
        split = events["cr"] + events["vgpr"] + events["pr"]
        with np.errstate(invalid="ignore"):
            disagree = explicit & ~np.isnan(split) & (split != events["orr"])
        flag(disagree, "orr_pct", 59, lambda i: (
            f"objective response {events['orr'][i]:g} does not equal CR + VGPR + PR = {split[i]:g}"))
    if "crs_any_pct" in percents:
        bands = _band_values(percents, given_counts, sizes)
        direct = _given_value(percents["crs_any_pct"], given_counts["crs_any_pct"], sizes["n_safety"])
        with np.errstate(invalid="ignore"):
            off = ~np.isnan(direct) & ~np.isnan(bands[0]) & ~np.isnan(bands[1]) & (np.abs(bands[0] + bands[1] - direct) > 1)
            below = ~np.isnan(direct) & ((bands[0] > direct) | (bands[1] > direct))
        flag(off, "crs_any_pct", 60, lambda i: (
            f"CRS of any grade ({direct[i]:g}) is not grade 1–2 plus grade ≥3 ({bands[0][i]:g} + {bands[1][i]:g})"))
        flag(below & ~off, "crs_any_pct", 60, lambda i: f"CRS of any grade ({direct[i]:g}) is below one of its grade bands")
    for order, (outcome, denominator) in enumerate(ALL_OUTCOMES.items(), start=61):
        with np.errstate(invalid="ignore"):
            over = events[outcome] > sizes[denominator]
        flag(over, outcome, order, lambda i, o=outcome, d=denominator: (
            f"{events[o][i]:g} events exceed {d}={sizes[d][i]:g} (the published percentages or counts "
            "add up to more than 100%)"))
    if found:
        found.sort(key=lambda item: (item[0], item[1]))
        raise StudyDataError(path, [p for _, _, p in found])
    if require_outcome and all(np.isnan(events[outcome][keep]).all() for outcome in (*OUTCOMES, "icans")):
        # Nothing any chapter could pool: say so here rather than in ten notes.
        aside = int((~primary).sum()) if sources == "primary" else 0
        raise StudyDataError(path, [Problem("(all)", ", ".join(PERCENT_COLUMNS), (
            "no cohort " + ("from a primary source (journal, regulatory) " if aside else "")
            + "reports any outcome (every CRS, neurotoxicity and response value is ND or blank under the extraction "
            "rules), so there is nothing to pool"
            + (f"; {plural(aside, 'row')} from conference or secondary sources enter only the sensitivity analysis"
               if aside else "")))])

    out = pd.DataFrame({"study_id": raw["study_id"], "product": raw["product"]})
    for column in OPTIONAL_TEXT_COLUMNS:
        out[column] = raw[column] if column in raw.columns else ""
    out["car_product"] = out["car_product"].where(out["car_product"] != "", out["product"])
    out["trial"] = out["trial"].where(out["trial"] != "", out["product"])
    out["label"] = out["product"] + " (" + out["study_id"] + ")"
    out["n_safety"] = sizes["n_safety"].astype(int)
    out["n_response"] = sizes["n_response"].astype(int)
    out["n_total"] = out[["n_safety", "n_response"]].max(axis=1)
    for out_col, (in_col, _) in _CATEGORY_MAPS.items():
        out[out_col] = pd.Categorical(categories[out_col], categories=CATEGORIES[out_col])
        out[f"{out_col}_published"] = raw[in_col]
    for column in DERIVED:
        out[column] = pd.array([None if np.isnan(v) else int(v) for v in events[column]], dtype="Int64")
        out[f"{column}_imputed"] = imputed[column]
    for column, values in described.items():
        out[column] = values
    # Without a source type (the paper's table), every cohort is from the source the table cites.
    out["primary_source"] = [t in ("", *PRIMARY_SOURCES) for t in described["source_type"]]
    for column, parsed in months.items():
        out[column] = parsed.values
    notes = _rounding_notes(percents, given_counts, sizes)
    out["extraction_notes"] = [
        "; ".join(part for part in (note, MOVED_NOTE if m else "") if part) for note, m in zip(notes, moved)]
    # In the sensitivity analysis, a cohort given twice is read from its non-primary row.
    out["replaces_primary"] = ~primary & twice
    return out[keep].reset_index(drop=True)


#: Percentage column -> the optional column that gives the same category as a count.
_COUNT_OF: dict[str, str] = {
    column: column.removesuffix("_pct") + "_n" for column in [*PERCENT_COLUMNS, *OPTIONAL_PERCENT_COLUMNS]
}
COUNT_COLUMNS = list(_COUNT_OF.values())
_DENOMINATOR = {**PERCENT_COLUMNS, **OPTIONAL_PERCENT_COLUMNS}
OPTIONAL_COLUMNS.extend([*OPTIONAL_TEXT_COLUMNS, *COUNT_COLUMNS, *OPTIONAL_PERCENT_COLUMNS, *CHOICE_COLUMNS, *DATE_COLUMNS,
                         *MONTH_COLUMNS])


def _given_value(pct: Parsed, cnt: Parsed | None, n: np.ndarray) -> np.ndarray:
    """A category's events where the table gives a number (count, else percentage of n);
    NaN where it is blank or ND."""
    value = np.where(pct.given, _round_half_up(pct.values * n / 100), np.nan)
    if cnt is not None:
        value = np.where(cnt.given, cnt.values, np.where(cnt.nd, np.nan, value))
    return value


def _band_values(percents: dict[str, Parsed], counts: dict[str, Parsed | None], sizes: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The CRS grade bands (1–2, ≥3) where the table gives them."""
    return tuple(_given_value(percents[c], counts[c], sizes["n_safety"]) for c in ("crs_g12_pct", "crs_g3_pct"))


def _derive(
    percents: dict[str, Parsed], counts: dict[str, Parsed | None], sizes: dict[str, np.ndarray], rules: ExtractionRules,
    definition: np.ndarray,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray]:
    """Event counts of every study (NaN: unknown) from its counts or percentages; per
    outcome the studies whose count rests on a zero the extraction rules assumed for a
    category the source left blank (not a zero the source printed); and the studies
    whose printed neurotoxicity is ICANS only (``definition``), counted as ICANS."""
    not_disclosed = 0.0 if rules.not_disclosed == "zero" else np.nan
    assumed: dict[str, np.ndarray] = {}
    rows = len(sizes["n_safety"])

    def category(column: str, absent: Treatment) -> np.ndarray:
        if column not in percents:  # an optional category the table does not have
            assumed[column] = np.zeros(rows, dtype=bool)
            return np.full(rows, np.nan)
        pct, cnt = percents[column], counts[column]
        from_pct = _round_half_up(pct.values * sizes[_DENOMINATOR[column]] / 100)
        value = np.where(pct.nd, not_disclosed, np.where(pct.blank, 0.0 if absent == "zero" else np.nan, from_pct))
        blank = pct.blank.copy()
        if cnt is not None:
            given = ~cnt.blank
            value = np.where(given, np.where(cnt.nd, not_disclosed, cnt.values), value)
            blank &= ~given
        assumed[column] = blank & (absent == "zero")
        return value

    def listed(column: str) -> np.ndarray:
        """Whether the table prints anything (a number or ND) for the category."""
        if column not in percents:
            return np.zeros(rows, dtype=bool)
        given = ~percents[column].blank
        return given | (~counts[column].blank if counts[column] is not None else False)

    response = rules.unreported_response
    # Any-grade CRS printed without a grade split: it is the cohort's CRS, and the bands
    # are unknown rather than assumed zero (a band printed beside it is used, the other
    # derived from the two).
    any_grade = category("crs_any_pct", "missing")
    has_any = ~np.isnan(any_grade)
    g12_listed, g3_listed = listed("crs_g12_pct"), listed("crs_g3_pct")
    mild = category("crs_g12_pct", rules.unreported_crs_grade)
    severe = category("crs_g3_pct", rules.unreported_crs_grade)
    severe = np.where(has_any & ~g3_listed, np.where(g12_listed, any_grade - mild, np.nan), severe)
    mild_assumed, severe_assumed = assumed["crs_g12_pct"] & ~has_any, assumed["crs_g3_pct"] & ~has_any
    combined_given = listed("cr_vgpr_pct")
    # Only CR + VGPR combined is published: ORR is complete, CR is a choice.
    combined = category("cr_vgpr_pct", "missing")
    pr = category("pr_pct", response)
    cr_alone, vgpr_alone = category("cr_pct", response), category("vgpr_pct", response)
    cr = np.where(combined_given, combined if rules.combined_cr_vgpr == "cr" else np.nan, cr_alone)
    vgpr = np.where(combined_given, np.nan, vgpr_alone)
    orr = np.where(combined_given, combined + pr, cr_alone + vgpr_alone + pr)
    orr_assumed = assumed["pr_pct"] | (~combined_given & (assumed["cr_pct"] | assumed["vgpr_pct"]))
    if "orr_pct" in percents:
        direct = category("orr_pct", "missing")
        orr_assumed &= np.isnan(direct)
        orr = np.where(np.isnan(direct), orr, direct)
    neurotox = category("neurotox_pct", rules.unreported_neurotox)
    icans = category("icans_pct", "missing")
    moved = (definition == "icans") & listed("neurotox_pct")
    icans = np.where(moved & np.isnan(icans), neurotox, icans)
    neurotox = np.where(moved, np.nan, neurotox)
    events = {
        "crs_any": np.where(has_any, any_grade, mild + severe),
        "crs_severe": severe,
        "neurotox": neurotox,
        "orr": orr,
        "cr": cr,
        "vgpr": vgpr,
        "pr": pr,
        "icans": icans,
        **{harm: category(f"{harm}_pct", "missing") for harm in LATE_HARMS},
    }
    imputed = {
        "crs_any": mild_assumed | severe_assumed,
        "crs_severe": severe_assumed,
        "neurotox": assumed["neurotox_pct"] & ~moved,
        "orr": orr_assumed,
        "cr": ~combined_given & assumed["cr_pct"],
        "vgpr": ~combined_given & assumed["vgpr_pct"],
        "pr": assumed["pr_pct"],
        "icans": np.zeros(rows, dtype=bool),
        **{harm: np.zeros(rows, dtype=bool) for harm in LATE_HARMS},
    }
    return events, {o: mask & ~np.isnan(events[o]) for o, mask in imputed.items()}, moved


def _rounding_notes(percents: dict[str, Parsed], counts: dict[str, Parsed | None], sizes: dict[str, np.ndarray]) -> list[str]:
    """Per study: the percentages used that no whole count of the denominator rounds to."""
    notes: list[list[str]] = [[] for _ in range(len(sizes["n_safety"]))]
    for column, pct in percents.items():
        n = sizes[_DENOMINATOR[column]]
        used = ~np.isnan(pct.values)
        if counts[column] is not None:
            used &= counts[column].blank
        count = _round_half_up(pct.values * n / 100)
        with np.errstate(invalid="ignore"):
            off = used & (np.abs(100 * count / n - pct.values) > 0.5 + 1e-9)
        for i in np.flatnonzero(off):
            notes[i].append(f"{PERCENT_LABELS.get(column, column)} printed as {pct.values[i]:g}% is not k/{n[i]:g} for "
                            f"any whole k; {count[i]:g}/{n[i]:g} used")
    return ["; ".join(parts) for parts in notes]


_DOSE = re.compile(r"(\d+(?:\.\d+)?)(?:\s*[–-]\s*(\d+(?:\.\d+)?))?\s*×\s*10\^6(/kg)?")


def parse_dose(text: str) -> list[tuple[float, float, bool]]:
    """Dose ranges in a published dose text, in 10^6 cells: ``(low, high, per_kg)``.

    ``"50–800 × 10^6"`` -> ``[(50, 800, False)]``; ``"1 × 10^6/kg or 150–450 × 10^6"``
    -> two ranges; ``"ND"`` -> ``[]``. Text that is neither ND nor a dose is an error.
    """
    text = text.strip()
    if text in ("", "ND"):
        return []
    found = [(float(lo), float(hi or lo), bool(kg)) for lo, hi, kg in _DOSE.findall(text)]
    if not found:
        raise ValueError(f"cannot read a dose from {shown(text)} (expected e.g. '50–800 × 10^6' or '1 × 10^6/kg')")
    return found


def dose_ranges(studies: pd.DataFrame) -> dict[str, float | None]:
    """Lowest and highest doses across studies, per kilogram and flat (10^6 cells; None
    where no study doses that way), and how many studies report no dose."""
    texts = [str(text) for text in studies["dose"]]
    ranges = [r for text in texts for r in parse_dose(text)]
    per_kg = [x for lo, hi, kg in ranges if kg for x in (lo, hi)]
    flat = [x for lo, hi, kg in ranges if not kg for x in (lo, hi)]
    return {
        "per_kg_min": min(per_kg, default=None), "per_kg_max": max(per_kg, default=None),
        "flat_min": min(flat, default=None), "flat_max": max(flat, default=None),
        "not_reported": sum(1 for text in texts if not parse_dose(text)),
    }


