"""SVG for a drawing, fast when only its numbers change.

Laying out a graph means starting Graphviz (see ``render``): several milliseconds,
too slow to follow a slider. But a slider changes only the *numbers* of a drawing,
and every number has the same width (``dot.fixed``), so the layout is the same.
Hence, per graph *shape* (the DOT with each number replaced by a placeholder of the
same width, ``#7#0000000``):

1. the first time a shape is seen, the DOT is rendered as it is (one Graphviz run);
2. the second time (other numbers, same shape), the placeholder DOT is rendered once
   and cut at the placeholders into a template. The template is kept only if,
   filled with the first numbers, it gives exactly the SVG of step 1: byte for byte
   what Graphviz itself writes. Otherwise this shape is always rendered for real;
3. from then on, an SVG is the template joined with the new numbers (microseconds).

Identical DOT texts are also remembered (a small LRU), so showing the same drawing
twice renders it once.

PNG (``png_for``, for viewers that cannot show SVG) has no such fast path: its
numbers are pixels, so every new DOT text is one Graphviz run (about 50 ms). Its
PNGs are remembered by DOT text in their own LRU, so the SVG fast path above is
not slowed down by them, and showing the same drawing again costs nothing.
"""
from __future__ import annotations

import re
import threading
from collections import OrderedDict

from .render import render_png, render_svg

__all__ = ["svg_for", "png_for", "clear", "stats"]

MAX_SVGS = 32     # finished SVGs remembered by DOT text
MAX_SHAPES = 64   # graph shapes remembered (with their template once built)
MAX_PNGS = 16     # finished PNGs remembered by DOT text

_svgs: OrderedDict = OrderedDict()
_shapes: OrderedDict = OrderedDict()
_pngs: OrderedDict = OrderedDict()
_lock = threading.Lock()
stats = {"renders": 0, "fills": 0, "hits": 0, "png_renders": 0, "png_hits": 0}
_HOLDER = re.compile(r"#(\d+)#")
_SPACES = re.compile(r"(?<= ) ")


def clear():
    """Forget every remembered SVG and layout."""
    with _lock:
        _svgs.clear()
        _shapes.clear()
        _pngs.clear()


def _render(dot, renderer):
    stats["renders"] += 1
    return render_svg(dot, renderer)


def _remember(cache, key, value, limit):
    with _lock:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > limit:
            cache.popitem(last=False)


def _lookup(cache, key, hit):
    """The remembered value for key (marked as recently used and counted as a ``hit``), or None."""
    with _lock:
        value = cache.get(key)
        if value is not None:
            cache.move_to_end(key)
            stats[hit] += 1
        return value


def _join(literals, numbers):
    out = [literals[0]]
    for n, lit in zip(numbers, literals[1:]):
        out += [n, lit]
    return "".join(out)


def _holder(k, width):
    head = f"#{k}#"
    return head + "0" * (width - len(head)) if len(head) <= width else None


def _escape(s):
    """A number as Graphviz writes it in SVG text: '-' as &#45;, a space after a space as &#160;."""
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("-", "&#45;")
    return _SPACES.sub("&#160;", s) if "  " in s else s


def _template(svg, holders):
    parts, order, pos = [], [], 0
    for m in _HOLDER.finditer(svg):
        if m.start() < pos:
            continue
        k = int(m.group(1))
        if k >= len(holders) or not svg.startswith(holders[k], m.start()):
            return None
        parts.append(svg[pos:m.start()])
        order.append(k)
        pos = m.start() + len(holders[k])
    parts.append(svg[pos:])
    return (parts, order) if sorted(order) == list(range(len(holders))) else None


def _fill(template, numbers):
    parts, order = template
    out = [parts[0]]
    for k, part in zip(order, parts[1:]):
        out += [_escape(numbers[k]), part]
    return "".join(out)


def svg_for(literals, numbers, renderer="auto"):
    """The SVG of the DOT ``literals[0] + numbers[0] + literals[1] + ...`` (see the module docstring)."""
    dot = _join(literals, numbers)
    key = (renderer, dot)
    svg = _lookup(_svgs, key, "hits")
    if svg is not None:
        return svg
    svg = _from_layout(literals, numbers, renderer, dot)
    _remember(_svgs, key, svg, MAX_SVGS)
    return svg


def png_for(dot, renderer="auto"):
    """The PNG bytes of the DOT text ``dot`` (remembered by content; see the module docstring)."""
    key = (renderer, dot)
    png = _lookup(_pngs, key, "png_hits")
    if png is not None:
        return png
    stats["png_renders"] += 1
    png = render_png(dot, renderer)
    _remember(_pngs, key, png, MAX_PNGS)
    return png


def _from_layout(literals, numbers, renderer, dot):
    holders = [_holder(k, len(n)) for k, n in enumerate(numbers)]
    if not numbers or None in holders:
        return _render(dot, renderer)
    skey = (renderer, _join(literals, holders))
    shape = _shapes.get(skey)
    if shape is None:  # first sight of this shape: render as it is, remember it
        svg = _render(dot, renderer)
        _remember(_shapes, skey, [numbers, svg], MAX_SHAPES)
        return svg
    if isinstance(shape, list):  # second sight: build the template, check it against the first SVG
        template = _template(_render(skey[1], renderer), holders)
        if template is None or _fill(template, shape[0]) != shape[1]:
            template = False  # the placeholders did not come through exactly: always render this shape
        _remember(_shapes, skey, template, MAX_SHAPES)
        shape = template
    if shape is False:
        return _render(dot, renderer)
    stats["fills"] += 1
    return _fill(shape, numbers)
