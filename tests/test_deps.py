"""Each chapter depends on the analysis modules it imports, derived from the sources
(scripts/deps.py): touching analysis/survival.py re-executes only the chapters that can
load it. make runs for real on a copy of the repository, with a stand-in for the venv's
Python that records which chapters it was asked to execute instead of executing them."""

from __future__ import annotations

import ast
import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import jupytext
import pytest

from conftest import ROOT, chapters, data_digest, script

deps = script("deps")


def test_code_cells_are_jupytexts() -> None:
    for chapter in chapters():
        path = ROOT / "book" / f"{chapter}.md"
        expected = [cell.source for cell in jupytext.read(path).cells if cell.cell_type == "code"]
        assert deps.code_cells(path.read_text(encoding="utf-8")) == expected, chapter


def test_imports_are_resolved_like_python(tmp_path: Path) -> None:
    package = tmp_path / "analysis"
    package.mkdir()
    (package / "__init__.py").write_text("from .a import f\n")
    (package / "a.py").write_text("from . import b\nfrom .c import g\n\ndef f():\n    from .d import h\n")
    for name in ["b", "c", "d", "e", "unused"]:
        (package / f"{name}.py").write_text("import numpy\nfrom . import e\n" if name == "d" else "")
    tree = ast.parse("import numpy\nfrom analysis.c import g\nfrom analysis import f")
    assert deps.imports_of(tree, root=tmp_path) == {"analysis", "analysis.c"}  # f is a name, not a module
    assert deps.closure({"analysis"}, tmp_path) == {f"analysis{m}" for m in ["", ".a", ".b", ".c", ".d", ".e"]}
    cells = deps.code_cells("```{code-cell} ipython3\n:tags: [hide-input]\n\n%config X\nimport analysis.b\n```\n")
    assert cells == ["%config X\nimport analysis.b"]
    assert deps.imports_of(ast.parse(deps.python_source(cells[0])), root=tmp_path) == {"analysis", "analysis.b"}


def test_derived_modules_are_what_the_imports_load() -> None:
    """Executing a chapter's import statements loads only modules the include lists (it
    also lists modules imported inside functions, which may load later)."""
    statements = {}
    for chapter in chapters():
        cells = deps.code_cells((ROOT / "book" / f"{chapter}.md").read_text(encoding="utf-8"))
        trees = [ast.parse(deps.python_source(cell)) for cell in cells]
        statements[chapter] = [ast.unparse(node) for tree in trees for node in ast.walk(tree)
                               if isinstance(node, (ast.Import, ast.ImportFrom))]
    probe = """
import json, sys
loaded = {}
for chapter, lines in json.loads(sys.argv[1]).items():
    for name in [m for m in sys.modules if m == "analysis" or m.startswith("analysis.")]:
        del sys.modules[name]
    for line in lines:
        exec(line, {})
    loaded[chapter] = sorted(m for m in sys.modules if m == "analysis" or m.startswith("analysis."))
print(json.dumps(loaded))
"""
    result = subprocess.run([sys.executable, "-c", probe, json.dumps(statements)], cwd=ROOT / "book", capture_output=True,
                            text=True, check=True, env={**os.environ, "MPLBACKEND": "agg"})
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    for chapter in chapters():
        derived = deps.chapter_modules(chapter)
        assert set(loaded[chapter]) <= derived, (chapter, set(loaded[chapter]) - derived)
        assert ("analysis" in derived) == bool(loaded[chapter]), chapter
    assert "analysis.survival" in deps.chapter_modules("pfs")
    assert not deps.chapter_modules("references")


def _backdate(tree: Path, seconds: float) -> None:
    stamp = time.time() - seconds
    for path in tree.rglob("*"):
        os.utime(path, (stamp, stamp), follow_symlinks=False)


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """A copy of what the executed chapters depend on, with a stand-in venv whose
    Python records `run_chapter.py <chapter>` and touches the notebook."""
    copy = tmp_path / "repo"
    copy.mkdir()
    for name in ["Makefile", "requirements.txt", "pyproject.toml", "_toc.yml"]:
        shutil.copy2(ROOT / name, copy / name)
    for folder in ["book", "analysis", "scripts", "data"]:
        shutil.copytree(ROOT / folder, copy / folder, ignore=shutil.ignore_patterns("__pycache__", "_build"))
    python = copy / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = scripts/run_chapter.py ]; then\n'
        '  echo "$2" >> ran.log; mkdir -p _build/executed/book; touch "_build/executed/book/$2.ipynb"; exit 0\n'
        "fi\n"
        f'exec "{sys.executable}" "$@"\n'
    )
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    return copy


def make_chapters(repository: Path) -> list[str]:
    """Run make for every executed chapter; the chapters it executed, in any order."""
    log = repository / "ran.log"
    log.unlink(missing_ok=True)
    targets = [f"_build/executed/book/{chapter}.ipynb" for chapter in chapters()]
    (repository / "venv" / ".installed").touch()
    for goals in (["inputs"], targets):  # the snapshot of the inputs first, as `make book` takes it
        subprocess.run(["make", "-C", str(repository), "VENV=venv", f"PYTHON_SYS={sys.executable}", *goals],
                       check=True, capture_output=True, text=True)
    return sorted(log.read_text().split()) if log.exists() else []


def test_touching_a_module_reexecutes_only_the_chapters_that_import_it(repository: Path) -> None:
    before = data_digest()
    assert make_chapters(repository) == sorted(chapters())  # a clean build executes everything
    assert "analysis/plots/survival.py" in (repository / "_build" / "deps.mk").read_text()
    _backdate(repository, 100)
    assert make_chapters(repository) == []  # nothing changed: nothing runs

    (repository / "analysis" / "plots" / "survival.py").touch()
    ran = make_chapters(repository)
    expected = sorted(c for c in chapters() if "analysis.plots.survival" in deps.chapter_modules(c))
    assert ran == expected
    assert "pfs" in ran and "references" not in ran and "toxicity" not in ran

    _backdate(repository, 100)
    (repository / "book" / "toxicity.md").touch()
    assert make_chapters(repository) == ["toxicity"]

    _backdate(repository, 100)  # a module every chapter with code loads (analysis/__init__ imports it)
    (repository / "analysis" / "meta" / "proportions.py").touch()
    assert make_chapters(repository) == sorted(c for c in chapters() if c != "references")
    assert data_digest() == before, "the build wrote into data/"
