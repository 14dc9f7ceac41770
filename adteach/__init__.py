"""adteach: automatic differentiation for teaching.

    import adteach as ad

    def f(x1, x2):
        return (ad.sin(x1 / x2) + x1 / x2 - ad.exp(x2)) * (x1 / x2 - ad.exp(x2))

    ad.grad(f, argnums=(0, 1))(1.5, 0.5)   # reverse mode
    ad.jvp(f, (1.5, 0.5), (1.0, 0.0))      # forward mode
    ad.trace(f, 1.5, 0.5)                  # the evaluation trace

The core (this package's top level) needs NumPy only. Drawing (``draw``),
widgets (``explore``) and the notebook extension import Graphviz, ipywidgets
and matplotlib lazily, the first time they are used.
"""
from .primitives import (ADError, ADTypeError, DomainError, ShapeError, TABLE, abs, add, broadcast_to, concatenate,
                         cos, div, dot, exp, getitem, identity, log, log_softmax, logsumexp, matmul, max, maximum,
                         mean, min, minimum, mul, neg, pow, relu, reshape, sigmoid, sin, softmax, sqrt, stack,
                         stop_gradient, sub, sum, tan, tanh, transpose, where)
from .custom import custom_vjp
from .tape import Var, backprop, graph_nodes
from .forward import Dual
from .transforms import grad, hessian, jacfwd, jacrev, jvp, value_and_grad, vjp
from .check import GradCheck, check_grad, numerical_diff, numerical_grad
from . import trace  # the module, callable: ad.trace(f, ...) calls trace.trace
from .trace import Trace

__version__ = "0.1.0"

_LAZY = {
    "draw": ("adteach.drawing", "draw"),
    "Drawing": ("adteach.drawing", "Drawing"),
    "explore": ("adteach.explorer", "explore"),
    "Explorer": ("adteach.explorer", "Explorer"),
}


def __getattr__(name):
    """Import the drawing and widget layers only when first used (keeps `import adteach` fast).

    (They live in the subpackages ``adteach.drawing`` and ``adteach.explorer``, named
    differently from the functions on purpose: importing a subpackage binds its name
    on the package, which would otherwise hide the function.)
    """
    if name in _LAZY:
        import importlib
        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'adteach' has no attribute {name!r}")


def load_ipython_extension(ipython):
    """`%load_ext adteach`: register the magics and rich display."""
    from .ipython import load_ipython_extension as load
    load(ipython)


def unload_ipython_extension(ipython):
    from .ipython import unload_ipython_extension as unload
    unload(ipython)
