"""Forward mode: dual numbers carry a value and a tangent through the computation.

``Dual(1.5, 1.0)`` is the number 1.5 together with its derivative along the
chosen direction (the *tangent*, written x' or x-dot). Each primitive of the
table produces its value and, by the chain rule, its tangent:

    out' = sum_i  (d out / d input_i) * input_i'

using the same ``partials`` entries that reverse mode uses. One pass gives the
derivative of every intermediate and of the output along one input direction:
a Jacobian *column* per pass (reverse mode gives a *row* per pass).

Structural primitives (sum, reshape, stack...) are linear, so the tangent is the
primitive applied to the tangents; for matmul (linear in each input separately)
it is a' @ b + a @ b'. The few structural ones that are not linear (max,
logsumexp, softmax...) bring their own tangent rule, ``jvp`` in the table.

Tags: which ``jvp`` does a tangent belong to?
----------------------------------------------
Nested forward mode needs each tangent to remember its ``jvp``. Take

    d/dx [ x * d/dy (x + y) ]   at x = 1 (the answer is 1: d/dy (x + y) = 1)

The outer jvp seeds ``x = Dual(1, 1, tag=1)``; the inner one seeds
``y = Dual(y0, 1, tag=2)``. In ``x + y`` the newest tag (2) is on the outside:
``x`` counts as a constant for tag 2, so the sum is
``Dual(value=x + y0, tangent=1, tag=2)`` whose value is itself the tag-1 Dual
``Dual(1 + y0, 1, tag=1)``. The inner jvp takes the tag-2 tangent: 1, a plain
number. Then ``x * 1`` has tag-1 tangent 1: the right answer. Without tags the
inner jvp would see x's tangent too (1 + 1 = 2) and the result would be 2: this
is *perturbation confusion*.

The rule is one line of ``_ad_apply``: among the arguments, the Duals with the
highest tag are opened (value and tangent); every other argument, including a
Dual of an older tag, is a constant, and the primitive is applied again to the
values, where the older Duals are opened in turn. ``Dual(1.5, 1.0)`` written by
hand has tag 0; each ``jvp`` takes a new, higher tag.

A Dual may hold Vars (``grad`` of a function that uses ``jvp``), and ``grad``
of a function called on Duals (``jvp(grad(f))``) puts its Var inside the Dual
and differentiates the value and the tangent separately (see transforms.py).
"""
from __future__ import annotations

import numpy as np

from . import primitives as P
from .arraylike import ArrayLike
from .errors import ShapeError, as_value as _as_value
from .tape import _fmt

__all__ = ["Dual"]


class Dual(ArrayLike):
    """A value with a tangent: ``Dual(value, tangent)``.

    ``x = Dual(1.5, 1.0); y = Dual(0.5, 0.0)`` seeds x: afterwards ``f(x, y).tangent``
    is df/dx. The names ``val`` and ``dot`` (as in many tutorials) also work.
    """

    __slots__ = ("value", "tangent", "tag")
    _ad_priority = 2  # a Dual may hold Vars inside (differentiating forward mode)

    def __init__(self, value, tangent=0.0, tag=0):
        self.tag = tag  # which jvp this tangent belongs to (see the module docstring)
        self.value = value if _is_traced(value) else _as_value(value)
        self.tangent = tangent if _is_traced(tangent) else _as_value(tangent)
        vs, ts = np.shape(P._value(self.value)), np.shape(P._value(self.tangent))
        if ts != vs:
            if ts == () and not _is_traced(self.tangent):  # a scalar tangent for an array value
                self.tangent = self.tangent * np.ones(vs)
            else:
                raise ShapeError(f"Dual: the tangent has shape {ts} but the value has shape {vs}")

    val = property(lambda self: self.value)
    dot = property(lambda self: self.tangent)

    @staticmethod
    def _ad_apply(prim, args, aux):
        aux = aux or {}  # (None: no auxiliary arguments)
        tag = max(a.tag for a in args if type(a) is Dual)  # the newest jvp is opened first
        mine = [type(a) is Dual and a.tag == tag for a in args]
        values = [a.value if m else a for a, m in zip(args, mine)]
        out = P.apply(prim, *values, **aux)
        if prim.jvp is not None:  # structural but not linear (max, softmax...): its own tangent rule
            tangents = [a.tangent if m else None for a, m in zip(args, mine)]
            return Dual(out, prim.jvp(tangents, *values, out=out, **aux), tag)
        if prim.vjp is not None and not prim.multilinear:  # linear: apply it to the tangents
            tangents = [a.tangent if m else 0.0 * a for a, m in zip(args, mine)]
            return Dual(out, P.apply(prim, *tangents, **aux), tag)
        tangent = None
        for i, a in enumerate(args):
            if not mine[i] or (type(a.tangent) is float and a.tangent == 0.0):
                continue  # a constant, or a zero tangent: nothing to add (x**p needs no d/dp then)
            if prim.vjp is not None:  # multilinear: a' @ b + a @ b'
                swapped = list(values)
                swapped[i] = a.tangent
                part = P.apply(prim, *swapped, **aux)
            else:  # elementwise: the chain rule on edge i, tangent * d out / d input_i
                part = prim.chains[i](a.tangent, values, out)
            tangent = part if tangent is None else tangent + part
        shape = np.shape(P._value(out))
        if tangent is None:
            tangent = 0.0
        if np.shape(P._value(tangent)) != shape:
            tangent = P.broadcast_to(tangent, shape)
        return Dual(out, tangent, tag)

    def __repr__(self):
        tag = f", tag={self.tag}" if self.tag else ""
        return f"Dual(value={_fmt(P._value(self.value))}, tangent={_fmt(P._value(self.tangent))}{tag})"

    __add__ = lambda s, o: P.add(s, o)
    __radd__ = lambda s, o: P.add(o, s)
    __sub__ = lambda s, o: P.sub(s, o)
    __rsub__ = lambda s, o: P.sub(o, s)
    __mul__ = lambda s, o: P.mul(s, o)
    __rmul__ = lambda s, o: P.mul(o, s)
    __truediv__ = lambda s, o: P.div(s, o)
    __rtruediv__ = lambda s, o: P.div(o, s)
    __pow__ = lambda s, o: P.pow(s, o)
    __rpow__ = lambda s, o: P.pow(o, s)
    __neg__ = lambda s: P.neg(s)
    __pos__ = lambda s: s


def _is_traced(x):
    return hasattr(type(x), "_ad_apply")
