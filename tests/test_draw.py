"""adteach.drawing with real rendering, no mocks: the embedded graphviz-pure program, and the
system `dot` where Graphviz is installed. Reference numbers: shared/REFERENCES.md."""
import html
import math
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import adteach as ad
from adteach.drawing import Drawing, GraphTooLarge, cache, fixed
from adteach.drawing.render import render_svg

ROOT = Path(__file__).resolve().parents[1]
needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's `dot` is not installed here (apt install graphviz)")
RENDERERS = ["embedded", pytest.param("system", marks=needs_dot)]
BAR, DOT = "\u0304", "\u0307"  # combining macron (v̄) and dot above (v̇)


def gw(x1, x2):
    """Griewank & Walther's example, written as their evaluation trace."""
    v1 = x1 / x2
    v2 = ad.sin(v1)
    v3 = ad.exp(x2)
    v4 = v1 - v3
    v5 = v2 + v4
    return v5 * v4


def baydin(x1, x2):
    return ad.log(x1) + x1 * x2 - ad.sin(x2)


def diamond(x, y, z):
    h1 = x * y
    h2 = y * z
    h = h1 * h2
    return h * h


GW = {  # name: (primal, tangent for seed (1, 0), adjoint), REFERENCES.md section 1
    "v-1": (1.5, 1, 3.011843327673907),
    "v0": (0.5, 0, -13.723961509314076),
    "v1": (3.0, 2.0, 1.5059216638369535),
    "v2": (0.1411200080598672, -1.979984993200891, 1.3512787292998718),
    "v3": (1.6487212707001282, 0, -2.843677466659611),
    "v4": (1.3512787292998718, 2.0, 2.843677466659611),
    "v5": (1.492398737359739, 0.020015006799109, 1.3512787292998718),
    "v6": (2.016646669428201, 3.011843327673907, 1),
}
BAYDIN = {  # REFERENCES.md section 2 (Baydin et al. 2018, Tables 2 and 3)
    "v-1": (2, 1, 5.5),
    "v0": (5, 0, 1.7163378145367738),
    "v1": (0.6931471805599453, 0.5, 1),
    "v2": (10, 5, 1),
    "v3": (10.693147180559945, 5.5, 1),
    "v4": (-0.9589242746631385, 0, -1),
    "v5": (11.652071455223084, 5.5, 1),
}


# --- reading an SVG back ---------------------------------------------------------------------
_ASCII = str.maketrans("₋₀₁₂₃₄₅₆₇₈₉", "-0123456789")


def plain(text):
    """Slide notation back to the trace's keys: "v̄₋₁" -> "v̄-1", "v₁ = sin(v₋₁)" -> "v1 = sin(v-1)"."""
    return text.translate(_ASCII)


def nodes_of(svg, raw=False):
    """{node name: [its texts, in order]} from Graphviz's SVG (subscripts read back as digits)."""
    out = {}
    for m in re.finditer(r'<g id="node\d+" class="node">\s*<title>(.*?)</title>(.*?)</g>', svg, re.S):
        texts = [html.unescape(t).strip() for t in re.findall(r"<text[^>]*>(.*?)</text>", m.group(2), re.S)]
        out[html.unescape(m.group(1))] = [t if raw else plain(t) for t in texts if t]
    return out


def shown(texts, name, mark=BAR):
    """The derivative a node shows: after '=' on a node that sums several terms, else after v̄name."""
    if "=" in texts:
        return texts[texts.index("=") + 1]
    return texts[texts.index(f"v{mark}{name[1:]}") + 1]


def num(x):
    return fixed(x).strip()


def geometry(svg):
    """Every coordinate of the picture (boxes, arrows, text positions), without the text."""
    return re.findall(r'(?:points|d|x|y|width|height|viewBox)="[^"]*"', svg)


