"""Inputs: the only code that opens a file under ``data/``. Each reader checks its file
and reports every problem at once in one :class:`InputError` naming the file, the
record (study, arm, dose group, …) and the column: the study table
(:mod:`~analysis.inputs.studies`), its covariates, the published numbers, the CRB-401
tables, the paper's other tables and a folder of digitized curves."""

from .covariates import COVARIATE_GROUPS, load_covariates, with_covariates
from .curves import ARM_COLUMNS, KINDS, CurveSet, load_curves
from .errors import MAX_REPORTED, InputError, Problem, StudyDataError
from .paths import (
    DATA_DIR,
    DEFAULT_COVARIATES,
    DEFAULT_CURVES,
    DEFAULT_PUBLISHED,
    DEFAULT_STUDIES,
    ROOT,
    UPDATE_DIR,
    checksum,
    display_path,
)
from .published import load_published
from .studies import CATEGORIES, COUNT_COLUMNS, OUTCOMES, RULE_OPTIONS, ExtractionRules, dose_ranges, load_studies, parse_dose
from .quality import ROB_EDITIONS, TOOLS, load_risk_of_bias
from .tables import CHECKLISTS, DECISIONS, ENDPOINTS, STATUSES, load_prisma, load_randomized, load_reporting_checklist, load_search_log, load_selection, load_table2
from .trial import RESPONSES, load_adverse_events, load_dose_table

__all__ = [
    "InputError",
    "StudyDataError",
    "Problem",
    "MAX_REPORTED",
    "ROOT",
    "DATA_DIR",
    "UPDATE_DIR",
    "DEFAULT_STUDIES",
    "DEFAULT_PUBLISHED",
    "DEFAULT_COVARIATES",
    "DEFAULT_CURVES",
    "display_path",
    "checksum",
    "CATEGORIES",
    "OUTCOMES",
    "COUNT_COLUMNS",
    "RULE_OPTIONS",
    "ExtractionRules",
    "load_studies",
    "parse_dose",
    "dose_ranges",
    "COVARIATE_GROUPS",
    "load_covariates",
    "with_covariates",
    "load_published",
    "load_table2",
    "load_prisma",
    "load_search_log",
    "load_selection",
    "load_randomized",
    "load_reporting_checklist",
    "CHECKLISTS",
    "STATUSES",
    "load_risk_of_bias",
    "TOOLS",
    "ROB_EDITIONS",
    "ENDPOINTS",
    "DECISIONS",
    "RESPONSES",
    "load_dose_table",
    "load_adverse_events",
    "ARM_COLUMNS",
    "KINDS",
    "CurveSet",
    "load_curves",
]
