"""Checks for exercise notebooks that tell a student what is wrong, and how.

Test cells call these helpers instead of bare ``assert``. Each one returns
quietly when the student's code is right, and otherwise raises
:class:`CheckFailed` (an ``AssertionError``) whose message

* starts with a verdict naming the function (``mul_backward is wrong for
  input x ...``, ``central_diff is not implemented yet ...``);
* says at which input, what was expected and what came back;
* for derivative code, says which rule is wrong by comparing with a numerical
  derivative and, where it can, WHAT the student's rule computes, found by
  matching the returned values against a small set of candidate expressions.

For example, ``check_backward(mul_backward, "mul", at=[(1.5, -2.0)])`` with
``mul_backward`` returning ``(g * x, g * y)`` fails with::

    mul_backward is wrong for input x, at g=0.7, x=1.5, y=-2:
      expected -1.4 (g times the numerical derivative of x*y), got 1.05
      Your mul_backward returns g*x for input x; the numerical derivative says g*y.
      The results for x and y look swapped.

Messages are deterministic (no memory addresses, fixed number formats) and a
few lines long, so they read well in a notebook and in a grading report.

The helpers
-----------
``call(fn, *args, name=None, may_change_inputs=False, **kwargs)``
    Call student code; a ``NotImplementedError`` becomes :class:`NotImplementedYet`
    ("mul_backward is not implemented yet: replace `raise NotImplementedError()`
    with your code"), any other exception a verdict naming the call and input.
``check_value(name, got, expected, *, at=None, rtol, atol, hint=None)``
    One value (number, array, tuple of numbers); ``hint`` may be a function of
    the value got, returning the hint (or None).
``check_below(name, value, limit, *, hint=None)``
    A value that must be a finite number strictly below a limit (a final loss).
``check_function(fn, cases, *, name=None, rtol, atol, candidates=None, hint=None)``
    ``cases`` is a list of ``(args, expected)``; ``candidates`` maps the
    description of a likely mistake to a function computing it.
``check_derivative(df, f, *, at, name=None, rtol, atol)``
    A student's derivative ``df(x)`` against the numerical derivative of ``f``.
``check_gradient(grad_fn, f, *, at, name=None, rtol, atol, hint=None)``
    A student's gradient ``grad_fn(*args)`` (one entry per argument, in a tuple,
    a list or a NumPy array) against the numerical gradient of scalar ``f(*args)``.
``check_backward(backward, op, *, at, g=(0.7, -1.3), name=None, rtol, atol)``
    A vector-Jacobian (backward) rule ``backward(g, *inputs)`` returning one
    value per input, against ``g`` times the numerical partial derivatives of
    ``op`` (a name such as ``"mul"`` or a function of plain numbers).
``check_forward_rule(rule, op, *, dual, at, tangents=None, name=None, rtol, atol)``
    A forward-mode (dual number) rule: the student's ``rule(*duals)`` must
    return a dual whose value is ``op(*values)`` and whose tangent is the
    directional derivative along the input tangents.
``check_differentiable(fn, *, at, name=None, culprit=None, rtol, atol)``
    ``ad.grad(fn)`` against the numerical derivative of ``fn`` itself: fails, with
    a hint about ``math.sin``/``float(...)``, when adteach lost part of the derivative.
``as_numbers(name, values, *, length=None, at_least=0)``
    A returned sequence of numbers (list, tuple or 1-D array) as a list of
    floats, so that a test's own code never raises a raw NumPy error.
``unpack(name, value, n, *, what=None)``
    A result that should hold ``n`` values (``(params, losses)``), as a list,
    or a message saying what came back instead.
``check_decreasing(name, values, *, tol=1e-12, hint=None)``
    Numbers (losses) that never go up.
``check_topological_order(order, output, *, name=None)``
    A list of graph nodes (objects with a ``parents`` sequence): every node
    reachable from ``output`` exactly once, each after all its parents.
``check_order_function(fn, output, *, name=None)``
    Calls student code ``fn(output)`` and checks its result as above, against
    the graph as it was before the call (a function that changes the graph it
    is given, e.g. ``output.parents = ()``, is told so, never graded on it).

Numerical derivatives here are central differences with one Richardson
extrapolation step (error of order h**4), accurate to about 1e-10 for
well-scaled functions, so the default tolerance (rtol=1e-6) separates a right
rule from a wrong one without flaky failures.

Only NumPy and the adteach core are used (no IPython), so the helpers work in
a notebook, under pytest and inside the grader alike.
"""
from __future__ import annotations

import inspect
import math
import os
import re
from itertools import product

import numpy as np

from .primitives import ADError, DomainError
from .tape import Var

__all__ = [
    "CheckFailed",
    "NotImplementedYet",
    "call",
    "check_value",
    "check_below",
    "check_function",
    "check_derivative",
    "check_gradient",
    "check_differentiable",
    "as_numbers",
    "unpack",
    "check_decreasing",
    "check_backward",
    "check_forward_rule",
    "check_topological_order",
    "check_order_function",
]

# Frames from files under this directory are library code, not the student's.
_PKG_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class CheckFailed(AssertionError):
    """A check in an exercise notebook failed; the message says what to fix."""


class NotImplementedYet(CheckFailed):
    """The student's function still raises ``NotImplementedError``."""


# ----------------------------------------------------------------------------------------------
# formatting (deterministic: no addresses, fixed precision)
# ----------------------------------------------------------------------------------------------
_ADDRESS = re.compile(r" (?:object )?at 0x[0-9A-Fa-f]+")


def _fmt(v) -> str:
    """A short, deterministic text for a value shown in a message."""
    v = _unwrap(v)
    if v is None:
        return "None"
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return _fmt_float(float(v))
    if isinstance(v, np.ndarray):
        if v.ndim == 0:
            return _fmt(v.item())
        if v.dtype.kind in "fiub":
            if v.size <= 12:
                return _fmt_nested(v)
            text = np.array2string(v, precision=6, threshold=12, edgeitems=3, separator=", ",
                                   max_line_width=10 ** 6)
            return re.sub(r"\s*\n\s*", " ", text) + f" (shape {v.shape})"
    if isinstance(v, (tuple, list)):
        inner = ", ".join(_fmt(x) for x in v[:8]) + (", ..." if len(v) > 8 else "")
        if isinstance(v, tuple):
            return f"({inner},)" if len(v) == 1 else f"({inner})"
        return f"[{inner}]"
    if isinstance(v, str):
        return repr(v) if len(v) <= 60 else repr(v[:57] + "...")
    if callable(v) and hasattr(v, "__name__"):
        return _local_name(getattr(v, "__qualname__", None) or v.__name__)
    text = _ADDRESS.sub("", repr(v))
    return text if len(text) <= 80 else text[:77] + "..."


def _fmt_nested(a) -> str:
    if a.ndim == 0:
        return _fmt(a.item())
    return "[" + ", ".join(_fmt_nested(row) for row in a) + "]"