# --- content --------------------------------------------------------------------------------
@pytest.mark.parametrize("renderer", RENDERERS)
def test_griewank_walther_reverse_shows_every_value_and_adjoint(renderer):
    svg = ad.draw(gw, 1.5, 0.5, renderer=renderer).svg()
    ET.fromstring(svg.encode("utf-8"))
    nodes = nodes_of(svg)
    assert set(GW) <= set(nodes)
    for name, (primal, _, adjoint) in GW.items():
        texts = nodes[name]
        assert texts[texts.index(name) + 1] == num(primal), name
        assert shown(texts, name) == num(adjoint), name
    assert nodes["v-1"][0] == "v-1 = x1" and nodes["v0"][0] == "v0 = x2"
    assert nodes["v2"][0] == "v2 = sin(v1)" and nodes["v6"][0] == "y = v6 = v5 * v4"
    # on a slide: v₋₁ (not "v minus 1"), the adjoint's bar on the v (v̄₋₁, not v-1̄)
    raw = nodes_of(svg, raw=True)
    assert raw["v-1"][0] == "v₋₁ = x1" and raw["v2"][0] == "v₂ = sin(v₁)" and f"v{BAR}₋₁" in raw["v-1"]
    assert "v-1" not in "".join(t for texts in raw.values() for t in texts)
    # the edge v1 -> v2 = sin(v1) carries the local partial cos(v1) = cos(3)
    assert "cos(v₁)" in svg and num(math.cos(3.0)) in svg.replace("&#45;", "-")


@pytest.mark.parametrize("renderer", RENDERERS)
def test_griewank_walther_forward_shows_tangents(renderer):
    svg = ad.draw(gw, 1.5, 0.5, mode="forward", seed=(1.0, 0.0), renderer=renderer).svg()
    nodes = nodes_of(svg)
    for name, (primal, tangent, _) in GW.items():
        assert shown(nodes[name], name, DOT) == num(tangent), name
    assert f"v{BAR}" not in svg  # no adjoints in forward mode


def test_constants_are_small_nodes_and_odd_values_have_fixed_width():
    d = ad.draw(lambda x: 2.0 * ad.exp(x) + 1e-7 * x - 123456.0, 3.0)
    assert '"v2_c0" [label="2"' in d.source and '"v2_c0" -> "v2"' in d.source  # v2 = 2 * v1
    assert '"v5_c1" [label="123456"' in d.source and "label=<2>" in d.source  # d(2 v1)/dv1 = 2, said once
    assert fixed(2 * math.exp(3) + 3e-7 - 123456) == "-1.234e+05" in d.source and fixed(1e-7) == " 1.000e-07"
    assert {len(fixed(x)) for x in (0.0, -0.0, 1.5, -13.72, 9999.99999, -1e-12, 3e8, math.nan, -math.inf)} == {10}


def test_diamond_makes_the_sum_of_paths_visible():
    """seed 002: x=3, y=2, z=1; h1=x*y, h2=y*z, h=h1*h2, o=h*h: ȳ = 144 + 144 = 288, h̄ = 12 + 12 = 24."""
    nodes = nodes_of(ad.draw(diamond, 3.0, 2.0, 1.0).svg())
    y = nodes["v-1"]
    assert y[0] == "v-1 = y"
    assert y[y.index(f"v{BAR}-1") + 1:] == ["144.0000", "+", "144.0000", "=", "288.0000"]
    h = nodes["v3"]
    assert h[h.index(f"v{BAR}3") + 1:] == ["12.0000", "+", "12.0000", "=", "24.0000"]
    expected = {"v-2": 96, "v-1": 288, "v0": 288, "v1": 48, "v2": 144, "v3": 24, "v4": 1}
    assert {n: shown(nodes[n], n) for n in expected} == {n: num(v) for n, v in expected.items()}
    assert nodes["v4"][0] == "f = v4 = v3 * v3"  # the inputs are called x, y, z, so the output is f


# --- step-through -----------------------------------------------------------------------------
def baydin_steps():
    """What the reverse sweep knows after each step, from REFERENCES.md section 2.

    Order: v5, v4, v3, v2, v1. v̄0 collects v̄4·cos(v0) at step 2 and v̄2·v-1 at step 4;
    v̄-1 collects v̄2·v0 at step 4 and v̄1/v-1 at step 5. Returns (known, partial, current) per step.
    """
    ref = {n: row[2] for n, row in BAYDIN.items()}
    cos5 = math.cos(5.0)
    steps = [({"v5": 1.0}, set(), None)]
    steps.append(({**steps[-1][0], "v3": ref["v3"], "v4": ref["v4"]}, set(), "v5"))
    steps.append(({**steps[-1][0], "v0": ref["v4"] * cos5}, {"v0"}, "v4"))
    steps.append(({**steps[-1][0], "v1": ref["v1"], "v2": ref["v2"]}, {"v0"}, "v3"))
    steps.append(({**steps[-1][0], "v-1": ref["v2"] * 5.0, "v0": ref["v0"]}, {"v-1"}, "v2"))
    steps.append(({**steps[-1][0], "v-1": ref["v-1"]}, set(), "v1"))
    assert steps[-1][0] == ref
    return steps


