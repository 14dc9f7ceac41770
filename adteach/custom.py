"""``custom_vjp``: a reverse-mode rule written in user code, with JAX's API.

    @ad.custom_vjp
    def clip_gradient(x):
        return x

    def fwd(x):
        return x, None                   # (output, residuals saved for bwd)

    def bwd(res, g):
        return (np.clip(g, -1, 1),)      # one cotangent per input of clip_gradient

    clip_gradient.defvjp(fwd, bwd)

Called on plain numbers, ``clip_gradient`` is the function itself. Called on
Vars (inside ``grad``, ``vjp``, ``jacrev``, ``hessian``), ``fwd`` computes the
output and the residuals, and one node is recorded whose vector-Jacobian product
is ``bwd``: one primitive, made from user code, like the entries of the table.

``fwd`` runs on the Vars themselves, so residuals that depend on the inputs stay
differentiable: ``grad(grad(f))`` differentiates ``bwd`` as well (JAX does the
same). Forward mode (``jvp``, ``jacfwd``) is refused with a clear error, as in
JAX: a reverse-mode rule says nothing about tangents (``ForwardModeUnavailable``,
an ``ADError``).

The views show the rule: ``ad.trace`` gives the node one row (named by the
function) whose adjoints come from ``bwd``, and writes its tangent, and those of
the operations that depend on it, as "n/a"; the drawings label its edges "bwd";
``ad.check_grad`` compares the reverse-mode gradient, which uses ``bwd``, with
central differences. ``rule_of(prim)`` tells a custom node's primitive from the
table's.
"""
from __future__ import annotations

import functools

import numpy as np

from . import primitives as P
from . import pytree
from .primitives import ADError, ADTypeError, ShapeError

__all__ = ["custom_vjp", "ForwardModeUnavailable", "rule_of"]


class ForwardModeUnavailable(ADError):
    """Forward mode met a ``custom_vjp``: it has a reverse-mode rule only. ``function`` is its name."""

    def __init__(self, function):
        self.function = function
        super().__init__(_FORWARD.format(name=function))


def _traced(x):
    return hasattr(type(x), "_ad_apply")


def _is_dual(x):
    return type(x).__name__ == "Dual" and _traced(x)


class custom_vjp:
    """Decorate a function to give it a hand-written reverse-mode rule (``defvjp(fwd, bwd)``)."""

    def __init__(self, fun):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.fwd = None
        self.bwd = None
        self._prims = {}  # one primitive per number of inputs
        self._in_fwd = 0  # fwd may call the function itself (JAX's examples do): then it is just fun

    def defvjp(self, fwd, bwd):
        """``fwd(*args) -> (output, residuals)``; ``bwd(residuals, g) -> tuple of cotangents, one per input``."""
        if not callable(fwd) or not callable(bwd):
            raise ADTypeError(f"custom_vjp {self.__name__}: defvjp(fwd, bwd) takes two functions")
        self.fwd, self.bwd = fwd, bwd

    def __call__(self, *args, **kwargs):
        name = self.__name__
        if kwargs:
            raise ADTypeError(f"custom_vjp {name}: pass the inputs positionally (one cotangent per input); "
                              f"got keyword argument(s) {', '.join(kwargs)}")
        leaves = [leaf for a in args for leaf in pytree.flatten(a)[0]]
        if any(_has_dual(leaf) for leaf in leaves):
            raise ForwardModeUnavailable(name)
        if self._in_fwd or not any(_traced(leaf) for leaf in leaves):
            return self.fun(*args)
        if self.fwd is None:
            raise ADError(f"custom_vjp {name}: call {name}.defvjp(fwd, bwd) before differentiating it")
        for k, a in enumerate(args):
            if pytree.is_container(a):
                raise ADTypeError(f"custom_vjp {name}: input {k + 1} is a {type(a).__name__}; "
                                  "each input must be one number or array")
        self._in_fwd += 1
        try:
            pair = self.fwd(*args)
        finally:
            self._in_fwd -= 1
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise ADTypeError(f"custom_vjp {name}: fwd must return a pair (output, residuals), "
                              f"got {type(pair).__name__}")
        out, res = pair
        if pytree.is_container(out) or out is None:
            raise ADTypeError(f"custom_vjp {name}: fwd must return one number or array as its output, "
                              f"got {type(out).__name__}")
        value = P._value(out)
        return P.apply(self._prim(len(args)), *args, res=res, value=value, cache=[])

    def _prim(self, n):
        if n not in self._prims:
            name = self.__name__
            self._prims[n] = P.Primitive(
                name, lambda *xs, res, value, cache: value, f"{name}({{all}})",
                f"\\operatorname{{{{{_latex_name(name)}}}}}({{all}})", vjp=self._vjp, jvp=self._refuse_jvp,
                labels=("bwd",) if n == 1 else tuple(f"bwd[{i}]" for i in range(n)), nargs=n)
        return self._prims[n]

    def _refuse_jvp(self, tangents, *inputs, out, **aux):
        raise ForwardModeUnavailable(self.__name__)

    def _vjp(self, g, i, *inputs, out, res, value, cache):
        """Input i's cotangent from bwd (called once per adjoint, shared by the inputs)."""
        name = self.__name__
        create_graph = _traced(out)  # the sweep records itself: keep the residuals differentiable
        if not (cache and cache[0] is g and cache[1] == create_graph):
            r = res if create_graph else pytree.tree_map(_plain, res)
            cts = self.bwd(r, g)
            if not isinstance(cts, (tuple, list)) or len(cts) != len(inputs):
                got = f"a {type(cts).__name__} of length {len(cts)}" if isinstance(cts, (tuple, list)) \
                    else f"a {type(cts).__name__}"
                one = " (write `return (g,)` for one input)" if len(inputs) == 1 else ""
                raise ADTypeError(f"custom_vjp {name}: bwd must return a tuple with one cotangent per input "
                                  f"({len(inputs)}), got {got}{one}")
            cache[:] = [g, create_graph, cts]
        ct = cache[2][i]
        shape = np.shape(P._value(inputs[i]))
        if ct is None:
            return np.zeros(shape) if shape else 0.0
        if np.shape(P._value(ct)) != shape:
            raise ShapeError(f"custom_vjp {name}: bwd's cotangent {i + 1} has shape {np.shape(P._value(ct))} "
                             f"but input {i + 1} has shape {shape}")
        if create_graph:
            return ct
        ct = _plain(ct)
        return np.asarray(ct, dtype=float) if shape else float(ct)


_FORWARD = ("custom_vjp {name}: it has a reverse-mode rule only (defvjp), so forward mode (jvp, jacfwd) cannot "
            "differentiate it; use grad, vjp or jacrev (JAX refuses too: forward mode needs a custom_jvp)")


def _latex_name(name):
    return name.replace("_", "\\_")  # \operatorname{clip\_gradient}


def rule_of(prim):
    """The ``custom_vjp`` whose node ``prim`` makes, or None for a primitive of the table."""
    owner = getattr(getattr(prim, "jvp", None), "__self__", None)
    return owner if isinstance(owner, custom_vjp) else None


def _has_dual(x):
    while _traced(x):
        if _is_dual(x):
            return True
        x = x.value
    return False


def _plain(x):
    return P._value(x) if _traced(x) else x
