"""The live explorer: sliders that recompute the value, the gradient, the graph, the trace and a plot.

    ex = ad.explore(f, x1=(0.1, 3.0), x2=(0.1, 2.0))

Update pipeline (one *frame*, for the current slider values, mode, seed and step):

1. ``trace(f, *values, seed=...)``: one forward and one reverse sweep (the value,
   the gradient, every tangent and adjoint);
2. the graph: ``draw(trace, mode=..., step=...).svg()``. The drawing layer writes
   every number with the same width and lays out each graph *shape* once; after
   that a new SVG is the cached layout with the new numbers written in
   (``adteach.drawing.cache``, byte for byte what Graphviz would draw): no Graphviz
   run while a slider is dragged;
3. the trace table (``Trace._repr_html_``) and the numeric read-out;
4. the plot panel, if any: the precomputed curve/contours stay, only the marker,
   tangent line or gradient arrow is redrawn (see ``plots``);
5. the widgets' values are set (each sends one message to the front end).

Coalescing (while you drag, the front end sends a message per mouse move, and
a frame may take longer than the gap between two messages): a change renders at
once if the explorer is idle; a change arriving less than one frame-duration
after the last frame ended is *not* rendered on its own but schedules a single
trailing frame on the kernel's event loop (``loop.call_later``) at that time;
more changes before then just update the values that frame will use. So the
kernel spends at most about half its time drawing, the messages that piled up
during a slow frame cost one frame (for the newest values) instead of a queue
of stale ones, and the last position of the slider is always the one shown.
Without an event loop (a plain script or test) every change renders at once.
Frames are rendered under a lock and always read the newest values, so changes
from several threads also coalesce. Reading ``value``, ``gradient``, ``svg``,
``trace`` or ``error`` first renders a pending frame: they always describe the
current slider values.
"""
from __future__ import annotations

import asyncio
import html
import inspect
import threading
import time

import ipywidgets as widgets
import numpy as np

from ..notation import NA_TEXT, NOT_AVAILABLE, bar, dot, pretty, slider_format
from ..notation import zoom as _zoom
from ..notation import number as _fmt
from ..primitives import ADError
from ..trace import trace as make_trace
from .ranges import slider_spec

__all__ = ["Explorer", "explore"]

MODES = ("reverse", "forward")
MAX_GAP = 0.25  # seconds: the longest a change waits for its trailing frame
# the graph at its own size, as ``ad.draw`` shows it (node text 14.7 px at zoom 1): never shrunk to
# fit, so its text stays readable and grows with the browser's zoom; a wider graph scrolls in its box
_GRAPH_STYLE = "max-width:100%;overflow-x:auto;line-height:0"
_TABLE_PX = 13  # the trace table's text (the HTML widget's own line height is a widget row's)


def _fname(f):
    name = getattr(f, "__name__", None) or type(f).__name__
    return "f" if name == "<lambda>" else name


