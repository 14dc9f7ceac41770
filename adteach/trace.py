"""The evaluation trace: the Wengert list as a table, numbered as in Griewank & Walther.

For f(x1, x2) the inputs are v₋₁ = x1 and v₀ = x2 (with n inputs: v₁₋ₙ ... v₀),
then every elementary operation gets the next number v1, v2, ... in the order it
ran. Each row shows the operation, its primal value, its tangent (forward mode,
for the seed direction) and its adjoint (reverse mode, for the output seed 1):

    A. Griewank and A. Walther, Evaluating Derivatives, 2nd ed., SIAM 2008, ch. 1.

A ``Trace`` holds the two things every picture of the computation reads, computed once:

* ``edges``, the edge table (``adteach.edges``): the local partial derivative on every
  edge, written ("cos(v0)") and evaluated;
* ``sweep(mode)``, the forward or reverse sweep as a ``Sweep``: its ``steps`` (one per
  operation, in the order the sweep processes them), ``n_steps``, and ``state(k)``, the
  ``SweepState`` after k steps (what is known, the node of step k, the term each edge has
  sent). At step 0 only the seeds are known (the inputs' tangents, the output's
  adjoint); step k processes the k-th operation.

The drawings (``ad.draw(..., step=k)``) and the explorer's step control read these and
re-derive nothing: a sweep run once is replayed, never recomputed another way.

A ``custom_vjp`` (``adteach.custom``) is one row, named by the function, whose adjoints come
from its ``bwd``. It has no tangent rule, so forward mode cannot compute its tangent, nor that
of any operation depending on it: those tangents are ``NOT_AVAILABLE`` (written "n/a", with a
note under the table saying why), never a number. The other rows keep their tangents; a
custom node none of whose inputs moves along the seed has tangent 0, whatever its rule, and
``stop_gradient`` after one has tangent 0 too.

Names are kept in ASCII as keys (``t["v-1"]``, ``Edge.label == "cos(v0)"``); the text,
HTML and LaTeX forms are written with ``adteach.notation`` (v₋₁, v̄₆, v̇₆, ``v_{-1}``).
"""
from __future__ import annotations

import functools
import html
import re
import sys
import types
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import notation
from . import primitives as P
from .custom import rule_of
from .edges import Edge
from .edges import table as _edge_table
from .forward import Dual
from .notation import NA_TEXT, NOT_AVAILABLE
from .primitives import ADError
from .tape import Var, _as_value, _local_vjp, backprop, graph_nodes
from .transforms import _param_names, recording

__all__ = ["trace", "Trace", "Row", "Edge", "Sweep", "SweepState", "evaluate", "NOT_AVAILABLE"]

MAX_ROWS_SHOWN = 40  # longer traces are shown with the middle elided


@dataclass(frozen=True)
class Row:
    name: str        # "v-1", "v0", "v1", ...
    label: str       # the user's name for an input ("x1"), "y" for the output, else ""
    op: str          # "input", "sin", "mul", ...
    expr: str        # "v-1 / v0"
    latex: str       # "\\frac{v_{-1}}{v_{0}}"
    primal: Any
    tangent: Any
    adjoint: Any
    node: Any = None


_num = notation.number
_latex_name = notation.latex_name


