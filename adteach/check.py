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
from .custom import ForwardModeUnavailable, rule_of
from .notation import NA_TEXT
from .tape import _as_value
from .transforms import _argnums_tuple, _param_names, grad, jacfwd

__all__ = ["numerical_diff", "numerical_grad", "check_grad", "GradCheck"]


def numerical_diff(f, x, eps=1e-6):
    """Central difference of a one-argument scalar function at x."""
    return (f(x + eps) - f(x - eps)) / (2 * eps)


_MACHINE_EPS = np.finfo(float).eps
_BASE_STEP = float(np.cbrt(_MACHINE_EPS))  # ~6.1e-6: balances truncation (h**2) against round-off (eps/h)


def _steps(x, eps):
    """The step per element: ``eps`` if given, else scaled to the input (h = 6.1e-6 * max(1, |x|))."""
    if eps is not None:
        return np.full(np.shape(x), float(eps))
    return np.array(_BASE_STEP * np.maximum(1.0, np.abs(x)), dtype=float)


def _evaluator(f, values, i):
    """f as a function of element k of argument i shifted by h; nan where f is undefined there."""
    base = np.array(values[i], dtype=float)

    def at(k, h):
        xs = base.copy()
        xs[k] += h
        call = list(values)
        call[i] = xs if xs.ndim else float(xs)
        try:
            with np.errstate(all="ignore"):
                y = float(P._value(f(*call)))
        except (ArithmeticError, ValueError, P.ADError):
            return float("nan")
        return y if np.isfinite(y) else float("nan")
    return base, at


def _difference(at, k, h0):
    """(estimate, its uncertainty, the step used, how) for element k.

    Central differences at four steps h0, h0/10, h0/100, h0/1000: the step whose
    estimate agrees best with the next smaller one is used, and twice their gap
    (plus the round-off bound 4*eps*|f|/h) is the estimate's uncertainty. Near a domain
    edge the steps that leave the domain are skipped (the four start at the first
    that stays inside); if none does, a second-order one-sided difference is used.
    """
    central = []
    for j in range(16):  # from h0 down: near a domain edge the first steps may leave the domain
        h = h0 * 10.0 ** -j
        up, down = at(k, h), at(k, -h)
        if np.isfinite(up) and np.isfinite(down):
            central.append(((up - down) / (2 * h), 4 * _MACHINE_EPS * (abs(up) + abs(down)) / (2 * h), h))
        if len(central) == 4:
            break
    if len(central) >= 2:
        gaps = [2 * abs(a[0] - b[0]) + a[1] for a, b in zip(central, central[1:])]
        j = int(np.argmin(gaps))
        return central[j][0], gaps[j], central[j][2], "central"
    if central:
        est, roundoff, h = central[0]
        return est, roundoff + abs(est) * 1e-3, h, "central"
    mid = at(k, 0.0)
    for h in (h0, h0 / 100):
        for sign, name in ((1.0, "forward"), (-1.0, "backward")):  # second-order one-sided differences
            f1, f2 = at(k, sign * h), at(k, 2 * sign * h)
            if np.isfinite(mid) and np.isfinite(f1) and np.isfinite(f2):
                est = sign * (-3 * mid + 4 * f1 - f2) / (2 * h)
                return est, 8 * _MACHINE_EPS * (abs(mid) + abs(f1) + abs(f2)) / h + abs(h * est), h, name
    return float("nan"), float("nan"), h0, "undefined"


def _numerical(f, args, nums, eps):
    """Per argument in ``nums``: (estimate, uncertainty, steps, how) arrays shaped like it."""
    values = [_as_value(a) for a in args]
    results = []
    for i in nums:
        base, at = _evaluator(f, values, i)
        steps = _steps(base, eps)
        est, unc, how = np.zeros_like(base), np.zeros_like(base), np.empty(base.shape, dtype=object)
        for k in np.ndindex(base.shape):
            est[k], unc[k], steps[k], how[k] = _difference(at, k, float(steps[k]))
        results.append((est, unc, steps, how))
    return results


