"""The table of primitives: every operation adteach can differentiate, defined once.

A *primitive* is an operation whose derivative we write by hand. Everything else
(forward mode, reverse mode, the evaluation trace, the graph drawings) reads the
entries of ``TABLE`` and never re-derives anything.

An entry holds:

* ``fn``       -- how to compute the value (NumPy, or ``math`` for plain floats:
  ``prim.on_float`` is then the ``math`` function, which a plain float goes to directly);
* ``partials`` -- for *elementwise* operations, one local partial derivative per
  input, ``d out / d input_i``, written with adteach's own functions (``cos``,
  ``mul``...). Because they are written with traced operations, the backward pass
  can itself be recorded, which is how higher derivatives work (grad of grad).
  ``ONE`` and ``MINUS_ONE`` mark constant partials, so the sweep can skip a
  multiplication;
* ``vjp``      -- for *structural* operations (sum, matmul, reshape, ...), where a
  "partial" would be a large Jacobian, the vector-Jacobian product instead:
  ``vjp(g, i, *inputs, out=..., **aux)`` maps the output's adjoint ``g`` to input
  ``i``'s share (``stack`` and ``concatenate``, which take any number of inputs,
  get them as one list: ``vjp(g, i, inputs, out=...)``). These operations are linear, so their forward-mode tangent is the
  operation itself applied to the tangents (``matmul``, linear in each input
  separately, is marked ``multilinear``: a @ b' + a' @ b);
* ``jvp``      -- for the few structural operations that are *not* linear (``max``,
  ``logsumexp``, ``softmax``...), forward mode's rule:
  ``jvp(tangents, *inputs, out=..., **aux)`` gives the output's tangent from the
  inputs' tangents (``None`` for a constant input);
* ``fmt`` / ``latex`` -- how the trace and the drawings write the operation;
* ``labels``   -- how the drawings write each partial on its edge;
* ``check``    -- an optional domain check that returns a message or ``None``.

From an entry, each ``Primitive`` builds its rules once, the first time they are used:
``chains[i]`` (the chain rule on edge i, ``g * partial_i``: the one place where the
``ONE`` / ``MINUS_ONE`` markers are read) and ``rules[i]`` (reverse mode's share for
input i: the chain, or the vjp). The reverse sweep (tape.py) and forward mode
(forward.py) call those, so the derivative is written once, here.

The functions students call (``ad.sin``, ``ad.exp``, ...) are at the bottom of
this file. They accept plain numbers, NumPy arrays, ``Var`` (reverse mode) and
``Dual`` (forward mode) alike: each (made by ``_op``) hands the work to whichever
of those types is present, and plain numbers are simply computed.

Beside this file (machinery, not needed to follow the idea): errors.py holds the
exception classes and ``evaluate``, which computes a value and turns a failure into
a clear message; arraylike.py holds the NumPy protocol (``np.sin(x)``, ``x.sum()``).
"""
from __future__ import annotations

import builtins
import functools
import itertools
import math
import operator
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .errors import ADError, ADTypeError, DomainError, ShapeError, ShapeProblem, evaluate

__all__ = ["Primitive", "TABLE", "apply", "ADError", "ADTypeError", "DomainError", "ShapeError"]

ONE = "ONE"  # marker: the partial derivative is the constant 1
MINUS_ONE = "MINUS_ONE"  # marker: the partial derivative is the constant -1


