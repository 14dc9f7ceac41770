"""The NumPy protocol: how ``Var`` and ``Dual`` behave like arrays.

Machinery, not the idea. ``ArrayLike`` is what ``Var`` (tape.py) and ``Dual``
(forward.py) share so that code written for NumPy arrays works on them:

* ``np.sin(x)``, ``array * x``: NumPy hands a call on a Var or Dual to
  ``__array_ufunc__``, which runs the matching primitive of the table (``_UFUNCS``)
  and refuses the rest with a clear message;
* ``x.T``, ``x.sum()``, ``x[0]``, ``len(x)``, ``x.exp()``...: each one primitive;
* comparisons, ``bool(x)`` and ``f"{x:.4f}"`` read the value (not differentiated);
  ``float(x)`` and ``math.sin(x)`` are refused, since they would drop the derivative;
* ``np.array([x, y])`` makes an object array of Vars; ``from_objects`` stacks such
  an array back into one traced array, so no derivative is lost.
"""
from __future__ import annotations

import math

import numpy as np

from .errors import ADTypeError, ShapeError
from .primitives import (_value, abs, add, cos, div, exp, getitem, log, matmul, max, maximum, mean, min, minimum,
                         mul, neg, pow, relu, reshape, sigmoid, sin, sqrt, stack, sub, sum, tan, tanh, transpose)

__all__ = ["ArrayLike", "array_ufunc", "from_objects"]


def from_objects(a):
    """A NumPy object array holding Vars or Duals (``np.array([x, y])``, ``np.where(c, x, 0)``)
    as one traced array: its elements stacked, so no derivative is lost. Anything else is returned as is."""
    if not (type(a) is np.ndarray and a.dtype == object):
        return a
    flat = list(a.ravel())
    if not any(hasattr(type(e), "_ad_apply") for e in flat):
        return a
    if a.ndim == 0:
        return flat[0]
    stacked = stack(flat)
    return reshape(stacked, a.shape + np.shape(_value(stacked))[1:])


# NumPy functions called on a Var or Dual (np.sin(x), array * x) come here through
# NumPy's __array_ufunc__ protocol and run as the matching primitive.
_UFUNCS = {np.add: add, np.subtract: sub, np.multiply: mul, np.true_divide: div, np.negative: neg,
           np.power: pow, np.exp: exp, np.log: log, np.sin: sin, np.cos: cos, np.tan: tan, np.tanh: tanh,
           np.sqrt: sqrt, np.absolute: abs, np.maximum: maximum, np.minimum: minimum, np.matmul: matmul,
           # one-liners over the primitives above (their derivatives follow from those)
           np.square: lambda x: mul(x, x), np.reciprocal: lambda x: div(1.0, x), np.positive: lambda x: x,
           np.fabs: abs, np.float_power: pow, np.exp2: lambda x: pow(2.0, x),
           np.log2: lambda x: div(log(x), math.log(2.0)), np.log10: lambda x: div(log(x), math.log(10.0)),
           np.conjugate: lambda x: x}  # conjugate: adteach's numbers are real
_COMPARE = {np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal}


def array_ufunc(self, ufunc, method, *inputs, **kwargs):
    """Route ``np.sin(x)``, ``array * x``... to adteach's primitives; refuse the rest clearly."""
    if method == "__call__" and not kwargs and ufunc in _UFUNCS:
        return _UFUNCS[ufunc](*inputs)
    if method == "__call__" and not kwargs and ufunc in _COMPARE:  # compares values, not differentiated
        return ufunc(*[_value(i) for i in inputs])
    name = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
    raise ADTypeError(
        f"numpy.{name} cannot differentiate through a {type(self).__name__}: use adteach's operations "
        f"(ad.sin, ad.exp, ad.sum, ...){' with no extra arguments' if kwargs else ''}, "
        "or take the number out with .value")