def _fmt_float(x: float) -> str:
    if x == 0:
        return "0"
    if math.isnan(x) or math.isinf(x):
        return str(x)
    return f"{x:.10g}"


def _unwrap(v):
    """The plain value inside an adteach Var."""
    while isinstance(v, Var):
        v = v.value
    return v


def _type_name(v) -> str:
    if v is None:
        return "None"
    if isinstance(v, np.floating):
        return "float"
    if isinstance(v, (np.integer, np.bool_)):
        return "int" if isinstance(v, np.integer) else "bool"
    return type(v).__name__


def _at(names, values) -> str:
    """``x=1.5, y=0.5`` (or ``1.5, 0.5`` without names)."""
    parts = []
    for k, v in enumerate(values):
        label = names[k] if names and k < len(names) and names[k] else None
        parts.append(f"{label}={_fmt(v)}" if label else _fmt(v))
    return ", ".join(parts)


def _fn_name(fn, name=None) -> str:
    if name:
        return name
    text = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or type(fn).__name__
    return _local_name(text)


def _local_name(qualname: str) -> str:
    """``outer.<locals>.f`` -> ``f``; ``Dual.__mul__`` stays as it is."""
    return qualname.rsplit("<locals>.", 1)[-1]


def _param_names(fn, n=None):
    """Positional parameter names of ``fn``, padded with arg1, arg2, ... (or cut) to ``n``."""
    try:
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        names = [p.name for p in params]
    except (TypeError, ValueError):
        names = []
    if n is not None:
        names = (names + [f"arg{k + 1}" for k in range(len(names), n)])[:n]
    return names


def _clip(text: str, n: int = 200) -> str:
    text = _ADDRESS.sub("", str(text)).strip()
    return text if len(text) <= n else text[: n - 3] + "..."


def _fail(message: str):
    raise CheckFailed(message)


# ----------------------------------------------------------------------------------------------
# calling student code
# ----------------------------------------------------------------------------------------------
def _qualname_310(frame):
    """Python 3.10 has no ``co_qualname``: name a method by the class of its ``self``."""
    name = frame.f_code.co_name
    owner = frame.f_locals.get("self") if frame.f_code.co_argcount else None
    return f"{type(owner).__name__}.{name}" if owner is not None and hasattr(type(owner), name) else name


def _raising_function(exc):
    """(qualified name, code object) of the innermost student function that raised ``exc``, or None.

    Frames of this module, of installed packages and anonymous code (``<module>``,
    ``<lambda>``, comprehensions) are skipped.
    """
    tb = exc.__traceback__
    found = None
    while tb is not None:
        code = tb.tb_frame.f_code
        name = getattr(code, "co_qualname", None) or _qualname_310(tb.tb_frame)
        fname = code.co_filename
        if (not fname.startswith(_PKG_DIR) and "site-packages" not in fname
                and not name.endswith(">")):
            found = (_local_name(name), code)
        tb = tb.tb_next
    return found


_MATH_HINT = ("\n  Python's math functions (math.sin, math.exp, ...) and float(...) take plain numbers: on an "
              "adteach value they would drop its derivative. Use ad.sin, ad.exp, ... (or np.sin, np.exp).")
_GRAD_NONE = ("\n  Reading .grad? An adteach value's .grad is None until .backward() has run on a result "
              "computed from it.")


def _drops_derivative(exc) -> bool:
    """True when ``exc`` says an adteach value was turned into a plain number (math.sin(Var), float(Var))."""
    text = str(exc)
    if isinstance(exc, ADError):
        return "drops its derivative" in text or (
            not isinstance(exc, DomainError) and any(k in text for k in ("math.", "float(", ".value", "plain number")))
    return isinstance(exc, TypeError) and any(k in text for k in ("only length-1 arrays", "only size-1 arrays",
                                                                  "only 0-dimensional arrays"))


def _hint(exc) -> str:
    text = str(exc)
    if "cannot differentiate through" in text:
        return ("\n  Some NumPy functions cannot be differentiated by adteach: "
                "use ad.tanh, ad.exp, ad.sum, ... on values that adteach records.")
    if _drops_derivative(exc):
        return _MATH_HINT
    if isinstance(exc, DomainError) and "overflows" in text:
        return ("\n  A value overflowed (exp of a large number): rewrite the formula so that it stays finite, "
                "e.g. compute log(1 + exp(u)) as max(u, 0) + log(1 + exp(-|u|)), or use ad.logsumexp.")
    m = re.search(r"must be real number, not (\w+)", text)
    if isinstance(exc, TypeError) and m:
        return (f"\n  A function of Python's math module got a {m.group(1)}: it takes plain numbers "
                "(the value inside, such as d.val).")
    if isinstance(exc, TypeError) and "NoneType" in text:
        return ("\n  A value is None: does every function you wrote end with `return`? "
                "(An adteach value's .grad is None until .backward() has run.)")
    if isinstance(exc, ValueError) and "truth value of an array" in text:
        return ("\n  An array was used where Python needs one True or False (`if`, `and`, `or`, `not`): "
                "compare single numbers, or use np.all(...) / np.any(...).")
    if isinstance(exc, NameError):
        return "\n  Did you run the cells above (and define everything they need)?"
    return ""


_NOWHERE = object()


def call(fn, *args, name=None, may_change_inputs=False, **kwargs):
    """Call student code ``fn(*args, **kwargs)`` and return its result.

    ``NotImplementedError`` becomes :class:`NotImplementedYet` ("``name`` is not
    implemented yet: ..."), and any other exception a :class:`CheckFailed`
    naming the call and the input (the original exception is chained, so the
    traceback still shows the failing line of the student's code).

    The test's arrays stay the test's: a NumPy array passed in (also inside a list,
    tuple or dict) that ``fn`` changes in place is put back as it was when ``fn``
    returns, so the test never computes an expected value from data the student's
    code rewrote, and the change is a failure naming the argument (``w -= ...`` on
    the caller's ``w0``). ``may_change_inputs=True`` (for arrays the test does not use
    again) leaves the arrays to ``fn``, as a plain call would.
    """
    label = _fn_name(fn, name)
    inputs = [] if may_change_inputs else _arrays_in(args) + _arrays_in(list(kwargs.values()))
    saved = [(a, a.copy()) for a in inputs]
    try:
        result = fn(*args, **kwargs)
    except CheckFailed:
        raise
    except NotImplementedError as exc:
        remote = getattr(exc, "_adteach_where", _NOWHERE)  # raised in the student process (grading/judge.py)
        if remote is not _NOWHERE:
            where = remote
        else:
            found = _raising_function(exc)
            where = None if found is None or found[1] is getattr(fn, "__code__", None) else found[0]
        if where and where != label:
            msg = (f"{where} is not implemented yet (needed by {label}): "
                   "replace `raise NotImplementedError()` with your code")
        else:
            msg = f"{label} is not implemented yet: replace `raise NotImplementedError()` with your code"
        raise NotImplementedYet(msg) from None
    except RecursionError:
        raise CheckFailed(
            f"{label} raised RecursionError: the recursion went too deep (Python allows about "
            f"{_recursion_limit()} nested calls).\n  Use a loop with an explicit stack instead of recursion."
        ) from None
    except Exception as exc:  # noqa: BLE001 - every failure of student code becomes a verdict
        shown = _args_text(_param_names(fn, len(args)), args)
        where = f" at {shown}" if shown and len(shown) <= 120 else ""
        raise CheckFailed(f"{label} raised {type(exc).__name__}{where}: {_clip(exc)}{_hint(exc)}") from exc
    finally:
        changed = [(a, old, a.copy()) for a, old in saved if not np.array_equal(a, old, equal_nan=True)]
        for a, old, _ in changed:  # the test's data stays the test's: put it back before anything reads it
            np.copyto(a, old)
    if changed:
        _changed_input(fn, label, args, kwargs, *changed[0])
    return result