@dataclass(frozen=True)
class Primitive:
    name: str
    fn: Callable[..., Any]
    fmt: str
    latex: str
    partials: tuple = ()
    vjp: Callable[..., Any] | None = None
    labels: tuple = ()
    check: Callable[..., str | None] | None = None
    nargs: int | None = None  # None: as many as given (stack)
    multilinear: bool = False  # structural and linear in each input separately (matmul)
    jvp: Callable[..., Any] | None = None  # structural but not linear (max, logsumexp...): the tangent rule

    def __post_init__(self):
        # on_float: the value function for a plain float: fn, or the faster one it was made from (_unary);
        # derived once, here (a test that swaps fn must make a new Primitive, dataclasses.replace)
        object.__setattr__(self, "on_float", getattr(self.fn, "on_float", self.fn))

    @property
    def elementwise(self) -> bool:
        return self.vjp is None

    @functools.cached_property
    def chains(self) -> tuple:
        """The chain rule on each input's edge: ``chains[i](g, inputs, out)`` is ``g * d out / d input_i``.

        Built once from the partials (a constant partial, ONE or MINUS_ONE, needs no product).
        ``g`` is what the edge carries: an adjoint in reverse mode, a tangent in forward mode.
        """
        return tuple(_chain(p, len(self.partials)) for p in self.partials)

    @functools.cached_property
    def rules(self):
        """Reverse mode: ``rules[i](g, inputs, out, aux)`` is input i's share of the output's adjoint g.

        For an elementwise primitive, the chain rule on edge i (``chains[i]``; the sweep sums an
        array share back to the input's shape where the forward pass broadcast it); for a
        structural one, its vector-Jacobian product.
        """
        if self.vjp is None:
            return self.chains
        if self.nargs is None:  # stack, concatenate: any number of inputs
            return _EachInput(self)
        return tuple(_vjp_rule(self, i) for i in range(self.nargs))

    def __repr__(self) -> str:
        return f"Primitive({self.name!r})"


TABLE: dict[str, Primitive] = {}


def pass_on(g, inputs, out, aux=None):
    """The chain rule on an edge whose partial is 1 (``ONE``): the adjoint passes on unchanged.

    One function for every such edge, so the sweep can recognise it (``rule is pass_on``) and skip the call.
    """
    return g


def _chain(partial, nargs):
    """``g -> g * partial``, for one edge (see ``Primitive.chains``)."""
    if partial is ONE:
        return pass_on
    if partial is MINUS_ONE:
        return lambda g, inputs, out, aux=None: -g
    # (the same as ``partial(*inputs, out)``, but a call with a fixed number of arguments is
    # several times faster in CPython, and this runs once per edge of every sweep)
    if nargs == 1:
        return lambda g, inputs, out, aux=None: g * partial(inputs[0], out)
    if nargs == 2:
        return lambda g, inputs, out, aux=None: g * partial(inputs[0], inputs[1], out)
    return lambda g, inputs, out, aux=None: g * partial(*inputs, out)


def _vjp_rule(prim, i):
    """Input i's share of the adjoint g from a structural primitive's vjp (see ``Primitive.rules``)."""
    vjp = prim.vjp
    if prim.nargs is None:  # the inputs as one list (unpacking them for every input would be O(n^2))
        return lambda g, inputs, out, aux: vjp(g, i, inputs, out=out, **(aux or {}))
    return lambda g, inputs, out, aux: vjp(g, i, *inputs, out=out, **(aux or {}))


class _EachInput:
    """``rules[i]`` of a primitive that takes any number of inputs, made when asked for.

    Endless: ``zip(node.parents, prim.rules)`` stops with the parents.
    """

    def __init__(self, prim):
        self.prim = prim

    def __getitem__(self, i):
        return _vjp_rule(self.prim, i)

    def __iter__(self):
        return map(self.__getitem__, itertools.count())


def _define(name, fn, fmt, latex, **kw) -> Primitive:
    prim = Primitive(name, fn, fmt, latex, **kw)
    TABLE[name] = prim
    return prim


def _unary(math_fn, np_fn):
    """A value function that is fast on plain floats and works on arrays.

    Its ``on_float`` (``math_fn``) is what ``prim.on_float`` calls on a plain float directly,
    without this function's own call and test (a tenth of a million-operation chain's time).
    """
    fn = lambda x: math_fn(x) if type(x) is float else np_fn(x)
    fn.on_float = math_fn
    return fn


# Overflow, one rule for floats and arrays: when a finite input gives a result too large
# for a float64, exp and pow raise DomainError (math.exp and float ** do so for floats;
# NumPy would give inf with a warning for arrays, so arrays are made to raise too).
# Infinite inputs give infinite results, as IEEE arithmetic says (exp(inf) = inf).
def _no_overflow(np_fn):
    def fn(*xs):
        with np.errstate(over="raise"):
            return np_fn(*xs)
    return fn


def _pow_fn(a, b):
    if type(a) is float and type(b) is float:
        return a ** b  # raises OverflowError on overflow
    with np.errstate(over="raise"):
        return a ** b


