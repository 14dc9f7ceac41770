"""Optional dependencies: which pip extra brings each, and the error that says so.

    from adteach.extras import require
    ipywidgets = require("ipywidgets", "ad.explore")   # MissingExtra naming "adteach[widgets]" if absent
"""
from __future__ import annotations

import importlib

__all__ = ["EXTRAS", "MissingExtra", "hint", "require"]

#: The pip extra that installs each optional module.
EXTRAS = {
    "graphviz": "draw", "graphviz_pure": "draw",
    "ipywidgets": "widgets", "matplotlib": "widgets", "PIL": "widgets", "traitlets": "widgets",
    "widgetsnbextension": "widgets", "jupyterlab_widgets": "widgets",
}


class MissingExtra(ModuleNotFoundError):
    """An optional module is not installed; the message names the extra that installs it."""


def hint(name):
    """'NAME is not installed: pip install "adteach[EXTRA]" (in a notebook: %pip install ...)', or None."""
    extra = EXTRAS.get((name or "").split(".")[0])
    if extra is None:
        return None
    return (f'{name.split(".")[0]} is not installed: pip install "adteach[{extra}]" '
            f'(in a notebook: %pip install "adteach[{extra}]", then restart the kernel)')


def require(name, feature):
    """Import and return module ``name``, or raise MissingExtra saying that ``feature`` needs it."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] != name.split(".")[0]:
            raise  # something else is missing inside it: a broken install, not a missing extra
        raise MissingExtra(f"{feature} needs {name}, but {hint(name)}", name=name) from None
