"""Draw computational graphs: values, derivatives and the chain rule, step by step.

    g = ad.draw(f, 1.5, 0.5)                       # reverse mode: values and adjoints v̄
    g                                              # shows the picture in Jupyter
    ad.draw(f, 1.5, 0.5, mode="forward", seed=(1.0, 0.0))   # tangents v̇ instead
    ad.draw(f, 1.5, 0.5, step=3)                   # the reverse sweep after 3 steps
    ad.draw(y)                                     # a Var you already computed
    ad.draw(ad.grad(f), 1.5, 0.5)                  # the graph of the gradient itself

How to read a drawing: inputs are blue boxes with square corners, operations are
white boxes with rounded corners, the output is orange with a double border, and
constants are small grey boxes. Each node shows its name in the evaluation trace
(v₋₁, v₀, v₁, ... as in ``ad.trace``), its operation, its value, and its adjoint
v̄ = dy/dv (reverse mode) or its tangent v̇ (forward mode). Each arrow carries the
local partial derivative: the factor the chain rule multiplies along that arrow.
Where several paths meet, the node shows the sum of their contributions, one term
under the other: v̄₋₁ = 144.0000 + 144.0000 = 288.0000.

The graph is drawn top to bottom, inputs at the top, the output at the bottom. The
arrows point the way the values flow, from each input of an operation to its
result, in both modes (as in torchviz and Graphviz): the forward sweep follows the
arrows down, the reverse sweep starts at the output and goes up, against them.

Nothing here needs a system Graphviz: the picture is made by ``adteach.drawing.render``
(an embedded Graphviz from the ``graphviz-pure`` package, or the ``dot`` program).
"""
from __future__ import annotations

import numpy as np

from ..notation import zoom as _zoom
from ..primitives import ADError
from ..tape import Var, graph_nodes
from ..trace import Trace, evaluate
from . import cache
from .dot import PALETTE, dot_parts, fixed
from .render import RenderError, RendererUnavailable, available_renderers, render_svg

__all__ = ["draw", "Drawing", "GraphTooLarge", "MAX_NODES", "fixed", "PALETTE",
           "render_svg", "available_renderers", "RendererUnavailable", "RenderError"]

#: Graphs with more nodes than this are not drawn (Graphviz would take long, and nobody
#: can read the picture); pass ``max_nodes=`` to draw them anyway.
MAX_NODES = 300

_GRAPH_NAME = "adteach"


class GraphTooLarge(ADError, ValueError):
    """The graph has more nodes than ``max_nodes``."""


def draw(f, *args, mode="reverse", seed=None, step=None, edge_labels=True, renderer="auto",
         max_nodes=MAX_NODES, title=None, zoom=None):
    """Draw the computational graph of ``f`` at ``args`` (or of a Var, or of an ``ad.trace``).

    mode        "reverse" (adjoints v̄, the default) or "forward" (tangents v̇).
    seed        forward: the tangent of each input (default: 1 for the first, 0 for the others);
                reverse: the adjoint of the output (default 1).
    step        draw the sweep after its first ``step`` steps (0 ... ``n_steps``): adjoints or
                tangents not yet computed show "?", the node of this step is highlighted,
                and "+ ?" marks a sum still waiting for some of its terms.
    edge_labels write the local partial derivative on every arrow (default True).
    renderer    "auto", "embedded" or "system" (see ``adteach.drawing.render``).
    max_nodes   refuse larger graphs (default 300, ``None``: no limit).
    title       a title instead of the legend line; False for none.
    zoom        scale the picture's text (1: node text 14.7 px, numbers and arrows 13.3 px; 1.5: half
                as large again); default: the presentation setting (``%adteach present``), else 1.

    Returns a ``Drawing``: it shows itself in Jupyter, ``.source`` is its DOT text,
    ``.svg()`` the picture and ``.digraph`` a ``graphviz.Digraph``.
    """
    if mode not in ("reverse", "forward"):
        raise ADError(f"draw: mode must be 'reverse' or 'forward', not {mode!r}")
    tangent_seed, adjoint_seed = (seed, None) if mode == "forward" else (None, seed)
    if isinstance(f, Trace):
        if args:
            raise ADError("draw(trace) takes the trace alone; to draw a function, call draw(f, *args)")
        _check_size(len(f.nodes), max_nodes)
        trace = f if seed is None or _same_seed(f, mode, seed) else Trace(
            f.output, f.inputs, [f.labels[v] for v in f.inputs], tangent_seed, adjoint_seed, f.title)
    else:
        if type(f) is Var:
            if args:
                raise ADError("draw(y) takes a Var alone; to draw a function, call draw(f, *args)")
            out, leaves, labels = f, (), ()
        elif callable(f):
            out, leaves, names = evaluate(f, args)
            labels = [v.name or n for v, n in zip(leaves, names)]
        else:
            raise ADError(f"draw needs a function and its arguments, a Var or a trace, not {type(f).__name__}")
        if type(out) is Var:
            _check_size(len(graph_nodes(out)), max_nodes)
        trace = Trace(out, leaves, labels, tangent_seed, adjoint_seed)
    return Drawing(trace, mode=mode, step=step, edge_labels=edge_labels, renderer=renderer, title=title,
                   zoom=zoom)


