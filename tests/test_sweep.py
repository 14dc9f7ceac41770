"""One concept, one place: the trace's edge table and its Sweep are what every picture reads.

``Trace.sweep(mode)`` holds a sweep's steps and its state after k steps; the drawings
(``ad.draw(..., step=k)``) and the explorer's step control read it and re-derive nothing.
These tests change what the Sweep says and look for the change in the pictures, so a
presenter that recomputed the sweep its own way would fail them.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest

import adteach as ad
from adteach.drawing import fixed
from adteach.trace import Sweep, SweepState

ROOT = Path(__file__).resolve().parents[1]


def gw(x1, x2):
    v1 = x1 / x2
    v4 = v1 - ad.exp(x2)
    return (ad.sin(v1) + v4) * v4


def diamond(x, y, z):
    h = (x * y) * (y * z)
    return h * h


@ad.custom_vjp
def clip_gradient(x):
    return x


clip_gradient.defvjp(lambda x: (x, None), lambda _, g: (np.clip(g, -0.75, 0.75),))


def clipped(x1, x2):
    """A custom rule inside gw: its adjoints come from bwd, its tangent (and those after it) are n/a."""
    v1 = clip_gradient(x1 / x2)
    v4 = v1 - ad.exp(x2)
    return (ad.sin(v1) + v4) * v4


@pytest.mark.parametrize("f, args", [(gw, (1.5, 0.5)), (diamond, (3.0, 2.0, 1.0))])
def test_the_replayed_sweep_ends_where_the_sweep_ended(f, args):
    t = ad.trace(f, *args)
    for mode, final in (("reverse", t.adjoints), ("forward", t.tangents)):
        sweep = t.sweep(mode)
        assert isinstance(sweep, Sweep) and sweep is t.sweep(mode)  # made once
        assert sweep.n_steps == len(t.nodes) - len(t.inputs) == t.n_steps
        assert len(sweep.steps) == sweep.n_steps and sorted(sweep.steps) == sorted(t.reverse_order)
        last = sweep.state(sweep.n_steps)
        for node in t.nodes:
            assert last.values[t.names[node]] == pytest.approx(final[node]), (mode, t.names[node])
        finished = sweep.state()
        assert finished.current is None and finished.values == {t.names[n]: final[n] for n in t.nodes}
        # each step adds exactly the terms of the node it processes, in the sweep's order
        for k in range(1, sweep.n_steps + 1):
            before, after = sweep.state(k - 1), sweep.state(k)
            assert after.current == sweep.steps[k - 1] and after.done - before.done == {after.current}
    # forward: the terms into a node sum to its tangent; reverse: the terms out of a node sum to its adjoint
    fw, rv = t.sweep("forward"), t.sweep("reverse")
    for node in t.nodes:
        name = t.names[node]
        into = [fw.terms[(e.parent, e.child, e.index)] for e in t.edges if e.child == name]
        if into:
            assert sum(into) == pytest.approx(t.tangents[node]), name
        out = [rv.terms[(e.parent, e.child, e.index)] for e in t.edges if e.parent == name]
        if out:
            assert sum(out) == pytest.approx(t.adjoints[node]), name


def test_the_old_step_methods_are_views_of_the_sweep():
    t = ad.trace(gw, 1.5, 0.5)
    for k in range(t.n_steps + 1):
        state = t.sweep("reverse").state(k)
        assert t.reverse_state(k) == (state.values, state.current)
        assert t.forward_state(k) == t.sweep("forward").state(k).values
    assert t.reverse_order == t.sweep("reverse").steps
    assert t.forward_order == [t.names[v] for v in t.inputs] + t.sweep("forward").steps
    assert t.shares is t.sweep("reverse").terms
    with pytest.raises(ad.ADError, match="'forward' or 'reverse'"):
        t.sweep("sideways")


@pytest.mark.parametrize("f", [gw, clipped])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_the_drawing_shows_what_the_sweep_says(mode, f):
    """Change the Sweep's numbers: the drawing changes with them (it computes none of its own)."""
    t = ad.trace(f, 1.5, 0.5)
    sweep = t.sweep(mode)
    real = sweep.state
    for step in (None, 2):
        state = real(step)
        marked = {name: (None if v is None else 7.0 + i / 8) for i, (name, v) in enumerate(state.values.items())}
        sweep.state = lambda k=None, state=state, marked=marked: dataclasses.replace(state, values=marked)
        source = ad.draw(t, mode=mode, step=step).source
        for name, value in marked.items():
            if value is not None:
                assert fixed(value) in source, (mode, step, name)
        terms = dict(sweep.terms)
        sweep.__dict__["terms"] = {key: -123.25 for key in terms}
        source = ad.draw(t, mode=mode, step=step).source
        assert fixed(-123.25) in source, (mode, step)  # the sums on fan-out nodes are the Sweep's terms
        sweep.__dict__["terms"] = terms
    sweep.state = real