def _arrays_in(values, depth=0) -> list:
    """The writeable NumPy arrays among ``values`` (and inside their lists, tuples and dicts)."""
    found = []
    for v in values:
        if type(v) is np.ndarray and v.flags.writeable and v.dtype != object:
            if not any(v is f for f in found):
                found.append(v)
        elif depth < 3 and isinstance(v, (list, tuple, dict)):
            found += [a for a in _arrays_in(v.values() if isinstance(v, dict) else v, depth + 1)
                      if not any(a is f for f in found)]
    return found


def _changed_input(fn, label, args, kwargs, array, old, new):
    """Student code changed an array the test passed to it: a failure, named (the array is already restored)."""
    names = _param_names(fn, len(args))
    which = "an array passed to it"
    for k, v in [*zip(names, args), *kwargs.items()]:
        if any(a is array for a in _arrays_in([v])):
            which = f"the array passed to it as {k}"
            break
    _fail(f"{label} changed {which} in place (the test's {_fmt(old)} became {_fmt(new)}): "
          "leave the test's arrays as they are: make new values (w = w - ...) or work on a copy "
          "(w0.copy()); w -= ... and w[...] = ... change the caller's array")


def _brief(v) -> str:
    """A value for an argument list: small values in full, big arrays by their shape."""
    v = _unwrap(v)
    if isinstance(v, np.ndarray) and v.size > 6:
        return f"<array of shape {v.shape}>"
    if isinstance(v, (list, tuple)) and any(isinstance(_unwrap(x), np.ndarray) and np.size(_unwrap(x)) > 1
                                            for x in v):
        return f"<{type(v).__name__} of {len(v)} arrays>"
    return _fmt(v)


def _args_text(names, args) -> str:
    """``x=1.5, W=<array of shape (16, 2)>``: the arguments of a call, briefly."""
    return ", ".join(f"{n}={_brief(a)}" for n, a in zip(names, args))


def _recursion_limit():
    import sys
    return sys.getrecursionlimit()


# ----------------------------------------------------------------------------------------------
# comparing values
# ----------------------------------------------------------------------------------------------
def _plain(v):
    """``v`` with every adteach Var inside tuples and lists replaced by its value."""
    v = _unwrap(v)
    if isinstance(v, (tuple, list)):
        return [_plain(x) for x in v]
    return v


def _as_array(v):
    v = _plain(v)
    if v is None or isinstance(v, str):
        return None
    try:
        a = np.asarray(v, dtype=float)
    except (TypeError, ValueError):
        return None
    return a


def _equal(got, expected) -> bool:
    """Whether ``got`` equals a non-numeric ``expected`` (a list of shapes, a string, a ragged list...).

    Decided by the expected value's structure, entry by entry, never by an ``__eq__`` of the
    answer's own: an object whose ``==`` always says True equals nothing here (under the grader
    such an object lives in the student's process, and only its data counts).
    """
    got = _unwrap(got)
    if isinstance(expected, (list, tuple)):
        if isinstance(got, np.ndarray) and got.dtype != object:
            got = got.tolist()
        return (isinstance(got, (list, tuple)) and len(got) == len(expected)
                and all(_equal(g, e) for g, e in zip(got, expected)))
    if isinstance(expected, dict):
        return (type(got) is dict and set(got) == set(expected)
                and all(_equal(got[k], expected[k]) for k in expected))
    if isinstance(expected, (str, bytes, bool)) or expected is None:
        return type(got) is type(expected) and got == expected
    e = _as_array(expected)
    if e is not None:  # a number inside a structure: compared exactly (shapes, counts)
        g = _as_array(got)
        return g is not None and g.shape == e.shape and bool(np.all(g == e))
    return got is expected or (type(got) is type(expected) and expected == got)  # the test's own objects


def _mismatch(got, expected, rtol, atol, note=""):
    """None when ``got`` matches ``expected``; otherwise a short description of the problem.

    ``note`` (e.g. " (numerical)") is written right after the expected value.
    """
    if got is None and expected is not None:
        return "returned None (did you forget `return`?)"
    e = _as_array(expected)
    g = _as_array(got)
    if e is None:  # non-numeric expectation: compared entry by entry, here (see _equal)
        return None if _equal(got, expected) else f"expected {_fmt(expected)}{note}, got {_fmt(got)}"
    if g is None:
        return f"expected a number{note}, got {_type_name(got)} {_fmt(got)}"
    if g.shape != e.shape:
        if e.ndim == 0:
            return f"expected one number{note}, got {_fmt(got)} (shape {g.shape})"
        return f"expected shape {e.shape}{note}, got shape {g.shape}: {_fmt(got)}"
    close = np.isclose(g, e, rtol=rtol, atol=atol) | (np.isnan(g) & np.isnan(e))
    if np.all(close):
        return None
    if e.ndim == 0:
        return f"expected {_fmt(expected)}{note}, got {_fmt(got)}"
    bad = np.argwhere(~close)
    idx = tuple(int(i) for i in bad[0])
    where = ", ".join(str(i) for i in idx)
    count = f" ({len(bad)} of {e.size} entries differ)" if len(bad) > 1 else ""
    return (f"entry [{where}]: expected {_fmt(e[idx])}{note}, got {_fmt(g[idx])}{count}"
            if e.size > 4 else f"expected {_fmt(expected)}{note}, got {_fmt(got)}")


def check_value(name, got, expected, *, at=None, rtol=1e-7, atol=1e-12, hint=None):
    """Check one value: ``name`` is what the message calls it.

    ``at`` (optional) describes the input, as text or as a dict of name -> value.
    """
    problem = _mismatch(got, expected, rtol, atol)
    if problem is None:
        return
    where = ""
    if at is not None:
        where = " at " + (_at(list(at), list(at.values())) if isinstance(at, dict) else str(at))
    msg = f"{name} is wrong{where}:\n  {problem}{_aliasing(got, expected)}"
    if callable(hint):
        try:
            hint = hint(got)
        except Exception:  # noqa: BLE001 - a hint that does not apply to this value
            hint = None
    if hint:
        msg += f"\n  {hint}"
    _fail(msg)