# --- domain checks: each returns a message, or None when the input is fine ----
# (errors.evaluate runs the check and raises DomainError, or ShapeError for a ShapeProblem)
def _check_log(x):
    if np.any(np.asarray(x) <= 0):
        return "defined only for inputs > 0"


def _check_sqrt(x):
    if np.any(np.asarray(x) < 0):
        return "defined only for inputs >= 0"


def _check_div(a, b):
    if np.any(np.asarray(b) == 0):
        return "division by zero (the denominator is 0)"


def _check_pow(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if np.any((a < 0) & (b != np.round(b))):
        return "a negative base needs an integer exponent"
    if np.any((a == 0) & (b < 0)):
        return "0 cannot be raised to a negative power"


# --- elementwise partials that need a little care ------------------------------
def _sqrt_partial(x, out):
    if np.any(_value(out) == 0):
        raise DomainError("sqrt: the derivative is undefined at 0 (it is infinite)")
    return 0.5 / out


def _log_partial(x, out):
    return 1.0 / x


def _pow_base(a, b, out):
    av, bv = np.asarray(_value(a)), np.asarray(_value(b))
    if np.all(bv == 0):
        return 0.0 * a  # x**0 is constant
    if np.any((av == 0) & (bv < 1) & (bv != 0)):
        raise DomainError("pow: the derivative of x**p at x = 0 is infinite for 0 < p < 1 "
                          "(and undefined for p < 0)")
    return b * a ** (b - 1.0)


def _pow_exponent(a, b, out):
    if np.any(_value(a) <= 0):
        raise DomainError(
            "pow: the derivative with respect to the exponent needs a base > 0 "
            "(it is out * log(base))")
    return out * log(a)


def _maximum_partial(mine, other):
    """1 where this input wins, 0 where it loses, 1/2 at a tie (documented)."""
    m, o = _value(mine), _value(other)
    if _scalar(m) and _scalar(o):
        return 1.0 if m > o else 0.5 if m == o else 0.0
    return np.where(m > o, 1.0, np.where(m == o, 0.5, 0.0))


def _step(x):
    """Heaviside step used by relu's derivative; relu'(0) = 0 (documented)."""
    v = _value(x)
    return (1.0 if v > 0 else 0.0) if _scalar(v) else np.where(v > 0, 1.0, 0.0)


def _sign(x):
    """abs'(x) = sign(x); at 0 we use 0, a subgradient (documented)."""
    v = _value(x)
    return float(np.sign(v)) if _scalar(v) else np.sign(v)


def _scalar(v):
    """Is v one number? (A float is asked first: in a scalar sweep np.ndim would cost ten times more.)"""
    return type(v) is float or np.ndim(v) == 0


def _value(x):
    """The number inside a Var or Dual (partials need it for comparisons)."""
    if type(x) is float:
        return x
    while hasattr(x, "value"):
        x = x.value
    return x


# --- structural vector-Jacobian products ----------------------------------------
def _sum_vjp(g, i, x, out, axis=None, keepdims=False):
    shape = np.shape(_value(x))
    if axis is not None and not keepdims:
        axes = (axis,) if np.isscalar(axis) else tuple(axis)
        kept = [1 if (d in axes or d - len(shape) in axes) else n for d, n in enumerate(shape)]
        g = reshape(g, tuple(kept))
    return broadcast_to(g, shape)


def _mean_vjp(g, i, x, out, axis=None, keepdims=False):
    n = np.size(_value(x)) // builtins.max(np.size(_value(out)), 1)
    return _sum_vjp(g, i, x, out, axis=axis, keepdims=keepdims) / float(n)


def _matmul_vjp(g, i, a, b, out):
    sa, sb = np.shape(_value(a)), np.shape(_value(b))
    a2 = a if len(sa) == 2 else reshape(a, (1, -1))
    b2 = b if len(sb) == 2 else reshape(b, (-1, 1))
    rows, cols = np.shape(_value(a2))[0], np.shape(_value(b2))[1]
    g2 = reshape(g, (rows, cols))
    if i == 0:
        return reshape(matmul(g2, transpose(b2)), sa)
    return reshape(matmul(transpose(a2), g2), sb)


def _check_matmul(a, b):
    sa, sb = np.shape(a), np.shape(b)
    if not (1 <= len(sa) <= 2 and 1 <= len(sb) <= 2):
        return ShapeProblem(f"takes 1-D or 2-D arrays, got shapes {sa} and {sb}")
    if sa[-1] != sb[0]:
        return ShapeProblem(f"inner dimensions differ: shapes {sa} and {sb}")


def _transpose_vjp(g, i, x, out, axes=None):
    inverse = None if axes is None else tuple(np.argsort(axes))
    return transpose(g, inverse)


def _getitem_fn(x, index):
    return np.asarray(x)[index]


def _scatter_fn(g, index, shape):
    """The adjoint of x[index]: g placed at index in zeros shaped like x."""
    z = np.zeros(shape)
    parts = index if isinstance(index, tuple) else (index,)
    if all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in parts):
        z[index] = g  # basic indexing never repeats an element
    else:
        np.add.at(z, index, g)  # fancy indexing may: x[[0, 0]] sends two adjoints to x[0]
    return z


