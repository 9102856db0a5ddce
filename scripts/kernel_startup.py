"""Run in each chapter's kernel before its first cell (by scripts/run_chapter.py): how the
book's figures are made.

Figures are SVG with their text kept as text (``svg.fonttype = "none"``): the browser
draws the glyphs, so a figure is sharp at any zoom and on any screen, a sixth of the size
of a retina PNG, and about twice as fast to make (no rasterized text). Their ids are
salted with a fixed string and their date left out, so that two builds of the same data
give the same files.

pyplot's IPython hook draws every open figure after every cell in interactive mode, and
then the inline backend draws each again to display it: the first drawing is never shown.
The hook is removed; the inline backend still displays every figure a cell makes. Figures
are saved without matplotlib's "tight" bounding box, which draws each figure a second time
only to measure it (the book's plots lay themselves out).
"""


def _startup() -> None:
    import matplotlib
    import matplotlib.pyplot as plt
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    matplotlib.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "bcma-review"})
    plt.switch_backend(plt.get_backend())  # installs the hook now, so that it can go
    plt.uninstall_repl_displayhook()
    set_matplotlib_formats("svg", bbox_inches=None, metadata={"Date": None})


_startup()
del _startup
