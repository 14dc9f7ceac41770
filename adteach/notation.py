"""How adteach writes things for people: trace names, adjoints, tangents, LaTeX and numbers.

One place for the notation the traces, the drawings, the explorer and the ``%%trace``
magic show, so a slide reads the same everywhere:

=====================  ==================  ==========================================
what                   on screen           why
=====================  ==================  ==========================================
trace name             v₋₁, v₀, v₁         ``v-1`` would read as "v minus 1"
adjoint (reverse)      v̄₋₁, ȳ             the bar sits on the letter, not after a digit
tangent (forward)      v̇₋₁, ẋ₁            dots everywhere (headers, drawings, lessons)
LaTeX                  v_{-1}, x_{1}       ``x1`` would typeset as x·1
a pow edge             2·v₀, 3·v₀²         not ``2·v0^(2-1)``
=====================  ==================  ==========================================

The trace's *keys* stay plain ASCII (``t["v-1"]``, ``Edge.label == "cos(v0)"``): code
reads those; ``pretty`` turns them into the subscripted form at the moment they are shown.

Numbers: ``number`` is the one formatter of a value for text (7 significant digits, or
full precision with ``digits=None``); ``fixed`` writes a number in a fixed number of
characters (the drawings, so boxes keep their size while sliders move);
``slider_format`` gives a slider readout a fixed number of decimals. A derivative that
cannot be computed (a tangent through a ``custom_vjp``, which has no tangent rule) is the
marker ``NOT_AVAILABLE``, written "n/a" by both, never as a number.
"""
from __future__ import annotations

import math
import re
import unicodedata

import numpy as np

__all__ = ["pretty", "subscript", "width", "ljust", "bar", "dot", "latex_name", "latex_label", "edge_label",
           "number", "fixed", "slider_format", "NOT_AVAILABLE", "NA_TEXT", "WIDTH", "EDGE_WIDTH", "set_presentation",
           "zoom", "check_zoom"]

_SUB = str.maketrans("-0123456789", "₋₀₁₂₃₄₅₆₇₈₉")
_SUP = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
_TRACE_NAME = re.compile(r"(?<![A-Za-z0-9_.])v(-?[0-9]+)(?![A-Za-z0-9_.])")
_SIMPLE = re.compile(r"([A-Za-z])_?(-?[0-9]*)")   # one letter and an optional index: x, x1, x_1, v-1
BAR, DOT = "\u0304", "\u0307"  # combining macron / dot above, always placed on a letter
_OVERLINE = "\u0305"            # combining overline: joins into one bar over a longer name


def subscript(index: str) -> str:
    """Digits and minus signs as subscripts: "-1" -> "₋₁"."""
    return index.translate(_SUB)


def width(text: str) -> int:
    """How many columns ``text`` takes in a monospaced font (a combining bar or dot takes none)."""
    return sum(1 for c in text if not unicodedata.combining(c))


def ljust(text: str, columns: int) -> str:
    """``text`` padded with spaces to ``columns`` columns (``str.ljust`` counts combining marks)."""
    return text + " " * max(0, columns - width(text))


def pretty(text: str) -> str:
    """Every trace name in ``text`` with its index as a subscript: "v-1 / v0" -> "v₋₁ / v₀"."""
    return _TRACE_NAME.sub(lambda m: "v" + subscript(m.group(1)), text)


def _accent(name: str, mark: str, long_form) -> str:
    m = _SIMPLE.fullmatch(name)
    if m:  # composed where Unicode has the letter (ȳ, ẋ: one glyph in every font), else v + mark
        return unicodedata.normalize("NFC", m.group(1) + mark) + subscript(m.group(2))
    return long_form(name)


def bar(name: str) -> str:
    """The adjoint of a name, the bar on its letter: "v6" -> "v̄₆", "v-1" -> "v̄₋₁", "y" -> "ȳ".

    A longer name gets a bar over all of it ("out" -> "o̅u̅t̅").
    """
    return _accent(name, BAR, lambda s: "".join(c + _OVERLINE for c in s))