class ArrayLike:
    """What ``Var`` and ``Dual`` share: array conveniences, each one primitive of the table.

    ``x.T``, ``x.sum()``, ``x[0]``, ``x.exp()``... and the ordering comparisons
    ``<``, ``<=``, ``>``, ``>=``, which compare the values (for ``if x > 0:`` in user
    code) and are not differentiated. ``==`` and ``!=`` compare values too (a bool, or a
    bool array), as in NumPy, JAX and PyTorch; hashing stays by identity, so Vars can
    still be dict keys and set members. ``if x:`` follows NumPy's truth rules.
    ``float(x)`` (which ``math.sin(x)`` and ``np.float64(x)`` call) is refused: it
    would drop the derivative. ``f"{x:.4f}"`` formats the value.
    """
    __slots__ = ()
    __array_ufunc__ = array_ufunc  # np.sin(x), array * x: run as adteach primitives (see above)
    __hash__ = object.__hash__

    shape = property(lambda self: np.shape(_value(self)))
    ndim = property(lambda self: np.ndim(_value(self)))
    size = property(lambda self: np.size(_value(self)))
    T = property(lambda self: transpose(self))

    def sum(self, axis=None, keepdims=False, **numpy_options):
        _no_numpy_options("sum", numpy_options)  # np.sum(x) passes dtype=None, out=None
        return sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False, **numpy_options):
        _no_numpy_options("mean", numpy_options)
        return mean(self, axis, keepdims)

    def max(self, axis=None, keepdims=False, **numpy_options):
        _no_numpy_options("max", numpy_options)  # np.max(x) passes out=None
        return max(self, axis, keepdims)

    def min(self, axis=None, keepdims=False, **numpy_options):
        _no_numpy_options("min", numpy_options)
        return min(self, axis, keepdims)

    def reshape(self, *shape):
        return reshape(self, shape[0] if len(shape) == 1 else shape)

    def exp(self):
        return exp(self)

    def log(self):
        return log(self)

    def tanh(self):
        return tanh(self)

    def relu(self):
        return relu(self)

    def sigmoid(self):
        return sigmoid(self)

    def sin(self):  # np.sin(np.array([x, y])) calls x.sin() on each Var of an object array
        return sin(self)

    def cos(self):
        return cos(self)

    def tan(self):
        return tan(self)

    def sqrt(self):
        return sqrt(self)

    def __array__(self, dtype=None, copy=None):
        """NumPy asks for an array: a float array would drop the derivative, so only an object array of
        this value's elements (``np.array([x, y])``, ``np.where(c, x, 0)``); adteach stacks those back."""
        if dtype is not None and np.dtype(dtype) != object:
            raise ADTypeError(_DROPS.format(what=f"Making a {np.dtype(dtype)} array", kind=type(self).__name__,
                                            part=_PART[type(self).__name__]))
        out = np.empty(self.shape, dtype=object)
        if self.ndim == 0:
            out[()] = self
        else:
            for index in np.ndindex(self.shape):
                out[index] = getitem(self, index)
        return out

    def __getitem__(self, index):
        return getitem(self, index=index)

    def __len__(self):
        if not self.ndim:
            raise ShapeError(f"a scalar {type(self).__name__} has no length")
        return self.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def item(self) -> float:
        return float(np.asarray(_value(self)).item())

    def __bool__(self):  # `if x:` follows NumPy: a scalar (or one element) has a truth value, larger arrays do not
        v = _value(self)
        if np.size(v) != 1:
            raise ShapeError(
                f"the truth value of a {type(self).__name__} of shape {np.shape(v)} is ambiguous (NumPy's rule): "
                "use ad.sum(...), or (x.value > 0).any() / .all() on the numbers")
        return bool(np.asarray(v).reshape(()))

    def __float__(self):
        raise ADTypeError(_DROPS.format(what="float()", kind=type(self).__name__, part=_PART[type(self).__name__]))

    def __int__(self):
        raise ADTypeError(_DROPS.format(what="int()", kind=type(self).__name__, part=_PART[type(self).__name__]))

    def __index__(self):
        raise ADTypeError(f"a {type(self).__name__} cannot be used as an index or a count: use int(x.value) "
                          "for the number inside")

    def __complex__(self):
        raise ADTypeError(f"adteach works with real numbers: complex() of a {type(self).__name__} is not supported")

    def __eq__(self, other):  # compares the values, as NumPy, JAX and PyTorch do (not differentiated)
        return _value(self) == _value(other)

    def __ne__(self, other):
        return _value(self) != _value(other)

    def __format__(self, spec):  # f"{loss:.4f}" formats the value (a display, not a computation)
        return format(_value(self), spec)

    def __lt__(self, other):
        return _value(self) < _value(other)

    def __le__(self, other):
        return _value(self) <= _value(other)

    def __gt__(self, other):
        return _value(self) > _value(other)

    def __ge__(self, other):
        return _value(self) >= _value(other)

    def __matmul__(self, other):
        return matmul(self, other)

    def __rmatmul__(self, other):
        return matmul(other, self)

    def __abs__(self):
        return abs(self)


_DROPS = ("{what} of a {kind} drops its {part}: math.sin(x), math.exp(x), float(x) and np.float64(x) all "
          "make a plain number. Use ad.sin(...), ad.exp(...) instead of math.sin, math.exp, or x.value if you "
          "mean the number")
_PART = {"Var": "derivative", "Dual": "tangent (its derivative)"}


def _no_numpy_options(name, options):
    used = [k for k, v in options.items() if v is not None and not (k == "where" and v is True)]
    if used:
        raise ADTypeError(f"{name}: adteach does not support the NumPy option(s) {', '.join(used)}")
