"""Live exploration: sliders that recompute values, gradients, graph, trace and plot as you drag.

    import adteach as ad
    ex = ad.explore(f, x1=(0.1, 3.0), x2=(0.1, 2.0))

Built from standard ipywidgets only (no front-end code of its own), so it works in
JupyterLab, Notebook 7, VS Code and on Binder, and its state can be saved with the
notebook. ipywidgets is imported here, matplotlib only when a plot panel is made;
``import adteach`` itself loads neither. Without ipywidgets, ``ad.explore`` raises
``adteach.extras.MissingExtra`` naming ``pip install "adteach[widgets]"``; without
matplotlib the explorer works with no plot panel (and says so in its place).
"""
from ..extras import require

require("ipywidgets", "ad.explore")  # a MissingExtra naming "adteach[widgets]", not a bare ModuleNotFoundError
from .widget import Explorer, explore  # noqa: E402

__all__ = ["explore", "Explorer"]
