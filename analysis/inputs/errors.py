"""The one error every input file raises: every problem found, named by file, record
(study, arm, dose group, …) and column, in one message of capped length."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..text.quoting import printable, shown

__all__ = ["Problem", "InputError", "StudyDataError", "MAX_REPORTED", "MAX_MESSAGE"]

#: How many problems an error message lists before it only counts the rest.
MAX_REPORTED = 50
#: The longest one problem's message gets (beyond the quoted record and column).
MAX_MESSAGE = 300


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file: the record it concerns (``study`` holds its
    name: a study id, an arm id, a dose group; ``(file)`` or ``(all)`` for the whole
    file), the column, and what is wrong. ``kind`` says what a record is."""

    study: str
    column: str
    message: str
    kind: str = "study"

    def __str__(self) -> str:
        # Names and values come from the file: quoted, control characters written out,
        # each capped, so that one problem is one short line whatever the file holds.
        message = printable(self.message, MAX_MESSAGE)
        if self.study == "(file)":
            return f"the file: {message}"
        if self.study == "(all)":
            return f"column {shown(self.column)}: {message}"
        if self.column == "(row)":
            return f"{self.kind} {shown(self.study)}: {message}"
        return f"{self.kind} {shown(self.study)}, column {shown(self.column)}: {message}"


class InputError(ValueError):
    """An input file is invalid; ``problems`` lists every problem found, ``what`` names
    the kind of file ("study table", "covariates file", "curve folder", …).

    The message lists the first :data:`MAX_REPORTED` problems and says how many more
    there are, and each problem quotes at most :data:`~analysis.text.quoting.MAX_SHOWN`
    characters of a name or value (:data:`MAX_MESSAGE` of its message), so that a
    badly broken file still gives a short message."""

    what = "input file"

    def __init__(self, path: Path | str, problems: list[Problem], what: str | None = None) -> None:
        self.path = Path(path)
        self.problems = problems
        if what is not None:
            self.what = what
        listed = problems[:MAX_REPORTED]
        lines = "\n".join(f"  - {p}" for p in listed)
        more = len(problems) - len(listed)
        if more:
            lines += f"\n  … and {more} more problem{'s' if more != 1 else ''} (not listed)"
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(f"{printable(self.path, 500)}: {count} in the {self.what}:\n{lines}")


class StudyDataError(InputError):
    """The study table is invalid (see :class:`InputError`)."""

    what = "study table"
