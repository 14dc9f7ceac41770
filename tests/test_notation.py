"""adteach.notation: the one place for how names, adjoints, tangents, LaTeX and numbers are written."""
import math
import re
import unicodedata

import numpy as np
import pytest

import adteach as ad
from adteach import notation as N


def test_trace_names_read_as_subscripts_not_minus():
    assert N.pretty("v-1 / v0") == "v₋₁ / v₀"
    assert N.pretty("cos(v12) + v-10") == "cos(v₁₂) + v₋₁₀"
    # only whole trace names: a user's "xv1" or "v1_out" stays as it is, and so do numbers
    assert N.pretty("xv1 + v1_out - 1e-1") == "xv1 + v1_out - 1e-1"


def test_bar_and_dot_sit_on_the_letter():
    assert N.bar("v6") == "v\u0304₆" and N.bar("v-1") == "v\u0304₋₁"
    assert N.dot("v6") == "v\u0307₆" and N.dot("x1") == "\u1e8b₁"  # ẋ precomposed: one glyph
    assert N.bar("y") == "\u0233"  # ȳ
    # the mark never follows a digit (v6̄ renders as "v6¯" in JupyterLab's font)
    for name in ("v6", "v-1", "x2", "y", "w10"):
        for text in (N.bar(name), N.dot(name)):
            decomposed = unicodedata.normalize("NFD", text)
            marks = [i for i, c in enumerate(decomposed) if unicodedata.combining(c)]
            assert len(marks) == 1 and decomposed[marks[0] - 1].isalpha(), (name, text)
    assert N.bar("out") == "o\u0305u\u0305t\u0305" and N.dot("bias") == "(bias)˙"


def test_latex_subscripts():
    assert N.latex_name("v-1") == "v_{-1}" and N.latex_label("x1") == "x_{1}" and N.latex_label("w_2") == "w_{2}"
    assert N.latex_label("alpha") == "alpha" and N.latex_label("w_out") == r"w\_out"
    t = ad.trace(lambda x1, x2: x1 * x2, 2.0, 3.0)
    latex = t.to_latex()
    assert "$v_{-1} = x_{1}$ & $x_{1}$" in latex and "x1" not in latex


def test_pow_edge_labels_are_simplified_and_right():
    """2·v0 instead of 2·v0^(2-1): checked numerically against the partial on the edge."""
    def evaluate(label, x):
        expr = label.replace("·", "*").replace("v0", "x")
        expr = re.sub(r"[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+", lambda m: "**(" + m.group(0).translate(
            str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")) + ")", expr)
        return eval(expr.replace("^", "**"), {"x": x})
    for n, text in [(2, "2·v0"), (3, "3·v0²"), (1, "1"), (-1, "-v0⁻²"), (0.5, "0.5·v0^-0.5"), (-2, "-2·v0⁻³")]:
        t = ad.trace(lambda x: x ** n, 1.7)
        (edge,) = t.edges
        assert edge.label == text, n
        assert evaluate(edge.label, 1.7) == pytest.approx(float(edge.partial)), n
    # a traced exponent keeps the general form
    t = ad.trace(lambda x, k: x ** k, 2.0, 3.0)
    assert [e.label for e in t.edges] == ["v0·v-1^(v0-1)", "v-1^v0·log(v-1)"]


def test_one_number_formatter():
    assert N.number(0.1 + 0.2) == "0.3" and N.number(0.1 + 0.2, digits=None) == "0.30000000000000004"
    assert N.number(0.0) == "0" and N.number(None) == "" and N.number(ad.Var(2.5)) == "2.5"
    assert N.number(np.array([1.0, 2.5])) == "[1. , 2.5]"
    assert {len(N.fixed(x)) for x in (0.0, 1.5, -13.72, 9999.99999, -1e-12, 3e8, math.nan, -math.inf)} == {10}
    # the copies are gone: the trace, the drawings, the explorer and the magics use this one
    from adteach import ipython, trace
    from adteach.drawing import dot
    from adteach.explorer import widget
    assert trace._num is N.number and dot._num is N.number and widget._fmt is N.number and dot.fixed is N.fixed
    assert ipython._fmt(1 / 3) == repr(1 / 3) and ipython._seed(np.array([1 / 3, 0.0])) == "[0.3333333, 0]"
    assert ipython.number is N.number


def test_slider_readouts_have_a_fixed_number_of_decimals():
    assert [N.slider_format(s) for s in (0.01, 0.25, 0.005, 1, 5, 0.1)] == [".2f", ".2f", ".3f", ".0f", ".0f", ".1f"]
    ex = ad.explore(lambda x1, x2: x1 * x2, x1=(0.1, 3.0), x2=(0.0, 10.0), plot=False, graph=False)
    for s in ex.sliders.values():
        assert s.readout_format == N.slider_format(s.step)
        widths = {len(format(v, s.readout_format)) for v in np.arange(s.min, min(s.max, 9.99), s.step)}
        assert len(widths) == 1, (s.description, widths)  # "1.50", "1.51": the readout never jumps
    ex.close()


def test_output_adjoint_never_clashes_with_an_input():
    """An input called y: the output is z, its adjoint z̄; the caption names the output node's adjoint."""
    t = ad.trace(lambda x, y: x * y, 2.0, 3.0)
    assert t.output_label == "z" and "adjoint seed: v\u0304₁ = 1" in t.to_text() and "ȳ" not in t.to_text()
    ex = ad.explore(lambda x, y: x * y, x=(0.0, 4.0), y=(0.0, 4.0), plot=False, graph=False)
    ex.step = 0
    assert "ȳ" not in ex.step_caption.value and "v\u0304₁ = 1" in ex.step_caption.value
    ex.close()