# --- the table -----------------------------------------------------------------
# Elementwise operations: value, and one partial derivative per input.
#                name      value                        text               LaTeX
_define("add", operator.add, "{0} + {1}", "{0} + {1}",
        partials=(ONE, ONE), labels=("1", "1"), nargs=2)
_define("sub", operator.sub, "{0} - {1}", "{0} - {1}",
        partials=(ONE, MINUS_ONE), labels=("1", "-1"), nargs=2)
_define("mul", operator.mul, "{0} * {1}", "{0} \\cdot {1}",
        partials=(lambda a, b, out: b, lambda a, b, out: a), labels=("{1}", "{0}"), nargs=2)
_define("div", operator.truediv, "{0} / {1}", "\\frac{{{0}}}{{{1}}}",
        partials=(lambda a, b, out: 1.0 / b, lambda a, b, out: -out / b),
        labels=("1/{1}", "-{0}/{1}²"), check=_check_div, nargs=2)
_define("neg", operator.neg, "-{0}", "-{0}",
        partials=(MINUS_ONE,), labels=("-1",), nargs=1)
_define("pow", _pow_fn, "{0} ** {1}", "{0}^{{{1}}}",
        partials=(_pow_base, _pow_exponent),
        labels=("{1}·{0}^({1}-1)", "{0}^{1}·log({0})"), check=_check_pow, nargs=2)
_define("exp", _unary(math.exp, _no_overflow(np.exp)), "exp({0})", "\\exp({0})",
        partials=(lambda x, out: out,), labels=("exp({0})",), nargs=1)
_define("log", _unary(math.log, np.log), "log({0})", "\\ln({0})",
        partials=(_log_partial,), labels=("1/{0}",), check=_check_log, nargs=1)
_define("sin", _unary(math.sin, np.sin), "sin({0})", "\\sin({0})",
        partials=(lambda x, out: cos(x),), labels=("cos({0})",), nargs=1)
_define("cos", _unary(math.cos, np.cos), "cos({0})", "\\cos({0})",
        partials=(lambda x, out: -sin(x),), labels=("-sin({0})",), nargs=1)
_define("tan", _unary(math.tan, np.tan), "tan({0})", "\\tan({0})",
        partials=(lambda x, out: 1.0 + out * out,), labels=("1 + tan²({0})",), nargs=1)
_define("tanh", _unary(math.tanh, np.tanh), "tanh({0})", "\\tanh({0})",
        partials=(lambda x, out: 1.0 - out * out,), labels=("1 - tanh²({0})",), nargs=1)
_define("sqrt", _unary(math.sqrt, np.sqrt), "sqrt({0})", "\\sqrt{{{0}}}",
        partials=(_sqrt_partial,), labels=("1/(2·sqrt({0}))",), check=_check_sqrt, nargs=1)
_define("abs", _unary(builtins.abs, np.abs), "abs({0})", "|{0}|",
        partials=(lambda x, out: _sign(x),), labels=("sign({0})",), nargs=1)
