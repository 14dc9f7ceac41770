"""A custom_vjp in the views: ad.trace, ad.draw, ad.explore and ad.check_grad.

The custom node is one row of the trace, named by the function, whose adjoints come
from its bwd; forward mode has no rule for it, so its tangent and every tangent that
depends on it are NOT_AVAILABLE ("n/a", with a note), never a number. Every number
asserted here is compared with ad.grad (or ad.jvp where forward mode is defined),
the drawings are rendered by the real Graphviz (embedded, and the system `dot`).
"""
from __future__ import annotations

import html
import math
import re
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import adteach as ad
from adteach.custom import ForwardModeUnavailable, rule_of
from adteach.drawing import draw, fixed
from adteach.notation import NOT_AVAILABLE, bar, dot, pretty
from adteach.trace import Trace

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's `dot` is not installed here")
RENDERERS = ["embedded", pytest.param("system", marks=needs_dot)]
NA = NOT_AVAILABLE


# --- the rules of lesson 17 (JAX's examples) ------------------------------------------------------
@ad.custom_vjp
def clip_gradient(x):
    return x


clip_gradient.defvjp(lambda x: (x, None), lambda _, g: (np.clip(g, -0.75, 0.75),))


def clipped_sin(x):
    return ad.sin(clip_gradient(x))


@ad.custom_vjp
def softplus(x):
    return ad.maximum(x, 0.0) + ad.log(1 + ad.exp(-ad.abs(x)))


softplus.defvjp(lambda x: (softplus(x), ad.sigmoid(x)), lambda s, g: (g * s,))


@ad.custom_vjp
def mul(a, b):
    return a * b


mul.defvjp(lambda a, b: (a * b, (a, b)), lambda r, g: (g * r[1], g * r[0]))


@ad.custom_vjp
def mul_wrong(a, b):
    return a * b


mul_wrong.defvjp(lambda a, b: (a * b, (a, b)), lambda r, g: (g * r[1], g * r[1]))  # b's cotangent is wrong


def scaled(x, w):
    """Upstream of the rule (sin), the rule, downstream of it (mul by w, add x)."""
    return w * clip_gradient(ad.sin(x)) + x


# --- ad.trace --------------------------------------------------------------------------------------
@pytest.mark.parametrize("x0", [0.0, 1.0, 2.5, -3.0])
def test_trace_shows_the_rule_as_one_row_with_adjoints_from_bwd(x0):
    t = ad.trace(clipped_sin, x0)
    assert [r.op for r in t.rows] == ["input", "clip_gradient", "sin"]
    row = t["v1"]
    assert row.expr == "clip_gradient(v0)" and row.primal == x0 and rule_of(row.node.prim) is clip_gradient
    # the adjoints are the reverse sweep's, through bwd: the gradient is cos x clipped to [-0.75, 0.75]
    assert t.gradient == (ad.grad(clipped_sin)(x0),)
    assert t.gradient[0] == pytest.approx(np.clip(math.cos(x0), -0.75, 0.75))
    assert t["v1"].adjoint == pytest.approx(math.cos(x0)) and t["v2"].adjoint == 1.0
    assert t.value == pytest.approx(math.sin(x0))
    # forward mode has no rule: the rule's tangent and the one after it are not available, never a number
    assert t["v0"].tangent == 1.0 and t["v1"].tangent is NA and t["v2"].tangent is NA and t.tangent is NA
    assert t.unavailable == ["v1", "v2"] and [t.names[n] for n in t.custom] == ["v1"]


def test_trace_text_html_and_latex_say_not_available_and_why():
    t = ad.trace(clipped_sin, 1.0)
    text = str(t)
    lines = text.splitlines()
    assert re.search(r"v₁\s+clip_gradient\(v₀\)\s+1\s+n/a\s+" + re.escape(ad.notation.number(math.cos(1.0))), text)
    assert lines[-1] == t.tangent_note
    assert t.tangent_note.startswith("n/a: not available. clip_gradient (v₁) is a custom_vjp")
    assert "no tangent rule" in t.tangent_note and "depend on it (v₂)" in t.tangent_note
    page = t._repr_html_()
    assert "<tfoot>" in page and html.escape(t.tangent_note) in page and page.count(">n/a</td>") == 2
    latex = t.to_latex()
    assert r"\operatorname{clip\_gradient}(v_{0})" in latex and "& n/a &" in latex
    assert r"clip\_gradient ($v_{1}$) is a custom\_vjp" in latex and "₁" not in latex
    # the adjoint trace writes the rule's own vector-Jacobian product, not a product with a partial
    assert t.reverse_text().splitlines() == ["v̄₂ = 1", "v̄₁ += v̄₂ * cos(v₁)", "v̄₀ += bwd(res, v̄₁)[0]"]


