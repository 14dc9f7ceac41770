"""adteach: automatic differentiation for teaching.

    import adteach as ad

    def f(x1, x2):
        return (ad.sin(x1 / x2) + x1 / x2 - ad.exp(x2)) * (x1 / x2 - ad.exp(x2))

    ad.grad(f, argnums=(0, 1))(1.5, 0.5)   # reverse mode
    ad.jvp(f, (1.5, 0.5), (1.0, 0.0))      # forward mode
    ad.trace(f, 1.5, 0.5)                  # the evaluation trace

Reading order
-------------
The idea fits in four files, each readable in one sitting; read them in order:

1. ``primitives.py``  the table: every operation's value and its partial derivatives,
   written once (every mode, the trace and the drawings read them from there);
2. ``tape.py``        reverse mode: ``Var`` records the graph, ``backprop`` sweeps it backwards;
3. ``forward.py``     forward mode: ``Dual`` numbers, and the tags that let ``jvp`` nest;
4. ``transforms.py``  ``grad``, ``jvp``, ``vjp``, ``jacfwd``, ``jacrev``, ``hessian`` built on the two.

Then, to see the computation laid out: ``trace.py`` (the evaluation trace, its sweep
step by step) with ``edges.py`` (the partial on every edge); ``check.py`` (numerical
differences, ``check_grad``); ``custom.py`` (``custom_vjp``: a rule from user code).

Machinery beside the idea, which a first reading can skip: ``errors.py`` (the
exception classes, checking inputs, turning a failed computation into a clear
message), ``arraylike.py`` (the NumPy protocol: ``np.sin(x)``, ``x.sum()``, object
arrays), ``collector.py`` (the cycle collector while a graph grows), ``adjoints.py`` (where the
adjoints live during a sweep, and how nested and concurrent sweeps keep them apart), ``pytree.py``
(dicts and lists of arrays), ``notation.py`` (how names and numbers are written).

The core (this package's top level) needs NumPy only. Drawing (``draw``),
widgets (``explore``) and the notebook extension import Graphviz, ipywidgets
and matplotlib lazily, the first time they are used.
"""
from .errors import ADError, ADTypeError, DomainError, ShapeError
from .primitives import (TABLE, abs, add, broadcast_to, concatenate,
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
from .notation import NOT_AVAILABLE  # a tangent forward mode cannot give (after a custom_vjp): shown as n/a

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