def _aliasing(got, expected) -> str:
    """A hint when two entries of a returned list are the same array but should differ (an in-place update)."""
    got, expected = _unwrap(got), _plain(expected)
    if not isinstance(got, (list, tuple)) or not isinstance(expected, (list, tuple)) or len(got) != len(expected):
        return ""
    entries = [_as_array(g) for g in got]
    wanted = [_as_array(e) for e in expected]
    for j in range(1, len(entries)):
        for i in range(j):
            a, b, ea, eb = entries[i], entries[j], wanted[i], wanted[j]
            if any(v is None or v.ndim == 0 for v in (a, b, ea, eb)) or a.shape != b.shape:
                continue
            same = got[i] is got[j] or np.array_equal(a, b)
            if same and (ea.shape != eb.shape or not np.allclose(ea, eb)):
                return (f"\n  Entries {i} and {j} are the same array: an in-place update (w -= ..., w[...] = ...) "
                        "changes an array that is already in the list. Make a new array at each step "
                        "(w = w - ...).")
    return ""


def check_below(name, value, limit, *, hint=None):
    """Check that ``value`` is a finite number strictly below ``limit``."""
    v = _as_array(value)
    if v is None or v.ndim != 0:
        _fail(f"{name} should be a number below {_fmt(limit)}, got {_type_name(value)} {_fmt(value)}")
    v = float(v)
    if not math.isfinite(v) or not v < limit:
        msg = f"{name} is too high: {_fmt(v)} is not below {_fmt(limit)}"
        if not math.isfinite(v):
            msg = f"{name} is {_fmt(v)}, not a finite number below {_fmt(limit)} (did the iteration diverge?)"
        if hint:
            msg += f"\n  {hint}"
        _fail(msg)


def as_numbers(name, values, *, length=None, at_least=0):
    """The numbers in ``values`` as a list of floats, for a test's own code to work on.

    ``values`` may be a list, a tuple or a 1-D NumPy array of numbers (Python or
    NumPy numbers, adteach scalars). Anything else fails with a message naming
    ``name`` (so a test never raises a raw error such as "the truth value of an
    array is ambiguous"); ``length`` (optional) is the number of entries wanted,
    ``at_least`` the smallest number accepted.
    """
    raw = _unwrap(values)
    if raw is None:
        _fail(f"{name} is None (did you forget `return`?)")
    if isinstance(raw, np.ndarray) and raw.ndim == 1:
        raw = list(raw)
    if not isinstance(raw, (list, tuple)):
        _fail(f"{name} should be a list of numbers, got {_type_name(raw)} {_fmt(raw)}")
    numbers = []
    for k, v in enumerate(raw):
        a = _as_array(v)
        if a is None or a.size != 1:
            _fail(f"{name} should be a list of numbers; entry {k} is {_type_name(_unwrap(v))} {_fmt(v)}")
        numbers.append(float(a.reshape(-1)[0]))
    if length is not None and len(numbers) != length:
        _fail(f"{name} should have {length} entries; it has {len(numbers)}")
    if len(numbers) < at_least:
        _fail(f"{name} should have at least {at_least} {'entry' if at_least == 1 else 'entries'}; "
              f"it has {len(numbers)}")
    return numbers


def unpack(name, value, n, *, what=None):
    """The ``n`` values of a result that should hold ``n`` values (a tuple, a list or an array), as a list.

    ``name`` names the call (``"fit_line(xs, ys)"``), ``what`` (optional) says
    what the values are (``"the parameters and the losses"``).
    """
    parts = _entries(value, n) if n > 1 else None
    if parts is None:
        extra = " (did you forget `return`?)" if _unwrap(value) is None else ""
        _fail(f"{name} should return {n} values{f' ({what})' if what else ''}; it returned "
              f"{_brief(value)}{extra}")
    return parts


def check_decreasing(name, values, *, tol=1e-12, hint=None):
    """Check that the numbers in ``values`` (see :func:`as_numbers`) never go up by more than ``tol``."""
    numbers = as_numbers(name, values)
    for k in range(1, len(numbers)):
        if not numbers[k] <= numbers[k - 1] + tol:
            msg = (f"{name} go up at entry {k}: from {_fmt(numbers[k - 1])} to {_fmt(numbers[k])}")
            if hint:
                msg += f"\n  {hint}"
            _fail(msg)


def _args_tuple(args):
    return tuple(args) if isinstance(args, tuple) else (args,)


def _entries(result, n, *, scalar=True):
    """The ``n`` values in a result that should hold one value per input, or None.

    Any reasonable container works: a tuple, a list or a NumPy array with ``n``
    rows (``np.array([dx, dy])``). For ``n == 1`` the value itself is the entry,
    and a 1-tuple, a 1-list or (when the input is a number, ``scalar``) an array
    of shape ``(1,)`` is unpacked.
    """
    value = _unwrap(result)
    if n == 1:
        if isinstance(value, (tuple, list)) and len(value) == 1:
            return [value[0]]
        if scalar and isinstance(value, np.ndarray) and value.shape == (1,):
            return [value[0]]
        return [result]
    if isinstance(value, (tuple, list)):
        return list(value) if len(value) == n else None
    if isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == n:
        return list(value)
    return None


def check_function(fn, cases, *, name=None, rtol=1e-7, atol=1e-12, candidates=None, hint=None):
    """Check ``fn(*args) == expected`` for every ``(args, expected)`` in ``cases``.

    ``args`` is a tuple of arguments (a non-tuple is a single argument).
    ``candidates`` maps a description of a likely mistake (or of the right
    formula) to a function of the same arguments; when the student's result
    matches one of them, the message says so ("your central_diff computes the
    forward difference (f(x+h) - f(x))/h"). ``hint`` is added to any failure.
    """
    label = _fn_name(fn, name)
    for args, expected in cases:
        args = _args_tuple(args)
        got = call(fn, *args, name=label)
        problem = _mismatch(got, expected, rtol, atol)
        if problem is None:
            continue
        msg = f"{label} is wrong at {_args_text(_param_names(fn, len(args)), args)}:\n  {problem}"
        for desc, cand in (candidates or {}).items():
            try:
                value = cand(*args)
            except Exception:  # noqa: BLE001 - a candidate that does not apply
                continue
            if _mismatch(got, value, 1e-9, 1e-12) is None and _mismatch(expected, value, rtol, atol) is not None:
                msg += f"\n  Your {label} computes {desc}."
                break
        if hint:
            msg += f"\n  {hint}"
        _fail(msg)


# ----------------------------------------------------------------------------------------------
# numerical derivatives (central differences with one Richardson step: error ~ h^4)
# ----------------------------------------------------------------------------------------------
def _scalar_out(f, args):
    out = _unwrap(f(*args))
    a = np.asarray(out, dtype=float)
    if a.ndim != 0:
        a = a.reshape(-1)
        if a.size != 1:
            raise ValueError(f"expected a scalar output, got shape {np.shape(out)}")
    return float(a.reshape(()))