def test_tangents_upstream_stay_and_downstream_are_not_known():
    x0, w0 = 0.7, 2.0
    t = ad.trace(scaled, x0, w0)  # seed on x
    names = {r.op: r.name for r in t.rows}
    assert t[names["sin"]].tangent == pytest.approx(math.cos(x0))  # before the rule: forward mode as usual
    assert all(t[n].tangent is NA for n in t.unavailable)
    assert set(t.unavailable) == {names["clip_gradient"], names["mul"], names["add"]}
    assert t.gradient == pytest.approx(ad.grad(scaled, argnums=(0, 1))(x0, w0))
    # seeded on w, the rule's input does not move: its tangent is 0 whatever the rule, and the output's is known
    tw = ad.trace(scaled, x0, w0, seed=(0.0, 1.0))
    assert tw.unavailable == [] and tw[names["clip_gradient"]].tangent == 0.0
    assert tw.tangent == pytest.approx(math.sin(x0)) == pytest.approx(ad.grad(scaled, argnums=1)(x0, w0))
    assert "its tangent is 0" in tw.tangent_note and "n/a" not in str(tw).replace(tw.tangent_note, "")


def test_stop_gradient_after_the_rule_has_tangent_zero():
    def f(x):
        return x * ad.stop_gradient(clip_gradient(x))
    t = ad.trace(f, 1.5)
    sg = next(r for r in t.rows if r.op == "stop_gradient")
    assert sg.tangent == 0.0  # whatever its input's tangent: stop_gradient's tangent is 0
    # so the product's inputs have known tangents (1 and 0): forward mode gives a number, reverse mode's
    assert t.unavailable == [t.names[n] for n in t.custom]
    assert t.tangent == 1.5 == ad.grad(f)(1.5) and t.gradient == (1.5,)


def test_two_inputs_each_get_their_cotangent_from_bwd():
    def f(x, y):
        return mul(x, ad.sin(y))
    x0, y0 = 2.0, 3.0
    t = ad.trace(f, x0, y0)
    assert t.gradient == pytest.approx(ad.grad(f, argnums=(0, 1))(x0, y0))
    assert t.gradient == pytest.approx((math.sin(y0), x0 * math.cos(y0)))
    edges = [e for e in t.edges if e.child == "v2"]
    assert [(e.parent, e.label, e.partial) for e in edges] == [("v-1", "bwd[0]", None), ("v1", "bwd[1]", None)]
    terms = t.sweep("reverse").terms
    assert terms[("v-1", "v2", 0)] == pytest.approx(math.sin(y0)) and terms[("v1", "v2", 1)] == pytest.approx(x0)
    assert "v̄₋₁ += bwd(res, v̄₂)[0]" in t.reverse_text() and "v̄₁ += bwd(res, v̄₂)[1]" in t.reverse_text()
    assert t["v1"].tangent == 0.0 and t["v2"].tangent is NA  # sin(y) is before the rule, along seed (1, 0)


def test_arrays_through_a_stable_rule():
    xs = np.array([-1000.0, 0.3, 1000.0])
    f = lambda x: ad.sum(softplus(x))  # noqa: E731
    t = ad.trace(f, xs)
    g = ad.grad(f)(xs)
    np.testing.assert_allclose(t.gradient[0], g)
    np.testing.assert_allclose(g, [0.0, 1 / (1 + math.exp(-0.3)), 1.0])
    assert t["v1"].op == "softplus" and t["v1"].tangent is NA and t.tangent is NA
    assert "n/a" in str(t) and "softplus (v₁) is a custom_vjp" in str(t)


def test_the_sweeps_replay_the_rule():
    t = ad.trace(scaled, 0.7, 2.0)
    rv, fw = t.sweep("reverse"), t.sweep("forward")
    for k in range(rv.n_steps + 1):  # every step of the reverse sweep, ending at ad.grad's numbers
        state = rv.state(k)
        assert set(state.done) == set(rv.steps[:k])
    final = rv.state(rv.n_steps).values
    assert (final["v-1"], final["v0"]) == pytest.approx(ad.grad(scaled, argnums=(0, 1))(0.7, 2.0))
    # the term on the rule's edge is bwd's cotangent: w clipped to 0.75
    rule = t.names[t.custom[0]]
    (edge,) = [e for e in t.edges if e.child == rule]
    assert edge.label == "bwd" and edge.partial is None and not fw.carries(edge)
    assert rv.terms[(edge.parent, edge.child, 0)] == 0.75
    # forward: the known tangents are numbers, the others n/a, in the state and in the terms
    last = fw.state()
    assert last.values["v1"] == pytest.approx(math.cos(0.7)) and last.values[rule] is NA
    assert any(v is NA for v in fw.terms.values()) and all(
        v is NA or np.isfinite(v) for v in fw.terms.values())


