"""Which slider each input gets: ``x1=(0.1, 3.0)``, ``x1=(0.1, 3.0, 0.05)`` or ``x1=1.5``.

The rules (also in ``explore``'s docstring):

* ``(lo, hi)``: a slider from lo to hi starting in the middle; the step is the
  power of ten that gives 100 to 1000 positions (span 2.9 -> step 0.01).
* ``(lo, hi, step)``: the same with that step (as in ``ipywidgets.interact``).
* a number ``v`` (an initial value only): the slider starts at v and keeps v's
  sign, because a positive starting point usually means the function needs a
  positive input there (``log``, ``sqrt``, division by the input):
  ``v > 0``: from v/10 to v + max(1, v)  (1.5 -> [0.15, 3.0], 0.5 -> [0.05, 1.5]);
  ``v < 0``: the mirror image             (-2 -> [-4.0, -0.2]);
  ``v = 0``: from -1 to 1.
  Give ``(lo, hi)`` to cross zero or to choose any other range.
* an ``ipywidgets.FloatSlider`` is used as it is.

Inputs are always floats (an integer range still gets a FloatSlider): derivatives
need a continuum.
"""
from __future__ import annotations

import math
import numbers

__all__ = ["SliderSpec", "slider_spec", "auto_range", "nice_step"]


class SliderSpec:
    __slots__ = ("min", "max", "step", "value")

    def __init__(self, lo, hi, step, value):
        self.min, self.max, self.step, self.value = lo, hi, step, value

    def __repr__(self):
        return f"SliderSpec(min={self.min!r}, max={self.max!r}, step={self.step!r}, value={self.value!r})"


def nice_step(span):
    """The power of ten giving between 100 and 1000 slider positions over ``span``."""
    return 10.0 ** math.floor(math.log10(span / 100.0))


def _snap(x, step):
    """x rounded to the step grid, without binary noise (0.15000000000000002 -> 0.15)."""
    digits = max(0, -math.floor(math.log10(step))) + 2
    return round(round(x / step) * step, digits)


def auto_range(v):
    """The slider range for an initial value only (see the module docstring)."""
    if v == 0:
        return -1.0, 1.0
    a = abs(v)
    lo, hi = a / 10.0, a + max(1.0, a)
    return (lo, hi) if v > 0 else (-hi, -lo)


def _number(name, x, what):
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not math.isfinite(float(x)):
        raise ValueError(f"explore: the {what} for {name} must be a finite number, got {x!r}")
    return float(x)


def slider_spec(name, spec):
    """A SliderSpec from what the user wrote for input ``name``."""
    if isinstance(spec, numbers.Real) and not isinstance(spec, bool):
        v = _number(name, spec, "value")
        lo, hi = auto_range(v)
        step = nice_step(hi - lo)
        lo_s, hi_s = _snap(lo, step), _snap(hi, step)
        if lo_s * lo <= 0:  # rounding must not move the end onto zero (or across it)
            lo_s = lo
        if hi_s * hi <= 0:
            hi_s = hi
        return SliderSpec(min(lo_s, v), max(hi_s, v), step, v)
    if isinstance(spec, (tuple, list)) and len(spec) in (2, 3):
        lo = _number(name, spec[0], "lower end")
        hi = _number(name, spec[1], "upper end")
        if not lo < hi:
            raise ValueError(f"explore: {name}=({spec[0]!r}, {spec[1]!r}) must be (low, high) with low < high")
        if len(spec) == 3:
            step = _number(name, spec[2], "step")
            if step <= 0:
                raise ValueError(f"explore: the step for {name} must be positive, got {spec[2]!r}")
        else:
            step = nice_step(hi - lo)
        return SliderSpec(lo, hi, step, _snap((lo + hi) / 2, step) if len(spec) == 2 else (lo + hi) / 2)
    raise ValueError(
        f"explore: {name}={spec!r} is not understood; write {name}=(low, high), {name}=(low, high, step), "
        f"{name}=value (the range is then chosen for you) or pass an ipywidgets.FloatSlider")