class Trace:
    """The evaluation trace of one computation (see ``trace``)."""

    def __init__(self, output, inputs=(), input_labels=(), tangent_seed=None, adjoint_seed=None, title=None):
        if type(output) is not Var:
            raise ADError("trace: the function's output does not depend on its inputs "
                          f"(it returned {type(output).__name__} {output!r}), so there is nothing to trace")
        nodes = graph_nodes(output)
        leaves = [n for n in nodes if n.prim is None]
        given = set(inputs)
        # every given input keeps its number, even one the output does not use
        ordered_inputs = list(inputs) + [v for v in leaves if v not in given]
        ops = [n for n in nodes if n.prim is not None]
        self.output = output
        self.inputs = ordered_inputs
        self.nodes = ordered_inputs + ops
        n_in = len(ordered_inputs)
        self.names = {node: f"v{k - n_in + 1}" for k, node in enumerate(self.nodes)}
        labels = dict(zip(inputs, input_labels))
        self.labels = {v: labels.get(v) or v.name or self.names[v] for v in ordered_inputs}
        self.title = title
        taken = set(self.labels.values())
        # the output's name: one letter if one is free, so its adjoint reads ȳ (or z̄ ...), never an input's
        self.output_label = next(n for n in ("y", "z", "f", "u", "out", "output") if n not in taken)

        # the forward sweep: tangents, using the same partials as Dual numbers
        tangent_seed = list(tangent_seed) if tangent_seed is not None else [1.0]
        self.tangent_seed = [
            (_as_value(tangent_seed[k]) if k < len(tangent_seed) else 0.0) * (np.ones_like(v.value) if v.ndim else 1.0)
            for k, v in enumerate(ordered_inputs)]
        tangent = dict(zip(ordered_inputs, self.tangent_seed))
        self.custom = []  # the custom_vjp nodes: their tangents have no rule
        for node in ops:
            tangent[node] = self._tangent(node, tangent)
        self.tangents = tangent
        #: trace names whose tangent forward mode cannot compute (a custom_vjp and what depends on it)
        self.unavailable = [self.names[n] for n in ops if tangent[n] is NOT_AVAILABLE]

        # the reverse sweep: adjoints
        if adjoint_seed is None:
            adjoint_seed = np.ones_like(output.value) if output.ndim else 1.0
        self.adjoint_seed = _as_value(adjoint_seed)
        adj = backprop(output, self.adjoint_seed)
        self.adjoints = {n: adj.get(n, np.zeros_like(n.value) if np.ndim(n.value) else 0.0) for n in self.nodes}

        self.rows = [self._row(n) for n in self.nodes]
        self.edges = _edge_table(ops, self.names)  # the one edge table (adteach.edges)
        self._sweeps = {}

    def _tangent(self, node, tangent):
        """The node's tangent from its inputs' tangents (as Dual numbers compute it), or NOT_AVAILABLE."""
        inputs = [tangent[p] for p in node.parents if type(p) is Var]
        unknown = any(t is NOT_AVAILABLE for t in inputs)
        if rule_of(node.prim) is not None:  # a custom_vjp: a reverse-mode rule only
            self.custom.append(node)
            if unknown or any(np.any(t) for t in inputs):
                return NOT_AVAILABLE
            # none of its inputs moves along the seed, so its output does not either: 0 whatever the rule
            return np.zeros_like(node.value) if np.ndim(node.value) else 0.0
        if unknown:
            if node.prim.name == "stop_gradient":  # its tangent is 0 whatever its input's is
                return np.zeros_like(node.value) if np.ndim(node.value) else 0.0
            return NOT_AVAILABLE
        args = [Dual(p.value, tangent[p]) if type(p) is Var else p for p in node.parents]
        return P.apply(node.prim, *args, **(node.aux or {})).tangent

    @property
    def tangent_note(self):
        """Why some tangents are "n/a" (a custom_vjp has no tangent rule), or None when every one is known."""
        return self._tangent_note(notation.pretty, str)

    def _tangent_note(self, name, text):
        """The note with trace names written by ``name`` and other text made safe by ``text``."""
        if not self.custom:
            return None
        rules = [f"{text(n.op)} ({name(self.names[n])})" for n in self.custom]
        one = len(rules) == 1
        kind = text("custom_vjp")
        who = (f"{rules[0]} is a {kind}" if one else f"{', '.join(rules[:-1])} and {rules[-1]} are {kind}s")
        if not self.unavailable:
            return (f"{who}: a reverse-mode rule (bwd), no tangent rule; here none of {'its' if one else 'their'} "
                    f"inputs moves along the seed, so {'its tangent is' if one else 'their tangents are'} 0. "
                    "The adjoints come from bwd.")
        own = {self.names[n] for n in self.custom}
        after = [a for a in self.unavailable if a not in own]
        downstream = (f", nor the tangents that depend on {'it' if one else 'them'} "
                      f"({', '.join(name(a) for a in after)})") if after else ""
        return (f"{NA_TEXT}: not available. {who}: {'it has' if one else 'they have'} a reverse-mode rule (bwd) "
                f"and no tangent rule, so forward mode cannot compute {'its' if one else 'their'} tangent"
                f"{downstream}. The adjoints come from bwd (reverse mode uses the rule).")

    # --- building rows and edges -------------------------------------------------
    def expr(self, node, latex=False):
        """The operation of a node written with the names of its inputs."""
        if node.prim is None:
            return notation.latex_label(self.labels[node]) if latex else self.labels[node]
        refs = [(_latex_name(self.names[p]) if latex else self.names[p]) if type(p) is Var else _num(p)
                for p in node.parents]
        template = node.prim.latex if latex else node.prim.fmt
        aux = node.aux or {}
        return template.format(*refs, all=", ".join(refs), index=_index_text(aux.get("index")))

    def _row(self, node):
        label = self.labels.get(node, "") if node.prim is None else (self.output_label if node is self.output else "")
        return Row(self.names[node], label, node.op, self.expr(node), self.expr(node, latex=True),
                   node.value, self.tangents[node], self.adjoints[node], node)

    # --- results -----------------------------------------------------------------
    @property
    def value(self):
        return self.output.value

    @property
    def gradient(self):
        """The adjoints of the inputs: the gradient (for adjoint seed 1)."""
        return tuple(float(g) if np.ndim(g) == 0 else g for g in (self.adjoints[v] for v in self.inputs))

    @property
    def tangent(self):
        """The output's tangent: the directional derivative along the tangent seed
        (``NOT_AVAILABLE`` when it depends on a custom_vjp, see ``tangent_note``)."""
        return self.tangents[self.output]

    @functools.cached_property
    def _by_name(self):
        return {self.names[n]: n for n in self.nodes}

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, name):
        """A row by trace name: ``t["v3"]``."""
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"no node {name!r} in this trace (it has {self.rows[0].name} to {self.rows[-1].name})")

    # --- step-through ---------------------------------------------------------------
    def sweep(self, mode="reverse"):
        """The forward ("forward": tangents) or reverse ("reverse": adjoints) sweep, step by step."""
        if mode not in ("forward", "reverse"):
            raise ADError(f"trace: a sweep is 'forward' or 'reverse', not {mode!r}")
        if mode not in self._sweeps:
            self._sweeps[mode] = Sweep(self, mode)
        return self._sweeps[mode]

    @property
    def n_steps(self):
        """Steps of either sweep: one per operation (the same count forward and reverse)."""
        return self.sweep("reverse").n_steps

    @property
    def forward_order(self):
        """Trace names in the order the forward sweep computes them (the inputs, then its steps)."""
        return [self.names[n] for n in self.inputs] + self.sweep("forward").steps

    @property
    def reverse_order(self):
        """Trace names of the operations in the order the reverse sweep processes them."""
        return self.sweep("reverse").steps

    def forward_state(self, k):
        """Tangents known after k steps of the forward sweep: {name: tangent or None} (``sweep("forward")``)."""
        return self.sweep("forward").state(k).values

    def reverse_state(self, k):
        """The reverse sweep after k steps: ``(adjoints, current)`` (``sweep("reverse").state(k)``).

        ``adjoints`` maps each trace name to its adjoint *so far* (None while nothing has
        reached it; a partial sum while some paths are still to come), and ``current`` is
        the name of the node processed at step k (None for k = 0).
        """
        state = self.sweep("reverse").state(k)
        return state.values, state.current

    @property
    def shares(self):
        """What the reverse sweep sends along each edge: ``{(parent, child, index): share}``."""
        return self.sweep("reverse").terms

    # --- text, HTML, LaTeX -------------------------------------------------------------
    def _display_rows(self):
        rows = self.rows
        if len(rows) > MAX_ROWS_SHOWN:
            head, tail = rows[:MAX_ROWS_SHOWN - 10], rows[-10:]
            return head, len(rows) - len(head) - len(tail), tail
        return rows, 0, []

    def _cells(self, row):
        name = f"{row.name} = {row.label}" if row.label else row.name
        return [notation.pretty(name), notation.pretty(row.expr), _num(row.primal), _num(row.tangent), _num(row.adjoint)]

    HEADER = ("v", "operation", "primal v", "tangent v\u0307", "adjoint v\u0304")

    def _caption(self):
        seeds = ", ".join(f"{notation.dot(self.names[v])} = {_num(t)}" for v, t in zip(self.inputs, self.tangent_seed))
        title = self.title or "Evaluation trace"
        out = notation.bar(self.names[self.output])
        return f"{title}  (tangent seed: {seeds}; adjoint seed: {out} = {_num(self.adjoint_seed)})"

    def to_text(self):
        head, skipped, tail = self._display_rows()
        table = [list(self.HEADER)] + [self._cells(r) for r in head]
        if skipped:
            table.append([f"... {skipped} rows ...", "", "", "", ""])
        table += [self._cells(r) for r in tail]
        widths = [max(notation.width(r[c]) for r in table) for c in range(5)]
        lines = [self._caption()]
        for r in table:
            lines.append("  ".join(notation.ljust(cell, w) for cell, w in zip(r, widths)).rstrip())
        if self.tangent_note:
            lines.append(self.tangent_note)
        return "\n".join(lines)

    __str__ = to_text

    def __repr__(self):
        return self.to_text()

    def _repr_html_(self):
        head, skipped, tail = self._display_rows()
        th = "".join(f"<th>{h}</th>" for h in self.HEADER)

        def tr(r):
            cells = self._cells(r)
            style = ' style="font-weight:bold"' if r.node is self.output else ""
            return f"<tr{style}>" + "".join(
                f'<td style="text-align:{"left" if c < 2 else "right"};font-family:monospace">'
                f"{html.escape(cell)}</td>" for c, cell in enumerate(cells)) + "</tr>"
        body = "".join(tr(r) for r in head)
        if skipped:
            body += f'<tr><td colspan="5">… {skipped} rows …</td></tr>'
        body += "".join(tr(r) for r in tail)
        foot = (f'<tfoot><tr><td colspan="5" style="text-align:left;white-space:normal">'
                f"<i>{html.escape(self.tangent_note)}</i></td></tr></tfoot>") if self.tangent_note else ""
        return (f'<table class="adteach-trace"><caption>{html.escape(self._caption())}</caption>'
                f"<thead><tr>{th}</tr></thead><tbody>{body}</tbody>{foot}</table>")

    def to_latex(self):
        """The trace as a LaTeX ``tabular`` (for slides and papers)."""
        lines = [r"\begin{tabular}{llrrr}",
                 r"$v_i$ & operation & primal $v_i$ & tangent $\dot{v}_i$ & adjoint $\bar{v}_i$ \\ \hline"]
        for r in self.rows:
            name = _latex_name(r.name) + (f" = {notation.latex_label(r.label)}" if r.label else "")
            lines.append(f"${name}$ & ${r.latex}$ & {_num(r.primal)} & {_num(r.tangent)} & {_num(r.adjoint)} \\\\")
        if self.tangent_note:
            note = self._tangent_note(lambda n: f"${_latex_name(n)}$", _latex_text)
            lines.append(r"\hline \multicolumn{5}{p{0.9\linewidth}}{\footnotesize " + note + r"} \\")
        lines.append(r"\end{tabular}")
        return "\n".join(lines)

    def reverse_text(self):
        """The adjoint trace, statement by statement, as in Griewank & Walther:

        ``v̄₄ += v̄₆ * v₅`` ... (the local partial is written symbolically).
        """
        bar = notation.bar
        lines = [f"{bar(self.names[self.output])} = {_num(self.adjoint_seed)}"]
        by_child = {}
        for e in self.edges:
            by_child.setdefault(e.child, []).append(e)
        for name in self.reverse_order:
            node = self._by_name[name]
            for e in by_child.get(name, []):
                if rule_of(node.prim) is not None:  # the rule's own vector-Jacobian product
                    lines.append(f"{bar(e.parent)} += bwd(res, {bar(name)})[{e.index}]")
                    continue
                factor = "" if e.label == "1" else f" * {e.label}" if not e.label.startswith("-") else f" * ({e.label})"
                lines.append(f"{bar(e.parent)} += {bar(name)}{notation.pretty(factor)}")
        return "\n".join(lines)