def test_not_available_is_never_a_number():
    for op in (lambda: NA * 2.0, lambda: 1.0 + NA, lambda: float(NA), lambda: np.asarray(NA), lambda: -NA,
               lambda: NA < 1.0):
        with pytest.raises(ad.ADError, match="not available"):
            op()
    assert f"{NA:.4f}" == "n/a" and f"{NA:>6.2g}" == "   n/a" and repr(NA) == "NOT_AVAILABLE"
    assert type(NA)() is NA and fixed(NA) == "       n/a" and len(fixed(NA)) == len(fixed(1.0))


def test_forward_mode_itself_still_refuses_clearly():
    with pytest.raises(ForwardModeUnavailable, match="custom_vjp clip_gradient: it has a reverse-mode rule only"):
        ad.jvp(clipped_sin, (1.0,), (1.0,))
    with pytest.raises(ad.ADError) as info:
        ad.jacfwd(scaled)(0.7, 2.0)
    assert info.value.function == "clip_gradient"
    assert rule_of(ad.TABLE["sin"]) is None


# --- ad.draw -------------------------------------------------------------------------------------
_ASCII = str.maketrans("₋₀₁₂₃₄₅₆₇₈₉", "-0123456789")


def nodes_of(svg):
    out = {}
    for m in re.finditer(r'<g id="node\d+" class="node">\s*<title>(.*?)</title>(.*?)</g>', svg, re.S):
        texts = [html.unescape(t).strip() for t in re.findall(r"<text[^>]*>(.*?)</text>", m.group(2), re.S)]
        out[html.unescape(m.group(1))] = [t.translate(_ASCII) for t in texts if t]
    return out


def edges_of(svg):
    out = {}
    for m in re.finditer(r'<g id="edge\d+" class="edge">\s*<title>(.*?)</title>(.*?)</g>', svg, re.S):
        texts = [html.unescape(t).strip() for t in re.findall(r"<text[^>]*>(.*?)</text>", m.group(2), re.S)]
        out[html.unescape(m.group(1)).replace("&#45;", "-")] = [t.translate(_ASCII) for t in texts if t]
    return out


def shown(texts, name, mark=bar("v")[1:]):
    if "=" in texts:
        return texts[texts.index("=") + 1]
    return texts[texts.index(f"v{mark}{name[1:]}") + 1]


def num(x):
    return fixed(x).strip()


@pytest.mark.parametrize("renderer", RENDERERS)
def test_drawing_shows_the_rule_and_its_adjoints(renderer):
    x0, w0 = 0.7, 2.0
    svg = ad.draw(scaled, x0, w0, renderer=renderer).svg()
    ET.fromstring(svg.encode("utf-8"))
    t = ad.trace(scaled, x0, w0)
    rule = t.names[t.custom[0]]
    nodes = nodes_of(svg)
    assert nodes[rule][0] == f"{rule} = clip_gradient(v1)" and nodes[rule][1] == "custom_vjp: adjoints by bwd"
    gx, gw = ad.grad(scaled, argnums=(0, 1))(x0, w0)
    assert shown(nodes["v-1"], "v-1") == num(gx) and shown(nodes["v0"], "v0") == num(gw)
    assert shown(nodes[rule], rule) == num(w0)  # what arrives at the rule, unclipped
    assert shown(nodes["v1"], "v1") == num(0.75)  # what bwd sends on: clipped
    # the rule's edge says bwd and carries no number (the partials on the other edges do)
    assert edges_of(svg)[f"v1->{rule}"] == ["bwd"]
    assert edges_of(svg)["v-1->v1"] == ["cos(v-1)", "=", fixed(math.cos(x0), 8).strip()]
    png = ad.draw(scaled, x0, w0, renderer=renderer).png()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("renderer", RENDERERS)
def test_forward_drawing_says_not_available(renderer):
    x0 = 0.7
    d = ad.draw(scaled, x0, 2.0, mode="forward", renderer=renderer)
    svg = d.svg()
    nodes = nodes_of(svg)
    t = d.trace
    tangent = dot("v")[1:]
    assert shown(nodes["v1"], "v1", tangent) == num(math.cos(x0))  # sin's tangent, before the rule
    assert shown(nodes["v0"], "v0", tangent) == num(0.0)
    for name in t.unavailable:
        assert shown(nodes[name], name, tangent) == "n/a", name
    legend = " ".join(re.findall(r"<text[^>]*>(.*?)</text>", svg.split('class="node"')[0], re.S))
    assert "n/a: no tangent: clip_gradient is a custom_vjp," in html.unescape(legend)
    assert "n/a" not in ad.draw(scaled, x0, 2.0, renderer=renderer).source  # reverse mode has every number


