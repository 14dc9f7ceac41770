"""Live exploration: sliders that recompute values, gradients, graph, trace and plot as you drag.

    import adteach as ad
    ex = ad.explore(f, x1=(0.1, 3.0), x2=(0.1, 2.0))

Built from standard ipywidgets only (no front-end code of its own), so it works in
JupyterLab, Notebook 7, VS Code and on Binder, and its state can be saved with the
notebook. ipywidgets is imported here, matplotlib only when a plot panel is made;
``import adteach`` itself loads neither.

This package has the same name as the function ``adteach.explore``. When the package
is imported before ``ad.explore`` is first looked up (``from adteach.explore import
Explorer``), Python binds ``adteach.explore`` to the package; so the package itself is
callable too, and ``ad.explore(f, ...)`` works either way.
"""
import sys
import types

from .widget import Explorer, explore

__all__ = ["explore", "Explorer"]


class _CallableModule(types.ModuleType):
    def __call__(self, *args, **kwargs):
        return explore(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
