"""The study table: reading, validating and deriving event counts.

``data/studies.csv`` keeps Table 1 of Roex et al. (2020) as published: category columns
hold the published wording and outcome columns the published percentages. This module
maps the wording onto analysis categories and turns percentages into event counts by
the rules in ``data/README.md``. Every problem in a file is reported at once, in one
:class:`~analysis.inputs.errors.StudyDataError` that names the file, the study and the
column.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal

import numpy as np
import pandas as pd

from ..text.labels import PERCENT_LABELS
from ..text.numbers import number
from ..text.quoting import shown
from .errors import Problem, StudyDataError
from .paths import DEFAULT_STUDIES

__all__ = [
    "CATEGORIES",
    "OUTCOMES",
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

#: Outcome -> denominator column.
OUTCOMES: dict[str, str] = {
    "crs_any": "n_safety",
    "crs_severe": "n_safety",
    "neurotox": "n_safety",
    "orr": "n_response",
    "cr": "n_response",
}

#: Published percentage column -> its denominator.
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
#: Optional: objective response given directly, for reports that print ORR but not its
#: CR/VGPR/PR split. When given it is the cohort's ORR; a split that is also known must agree.
OPTIONAL_PERCENT_COLUMNS: dict[str, str] = {"orr_pct": "n_response"}
REQUIRED_COLUMNS = TEXT_COLUMNS + ["n_safety", "n_response"] + list(PERCENT_COLUMNS)
OPTIONAL_TEXT_COLUMNS = ["registration", "car_product", "refs", "dose", "conditioning", "phase", "source"]
# Marker for "not disclosed" in a percentage column (Table 1 writes "ND").
NOT_DISCLOSED = "ND"

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


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise FileNotFoundError(f"study table not found: {path}")
    if not path.is_file():
        raise FileNotFoundError(f"study table is not a file: {path}")
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise StudyDataError(path, [Problem("(file)", "(all)", f"cannot be read ({exc.strerror})")]) from None
    if not content.strip():
        raise StudyDataError(path, [Problem("(file)", "(all)", "the file is empty")])
    try:
        raw = pd.read_csv(io.BytesIO(content), dtype=str, keep_default_na=False, encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise StudyDataError(
            path, [Problem("(file)", "(all)", f"not UTF-8 text ({exc.reason} at byte {exc.start})")]
        ) from None
    except pd.errors.ParserError as exc:
        raise StudyDataError(path, [Problem("(file)", "(all)", f"not a valid CSV file: {str(exc)[:200]}")]) from None
    return raw.apply(lambda col: col.str.strip())


def _round_half_up(x: np.ndarray) -> np.ndarray:
    # The tiny offset keeps exact halves (e.g. 12.5) from rounding down through
    # floating-point error in pct * n / 100.
    return np.floor(x + 0.5 + 1e-9)


@dataclass(frozen=True)
class _Column:
    """One column parsed for every study at once: numbers (NaN where not a number),
    masks for blank and ND cells, and an error message per cell ("" where fine)."""

    values: np.ndarray
    blank: np.ndarray
    nd: np.ndarray
    errors: np.ndarray


def _parse_counts(text: pd.Series, allow_nd: bool = False) -> _Column:
    """Whole non-negative numbers; blank (and ``ND`` where allowed) are not errors."""
    blank = (text == "").to_numpy()
    nd = (text.str.upper() == NOT_DISCLOSED).to_numpy() & allow_nd
    number = pd.to_numeric(text.where(~(blank | nd)), errors="coerce").to_numpy(dtype=float)
    errors = np.full(len(text), "", dtype=object)
    given = ~(blank | nd)
    with np.errstate(invalid="ignore"):
        not_number = given & np.isnan(number)
        not_whole = given & ~not_number & (~np.isfinite(number) | (number != np.round(number)))
        negative = given & ~not_number & ~not_whole & (number < 0)
    for mask, words in ((not_number, "is not a number"), (not_whole, "is not a whole number"), (negative, "is negative")):
        for i in np.flatnonzero(mask):
            errors[i] = f"{shown(text.iloc[i])} {words}"
    number[not_number | not_whole | negative] = np.nan
    return _Column(number, blank, nd, errors)


def _parse_percents(text: pd.Series) -> _Column:
    """Percentages in [0, 100]; blank and ``ND`` are not errors."""
    blank = (text == "").to_numpy()
    nd = (text.str.upper() == NOT_DISCLOSED).to_numpy()
    given = ~(blank | nd)
    number = pd.to_numeric(text.str.rstrip("%").where(given), errors="coerce").to_numpy(dtype=float)
    errors = np.full(len(text), "", dtype=object)
    with np.errstate(invalid="ignore"):
        not_number = given & np.isnan(number)
        out_of_range = given & ~not_number & ~((number >= 0) & (number <= 100))
    for i in np.flatnonzero(not_number):
        errors[i] = f"{shown(text.iloc[i])} is not a percentage (a number, blank, or ND)"
    for i in np.flatnonzero(out_of_range):
        errors[i] = f"{shown(text.iloc[i])} is not a percentage between 0 and 100"
    number[not_number | out_of_range] = np.nan
    return _Column(number, blank, nd, errors)


def _decimals(text: pd.Series) -> np.ndarray:
    """Decimal places as printed ("73" -> 0, "5.6" -> 1)."""
    return text.str.rstrip("%").str.partition(".")[2].str.len().to_numpy()


def load_studies(
    path: str | Path | None = None, rules: ExtractionRules | None = None
) -> pd.DataFrame:
    """Read, validate and derive the study table.

    Parameters
    ----------
    path
        CSV file in the format of ``data/studies.csv`` (see ``data/README.md``);
        defaults to that file.
    rules
        How unreported outcomes become counts; defaults to the paper's choices.

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
    raw = _read_csv(path)

    missing = [c for c in REQUIRED_COLUMNS if c not in raw.columns]
    if missing:
        hint = ""
        if len(raw.columns) == 1 and (";" in raw.columns[0] or "\t" in raw.columns[0]):
            hint = " (the file does not look comma-separated)"
        raise StudyDataError(
            path, [Problem("(all)", c, f"required column is missing{hint}") for c in missing]
        )
    if raw.empty:
        raise StudyDataError(path, [Problem("(file)", "(all)", "the table has no studies")])

    ids = raw["study_id"]
    rows = len(raw)
    study = np.where(ids == "", [f"row {i + 2}" for i in range(rows)], ids)
    found: list[tuple[int, int, Problem]] = []  # (row, column order, problem): sorted at the end

    def flag(mask: np.ndarray, column: str, order: int, message: Callable[[int], str]) -> None:
        for i in np.flatnonzero(mask):
            found.append((int(i), order, Problem(str(study[i]), column, message(int(i)))))

    flag((ids == "").to_numpy(), "study_id", 0, lambda i: "study_id is empty")
    for sid in ids[ids.duplicated() & (ids != "")].unique():
        where = np.flatnonzero(ids == sid)
        file_rows = ", ".join(str(i + 2) for i in where)
        found.append((int(where[0]), 0, Problem(sid, "study_id", f"duplicate study_id (file rows {file_rows})")))

    sizes: dict[str, np.ndarray] = {}
    for order, column in enumerate(("n_safety", "n_response"), start=1):
        parsed = _parse_counts(raw[column])
        flag(parsed.errors != "", column, order, lambda i, e=parsed.errors: e[i])
        flag(parsed.blank, column, order, lambda i: "sample size is blank")
        flag(parsed.values == 0, column, order, lambda i: "sample size must be at least 1")
        sizes[column] = np.where(parsed.values >= 1, parsed.values, np.nan)

    percents: dict[str, _Column] = {}
    counts: dict[str, _Column | None] = {}
    given_columns = {**PERCENT_COLUMNS, **{c: d for c, d in OPTIONAL_PERCENT_COLUMNS.items()
                                           if c in raw.columns or _COUNT_OF[c] in raw.columns}}
    for order, (column, denominator) in enumerate(given_columns.items(), start=10):
        pct = percents[column] = _parse_percents(raw[column] if column in raw.columns else pd.Series([""] * rows))
        flag(pct.errors != "", column, order, lambda i, e=pct.errors: e[i])
        count_column = _COUNT_OF[column]
        if count_column not in raw.columns:
            counts[column] = None
            continue
        cnt = counts[column] = _parse_counts(raw[count_column], allow_nd=True)
        flag(cnt.errors != "", count_column, order, lambda i, e=cnt.errors: e[i])
        n = sizes[denominator]
        with np.errstate(invalid="ignore"):
            flag(cnt.values > n, count_column, order,
                 lambda i, c=cnt, d=denominator, n=n: f"{c.values[i]:g} events exceed {d}={n[i]:g}")
            both = ~np.isnan(cnt.values) & ~np.isnan(pct.values) & ~np.isnan(n)
            # A row giving both must agree: the printed percentage rounds from count / n.
            gap = np.abs(100 * cnt.values / n - pct.values)
            tolerance = 0.5 * 10.0 ** -_decimals(raw[column]) + 1e-9
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

    categories: dict[str, pd.Series] = {}
    for order, (out_col, (in_col, mapper)) in enumerate(_CATEGORY_MAPS.items(), start=40):
        mapping = {text: mapper(text) for text in raw[in_col].unique()}
        categories[out_col] = raw[in_col].map(mapping)
        flag(categories[out_col].isna().to_numpy(), in_col, order, lambda i, c=in_col, o=out_col: (
            f"unknown {o} {shown(raw[c].iloc[i])} (see data/README.md for the accepted wording; "
            f"categories: {', '.join(CATEGORIES[o])})"))

    events, imputed = _derive(percents, counts, sizes, rules)
    if "orr_pct" in percents:
        # Only a split given in full (no blank or ND imputed by a rule) must add up to ORR.
        explicit = np.ones(rows, dtype=bool)
        for column in ("cr_pct", "vgpr_pct", "pr_pct"):
            pct, cnt = percents[column], counts[column]
            value_given = ~np.isnan(pct.values) | (cnt is not None and ~np.isnan(cnt.values))
            explicit &= value_given
        split = events["cr"] + events["vgpr"] + events["pr"]
        with np.errstate(invalid="ignore"):
            disagree = explicit & ~np.isnan(split) & (split != events["orr"])
        flag(disagree, "orr_pct", 59, lambda i: (
            f"objective response {events['orr'][i]:g} does not equal CR + VGPR + PR = {split[i]:g}"))
    for order, (outcome, denominator) in enumerate(OUTCOMES.items(), start=60):
        with np.errstate(invalid="ignore"):
            over = events[outcome] > sizes[denominator]
        flag(over, outcome, order, lambda i, o=outcome, d=denominator: (
            f"{events[o][i]:g} events exceed {d}={sizes[d][i]:g} (the published percentages or counts "
            "add up to more than 100%)"))
    if found:
        found.sort(key=lambda item: (item[0], item[1]))
        raise StudyDataError(path, [p for _, _, p in found])
    if all(np.isnan(events[outcome]).all() for outcome in OUTCOMES):
        # Nothing any chapter could pool: say so here rather than in ten notes.
        raise StudyDataError(path, [Problem("(all)", ", ".join(PERCENT_COLUMNS), (
            "no cohort reports any outcome (every CRS, neurotoxicity and response value is ND or blank "
            "under the extraction rules), so there is nothing to pool"))])

    out = pd.DataFrame({"study_id": raw["study_id"], "product": raw["product"]})
    for column in OPTIONAL_TEXT_COLUMNS:
        out[column] = raw[column] if column in raw.columns else ""
    out["car_product"] = out["car_product"].where(out["car_product"] != "", out["product"])
    out["label"] = out["product"] + " (" + out["study_id"] + ")"
    out["n_safety"] = sizes["n_safety"].astype(int)
    out["n_response"] = sizes["n_response"].astype(int)
    out["n_total"] = out[["n_safety", "n_response"]].max(axis=1)
    for out_col, (in_col, _) in _CATEGORY_MAPS.items():
        out[out_col] = pd.Categorical(categories[out_col], categories=CATEGORIES[out_col])
        out[f"{out_col}_published"] = raw[in_col]
    for column in ["crs_any", "crs_severe", "neurotox", "orr", "cr", "vgpr", "pr"]:
        out[column] = pd.array([None if np.isnan(v) else int(v) for v in events[column]], dtype="Int64")
        out[f"{column}_imputed"] = imputed[column]
    out["extraction_notes"] = _rounding_notes(percents, counts, sizes)
    return out


