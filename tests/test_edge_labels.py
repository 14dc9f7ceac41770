"""Every primitive's edge labels, read off the drawing, checked numerically against its partials.

For each entry of the primitive table (iterated, so a new primitive is checked the day it is
added) the drawing of that one operation is made at random points, and on every edge:

* the label as drawn ("cos(v₋₁)", "-v₋₁/v₀²", "σ(v₋₁)(1-σ(v₋₁))", "[v₋₁ ≥ v₀]") is turned back
  into arithmetic and evaluated at the point,
* the number drawn below it, and the edge table's ``partial``,

are compared with a central finite difference of the primitive's value function and with
``ad.grad`` of the primitive. Structural primitives have no scalar partial (their edges
carry a vector-Jacobian product's name, no number): they are listed below with the reason.
"""
from __future__ import annotations

import html
import math
import re

import numpy as np
import pytest

import adteach as ad
from adteach import primitives as P

#: Entries of the table without scalar partials, and why (each is a vector-Jacobian product).
STRUCTURAL = {
    "sum": "a reduction: its edge says 1 (each element's share), its rule is a broadcast VJP",
    "mean": "a reduction: its edge says 1/n, its rule is a broadcast VJP",
    "matmul": "a matrix product: its edges name the other factor transposed (v0ᵀ), not a number",
    "reshape": "moves elements: every share is the adjoint itself, reshaped",
    "transpose": "moves elements: every share is the adjoint itself, transposed",
    "broadcast_to": "copies elements: its VJP sums the adjoint back",
    "getitem": "selects elements: its VJP scatters the adjoint",
    "scatter": "places elements (getitem's adjoint): its VJP selects",
    "stack": "joins values into an array: each input's share is its slice",
    "concatenate": "joins arrays: each input's share is its slice",
    "max": "a reduction: the edge says which element wins, its rule is a VJP",
    "min": "a reduction: the edge says which element wins, its rule is a VJP",
    "logsumexp": "a reduction: its edge names softmax, its rule is a VJP",
    "softmax": "vector to vector: its edge names the Jacobian diag(s) - s sᵀ",
    "log_softmax": "vector to vector: its edge names the Jacobian I - 1 sᵀ",
    "where": "chooses by an array condition: its VJP masks the adjoint",
}
#: Entries whose partial is, by design, not the derivative of their value (checked against ad.grad only).
NOT_THE_DERIVATIVE_OF_THE_VALUE = {
    "stop_gradient": "its value is x but its partial is 0: it blocks the gradient on purpose",
}

_SUB = str.maketrans("₋₀₁₂₃₄₅₆₇₈₉", "-0123456789")
_SUP = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")
_FUNCTIONS = {"sin": np.sin, "cos": np.cos, "tan": np.tan, "tanh": np.tanh, "exp": np.exp, "log": np.log,
              "sqrt": np.sqrt, "sign": np.sign, "sigmoid": lambda x: 1 / (1 + np.exp(-x)), "float": float}
_EDGE = re.compile(r'^\t"(v-?\d+)" -> "(v-?\d+)" \[label=<(.*)>\]$', re.M)
_TD = re.compile(r'<TD ALIGN="LEFT">(.*?)</TD>')
_FONT = re.compile(r"<FONT[^>]*>(.*?)</FONT>")


def python(label):
    """A drawn label as Python arithmetic over V_m1, V_0, ... ("v₋₁ / v₀²" -> "V_m1 / V_0**(2)")."""
    s = re.sub(r"v([₋₀₁₂₃₄₅₆₇₈₉]+)", lambda m: "V_" + m.group(1).translate(_SUB).replace("-", "m"), label)
    s = re.sub(r"\b([a-z]+)²\(", r"SQ_\1(", s)  # tan²(x): (tan(x))**2
    s = re.sub(r"[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+", lambda m: "**(" + m.group(0).translate(_SUP) + ")", s)
    s = s.replace("·", "*").replace("^", "**").replace("σ", "sigmoid").replace("≥", ">=").replace("≤", "<=")
    s = s.replace(")(", ")*(")
    return re.sub(r"\[([^\[\]]+)\]", r"float(\1)", s)  # [a > b]: 1 or 0


