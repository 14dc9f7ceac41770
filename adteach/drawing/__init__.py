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

A ``custom_vjp`` is one node, named by the function and marked "custom_vjp: adjoints by
bwd"; its arrows carry "bwd" (the rule hands each input its adjoint, there is no factor
to write). In forward mode its tangent, and every tangent depending on it, reads "n/a"
(forward mode has no rule for it) and the legend says why.

The graph is drawn top to bottom, inputs at the top, the output at the bottom. The
arrows point the way the values flow, from each input of an operation to its
result, in both modes (as in torchviz and Graphviz): the forward sweep follows the
arrows down, the reverse sweep starts at the output and goes up, against them.

Nothing here needs a system Graphviz: the picture is made by ``adteach.drawing.render``
(an embedded Graphviz from the ``graphviz-pure`` package, or the ``dot`` program).
"""
from __future__ import annotations

import os

import numpy as np

from ..notation import zoom as _zoom
from ..primitives import ADError
from ..tape import Var, graph_nodes
from ..trace import Trace, evaluate
from . import cache
from .dot import PALETTE, dot_parts, fixed
from .render import RenderError, RendererUnavailable, available_renderers, render_png, render_svg
from .render import render as _render_as  # not bound as `render`: that name is the submodule

__all__ = ["draw", "Drawing", "GraphTooLarge", "MAX_NODES", "fixed", "PALETTE",
           "render_svg", "render_png", "available_renderers", "RendererUnavailable", "RenderError"]

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

#: What a drawing offers Jupyter besides its text form: SVG (sharp, shown by trusted notebooks)
#: and PNG (shown where SVG is not: untrusted notebooks, GitHub, nbviewer, e-mail, ...).
#: ``adteach.drawing.JUPYTER_FORMATS = ("svg",)`` leaves the PNG out (smaller notebooks).
JUPYTER_FORMATS = ("svg", "png")
_MIME = {"svg": "image/svg+xml", "png": "image/png"}


def _wanted(mime, include, exclude):
    return mime in _MIME.values() and (include is None or mime in include) and not (exclude and mime in exclude)


def _pictures(svg, png, include=None, exclude=None):
    """The mime bundle of a picture: SVG (must succeed) and PNG (left out if it fails) as chosen."""
    bundle = {}
    mimes = [_MIME[f] for f in JUPYTER_FORMATS if f in _MIME]
    if _wanted("image/svg+xml", include, exclude) and "image/svg+xml" in mimes:
        bundle["image/svg+xml"] = svg()
    if _wanted("image/png", include, exclude) and "image/png" in mimes:
        try:
            bundle["image/png"] = png()
        except (RenderError, RendererUnavailable):  # a dot without PNG support: the SVG still shows
            pass
    return bundle


def _open_in_viewer(path):
    """Open ``path`` with the platform's default application, as ``graphviz``'s ``view=True`` does."""
    import subprocess
    import sys

    if sys.platform == "darwin":
        subprocess.Popen(["open", path])
    elif sys.platform.startswith("win"):
        os.startfile(os.path.normpath(path))  # noqa: S606 - opening the user's own file is the point
    else:
        subprocess.Popen(["xdg-open", path])


def _digraph_class(graphviz):
    """A ``graphviz.Digraph`` that Jupyter shows with adteach's renderers (no system Graphviz needed)."""
    global _DIGRAPH
    if _DIGRAPH is None:
        class Digraph(graphviz.Digraph):
            __doc__ = _digraph_class.__doc__

            def _repr_mimebundle_(self, include=None, exclude=None, **_):
                source = self.source
                try:
                    return _pictures(lambda: cache.svg_for([source], []), lambda: cache.png_for(source),
                                     include, exclude)
                except Exception as exc:  # noqa: BLE001 - never a traceback in a notebook
                    return {"text/plain": f"The graph could not be drawn: {exc}\n\n{source}"}
        _DIGRAPH = Digraph
    return _DIGRAPH