def _sigmoid_float(x):
    """1 / (1 + e^-x), written so that neither tail rounds to exactly 0 or overflows."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _sigmoid_array(x):
    e = np.exp(-np.abs(x))  # never overflows
    return np.where(np.asarray(x) >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


_define("sigmoid", _unary(_sigmoid_float, _sigmoid_array),
        "sigmoid({0})", "\\sigma({0})",
        partials=(lambda x, out: out * (1.0 - out),), labels=("σ({0})(1-σ({0}))",), nargs=1)
_define("relu", _unary(lambda x: x if x > 0 else 0.0, lambda x: np.maximum(x, 0.0)),
        "relu({0})", "\\mathrm{{relu}}({0})",
        partials=(lambda x, out: _step(x),), labels=("[{0} > 0]",), nargs=1)
_define("maximum", np.maximum, "max({0}, {1})", "\\max({0}, {1})",
        partials=(lambda a, b, out: _maximum_partial(a, b), lambda a, b, out: _maximum_partial(b, a)),
        labels=("[{0} ≥ {1}]", "[{1} ≥ {0}]"), nargs=2)
_define("identity", lambda x: x, "{0}", "{0}", partials=(ONE,), labels=("1",), nargs=1)

# Structural operations: value, and a vector-Jacobian product per input.
_define("sum", lambda x, axis=None, keepdims=False: np.sum(x, axis=axis, keepdims=keepdims),
        "sum({0})", "\\sum {0}", vjp=_sum_vjp, labels=("1",), nargs=1)
_define("mean", lambda x, axis=None, keepdims=False: np.mean(x, axis=axis, keepdims=keepdims),
        "mean({0})", "\\operatorname{{mean}}({0})", vjp=_mean_vjp, labels=("1/n",), nargs=1)
_define("matmul", lambda a, b: np.matmul(a, b), "{0} @ {1}", "{0} {1}",
        vjp=_matmul_vjp, labels=("{1}ᵀ", "{0}ᵀ"), check=_check_matmul, nargs=2, multilinear=True)
_define("reshape", lambda x, shape: np.reshape(x, shape), "reshape({0})", "{0}",
        vjp=lambda g, i, x, out, shape: reshape(g, np.shape(_value(x))), labels=("1",), nargs=1)
_define("transpose", lambda x, axes=None: np.transpose(x, axes), "{0}ᵀ", "{0}^{{\\top}}",
        vjp=_transpose_vjp, labels=("1",), nargs=1)
_define("broadcast_to", lambda x, shape: np.broadcast_to(x, shape).copy(), "broadcast({0})", "{0}",
        vjp=lambda g, i, x, out, shape: _unbroadcast(g, np.shape(_value(x))), labels=("1",), nargs=1)
_define("getitem", _getitem_fn, "{0}[{index}]", "{0}_{{{index}}}",
        vjp=lambda g, i, x, out, index: _scatter(g, index=index, shape=np.shape(_value(x))), labels=("1",), nargs=1)
_define("scatter", _scatter_fn, "scatter({0})", "{0}",
        vjp=lambda g, i, x, out, index, shape: getitem(g, index), labels=("1",), nargs=1)
_define("stack", lambda *xs: np.stack(xs), "stack({all})", "[{all}]",
        vjp=lambda g, i, xs, out: getitem(g, i), labels=("1",))


# --- the primitives of a backprop lecture: reductions that choose, softmax, where -----
def _expand(g, x, axis, keepdims):
    """Bring a reduction's output (or its adjoint) back to the input's shape, by broadcasting."""
    return _sum_vjp(g, 0, x, None, axis=axis, keepdims=keepdims)


def _chooser_weights(x, axis, keepdims, pick):
    """max/min: 1 on the chosen element, split evenly between ties (as JAX does), 0 elsewhere.

    A constant (it depends on which element wins, not on how much), so the rule is
    exact at every order: max is linear near any point without ties.
    """
    xv = np.asarray(_value(x), dtype=float)
    won = (xv == pick(xv, axis=axis, keepdims=True)).astype(float)
    return won / np.sum(won, axis=axis, keepdims=True)


def _chooser(pick):
    def fn(x, axis=None, keepdims=False):
        return pick(x, axis=axis, keepdims=keepdims)

    def vjp(g, i, x, out, axis=None, keepdims=False):
        return _expand(g, x, axis, keepdims) * _chooser_weights(x, axis, keepdims, pick)

    def jvp(tangents, x, out, axis=None, keepdims=False):
        return sum(tangents[0] * _chooser_weights(x, axis, keepdims, pick), axis, keepdims)
    return fn, vjp, jvp


def _logsumexp_fn(x, axis=None, keepdims=False):
    """log(sum(exp(x))), computed as m + log(sum(exp(x - m))) with m the max: never overflows."""
    x = np.asarray(x, dtype=float)
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)  # all -inf (or an inf): leave the values as they are
    with np.errstate(divide="ignore"):
        out = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    if not keepdims:
        out = np.squeeze(out, axis=axis)
    return float(out) if out.ndim == 0 else out


def _logsumexp_vjp(g, i, x, out, axis=None, keepdims=False):  # the gradient is softmax(x)
    return _expand(g, x, axis, keepdims) * softmax(x, axis)


def _logsumexp_jvp(tangents, x, out, axis=None, keepdims=False):
    return sum(tangents[0] * softmax(x, axis), axis, keepdims)


def _softmax_fn(x, axis=-1):
    x = np.asarray(x, dtype=float)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))  # the largest term is exp(0) = 1: no overflow
    return e / np.sum(e, axis=axis, keepdims=True)


def _softmax_vjp(g, i, x, out, axis=-1):  # s * (g - <g, s>)
    return out * (g - sum(g * out, axis, True))


def _softmax_jvp(tangents, x, out, axis=-1):
    return out * (tangents[0] - sum(tangents[0] * out, axis, True))


def _log_softmax_fn(x, axis=-1):
    return np.asarray(x, dtype=float) - _logsumexp_fn(x, axis=axis, keepdims=True)


def _log_softmax_vjp(g, i, x, out, axis=-1):  # g - softmax * sum(g)
    return g - exp(out) * sum(g, axis, True)


def _log_softmax_jvp(tangents, x, out, axis=-1):
    return tangents[0] - sum(tangents[0] * exp(out), axis, True)


def _concatenate_vjp(g, i, xs, out, axis=0):
    """Input i's share: its slice of the adjoint along ``axis``."""
    sizes = [np.shape(_value(x))[axis] for x in xs]
    start = builtins.sum(sizes[:i])
    ax = axis % np.ndim(_value(xs[i]))
    return getitem(g, (slice(None),) * ax + (slice(start, start + sizes[i]),))


