"""Execute one chapter: MyST source -> notebook -> papermill run -> strict check.

    python scripts/run_chapter.py toxicity --data data/studies.csv

The executed notebook goes to ``<build-dir>/executed/book/<chapter>.ipynb``
(``_build`` by default). The run fails
(exit 1) if a cell raises, or if any cell wrote to stderr -- which is where Python
warnings, matplotlib complaints and library deprecations appear -- so that a book with
a warning in it is never rendered. It fails too if an output holds HTML that could run
script (text from the study table that a cell showed unescaped; see
``analysis.book.safety.unsafe_markup``). Messages quote the error capped in length, with
control characters written out. Nothing is written outside the build directory but the
kernel's sockets, in a private temporary folder removed when the chapter ends.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import jupytext
import nbformat
import papermill
from jupyter_client.manager import KernelManager

from analysis.book.safety import unsafe_markup
from analysis.text.quoting import printable

ROOT = Path(__file__).resolve().parent.parent
#: The longest error message quoted from a failing cell (a study-table error lists at
#: most 50 problems of a few hundred characters each).
MAX_ERROR = 25_000
_SCRIPT_LINK = re.compile(r"(?:\]\(|<)\s*(javascript|vbscript|data):", re.IGNORECASE)


#: Run in each chapter's kernel before its first cell (see the file: it changes no
#: output, only the work of making it).
KERNEL_STARTUP = Path(__file__).resolve().parent / "kernel_startup.py"


class _LocalKernelManager(KernelManager):
    """Kernel on local IPC sockets: nothing on the network, and no TCP warning. Each run
    makes a subclass with its own ``socket_root``, so chapters can execute in parallel."""

    socket_root: Path

    def __init__(self, **kwargs: object) -> None:
        super().__init__(transport="ipc", ip=str(self.socket_root / "kernel"), **kwargs)


def problems_in(notebook: nbformat.NotebookNode) -> list[str]:
    """Cell errors, stderr output and HTML or Markdown outputs (displayed or glued)
    with markup that could run script, in an executed notebook."""
    found = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                found.append(f"cell {index}: {output['ename']}: {printable(output['evalue'], MAX_ERROR)}")
            elif output.get("output_type") == "stream" and output.get("name") == "stderr":
                found.append(f"cell {index} wrote to stderr: {printable(output['text'].strip(), 500)}")
            for mime, content in output.get("data", {}).items():
                if "javascript" in mime:
                    found.append(f"cell {index} outputs {mime}: the book shows no script")
                elif mime.endswith(("text/html", "text/markdown")):
                    text = content if isinstance(content, str) else "".join(content)
                    unsafe = unsafe_markup(text)
                    if mime.endswith("text/markdown"):  # Markdown links and autolinks
                        unsafe += [f"{scheme.lower()}: link" for scheme in _SCRIPT_LINK.findall(text)]
                    if unsafe:
                        found.append(f"cell {index} shows {mime} with markup that could run script ({', '.join(unsafe[:5])}): "
                                     "escape the text it quotes (Styler.format(escape='html'), html.escape)")
    return found


def _execute(chapter: str, unexecuted: Path, executed: Path, parameters: dict[str, str], book: Path,
             kernel: type[KernelManager]) -> nbformat.NotebookNode:
    """Run the notebook with papermill on a kernel of class ``kernel``; a cell error
    stops the chapter with the error's message (and no executed notebook)."""
    try:
        return papermill.execute_notebook(
            str(unexecuted),
            str(executed),
            parameters=parameters,
            cwd=str(book),
            kernel_name="python3",
            kernel_manager_class=kernel,
            progress_bar=False,
            # Written once, at the end: saving after every cell re-encodes the whole
            # notebook, figures included, some 70 times a chapter.
            request_save_on_cell_execute=False,
            extra_arguments=[f"--IPKernelApp.exec_files={KERNEL_STARTUP}"],
            # The outputs are in: the kernel has nothing left to do, so it is stopped, not asked.
            shutdown_kernel="immediate",
        )
    except papermill.PapermillExecutionError as exc:
        executed.unlink(missing_ok=True)
        raise SystemExit(f"{chapter}: cell {exc.exec_count} raised {exc.ename}: {printable(exc.evalue, MAX_ERROR)}") from None


