"""The risk-of-bias judgements (``data/quality/risk_of_bias.csv``): one row per edition,
cohort, tool and item, each judgement with the words of the source it rests on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .paths import DATA_DIR
from .reader import choices, read_csv

__all__ = ["load_risk_of_bias", "TOOLS", "ROB_EDITIONS"]

#: Each tool's items, in order, and the judgements it allows. MINORS: the eight items for
#: non-comparative studies (Slim et al. 2003); RoB 2: its five domains (Sterne et al. 2019).
TOOLS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "MINORS": (("aim", "consecutive", "prospective", "endpoints", "unbiased", "followup", "loss", "size"),
               ("low", "high", "unclear")),
    "RoB 2": (("randomization", "deviations", "missing", "measurement", "reporting"), ("low", "some concerns", "high")),
}
#: The editions a judgement belongs to: the 2020 paper's cohort reports, the update's.
ROB_EDITIONS = ("2020", "update")


def load_risk_of_bias(path: str | Path | None = None) -> pd.DataFrame:
    """Every judgement: ``edition`` (:data:`ROB_EDITIONS`), ``study_id``, ``tool`` and
    ``item`` (:data:`TOOLS`), ``judgement`` (one the tool allows), ``basis`` (the source's
    words, never blank) and ``source``. Each cohort that a tool judges has every item of
    that tool exactly once."""
    table = read_csv(Path(path) if path is not None else DATA_DIR / "quality" / "risk_of_bias.csv", what="risk of bias",
                     required=["edition", "study_id", "tool", "item", "judgement", "basis", "source"], kind="cohort",
                     key="study_id")
    cells, problems = table.cells, []
    edition = choices(table, "edition", ROB_EDITIONS)
    tool = choices(table, "tool", tuple(TOOLS))
    for column, parsed in (("edition", edition), ("tool", tool)):
        problems += [table.problem(i, column, parsed.errors[i] or "is blank")
                     for i in np.flatnonzero((parsed.errors != "") | parsed.blank)]
    for i in range(len(cells)):
        if tool.errors[i] or tool.blank[i]:
            continue
        items, judgements = TOOLS[tool.values[i]]
        if cells["item"].iat[i] not in items:
            problems.append(table.problem(i, "item", f"{cells['item'].iat[i]!r} is not an item of {tool.values[i]} "
                                                     f"(one of {', '.join(items)})"))
        if cells["judgement"].iat[i].lower() not in judgements:
            problems.append(table.problem(i, "judgement", f"{cells['judgement'].iat[i]!r} is not a {tool.values[i]} "
                                                          f"judgement (one of {', '.join(judgements)})"))
    problems += [table.problem(i, "basis", "a judgement needs its basis") for i in np.flatnonzero((cells["basis"] == "").to_numpy())]
    key = pd.DataFrame({"edition": edition.values, "study_id": cells["study_id"], "tool": tool.values, "item": cells["item"]})
    problems += [table.problem(i, "item", "this item is judged twice for the cohort")
                 for i in np.flatnonzero(key.duplicated().to_numpy())]
    if not problems:
        for (ed, study, name), group in key.groupby(["edition", "study_id", "tool"], sort=False):
            missing = [item for item in TOOLS[name][0] if item not in set(group["item"])]
            if missing:
                problems.append(table.problem(int(group.index[0]), "item",
                                              f"{name} items missing for the {ed} edition: {', '.join(missing)}"))
    table.refuse(problems)
    return cells.assign(edition=edition.values, tool=tool.values, judgement=cells["judgement"].str.lower())