def _partial(f, args, i, index=None):
    """d f / d args[i] (element ``index`` of an array argument) at ``args``."""
    x = args[i]
    base = float(x if index is None else np.asarray(x, dtype=float)[index])
    h = 1e-3 * max(abs(base), 1e-2)

    def at(d):
        a = list(args)
        if index is None:
            a[i] = base + d
        else:
            xi = np.array(x, dtype=float, copy=True)
            xi[index] = base + d
            a[i] = xi
        return _scalar_out(f, a)

    with np.errstate(all="ignore"):
        d1 = (at(h) - at(-h)) / (2 * h)
        d2 = (at(h / 2) - at(-h / 2)) / h
    return (4 * d2 - d1) / 3


def _numerical_grad(f, args):
    """One entry per argument: a float, or an array shaped like the argument."""
    grads = []
    for i, a in enumerate(args):
        if np.ndim(_unwrap(a)) == 0:
            grads.append(_partial(f, args, i))
        else:
            arr = np.asarray(_unwrap(a), dtype=float)
            g = np.zeros_like(arr)
            for idx in np.ndindex(arr.shape):
                g[idx] = _partial(f, args, i, idx)
            grads.append(g)
    return grads


# ----------------------------------------------------------------------------------------------
# check_derivative / check_gradient
# ----------------------------------------------------------------------------------------------
def check_derivative(df, f, *, at, name=None, rtol=1e-6, atol=1e-8):
    """Check a student's derivative ``df(x)`` against the numerical derivative of ``f`` at each x in ``at``."""
    label = _fn_name(df, name)
    fname = _fn_name(f)
    xname = (_param_names(df, 1) or ["x"])[0]
    for x in at:
        got = call(df, x, name=label)
        expected = _partial(f, [x], 0)
        problem = _mismatch(got, expected, rtol, atol, f" (the numerical derivative of {fname})")
        if problem is None:
            continue
        msg = f"{label} is wrong at {xname}={_fmt(x)}:\n  {problem}"
        g = _as_array(got)
        if g is not None and g.ndim == 0 and abs(expected) > atol:
            g = float(g)
            if math.isclose(g, -expected, rel_tol=1e-5):
                msg += "\n  The sign is flipped."
            elif math.isclose(g, 2 * expected, rel_tol=1e-5) or math.isclose(2 * g, expected, rel_tol=1e-5):
                msg += "\n  It is off by a factor of 2."
            else:
                try:
                    if math.isclose(g, _scalar_out(f, [x]), rel_tol=1e-9):
                        msg += f"\n  It returns the value of {fname}, not its derivative."
                except Exception:  # noqa: BLE001
                    pass
        _fail(msg)


def check_gradient(grad_fn, f, *, at, name=None, rtol=1e-6, atol=1e-8, hint=None):
    """Check a student's gradient function against the numerical gradient of scalar ``f``.

    ``at`` is a list of argument tuples (a non-tuple is a single argument).
    ``grad_fn(*args)`` must return one entry per argument of ``f`` (a tuple, a
    list or a NumPy array; for a one-argument ``f`` the entry itself), each a
    number or an array shaped like that argument. ``hint`` is added to a wrong
    derivative's message.
    """
    label = _fn_name(grad_fn, name)
    fname = _fn_name(f)
    for args in at:
        args = _args_tuple(args)
        names = _param_names(f, len(args))
        shown = _args_text(names, args)
        got = call(grad_fn, *args, name=label)
        expected = _numerical_grad(f, args)
        parts = _entries(got, len(args), scalar=np.ndim(_unwrap(args[0])) == 0)
        if parts is None:
            _fail(f"{label} should return {len(args)} values (one per input {', '.join(names)}: a tuple, "
                  f"a list or an array) at {shown}; it returned {_fmt(got)}")
        for n, g, e in zip(names, parts, expected):
            problem = _mismatch(g, e, rtol, atol, " (numerical)")
            if problem is not None:
                if _unwrap(g) is None:
                    problem += _GRAD_NONE
                _fail(f"{label} is wrong at {shown}, in the derivative with respect to {n}:\n  {problem}"
                      + (f"\n  {hint}" if hint else ""))


def check_differentiable(fn, *, at, name=None, culprit=None, rtol=1e-6, atol=1e-8):
    """Check that adteach differentiates ``fn`` correctly with respect to its first argument.

    ``ad.grad(fn)`` at each point of ``at`` (a number or array, or a tuple of
    arguments) is compared with the numerical derivative of ``fn`` itself, so
    this fails exactly when adteach lost part of the derivative: something in
    ``fn`` (or in ``culprit``, the student function it calls) turned an adteach
    value into a plain number, as ``math.sin(x)`` or ``float(x)`` do.
    """
    from .transforms import grad

    label = _fn_name(fn, name)
    where = culprit or label
    for args in at:
        args = _args_tuple(args)
        shown = _args_text(_param_names(fn, len(args)), args)
        got = call(grad(fn), *args, name=f"ad.grad({label})")
        expected = _numerical_grad(lambda first: fn(first, *args[1:]), args[:1])[0]
        problem = _mismatch(got, expected, rtol, atol, f" (the numerical derivative of {label})")
        if problem is not None:
            _fail(f"ad.grad({label}) is wrong at {shown}:\n  {problem}\n"
                  f"  adteach lost part of the derivative: something in {where} turns an adteach value into a "
                  "plain number (a function from Python's math module such as math.sin or math.exp, float(...), "
                  ".value, np.asarray(...)). Use ad.sin, ad.exp, ... (or np.sin, np.exp) on adteach values.")


# ----------------------------------------------------------------------------------------------
# candidate expressions for derivative rules
# ----------------------------------------------------------------------------------------------
_EVAL_NS = {"__builtins__": {}, "sin": np.sin, "cos": np.cos, "tan": np.tan, "exp": np.exp,
            "log": np.log, "sqrt": np.sqrt, "tanh": np.tanh}

# Reference operations known by name: (formula, function of plain numbers).
_OPS = {
    "add": ("x + y", lambda x, y: x + y),
    "sub": ("x - y", lambda x, y: x - y),
    "mul": ("x*y", lambda x, y: x * y),
    "div": ("x/y", lambda x, y: x / y),
    "neg": ("-x", lambda x: -x),
    "square": ("x**2", lambda x: x * x),
    "sin": ("sin(x)", np.sin),
    "cos": ("cos(x)", np.cos),
    "tan": ("tan(x)", np.tan),
    "exp": ("exp(x)", np.exp),
    "log": ("log(x)", np.log),
    "sqrt": ("sqrt(x)", np.sqrt),
    "tanh": ("tanh(x)", np.tanh),
    "sigmoid": ("sigmoid(x)", lambda x: 0.5 * (1.0 + np.tanh(0.5 * x))),
}