class Drawing:
    """A computational graph ready to show: made by ``ad.draw``.

    ``source``  its DOT text (the same bytes in every process for the same computation)
    ``svg()``   the picture as SVG text
    ``digraph`` a ``graphviz.Digraph`` with this source, for everything the graphviz package does
    ``n_steps`` how many steps the sweep has; ``at_step(k)`` draws it after k of them
    ``png()``   the picture as PNG bytes (Jupyter gets both: PNG is what untrusted notebooks,
                GitHub and nbviewer show)
    ``save(path)`` writes the picture (.svg, .png) or the source (.dot, .gv)
    ``render()``, ``view()``, ``pipe()`` as for ``graphviz.Digraph`` (format "svg" or "png")

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
        return self.trace.sweep(self.mode).n_steps

    def at_step(self, step):
        """The same graph drawn after ``step`` steps of the sweep (None: all of them)."""
        return Drawing(self.trace, self.mode, step, self.edge_labels, self.renderer, self.title, self.zoom)

    @property
    def digraph(self):
        """A ``graphviz.Digraph`` holding this drawing (built on first use; changes to it show in the picture)."""
        if self._digraph is None:
            from ..extras import require
            graphviz = require("graphviz", "Drawing.digraph")
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

    def png(self, renderer=None) -> bytes:
        """The picture as PNG bytes (96 dpi, the size the SVG is shown at; remembered by content)."""
        return cache.png_for(self.source, renderer or self.renderer)

    def pipe(self, format="svg", encoding=None, renderer=None):
        """Like ``graphviz.Digraph.pipe``: the picture as bytes, or as text with ``encoding`` (SVG).

        ``format`` "svg" or "png" (any renderer); other Graphviz formats need a system ``dot``.
        """
        format = (format or "svg").lower()
        if format == "svg":
            data = self.svg(renderer).encode("utf-8")
        elif format == "png":
            data = self.png(renderer)
        else:
            data = _render_as(self.source, format, renderer or self.renderer)
            data = data.encode("utf-8") if isinstance(data, str) else data
        if encoding is None:
            return data
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            raise ValueError(f"pipe: {format} is binary and cannot be decoded as {encoding}; "
                             "call pipe(format) without encoding for bytes") from None

    def save(self, path) -> str:
        """Write the picture to ``path``: SVG for .svg, PNG for .png, the DOT source for .dot or .gv.

        Other suffixes (.pdf, .jpg, ...) are drawn by Graphviz in that format. Returns the path.
        """
        path = os.fspath(path)
        suffix = os.path.splitext(path)[1].lower().lstrip(".")
        if not suffix:
            raise ValueError(f"save: {path!r} needs a suffix saying what to write: .svg or .png for the "
                             "picture, .dot or .gv for its source (or a Graphviz format such as .pdf)")
        if suffix in ("dot", "gv"):
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(self.source)
        else:
            data = self.pipe(suffix)
            with open(path, "wb") as fh:
                fh.write(data)
        return path

    def render(self, filename=None, directory=None, view=False, cleanup=False, format=None, renderer=None,
               formatter=None, neato_no_op=None, quiet=False, quiet_view=False, *, outfile=None,
               engine=None, raise_if_result_exists=False, overwrite_source=False) -> str:
        """Like ``graphviz.Digraph.render``: save the DOT source and draw it; return the picture's path.

        filename   the source file (default "adteach.gv"); the picture is ``filename + "." + format``
        directory  the folder for both (made if missing)
        outfile    the picture's path instead (its suffix gives the format); the source goes beside it.
                   With ``directory`` too, both go inside it, as graphviz's docs say ("directory for
                   source saving and rendering"; graphviz 0.21 itself then writes the picture
                   relative to the current folder, and fails if that folder is missing)
        format     "svg" (the default here; graphviz's is pdf, which needs a system ``dot``) or "png", ...
        view       open the picture with the default application (``xdg-open``, ``open``, ``startfile``)
        cleanup    delete the source file afterwards
        renderer   adteach's renderer: "auto", "embedded" or "system" (default: the drawing's)
        raise_if_result_exists  raise FileExistsError instead of replacing an existing picture
        quiet, quiet_view, overwrite_source  accepted as graphviz's are (nothing is printed here);
        engine, formatter, neato_no_op  only their defaults: the layout is always ``dot``'s
        """
        from pathlib import Path

        if engine not in (None, "dot") or formatter is not None or neato_no_op:
            what = (f"engine={engine!r}" if engine not in (None, "dot") else
                    f"formatter={formatter!r}" if formatter is not None else f"neato_no_op={neato_no_op!r}")
            raise ValueError(f"render: {what} is not supported: adteach's drawings are laid out by dot "
                             "(take Drawing.source to graphviz.Source for other layouts)")
        view = view or quiet_view

        base = Path(directory) if directory is not None else Path()
        if outfile is not None:
            outfile = Path(outfile)
            inferred = outfile.suffix.lower().lstrip(".")
            if not format and not inferred:
                raise ValueError(f"render: cannot tell the format from outfile {os.fspath(outfile)!r} "
                                 "(no suffix): give format='svg' or 'png', or an outfile such as graph.png")
            format = format or inferred
            out = base / outfile
            source = base / filename if filename is not None else out.with_suffix(".gv")
        else:
            format = format or "svg"
            source = base / (filename if filename is not None else f"{_GRAPH_NAME}.gv")
            out = source.with_name(f"{source.name}.{format.lower()}")
        if raise_if_result_exists and out.exists():
            raise FileExistsError(f"render: {os.fspath(out)!r} exists (raise_if_result_exists=True)")
        data = self.pipe(format, renderer=renderer)  # first: a failure leaves no half-written files
        for p in {source.parent, out.parent}:
            p.mkdir(parents=True, exist_ok=True)
        source.write_text(self.source, encoding="utf-8")
        out.write_bytes(data)
        if cleanup:
            source.unlink()
        if view:
            _open_in_viewer(os.fspath(out))
        return os.fspath(out)

    def view(self, filename=None, directory=None, cleanup=False, format=None, **kwargs):
        """Like ``graphviz.Digraph.view``: ``render(..., view=True)``."""
        return self.render(filename, directory, view=True, cleanup=cleanup, format=format, **kwargs)

    # --- display in Jupyter: never a traceback ---------------------------------------------
    def _fallback(self, exc):
        return (f"The graph could not be drawn: {exc}\n\n"
                f"Its DOT source (paste it into any Graphviz viewer):\n\n{self.source}")

    def _repr_mimebundle_(self, include=None, exclude=None):
        try:
            return {**_pictures(self.svg, self.png, include, exclude), "text/plain": repr(self)}
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