def run(
    chapter: str,
    data: Path,
    published: Path,
    build: Path = ROOT / "_build",
    book: Path = ROOT / "book",
    curves: Path | None = None,
    covariates: Path | None = None,
) -> Path:
    source = book / f"{chapter}.md"
    unexecuted = build / "notebooks" / f"{chapter}.ipynb"
    executed = build / "executed" / "book" / f"{chapter}.ipynb"
    for path in (unexecuted, executed):
        path.parent.mkdir(parents=True, exist_ok=True)
    text = jupytext.read(source)
    jupytext.write(text, unexecuted)
    if not any(cell.cell_type == "code" for cell in text.cells):
        # Prose only (the references page): nothing to execute, so no kernel to start.
        nbformat.write(text, executed)
        return executed
    offered = {"studies_path": str(data), "published_path": str(published), "output_dir": str(build)}
    if curves is not None:
        offered["curves_path"] = str(curves)
    if covariates is not None:
        offered["covariates_path"] = str(covariates)
    # Each chapter gets the paths it declares in its parameters cell.
    declared = papermill.inspect_notebook(str(unexecuted))
    parameters = {name: value for name, value in offered.items() if name in declared}
    # The sockets live in a short private folder of the system's temporary directory: a
    # socket path may hold at most 107 characters, which a project folder can exceed.
    with tempfile.TemporaryDirectory(prefix="bcma-kernel-") as sockets:
        kernel = type("ChapterKernelManager", (_LocalKernelManager,), {"socket_root": Path(sockets)})
        notebook = _execute(chapter, unexecuted, executed, parameters, book, kernel)
    problems = problems_in(notebook)
    if problems:
        executed.unlink(missing_ok=True)
        raise SystemExit(f"{chapter}: the chapter is not clean:\n  " + "\n  ".join(problems))
    # Readers see the parameters (collapsed); papermill's injected copy is left out.
    for cell in notebook.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags:
            tags.append("remove-cell")
            # the downloadable notebook names its inputs relative to the project, not this machine
            cell.source = cell.source.replace(f"{ROOT}/", "")
        elif "parameters" in tags:
            tags.append("hide-cell")
    nbformat.write(notebook, executed)
    return executed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapter", help="chapter name, e.g. toxicity (book/<chapter>.md)")
    parser.add_argument("--snapshot", type=Path, help="the build's snapshot of its inputs (scripts/snapshot.py): read "
                                                      "the chapter's inputs from it, instead of --data and the others")
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "studies.csv", help="study table (CSV)")
    parser.add_argument("--published", type=Path, default=ROOT / "data" / "published.csv", help="published numbers (CSV)")
    parser.add_argument("--curves", type=Path, default=ROOT / "data" / "pfs", help="digitized PFS curve folder")
    parser.add_argument("--covariates", type=Path, default=ROOT / "data" / "covariates.csv", help="study covariates (CSV)")
    parser.add_argument("--build-dir", type=Path, default=ROOT / "_build", help="where notebooks are written")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.snapshot is not None:
        snapshot = args.snapshot.resolve()
        # The kernel inherits this: its data/ is the snapshot's, its files shown by their sources.
        os.environ["BCMA_SNAPSHOT"] = str(snapshot)
        args.data, args.published = snapshot / "user" / "studies.csv", snapshot / "user" / "published.csv"
        args.covariates, args.curves = snapshot / "user" / "covariates.csv", snapshot / "user" / "pfs"
    run(args.chapter, args.data.resolve(), args.published.resolve(), args.build_dir.resolve(), curves=args.curves.resolve(),
        covariates=args.covariates.resolve())
    print(f"  executed {args.chapter:<12} {time.perf_counter() - start:6.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