#: Percentage column -> the optional column that gives the same category as a count.
_COUNT_OF: dict[str, str] = {
    column: column.removesuffix("_pct") + "_n" for column in [*PERCENT_COLUMNS, *OPTIONAL_PERCENT_COLUMNS]
}
COUNT_COLUMNS = list(_COUNT_OF.values())
_DENOMINATOR = {**PERCENT_COLUMNS, **OPTIONAL_PERCENT_COLUMNS}


def _derive(
    percents: dict[str, _Column], counts: dict[str, _Column | None], sizes: dict[str, np.ndarray], rules: ExtractionRules
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Event counts of every study (NaN: unknown) from its counts or percentages, and per
    outcome the studies whose count rests on a zero the extraction rules assumed for a
    category the source left blank (not a zero the source printed)."""
    not_disclosed = 0.0 if rules.not_disclosed == "zero" else np.nan
    assumed: dict[str, np.ndarray] = {}

    def category(column: str, absent: Treatment) -> np.ndarray:
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

    response = rules.unreported_response
    mild = category("crs_g12_pct", rules.unreported_crs_grade)
    severe = category("crs_g3_pct", rules.unreported_crs_grade)
    combined_given = ~percents["cr_vgpr_pct"].blank
    if counts["cr_vgpr_pct"] is not None:
        combined_given |= ~counts["cr_vgpr_pct"].blank
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
    events = {
        "crs_any": mild + severe,
        "crs_severe": severe,
        "neurotox": category("neurotox_pct", rules.unreported_neurotox),
        "orr": orr,
        "cr": cr,
        "vgpr": vgpr,
        "pr": pr,
    }
    imputed = {
        "crs_any": assumed["crs_g12_pct"] | assumed["crs_g3_pct"],
        "crs_severe": assumed["crs_g3_pct"],
        "neurotox": assumed["neurotox_pct"],
        "orr": orr_assumed,
        "cr": ~combined_given & assumed["cr_pct"],
        "vgpr": ~combined_given & assumed["vgpr_pct"],
        "pr": assumed["pr_pct"],
    }
    return events, {o: mask & ~np.isnan(events[o]) for o, mask in imputed.items()}


def _rounding_notes(percents: dict[str, _Column], counts: dict[str, _Column | None], sizes: dict[str, np.ndarray]) -> list[str]:
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