@dataclass(frozen=True)
class SweepState:
    """A sweep after ``step`` of its steps (``Sweep.state``)."""
    sweep: "Sweep"
    step: int             # 0 ... n_steps
    current: str | None   # the node processed at this step (None at step 0 and for the finished sweep)
    done: frozenset       # names whose step has run (forward: the inputs too, seeded at step 0)
    values: dict          # name -> its tangent / adjoint known so far (None: not yet)

    def term(self, edge):
        """The term ``edge`` has added to a sum by now (None: not yet, or a structural forward edge)."""
        if edge.child not in self.done:
            return None
        return self.sweep.terms.get((edge.parent, edge.child, edge.index))

    @property
    def complete(self):
        return self.step == self.sweep.n_steps


class Sweep:
    """One sweep of a ``Trace``, replayable step by step (made by ``Trace.sweep``).

    ``mode``     "forward" (tangents v̇, inputs first) or "reverse" (adjoints v̄, output first)
    ``steps``    the trace names of the operations, in the order this sweep processes them
    ``n_steps``  how many steps: one per operation, in either mode
    ``terms``    ``{(parent, child, index): term}``: what each edge contributes to a sum,
                 v̄_child · partial (the child's vector-Jacobian product) in reverse mode,
                 partial · v̇_parent in forward mode (structural edges: none)
    ``state(k)`` the ``SweepState`` after k steps; ``state()`` the finished sweep, whose
                 values are the trace's tangents or adjoints themselves
    """

    def __init__(self, trace, mode):
        self.trace, self.mode = trace, mode
        ops = [n for n in trace.nodes if n.prim is not None]
        self._order = ops if mode == "forward" else ops[::-1]
        self.steps = [trace.names[n] for n in self._order]
        self.n_steps = len(self.steps)
        self._final = trace.tangents if mode == "forward" else trace.adjoints

    @functools.cached_property
    def terms(self):
        trace = self.trace
        by_name = {trace.names[n]: n for n in trace.nodes}
        terms = {}
        for e in trace.edges:
            child = by_name[e.child]
            if self.mode == "reverse":
                inputs = [p.value if type(p) is Var else p for p in child.parents]
                terms[(e.parent, e.child, e.index)] = _local_vjp(
                    child.prim, e.index, trace.adjoints[child], inputs, child.value, child.aux)
            elif self.carries(e):
                t = trace.tangents[by_name[e.parent]]
                terms[(e.parent, e.child, e.index)] = NOT_AVAILABLE if t is NOT_AVAILABLE else e.partial * t
        return terms

    def carries(self, edge):
        """True when this sweep sends a term along ``edge``: every edge in reverse mode; in forward mode
        the edges with a scalar partial (a structural operation's tangent is the operation applied to
        its inputs' tangents, not a sum of terms)."""
        return self.mode == "reverse" or edge.partial is not None

    def state(self, k=None):
        """The sweep after ``k`` steps (clamped to 0 ... n_steps; None: all of them)."""
        trace, names = self.trace, self.trace.names
        complete = k is None
        k = self.n_steps if complete else max(0, min(int(k), self.n_steps))
        processed = self._order[:k]
        current = self.steps[k - 1] if k and not complete else None  # finished: nothing highlighted
        if self.mode == "forward":
            known = list(trace.inputs) + processed
            done = frozenset(names[n] for n in known)
            values = {names[n]: (self._final[n] if names[n] in done else None) for n in trace.nodes}
            return SweepState(self, k, current, done, values)
        done = frozenset(self.steps[:k])
        if complete:
            values = {names[n]: self._final[n] for n in trace.nodes}
        else:  # the adjoints so far: the seed, plus every term sent by the steps that have run
            acc = {trace.output: trace.adjoint_seed}
            terms = self.terms
            for node in processed:
                for i, p in enumerate(node.parents):
                    if type(p) is Var:
                        c = terms[(names[p], names[node], i)]
                        acc[p] = c if p not in acc else acc[p] + c
            values = {names[n]: acc.get(n) for n in trace.nodes}
        return SweepState(self, k, current, done, values)


