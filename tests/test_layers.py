"""The package's layers, held: which subpackage may import which, no import circle, no
private name used across modules, imports at the top of modules, and only
``analysis.inputs`` opening a file under ``data/``.

The imports are read with the parser the Makefile uses (``scripts/deps.py``); the file
access is watched at run time with an audit hook while every chapter's data path runs.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

from conftest import ROOT, chapters, script

deps = script("deps")

#: What each layer may import (besides itself). The face (``analysis/__init__``) may
#: import every layer; no layer may import the face.
ALLOWED: dict[str, set[str]] = {
    "meta": set(),
    "survival": {"meta"},
    "text": {"meta"},
    "inputs": {"text", "survival"},
    "review": {"meta", "survival", "text", "inputs"},
    "teaching": {"meta", "survival", "text", "inputs", "review"},
    "plots": {"meta", "survival", "text"},
    "book": {"meta", "text", "inputs", "review", "plots"},
}
ENGINE = ("meta", "survival")


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name."""
    found = {}
    for path in sorted((ROOT / "analysis").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def edges(name: str, path: Path) -> set[str]:
    """The package modules that ``name`` imports: a module imported by name, not the
    packages a dotted import passes through (those are Python's, not the code's)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    known = modules()
    out = set()
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names if alias.name in known}
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else [])) \
                if node.level else (node.module or "")
            for alias in node.names:
                target = f"{base}.{alias.name}"
                out.add(target if target in known else base)
    return {m for m in out if m in known and m != name}


def layer(module: str) -> str:
    parts = module.split(".")
    return "face" if len(parts) == 1 else parts[1]


GRAPH = {name: edges(name, path) for name, path in modules().items()}


def test_each_layer_imports_only_the_layers_below_it() -> None:
    wrong = []
    for module, targets in GRAPH.items():
        own = layer(module)
        if own == "face":
            continue
        for target in targets:
            other = layer(target)
            if other != own and other not in ALLOWED[own]:
                wrong.append(f"{module} ({own}) imports {target} ({other})")
    assert wrong == []


def test_the_engine_knows_nothing_of_files_prose_the_paper_or_the_book() -> None:
    for module, targets in GRAPH.items():
        if layer(module) in ENGINE:
            assert {layer(t) for t in targets} <= set(ENGINE), module
        if layer(module) == "text":
            assert "review" not in {layer(t) for t in targets}, module


def test_no_import_circle() -> None:
    # Depth-first search for a back edge, over module-level imports.
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(GRAPH[module]):
            if state.get(target) == 1:
                cycle = path[path.index(target):] + [target]
                raise AssertionError("import circle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in GRAPH:
        if module not in state:
            visit(module)


def _python_sources() -> list[tuple[str, str]]:
    """(name, source) of every Python file of the project and every chapter's code."""
    sources = [(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8"))
               for folder in ("analysis", "tests", "scripts", "benchmarks") for p in sorted((ROOT / folder).rglob("*.py"))]
    for chapter in chapters():
        cells = deps.code_cells((ROOT / "book" / f"{chapter}.md").read_text(encoding="utf-8"))
        sources.append((f"book/{chapter}.md", "\n".join(deps.python_source(cell) for cell in cells)))
    return sources


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def test_no_private_name_is_imported_or_reached_across_modules() -> None:
    found = []
    for name, source in _python_sources():
        tree = ast.parse(source)
        imported_modules = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").split(".")[0] == "analysis"):
                found += [f"{name}: imports {alias.name}" for alias in node.names if _private(alias.name)]
                imported_modules |= {alias.asname or alias.name for alias in node.names}
            elif isinstance(node, ast.Import):
                imported_modules |= {(alias.asname or alias.name).split(".")[0] for alias in node.names
                                     if alias.name.split(".")[0] == "analysis"}
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and _private(node.attr):
                base = node.value
                while isinstance(base, ast.Attribute):
                    base = base.value
                if isinstance(base, ast.Name) and base.id in imported_modules | {"analysis"}:
                    found.append(f"{name}: reaches {ast.unparse(node)}")
    assert found == []


def test_imports_sit_at_the_top_of_modules_unless_a_comment_says_why() -> None:
    late = []
    for path in sorted((ROOT / "analysis").rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                for inner in ast.walk(node):
                    if isinstance(inner, (ast.Import, ast.ImportFrom)) and "#" not in lines[inner.lineno - 1]:
                        late.append(f"{path.relative_to(ROOT)}:{inner.lineno}: {lines[inner.lineno - 1].strip()}")
    assert late == []


def test_each_subpackage_says_what_lives_in_it_and_the_readme_lists_it() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for folder in sorted(p for p in (ROOT / "analysis").iterdir() if (p / "__init__.py").is_file()):
        doc = ast.get_docstring(ast.parse((folder / "__init__.py").read_text(encoding="utf-8")))
        assert doc and len(doc) > 80, f"{folder.name} has no docstring saying what lives there"
        assert f"`analysis/{folder.name}/`" in readme, f"README's layout table does not list analysis/{folder.name}/"


def test_chapters_read_data_only_through_the_inputs_layer() -> None:
    for chapter in chapters():
        code = "\n".join(deps.code_cells((ROOT / "book" / f"{chapter}.md").read_text(encoding="utf-8")))
        assert not re.search(r"read_csv|read_excel|open\(|DATA_DIR|\.read_text|\.read_bytes", code), chapter


@pytest.fixture
def opened() -> list[tuple[str, str]]:
    """(file under data/, the innermost analysis module on the stack) for every file the
    code opens while the fixture is in use."""
    data = str(ROOT / "data")
    log: list[tuple[str, str]] = []
    watching = [True]

    def hook(event: str, args: tuple) -> None:
        if not watching[0] or event != "open" or not isinstance(args[0], (str, Path)):
            return
        target = str(Path(args[0]).resolve()) if not str(args[0]).startswith(data) else str(args[0])
        if not target.startswith(data):
            return
        frame = sys._getframe(1)
        while frame is not None and not frame.f_globals.get("__name__", "").startswith("analysis."):
            frame = frame.f_back
        log.append((target, "" if frame is None else frame.f_globals["__name__"]))

    sys.addaudithook(hook)  # an audit hook cannot be removed: the flag switches it off
    yield log
    watching[0] = False


def test_only_the_inputs_layer_opens_a_file_under_data(opened: list[tuple[str, str]], tmp_path: Path) -> None:
    import analysis
    from analysis import review, text
    from analysis.inputs import (
        display_path,
        load_adverse_events,
        load_curves,
        load_dose_table,
        load_prisma,
        load_table2,
    )
    from analysis.review.crb401 import case_study
    from analysis.review.discussion import discussion_results
    from analysis.review.response import response_results
    from analysis.review.sensitivity import sensitivity_results
    from analysis.review.toxicity import toxicity_results
    from analysis.teaching.lessons import model_lesson

    rules = analysis.ExtractionRules()
    covariates = analysis.load_covariates()
    studies = analysis.with_covariates(analysis.load_studies(None, rules), covariates)
    toxicity_results(studies, None, rules, covariates, display_path(None, review.paper.COVARIATES))
    response_results(studies, None, rules, "covariates.csv")
    sensitivity_results(studies, None, list(review.paper.OUTCOMES))
    discussion_results(studies, True, "covariates.csv")
    model_lesson(studies, "neurotox")
    doses = load_dose_table()
    case_study(doses, load_adverse_events(n=int(doses["n"].sum())), analysis.load_published())
    load_curves(), load_prisma(), load_table2()
    review.reproduction.build_report(studies, analysis.load_published(), doses)
    text.table2_sentences(load_table2(), *review.paper.table2_sides())
    review.paper.is_paper_table(None), review.paper.changed_cohorts(studies)
    assert opened, "the audit hook saw no file under data/ (it is not watching)"
    outside = sorted({f"{Path(file).relative_to(ROOT)} by {module or 'no analysis module'}" for file, module in opened
                      if not module.startswith("analysis.inputs")})
    assert outside == []