def _inputs(f, args, ranges):
    """[(name, spec)] in f's parameter order, from positional values and keyword specs."""
    try:
        sig_params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        sig_params = []
    positional = [p for p in sig_params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    varargs = any(p.kind is p.VAR_POSITIONAL for p in sig_params) or not sig_params
    names = [p.name for p in positional]
    if len(args) > len(names) and not varargs:
        raise TypeError(f"explore: {_fname(f)} takes {len(names)} input(s) ({', '.join(names)}) "
                        f"but {len(args)} values were given")
    chosen = []
    for i, a in enumerate(args):
        name = names[i] if i < len(names) else f"x{i + 1}"
        if name in ranges:
            raise TypeError(f"explore: {name} was given twice (positionally and as {name}=...)")
        chosen.append((name, a))
    for p in positional[len(args):]:
        if p.name in ranges:
            chosen.append((p.name, ranges[p.name]))
        elif p.default is not p.empty and isinstance(p.default, (int, float)) and not isinstance(p.default, bool):
            chosen.append((p.name, p.default))
        else:
            raise TypeError(f"explore: give a value or a range for {p.name}, e.g. {p.name}=1.0 or "
                            f"{p.name}=(0.0, 2.0)")
    extra = [k for k in ranges if k not in names]
    if extra and not varargs:
        raise TypeError(f"explore: {_fname(f)} has no input named {', '.join(extra)} "
                        f"(its inputs are {', '.join(names) or 'none'})")
    chosen += [(k, ranges[k]) for k in extra]
    if not chosen:
        raise TypeError(f"explore: {_fname(f)} needs at least one input to put on a slider")
    return chosen


def _slider(name, spec):
    if isinstance(spec, widgets.FloatSlider):
        if not spec.description:
            spec.description = name
        return spec
    s = slider_spec(name, spec)
    return widgets.FloatSlider(value=s.value, min=s.min, max=s.max, step=s.step, description=name,
                               continuous_update=True, readout_format=slider_format(s.step),
                               style={"description_width": "initial"},
                               layout=widgets.Layout(width="420px"))


def _draw_function():
    """(the function ``ad.draw``, None), or (None, why not) when the drawing layer cannot be imported."""
    try:
        from ..drawing import draw
    except ImportError as exc:
        return None, (f"The graph is not available ({exc}); "
                      'install the drawing packages: pip install "adteach[draw]"')
    return draw, None


def _custom_names(tr):
    return {tr.names[n] for n in tr.custom}


def _rules(tr):
    """The custom_vjp functions of a trace, for a sentence: "clip_gradient"."""
    return ", ".join(dict.fromkeys(n.op for n in tr.custom))


class Explorer(widgets.VBox):
    """Sliders for the inputs of ``f`` and, live: value, gradient, graph, trace, plot.

    Made by ``explore`` (see there). Headless API, the same numbers a student sees:
    ``sliders`` (dict name -> FloatSlider), ``value``, ``gradient``, ``svg``,
    ``trace``, ``error``; ``mode`` / ``seed`` / ``step`` (read and write);
    ``set(x1=..., ...)`` moves several sliders with one frame; ``renders`` counts frames.
    """

    def __init__(self, f, *args, plot=True, graph=True, mode="reverse", seed=None, renderer="auto",
                 title=None, zoom=None, **ranges):
        if not callable(f):
            raise TypeError(f"explore needs a function, got {type(f).__name__}")
        if mode not in MODES:
            raise ValueError(f"explore: mode must be 'reverse' or 'forward', not {mode!r}")
        self.f = f
        self._zoom = _zoom(zoom, "explore")
        inputs = _inputs(f, args, ranges)
        self.names = [n for n, _ in inputs]
        self.sliders = {n: _slider(n, spec) for n, spec in inputs}
        self._title_text = title or f"Exploring {_fname(f)}({', '.join(self.names)})"

        # --- state of the update pipeline ---
        self._state_lock = threading.Lock()   # guards the request counters
        self._render_lock = threading.RLock()  # one frame at a time
        self._local = threading.local()        # per thread: is this thread making a frame / a set()?
        self._requested = 0     # frames asked for (one per change)
        self._rendered = 0      # the request number the current display shows
        self._scheduled = False
        self._last_end = 0.0    # when the last frame ended (perf_counter)
        self._gap = 0.0         # how long it took: the minimum pause before the next one
        self.renders = 0
        self._trace = None
        self._error = None
        self._svg = None
        self._draw, self._graph_problem = _draw_function() if graph else (None, None)
        self._renderer = renderer

        # --- widgets ---
        self.title_html = widgets.HTML(f"<b>{html.escape(self._title_text)}</b>")
        self.mode_toggle = widgets.ToggleButtons(
            options=[("reverse mode (adjoints)", "reverse"), ("forward mode (tangents)", "forward")],
            value=mode, tooltips=["one reverse sweep gives the whole gradient",
                                  "one forward sweep gives one directional derivative"],
            style={"button_width": "auto"})
        seed_index = self._seed_index(0 if seed is None else seed)
        self.seed_toggle = widgets.ToggleButtons(
            options=[(f"seed {dot(n)} = 1", i) for i, n in enumerate(self.names)], value=seed_index,
            tooltips=[f"forward mode differentiates along {n}" for n in self.names],
            style={"button_width": "auto"})
        self.step_slider = widgets.IntSlider(value=0, min=0, max=0, description="step",
                                             continuous_update=True, layout=widgets.Layout(width="320px"))
        self.play = widgets.Play(value=0, min=0, max=0, interval=900, description="play the sweep",
                                 show_repeat=False)
        self._play_link = widgets.jslink((self.play, "value"), (self.step_slider, "value"))
        self.step_caption = widgets.HTML()
        self.readout = widgets.HTML()
        self.graph_html = widgets.HTML(layout=widgets.Layout(width="100%"))
        self.trace_html = widgets.HTML()
        self.plot_image = widgets.Image(format="png", layout=widgets.Layout(width="auto"))

        self._panel = None
        self._plot_note = None
        controls = [self.mode_toggle, self.seed_toggle,
                    widgets.HBox([self.play, self.step_slider, self.step_caption])]
        super().__init__(layout=widgets.Layout(width="100%"))
        self.add_class("adteach-explorer")
        self.graph_html.add_class("adteach-graph")
        self.trace_html.add_class("adteach-trace")
        self.readout.add_class("adteach-readout")

        # the first frame, then the plot panel (needs to know whether f is scalar-valued)
        self._step_follows_end = True
        self._render()
        if plot:
            self._make_panel()
            if self._panel is not None:
                self._render()
        children = [self.title_html, widgets.VBox(list(self.sliders.values())), *controls, self.readout]
        if graph:
            children.append(self.graph_html)
        if self._plot_note:
            children.append(widgets.HTML(f"<i>{html.escape(self._plot_note)}</i>"))
        bottom = [self.plot_image] if self._panel is not None else []
        children.append(widgets.HBox(bottom + [self.trace_html],
                                     layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start",
                                                           grid_gap="16px")))
        self.children = children

        for s in self.sliders.values():
            s.observe(self._changed, names="value")
        self.mode_toggle.observe(self._changed, names="value")
        self.seed_toggle.observe(self._changed, names="value")
        self.step_slider.observe(self._step_changed, names="value")

    def _seed_index(self, seed):
        if isinstance(seed, str) and seed in self.names:
            return self.names.index(seed)
        if isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed < len(self.names):
            return seed
        raise ValueError(f"explore: the forward-mode seed must be one of the inputs "
                         f"({', '.join(self.names)}) or its position, not {seed!r}")

    @property
    def _quiet(self):
        """True while this thread moves widgets itself (a frame clamps the step, set() moves sliders)."""
        return getattr(self._local, "quiet", False)

    @_quiet.setter
    def _quiet(self, value):
        self._local.quiet = value

    # --- the plot panel ---------------------------------------------------------------
    def _make_panel(self):
        if len(self.names) > 2:
            self._plot_note = "(no plot: the plot panel shows functions of one or two inputs)"
            return
        if self._trace is not None and np.ndim(self._trace.value) != 0:
            self._plot_note = "(no plot: f returns an array; the plot panel shows scalar functions)"
            return
        from .plots import make_panel

        ranges = [(s.min, s.max) for s in self.sliders.values()]
        try:
            self._panel = make_panel(self.f, self.names, ranges, zoom=self._zoom)
        except ImportError as exc:  # no matplotlib (or Pillow): the explorer works without its plot
            from ..extras import hint
            self._plot_note = f"(no plot: {hint(exc.name) or exc})"

    # --- requests and frames ------------------------------------------------------------
    def _changed(self, change=None):
        if self._quiet:
            return
        with self._state_lock:
            self._requested += 1
            if self._scheduled:
                return  # a trailing frame is on its way; it will use the newest values
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                loop = None
            if loop is not None:
                wait = self._last_end + self._gap - time.perf_counter()
                if wait > 0:  # a frame just ended: coalesce into one trailing frame
                    self._scheduled = True
                    loop.call_later(wait, self._flush_from_loop)
                    return
        self._flush(wait=False)

    def _step_changed(self, change):
        if self._quiet:
            return
        self._step_follows_end = change["new"] >= self.step_slider.max
        self._changed()

    def _flush_from_loop(self):
        with self._state_lock:
            self._scheduled = False
        self._flush(wait=False)

    def _flush(self, wait=True):
        """Render until the display shows the newest request (usually one frame).

        With ``wait=False`` a thread that finds another one drawing returns at once: that
        thread looks for newer requests after each frame, so this one is drawn by it.
        """
        while True:
            if not self._render_lock.acquire(blocking=wait):
                return
            try:
                while True:
                    with self._state_lock:
                        if self._rendered == self._requested:
                            break
                        target = self._requested
                    start = time.perf_counter()
                    self._render()
                    self._last_end = time.perf_counter()
                    self._gap = min(self._last_end - start, MAX_GAP)
                    self._rendered = target
            finally:
                self._render_lock.release()
            with self._state_lock:  # a request that came in just before the lock was released
                if self._rendered == self._requested:
                    return

    def refresh(self):
        """Render the current state now (if a frame is pending)."""
        self._flush()
        return self

    def _render(self):
        try:
            self._render_frame()
        except Exception as exc:  # noqa: BLE001 - the explorer must stay alive whatever happens
            self._trace = None
            self._error = f"{type(exc).__name__} while drawing the explorer: {exc}"
            self.readout.value = self._error_html(self._error)
        self.renders += 1

    def _render_frame(self):
        values = [float(s.value) for s in self.sliders.values()]
        mode = self.mode_toggle.value
        seed = [0.0] * len(values)
        seed[self.seed_toggle.value] = 1.0
        self.seed_toggle.layout.display = None if mode == "forward" else "none"
        try:
            tr = make_trace(self.f, *values, seed=seed)
        except Exception as exc:  # noqa: BLE001 - outside the domain, or a bug in f: show it, stay alive
            self._show_error(values, exc)
            return
        self._trace, self._error = tr, None
        n = tr.sweep(mode).n_steps
        self._quiet = True
        try:
            self.step_slider.max = self.play.max = n
            if self._step_follows_end or self.step_slider.value > n:
                self.step_slider.value = n
        finally:
            self._quiet = False
        step = self.step_slider.value
        self.step_caption.value = self._step_text(tr, mode, step, n)
        self.readout.value = self._readout(tr, mode, values)
        self._show_graph(tr, mode, step, n)
        self.trace_html.value = (f'<div style="line-height:1.3;font-size:{_TABLE_PX * self._zoom:g}px">'
                                 f"{tr._repr_html_()}</div>")
        if self._panel is not None:
            self.plot_image.value = self._panel.update(values, tr.value, tr.gradient)

    # --- pieces of a frame -------------------------------------------------------------
    def _show_graph(self, tr, mode, step, n):
        if self._draw is None:
            self._svg = None
            self.graph_html.value = f"<i>{html.escape(self._graph_problem)}</i>" if self._graph_problem else ""
            return
        try:
            # the whole sweep (step at its end) is the plain drawing; earlier steps are highlighted.
            # Drawing.svg() lays out each graph shape once and then only writes the new numbers
            # into that SVG (adteach.drawing.cache): no Graphviz run while a slider is dragged.
            svg = self._draw(tr, mode=mode, step=None if step >= n else step, renderer=self._renderer,
                             zoom=self._zoom).svg()
        except Exception as exc:  # noqa: BLE001 - no renderer, graph too large...: say so in place
            self._svg = None
            self.graph_html.value = self._error_html(f"The graph could not be drawn: {exc}")
            return
        svg = svg[svg.find("<svg"):] if "<svg" in svg else svg
        self._svg = svg
        self.graph_html.value = f'<div style="{_GRAPH_STYLE}">{svg}</div>'

    def _show_error(self, values, exc):
        at = ", ".join(f"{n} = {_fmt(v)}" for n, v in zip(self.names, values))
        kind = type(exc).__name__
        message = f"{_fname(self.f)} cannot be evaluated at {at}. {kind}: {exc}"
        if not isinstance(exc, (ADError, ArithmeticError, ValueError)):
            message += " (this looks like a mistake in the function, not a point outside its domain)"
        self._trace, self._error = None, message
        self.readout.value = self._error_html(message)
        self.step_caption.value = ""
        self.trace_html.value = ""
        if self._svg is not None:  # the last good graph stays, faded, so the layout does not jump
            self.graph_html.value = f'<div style="{_GRAPH_STYLE};opacity:0.25">{self._svg}</div>'
        if self._panel is not None:
            self.plot_image.value = self._panel.update(values, None, None)

    @staticmethod
    def _error_html(message):
        return (f'<div style="color:#b00020;border-left:4px solid #b00020;padding:4px 8px;'
                f'background:#fff0f0;white-space:pre-wrap">{html.escape(message)}</div>')

    def _readout(self, tr, mode, values):
        name = _fname(self.f)
        at = ", ".join(_fmt(v) for v in values)
        grad = ", ".join(_fmt(g) for g in tr.gradient)
        lines = [f"<b>{html.escape(name)}({html.escape(at)}) = {html.escape(_fmt(tr.value))}</b>"]
        if len(self.names) == 1 and mode == "forward" and tr.tangent is NOT_AVAILABLE:
            lines.append(f"{html.escape(name)}'({html.escape(at)}): not available in forward mode "
                         f"<i>({html.escape(_rules(tr))}: a reverse-mode rule only, no tangent rule)</i>")
            lines.append(f"<span style='color:#666'>{html.escape(name)}'({html.escape(at)}) = {html.escape(grad)}"
                         " by reverse mode, with the custom rule</span>")
        elif len(self.names) == 1:
            sweep = "reverse" if mode == "reverse" else "forward"
            lines.append(f"{html.escape(name)}'({html.escape(at)}) = {html.escape(grad)}"
                         f" <i>(one {sweep} sweep)</i>")
        elif mode == "reverse":
            lines.append(f"gradient ∇{html.escape(name)} = ({html.escape(grad)})"
                         " <i>(one reverse sweep: all partial derivatives at once)</i>")
        else:
            k = self.seed_toggle.value
            if tr.tangent is NOT_AVAILABLE:  # a custom_vjp on the way: forward mode has no rule for it
                lines.append(f"∂{html.escape(name)}/∂{html.escape(self.names[k])}: not available in forward mode"
                             f" <i>({html.escape(_rules(tr))}: a reverse-mode rule only, no tangent rule;"
                             " switch to reverse mode)</i>")
            else:
                lines.append(f"∂{html.escape(name)}/∂{html.escape(self.names[k])} = {html.escape(_fmt(tr.tangent))}"
                             f" <i>(one forward sweep, seeded with {html.escape(dot(self.names[k]))} = 1: "
                             "one directional derivative)</i>")
            lines.append(f"<span style='color:#666'>gradient ∇{html.escape(name)} = ({html.escape(grad)})</span>")
        return '<div style="font-family:monospace;line-height:1.5">' + "<br>".join(lines) + "</div>"

    def _step_text(self, tr, mode, step, n):
        if n == 0:
            return ""
        sweep = "reverse" if mode == "reverse" else "forward"
        if step >= n:
            na = (f", {html.escape(NA_TEXT)} where {html.escape(_rules(tr))} (a custom_vjp) has no tangent rule"
                  if mode == "forward" and tr.unavailable else "")
            return f"<span>{sweep} sweep: complete ({n} steps{na}); press play to watch it step by step</span>"
        if step == 0:
            out = tr.names[tr.output]
            start = (f"only the output's adjoint {bar(out)} = {_fmt(tr.adjoint_seed)} is known" if mode == "reverse"
                     else "only the inputs' tangents (the seed) are known")
            return f"<span>{sweep} sweep: not started, {html.escape(start)} (0/{n})</span>"
        current = tr.sweep(mode).state(step).current
        if mode == "reverse":
            by = " by its custom rule (bwd)" if current in _custom_names(tr) else ""
            return (f"<span>reverse sweep: step {step}/{n}, {pretty(current)} sends its adjoint "
                    f"{bar(current)} to its inputs{by}</span>")
        if current in tr.unavailable:  # the forward sweep goes on past it, with "n/a" where it cannot
            op = tr._by_name[current].op
            why = (f"{html.escape(op)} is a custom_vjp, a reverse-mode rule only" if current in _custom_names(tr)
                   else f"it depends on {html.escape(_rules(tr))}, which has no tangent rule")
            return (f"<span>forward sweep: step {step}/{n}, {pretty(current)} gets no tangent: "
                    f"{dot(current)} is not available ({NA_TEXT}), {why}</span>")
        return (f"<span>forward sweep: step {step}/{n}, {pretty(current)} gets its tangent {dot(current)} "
                "from its inputs</span>")

    # --- headless API ---------------------------------------------------------------------
    @property
    def value(self):
        """f at the current slider values (None when f is not defined there)."""
        self._flush()
        return None if self._trace is None else self._trace.value

    @property
    def gradient(self):
        """The gradient at the current slider values, a tuple (None when f is not defined there)."""
        self._flush()
        return None if self._trace is None else self._trace.gradient

    @property
    def tangent(self):
        """The directional derivative along the forward-mode seed (None when undefined)."""
        self._flush()
        return None if self._trace is None else self._trace.tangent

    @property
    def trace(self):
        """The current ``Trace`` (None when f is not defined at the current values)."""
        self._flush()
        return self._trace

    @property
    def error(self):
        """The message shown when f cannot be evaluated at the current values, else None."""
        self._flush()
        return self._error

    @property
    def svg(self):
        """The SVG text of the graph on screen (None without a graph); kept, faded, during an error."""
        self._flush()
        return self._svg

    @property
    def values(self):
        """The current inputs as a dict name -> float."""
        return {n: float(s.value) for n, s in self.sliders.items()}

    @property
    def png(self):
        """The plot panel's current PNG bytes (None without a plot)."""
        self._flush()
        return self.plot_image.value if self._panel is not None else None

    @property
    def mode(self):
        return self.mode_toggle.value

    @mode.setter
    def mode(self, value):
        if value not in MODES:
            raise ValueError(f"mode must be 'reverse' or 'forward', not {value!r}")
        self.mode_toggle.value = value

    @property
    def seed(self):
        """The input seeded in forward mode (its name)."""
        return self.names[self.seed_toggle.value]

    @seed.setter
    def seed(self, name):
        self.seed_toggle.value = self._seed_index(name)

    @property
    def step(self):
        """How many steps of the sweep are shown (``n_steps``: all of it)."""
        return self.step_slider.value

    @step.setter
    def step(self, k):
        self.step_slider.value = int(k)

    @property
    def n_steps(self):
        return self.step_slider.max

    def set(self, **values):
        """Move several sliders at once, with a single frame: ``ex.set(x1=2.0, x2=0.7)``."""
        unknown = [k for k in values if k not in self.sliders]
        if unknown:
            raise KeyError(f"no slider named {', '.join(unknown)} (the sliders are {', '.join(self.sliders)})")
        self._quiet = True
        try:
            for k, v in values.items():
                self.sliders[k].value = v
        finally:
            self._quiet = False
        self._changed()
        self._flush()  # called from code (a lesson, a test): draw now, not after the cell
        return self

    def close(self):
        """Close the explorer and every widget inside it (their front-end views disappear)."""
        self._panel = None
        parts = [getattr(self, "_play_link", None)]
        stack = list(getattr(self, "children", ()))
        while stack:  # the boxes and all that is in them
            w = stack.pop()
            parts.append(w)
            stack.extend(getattr(w, "children", ()))
        parts += [*getattr(self, "sliders", {}).values(), getattr(self, "seed_toggle", None),
                  getattr(self, "plot_image", None), getattr(self, "graph_html", None)]
        for w in parts:
            if w is not None:
                w.close()
        super().close()

    def _repr_mimebundle_(self, **kwargs):
        """The live widget, plus a still picture (PNG) for viewers that cannot run it (see ``picture``)."""
        base = getattr(super(), "_repr_mimebundle_", None)  # ipywidgets 8; 7.x (Colab) has none
        bundle = base(**kwargs) if base is not None else {
            "text/plain": repr(self), "application/vnd.jupyter.widget-view+json": {
                "version_major": 2, "version_minor": 0, "model_id": self.model_id}}
        if isinstance(bundle, dict):
            try:
                from .picture import explorer_png
                self._flush()
                bundle["image/png"] = explorer_png(self)
            except Exception:  # noqa: BLE001 - no renderer: the live widget and its text form still show
                pass
        return bundle

    if not hasattr(widgets.Widget, "_repr_mimebundle_"):
        def _ipython_display_(self, **kwargs):
            """ipywidgets 7 (Google Colab) shows widgets this way: the same bundle, the PNG included."""
            from IPython.display import display
            display(self._repr_mimebundle_(), raw=True)
            self._handle_displayed(**kwargs)

    def __repr__(self):
        at = ", ".join(f"{n}={_fmt(s.value)}" for n, s in self.sliders.items())
        return f"Explorer({_fname(self.f)}, {at}, mode={self.mode_toggle.value!r})"