def _same_seed(trace, mode, seed):
    mine = trace.tangent_seed if mode == "forward" else [trace.adjoint_seed]
    theirs = list(seed) if mode == "forward" else [seed]
    theirs += [0.0] * (len(mine) - len(theirs))
    return len(mine) == len(theirs) and all(np.array_equal(a, b) for a, b in zip(mine, theirs))


def _check_size(n, max_nodes):
    if max_nodes is not None and n > max_nodes:
        raise GraphTooLarge(
            f"This graph has {n} nodes, more than max_nodes={max_nodes}: it would take Graphviz long to "
            "lay out and nobody could read it. Work with arrays instead of lists of scalars (one node "
            "per array operation: w @ x rather than a Python loop over numbers), draw a smaller "
            f"piece of the computation, or pass max_nodes={n} (or max_nodes=None) to draw it anyway.")


_DIGRAPH = None


def _digraph_class(graphviz):
    """A ``graphviz.Digraph`` that Jupyter shows with adteach's renderers (no system Graphviz needed)."""
    global _DIGRAPH
    if _DIGRAPH is None:
        class Digraph(graphviz.Digraph):
            __doc__ = _digraph_class.__doc__

            def _repr_mimebundle_(self, include=None, exclude=None, **_):
                try:
                    return {"image/svg+xml": cache.svg_for([self.source], [])}
                except Exception as exc:  # noqa: BLE001 - never a traceback in a notebook
                    return {"text/plain": f"The graph could not be drawn: {exc}\n\n{self.source}"}
        _DIGRAPH = Digraph
    return _DIGRAPH