def test_baydin_reverse_sweep_step_by_step():
    g = ad.draw(baydin, 2.0, 5.0)
    assert g.n_steps == 5 and g.step is None
    for k, (known, partial, current) in enumerate(baydin_steps()):
        svg = g.at_step(k).svg()
        nodes = nodes_of(svg)
        for name in BAYDIN:
            texts = nodes[name]
            assert shown(texts, name) == (num(known[name]) if name in known else "?"), (k, name)
            assert ("+ ?" in texts) == (name in partial), (k, name)
        highlighted = {n for n, body in re.findall(r'<title>(.*?)</title>(.*?)</g>', svg, re.S)
                       if 'stroke="#d55e00"' in body.lower() and "->" not in html.unescape(n)}
        assert highlighted == ({current} if current else set()), k
        assert f"after step {k} of 5" in svg


def test_baydin_forward_sweep_step_by_step():
    """The forward sweep counts its steps as the reverse one: one per operation, the seeds known at step 0."""
    g = ad.draw(baydin, 2.0, 5.0, mode="forward")
    names = list(BAYDIN)
    assert g.n_steps == ad.draw(baydin, 2.0, 5.0).n_steps == 5
    for k in range(g.n_steps + 1):
        svg = g.at_step(k).svg()
        nodes = nodes_of(svg)
        for i, name in enumerate(names):
            expected = num(BAYDIN[name][1]) if i < 2 + k else "?"  # v-1, v0: the seed
            assert shown(nodes[name], name, DOT) == expected, (k, name)
        assert f"after step {k} of 5" in svg


def test_step_must_be_in_range():
    with pytest.raises(ad.ADError, match="from 0 to 6"):
        ad.draw(gw, 1.5, 0.5, step=7)
    with pytest.raises(ad.ADError, match="mode"):
        ad.draw(gw, 1.5, 0.5, mode="sideways")


# --- determinism and a layout that stays still -----------------------------------------------------
SOURCES = """
import sys
sys.path.insert(0, {tests!r})
import adteach as ad
from test_draw import gw, diamond, baydin
x = ad.Var(2.0, name="x"); y = x ** 3; y.backward(create_graph=True)
for d in (ad.draw(gw, 1.5, 0.5), ad.draw(gw, 1.5, 0.5, mode="forward", step=4), ad.draw(diamond, 3.0, 2.0, 1.0, step=2),
          ad.draw(baydin, 2.0, 5.0, edge_labels=False), ad.draw(x.grad)):
    sys.stdout.write(d.source + "\\n=====\\n")
""".format(tests=str(ROOT / "tests"))