_UNARY_TERMS = ["1", "x", "2*x", "x**2", "1/x", "1/x**2", "sin(x)", "cos(x)", "tan(x)", "exp(x)",
                "log(x)", "sqrt(x)", "1/(2*sqrt(x))", "1/cos(x)**2", "tanh(x)", "1 - tanh(x)**2",
                "out", "out*(1 - out)", "1 + out**2", "1 - out**2"]
_BINARY_TERMS = ["1", "x", "y", "1/y", "1/x", "x*y", "x/y", "y/x", "x/y**2", "y/x**2", "1/y**2",
                 "1/x**2", "x**2", "y**2", "2*x", "2*y", "x + y", "x - y", "y - x", "out", "out/y"]


def _simple(t: str) -> bool:
    """True when ``t`` needs no parentheses as a factor (no top-level + or -)."""
    depth = 0
    for k, ch in enumerate(t):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0 and ch in "+-" and k > 0:
            return False
    return True


def _neg(t: str) -> str:
    if t.startswith("-"):
        return t[1:] if _simple(t[1:]) else t
    return "-" + t if _simple(t) else f"-({t})"


def _times(factor: str, t: str) -> str:
    """``factor * t`` written tidily (factor is a name such as g or dx)."""
    if t == "1":
        return factor
    if t.startswith("1/"):
        return f"{factor}/{t[2:]}"
    return f"{factor}*{t}" if _simple(t) else f"{factor}*({t})"


def _rename(expr: str, mapping: dict) -> str:
    if not mapping:
        return expr
    pattern = re.compile(r"\b(" + "|".join(re.escape(k) for k in mapping) + r")\b")
    return pattern.sub(lambda m: mapping[m.group(1)], expr)


def _compile_all(texts):
    seen, out = set(), []
    for t in texts:
        if t not in seen:
            seen.add(t)
            out.append((t, compile(t, "<candidate>", "eval")))
    return out


def _backward_candidates(arity):
    terms = _UNARY_TERMS if arity == 1 else _BINARY_TERMS
    texts = []
    for t in terms:
        texts += [_times("g", t), _neg(_times("g", t))]
    for t in terms:
        texts += [t, _neg(t)]
    texts += ["0"]
    return _compile_all(texts)


def _forward_candidates(arity):
    if arity == 1:
        texts = []
        for t in _UNARY_TERMS:
            texts += [_times_right(t, "dx"), _neg(_times_right(t, "dx"))]
        for t in _UNARY_TERMS:
            texts += [t, _neg(t)]
        return _compile_all(texts + ["0"])
    texts = ["dx*y + x*dy", "dx + dy", "dx - dy", "(dx*y - x*dy)/y**2", "(x*dy - dx*y)/y**2",
             "(dx*y - x*dy)/y", "dx*y - x*dy", "(dx*y + x*dy)/y**2", "dx*dy", "dx/dy", "dx*x + dy*y",
             "dx/y", "x*dy", "dx*y", "y*dy", "x*dx", "-dx", "-dy", "dy", "dx"]
    coeffs = ["0", "1", "-1", "x", "y", "-x", "-y", "1/y", "-1/y", "1/x", "x/y**2", "-x/y**2", "y/x**2"]
    for a, b in product(coeffs, coeffs):
        parts = [p for p in (_coef(a, "dx"), _coef(b, "dy")) if p]
        if parts:
            texts.append(" + ".join(parts).replace("+ -", "- "))
    return _compile_all(texts + ["0"])


def _times_right(t: str, v: str) -> str:
    """``t * v`` with the tangent on the right (``cos(x)*dx``)."""
    if t == "1":
        return v
    if t.startswith("1/"):
        return f"{v}/{t[2:]}"
    return f"{t}*{v}" if _simple(t) else f"({t})*{v}"


def _coef(c: str, v: str) -> str:
    if c == "0":
        return ""
    if c == "1":
        return v
    if c == "-1":
        return "-" + v
    if c.startswith("-"):
        return "-" + _coef(c[1:], v)
    if c.startswith("1/"):
        return f"{v}/{c[2:]}"
    if "/" in c:
        num, den = c.split("/", 1)
        return f"{num}*{v}/{den}"
    return f"{c}*{v}"


def _value_candidates(arity):
    terms = _UNARY_TERMS if arity == 1 else _BINARY_TERMS
    texts = []
    for t in terms:
        if "out" in t:
            continue
        texts += [t, _neg(t)]
    return _compile_all(texts + ["0"])


_CACHE: dict = {}


def _candidates(kind, arity):
    key = (kind, arity)
    if key not in _CACHE:
        make = {"backward": _backward_candidates, "forward": _forward_candidates, "value": _value_candidates}[kind]
        _CACHE[key] = make(arity)
    return _CACHE[key]


def _match(cands, envs, values, rtol, atol):
    """The first candidate text equal to ``values`` at every sample where both are finite (>= 2 samples)."""
    for text, code in cands:
        used = 0
        for env, v in zip(envs, values):
            if v is None or not math.isfinite(v):
                continue
            try:
                with np.errstate(all="ignore"):
                    c = float(eval(code, _EVAL_NS, dict(env)))  # noqa: S307 - our own fixed expressions
            except Exception:  # noqa: BLE001
                used = -1
                break
            if not math.isfinite(c):
                continue
            if abs(c - v) > atol + rtol * abs(v):
                used = -1
                break
            used += 1
        if used >= 2:
            return text
    return None


def _resolve_op(op):
    """(formula or None, function, arity) for an op given by name or as a function."""
    if isinstance(op, str):
        if op not in _OPS:
            raise ValueError(f"unknown op {op!r}; known: {', '.join(sorted(_OPS))}, or pass a function")
        formula, fn = _OPS[op]
        arity = 2 if "y" in formula else 1
        return formula, fn, arity
    arity = len(_param_names(op))
    return None, op, arity


def _op_label(fn):
    name = _fn_name(fn)
    return "the operation" if name.endswith(">") else name


def _scalar(v):
    a = _as_array(v)
    if a is None or a.size != 1:
        return None
    return float(a.reshape(-1)[0])


_PROBES = {1: [0.83, 1.37, 2.11, 0.41], 2: [(0.83, 1.37), (1.91, 0.62), (1.27, 2.43), (0.58, 0.91)]}
_PROBE_G = [1.1, -0.6, 1.9, 0.35]