def numerical_grad(f, *args, argnums=0, eps=1e-6):
    """Central-difference gradient of scalar ``f`` with respect to ``args[argnums]``.

    Works element by element for array arguments, with the step ``eps`` (the
    lessons' 1e-6; ``eps=None`` scales it to each input, h = 6.1e-6 * max(1, |x|),
    the cube root of machine epsilon, as ``check_grad`` does). Returns a float or
    an array shaped like the argument (a tuple for tuple ``argnums``).
    """
    nums = _argnums_tuple(argnums, len(args), "numerical_grad")
    values = [_as_value(a) for a in args]
    results = []
    for i in nums:
        base, at = _evaluator(f, values, i)
        steps = _steps(base, eps)
        g = np.zeros_like(base)
        for k in np.ndindex(base.shape):
            h = float(steps[k])
            g[k] = (at(k, h) - at(k, -h)) / (2 * h)
        results.append(g if g.ndim else float(g))
    return results[0] if isinstance(argnums, numbers.Integral) else tuple(results)


@dataclass
class GradCheck:
    """The result of ``check_grad``: one row per input; truthy when no input disagrees.

    ``errors[i]["status"]`` is ``"ok"``; ``"ok (numerical error)"`` when the modes differ
    from the numerical estimate by more than the tolerance but by less than that
    estimate's own uncertainty (round-off or truncation: the numbers cannot
    judge); ``"MISMATCH"``; or ``"not checked"`` when f is undefined on both
    sides of the input (a domain edge) so no difference could be formed.
    """
    function: str
    names: list
    reverse: list
    forward: list
    numerical: list
    errors: list
    rtol: float
    atol: float
    steps: list = None
    note: str = None  # why a column is missing (forward mode through a custom_vjp), printed under the table

    @property
    def ok(self) -> bool:
        return all(e["ok"] for e in self.errors)

    def __bool__(self):
        return self.ok

    def _rows(self):
        fmt = lambda v: (NA_TEXT if v is None else f"{float(v):.10g}" if np.ndim(v) == 0
                         else np.array2string(np.asarray(v), precision=6, threshold=6, separator=", ").replace("\n", ""))
        steps = self.steps or [None] * len(self.names)
        for name, r, f, n, e, h in zip(self.names, self.reverse, self.forward, self.numerical, self.errors, steps):
            step = "" if h is None else f"{float(np.max(h)):.1e}"
            yield name, fmt(r), fmt(f), fmt(n), step, f"{e['max_abs']:.2e}", e.get("status", "ok" if e["ok"] else "MISMATCH")

    _HEAD = ("input", "reverse", "forward", "numerical", "step", "max |diff|", "")

    def _verdict(self):
        if any(e.get("status") == "MISMATCH" for e in self.errors):
            return "GRADIENTS DISAGREE"
        if not self.ok:
            return "could not check every input"
        if any(e.get("status") == "ok (numerical error)" for e in self.errors):
            return "all gradients agree (within the numerical estimate's own error)"
        return "all gradients agree"

    def __str__(self):
        rows = [self._HEAD, *self._rows()]
        widths = [max(len(r[c]) for r in rows) for c in range(len(self._HEAD))]
        lines = [f"check_grad({self.function}): {self._verdict()} (rtol={self.rtol:g}, atol={self.atol:g})"]
        lines += ["  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
        lines += [f"  {name}: {e['reason']}" for name, e in zip(self.names, self.errors) if e.get("reason")]
        if self.note:
            lines.append(f"  {self.note}")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self):
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self._HEAD)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in self._rows())
        verdict = html.escape(self._verdict()) if self.ok else f"<b>{html.escape(self._verdict().lower())}</b>"
        notes = [f"{name}: {e['reason']}" for name, e in zip(self.names, self.errors) if e.get("reason")]
        notes += [self.note] if self.note else []
        foot = "".join(f"<p><i>{html.escape(n)}</i></p>" for n in notes)
        return (f"<div><p><code>check_grad({html.escape(self.function)})</code>: {verdict}</p>"
                f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{foot}</div>")


def check_grad(f, *args, argnums=None, eps=None, rtol=1e-5, atol=1e-7):
    """Compare reverse mode, forward mode and central differences for scalar ``f``.

    Returns a ``GradCheck`` report (truthy when nothing disagrees) that prints as
    a table, with the step used for each input (``eps``, or scaled to the input
    when ``eps=None``). A gradient passes when |analytic - numerical| <=
    atol + rtol*|numerical| for every element, for both modes. A difference
    smaller than the numerical estimate's own error (round-off, measured by
    repeating the difference with step 2h) is reported as such, not as a
    mismatch. Near a domain edge (``log`` at 1e-9) a one-sided difference is
    used; where f is undefined on both sides the input is reported "not checked".

    A function using a ``custom_vjp`` is checked too: its reverse-mode gradient uses
    the hand-written rule (``bwd``) and is compared with central differences of the
    function's values; forward mode has no rule for it, so that column reads "n/a"
    and a note says why. A wrong ``bwd`` is reported as a MISMATCH on the inputs it
    gets wrong, with a reason naming the rule. So is a rule that differs from the
    true derivative on purpose (a clipped gradient, where the adjoint is clipped):
    that is the correct verdict, the numbers are the derivative of the function's
    values, and the rule is not; check such a rule where it does not clip, or
    against the gradient it is meant to give.
    """
    nums = tuple(range(len(args))) if argnums is None else _argnums_tuple(argnums, len(args), "check_grad")
    names = _param_names(f, len(args))
    numeric = _numerical(f, args, nums, eps)
    rules, note = (), None
    try:
        rev = grad(f, argnums=nums)(*args)
        try:
            fwd = jacfwd(f, argnums=nums)(*args)
        except ForwardModeUnavailable as refused:  # a custom_vjp: a reverse-mode rule only
            rules = _custom_rules(f, args) or (refused.function,)
            fwd = [None] * len(nums)
            which = ", ".join(rules)
            note = (f"forward: {NA_TEXT}: {which} {'has' if len(rules) < 2 else 'have'} a reverse-mode rule "
                    "(custom_vjp's bwd) and no tangent rule, so forward mode cannot differentiate "
                    f"{_name_of(f)}; reverse mode uses the rule and is compared with the numerical column")
    except P.DomainError as e:  # the derivative itself is undefined here (sqrt at 0): report, do not crash
        nan = [np.full(np.shape(n), np.nan) for n, *_ in numeric]
        errors = [{"max_abs": float("nan"), "ok": False, "status": "not checked", "reason": str(e)} for _ in nums]
        return GradCheck(_name_of(f), [names[i] for i in nums], nan, nan,
                         [n for n, *_ in numeric], errors, rtol, atol, [h for _, _, h, _ in numeric])
    errors, num, steps = [], [], []
    for r, fw, (n, unc, h, how) in zip(rev, fwd, numeric):
        r = np.asarray(r, dtype=float)
        fw = r if fw is None else np.asarray(fw, dtype=float)  # no forward column: reverse mode alone is compared
        diff = np.maximum(np.abs(r - n), np.abs(fw - n))
        checked = np.isfinite(n)
        close = diff <= atol + rtol * np.abs(n)
        noisy = ~close & (diff <= unc)
        modes_agree = bool(np.all(np.abs(r - fw) <= atol + rtol * np.abs(r)))
        reason = None
        if not modes_agree or np.any(checked & ~close & ~noisy):
            status, ok = "MISMATCH", False
            if rules:
                reason = (f"reverse mode, which uses the custom rule of {', '.join(rules)}, differs from the "
                          f"central difference by {float(np.max(np.where(checked, diff, 0.0))):.3g}: that rule's "
                          "bwd is wrong here, or differs from the true derivative on purpose (clipping)")
        elif not np.all(checked):
            status, ok = "not checked", False
            reason = f"{_name_of(f)} is undefined on both sides of this input, so no difference could be formed"
        elif np.any(noisy):
            status, ok = "ok (numerical error)", True
        else:
            status, ok = "ok", True
        max_abs = float(np.max(np.where(checked, diff, np.abs(r - fw)), initial=0.0))
        errors.append({"max_abs": max_abs, "ok": ok, "status": status, "reason": reason,
                       "method": sorted(set(np.ravel(how).tolist()))})
        num.append(n if n.ndim else float(n))
        steps.append(h if h.ndim else float(h))
    return GradCheck(_name_of(f), [names[i] for i in nums], list(rev), list(fwd),
                     num, errors, rtol, atol, steps, note)


def _custom_rules(f, args):
    """The names of the custom_vjp functions in the graph of f at args (in the order they ran)."""
    from .tape import Var, graph_nodes
    from .trace import evaluate
    try:
        out, _, _ = evaluate(f, args)
    except Exception:  # noqa: BLE001 - only for the report's wording: grad already ran f successfully
        return ()
    if type(out) is not Var:
        return ()
    return tuple(dict.fromkeys(n.prim.name for n in graph_nodes(out) if n.prim is not None and rule_of(n.prim)))


def _name_of(f):
    return getattr(f, "__name__", "f")