def _where_fn(x, y, cond):
    out = np.where(cond, x, y)
    return float(out) if out.ndim == 0 else out


def _where_vjp(g, i, x, y, out, cond):
    """g where this input was chosen, 0 elsewhere (summed back if it was broadcast)."""
    chosen = np.broadcast_to(cond if i == 0 else ~cond, np.shape(_value(out))).astype(float)
    return _unbroadcast(g * (chosen if chosen.ndim else float(chosen)), np.shape(_value((x, y)[i])))


def _zero_partial(x, out):
    v = _value(x)
    return np.zeros(np.shape(v)) if np.ndim(v) else 0.0


_MAX, _MAX_VJP, _MAX_JVP = _chooser(np.max)
_MIN, _MIN_VJP, _MIN_JVP = _chooser(np.min)
_define("max", _MAX, "max({0})", "\\max {0}", vjp=_MAX_VJP, jvp=_MAX_JVP, labels=("[{0} = max]",), nargs=1)
_define("min", _MIN, "min({0})", "\\min {0}", vjp=_MIN_VJP, jvp=_MIN_JVP, labels=("[{0} = min]",), nargs=1)
_define("minimum", np.minimum, "min({0}, {1})", "\\min({0}, {1})",
        partials=(lambda a, b, out: _maximum_partial(b, a), lambda a, b, out: _maximum_partial(a, b)),
        labels=("[{0} ≤ {1}]", "[{1} ≤ {0}]"), nargs=2)
_define("logsumexp", _logsumexp_fn, "logsumexp({0})", "\\log \\sum \\exp {0}",
        vjp=_logsumexp_vjp, jvp=_logsumexp_jvp, labels=("softmax({0})",), nargs=1)
_define("softmax", _softmax_fn, "softmax({0})", "\\operatorname{{softmax}}({0})",
        vjp=_softmax_vjp, jvp=_softmax_jvp, labels=("diag(s) - s sᵀ",), nargs=1)
