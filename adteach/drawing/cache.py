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
"""
from __future__ import annotations

import re
import threading
from collections import OrderedDict

from .render import render_svg

__all__ = ["svg_for", "clear", "stats"]

MAX_SVGS = 32     # finished SVGs remembered by DOT text
MAX_SHAPES = 64   # graph shapes remembered (with their template once built)

_svgs: OrderedDict = OrderedDict()
_shapes: OrderedDict = OrderedDict()
_lock = threading.Lock()
stats = {"renders": 0, "fills": 0, "hits": 0}
_HOLDER = re.compile(r"#(\d+)#")
_SPACES = re.compile(r"(?<= ) ")


def clear():
    """Forget every remembered SVG and layout."""
    with _lock:
        _svgs.clear()
        _shapes.clear()


def _render(dot, renderer):
    stats["renders"] += 1
    return render_svg(dot, renderer)


def _remember(cache, key, value, limit):
    with _lock:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > limit:
            cache.popitem(last=False)


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
    with _lock:
        svg = _svgs.get(key)
        if svg is not None:
            _svgs.move_to_end(key)
            stats["hits"] += 1
            return svg
    svg = _from_layout(literals, numbers, renderer, dot)
    _remember(_svgs, key, svg, MAX_SVGS)
    return svg


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