def dot(name: str) -> str:
    """The tangent of a name, a dot on its letter: "v6" -> "v̇₆", "x1" -> "ẋ₁".

    A longer name is written ``(name)˙``.
    """
    return _accent(name, DOT, lambda s: f"({s})˙")


def latex_name(name: str) -> str:
    """A trace name in LaTeX: "v-1" -> "v_{-1}"."""
    return f"v_{{{name[1:]}}}"


def latex_label(label: str) -> str:
    """A user's input name for LaTeX: "x1" -> "x_{1}" (x1 would typeset as x·1), "w_2" -> "w_{2}"."""
    m = re.fullmatch(r"([A-Za-z]+)_?(\d+)", label)
    if m:
        return f"{m.group(1)}_{{{m.group(2)}}}"
    return label.replace("_", r"\_")


def _superscript(k: float) -> str:
    return f"{k:g}".translate(_SUP) if float(k).is_integer() else f"^{k:g}"


def edge_label(op: str, index: int, template: str, refs) -> str:
    """The partial derivative on an edge, written with its inputs' names, simplified.

    pow with a constant exponent is written out: d(v0**2)/dv0 is "2·v0", not "2·v0^(2-1)";
    d(v0**3)/dv0 is "3·v0²".
    """
    if op == "pow" and index == 0:
        try:
            n = float(refs[1])
        except (TypeError, ValueError):  # the exponent is a traced value: keep the general form
            n = None
        if n is not None:
            k = n - 1
            if k == 0:
                return "1"
            base = refs[0] if k == 1 else refs[0] + _superscript(k)
            return base if n == 1 else "-" + base if n == -1 else f"{n:g}·{base}"
    return template.format(*refs)


# --- numbers ----------------------------------------------------------------------------
NA_TEXT = "n/a"  # how NOT_AVAILABLE is written in tables, drawings and read-outs


class NotAvailable:
    """The marker of a derivative that cannot be computed: written "n/a", never used as a number.

    The evaluation trace puts it where forward mode has no rule: the tangent of a ``custom_vjp``
    node (a reverse-mode rule, ``bwd``, says nothing about tangents) and of every operation that
    depends on it. Any arithmetic or conversion to a number raises an ``ADError`` saying so,
    so it can never turn into a silently wrong number.
    """

    __slots__ = ()
    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self):
        return "NOT_AVAILABLE"

    def __str__(self):
        return NA_TEXT

    def __format__(self, spec):
        return format(NA_TEXT, re.sub(r"\.\d+", "", spec.rstrip("eEfFgG%n")))  # f"{t.tangent:.4f}": "n/a"

    def __reduce__(self):
        return (NotAvailable, ())

    def _refuse(self, *args, **kwargs):
        from .primitives import ADError
        raise ADError("this derivative is not available (n/a): forward mode has no rule for a custom_vjp "
                      "(it has a reverse-mode rule only), so there is no number to compute with")

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _refuse
    __neg__ = __pos__ = __abs__ = __float__ = __int__ = __index__ = __array__ = _refuse
    __lt__ = __le__ = __gt__ = __ge__ = _refuse


NOT_AVAILABLE = NotAvailable()

WIDTH = 10  # characters per number in the drawings' boxes: "   -0.9900", "-1.235e-05"
EDGE_WIDTH = 8  # ... and on their arrows: "-13.7240", "-1.2e-05"


def number(v, digits: int | None = 7) -> str:
    """A value as text: the one number formatter of the traces, the explorer and the magics.

    Scalars get ``digits`` significant digits ("0.4794255"; 0 is "0"); ``digits=None`` gives
    full precision (``repr``, so published tables can be compared digit for digit). Arrays
    are written on one line, shortened when long. None (nothing known yet) is "";
    ``NOT_AVAILABLE`` is "n/a".
    """
    v = getattr(v, "value", v)
    if v is None:
        return ""
    if v is NOT_AVAILABLE:
        return NA_TEXT
    if np.ndim(v) == 0:
        x = float(v)
        if digits is None:
            return repr(x)
        return "0" if x == 0 else f"{x:.{digits}g}"
    arr = np.asarray(v, dtype=float)
    if digits is None:
        return np.array2string(arr, separator=", ", precision=12, threshold=20, max_line_width=10**6)
    return np.array2string(arr, precision=4, threshold=6, separator=", ", suppress_small=True).replace("\n", "")