_define("log_softmax", _log_softmax_fn, "log_softmax({0})", "\\log \\operatorname{{softmax}}({0})",
        vjp=_log_softmax_vjp, jvp=_log_softmax_jvp, labels=("I - 1 sᵀ",), nargs=1)
_define("concatenate", lambda *xs, axis=0: np.concatenate(xs, axis=axis), "concatenate({all})", "[{all}]",
        vjp=_concatenate_vjp, labels=("1",))
_define("where", _where_fn, "where(c, {0}, {1})", "\\operatorname{{where}}(c, {0}, {1})",
        vjp=_where_vjp, labels=("[c]", "[not c]"), nargs=2)
_define("stop_gradient", lambda x: x, "stop_gradient({0})", "\\operatorname{{sg}}({0})",
        partials=(_zero_partial,), labels=("0",), nargs=1)


def _unbroadcast(g, shape):
    """Sum an adjoint back down to an input's shape (undoing NumPy broadcasting)."""
    gshape = np.shape(_value(g))
    if gshape == tuple(shape):
        return g
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + d for d, n in enumerate(shape) if n == 1 and gshape[lead + d] != 1)
    g = sum(g, axis=axes) if axes else g
    return reshape(g, tuple(shape)) if np.shape(_value(g)) != tuple(shape) else g


# --- dispatch: who computes an operation? ----------------------------------------
def _op(prim: Primitive, aux=None):
    """The function that applies ``prim`` (with these auxiliary arguments, ``axis=0``...).

    ``ad.sin`` is one of them (``_public("sin")``). It looks at its arguments. Types
    that take part in differentiation (``Var``, ``Dual``) define a static method
    ``_ad_apply(prim, args, aux)`` and an ``_ad_priority``; the highest priority among
    the arguments wins (a Dual may hold Vars inside, so Dual > Var) and computes the
    operation. A NumPy object array of Vars (``np.array([x, y])``) is stacked first,
    so its derivatives are kept. With none of them present the value is just
    computed (the partials in a reverse sweep: plain numbers).
    """
    def op(*args):
        carrier = None
        for a in args:
            t = type(a)
            if t is float:
                continue  # a plain number, the most common argument
            if hasattr(t, "_ad_apply") and (carrier is None or t._ad_priority > carrier._ad_priority):
                carrier = t
            elif t is np.ndarray and a.dtype == object:  # np.array([x, y]) of Vars: stack them, keep the derivatives
                # (a new op, not this one: an op that called itself would be a reference cycle per apply)
                return _op(prim, aux)(*[from_objects(b) for b in args])
        if carrier is not None:
            return carrier._ad_apply(prim, args, aux)
        if args and prim.check is None and aux is None:  # plain numbers, nothing to check: compute
            try:
                return (prim.on_float if type(args[0]) is float else prim.fn)(*args)
            except (ValueError, TypeError, ArithmeticError):
                pass  # evaluate says what went wrong
        return evaluate(prim, args, aux)
    return op


def apply(prim: Primitive, *args, **aux):
    """Apply a primitive to plain values, Vars or Duals, with auxiliary arguments (``axis=0``) if it takes any."""
    return _op(prim, aux or None)(*args)


def _public(name):
    """``ad.sin`` and the like: the primitive's ``_op``, named and documented."""
    prim = TABLE[name]
    op = _op(prim)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"The primitive ``{name}``: {prim.fmt.format('x', 'y', all='x, y', index='i')}."
    return op


add, sub, mul, div, neg, pow = map(_public, ("add", "sub", "mul", "div", "neg", "pow"))
exp, log, sin, cos, tan, tanh = map(_public, ("exp", "log", "sin", "cos", "tan", "tanh"))
sqrt, abs, sigmoid, relu, maximum, minimum, identity = map(
    _public, ("sqrt", "abs", "sigmoid", "relu", "maximum", "minimum", "identity"))
matmul = _public("matmul")


def _scatter(g, index, shape):
    """A zero array of ``shape`` with ``g`` at ``index`` (getitem's vjp; its own vjp is getitem)."""
    return apply(TABLE["scatter"], g, index=index, shape=shape)


def broadcast_to(x, shape):
    """Broadcast an array to ``shape`` (``shape`` is never a differentiable input)."""
    return apply(TABLE["broadcast_to"], x, shape=tuple(np.atleast_1d(shape).tolist()) if np.ndim(shape) else (int(shape),))


