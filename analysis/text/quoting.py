"""User text quoted for messages: ``repr`` (so control characters such as a terminal
escape are written out, not acted on), capped in length."""

from __future__ import annotations

__all__ = ["MAX_SHOWN", "shown", "printable"]

#: The longest a quoted value gets in an error message.
MAX_SHOWN = 80


def _cut(text: str, limit: int | None) -> tuple[str, str]:
    if limit is None or len(text) <= limit:
        return text, ""
    return text[:limit], f"… ({len(text):,} characters)"


def shown(value: object, limit: int = MAX_SHOWN) -> str:
    """``value`` quoted for a message: its ``repr`` (so quotes delimit it and control
    characters such as a terminal escape are written out, not acted on), cut to
    ``limit`` characters with ``…`` and the full length when longer."""
    text, more = _cut(str(value), limit)
    return repr(text) + more


def printable(text: object, limit: int | None = None) -> str:
    """``text`` for a terminal or log: control characters other than a newline written
    out as escapes (``\\x1b``), cut to ``limit`` characters when given."""
    body, more = _cut(str(text), limit)
    return "".join(c if c == "\n" or c.isprintable() else repr(c)[1:-1] for c in body) + more
