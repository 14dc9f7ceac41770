"""Drawing benchmark: re-drawing a graph after its input values change (a slider moving).

    python bench/bench_draw.py            (add --quick for a shorter run)

For the Griewank & Walther example (8 nodes) and a 200-node graph, each timed here and now
over a sequence of new input values (after two warm-up values):

  adteach      ad.draw(f, *values).svg() in this process: trace, DOT and SVG, reusing the layout
               (targets: median <= 5 ms and <= 50 ms);
  no reuse     render_svg(source, "embedded"): the same DOT laid out from scratch by graphviz-pure;
  system dot   the same DOT through a `dot -Tsvg` subprocess (if Graphviz is installed);
  first draw   the very first draw of the graph (a layout, nothing to reuse).
"""
from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import adteach as ad  # noqa: E402
from adteach.drawing import cache  # noqa: E402
from adteach.drawing.render import available_renderers, render_svg  # noqa: E402

QUICK = "--quick" in sys.argv


def gw(x1, x2):
    v1 = x1 / x2
    v2 = ad.sin(v1)
    v3 = ad.exp(x2)
    v4 = v1 - v3
    v5 = v2 + v4
    return v5 * v4


def two_hundred(x, w):
    """2 inputs and 198 operations: 200 nodes (w is reused by every step)."""
    y = x
    for _ in range(66):
        y = ad.sin(y) * w + 0.1
    return y


def median_ms(fn, values):
    times = []
    for v in values:
        t0 = time.perf_counter()
        fn(v)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def system_dot(source):
    subprocess.run(["dot", "-Tsvg"], input=source.encode("utf-8"), capture_output=True, check=True)


def main():
    have = available_renderers()
    dot = shutil.which("dot")
    print(f"renderers available: {', '.join(have) or 'none'}; system dot: {dot or 'MISSING (apt install graphviz)'}")
    cases = [("Griewank & Walther (8 nodes)", gw, lambda k: (1.5 + 0.01 * k, 0.5), 5.0, 12 if QUICK else 60),
             ("200-node graph", two_hundred, lambda k: (0.3 + 0.01 * k, 0.9), 50.0, 5 if QUICK else 15)]
    print(f"{'graph':<30}{'adteach':>10}{'target':>9}{'no reuse':>11}{'system dot':>12}{'first draw':>12}")
    for label, f, point, target, n in cases:
        cache.clear()
        t0 = time.perf_counter()
        ad.draw(f, *point(-1)).svg()
        first = (time.perf_counter() - t0) * 1000
        ad.draw(f, *point(-2)).svg()  # the second value builds the layout template
        ours = median_ms(lambda k: ad.draw(f, *point(k)).svg(), range(n))
        sources = [ad.draw(f, *point(k)).source for k in range(n, 2 * n)]  # new values: nothing cached
        nodes = len(ad.draw(f, *point(0)).trace.nodes)
        assert nodes == (8 if f is gw else 200), nodes
        embedded = median_ms(lambda s: render_svg(s, "embedded"), sources) if "embedded" in have else float("nan")
        system = median_ms(system_dot, sources) if dot else float("nan")
        verdict = "ok" if ours <= target else "SLOW"
        print(f"{label:<30}{ours:>7.2f} ms{'<= ' + format(target, 'g'):>7} {verdict:<4}{embedded:>7.1f} ms"
              f"{system:>9.1f} ms{first:>9.1f} ms")
    print(f"(medians over new input values; cache: {cache.stats})")


if __name__ == "__main__":
    main()
