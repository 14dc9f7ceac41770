"""Explorer benchmark: one slider move, from the new value to new SVG + trace (+ plot) ready.

    python bench/bench_explore.py            (add --quick for a shorter run)

Griewank & Walther's example f(x1, x2) = (sin(x1/x2) + x1/x2 - exp(x2)) (x1/x2 - exp(x2)),
x1 swept over distinct values of its slider (0.1 ... 3.0) with x2 = 0.5, measured
here and now, in one process, kernel side (no front end):

  explorer              ``ex.sliders["x1"].value = v`` then read ``ex.svg`` and ``ex.trace``
                        (and the plot's PNG); the time a kernel spends on one slider message.
  explorer, Graphviz    the same with the drawing layer's layout cache emptied before
  every frame           each frame: what a frame costs if the graph were laid out anew.
  naive interact        an ``ipywidgets.interact``-style callback: trace, rebuild a
                        ``graphviz.Digraph``, render it with the system ``dot`` (a
                        subprocess, through graphviz's ``pipe``), and with the plot,
                        recompute the grid and re-plot with pyplot into a PNG.

Targets: explorer median <= 5 ms without the plot panel, <= 40 ms with it.
"""
from __future__ import annotations

import io
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

import adteach as ad  # noqa: E402

QUICK = "--quick" in sys.argv
N = 25 if QUICK else 80
WARMUP = 3


def gw(x1, x2):
    return (ad.sin(x1 / x2) + x1 / x2 - ad.exp(x2)) * (x1 / x2 - ad.exp(x2))


def sweep():
    """Distinct slider positions (step 0.01) visited in a zig-zag, as a hand drags."""
    xs = np.round(np.linspace(0.1, 3.0, N + WARMUP), 2)
    xs[1::2] = xs[1::2][::-1]
    return [float(x) for x in xs]


def timed(frame):
    times = []
    for k, x in enumerate(sweep()):
        t0 = time.perf_counter()
        frame(x)
        if k >= WARMUP:
            times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3, float(np.percentile(times, 90)) * 1e3


# --- the explorer ---------------------------------------------------------------------------
def explorer_frame(plot, relayout=False):
    from adteach.drawing import cache

    ex = ad.explore(gw, x1=(0.1, 3.0), x2=(0.1, 2.0), plot=plot)
    ex.sliders["x2"].value = 0.5

    def frame(x):
        if relayout:
            cache.clear()
        ex.sliders["x1"].value = x
        svg, tr = ex.svg, ex.trace
        assert svg and tr is not None and tr.rows[0].primal == x
        if plot:
            assert ex.png
    return frame, ex


# --- the naive approach ---------------------------------------------------------------------
def naive_frame(plot, use_dot):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from adteach.drawing import draw, render_svg

    def frame(x1, x2=0.5):
        tr = ad.trace(gw, x1, x2)
        digraph = draw(tr).digraph                     # a fresh graphviz.Digraph
        if use_dot:
            svg = digraph.pipe(format="svg").decode()  # graphviz's own pipe: a `dot` subprocess
        else:
            svg = render_svg(digraph.source, "embedded")
        table = tr._repr_html_()
        assert svg and table
        if plot:  # what an interact callback with %matplotlib inline does: everything again
            X1, X2 = np.meshgrid(np.linspace(0.1, 3.0, 80), np.linspace(0.1, 2.0, 80))
            Z = gw(X1, X2)
            fig, ax = plt.subplots(figsize=(4.8, 4.2), dpi=80)
            cs = ax.contourf(X1, X2, Z, levels=16)
            fig.colorbar(cs, ax=ax)
            g = tr.gradient
            ax.arrow(x1, x2, 0.05 * g[0], 0.05 * g[1], color="red", width=0.01)
            buf = io.BytesIO()
            fig.savefig(buf, format="png")
            plt.close(fig)
    return frame


def main():
    from adteach.drawing import available_renderers

    have_dot = shutil.which("dot") is not None
    print(f"renderers available: {', '.join(available_renderers()) or 'none'}")
    if not have_dot:
        print("system `dot` not found (apt-get install -y graphviz): the naive approach is timed "
              "with the embedded renderer instead, which is faster than a system dot")
    naive_label = "dot subprocess" if have_dot else "embedded renderer"
    rows = []
    for plot in (False, True):
        frame, ex = explorer_frame(plot)
        rows.append((f"explorer{' + plot' if plot else ''}", *timed(frame), plot))
        ex.close()
        frame, ex = explorer_frame(plot, relayout=True)
        rows.append((f"explorer{' + plot' if plot else ''}, Graphviz every frame", *timed(frame), plot))
        ex.close()
        rows.append((f"naive interact ({naive_label}{', pyplot' if plot else ''})",
                     *timed(naive_frame(plot, have_dot)), plot))

    print(f"\nGriewank & Walther example, one slider move ({N} distinct values, after {WARMUP} warm-up frames)")
    print(f"{'':50}{'median':>10}{'p90':>10}{'vs naive':>10}")
    for plot in (False, True):
        naive = [r for r in rows if r[3] == plot and r[0].startswith("naive")][0][1]
        print("with the plot panel:" if plot else "without the plot panel:")
        for label, med, p90, p in rows:
            if p == plot:
                ratio = f"{naive / med:.1f}x" if not label.startswith("naive") else ""
                print(f"  {label:48}{med:>7.2f} ms{p90:>7.2f} ms{ratio:>10}")
    ex_no = [r for r in rows if r[0] == "explorer"][0][1]
    ex_plot = [r for r in rows if r[0] == "explorer + plot"][0][1]
    print(f"\ntargets: without plot {ex_no:.2f} ms <= 5 ms: {'met' if ex_no <= 5 else 'NOT met'}; "
          f"with plot {ex_plot:.2f} ms <= 40 ms: {'met' if ex_plot <= 40 else 'NOT met'}")


if __name__ == "__main__":
    main()
