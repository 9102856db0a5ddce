"""Which ``analysis`` modules each chapter imports: a make include, derived from the sources.

    python3 scripts/deps.py intro methods toxicity ... --output _build/deps.mk

Each chapter's code cells (``book/<chapter>.md``, MyST notebooks) are parsed with
``ast`` for imports of the ``analysis`` package (``import analysis``, ``import
analysis.x``, ``from analysis import x``, ``from analysis.x import y``), and the modules'
own imports -- absolute or relative, at module level or inside a function -- are
followed to their transitive closure. Importing any submodule runs
``analysis/__init__.py``, so its eager imports are part of every chapter that uses the
package. The include makes each executed notebook depend on exactly those files, so that
touching a module re-executes only the chapters that can load it.

Standard library only (it runs before the venv exists); it reads the sources and writes
only ``--output`` (or stdout).
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "analysis"
TARGET = "_build/executed/book/{chapter}.ipynb"

_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})\{code-cell\}")
_OPTION = re.compile(r"^:[\w-]+:")


class DependencyError(ValueError):
    """A chapter or module whose imports cannot be read."""


def code_cells(text: str) -> list[str]:
    """The sources of the code cells of a MyST notebook (jupytext's ``md:myst``): the
    body of each top-level ``{code-cell}`` fence, without its options (``:key: value``
    lines or a ``---`` YAML block)."""
    cells, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        i += 1
        if not opening:
            continue
        fence = opening["fence"]
        body = []
        closing = re.compile(rf"^{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        while i < len(lines) and not closing.match(lines[i]):
            body.append(lines[i])
            i += 1
        i += 1  # the closing fence
        if body and body[0].strip() == "---":  # YAML options
            end = next((j for j in range(1, len(body)) if body[j].strip() == "---"), len(body) - 1)
            body = body[end + 1 :]
        else:
            while body and _OPTION.match(body[0]):
                body = body[1:]
        cells.append("\n".join(body).strip("\n"))
    return cells


def python_source(cell: str) -> str:
    """A cell as Python: IPython line magics and shell escapes (``%config``, ``!ls``)
    become blank lines; a cell magic's line (``%%capture``) is dropped."""
    lines = cell.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        lines[0] = ""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in lines)


def module_file(module: str, root: Path = ROOT) -> Path | None:
    """The file of an ``analysis`` module (``analysis`` -> ``analysis/__init__.py``), or
    None if there is none (an imported name that is not a module)."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return None
    base = root.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _with_parents(module: str) -> set[str]:
    parts = module.split(".")
    return {".".join(parts[: i + 1]) for i in range(len(parts))}


def imports_of(tree: ast.AST, current: str | None = None, is_package: bool = False, root: Path = ROOT) -> set[str]:
    """The ``analysis`` modules that the code ``tree`` imports (its parents included: a
    submodule's import runs its package's ``__init__``). ``current`` is the dotted name
    of the module the code belongs to, to resolve relative imports."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == PACKAGE:
                    found |= _with_parents(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if current is None:
                    continue  # a relative import in a notebook imports nothing of ours
                package = current.split(".") if is_package else current.split(".")[:-1]
                base = package[: len(package) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] != PACKAGE:
                continue
            found |= _with_parents(module)
            for alias in node.names:  # `from analysis import plots`: plots is a module
                if alias.name != "*" and module_file(f"{module}.{alias.name}", root) is not None:
                    found.add(f"{module}.{alias.name}")
    return {module for module in found if module_file(module, root) is not None}


def closure(modules: set[str], root: Path = ROOT) -> set[str]:
    """``modules`` and every ``analysis`` module they import, directly or not."""
    done: set[str] = set()
    todo = list(modules)
    while todo:
        module = todo.pop()
        if module in done:
            continue
        done.add(module)
        path = module_file(module, root)
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except SyntaxError as exc:
            raise DependencyError(f"{path}: cannot parse its imports: {exc}") from None
        todo += imports_of(tree, module, path.name == "__init__.py", root) - done
    return done


def chapter_modules(chapter: str, book: Path = ROOT / "book", root: Path = ROOT) -> set[str]:
    """Every ``analysis`` module that executing ``book/<chapter>.md`` can load."""
    path = book / f"{chapter}.md"
    direct: set[str] = set()
    for number, cell in enumerate(code_cells(path.read_text(encoding="utf-8")), start=1):
        try:
            tree = ast.parse(python_source(cell), filename=f"{path} (code cell {number})")
        except SyntaxError as exc:
            raise DependencyError(f"{path}: code cell {number}: cannot parse its imports: {exc}") from None
        direct |= imports_of(tree, root=root)
    return closure(direct, root)


def chapter_files(chapter: str, book: Path = ROOT / "book", root: Path = ROOT) -> list[str]:
    """The files of :func:`chapter_modules`, relative to ``root``, sorted."""
    return sorted(str(module_file(m, root).relative_to(root)) for m in chapter_modules(chapter, book, root))


def include(chapters: list[str], book: Path = ROOT / "book", root: Path = ROOT) -> str:
    """The make include: one dependency line per chapter, then every file named as a
    target without a recipe (so that a deleted module re-executes the chapters that
    listed it instead of stopping make)."""
    lines = [
        "# Generated by scripts/deps.py from the chapters' imports; do not edit. Each executed",
        "# chapter depends on the analysis modules it imports, directly or through other modules.",
    ]
    every: set[str] = set()
    for chapter in chapters:
        files = chapter_files(chapter, book, root)
        every.update(files)
        lines.append(f"{TARGET.format(chapter=chapter)}:{''.join(' ' + f for f in files)}")
    lines += ["", *(f"{f}:" for f in sorted(every))]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="+", help="chapter names (book/<chapter>.md)")
    parser.add_argument("--book", type=Path, default=ROOT / "book", help="folder of the chapters")
    parser.add_argument("--output", type=Path, help="the include to write (default: stdout)")
    args = parser.parse_args(argv)
    try:
        text = include(args.chapters, args.book.resolve())
    except (DependencyError, OSError) as exc:
        raise SystemExit(f"scripts/deps.py: {exc}") from None
    if args.output is None:
        sys.stdout.write(text)
        return
    # Written whole or not at all: a make interrupted here never includes half a file.
    args.output.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=args.output.parent, prefix=".deps-")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)
    os.replace(temporary, args.output)


if __name__ == "__main__":
    main()