def getitem(x, index):
    """``x[index]`` (``index`` is never a differentiable input)."""
    return apply(TABLE["getitem"], x, index=index)


def sum(x, axis=None, keepdims=False):
    """Sum of the elements (along ``axis``)."""
    return apply(TABLE["sum"], x, axis=axis, keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    """Mean of the elements (along ``axis``)."""
    return apply(TABLE["mean"], x, axis=axis, keepdims=keepdims)


def reshape(x, shape):
    """Reshape an array."""
    return apply(TABLE["reshape"], x, shape=tuple(np.atleast_1d(shape).tolist()) if np.ndim(shape) else (int(shape),))


def transpose(x, axes=None):
    """Transpose an array (reverse its axes, or permute them by ``axes``)."""
    if axes is not None:
        n = np.ndim(_value(x))
        axes = tuple(int(a) % n for a in axes)  # negative axes, as NumPy allows
    return apply(TABLE["transpose"], x, axes=axes)


def stack(xs):
    """Stack scalars (or equal-shaped arrays) into one array along a new first axis."""
    return apply(TABLE["stack"], *xs)


def max(x, axis=None, keepdims=False):
    """The largest element (along ``axis``). Its gradient goes to the largest element;
    elements that tie for the largest share it evenly, as in JAX."""
    return apply(TABLE["max"], x, axis=_axis(axis), keepdims=bool(keepdims))


def min(x, axis=None, keepdims=False):
    """The smallest element (along ``axis``); ties share the gradient evenly, as in JAX."""
    return apply(TABLE["min"], x, axis=_axis(axis), keepdims=bool(keepdims))


def logsumexp(x, axis=None, keepdims=False):
    """``log(sum(exp(x)))`` (along ``axis``), computed stably: logsumexp([1000, 1000]) = 1000 + log 2."""
    return apply(TABLE["logsumexp"], x, axis=_axis(axis), keepdims=bool(keepdims))


def softmax(x, axis=-1):
    """``exp(x) / sum(exp(x))`` along ``axis`` (an int, a tuple or None: all of them),
    computed stably (no overflow for large x)."""
    return apply(TABLE["softmax"], x, axis=_axis(axis))


def log_softmax(x, axis=-1):
    """``x - logsumexp(x)`` along ``axis``: the log of the softmax, without computing the softmax."""
    return apply(TABLE["log_softmax"], x, axis=_axis(axis))


def concatenate(xs, axis=0):
    """Join arrays along an existing ``axis`` (``np.concatenate``)."""
    xs = list(xs)
    if not xs:
        raise ShapeError("concatenate: needs at least one array, got an empty sequence")
    for k, x in enumerate(xs):
        if np.ndim(_value(x)) == 0:
            raise ShapeError(f"concatenate: input {k + 1} is a scalar; it joins arrays along an existing "
                             "axis (to make an array from scalars use ad.stack)")
    return apply(TABLE["concatenate"], *xs, axis=_axis(axis))


def where(cond, x, y):
    """``x`` where ``cond`` is true, ``y`` elsewhere (``np.where``). ``cond`` is not differentiated."""
    cond = np.asarray(_value(cond))
    if cond.dtype != bool:
        cond = cond != 0
    return apply(TABLE["where"], x, y, cond=cond)


def stop_gradient(x):
    """``x`` itself, but treated as a constant by every derivative (its partial is 0)."""
    return apply(TABLE["stop_gradient"], x)


def _axis(axis):
    """An axis argument as NumPy takes it (None, an int or a tuple of ints), never differentiated."""
    if axis is None:
        return None
    try:
        if isinstance(axis, (tuple, list)):
            return tuple(operator.index(a) for a in axis)
        return operator.index(axis)
    except TypeError:
        raise ADTypeError(f"axis must be None, an int or a tuple of ints, got {type(axis).__name__}") from None


dot = matmul


# The NumPy protocol (np.sin(x), np.array([x, y]), x.sum(), ...) is machinery: it lives in
# arraylike.py and is re-exported here, where the rest of the package has always found it.
from .arraylike import ArrayLike, array_ufunc, from_objects  # noqa: E402
