"""The DOT text of a computational graph, written from an evaluation ``Trace``.

Each node is a small table: its trace name and operation, then its primal value
and, depending on the mode, its adjoint v̄ (reverse) or tangent v̇ (forward).
Each edge carries the local partial derivative, the chain-rule factor of that
edge, with its value below it. Where several paths meet, the node shows the sum
of their contributions, one term under the other.

Readable on a projector: the graph runs top to bottom (``rankdir=TB``, inputs at the
top, the output at the bottom; arrows point from an operation's inputs to its result)
so a graph of up to 20 nodes is a few boxes wide, and at zoom 1 the smallest text is
10 pt, 13.3 CSS px when the SVG is shown at its own size (as JupyterLab shows it).

Every number is written with exactly ``WIDTH`` characters in a monospaced font
(see ``fixed``), so when only the input values change the boxes keep their size
and Graphviz places every node where it was: the picture does not jump.

``dot_parts`` returns the DOT cut around its numbers, ``(literals, numbers)``;
joined back together they are the DOT source. The numbers are kept apart so that
a layout can be reused when only they change (see ``adteach.drawing.cache``).
"""
from __future__ import annotations

import functools
import html
import re

import numpy as np

from ..notation import EDGE_WIDTH, NA_TEXT, NOT_AVAILABLE, WIDTH, bar, dot, fixed, pretty
from ..notation import zoom as _zoom
from ..notation import number as _num
from ..tape import Var

__all__ = ["fixed", "dot_parts", "WIDTH", "PALETTE", "FONT_PT"]

MAX_TERMS = 4       # a sum of more contributions is written as "sum of n terms"
MAX_NAME = 24       # longer input names are cut short with an ellipsis
MAX_EXPR = 40       # the same for a node's operation text
LONG_EDGES = 300    # beyond this (see _long_edges) Graphviz's careful layout takes seconds to minutes
#: Font sizes in points at zoom 1 (shown at its own size, 1 pt = 4/3 CSS px): the smallest, 10 pt,
#: is 13.3 px, above the 12 px a projected notebook needs; a drawing of up to 20 nodes still fits
#: the notebook column of JupyterLab at 1024x768 (about 590 px beside the file browser).
FONT_PT = {"node": 11, "number": 10, "edge": 10, "const": 10, "title": 11}
NUMBER_FONT = "Courier"  # fixed-width in every Graphviz build (graphviz-pure treats "monospace" as proportional)

# Okabe & Ito's palette, safe for the common colour-vision deficiencies; the kinds of node
# also differ in shape and border, so nothing depends on colour alone.
PALETTE = {
    "input": ("#CCE8F8", "#0072B2"),     # sky-blue fill, blue border; square corners
    "op": ("#FFFFFF", "#555555"),        # white, grey border; rounded corners
    "output": ("#F8E2B3", "#B87F00"),    # orange fill, double border
    "const": ("#EEEEEE", "#999999"),     # small grey box
    "current": ("#FAF5BD", "#D55E00"),   # the node being processed (step-through): yellow, thick vermillion
    "derivative": "#0072B2",             # adjoints and tangents are written in blue
    "unknown": "#767676",                # "?" (not computed yet) in grey
    "edge": "#555555", "edge_done": "#0072B2", "edge_now": "#D55E00", "edge_todo": "#AAAAAA",
}

_A, _Z = "\x02", "\x03"  # marks around a number while the DOT is built (control characters never reach it)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NUMERIC = re.compile(r"-?[\d.]+(e[-+]?\d+)?")  # a partial that is a constant already says its value


def _scalar(v):
    return type(v) is float or np.ndim(v) == 0


def _n(text):
    """Mark a number (already ``fixed``) in the text being built."""
    return f"{_A}{text}{_Z}"


def _text(s, limit=MAX_EXPR):
    """User or trace text made safe for an HTML-like label: no control characters, cut short, escaped."""
    s = _CONTROL.sub(" ", str(s))
    if len(s) > limit:
        s = s[:limit - 1] + "…"
    return html.escape(s, quote=True)


def _font(text, color=None, size=None):
    color = f' COLOR="{color}"' if color else ""
    size = f' POINT-SIZE="{size}"' if size else ""
    return f'<FONT FACE="{NUMBER_FONT}"{size}{color}>{text}</FONT>'


def _value(v, color=None, left=False, size=None):
    """A value cell: a fixed-width number, or for an array its shape's summary (min and max).

    ``left``: a shorter number (``EDGE_WIDTH``), its padding to its right (for edge labels).
    """
    if v is None:
        return _font(_n("?".rjust(WIDTH)), PALETTE["unknown"], size)
    if v is NOT_AVAILABLE:  # a tangent forward mode cannot compute (a custom_vjp): never a number
        return _font(_n(NA_TEXT.rjust(EDGE_WIDTH if left else WIDTH)), PALETTE["unknown"], size)
    v = v.value if type(v) is Var else v
    if _scalar(v):
        if left:
            return _font(_n(fixed(v, EDGE_WIDTH).strip().ljust(EDGE_WIDTH)), color, size)
        return _font(_n(fixed(v)), color, size)
    a = np.asarray(v, dtype=float)
    if a.size <= 3:
        return "[" + ", ".join(_font(_n(fixed(x)), color, size) for x in a.ravel()) + "]"
    return f"min {_font(_n(fixed(a.min())), color, size)} max {_font(_n(fixed(a.max())), color, size)}"


