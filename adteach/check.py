"""Numerical differentiation and gradient checking.

Central differences approximate a derivative with two evaluations:

    f'(x) ~ (f(x + eps) - f(x - eps)) / (2 eps)

with an error of order eps**2 (truncation) plus about machine_eps / eps
(round-off), so eps ~ 1e-6 is a good compromise in float64. ``check_grad``
compares reverse mode, forward mode and central differences input by input and
says which one disagrees, by how much.
"""
from __future__ import annotations

import html
import numbers
from dataclasses import dataclass

import numpy as np

from . import primitives as P
from .tape import _as_value
from .transforms import _argnums_tuple, _param_names, grad, jacfwd

__all__ = ["numerical_diff", "numerical_grad", "check_grad", "GradCheck"]


def numerical_diff(f, x, eps=1e-6):
    """Central difference of a one-argument scalar function at x."""
    return (f(x + eps) - f(x - eps)) / (2 * eps)


def numerical_grad(f, *args, argnums=0, eps=1e-6):
    """Central-difference gradient of scalar ``f`` with respect to ``args[argnums]``.

    Works element by element for array arguments. Returns a float or an array
    shaped like the argument (a tuple for tuple ``argnums``).
    """
    nums = _argnums_tuple(argnums, len(args), "numerical_grad")
    values = [_as_value(a) for a in args]
    results = []
    for i in nums:
        x = np.array(values[i], dtype=float)
        g = np.zeros_like(x)
        for k in np.ndindex(x.shape):
            def shifted(h):
                xs = x.copy()
                xs[k] += h
                call = list(values)
                call[i] = xs if xs.ndim else float(xs)
                return float(P._value(f(*call)))
            g[k] = (shifted(eps) - shifted(-eps)) / (2 * eps)
        results.append(g if g.ndim else float(g))
    return results[0] if isinstance(argnums, numbers.Integral) else tuple(results)


@dataclass
class GradCheck:
    """The result of ``check_grad``: one row per input; truthy when all agree."""
    function: str
    names: list
    reverse: list
    forward: list
    numerical: list
    errors: list
    rtol: float
    atol: float

    @property
    def ok(self) -> bool:
        return all(e["ok"] for e in self.errors)

    def __bool__(self):
        return self.ok

    def _rows(self):
        fmt = lambda v: (f"{float(v):.10g}" if np.ndim(v) == 0
                         else np.array2string(np.asarray(v), precision=6, threshold=6, separator=", ").replace("\n", ""))
        for name, r, f, n, e in zip(self.names, self.reverse, self.forward, self.numerical, self.errors):
            yield name, fmt(r), fmt(f), fmt(n), f"{e['max_abs']:.2e}", "ok" if e["ok"] else "MISMATCH"

    _HEAD = ("input", "reverse", "forward", "numerical", "max |diff|", "")

    def __str__(self):
        rows = [self._HEAD, *self._rows()]
        widths = [max(len(r[c]) for r in rows) for c in range(len(self._HEAD))]
        lines = [f"check_grad({self.function}): {'all gradients agree' if self.ok else 'GRADIENTS DISAGREE'}"
                 f" (rtol={self.rtol:g}, atol={self.atol:g})"]
        lines += ["  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self):
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self._HEAD)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in self._rows())
        verdict = "all gradients agree" if self.ok else "<b>gradients disagree</b>"
        return (f"<div><p><code>check_grad({html.escape(self.function)})</code>: {verdict}</p>"
                f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")


def check_grad(f, *args, argnums=None, eps=1e-6, rtol=1e-5, atol=1e-7):
    """Compare reverse mode, forward mode and central differences for scalar ``f``.

    Returns a ``GradCheck`` report (truthy when everything agrees) that prints
    as a table. A gradient passes when |analytic - numerical| <= atol + rtol*|numerical|
    for every element, for both modes.
    """
    nums = tuple(range(len(args))) if argnums is None else _argnums_tuple(argnums, len(args), "check_grad")
    names = _param_names(f, len(args))
    rev = grad(f, argnums=nums)(*args)
    fwd = jacfwd(f, argnums=nums)(*args)
    num = numerical_grad(f, *args, argnums=nums, eps=eps)
    errors = []
    for r, fw, n in zip(rev, fwd, num):
        r, fw, n = (np.asarray(v, dtype=float) for v in (r, fw, n))
        diff = max(float(np.max(np.abs(r - n), initial=0.0)), float(np.max(np.abs(fw - n), initial=0.0)))
        ok = bool(np.all(np.abs(r - n) <= atol + rtol * np.abs(n)) and np.all(np.abs(fw - n) <= atol + rtol * np.abs(n)))
        errors.append({"max_abs": diff, "ok": ok})
    return GradCheck(getattr(f, "__name__", "f"), [names[i] for i in nums], list(rev), list(fwd),
                     list(num), errors, rtol, atol)
