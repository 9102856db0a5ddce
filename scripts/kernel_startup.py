"""Run in each chapter's kernel before its first cell (by scripts/run_chapter.py); it
changes no output, only the work it takes to make it.

pyplot's IPython hook draws every open figure after every cell in interactive mode, and
then the inline backend draws each again to display it: the first drawing is never shown
(about 0.2 s for a forest plot). The hook is removed; the inline backend still displays
every figure a cell makes, pixel for pixel the same.

Figures are also saved without matplotlib's "tight" bounding box, which draws each figure
a second time only to measure it (the book's plots lay themselves out), and with fast
PNG compression: together about 40% less work per figure.
"""


def _startup() -> None:
    import matplotlib.pyplot as plt

    plt.switch_backend(plt.get_backend())  # installs the hook now, so that it can go
    plt.uninstall_repl_displayhook()
    from IPython import get_ipython

    get_ipython().run_line_magic(
        "config", "InlineBackend.print_figure_kwargs = {'bbox_inches': None, 'pil_kwargs': {'compress_level': 1}}")


_startup()
del _startup