def explore(f, *args, plot=True, graph=True, mode="reverse", seed=None, renderer="auto", title=None, zoom=None,
            **ranges):
    """Sliders for the inputs of ``f``; value, gradient, graph, trace and plot follow as you drag.

        ad.explore(f, x1=(0.1, 3.0), x2=(0.1, 2.0))     # a slider per input, over these ranges
        ad.explore(f, x1=1.5, x2=0.5)                   # start values; ranges chosen for you
        ad.explore(lambda x: x ** 3 - 2 * x, x=(-2, 2)) # one input: f and f' with the tangent line

    Each input is ``(low, high)`` (start in the middle), ``(low, high, step)``, a start
    value (the range keeps its sign: v > 0 gives [v/10, v + max(1, v)], v = 0 gives
    [-1, 1]), or an ``ipywidgets.FloatSlider``; positional values work too
    (``explore(f, 1.5, 0.5)``).

    ``mode`` is "reverse" (adjoints) or "forward" (tangents; ``seed`` names the
    seeded input); the toggle switches live, and the step control plays the sweep
    one node at a time. ``plot=False`` leaves out the plot panel (faster);
    ``graph=False`` the graph. A point where f is not defined shows the error in
    place; moving the slider back recovers. A function using a ``custom_vjp`` works in
    reverse mode as any other (the rule gives the adjoints, and the plot's f'); in forward
    mode the read-out and the step caption say which tangents are not available and why.
    ``zoom`` scales the graph, the plot and the trace table (default: the presentation
    setting, ``%adteach present``, else 1).

    Returns an ``Explorer`` (an ``ipywidgets.VBox``); display it, or read
    ``ex.value``, ``ex.gradient``, ``ex.svg``, ``ex.trace``, ``ex.error`` after
    setting ``ex.sliders["x1"].value``.
    """
    return Explorer(f, *args, plot=plot, graph=graph, mode=mode, seed=seed, renderer=renderer, title=title,
                    zoom=zoom, **ranges)