def _latex_text(s):
    """Plain text made safe inside a LaTeX table."""
    special = {"\\": r"\textbackslash{}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
    return re.sub(r"[\\_&%#${}~^]", lambda m: special.get(m.group(), "\\" + m.group()), s)


def _index_text(index):
    if index is None:
        return ""
    if isinstance(index, tuple):
        return ", ".join(_index_text(i) for i in index)
    if isinstance(index, slice):
        return f"{'' if index.start is None else index.start}:{'' if index.stop is None else index.stop}"
    return str(index)


def evaluate(f, args):
    """Call ``f`` on leaves named after its parameters, recording: ``(output, leaves, names)``.

    The one place that turns ``f(*values)`` into a recorded graph, for ``trace``, ``draw``
    and ``explore`` alike (recording, so a ``grad`` inside ``f`` is differentiated too).
    Each argument gets its own leaf, so ``trace(f, x, x)`` has two inputs.
    """
    names = _param_names(f, len(args))
    leaves, seen = [], set()
    for a, n in zip(args, names):
        if type(a) is not Var:
            a = Var(_as_value(a), name=n)
        elif id(a) in seen:  # the same Var passed twice: a second input of its own
            a = Var(a.value, name=a.name or n)
        seen.add(id(a))
        leaves.append(a)
    with recording():
        out = f(*leaves)
    if isinstance(out, (list, tuple)):
        out = P.stack(out)
    return out, leaves, names


def trace(f, *args, seed=None, adjoint_seed=None, name=None):
    """The evaluation trace of ``f`` at ``args`` (or of an already computed Var).

    ``seed`` is the tangent direction (default: ones on the first input, zeros on the others);
    ``adjoint_seed`` the output's adjoint (default 1). The result prints as a table,
    shows as HTML in Jupyter and has ``to_latex()``; its ``rows`` hold the numbers.
    ``name`` says what is traced in the title (default: the function's name).
    """
    if type(f) is Var:
        if args:
            raise ADError("trace(y) takes a Var alone; to trace a function, call trace(f, *args)")
        return Trace(f, tangent_seed=seed, adjoint_seed=adjoint_seed)
    if not callable(f):
        raise ADError(f"trace needs a function and its arguments (or a Var), got {type(f).__name__}")
    out, leaves, names = evaluate(f, args)
    if name is None:
        name = getattr(f, "__name__", "f")
        name = "f" if name == "<lambda>" else name
    at = ", ".join(f"{n}={_num(v.value)}" for n, v in zip(names, leaves))
    return Trace(out, leaves, [v.name or n for v, n in zip(leaves, names)], seed, adjoint_seed,
                 f"Evaluation trace of {name} at {at}")


class _CallableModule(types.ModuleType):
    """``import adteach.trace`` gives this module, and ``ad.trace(f, *args)`` still calls ``trace``."""

    def __call__(self, *args, **kwargs):
        return trace(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
