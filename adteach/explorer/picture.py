"""A still picture of an explorer, for the places where its live widgets cannot run.

A notebook saved with an explorer in it holds the widget's view (and, when the
widget state is saved, its models). JupyterLab shows the live explorer when a
kernel or the saved state can drive it; GitHub, nbviewer, an untrusted notebook
and a plain HTML export cannot, and show the next picture in the output instead.
``Explorer._repr_mimebundle_`` adds that picture as ``image/png``: one Graphviz
drawing holding the explorer's parts in the order the live explorer shows them
(title, sliders, mode buttons, the forward-mode seed, the step control with its
caption, the read-out), then the graph at the current step. Made once per
display (about 0.1 s), never while a slider moves.
"""
from __future__ import annotations

import html
import re

__all__ = ["explorer_dot", "explorer_png"]

_DARK, _LIGHT, _LINE = "#0072B2", "#FFFFFF", "#999999"
_TAGS = re.compile(r"<[^>]+>")
_BAR = 180  # points: the width of a drawn slider


def _t(text):
    """Plain text from a widget's HTML (tags dropped, entities kept once), safe in an HTML-like label."""
    text = html.unescape(_TAGS.sub(" ", str(text))).replace("∇", "")  # no ∇ in Graphviz's fonts
    return html.escape(" ".join(text.split()), quote=True)


def _bar(fraction):
    """A slider: a thin bar, filled left of the handle."""
    fraction = min(max(fraction, 0.0), 1.0)
    left = max(1, round(_BAR * fraction))
    right = max(1, _BAR - left)
    cell = '<TD WIDTH="{}" HEIGHT="6" BGCOLOR="{}"><FONT POINT-SIZE="3"> </FONT></TD>'
    return (f'<TD><TABLE BORDER="1" COLOR="{_LINE}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0"><TR>'
            f'{cell.format(left, _DARK)}{cell.format(right, "#E6E6E6")}</TR></TABLE></TD>')


def _button(label, on=False):
    return (f'<TD BORDER="1" COLOR="{_LINE}" BGCOLOR="{_DARK if on else _LIGHT}">'
            f'<FONT COLOR="{_LIGHT if on else "#333333"}">{_t(label)}</FONT></TD>')


def _line(*cells):
    """One line of the picture: its own little table, so that lines do not share columns."""
    return (f'<TR><TD ALIGN="LEFT"><TABLE BORDER="0" CELLSPACING="0" CELLPADDING="3"><TR>{"".join(cells)}'
            "</TR></TABLE></TD></TR>")


def _text(text, face=None, size=None, color=None):
    attrs = "".join(f' {k}="{v}"' for k, v in (("FACE", face), ("POINT-SIZE", size), ("COLOR", color)) if v)
    return f'<TD ALIGN="LEFT"><FONT{attrs}>{text}</FONT></TD>' if attrs else f'<TD ALIGN="LEFT">{text}</TD>'


def _fraction(w):
    span = w.max - w.min
    return 0.0 if not span else (w.value - w.min) / span


def _controls(ex):
    """The HTML-like table of the explorer's controls and read-out, top to bottom as on screen."""
    width = max(len(n) for n in ex.sliders)
    lines = [_line(_text(f"<B>{_t(ex._title_text)}</B>"))]
    for name, s in ex.sliders.items():
        lines.append(_line(_text(_t(name.ljust(width)), face="Courier"), _bar(_fraction(s)),
                           _text(_t(format(s.value, s.readout_format)), face="Courier")))  # as the slider reads
    lines.append(_line(*(_button(label, value == ex.mode) for label, value in ex.mode_toggle.options)))
    if ex.mode == "forward":
        lines.append(_line(*(_button(label, value == ex.seed_toggle.value)
                             for label, value in ex.seed_toggle.options)))
    step = ex.step_slider
    lines.append(_line(_button("play"), _text(" step "), _bar(_fraction(step)), _text(f" {step.value}"),
                       _text(_t(ex.step_caption.value))))
    for line in re.split(r"<br\s*/?>", ex.readout.value):
        if _t(line):
            lines.append(_line(_text(_t(line))))
    lines.append(_line(_text("(a picture of the explorer as it was saved: run the notebook to move the sliders)",
                             size="11", color="#666666")))
    return f'<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="0">{"".join(lines)}</TABLE>'


def explorer_dot(ex):
    """The DOT text of the picture of ``ex``: its controls as the graph's label above its graph."""
    label = f'\tgraph [label=<{_controls(ex)}> labelloc="t" labeljust="l" fontname="Helvetica" fontsize="13"]\n'
    tr = ex._trace
    if ex._draw is not None and tr is not None:
        step = ex.step_slider.value
        drawing = ex._draw(tr, mode=ex.mode, step=None if step >= ex.step_slider.max else step,
                           renderer=ex._renderer, title=False)
        head, rest = drawing.source.split("\n", 1)
        return f"{head}\n{label}{rest}"
    note = ex.error or ex._graph_problem or ""
    body = f'\tnote [shape="plaintext" label="{_t(note)}"]\n' if note else ""
    return f'digraph explorer {{\n\tgraph [bgcolor="white"]\n{label}{body}}}\n'


def explorer_png(ex):
    """The picture of ``ex`` as PNG bytes (see the module docstring)."""
    from ..drawing import cache

    return cache.png_for(explorer_dot(ex), ex._renderer)