def _row(left, right):
    return f'<TR><TD ALIGN="LEFT">{left}</TD><TD ALIGN="RIGHT">{right}</TD></TR>'


def _attrs(**kw):
    return " ".join(f'{k}="{v}"' if not v.startswith("<") else f"{k}={v}" for k, v in kw.items())


def _seed_text(trace, mode):
    if mode == "forward":
        return ", ".join(f"{dot(trace.names[v])} = {_text(_num(t))}" for v, t in zip(trace.inputs, trace.tangent_seed))
    return f"{bar(trace.names[trace.output])} = {_text(_num(trace.adjoint_seed))}"


def _long_edges(trace):
    """How far the arrows reach in all: the sum over edges of the ranks each one skips."""
    rank = {}
    for n in trace.nodes:
        rank[n] = 1 + max((rank[p] for p in n.parents if type(p) is Var), default=-1)
    return sum(rank[c] - rank[p] - 1 for c in trace.nodes for p in c.parents if type(p) is Var)


def _pt(size, zoom):
    """A font size in points (Graphviz's unit: 1 pt is 4/3 CSS px when the SVG is shown at its size)."""
    return f"{size * zoom:g}"


def dot_parts(trace, mode="reverse", step=None, edge_labels=True, title=None, zoom=None):
    """The DOT source of ``trace``'s graph as ``(literals, numbers)`` (see the module docstring).

    ``zoom`` scales every font (and so the whole picture): 1.0 gives the sizes of ``FONT_PT``;
    None, the presentation setting (``adteach.notation.set_presentation``).
    """
    zoom = _zoom(zoom)
    num_pt = _pt(FONT_PT["number"], zoom)
    cell = functools.partial(_value, size=num_pt)  # every number in Courier, at the number size
    reverse = mode == "reverse"
    accent = bar if reverse else dot  # v̄₃ (adjoint) or v̇₃ (tangent)
    nodes, names, out = trace.nodes, trace.names, trace.output
    custom = set(trace.custom)
    # what is known after `step` steps of the sweep (everything when step is None): read from the trace's Sweep
    sweep = trace.sweep(mode)
    state = sweep.state(step)
    done, current, deriv = state.done, state.current, state.values

    out_edges, in_edges = {}, {}
    for e in trace.edges:
        out_edges.setdefault(e.parent, []).append(e)
        in_edges.setdefault(e.child, []).append(e)
    arrival = {name: k for k, name in enumerate(sweep.steps)}
    contribution = state.term  # the term an edge adds to a sum: v̄_child * partial, or partial * v̇_parent

    lines = []
    add = lines.append
    # the legend / title
    y = trace.output_label  # "y", or "out" when an input is called y, ...
    what = (f"reverse mode: adjoints v&#772; = &#8706;{_text(y)}/&#8706;v" if reverse
            else "forward mode: tangents v&#775; along the seed")
    br = '<BR ALIGN="LEFT"/>'
    head = _text(title) if isinstance(title, str) else f"{what}{br}seed {_seed_text(trace, mode)}"
    if step is not None:  # short lines: the legend must not make the picture wider than the graph
        head += (f"{br}after step {step} of {sweep.n_steps}: orange this step,{br}blue done, dashed still to come"
                 + (f",{br}+ ? a sum still waiting for terms" if reverse else ""))
    if not reverse and trace.unavailable and title is not False:
        rules = ", ".join(sorted({_text(n.op, MAX_NAME) for n in trace.custom}))
        head += (f"{br}{NA_TEXT}: no tangent: {rules} is a custom_vjp,{br}a reverse-mode rule only (bwd)"
                 if len(trace.custom) == 1 else
                 f"{br}{NA_TEXT}: no tangent: {rules} are custom_vjps,{br}reverse-mode rules only (bwd)")
    head += br

    # top to bottom: a graph of 20 nodes is a few boxes wide (left to right it was 1,200-3,700 px)
    graph = {"rankdir": "TB", "fontname": "Helvetica", "fontsize": _pt(FONT_PT["title"], zoom),
             "nodesep": f"{0.12 * zoom:g}", "ranksep": f"{0.3 * zoom:g}", "bgcolor": "white"}
    if _long_edges(trace) > LONG_EDGES:  # values used far away: lay out quickly, with straight arrows
        graph.update(splines="line", nslimit="0.2", nslimit1="1", mclimit="0.5")
    if title is not False:
        graph.update(label=f"<{head}>", labelloc="t", labeljust="l")
    node = _attrs(fontname="Helvetica", fontsize=_pt(FONT_PT["node"], zoom), shape="box", style="rounded,filled",
                  margin=f"{0.06 * zoom:g},{0.03 * zoom:g}", color=PALETTE["op"][1], fillcolor=PALETTE["op"][0])
    edge = _attrs(fontname="Helvetica", fontsize=_pt(FONT_PT["edge"], zoom), color=PALETTE["edge"],
                  fontcolor="#333333", arrowsize="0.8")
    add(f"\tgraph [{_attrs(**graph)}]\n\tnode [{node}]\n\tedge [{edge}]\n")
    const_node = _attrs(fontsize=_pt(FONT_PT["const"], zoom), fillcolor=PALETTE["const"][0],
                        color=PALETTE["const"][1], height=f"{0.25 * zoom:g}", width=f"{0.3 * zoom:g}",
                        margin=f"{0.04 * zoom:g},{0.02 * zoom:g}")
    const_edge = _attrs(color=PALETTE["const"][1], style="dashed", arrowsize="0.6")

    for node in nodes:
        name = names[node]
        kind = "input" if node.prim is None else "output" if node is out else "op"
        shape = f" {_text(str(np.shape(node.value)))}" if not _scalar(node.value) else ""
        if node.prim is None:
            label = trace.labels[node]
            header = pretty(name) + (f" = {_text(label, MAX_NAME)}" if label != name else "")
        else:
            header = (f"{_text(y)} = " if node is out else "") + f"{pretty(name)} = {_text(pretty(trace.expr(node)))}"
        rows = [f'<TR><TD COLSPAN="2" ALIGN="LEFT">{header}{shape}</TD></TR>']
        if node in custom:  # a rule written in user code: say so, and where its adjoints come from
            rows.append(f'<TR><TD COLSPAN="2" ALIGN="LEFT"><FONT POINT-SIZE="{num_pt}" COLOR="{PALETTE["unknown"]}">'
                        "custom_vjp: adjoints by bwd</FONT></TD></TR>")
        rows.append(_row(pretty(name), cell(node.value)))
        dname = accent(name)
        value = deriv.get(name)
        color = PALETTE["derivative"]
        terms = [e for e in (out_edges if reverse else in_edges).get(name, []) if sweep.carries(e)]
        fan = len(terms) >= 2
        stepping = reverse and step is not None and fan  # a sum that may be waiting for some of its terms
        partial = stepping and value is not None and any(e.child not in done for e in terms)
        suffix = _font(" + ?" if partial else "    ", PALETTE["unknown"], num_pt) if stepping else ""
        if fan and _scalar(node.value):
            if reverse:
                terms = sorted(terms, key=lambda e: (arrival[e.child], e.index))
            if len(terms) <= MAX_TERMS:  # the terms one under the other, as a sum is written by hand
                pad = _font("    ", None, num_pt) if stepping else ""  # the terms line up with the sum's "+ ?"
                rows += [_row(dname if k == 0 else "+", cell(contribution(e), color) + pad)
                         for k, e in enumerate(terms)]
            else:
                rows.append(_row(dname, f"sum of {len(terms)} terms"))
            rows.append(_row("=", cell(value, color) + suffix))
        else:
            rows.append(_row(dname, cell(value, color) + suffix))
        table = '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">' + "".join(rows) + "</TABLE>"
        fill, border = PALETTE[kind]
        attrs = {"label": f"<{table}>", "fillcolor": fill, "color": border}
        if kind == "input" or partial:
            attrs["style"] = ("filled" if kind == "input" else "rounded,filled") + (",dashed" if partial else "")
        if kind == "output":
            attrs["peripheries"] = "2"
        if name == current:
            attrs.update(fillcolor=PALETTE["current"][0], color=PALETTE["current"][1], penwidth="3")
        add(f'\t"{name}" [{_attrs(**attrs)}]\n')

        # constants used by this operation: small grey nodes
        for i, p in enumerate(node.parents):
            if type(p) is not Var:
                cid = f"{name}_c{i}"
                text = _text(_num(p) if _scalar(p) else f"const {np.shape(p)}")
                add(f'\t"{cid}" [label="{text}" {const_node}]\n\t"{cid}" -> "{name}" [{const_edge}]\n')

    for e in trace.edges:
        attrs = {}
        if edge_labels:
            text = _text(pretty(e.label))
            if e.partial is not None and not _NUMERIC.fullmatch(e.label):  # the partial, its value below it
                text = (f'<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="0"><TR><TD ALIGN="LEFT">{text}</TD></TR>'
                        f'<TR><TD ALIGN="LEFT">= {cell(e.partial, left=True) if _scalar(e.partial) else "…"}'
                        '</TD></TR></TABLE>')
            attrs["label"] = f"<{text}>"
        if step is not None:
            if e.child == current:
                attrs.update(color=PALETTE["edge_now"], penwidth="2.5")
            elif e.child in done:
                attrs["color"] = PALETTE["edge_done"]
            else:
                attrs.update(color=PALETTE["edge_todo"], style="dashed")
        add(f'\t"{e.parent}" -> "{e.child}"' + (f" [{_attrs(**attrs)}]" if attrs else "") + "\n")

    pieces = re.split(f"{_A}(.*?){_Z}", "".join(lines))
    return pieces[0::2], pieces[1::2]
