"""The study table: reading, validating and deriving event counts.

``data/studies.csv`` keeps Table 1 of Roex et al. (2020) as published: category columns
hold the published wording and outcome columns the published percentages. This module
maps the wording onto analysis categories and turns percentages into event counts by
the rules in ``data/README.md``. Every problem in a file is reported at once, in one
:class:`StudyDataError` that names the file, the study and the column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Literal

import numpy as np
import pandas as pd

__all__ = [
    "DATA_DIR",
    "DEFAULT_STUDIES",
    "DEFAULT_PUBLISHED",
    "CATEGORIES",
    "OUTCOMES",
    "ExtractionRules",
    "RULE_OPTIONS",
    "Problem",
    "StudyDataError",
    "load_studies",
    "load_published",
    "parse_dose",
    "dose_ranges",
    "COVARIATE_GROUPS",
    "load_covariates",
    "with_covariates",
]

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DEFAULT_STUDIES = DATA_DIR / "studies.csv"
DEFAULT_PUBLISHED = DATA_DIR / "published.csv"
DEFAULT_COVARIATES = DATA_DIR / "covariates.csv"

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
REQUIRED_COLUMNS = TEXT_COLUMNS + ["n_safety", "n_response"] + list(PERCENT_COLUMNS)
OPTIONAL_TEXT_COLUMNS = ["registration", "car_product", "refs", "dose", "conditioning"]
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


@dataclass(frozen=True)
class Problem:
    """One problem found in a study table."""

    study: str
    column: str
    message: str

    def __str__(self) -> str:
        return f"study {self.study!r}, column {self.column!r}: {self.message}"


class StudyDataError(ValueError):
    """The study table is invalid; ``problems`` lists every problem found."""

    def __init__(self, path: Path | str, problems: list[Problem]) -> None:
        self.path = Path(path)
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{self.path}: {len(problems)} problem(s) in the study table:\n{lines}")


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
    if not path.is_file():
        raise FileNotFoundError(f"study table not found: {path}")
    if path.stat().st_size == 0:
        raise StudyDataError(path, [Problem("(file)", "(all)", "the file is empty")])
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise StudyDataError(
            path, [Problem("(file)", "(all)", f"not UTF-8 text ({exc.reason} at byte {exc.start})")]
        ) from None
    except pd.errors.ParserError as exc:
        raise StudyDataError(path, [Problem("(file)", "(all)", f"not a valid CSV file: {exc}")]) from None
    return raw.apply(lambda col: col.str.strip())


def _parse_count(value: str) -> int | None | str:
    """An integer count, None for blank, or an error message."""
    if value == "":
        return None
    try:
        number = float(value)
    except ValueError:
        return f"{value!r} is not a number"
    if not np.isfinite(number) or number != int(number):
        return f"{value!r} is not a whole number"
    if number < 0:
        return f"{value!r} is negative"
    return int(number)


def _parse_percent(value: str) -> float | str | None:
    """A percentage, None for blank, NOT_DISCLOSED for "ND", or an error message."""
    if value == "":
        return None
    if value.upper() == NOT_DISCLOSED:
        return NOT_DISCLOSED
    try:
        number = float(value.rstrip("%"))
    except ValueError:
        return f"{value!r} is not a percentage (a number, blank, or ND)"
    if not (np.isfinite(number) and 0 <= number <= 100):
        return f"{value!r} is not a percentage between 0 and 100"
    return number


def _round_half_up(x: float) -> int:
    # The tiny offset keeps exact halves (e.g. 12.5) from rounding down through
    # floating-point error in pct * n / 100.
    return int(np.floor(x + 0.5 + 1e-9))


@dataclass
class _Row:
    """Parsed values of one study, filled while validating."""

    study: str
    n: dict[str, int] = field(default_factory=dict)
    pct: dict[str, float | str | None] = field(default_factory=dict)


def _count(row: _Row, column: str, absent: Treatment, rules: ExtractionRules) -> int | None:
    """Events for one published category; ``absent`` says what a blank means."""
    value = row.pct[column]
    if value is None:
        return 0 if absent == "zero" else None
    if value == NOT_DISCLOSED:
        return 0 if rules.not_disclosed == "zero" else None
    return _round_half_up(float(value) * row.n[PERCENT_COLUMNS[column]] / 100)


def _sum(*parts: int | None) -> int | None:
    return None if any(p is None for p in parts) else int(sum(parts))  # type: ignore[arg-type]


def _derive(row: _Row, rules: ExtractionRules) -> dict[str, int | None]:
    """Event counts of one study from its published percentages."""
    mild = _count(row, "crs_g12_pct", rules.unreported_crs_grade, rules)
    severe = _count(row, "crs_g3_pct", rules.unreported_crs_grade, rules)
    response = rules.unreported_response
    if row.pct["cr_vgpr_pct"] is not None:
        # Only CR + VGPR combined is published: ORR is complete, CR is a choice.
        combined = _count(row, "cr_vgpr_pct", "missing", rules)
        pr = _count(row, "pr_pct", response, rules)
        cr = combined if rules.combined_cr_vgpr == "cr" else None
        vgpr = None
        orr = _sum(combined, pr)
    else:
        cr = _count(row, "cr_pct", response, rules)
        vgpr = _count(row, "vgpr_pct", response, rules)
        pr = _count(row, "pr_pct", response, rules)
        orr = _sum(cr, vgpr, pr)
    return {
        "crs_any": _sum(mild, severe),
        "crs_severe": severe,
        "neurotox": _count(row, "neurotox_pct", rules.unreported_neurotox, rules),
        "orr": orr,
        "cr": cr,
        "vgpr": vgpr,
        "pr": pr,
    }


def _rounding_notes(row: _Row) -> list[str]:
    """Published percentages that no whole count of the denominator rounds to."""
    notes = []
    for column, value in row.pct.items():
        if isinstance(value, float):
            n = row.n[PERCENT_COLUMNS[column]]
            count = _round_half_up(value * n / 100)
            if abs(100 * count / n - value) > 0.5 + 1e-9:
                notes.append(f"{column}={value:g}% is not k/{n} for any k; used {count}/{n}")
    return notes


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
    ``crs_any``, ``crs_severe``, ``neurotox``, ``orr``, ``cr``, ``vgpr``, ``pr``, and
    ``extraction_notes`` for percentages that no whole count reproduces.

    Raises
    ------
    StudyDataError
        listing every problem (study and column) found in the file.
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

    problems: list[Problem] = []
    ids = raw["study_id"]
    for i, sid in enumerate(ids):
        if sid == "":
            problems.append(Problem(f"row {i + 2}", "study_id", "study_id is empty"))
    for sid in ids[ids.duplicated() & (ids != "")].unique():
        rows = ", ".join(str(i + 2) for i in np.flatnonzero(ids == sid))
        problems.append(Problem(sid, "study_id", f"duplicate study_id (file rows {rows})"))

    parsed: list[_Row] = []
    categories: dict[str, list[str | None]] = {c: [] for c in _CATEGORY_MAPS}
    for i, rec in raw.iterrows():
        study = rec["study_id"] or f"row {int(i) + 2}"
        row = _Row(study)
        for column in ("n_safety", "n_response"):
            value = _parse_count(rec[column])
            if value is None:
                problems.append(Problem(study, column, "sample size is blank"))
            elif isinstance(value, str):
                problems.append(Problem(study, column, value))
            elif value == 0:
                problems.append(Problem(study, column, "sample size must be at least 1"))
            else:
                row.n[column] = value
        for column in PERCENT_COLUMNS:
            value = _parse_percent(rec[column])
            if isinstance(value, str) and value != NOT_DISCLOSED:
                problems.append(Problem(study, column, value))
                value = None
            row.pct[column] = value
        if rec["product"] == "":
            problems.append(Problem(study, "product", "product is empty"))
        if "dose" in rec:
            try:
                parse_dose(rec["dose"])
            except ValueError as exc:
                problems.append(Problem(study, "dose", str(exc)))
        for out_col, (in_col, mapper) in _CATEGORY_MAPS.items():
            category = mapper(rec[in_col])
            if category is None:
                problems.append(
                    Problem(
                        study,
                        in_col,
                        f"unknown {out_col} {rec[in_col]!r} (see data/README.md for the "
                        f"accepted wording; categories: {', '.join(CATEGORIES[out_col])})",
                    )
                )
            categories[out_col].append(category)
        parsed.append(row)
    if problems:
        raise StudyDataError(path, problems)

    derived = []
    for row in parsed:
        counts = _derive(row, rules)
        for outcome, denominator in OUTCOMES.items():
            events = counts[outcome]
            if events is not None and events > row.n[denominator]:
                problems.append(
                    Problem(
                        row.study,
                        outcome,
                        f"{events} events exceed {denominator}={row.n[denominator]} "
                        "(the published percentages add up to more than 100%)",
                    )
                )
        derived.append({**counts, "extraction_notes": "; ".join(_rounding_notes(row))})
    if problems:
        raise StudyDataError(path, problems)

    out = pd.DataFrame({"study_id": raw["study_id"], "product": raw["product"]})
    for column in OPTIONAL_TEXT_COLUMNS:
        out[column] = raw[column] if column in raw.columns else ""
    out["car_product"] = out["car_product"].where(out["car_product"] != "", out["product"])
    out["label"] = out["product"] + " (" + out["study_id"] + ")"
    out["n_safety"] = [r.n["n_safety"] for r in parsed]
    out["n_response"] = [r.n["n_response"] for r in parsed]
    out["n_total"] = out[["n_safety", "n_response"]].max(axis=1)
    for out_col, (in_col, _) in _CATEGORY_MAPS.items():
        out[out_col] = pd.Categorical(categories[out_col], categories=CATEGORIES[out_col])
        out[f"{out_col}_published"] = raw[in_col]
    counts = pd.DataFrame(derived)
    for column in ["crs_any", "crs_severe", "neurotox", "orr", "cr", "vgpr", "pr"]:
        out[column] = pd.array(counts[column].tolist(), dtype="Int64")
    out["extraction_notes"] = counts["extraction_notes"]
    return out


def load_published(path: str | Path | None = None) -> pd.DataFrame:
    """The published numbers that the book sets beside its own (``data/published.csv``).

    Columns: ``key``, ``outcome``, ``analysis``, ``group``, ``statistic``, ``value`` (as
    printed, e.g. ``"80.3"`` or ``"<0.0001"``), ``source``. Adds ``relation`` (``"="`` or
    ``"<"``), the numeric ``number`` and the printed ``decimals``.
    """
    path = Path(path) if path is not None else DEFAULT_PUBLISHED
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    required = ["key", "outcome", "analysis", "group", "statistic", "value", "source"]
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise StudyDataError(path, [Problem("(all)", c, "required column is missing") for c in missing])
    duplicated = table["key"][table["key"].duplicated()]
    if not duplicated.empty:
        raise StudyDataError(path, [Problem(k, "key", "duplicate key") for k in duplicated])
    text = table["value"].str.strip()
    table["relation"] = np.where(text.str.startswith("<"), "<", "=")
    digits = text.str.lstrip("<").str.strip()
    bad = [k for k, d in zip(table["key"], digits) if not re.fullmatch(r"-?\d+(\.\d+)?", d)]
    if bad:
        raise StudyDataError(path, [Problem(k, "value", "not a number") for k in bad])
    table["number"] = digits.astype(float)
    table["decimals"] = digits.str.partition(".")[2].str.len()
    return table


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
        raise ValueError(f"cannot read a dose from {text!r} (expected e.g. '50–800 × 10^6' or '1 × 10^6/kg')")
    return found


def dose_ranges(studies: pd.DataFrame) -> dict[str, float]:
    """Lowest and highest doses across studies, per kilogram and flat (10^6 cells),
    and how many studies report no dose."""
    ranges = [r for text in studies["dose"] for r in parse_dose(str(text))]
    per_kg = [x for lo, hi, kg in ranges if kg for x in (lo, hi)]
    flat = [x for lo, hi, kg in ranges if not kg for x in (lo, hi)]
    return {
        "per_kg_min": min(per_kg), "per_kg_max": max(per_kg),
        "flat_min": min(flat), "flat_max": max(flat),
        "not_reported": sum(1 for text in studies["dose"] if not parse_dose(str(text))),
    }


#: Study-level covariates the paper groups by, with their groups (first: the "high" one).
COVARIATE_GROUPS: dict[str, list[str]] = {"prior_lines": [">=5", "<5"], "age": [">=60", "<60"], "high_risk": [">=50%", "<50%"]}
_STATUSES = ("sourced", "inferred")


def load_covariates(path: str | Path | None = None, studies: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per-study median prior lines and age groups (``data/covariates.csv``), checked:
    known groups, a status for every group given, a source for every sourced value,
    and (with ``studies``) study ids that exist in the study table."""
    path = Path(path) if path is not None else DEFAULT_COVARIATES
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    required = ["study_id"] + [f"{c}_{part}" for c in COVARIATE_GROUPS for part in ("group", "status", "source")]
    missing = [c for c in required if c not in table]
    if missing:
        raise StudyDataError(path, [Problem("(all)", c, "required column is missing") for c in missing])
    problems = []
    for _, row in table.iterrows():
        study = row["study_id"]
        for covariate, groups in COVARIATE_GROUPS.items():
            group, status, source = row[f"{covariate}_group"], row[f"{covariate}_status"], row[f"{covariate}_source"]
            if group and group not in groups:
                problems.append(Problem(study, f"{covariate}_group", f"{group!r} is not one of {groups}"))
            if group and status not in _STATUSES:
                problems.append(Problem(study, f"{covariate}_status", f"{status!r}: say 'sourced' or 'inferred'"))
            if status == "sourced" and not source:
                problems.append(Problem(study, f"{covariate}_source", "a sourced value needs its source"))
    if table["study_id"].duplicated().any():
        problems += [Problem(s, "study_id", "duplicate study_id") for s in table["study_id"][table["study_id"].duplicated()]]
    if studies is not None:
        problems += [Problem(s, "study_id", "not in the study table") for s in set(table["study_id"]) - set(studies["study_id"])]
    if problems:
        raise StudyDataError(path, problems)
    return table


def with_covariates(studies: pd.DataFrame, covariates: pd.DataFrame | None = None) -> pd.DataFrame:
    """The study table with categorical ``prior_lines`` and ``age`` columns (and their
    ``*_status``); a study without a value gets ND, which subgroup analyses leave out."""
    covariates = load_covariates(studies=studies) if covariates is None else covariates
    merged = studies.merge(covariates, on="study_id", how="left")
    for covariate, groups in COVARIATE_GROUPS.items():
        values = merged[f"{covariate}_group"].replace("", np.nan).fillna("ND")
        studies = studies.assign(**{
            covariate: pd.Categorical(values, categories=[*groups, "ND"]),
            f"{covariate}_status": merged[f"{covariate}_status"].fillna("").to_numpy(),
        })
    return studies
