"""The explorer's plot panel: f and f' (one input) or contours and the gradient (two inputs).

Speed comes from doing the expensive work once:

* the curve (or the contour grid) is computed once, when the explorer is built:
  ``f`` is called on NumPy arrays if it supports them (checked against a few
  single-point evaluations), otherwise point by point; points where ``f`` fails
  (outside its domain) become gaps;
* f' is computed in forward mode (a Dual number per point); for a function that uses
  a ``custom_vjp`` (a reverse-mode rule only) it is computed in reverse mode instead,
  so the curve shows the derivative the rule gives (a clipped one, for a clipping rule);
* the figure is a plain ``matplotlib.figure.Figure`` on the Agg canvas (no pyplot,
  no GUI, nothing displayed by matplotlib itself); its static part is drawn once
  and kept as a pixel background;
* a slider change only restores that background, draws the few *animated* artists
  (the marker, the tangent line, the gradient arrow) on top of it ("blitting")
  and encodes the pixels as PNG (fast zlib setting).

``panel.update(point, value, derivative)`` returns the PNG bytes.
"""
from __future__ import annotations

import io
import math
import warnings

import numpy as np

from ..custom import ForwardModeUnavailable
from ..forward import Dual

__all__ = ["make_panel", "Curve1D", "Contour2D", "sample_1d", "sample_2d"]

N_1D = 400      # points on the curve of f and f'
N_2D = 80       # grid points per axis for the contour plot
N_2D_POINTWISE = 50  # ... when f cannot take arrays and is called once per point
DPI = 80              # at zoom 1; the image is shown at its own size (1 image pixel = 1 CSS px)
SIZE_1D = (5.6, 4.6)  # inches: 448 x 368 pixels at 80 dpi
SIZE_2D = (5.4, 4.6)  # width; the height follows the plot's aspect
#: Text sizes in points: at 80 dpi 1 pt is 1.11 px, so the smallest, 11 pt, is 12.2 px on screen
#: (title 13.9 px), readable on a projector at 1024x768; ``zoom`` scales the whole image.
TEXT_PT = {"font.size": 11, "axes.titlesize": 12.5, "axes.labelsize": 11, "xtick.labelsize": 11,
           "ytick.labelsize": 11, "legend.fontsize": 11}


def _plain(v):
    """A float (or a float array) from whatever f returned (Var, Dual, number, array)."""
    v = getattr(v, "value", v)
    v = getattr(v, "value", v)
    return np.asarray(v, dtype=float)


# --- sampling f on a grid -------------------------------------------------------------
def _vectorised(call, arrays, check_points, check):
    """Try ``call(*arrays)``; accept it if it agrees with single-point evaluations."""
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = call(*arrays)
    except Exception:  # noqa: BLE001 - any failure just means "evaluate point by point"
        return None
    result = tuple(np.broadcast_to(np.asarray(r, dtype=float), arrays[0].shape) if np.ndim(r) == 0
                   else np.asarray(r, dtype=float) for r in result)
    if any(r.shape != arrays[0].shape for r in result):
        return None  # f is not elementwise (it sums, indexes, ...)
    for idx in check_points:
        expected = check(*(a[idx] for a in arrays))
        if expected is None:
            continue
        for r, e in zip(result, expected):
            if not np.allclose(r[idx], e, rtol=1e-9, atol=1e-12, equal_nan=True):
                return None
    return result


def _pointwise(call_one, arrays, n_out):
    out = [np.full(arrays[0].shape, np.nan) for _ in range(n_out)]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for idx in np.ndindex(arrays[0].shape):
            try:
                values = call_one(*(float(a[idx]) for a in arrays))
            except Exception:  # noqa: BLE001 - outside the domain (or any failure): a gap
                continue
            for o, v in zip(out, values):
                o[idx] = v
    return tuple(out)


def _needs_reverse(f, points):
    """True when forward mode meets a custom_vjp in f (at the first of ``points`` where f can be called)."""
    for xi in points:
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                f(Dual(float(xi), 1.0))
        except ForwardModeUnavailable:
            return True
        except Exception:  # noqa: BLE001 - outside the domain here: try the next point
            continue
        return False
    return False


