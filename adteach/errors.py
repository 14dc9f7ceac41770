"""Errors: adteach's exception classes, and how bad input becomes a clear message.

No silent wrong numbers: adteach either gives the right answer or raises one of
the errors below, with a message that names the operation, the input and what
was expected. Two places produce those messages:

* ``as_value`` checks an input before it enters a computation (a number or an
  array of reals; a list holding Vars, a string or a complex array is refused);
* ``evaluate`` computes a primitive's value from plain numbers, runs the
  primitive's domain ``check`` first, and translates whatever NumPy or ``math``
  raises (``ValueError: math domain error``, an ``AxisError``, an overflow...)
  into ``DomainError``, ``ShapeError`` or ``ADTypeError`` naming the primitive.

This is machinery: the idea of automatic differentiation is in primitives.py,
tape.py and forward.py, which call these two functions.
"""
from __future__ import annotations

import numpy as np

__all__ = ["ADError", "DomainError", "ShapeError", "ADTypeError", "ShapeProblem", "as_value", "evaluate"]


class ADError(Exception):
    """Base class of every error adteach raises on purpose."""


class DomainError(ADError, ValueError):
    """A value (or a derivative) is undefined at the given input."""


class ShapeError(ADError, ValueError):
    """Array shapes that an operation cannot combine."""


class ADTypeError(ADError, TypeError):
    """An input of a type adteach cannot differentiate (a string, a list of Vars...)."""


class ShapeProblem(str):
    """A check's message that is about shapes (raised as ShapeError)."""


def as_value(x, where=None):
    """An input as adteach computes with it: plain numbers become floats, sequences float arrays.

    ``where`` (an operation's name, "jvp: argument 2"...) starts the message of a refusal.
    """
    if type(x) is float:
        return x
    if isinstance(x, (bool, int, float, np.integer, np.floating)):
        return float(x)
    prefix = f"{where}: " if where else ""
    if isinstance(x, (list, tuple, np.ndarray)):
        if (isinstance(x, (list, tuple)) or x.dtype == object) and any(
                hasattr(type(e), "_ad_apply") for e in np.ravel(np.array(x, dtype=object)) if e is not None):
            kind = "a list" if isinstance(x, (list, tuple)) else "a NumPy object array"
            raise ADTypeError(f"{prefix}{kind} holding Vars would lose their derivatives: "
                              "combine them with ad.stack([...])")
        if np.iscomplexobj(x):
            raise ADTypeError(f"{prefix}adteach works with real numbers, not complex arrays: {_clip(x)}")
        try:
            return np.asarray(x, dtype=float)
        except (TypeError, ValueError):
            raise ADTypeError(f"{prefix}cannot make a float array from {type(x).__name__} {_clip(x)} "
                              "(to combine Vars into an array use ad.stack)") from None
    raise ADTypeError(f"{prefix}adteach works with numbers and NumPy arrays, not {type(x).__name__}: {_clip(x)}")


def _clip(x, n=60):
    text = repr(x)
    return text if len(text) <= n else text[:n] + "..."


def evaluate(prim, values, aux, names=None):
    """Compute a primitive's value from plain numbers, with a clear error on bad input (``aux``: None or a dict)."""
    if prim.check is not None:
        problem = prim.check(*values)
        if problem:
            cls = ShapeError if isinstance(problem, ShapeProblem) else DomainError
            raise _error(cls, prim, problem, values, names)
    try:
        return prim.fn(*values, **(aux or {}))
    except np.exceptions.AxisError as exc:
        raise _error(ShapeError, prim, str(exc), values, names) from None
    except ValueError as exc:
        if any(word in str(exc) for word in ("broadcast", "shape", "size", "dimension")):
            shapes = " and ".join(str(np.shape(v)) for v in values)
            raise _error(ShapeError, prim, f"shapes {shapes} cannot be combined ({exc})", values, names) from None
        raise _error(DomainError, prim, str(exc), values, names) from None
    except (OverflowError, FloatingPointError) as exc:
        hint = " (ad.logsumexp and ad.softmax sum exponentials without overflow)" if prim.name == "exp" else ""
        raise _error(DomainError, prim, f"the result overflows: it is larger than the largest float64, "
                     f"{np.finfo(float).max:.4g}{hint}", values, names) from None
    except (ArithmeticError, IndexError) as exc:
        cls = ShapeError if isinstance(exc, IndexError) else DomainError
        raise _error(cls, prim, f"{type(exc).__name__}: {exc}", values, names) from None
    except TypeError as exc:
        types = ", ".join(type(v).__name__ for v in values)
        raise _error(ADTypeError, prim, f"unsupported input types ({types}): {exc}", values, names) from None


def _error(cls, prim, problem, values, names):
    shown = []
    for k, v in enumerate(values):
        label = names[k] if names and names[k] else f"input {k + 1}"
        shown.append(f"{label} = {_short(v)}")
    return cls(f"{prim.name}: {problem}; got {', '.join(shown)}")


def _short(v):
    if np.ndim(v) == 0:
        return f"{float(v):.6g}" if isinstance(v, (int, float, np.number)) else repr(v)
    return f"array of shape {np.shape(v)}"