def test_a_custom_rule_is_replayed_like_any_step():
    """The rule's step sends bwd's cotangent (clipped); forward mode marks what it cannot know, never a number."""
    from adteach.notation import NOT_AVAILABLE
    t = ad.trace(clipped, 1.5, 0.5)
    rv, fw = t.sweep("reverse"), t.sweep("forward")
    rule = t.names[t.custom[0]]
    assert rv.n_steps == fw.n_steps == t.n_steps == len(t.nodes) - 2
    k = rv.steps.index(rule) + 1
    before, after = rv.state(k - 1), rv.state(k)
    assert before.values[rule] == pytest.approx(t.adjoints[t.custom[0]])  # complete before it is sent on
    assert abs(before.values[rule]) > 0.75
    x_over = t.names[t.custom[0].parents[0]]  # v1 = x1 / x2, the rule's input
    assert before.values[x_over] is None and after.values[x_over] == 0.75  # bwd's clipped cotangent
    assert rv.terms[(x_over, rule, 0)] == 0.75 and after.current == rule
    assert rv.state().values["v-1"] == ad.grad(clipped)(1.5, 0.5) == 0.75 / 0.5
    # forward: the rule's step and every later step that depends on it give n/a; the others their number
    for k in range(fw.n_steps + 1):
        state = fw.state(k)
        for name, v in state.values.items():
            if name not in state.done:
                assert v is None, (k, name)
            elif name in t.unavailable:
                assert v is NOT_AVAILABLE, (k, name)
            else:
                assert np.isfinite(v), (k, name)
    assert fw.state().values["v1"] == 1 / 0.5 and fw.state().values["v3"] == 0.0


def test_the_step_counts_are_one_count():
    t = ad.trace(diamond, 3.0, 2.0, 1.0)
    for mode in ("reverse", "forward"):
        d = ad.draw(t, mode=mode)
        assert d.n_steps == t.sweep(mode).n_steps
        with pytest.raises(ad.ADError, match=f"from 0 to {t.sweep(mode).n_steps}"):
            ad.draw(t, mode=mode, step=t.sweep(mode).n_steps + 1)
        assert f"after step 3 of {t.sweep(mode).n_steps}" in ad.draw(t, mode=mode, step=3).source


def test_the_explorer_steps_through_the_trace_sweep():
    pytest.importorskip("ipywidgets")
    from adteach.explorer import Explorer
    ex = Explorer(gw, x1=(0.1, 3.0), x2=(0.1, 2.0), plot=False)
    try:
        for mode in ("reverse", "forward"):
            ex.mode = mode
            sweep = ex.trace.sweep(mode)
            assert ex.n_steps == sweep.n_steps
            for k in range(1, sweep.n_steps):
                ex.step = k
                ex.refresh()
                current = ad.notation.pretty(sweep.state(k).current)
                assert f"step {k}/{sweep.n_steps}, {current} " in ex.step_caption.value, (mode, k)
                assert ex.svg is not None
    finally:
        ex.close()


PRESENTERS = ["adteach/trace.py", "adteach/notation.py", "adteach/ipython.py", *sorted(
    str(p.relative_to(ROOT)) for d in ("drawing", "explorer") for p in (ROOT / "adteach" / d).glob("*.py"))]


def test_one_partial_dispatch_outside_the_core():
    """The ONE / MINUS_ONE markers and the partial rules are read in adteach/edges.py only (among presenters)."""
    pattern = re.compile(r"\bMINUS_ONE\b|\bP\.ONE\b|\bis ONE\b|\.partials\[")
    assert pattern.search((ROOT / "adteach/edges.py").read_text())
    copies = [(f, n) for f in PRESENTERS for n, line in enumerate((ROOT / f).read_text().splitlines(), 1)
              if pattern.search(line)]
    assert copies == [], f"presenters reading the partial rules themselves (use adteach.edges): {copies}"


def test_presenters_format_numbers_with_notation():
    """No presenter writes a number with its own format spec: adteach.notation has the formatters."""
    own = re.compile(r"\{[^{}]*:[-+ 0-9]*\.?[0-9]*[gfe]\}|:\.[0-9]+[gfe]\"|%\.?[0-9]*[gfe]\b|array2string")
    allowed = {  # sizes of fonts and boxes in Graphviz units, pixels of a picture: not numbers a student reads
        "adteach/drawing/dot.py": ("zoom:g", "size * zoom:g"), "adteach/explorer/widget.py": ("_TABLE_PX",),
        "adteach/ipython.py": ("MAX_ZOOM:g", "{z:g}", "px['node']", "px['number']"),
        "adteach/notation.py": ("",)}
    found = []
    for f in PRESENTERS:
        for n, line in enumerate((ROOT / f).read_text().splitlines(), 1):
            if own.search(line) and not any(a in line for a in allowed.get(f, ())):
                found.append(f"{f}:{n}: {line.strip()}")
    assert found == [], "\n".join(found)


def test_sweep_state_is_plain_data():
    t = ad.trace(lambda x: ad.sum(ad.exp(x) * x), np.array([1.0, 2.0]))
    state = t.sweep("reverse").state(1)
    assert isinstance(state, SweepState) and state.step == 1 and not state.complete
    assert t.sweep("reverse").state().complete and state.current == t.sweep("reverse").steps[0]
