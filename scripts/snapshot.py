"""Take the build's snapshot of its inputs: read each once, check it, copy it.

    python scripts/snapshot.py --data DATA --published PUBLISHED --covariates COVARIATES \
        --curves PFS --out _build/inputs

`make book` runs this before any chapter. Each input the book was asked to read (the study
table, the published numbers, the covariates, the curve folder) and the project's own
``data/`` folder are read once, checked with the loaders of ``analysis.inputs`` (a bad
input stops the build here, with its one message, before any chapter starts), and copied
into ``--out`` with a manifest of where each came from and its SHA-256. Every chapter then
reads the snapshot (``scripts/run_chapter.py`` points the kernels at it), so replacing a
file while the book builds cannot give a book whose pages come from two tables; the next
build sees the new file and re-executes the chapters that read it.

A snapshot file is rewritten only when its content changed, so that make re-executes only
the chapters whose inputs changed. The bytes checked are the bytes copied: each input is
read into memory once, checked from a temporary copy and then moved into place.
Standard library and the ``analysis`` package only; nothing is written outside ``--out``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.inputs import InputError, load_covariates, load_curves, load_published, load_studies  # noqa: E402
from analysis.inputs.paths import MANIFEST, display_path  # noqa: E402
from analysis.text.quoting import printable  # noqa: E402

#: Input name -> (the make variable that sets it, its place in the snapshot, its check).
INPUTS = {
    "data": ("DATA", "user/studies.csv", load_studies),
    "published": ("PUBLISHED", "user/published.csv", load_published),
    "covariates": ("COVARIATES", "user/covariates.csv", load_covariates),
    "curves": ("PFS", "user/pfs", load_curves),
}


def _files(source: Path) -> dict[str, bytes]:
    """A file's bytes, or every file of a folder by relative path."""
    if source.is_file():
        return {"": source.read_bytes()}
    return {str(p.relative_to(source)): p.read_bytes() for p in sorted(source.rglob("*")) if p.is_file()}


def _write(target: Path, content: dict[str, bytes]) -> bool:
    """Place ``content`` at ``target`` (a file, or a folder of files), rewriting only what
    changed; whether anything did."""
    changed = False
    if "" in content:
        if not target.is_file() or target.read_bytes() != content[""]:
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".snap-")
            with os.fdopen(handle, "wb") as out:
                out.write(content[""])
            os.replace(temporary, target)
            changed = True
        return changed
    target.mkdir(parents=True, exist_ok=True)
    for relative, data in content.items():
        changed |= _write(target / relative, {"": data})
    for stale in [p for p in target.rglob("*") if p.is_file() and str(p.relative_to(target)) not in content]:
        stale.unlink()
        changed = True
    return changed


def snapshot(paths: dict[str, Path], out: Path) -> dict[str, dict[str, str]]:
    """Check every input, then copy it and ``data/`` into ``out``; the manifest."""
    contents = {}
    for name, (variable, _, _) in INPUTS.items():
        source = paths[name]
        if name == "curves" and not source.is_dir():
            raise SystemExit(f"{variable}={source}: no such folder (a curve folder; see data/pfs/README.md)")
        if name != "curves" and not source.is_file():
            raise SystemExit(f"{variable}={source}: no such file")
        contents[name] = _files(source)
    # Check the bytes that will be copied, from a private copy of them.
    with tempfile.TemporaryDirectory() as tmp:
        for name, (variable, place, check) in INPUTS.items():
            copy = Path(tmp) / place
            _write(copy, contents[name])
            try:
                check(copy)
            except (InputError, FileNotFoundError) as error:
                message = str(error).replace(str(copy), str(paths[name]))
                raise SystemExit(f"{variable}={paths[name]}: {printable(message, 25_000)}") from None
    manifest = {}
    for name, (_, place, _) in INPUTS.items():
        _write(out / place, contents[name])
        digest = hashlib.sha256(b"".join(contents[name][k] for k in sorted(contents[name]))).hexdigest()
        manifest[place] = {"source": display_path(paths[name]), "sha256": digest}
    # Where the user's inputs came from: a change of path alone changes a page's provenance.
    _write(out / "user" / "sources.json", {"": (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode()})
    data = _files(ROOT / "data")
    _write(out / "data", data)
    for relative in data:
        manifest[f"data/{relative}"] = {"source": f"data/{relative}", "sha256": hashlib.sha256(data[relative]).hexdigest()}
    text = json.dumps(manifest, indent=1, sort_keys=True) + "\n"
    if not (out / MANIFEST).is_file() or (out / MANIFEST).read_text() != text:
        (out / MANIFEST).write_text(text)
    return manifest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in INPUTS:
        parser.add_argument(f"--{name}", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "inputs")
    args = parser.parse_args(argv)
    snapshot({name: getattr(args, name).resolve() for name in INPUTS}, args.out.resolve())


if __name__ == "__main__":
    main()