# ----------------------------------------------------------------------------------------------
# check_backward
# ----------------------------------------------------------------------------------------------
def check_backward(backward, op, *, at, g=(0.7, -1.3), name=None, rtol=1e-6, atol=1e-8):
    """Check a backward (vector-Jacobian) rule against numerical derivatives.

    ``backward(g, *inputs)`` receives the output's adjoint ``g`` and the
    operation's inputs, and returns each input's adjoint ``g * d op / d input``:
    one value per input, in a tuple, a list or a NumPy array (for a one-input
    operation, the value itself or a 1-tuple). ``op`` is the forward operation:
    a name (``"mul"``, ``"div"``, ``"sin"``, ``"exp"``, ``"log"``, ... see ``_OPS``) or a function of
    plain numbers. ``at`` lists the input points (numbers for one input, tuples
    for several); each is tried with every ``g`` in ``g``.
    """
    label = _fn_name(backward, name)
    formula, fn, arity = _resolve_op(op)
    opname = formula or _op_label(fn)
    student_names = _param_names(backward, arity + 1)
    gname, in_names = student_names[0], student_names[1:]
    rename = {c: s for c, s in zip(["g", "x", "y"], [gname] + in_names) if c != s}

    def run(gv, xs):
        res = call(backward, gv, *xs, name=label)
        parts = _entries(res, arity)
        if parts is None:
            want = "one value (the adjoint of its input)" if arity == 1 else \
                f"{arity} values (one adjoint per input: {', '.join(in_names)})"
            extra = " (did you forget `return`?)" if res is None else ""
            _fail(f"{label} should return {want}; at {_at([gname] + in_names, [gv, *xs])} "
                  f"it returned {_fmt(res)}{extra}")
        return parts

    def expected_for(gv, xs):
        return [gv * _partial(fn, list(xs), i) for i in range(arity)]

    for point in at:
        xs = _args_tuple(point)
        for gv in g:
            parts = run(gv, xs)
            exp = expected_for(gv, xs)
            for i in range(arity):
                note = f" (g times the numerical derivative of {_rename(opname, rename)})"
                problem = _mismatch(parts[i], exp[i], rtol, atol, note)
                if problem is None:
                    continue
                where = _at([gname] + in_names, [gv, *xs])
                which = f" for input {in_names[i]}," if arity > 1 else ""
                msg = f"{label} is wrong{which} at {where}:\n  {problem}"
                msg += _diagnose_backward(run, fn, arity, i, xs, gv, parts, exp, label, in_names, rename,
                                          list(at), g)
                _fail(msg)


def _diagnose_backward(run, fn, arity, i, xs, gv, parts, exp, label, in_names, rename, at, gs):
    samples = [(gg, _args_tuple(p)) for p in at for gg in gs]
    samples += [(gg, _args_tuple(p)) for gg, p in zip(_PROBE_G, _PROBES[arity])]
    envs, got_vals, num_vals = [], [], []
    for gg, ps in samples:
        env = {"g": gg, "x": ps[0]}
        if arity == 2:
            env["y"] = ps[1]
        try:
            with np.errstate(all="ignore"):
                env["out"] = float(fn(*ps))
                num = gg * _partial(fn, list(ps), i)
        except Exception:  # noqa: BLE001
            continue
        if not (math.isfinite(env["out"]) and math.isfinite(num)):
            continue
        try:
            res = run(gg, ps)
            got = _scalar(res[i])
        except AssertionError:
            got = None
        envs.append(env)
        got_vals.append(got)
        num_vals.append(num)
    cands = _candidates("backward", arity)
    mine = _match(cands, envs, got_vals, 1e-7, 1e-10)
    right = _match(cands, envs, num_vals, 1e-5, 1e-8)
    lines = ""
    which = f" for input {in_names[i]}" if arity > 1 else ""
    if mine is not None:
        lines += f"\n  Your {label} returns {_rename(mine, rename)}{which}"
        lines += f"; the numerical derivative says {_rename(right, rename)}." if right else "."
        if right and "g" not in _names_in(mine) and "g" in _names_in(right):
            lines += "\n  Multiply by the incoming gradient g (the chain rule)."
    elif right is not None:
        lines += f"\n  The numerical derivative says {_rename(right, rename)}{which}."
    if arity == 2:
        j = 1 - i
        gj, gi = _scalar(parts[j]), _scalar(parts[i])
        if gi is not None and gj is not None and math.isclose(gi, exp[j], rel_tol=1e-6, abs_tol=1e-9) \
                and math.isclose(gj, exp[i], rel_tol=1e-6, abs_tol=1e-9) \
                and not math.isclose(exp[i], exp[j], rel_tol=1e-6, abs_tol=1e-9):
            lines += f"\n  The results for {in_names[0]} and {in_names[1]} look swapped."
    return lines


def _names_in(text: str):
    return set(compile(text, "<candidate>", "eval").co_names)


# ----------------------------------------------------------------------------------------------
# check_forward_rule
# ----------------------------------------------------------------------------------------------
_DUAL_FIELDS = (("val", "dot"), ("value", "tangent"), ("value", "dot"), ("primal", "tangent"))


def _dual_parts(d):
    for v, t in _DUAL_FIELDS:
        if hasattr(d, v) and hasattr(d, t):
            return getattr(d, v), getattr(d, t)
    return None


def check_forward_rule(rule, op, *, dual, at, tangents=None, name=None, rtol=1e-6, atol=1e-8):
    """Check a forward-mode rule of a student's dual-number class.

    ``rule(*duals)`` (e.g. ``Dual.__mul__`` or a function ``sin(d)``) receives
    ``dual(value, tangent)`` objects and must return a dual (read through its
    ``val``/``dot`` or ``value``/``tangent`` attributes) whose value is
    ``op(*values)`` and whose tangent is ``sum_i d op / d x_i * tangent_i``.
    ``op`` is a name (``"mul"``, ``"div"``, ``"sin"``, ``"exp"``, ...) or a
    function of plain numbers; ``at`` lists input points (numbers or tuples);
    ``tangents`` lists input tangents in the same format (default: each input
    seeded in turn, then a mixed direction).
    """
    label = _fn_name(rule, name)
    formula, fn, arity = _resolve_op(op)
    opname = formula or _op_label(fn)
    if tangents is None:
        tangents = [1.0, -0.6] if arity == 1 else [(1.0, 0.0), (0.0, 1.0), (0.3, -0.7)]
    tnames = ["dx", "dy"][:arity]
    vnames = ["x", "y"][:arity]

    def run(xs, ts):
        ins = [dual(x, t) for x, t in zip(xs, ts)]
        res = call(rule, *ins, name=label)
        parts = _dual_parts(res)
        if parts is None:
            _fail(f"{label} should return a {_fn_name(dual)}; at {_describe_duals(vnames, xs, ts)} "
                  f"it returned {_type_name(res)} {_fmt(res)}")
        return parts

    for point in at:
        xs = _args_tuple(point)
        for tan in tangents:
            ts = _args_tuple(tan)
            value, tangent = run(xs, ts)
            where = _describe_duals(vnames, xs, ts)
            exp_value = float(fn(*xs))
            problem = _mismatch(value, exp_value, 1e-9, 1e-12, f" ({opname})")
            if problem is not None:
                msg = f"{label} computes the wrong value at {where}:\n  {problem}"
                mine = _match(_candidates("value", arity), *_value_samples(run, fn, arity, at, tangents))
                if mine is not None and mine != formula:
                    msg += f"\n  Your {label} computes the value {mine}; it should be {opname}."
                _fail(msg)
            exp_tan = sum(_partial(fn, list(xs), i) * ts[i] for i in range(arity))
            problem = _mismatch(tangent, exp_tan, rtol, atol, f" (numerical derivative of {opname})")
            if problem is not None:
                msg = f"{label} computes the wrong tangent at {where}:\n  {problem}"
                envs, got_vals, num_vals = _tangent_samples(run, fn, arity, at, tangents)
                cands = _candidates("forward", arity)
                mine = _match(cands, envs, got_vals, 1e-7, 1e-10)
                right = _match(cands, envs, num_vals, 1e-5, 1e-8)
                legend = f" ({' and '.join(tnames)} {'are the tangents' if arity > 1 else 'is the tangent'} " \
                         f"of {' and '.join(vnames)})"
                if mine is not None:
                    msg += f"\n  Your {label} gives tangent {mine}"
                    msg += f"; the numerical derivative says {right}{legend}." if right else f"{legend}."
                    if right and "dx" not in _names_in(mine) and arity == 1:
                        msg += "\n  Multiply by the input's tangent dx (the chain rule)."
                elif right is not None:
                    msg += f"\n  The numerical derivative says {right}{legend}."
                _fail(msg)