def test_reverse_sweep_steps_through_the_rule():
    x0, w0 = 0.7, 2.0
    d = ad.draw(scaled, x0, w0)
    t = d.trace
    rule = t.names[t.custom[0]]
    rv = t.sweep("reverse")
    for k in range(d.n_steps + 1):
        nodes = nodes_of(d.at_step(k).svg())
        values = rv.state(k).values
        for name, v in values.items():
            texts = nodes[name]
            got = shown(texts, name) if "+" not in texts or "=" in texts else None
            if got is not None:
                assert got == (num(v) if v is not None else "?"), (k, name)
    # after the rule's step, v1 (sin) holds bwd's clipped cotangent
    k = rv.steps.index(rule) + 1
    assert rv.state(k).values["v1"] == 0.75 and rv.state(k - 1).values["v1"] is None
    assert shown(nodes_of(d.at_step(k).svg())["v1"], "v1") == num(0.75)


def test_forward_sweep_steps_past_the_rule_with_n_a():
    d = ad.draw(scaled, 0.7, 2.0, mode="forward")
    t = d.trace
    fw = t.sweep("forward")
    for k in range(d.n_steps + 1):
        nodes = nodes_of(d.at_step(k).svg())
        for name, v in fw.state(k).values.items():
            mark = dot("v")[1:]
            got = shown(nodes[name], name, mark)
            assert got == ("?" if v is None else "n/a" if v is NA else num(v)), (k, name)


def test_draw_of_a_trace_and_of_a_var_agree():
    t = ad.trace(clipped_sin, 2.0)
    assert ad.draw(t).source == ad.draw(clipped_sin, 2.0).source
    with ad.transforms.recording():
        y = clipped_sin(ad.Var(2.0, name="x"))
    src = ad.draw(y, mode="forward").source
    assert "n/a" in src and "bwd" in src and isinstance(ad.trace(y), Trace)


# --- ad.explore -------------------------------------------------------------------------------------
widgets = pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")


def test_explorer_reverse_mode_shows_the_rule_and_the_gradient():
    ex = ad.explore(scaled, x=(-3.0, 3.0), w=(0.5, 2.0), plot=False)
    try:
        for x0, w0 in ((0.7, 2.0), (0.2, 0.5), (-2.0, 1.5)):
            ex.set(x=x0, w=w0)
            assert ex.error is None and ex.gradient == pytest.approx(ad.grad(scaled, argnums=(0, 1))(x0, w0))
            assert ex.svg == draw(scaled, x0, w0).svg()[draw(scaled, x0, w0).svg().index("<svg"):]
            assert "clip_gradient" in ex.trace_html.value
        # stepping: at the rule's step the caption says the rule sends the adjoint
        rule = ex.trace.names[ex.trace.custom[0]]
        k = ex.trace.sweep("reverse").steps.index(rule) + 1
        ex.step = k
        assert f"{pretty(rule)} sends its adjoint {bar(rule)} to its inputs by its custom rule (bwd)" \
            in ex.step_caption.value
    finally:
        ex.close()


def test_explorer_forward_mode_says_not_available_and_steps_on():
    ex = ad.explore(scaled, x=(-3.0, 3.0), w=(0.5, 2.0), plot=False, mode="forward")
    try:
        ex.set(x=0.7, w=2.0)
        assert ex.error is None and ex.tangent is NA
        assert "∂scaled/∂x: not available in forward mode" in ex.readout.value
        assert "clip_gradient: a reverse-mode rule only" in ex.readout.value
        gx, gw = ad.grad(scaled, argnums=(0, 1))(0.7, 2.0)
        assert ad.notation.number(gx) in ex.readout.value  # the gradient, by reverse mode, for comparison
        assert "n/a where clip_gradient (a custom_vjp) has no tangent rule" in ex.step_caption.value
        t = ex.trace
        rule = t.names[t.custom[0]]
        fw = t.sweep("forward")
        ex.step = fw.steps.index(rule) + 1
        assert f"{pretty(rule)} gets no tangent" in ex.step_caption.value
        assert "clip_gradient is a custom_vjp" in ex.step_caption.value
        after = t.unavailable[-1]
        ex.step = fw.steps.index(after) + 1
        if ex.step < ex.n_steps:
            assert "it depends on clip_gradient" in ex.step_caption.value
        # along w the rule's input does not move: forward mode gives the number, equal to reverse mode's
        ex.seed = "w"
        ex.step = ex.n_steps
        assert ex.tangent == pytest.approx(gw) and "∂scaled/∂w = " in ex.readout.value
        png = ex._repr_mimebundle_()["image/png"]
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        ex.close()


