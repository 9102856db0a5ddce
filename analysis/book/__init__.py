"""The book: what a chapter notebook needs to show its results -- glue for the prose
(:mod:`~analysis.book.glue`), the one table style (:mod:`~analysis.book.tables`),
notes and comparisons in the page (:mod:`~analysis.book.notes`), provenance and result
files (:mod:`~analysis.book.output`), and the guards on user text in HTML and CSV
(:mod:`~analysis.book.safety`).

Importing this package makes a chapter's kernel escape every table it shows, headers
included (:func:`~analysis.book.safety.escape_html_output`): the study table is user
input.
"""

from .glue import glue, glue_all, glue_number, glue_pooled, glue_subgroups, key_safe, plain, pooled_fields
from .notes import show_comparison, show_note
from .output import currency, glue_provenance, provenance, save_results
from .setup import ChapterTable, open_table
from .safety import escape_html_output, write_csv
from .tables import rule_table, table

escape_html_output()

__all__ = [
    "plain",
    "glue",
    "glue_all",
    "glue_number",
    "pooled_fields",
    "glue_pooled",
    "glue_subgroups",
    "key_safe",
    "save_results",
    "write_csv",
    "provenance",
    "currency",
    "glue_provenance",
    "show_note",
    "show_comparison",
    "table",
    "rule_table",
    "ChapterTable",
    "open_table",
]