class Drawing:
    """A computational graph ready to show: made by ``ad.draw``.

    ``source``  its DOT text (the same bytes in every process for the same computation)
    ``svg()``   the picture as SVG text
    ``digraph`` a ``graphviz.Digraph`` with this source, for everything the graphviz package does
    ``n_steps`` how many steps the sweep has; ``at_step(k)`` draws it after k of them
    ``save(path)`` writes the picture (.svg) or the source (.dot, .gv)

    Unknown attributes are passed on to ``digraph`` (``g.attr(rankdir="TB")``), as for torchviz.
    """

    def __init__(self, trace, mode="reverse", step=None, edge_labels=True, renderer="auto", title=None, zoom=None):
        self.trace, self.mode, self.edge_labels, self.renderer, self.title = trace, mode, edge_labels, renderer, title
        self.zoom = _zoom(zoom)
        if step is not None and not (isinstance(step, (int, np.integer)) and 0 <= step <= self.n_steps):
            raise ADError(f"draw: step must be a whole number from 0 to {self.n_steps} "
                          f"(the {mode} sweep of this graph has {self.n_steps} steps), not {step!r}")
        self.step = None if step is None else int(step)
        self._literals, self._numbers = dot_parts(trace, mode, self.step, edge_labels, title, self.zoom)
        self._literals[0] = f"digraph {_GRAPH_NAME} {{\n" + self._literals[0]
        self._literals[-1] += "}\n"
        self._source = cache._join(self._literals, self._numbers)
        self._digraph = None

    @property
    def n_steps(self) -> int:
        """Steps of the sweep: one per operation, in either mode (step 0: only the seeds are known)."""
        return self.trace.n_steps

    def at_step(self, step):
        """The same graph drawn after ``step`` steps of the sweep (None: all of them)."""
        return Drawing(self.trace, self.mode, step, self.edge_labels, self.renderer, self.title, self.zoom)

    @property
    def digraph(self):
        """A ``graphviz.Digraph`` holding this drawing (built on first use; changes to it show in the picture)."""
        if self._digraph is None:
            try:
                import graphviz
            except ImportError as exc:
                raise ImportError('Drawing.digraph needs the graphviz package: pip install "adteach[draw]"',
                                  name="graphviz") from exc
            body = self._source[self._source.index("\n") + 1:-2]
            self._digraph = _digraph_class(graphviz)(_GRAPH_NAME, body=body.splitlines(keepends=True))
        return self._digraph

    @property
    def source(self) -> str:
        """The DOT text."""
        return self._source if self._digraph is None else self._digraph.source

    def svg(self, renderer=None) -> str:
        """The picture as SVG text (``renderer``: "auto", "embedded" or "system"; default: the drawing's)."""
        renderer = renderer or self.renderer
        source = self.source
        if source == self._source:  # unchanged: the layout of an earlier drawing can be reused
            return cache.svg_for(self._literals, self._numbers, renderer)
        return cache.svg_for([source], [], renderer)

    def save(self, path) -> str:
        """Write the picture to ``path``: SVG for .svg, the DOT source for .dot or .gv. Returns the path."""
        path = str(path)
        if path.endswith((".dot", ".gv")):
            text = self.source
        elif path.endswith(".svg"):
            text = self.svg()
        else:
            raise ValueError(f"save: {path!r} should end in .svg, .dot or .gv (only SVG can be drawn here; "
                             "a browser or Inkscape converts it to PNG or PDF)")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        return path

    def render(self, filename="graph", format="svg", **_ignored) -> str:
        """Like ``graphviz.Digraph.render`` but with adteach's renderers: writes ``filename.svg``."""
        if format != "svg":
            raise ValueError(f"render: only format='svg' is available without a system Graphviz, not {format!r}")
        return self.save(filename if filename.endswith(".svg") else filename + ".svg")

    def view(self, filename="graph"):
        """Like ``graphviz.Digraph.view``: write ``filename.svg`` and open it in the web browser."""
        import webbrowser
        from pathlib import Path
        path = self.render(filename)
        webbrowser.open(Path(path).resolve().as_uri())
        return path

    def pipe(self, format="svg", encoding=None):
        """Like ``graphviz.Digraph.pipe``: the SVG as bytes (or text with ``encoding``)."""
        if format != "svg":
            raise ValueError(f"pipe: only format='svg' is available without a system Graphviz, not {format!r}")
        svg = self.svg()
        return svg if encoding else svg.encode("utf-8")

    # --- display in Jupyter: never a traceback ---------------------------------------------
    def _fallback(self, exc):
        return (f"The graph could not be drawn: {exc}\n\n"
                f"Its DOT source (paste it into any Graphviz viewer):\n\n{self.source}")

    def _repr_mimebundle_(self, include=None, exclude=None):
        try:
            return {"image/svg+xml": self.svg(), "text/plain": repr(self)}
        except Exception as exc:  # noqa: BLE001 - a missing renderer must not become a traceback
            return {"text/plain": self._fallback(exc)}

    def _repr_svg_(self):
        try:
            return self.svg()
        except Exception:  # noqa: BLE001 - _repr_mimebundle_ already shows the message
            return None

    def __repr__(self):
        at = "" if self.step is None else f", after step {self.step} of {self.n_steps}"
        return f"<adteach Drawing: {self.mode} mode, {len(self.trace.nodes)} nodes{at}>"

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.digraph, name)
