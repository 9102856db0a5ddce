"""Sphinx extension: drop repeated inline scripts from the pages.

sphinx-thebe, as loaded by Jupyter Book 1, registers its configuration script (a block
of ``const`` declarations) twice, and the second copy is a JavaScript error in every
page. Keeping the first copy of each identical inline script removes the error.
"""

from __future__ import annotations


def _dedupe(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for script in scripts:
        body = getattr(script, "attributes", {}).get("body") if not isinstance(script, str) else None
        key = ("inline", body) if body else ("file", str(script))
        if body and key in seen:
            continue
        seen.add(key)
        kept.append(script)
    context["script_files"] = kept


def setup(app):
    app.connect("html-page-context", _dedupe)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
