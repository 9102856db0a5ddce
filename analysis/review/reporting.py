"""The book against PRISMA 2020 (Page et al. 2021): each item of the main checklist and
of the abstract checklist, where the book reports it (a linked section) or why not."""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass

import pandas as pd

from ..inputs.tables import load_reporting_checklist, load_search_log, load_selection
from ..text.editions import search_sentence
from ..text.overview import iso_date_words
from ..text.quality import assessed_sentence, checklist_sentence, registration_sentence, window_sentence
from . import paper

__all__ = ["MAIN_ITEMS", "ABSTRACT_ITEMS", "Checklist", "reporting_checklist", "protocol_sentences"]

#: The items of PRISMA 2020 (with their sub-items) and of PRISMA 2020 for Abstracts.
MAIN_ITEMS: tuple[str, ...] = (
    "1", "2", "3", "4", "5", "6", "7", "8", "9", "10a", "10b", "11", "12", "13a", "13b", "13c", "13d", "13e", "13f", "14",
    "15", "16a", "16b", "17", "18", "19", "20a", "20b", "20c", "20d", "21", "22", "23a", "23b", "23c", "23d", "24a", "24b",
    "24c", "25", "26", "27",
)
ABSTRACT_ITEMS: tuple[str, ...] = tuple(str(i) for i in range(1, 13))


@dataclass(frozen=True)
class Checklist:
    """The checklist rows (``table``), items of PRISMA 2020 the file lacks, and the sentence."""

    table: pd.DataFrame
    missing: tuple[str, ...]
    sentence: str

    def html(self, checklist: str) -> str:
        """One checklist as an HTML table, each item linked to where the book reports it
        (every text escaped; the links are the checked ``page.html#anchor`` of the file)."""
        rows = self.table[self.table["checklist"] == checklist]
        body = "".join(
            f"<tr><td>{html.escape(r.section)}</td><td>{html.escape(r.item)}</td><td>{html.escape(r.topic)}</td>"
            f"<td>{html.escape(r.asks)}</td><td>{html.escape(r.status)}</td><td>{_link(r.where)}</td>"
            f"<td>{html.escape(r.note)}</td></tr>"
            for r in rows.itertuples())
        head = "".join(f"<th>{h}</th>" for h in ("Section", "Item", "Topic", "What it asks", "Status", "Where", "Note"))
        return f'<div class="table-wrapper"><table class="checklist"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _link(where: str) -> str:
    """``quality.html#quality`` as a link named by its page."""
    if not where:
        return ""
    page = where.split("#")[0].removesuffix(".html")
    return f'<a href="{html.escape(where, quote=True)}">{html.escape(page)}</a>'


def reporting_checklist(path=None) -> Checklist:
    """The checklist file read and compared with the items of PRISMA 2020."""
    table = load_reporting_checklist(path)
    missing = [f"{c} {i}" for c, items in (("main", MAIN_ITEMS), ("abstract", ABSTRACT_ITEMS))
               for i in items if not ((table["checklist"] == c) & (table["item"] == i)).any()]
    main = table[table["checklist"] == "main"]["status"].value_counts().to_dict()
    return Checklist(table, tuple(missing), checklist_sentence(len(MAIN_ITEMS), main, missing))


def protocol_sentences(search_log_path=None, selection_path=None) -> dict[str, str]:
    """The protocol page's facts: the paper's registration and search window, the update's
    searches (from its search log) and the cohorts it assessed (from its selection file)."""
    log = load_search_log(search_log_path)
    selection = load_selection(selection_path)
    places = Counter(log["where_searched"])
    return {
        "registration": registration_sentence(paper.PROSPERO),
        "window": window_sentence(iso_date_words(paper.SEARCH_START), iso_date_words(paper.SEARCH_END)),
        "search": search_sentence(len(log), int(log["records_screened"].sum()), int(log["records_used"].sum()),
                                  dict(places.most_common()), iso_date_words(min(log["date"])), iso_date_words(max(log["date"]))),
        "last_search": iso_date_words(max(log["date"])),
        "assessed": assessed_sentence(len(selection), selection["decision"].value_counts().to_dict()),
    }