def fixed(x, width: int = WIDTH) -> str:
    """A number as exactly ``width`` characters, right-aligned: 4 decimals, or 4 digits and an exponent.

    ``fixed(3.0) == '    3.0000'``, ``fixed(-1.2345e-5) == '-1.234e-05'``. The same width for
    every value keeps a drawing's layout still while values change. A narrower ``width`` drops
    decimals to fit: ``fixed(-13.724, 7) == '-13.724'``, ``fixed(-1.2345e-5, 8) == '-1.2e-05'``.
    ``NOT_AVAILABLE`` is "n/a" in the same width.
    """
    if x is NOT_AVAILABLE:
        return NA_TEXT.rjust(width)
    x = float(x)
    if not math.isfinite(x):
        return str(x).rjust(width)
    if x == 0:
        return "0.0000"[:max(width, 3)].rjust(width)
    if 1e-3 <= abs(x) < 1e4:
        for decimals in (4, 3, 2, 1, 0):
            s = f"{x:.{decimals}f}"
            if len(s) <= width:
                return s.rjust(width)
    for digits in (3, 2, 1, 0):
        s = f"{x:.{digits}e}"
        if len(s) <= width:
            break
    return s.rjust(width)


def slider_format(step: float) -> str:
    """The readout format of a slider with this step: a fixed number of decimals (".2f" for 0.01).

    Every position then shows the same number of digits ("1.50", "1.51", not "1.5", "1.51").
    """
    step = abs(float(step))
    if not math.isfinite(step) or step == 0:
        return ".4f"
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    while decimals < 8 and not math.isclose(step * 10 ** decimals, round(step * 10 ** decimals), rel_tol=1e-9):
        decimals += 1  # 0.25 -> 2 decimals, 0.005 -> 3
    return f".{min(decimals, 8)}f"


# --- presentation: how large drawings and plots are shown -----------------------------------
MAX_ZOOM = 4.0
PRESENTATION_ZOOM = 1.25  # the size ``set_presentation(True)`` chooses: node text 18 px instead of 14.7
_settings = {"zoom": 1.0}


def check_zoom(zoom, what="draw"):
    """``zoom`` as a float, or a clear ``ADError``: a number above 0 and at most ``MAX_ZOOM``."""
    from .primitives import ADError  # the core's error class (imported late: notation is imported early)
    try:
        z = float(zoom)
    except (TypeError, ValueError):
        z = math.nan
    if isinstance(zoom, bool) or not (0 < z <= MAX_ZOOM):
        raise ADError(f"{what}: zoom must be a number above 0 and at most {MAX_ZOOM:g} (1 is the normal size, "
                      f"1.5 half as large again), not {zoom!r}")
    return z


def zoom(value=None, what="draw"):
    """The zoom a drawing or an explorer uses: ``value`` if given, else the presentation setting."""
    return _settings["zoom"] if value is None else check_zoom(value, what)


def set_presentation(on=True, zoom=None):
    """Make every later drawing and explorer larger (for a projector), or normal again.

    ``set_presentation(True)`` scales text by ``PRESENTATION_ZOOM`` (1.25), ``set_presentation(zoom=1.5)``
    by 1.5, ``set_presentation(False)`` back to 1. A ``zoom=`` given to ``draw`` or ``explore`` wins.
    Returns the zoom now in force. In a notebook: ``%adteach present`` / ``%adteach normal``.
    """
    if on and zoom is None:
        zoom = PRESENTATION_ZOOM
    _settings["zoom"] = check_zoom(zoom, "set_presentation") if on else 1.0
    return _settings["zoom"]