def _describe_duals(vnames, xs, ts):
    return ", ".join(f"{n}={_fmt(x)} (tangent d{n}={_fmt(t)})" for n, x, t in zip(vnames, xs, ts))


def _sample_points(arity, at, tangents):
    pts = [_args_tuple(p) for p in at] + [_args_tuple(p) for p in _PROBES[arity]]
    tans = [_args_tuple(t) for t in tangents]
    return [(p, t) for p in pts for t in tans]


def _tangent_samples(run, fn, arity, at, tangents):
    envs, got_vals, num_vals = [], [], []
    for xs, ts in _sample_points(arity, at, tangents):
        try:
            with np.errstate(all="ignore"):
                out = float(fn(*xs))
                num = sum(_partial(fn, list(xs), i) * ts[i] for i in range(arity))
        except Exception:  # noqa: BLE001
            continue
        if not (math.isfinite(out) and math.isfinite(num)):
            continue
        env = {"x": xs[0], "dx": ts[0], "out": out}
        if arity == 2:
            env.update(y=xs[1], dy=ts[1])
        try:
            got = _scalar(run(xs, ts)[1])
        except AssertionError:
            got = None
        envs.append(env)
        got_vals.append(got)
        num_vals.append(num)
    return envs, got_vals, num_vals


def _value_samples(run, fn, arity, at, tangents):
    envs, got_vals = [], []
    for xs, ts in _sample_points(arity, at, tangents):
        env = {"x": xs[0]}
        if arity == 2:
            env["y"] = xs[1]
        try:
            got = _scalar(run(xs, ts)[0])
        except AssertionError:
            got = None
        envs.append(env)
        got_vals.append(got)
    return envs, got_vals, 1e-9, 1e-12


# ----------------------------------------------------------------------------------------------
# check_topological_order
# ----------------------------------------------------------------------------------------------
def _node_label(node) -> str:
    name = getattr(node, "name", None)
    if isinstance(name, str) and name:
        return name
    value = getattr(node, "value", None)
    return f"{type(node).__name__}(value={_fmt(value)})" if value is not None else type(node).__name__


def _graph_of(output, parents):
    """Every node reachable from ``output`` with its parents, as they are now: {id: (node, parents)}."""
    def parents_of(node):
        return tuple(p for p in (getattr(node, parents, None) or ()) if hasattr(p, parents))

    graph, stack = {id(output): (output, parents_of(output))}, [output]
    while stack:
        node = stack.pop()
        for p in graph[id(node)][1]:
            if id(p) not in graph:
                graph[id(p)] = (p, parents_of(p))
                stack.append(p)
    return graph


def check_order_function(fn, output, *, name=None, parents="parents"):
    """Call ``fn(output)`` (student code: a topological sort) and check the order it returns.

    The graph is recorded before the call and the order is checked against that record,
    so a function that changes the graph it is given (``output.parents = ()``, then
    ``return [output]``) is told that it did, instead of being checked on the graph it cut.
    """
    label = name or f"{_fn_name(fn, None)}({_node_label(output)})"
    before = _graph_of(output, parents)
    order = call(fn, output, name=name)
    def now(node):
        return [id(p) for p in (getattr(node, parents, None) or ()) if hasattr(p, parents)]

    changed = [node for node, ps in before.values() if now(node) != [id(p) for p in ps]]
    if changed:
        shown = ", ".join(sorted(_node_label(n) for n in changed[:3]))
        _fail(f"{label} changed the graph it was given (the {parents} of {shown}"
              f"{' and more' if len(changed) > 3 else ''}): a topological sort must only read the graph")
    check_topological_order(order, output, name=label, parents=parents, _graph=before)


def check_topological_order(order, output, *, name=None, parents="parents", _graph=None):
    """Check that ``order`` lists every node reachable from ``output`` exactly once, parents first.

    Nodes are objects whose attribute ``parents`` (configurable) is a sequence of
    parent nodes (non-node entries such as constants are ignored when they do not
    have that attribute themselves). Messages name nodes by their ``name``.
    (To call the student's sort and check it in one step, against the graph as it was
    before the call, use ``check_order_function``.)
    """
    label = name or "the order"
    if order is None:
        _fail(f"{label} is None (did you forget `return`?)")
    try:
        order = list(order)
    except TypeError:
        _fail(f"{label} should be a list of nodes, got {_type_name(order)} {_fmt(order)}")

    graph = _graph if _graph is not None else _graph_of(output, parents)
    reachable = {key: node for key, (node, _) in graph.items()}

    def parents_of(node):
        return graph[id(node)][1]

    position = {}
    for k, node in enumerate(order):
        if id(node) not in reachable:
            _fail(f"{label} is wrong: it contains {_node_label(node)} (at position {k}), "
                  f"which is not a node of the graph of {_node_label(output)}")
        if id(node) in position:
            _fail(f"{label} is wrong: {_node_label(node)} appears twice (positions {position[id(node)]} and {k}); "
                  "keep a set of visited nodes so that each node is listed once")
        position[id(node)] = k
    missing = [n for key, n in reachable.items() if key not in position]
    if missing:
        shown = ", ".join(sorted(_node_label(n) for n in missing[:5]))
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        _fail(f"{label} is wrong: it has {len(order)} nodes but the graph has {len(reachable)}; "
              f"missing: {shown}{more}")
    for k, node in enumerate(order):
        for p in parents_of(node):
            if position[id(p)] > k:
                _fail(f"{label} is wrong: {_node_label(node)} (position {k}) comes before its input "
                      f"{_node_label(p)} (position {position[id(p)]}); every node must come after all its inputs")