def evaluate_label(label, values):
    """The value of a drawn label at ``values`` ({trace name: number})."""
    ns = dict(_FUNCTIONS)
    ns.update({f"SQ_{k}": (lambda f: lambda x: f(x) ** 2)(f) for k, f in _FUNCTIONS.items()})
    ns.update({"V_" + name[1:].replace("-", "m"): v for name, v in values.items()})
    expr = python(label)
    try:
        return float(eval(expr, {"__builtins__": {}}, ns))  # noqa: S307 - our own drawing's text
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(f"the edge label {label!r} (read as {expr!r}) cannot be evaluated: {exc}; "
                             "teach tests/test_edge_labels.py its notation") from None


def drawn_edges(drawing):
    """{(parent, child): (label text, the number drawn below it or None)} from the DOT source."""
    out = {}
    for parent, child, label in _EDGE.findall(drawing.source):
        if label.startswith("<TABLE"):
            text, number = _TD.findall(label)[:2]
            number = _FONT.search(number).group(1).strip()
        else:
            text, number = label, None
        out[(parent, child)] = (html.unescape(text), number)
    return out


def shown_tolerance(number):
    """Half a unit in the last digit the drawing shows ("0.0707" -> 5e-5, "-1.2e-05" -> 5e-7)."""
    mantissa, _, exponent = number.partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 0.5 * 10.0 ** (-decimals) * 10.0 ** (int(exponent) if exponent else 0)


def finite_difference(fn, args, i):
    """Central differences with steps h and h/2; None when they disagree (a kink or a pole nearby)."""
    def d(h):
        up, down = list(args), list(args)
        up[i] += h
        down[i] -= h
        return (fn(*up) - fn(*down)) / (2 * h)
    h = 1e-5 * (1 + abs(args[i]))
    a, b = d(h), d(h / 2)
    return b if math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-8) else None


def _point(rng, prim, n):
    """Random inputs away from 0 and each other, inside the primitive's domain."""
    while True:
        x = [float(v) for v in rng.uniform(0.25, 2.0, n) * rng.choice([-1.0, 1.0], n)]
        if n == 2 and abs(x[0] - x[1]) < 0.25:
            continue
        if prim.check is None or not prim.check(*x):
            return x


def _cases(prim, n, rng):
    """(args, which of them are traced inputs): all traced, then each one alone with the others constant.

    A constant is written into the label with the digits it has (``notation.number``): two decimals
    keep it exact, so the label's value is the partial's.
    """
    for _ in range(6):
        x = _point(rng, prim, n)
        yield x, [True] * n
        if n == 2:
            x = [round(v, 2) for v in x]
            if prim.check is None or not prim.check(*x):
                yield x, [True, False]
                yield x, [False, True]


def check_primitive(name, prim, cases):
    checked = 0
    for args, traced in cases:
        var_args = [a for a, t in zip(args, traced) if t]

        def op(*vs, args=args, traced=traced):
            it = iter(vs)
            return P.apply(prim, *[next(it) if t else a for a, t in zip(args, traced)])
        try:
            t = ad.trace(op, *var_args)
        except ad.DomainError:
            continue  # a partial undefined here (x**p at 0...): not a point to check labels at
        drawing = ad.draw(t)
        drawn = drawn_edges(drawing)
        values = {t.names[v]: v.value for v in t.inputs}
        assert len(t.edges) == len(var_args) == len(drawn), (name, args, traced)
        for e in t.edges:
            i = e.index
            where = f"{name}{tuple(args)}, edge {e.parent} -> {e.child} (input {i + 1}), label {e.label!r}"
            text, number = drawn[(e.parent, e.child)]
            assert text == ad.notation.pretty(e.label), where
            from_label = evaluate_label(text, values)
            assert from_label == pytest.approx(float(e.partial), rel=1e-9, abs=1e-12), where
            if number is not None:  # the number drawn below the label
                assert abs(float(number) - from_label) <= shown_tolerance(number) * 1.0001, (where, number)
            j = [k for k, tr in enumerate(traced) if tr].index(i)
            by_grad = ad.grad(op, argnums=j)(*var_args)
            assert from_label == pytest.approx(by_grad, rel=1e-9, abs=1e-12), where
            if name in NOT_THE_DERIVATIVE_OF_THE_VALUE:
                continue
            fd = finite_difference(lambda *a: float(prim.fn(*a)), args, i)
            if fd is None:
                continue
            assert from_label == pytest.approx(fd, rel=1e-6, abs=1e-8), (where, fd)
            checked += 1
    return checked