def test_explorer_plot_draws_the_derivative_the_rule_gives():
    ex = ad.explore(clipped_sin, x=(-3.0, 3.0))
    try:
        panel = ex._panel
        assert type(panel).__name__ == "Curve1D" and "reverse mode" in panel.how
        expected = [ad.grad(clipped_sin)(float(x)) for x in panel.x]
        np.testing.assert_allclose(panel.dy, expected)
        np.testing.assert_allclose(panel.dy, np.clip(np.cos(panel.x), -0.75, 0.75))
        np.testing.assert_allclose(panel.y, np.sin(panel.x))
        assert "f'(x) (custom rule)" in [t.get_text() for t in panel.dax.get_legend().get_texts()]
        ex.mode = "forward"
        assert "clipped_sin'(0): not available in forward mode" in ex.readout.value
        assert ex.png[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        ex.close()


# --- ad.check_grad ------------------------------------------------------------------------------------
@pytest.mark.parametrize("x0", [-2.0, 0.3, 1.5])
def test_check_grad_accepts_a_correct_stable_rule(x0):
    c = ad.check_grad(softplus, x0)
    assert c.ok and c.errors[0]["status"] == "ok"
    assert c.reverse[0] == ad.grad(softplus)(x0) == pytest.approx(1 / (1 + math.exp(-x0)))
    assert c.forward == [None] and c.numerical[0] == pytest.approx(c.reverse[0], rel=1e-7)
    text = str(c)
    assert "all gradients agree" in text and re.search(r"x\s+\S+\s+n/a\s+", text)
    assert "forward: n/a: softplus has a reverse-mode rule" in text and html.escape(c.note) in c._repr_html_()


def test_check_grad_reports_a_wrong_bwd_naming_the_input():
    def f(x, y):
        return mul_wrong(x, ad.sin(y))
    c = ad.check_grad(f, 2.0, 3.0)
    assert not c and [e["status"] for e in c.errors] == ["ok", "MISMATCH"] and c.names == ["x", "y"]
    assert c.reverse == list(ad.grad(f, argnums=(0, 1))(2.0, 3.0))
    assert c.numerical[1] == pytest.approx(2.0 * math.cos(3.0), rel=1e-7)  # the true derivative
    text = str(c)
    assert "GRADIENTS DISAGREE" in text
    assert "  y: reverse mode, which uses the custom rule of mul_wrong, differs from the central difference" in text
    assert "  x:" not in text
    ok = ad.check_grad(lambda x, y: mul(x, ad.sin(y)), 2.0, 3.0)
    assert ok and ok.reverse == pytest.approx([math.sin(3.0), 2.0 * math.cos(3.0)])


def test_check_grad_reports_a_clipping_rule_where_it_clips():
    clipping = ad.check_grad(clipped_sin, 0.0)  # cos 0 = 1 is clipped to 0.75: by design not the derivative
    assert not clipping and clipping.errors[0]["status"] == "MISMATCH"
    assert clipping.reverse[0] == ad.grad(clipped_sin)(0.0) == 0.75
    assert clipping.numerical[0] == pytest.approx(1.0, rel=1e-7)
    assert "differs from the true derivative on purpose (clipping)" in str(clipping)
    not_clipping = ad.check_grad(clipped_sin, 1.0)  # cos 1 = 0.54: the rule passes it through
    assert not_clipping and not_clipping.reverse[0] == pytest.approx(math.cos(1.0))


def test_check_grad_without_a_rule_is_unchanged():
    c = ad.check_grad(lambda x: ad.sin(x) * x, 0.4)
    assert c and c.note is None and c.forward[0] == pytest.approx(c.reverse[0]) and "n/a" not in str(c)


def test_check_grad_of_the_rules_second_derivative():
    """grad(softplus) differentiates bwd's residual sigmoid(x): forward mode over it is refused, reverse mode checked."""
    c = ad.check_grad(ad.grad(softplus), 0.3)
    s = 1 / (1 + math.exp(-0.3))
    assert c and c.reverse[0] == pytest.approx(s * (1 - s)) == ad.grad(ad.grad(softplus))(0.3)
    assert c.forward == [None] and "softplus has a reverse-mode rule" in c.note