def run_python(code, path=None, extra_env=None, flags=()):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8", **(extra_env or {})}
    if path is not None:
        env["PATH"] = str(path)
    proc = subprocess.run([sys.executable, *flags, "-c", code], env=env, cwd=ROOT, capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    return proc.stdout.decode("utf-8")


def test_dot_is_identical_in_every_process():
    first = run_python(SOURCES, extra_env={"PYTHONHASHSEED": "1"})
    second = run_python(SOURCES, extra_env={"PYTHONHASHSEED": "2"})
    assert first == second and first.count("digraph adteach {") == 5
    x = ad.Var(2.0, name="x")
    y = x ** 3
    y.backward(create_graph=True)
    here = [ad.draw(gw, 1.5, 0.5), ad.draw(gw, 1.5, 0.5, mode="forward", step=4),
            ad.draw(diamond, 3.0, 2.0, 1.0, step=2), ad.draw(baydin, 2.0, 5.0, edge_labels=False), ad.draw(x.grad)]
    assert first == "".join(d.source + "\n=====\n" for d in here)
    assert "0x" not in first  # no id()s


@pytest.mark.parametrize("renderer", RENDERERS)
def test_new_values_keep_the_layout_and_reuse_it_exactly(renderer):
    cache.clear()
    points = [(1.5, 0.5), (1.7, 0.6), (-2.25, 0.9), (1e-5, 3.0), (150.0, 0.01), (1.5, 0.5)]
    pictures = []
    for x1, x2 in points:
        d = ad.draw(gw, x1, x2, renderer=renderer)
        svg = d.svg()
        assert svg == render_svg(d.source, renderer)  # the reused layout is byte for byte Graphviz's own
        pictures.append(svg)
    assert cache.stats["fills"] >= 3
    assert all(geometry(p) == geometry(pictures[0]) for p in pictures)  # no node moved
    assert pictures[0] == pictures[-1]


# --- odd names, big graphs, arrays, higher order ------------------------------------------------------
ODD = ['say "hi" & <bye>', "αβγ ∂L/∂w ünïcødé", "x" * 200, "b\\s {b} [b]\nnl", "#1#000000"]


@pytest.mark.parametrize("renderer", RENDERERS)
def test_odd_names_never_break_the_drawing(renderer):
    xs = [ad.Var(float(i + 1), name=n) for i, n in enumerate(ODD)]
    y = xs[0] * xs[1] + ad.sin(xs[2]) * xs[3] - xs[4]
    svg = ad.draw(y, renderer=renderer).svg()
    ET.fromstring(svg.encode("utf-8"))
    heads = [t[0] for t in nodes_of(svg).values()]
    assert 'v-4 = say "hi" & <bye>' in heads and "v-3 = αβγ ∂L/∂w ünïcødé" in heads
    assert "v-2 = " + "x" * 23 + "…" in heads  # cut short
    assert "v-1 = b\\s {b} [b] nl" in heads
    assert "v0 = #1#000000" in heads
    assert shown(nodes_of(svg)["v0"], "v0") == num(-1.0)


def test_size_limit_refuses_with_a_hint():
    def long_sum(x):
        for _ in range(400):
            x = x * 1.0001 + 0.5
        return x
    with pytest.raises(GraphTooLarge) as info:
        ad.draw(long_sum, 1.0)
    message = str(info.value)
    assert "801 nodes" in message and "max_nodes=300" in message
    assert "arrays" in message and "max_nodes=None" in message
    assert len(ad.draw(long_sum, 1.0, max_nodes=None).trace.nodes) == 801  # allowed when asked for


def test_values_used_far_away_get_the_quick_layout():
    def reuse(x):
        y = x
        for _ in range(25):
            y = ad.sin(y) * 0.9 + x
        return y
    d = ad.draw(reuse, 0.3)
    assert 'splines="line"' in d.source and 'splines="line"' not in ad.draw(gw, 1.5, 0.5).source
    assert "<svg" in d.svg()


def test_arrays_show_shape_and_summary():
    w = np.array([[1.0, -2.0], [0.5, 3.0], [0.0, 1.0]])
    d = ad.draw(lambda w, x: ad.sum(ad.tanh(w @ x)), w, np.array([0.2, -0.4]))
    nodes = nodes_of(d.svg())
    assert nodes["v-1"] == ["v-1 = w (3, 2)", "v-1", "min", "-2.0000", "max", "3.0000",
                            f"v{BAR}-1", "min", "-0.3423", "max", "0.1711"]
    assert nodes["v0"] == ["v0 = x (2,)", "v0", "[", "0.2000", ",", "-0.4000", "]",
                           f"v{BAR}0", "[", "0.5996", ",", "1.0933", "]"]
    assert nodes["v3"] == ["y = v3 = sum(v2)", "v3", num(np.tanh(w @ [0.2, -0.4]).sum()), f"v{BAR}3", "1.0000"]


def test_higher_order_graphs():
    x = ad.Var(2.0, name="x")
    y = x ** 3
    y.backward(create_graph=True)
    nodes = nodes_of(ad.draw(x.grad).svg())
    assert nodes["v0"][0] == "v0 = x" and shown(nodes["v0"], "v0") == num(12.0)  # d/dx (3x²) = 6x = 12
    assert nodes["v3"][nodes["v3"].index("v3") + 1] == num(12.0)  # x.grad = 3x² = 12
    g = ad.draw(ad.grad(gw), 1.5, 0.5)  # the graph of the gradient computation itself
    out = g.trace.names[g.trace.output]
    assert g.trace.value == pytest.approx(GW["v-1"][2])
    assert nodes_of(g.svg())[out][1:3] == [out, num(GW["v-1"][2])]


# --- graphviz, Jupyter and missing renderers ----------------------------------------------------------
def test_digraph_is_a_graphviz_digraph_with_the_same_source(tmp_path):
    import graphviz
    d = ad.draw(gw, 1.5, 0.5)
    assert isinstance(d.digraph, graphviz.Digraph) and d.digraph.source == d.source
    before = d.svg()
    d.attr(rankdir="LR")  # passed on to the Digraph, as with torchviz's make_dot (the default is TB)
    assert d.source.endswith("\trankdir=LR\n}\n") and d.svg() != before
    assert d.render(str(tmp_path / "g")).endswith("g.svg") and (tmp_path / "g.svg").read_text().startswith("<?xml")
    assert d.save(tmp_path / "g.dot") and (tmp_path / "g.dot").read_text() == d.source
    assert d.pipe().startswith(b"<?xml")
    assert d.render(str(tmp_path / "g"), format="png").endswith("g.png")  # PNG too: tests/test_reach.py


def test_jupyter_display(tmp_path, monkeypatch, capsys):
    from IPython.core.formatters import DisplayFormatter
    d = ad.draw(gw, 1.5, 0.5)
    data, _ = DisplayFormatter().format(d)
    assert data["image/svg+xml"].lstrip().startswith("<?xml") and "Drawing" in data["text/plain"]
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot: even the Digraph shows itself, no ExecutableNotFound
    data, _ = DisplayFormatter().format(d.digraph)
    assert "graphviz-pure" in data["image/svg+xml"]
    assert "Traceback" not in "".join(capsys.readouterr())


NO_DOT = """
import adteach as ad
d = ad.draw(lambda x1, x2: ad.sin(x1) * x2, 1.5, 0.5, renderer={renderer!r})
print(d.svg() if {render!r} else "")
data = d._repr_mimebundle_()
assert {render!r} or d._repr_svg_() is None
print("=====" + "|".join(sorted(data)) + "=====" + data["text/plain"])
"""


def test_svg_without_system_dot_on_path(tmp_path):
    svg, rest = run_python(NO_DOT.format(renderer="auto", render=True), path=tmp_path).split("=====", 1)
    assert svg.lstrip().startswith("<?xml") and "graphviz-pure" in svg and nodes_of(svg)["v1"][0] == "v1 = sin(v-1)"
    assert rest.startswith("image/png|image/svg+xml|text/plain=====")


@pytest.mark.parametrize("renderer", ["system", "auto"])
def test_missing_renderer_shows_the_dot_source_not_a_traceback(tmp_path, renderer):
    flags, env = (), None
    if renderer == "auto":
        # no renderer at all: without site-packages (-S) graphviz-pure is not installed as far as
        # this interpreter knows (and PATH has no dot); numpy comes from a folder holding only it
        site = tmp_path / "site"
        site.mkdir()
        for name in ("numpy", "numpy.libs"):
            if (Path(np.__file__).parents[1] / name).exists():
                (site / name).symlink_to(Path(np.__file__).parents[1] / name)
        flags, env = ("-S",), {"PYTHONPATH": os.pathsep.join([str(ROOT), str(site)])}
    out = run_python(NO_DOT.format(renderer=renderer, render=False), path=tmp_path, flags=flags, extra_env=env)
    _, kinds, text = out.split("=====", 2)
    assert kinds == "text/plain" and "could not be drawn" in text
    assert ("apt install graphviz" if renderer == "system" else 'pip install "graphviz-pure') in text
    assert "digraph adteach {" in text and '"v-1" -> "v1"' in text


def test_jupyter_never_shows_a_traceback_for_a_missing_renderer(tmp_path, monkeypatch, capsys):
    from IPython.core.formatters import DisplayFormatter
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot here
    cache.clear()  # an SVG drawn earlier with dot would simply be shown again
    data, _ = DisplayFormatter().format(ad.draw(gw, 1.5, 0.5, renderer="system"))
    assert set(data) == {"text/plain"} and "could not be drawn" in data["text/plain"]
    assert '"v5" -> "v6"' in data["text/plain"]
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err


def test_drawing_imports_no_graphviz_and_works_in_any_import_order(tmp_path):
    code = ("import sys, adteach.drawing.render\nimport adteach as ad\n"
            "d = ad.draw(lambda x: ad.exp(x), 1.0)\nassert '<svg' in d.svg()\n"
            "assert 'graphviz' not in sys.modules\nassert isinstance(d, ad.Drawing)\nprint('ok')")
    assert run_python(code).strip() == "ok"


def test_draw_records_like_trace_for_a_function_that_calls_grad():
    """draw, trace and grad share one evaluation (ad.trace.evaluate), recording included.

    f(x) = x * d/dy (x * y) = x², so f'(3) = 6. A drawing that called f without recording
    took the inner gradient as a constant 3 and showed v̄ = 3.0000 on the input.
    """
    def f(x):
        return x * ad.grad(lambda y: x * y)(1.0)
    expected = ad.grad(f)(3.0)
    assert expected == 6.0 and ad.trace(f, 3.0).gradient == (6.0,)
    for renderer in ("embedded",):
        nodes = nodes_of(ad.draw(f, 3.0, renderer=renderer).svg())
        (leaf,) = [n for n, texts in nodes.items() if texts[0].endswith("= x")]
        assert shown(nodes[leaf], leaf) == num(expected)  # what the picture says, not only its trace
    forward = nodes_of(ad.draw(f, 3.0, mode="forward").svg())
    out = next(n for n, texts in forward.items() if texts[0].startswith("y = "))
    assert shown(forward[out], out, DOT) == num(expected)


def test_trace_is_a_module_and_a_function():
    import types
    import adteach.trace as trace_module
    from adteach.trace import Sweep, evaluate, trace
    assert isinstance(trace_module, types.ModuleType) and trace_module.Trace is ad.Trace
    assert ad.trace is trace_module and trace is trace_module.trace and callable(evaluate)
    assert ad.trace(lambda x: x * x, 2.0).gradient == (4.0,) == trace(lambda x: x * x, 2.0).gradient
    assert isinstance(ad.trace(lambda x: x * x, 2.0).sweep(), Sweep)
    code = ("import adteach.trace as m, sys\nfrom adteach.trace import trace\n"
            "assert m is sys.modules['adteach.trace'] and m.Trace.__module__ == 'adteach.trace'\n"
            "assert m(lambda x: x * x, 3.0).gradient == trace(lambda x: x * x, 3.0).gradient == (6.0,)\n"
            "import adteach as ad\nassert ad.trace is m\nprint('ok')")
    assert run_python(code).strip() == "ok"  # in a fresh process: the submodule imported first


def test_trace_keeps_repeated_arguments_apart():
    x = ad.Var(3.0)
    t = ad.trace(lambda a, b: a * b, x, x)
    assert len(t.inputs) == 2 and t.gradient == (3.0, 3.0)
    assert len(ad.trace(lambda a, b: a * b, 3.0, 3.0).inputs) == 2


# --- readable on a projector -------------------------------------------------------------------
def _px(svg):
    """(width of the picture, smallest text) in CSS px, as a browser shows the SVG at its own size."""
    width = float(re.search(r'<svg width="([\d.]+)pt"', svg).group(1)) * 4 / 3
    sizes = [float(x) * 4 / 3 for x in re.findall(r'font-size="([\d.]+)"', svg)]
    return width, min(sizes)


def gw_expression(x1, x2):
    """The same function as one Python expression: x1 / x2 three times, exp(x2) twice (12 nodes)."""
    return (ad.sin(x1 / x2) + x1 / x2 - ad.exp(x2)) * (x1 / x2 - ad.exp(x2))


def test_drawings_are_narrow_top_to_bottom_with_text_of_12px_or_more():
    """Left to right these were 1,200-2,100 px wide; top to bottom they fit a notebook column at 1024x768."""
    cases = [(gw, (1.5, 0.5), 592), (baydin, (2.0, 5.0), 592), (diamond, (3.0, 2.0, 1.0), 592),
             (gw_expression, (1.5, 0.5), 842)]  # 592: the column beside JupyterLab's file browser; 842 without
    for f, args, limit in cases:
        for kw in ({}, {"mode": "forward"}, {"step": 2}):
            d = ad.draw(f, *args, **kw)
            width, smallest = _px(d.svg())
            assert 'rankdir="TB"' in d.source
            assert width <= limit and smallest >= 12, (f.__name__, kw, width, smallest)
    # the output (where the reverse sweep starts) is the lowest node: the arrows point down, inputs to output
    svg = ad.draw(gw, 1.5, 0.5).svg()
    ys = {name: max(float(y) for y in re.findall(r'<text[^>]* y="([-\d.]+)"', body))
          for name, body in re.findall(r'<title>(v-?\d+)</title>(.*?)</g>', svg, re.S)}
    assert max(ys, key=ys.get) == "v6" and min(ys, key=ys.get) in ("v-1", "v0")


def test_zoom_scales_the_text_and_is_checked():
    small, big = ad.draw(gw, 1.5, 0.5), ad.draw(gw, 1.5, 0.5, zoom=1.5)
    (w1, s1), (w2, s2) = _px(small.svg()), _px(big.svg())
    assert s2 == pytest.approx(1.5 * s1) and 1.3 * w1 < w2 < 1.7 * w1
    assert big.at_step(2).zoom == 1.5 and _px(big.at_step(2).svg())[1] == pytest.approx(s2)
    for bad in (0, -1, 5, "big", float("nan"), True):
        with pytest.raises(ad.ADError, match="draw: zoom must be a number above 0"):
            ad.draw(gw, 1.5, 0.5, zoom=bad)