def sample_1d(f, lo, hi, n=N_1D):
    """x, f(x), f'(x) on ``n`` points of [lo, hi] (NaN where f fails). Returns (x, y, dy, how).

    f' by forward mode, or by reverse mode when f uses a custom_vjp (``how`` then says so).
    """
    x = np.linspace(lo, hi, n)
    picks = [(0,), (n // 3,), (n - 1,)]
    reverse = _needs_reverse(f, [x[i] for i in picks] + list(x[1::max(1, n // 16)]))

    def one(xi):
        if reverse:
            from ..transforms import vjp
            y, pullback = vjp(f, xi)
            if np.ndim(y) != 0:
                raise ValueError("f does not return a scalar")
            return float(_plain(y)), float(_plain(pullback(1.0)[0]))
        d = f(Dual(xi, 1.0))
        if np.ndim(_plain(d)) != 0:
            raise ValueError("f does not return a scalar")
        return float(_plain(d)), float(_plain(getattr(d, "tangent", 0.0)))

    def check(xi):
        try:
            return one(float(xi))
        except Exception:  # noqa: BLE001
            return None

    def vec(xs):
        if reverse:  # an elementwise f (checked below): one reverse sweep seeded with ones
            from ..transforms import vjp
            y, pullback = vjp(f, xs)
            return _plain(y), _plain(pullback(np.ones_like(_plain(y)))[0])
        d = f(Dual(xs, np.ones_like(xs)))
        return _plain(d), _plain(getattr(d, "tangent", np.zeros_like(xs)))

    result = _vectorised(vec, [x], picks, check)
    how = "vectorised"
    if result is None:
        result, how = _pointwise(one, [x], 2), "point by point"
    y, dy = result
    if reverse:
        how += ", f' in reverse mode (f uses a custom_vjp)"
    return x, y, dy, how


def sample_2d(f, lo1, hi1, lo2, hi2, n=N_2D):
    """X1, X2 (meshgrid) and f on them (NaN where f fails). Returns (X1, X2, Z, how)."""
    X1, X2 = np.meshgrid(np.linspace(lo1, hi1, n), np.linspace(lo2, hi2, n))

    def one(a, b):
        v = _plain(f(a, b))
        if np.ndim(v) != 0:
            raise ValueError("f does not return a scalar")
        return (float(v),)

    def check(a, b):
        try:
            return one(float(a), float(b))
        except Exception:  # noqa: BLE001
            return None

    picks = [(0, 0), (n // 3, 2 * n // 3), (n - 1, n - 1)]
    result = _vectorised(lambda a, b: (_plain(f(a, b)),), [X1, X2], picks, check)
    how = "vectorised"
    if result is None:  # one call per point: a coarser grid keeps the wait short
        n = min(n, N_2D_POINTWISE)
        X1, X2 = np.meshgrid(np.linspace(lo1, hi1, n), np.linspace(lo2, hi2, n))
        result, how = _pointwise(one, [X1, X2], 1), "point by point"
    return X1, X2, result[0], how


# --- the panels ---------------------------------------------------------------------
class _Panel:
    """A Figure on an Agg canvas with a cached background and animated artists."""

    def __init__(self, figsize, zoom=1.0):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.fig = Figure(figsize=figsize, dpi=DPI * zoom, layout="constrained")
        self.canvas = FigureCanvasAgg(self.fig)
        self._background = None
        self.renders = 0

    def _animated(self):
        return []

    def _freeze(self):
        """Draw the static part once and remember its pixels."""
        for artist in self._animated():
            artist.set_animated(True)
        self.canvas.draw()
        self.fig.set_layout_engine("none")  # keep the layout fixed from now on
        self._background = self.canvas.copy_from_bbox(self.fig.bbox)

    def _png(self):
        self.canvas.restore_region(self._background)
        for artist in self._animated():
            if artist.get_visible():
                artist.axes.draw_artist(artist)
        from PIL import Image

        width, height = self.canvas.get_width_height()
        image = Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        out = io.BytesIO()
        image.convert("RGB").save(out, format="png", compress_level=1)  # RGB, fast zlib: ~3 ms
        self.renders += 1
        return out.getvalue()

    def close(self):
        """Drop the figure (nothing global refers to it: no pyplot)."""
        self._background = None


def _finite_limits(*arrays, pad=0.08):
    values = np.concatenate([np.ravel(a)[np.isfinite(np.ravel(a))] for a in arrays])
    if values.size == 0:
        return -1.0, 1.0
    if values.size > 50:  # robust to poles (1/x near 0): the extreme 1% may leave the plot
        lo, hi = (float(q) for q in np.percentile(values, [1, 99]))
    else:
        lo, hi = float(values.min()), float(values.max())
    if hi - lo < 1e-12:
        lo, hi = lo - 1, hi + 1
    span = hi - lo
    return lo - pad * span, hi + pad * span


class Curve1D(_Panel):
    """f and f' over the slider's range, the tangent line and the current point."""

    def __init__(self, f, name, lo, hi, title=None, zoom=1.0):
        super().__init__(SIZE_1D, zoom)
        self.x, self.y, self.dy, self.how = sample_1d(f, lo, hi)
        self.lo, self.hi = lo, hi
        ax, dax = self.fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
        self.ax, self.dax = ax, dax
        ax.plot(self.x, self.y, color="C0", lw=2, label=f"f({name})")
        rule = " (custom rule)" if "custom_vjp" in self.how else ""  # the derivative bwd gives
        dax.plot(self.x, self.dy, color="C1", lw=2, label=f"f'({name}){rule}")
        for a in (ax, dax):
            a.axhline(0, color="0.6", lw=0.8)
            a.grid(True, alpha=0.3)
            a.set_xlim(lo, hi)
        ax.set_ylim(*_finite_limits(self.y))
        dax.set_ylim(*_finite_limits(self.dy))
        ax.set_ylabel("f")
        dax.set_ylabel("f'")
        dax.set_xlabel(name)
        ax.set_title(title or "f and its derivative")
        (self.tangent,) = ax.plot([], [], color="C3", lw=1.5, label="tangent line")
        (self.point,) = ax.plot([], [], "o", color="C3", ms=7, zorder=5)
        (self.dpoint,) = dax.plot([], [], "o", color="C3", ms=7, zorder=5)
        self.vline = dax.axvline(lo, color="C3", lw=0.8, ls=":")
        self.vline_top = ax.axvline(lo, color="C3", lw=0.8, ls=":")
        ax.legend(loc="best")
        dax.legend(loc="best")
        self._freeze()

    def _animated(self):
        return [self.tangent, self.point, self.dpoint, self.vline, self.vline_top]

    def update(self, point, value, derivative):
        """PNG bytes with the marker at x = point[0], f = value, slope = derivative[0]."""
        x0 = float(point[0])
        ok = value is not None and np.ndim(value) == 0 and math.isfinite(float(value))
        for artist in self._animated():
            artist.set_visible(ok)
        if ok:
            y0, d0 = float(value), float(derivative[0])
            self.point.set_data([x0], [y0])
            if math.isfinite(d0):
                self.tangent.set_data([self.lo, self.hi], [y0 + d0 * (self.lo - x0), y0 + d0 * (self.hi - x0)])
                self.dpoint.set_data([x0], [d0])
            else:
                self.tangent.set_visible(False)
                self.dpoint.set_visible(False)
            self.vline.set_xdata([x0, x0])
            self.vline_top.set_xdata([x0, x0])
        return self._png()


class Contour2D(_Panel):
    """Contours of f over the two sliders' ranges and the gradient arrow at the current point."""

    ARROW = 0.22  # a typical gradient is drawn this long (fraction of the plot's diagonal)

    def __init__(self, f, names, ranges, title=None, zoom=1.0):
        (lo1, hi1), (lo2, hi2) = ranges
        span1, span2 = hi1 - lo1, hi2 - lo2
        # equal scales on both axes when the ranges are comparable, so that the gradient is
        # drawn at right angles to the contour lines; the figure takes the plot's shape
        self.equal = max(span1, span2) <= 4 * min(span1, span2)
        ratio = min(max(span2 / span1, 0.5), 1.3) if self.equal else 0.85
        super().__init__((SIZE_2D[0], 1.1 + (SIZE_2D[0] - 1.3) * ratio), zoom)
        self.X1, self.X2, self.Z, self.how = sample_2d(f, lo1, hi1, lo2, hi2)
        self.ranges = ranges
        ax = self.ax = self.fig.subplots()
        Z = np.ma.masked_invalid(self.Z)
        levels = _levels(Z)
        if levels is not None:
            from matplotlib.colors import BoundaryNorm

            norm = BoundaryNorm(levels, 256)  # one colour per band, whatever the spacing of the levels
            cs = ax.contourf(self.X1, self.X2, Z, levels=levels, cmap="viridis", norm=norm, alpha=0.9)
            ax.contour(self.X1, self.X2, Z, levels=levels, colors="k", linewidths=0.4, alpha=0.5)
            cb = self.fig.colorbar(cs, ax=ax, shrink=0.9, label="f (bands of equal area)")
        ax.set_xlim(lo1, hi1)
        ax.set_ylim(lo2, hi2)
        if self.equal:
            ax.set_aspect("equal", adjustable="box")
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
        ax.set_title(title or "contours of f and the gradient")
        # the arrow's length: a typical (median) gradient on the grid is drawn ARROW * diagonal long
        with np.errstate(all="ignore"):
            g2, g1 = np.gradient(self.Z, self.X2[:, 0], self.X1[0, :])
            mags = np.hypot(g1, g2)
        mags = mags[np.isfinite(mags) & (mags > 0)]
        self.diag = math.hypot(span1, span2)
        self.typical = float(np.median(mags)) if mags.size else None
        from matplotlib.patches import FancyArrow

        self.arrow = FancyArrow(0, 0, 1e-9, 0, width=0.006 * self.diag, head_width=0.035 * self.diag,
                                head_length=0.045 * self.diag, length_includes_head=True, color="C3", zorder=6)
        ax.add_patch(self.arrow)
        (self.point,) = ax.plot([], [], "o", color="C3", mec="white", ms=8, zorder=7)
        self._freeze()

    def _animated(self):
        return [self.arrow, self.point]

    def update(self, point, value, gradient):
        """PNG bytes with the marker at ``point`` and the arrow along ``gradient``."""
        x0, y0 = float(point[0]), float(point[1])
        ok = value is not None and np.ndim(value) == 0 and math.isfinite(float(value))
        self.point.set_visible(ok)
        self.point.set_data([x0], [y0])
        g = np.array([float(np.asarray(gi)) for gi in gradient]) if ok else np.zeros(2)
        mag = float(np.hypot(*g)) if np.all(np.isfinite(g)) else 0.0
        show = ok and mag > 0
        self.arrow.set_visible(show)
        if show:
            u = g / mag
            length = arrow_length(mag, self.typical, self.diag, self.ARROW)
            # keep the head inside the plot when there is room for a visible arrow
            (lo1, hi1), (lo2, hi2) = self.ranges
            room = min((hi1 - x0) / u[0] if u[0] > 0 else (lo1 - x0) / u[0] if u[0] < 0 else math.inf,
                       (hi2 - y0) / u[1] if u[1] > 0 else (lo2 - y0) / u[1] if u[1] < 0 else math.inf)
            length = max(min(length, room), 0.06 * self.diag)
            dx, dy = u * length
            self.arrow.set_data(x=x0, y=y0, dx=dx, dy=dy)
        return self._png()


def _levels(Z, n=16):
    """Contour levels at quantiles of the finite values: every region of the plot gets
    contour lines even when f is huge somewhere (near a pole) and flat elsewhere."""
    finite = Z.compressed() if np.ma.isMaskedArray(Z) else Z[np.isfinite(Z)]
    if finite.size < 4 or float(finite.max() - finite.min()) <= 0:
        return None
    levels = np.unique(np.percentile(finite, np.linspace(0, 100, n)))
    return levels if levels.size >= 2 else None


def arrow_length(mag, typical, diag, fraction):
    """How long the gradient arrow is drawn (data units).

    The direction is exact; the length grows with the square root of |grad f|
    relative to the typical gradient of the plotted region (a typical gradient is
    ``fraction`` of the plot's diagonal long), clipped to [0.06, 0.45] of the
    diagonal so that it stays visible on flat and on steep ground alike.
    """
    ratio = mag / typical if typical else 1.0
    return float(np.clip(fraction * math.sqrt(ratio), 0.06, 0.45)) * diag


def make_panel(f, names, ranges, title=None, zoom=1.0):
    """The plot panel for 1 or 2 inputs (None for more); ``zoom`` scales the image and its text."""
    from matplotlib import rc_context, rcParams
    from matplotlib.font_manager import FontProperties

    # at least the panel's own text sizes (larger ones a lesson set in rcParams stay larger)
    sizes = {k: max(v, FontProperties(size=rcParams[k]).get_size_in_points()) for k, v in TEXT_PT.items()}
    with rc_context(sizes):
        if len(names) == 1:
            return Curve1D(f, names[0], *ranges[0], title=title, zoom=zoom)
        if len(names) == 2:
            return Contour2D(f, names, ranges, title=title, zoom=zoom)
    return None