def test_every_structural_primitive_is_listed_with_its_reason():
    """The entries with a vector-Jacobian product (no scalar partials) are exactly those listed in STRUCTURAL."""
    with_vjp = {name for name, prim in P.TABLE.items() if prim.vjp is not None}
    unlisted = with_vjp - set(STRUCTURAL)
    assert not unlisted, (
        f"primitives {sorted(unlisted)} have a vector-Jacobian product and no scalar partials: list them in "
        "STRUCTURAL with the reason, or give them partials so their edge labels can be checked")
    assert set(STRUCTURAL) - set(P.TABLE) == set(), "STRUCTURAL lists primitives the table does not have"


@pytest.mark.parametrize("name", sorted(n for n, prim in P.TABLE.items() if prim.vjp is None))
def test_every_primitive_edge_label_matches_its_partial(name):
    prim = P.TABLE[name]
    n = prim.nargs if prim.nargs is not None else len(prim.partials)
    assert len(prim.labels) == len(prim.partials) == n, f"{name}: one label per partial"
    checked = check_primitive(name, prim, _cases(prim, n, np.random.default_rng(sum(map(ord, name)))))
    if name not in NOT_THE_DERIVATIVE_OF_THE_VALUE:
        assert checked >= 4, f"{name}: only {checked} edges could be checked against finite differences"


@pytest.mark.parametrize("exponent", [2.0, 3.0, 1.0, 0.0, -1.0, -2.0, 0.5, -0.5, 2.5])
def test_pow_labels_with_a_constant_exponent_are_simplified_and_right(exponent):
    """notation.edge_label writes x**2's partial as 2·v0, x**3's as 3·v0², x**-1's as -v0⁻²: each still right."""
    rng = np.random.default_rng(7)
    cases = [([float(b), exponent], [True, False]) for b in rng.uniform(0.3, 2.5, 4)]
    if float(exponent).is_integer():
        cases += [([-float(b), exponent], [True, False]) for b in rng.uniform(0.3, 2.5, 3)]
    assert check_primitive("pow", P.TABLE["pow"], cases) == len(cases)


def test_a_wrong_label_is_caught():
    """The check can fail: a label that says cos where the partial is -sin is found out."""
    values = {"v0": 0.7}
    assert evaluate_label("-sin(v₀)", values) == pytest.approx(-math.sin(0.7))
    assert evaluate_label("cos(v₀)", values) != pytest.approx(-math.sin(0.7))
    assert evaluate_label("1 + tan²(v₀)", values) == pytest.approx(1 / math.cos(0.7) ** 2)
    assert evaluate_label("σ(v₀)(1-σ(v₀))", values) == pytest.approx(math.exp(-0.7) / (1 + math.exp(-0.7)) ** 2)
    assert evaluate_label("[v₋₁ ≥ v₀]", {"v-1": 1.0, "v0": 0.7}) == 1.0
    assert evaluate_label("-v₋₁/v₀²", {"v-1": 1.0, "v0": 0.5}) == -4.0
    with pytest.raises(AssertionError, match="cannot be evaluated"):
        evaluate_label("erf(v₀)", values)
