"""Rendering benchmark: the embedded renderer (graphviz-pure) against the system `dot`.

    python bench/bench_render.py            (add --quick for a shorter run)

Both are timed here and now, through adteach.drawing.render.render_svg, on
  - a 10-node graph whose nodes are HTML-like tables (like adteach's drawings), and
  - a 200-node graph of record nodes (a binary tree plus cross edges).
Prints the median time of each after warm-up, and system/embedded as the ratio.
Then the cost of the PNG a drawing adds to its mime bundle (for viewers that cannot
show SVG): PNG against SVG of the same lesson drawing, both with the embedded renderer.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adteach.drawing.render import available_renderers, render_png, render_svg  # noqa: E402

QUICK = "--quick" in sys.argv


def small_graph() -> str:
    names = ["x", "y", "mul", "sin", "add", "exp", "log", "sub", "out", "loss"]
    lines = ["digraph G {", "  rankdir=LR;", '  node [shape=plaintext, fontname="Helvetica"];']
    for i, name in enumerate(names):
        lines.append(f'  n{i} [label=<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0">'
                     f'<TR><TD COLSPAN="2"><B>{name}</B></TD></TR>'
                     f"<TR><TD>v = {i * 1.5:.3f}</TD><TD>v&#772; = {i * 0.25:.3f}</TD></TR></TABLE>>];")
    for a, b in [(0, 2), (1, 2), (2, 3), (3, 4), (1, 4), (4, 5), (5, 6), (6, 7), (0, 7), (7, 8), (8, 9)]:
        lines.append(f'  n{a} -> n{b} [label="∂"];')
    return "\n".join(lines + ["}"])


def big_graph(n: int = 200) -> str:
    lines = ["digraph G {", '  node [shape=record, fontname="Helvetica"];']
    for i in range(n):
        lines.append(f'  n{i} [label="{{op{i} | v={i * 0.5:.2f} | g={i * 0.1:.2f}}}"];')
    for i in range(1, n):
        lines.append(f"  n{(i - 1) // 2} -> n{i};")
        if i % 7 == 0:
            lines.append(f"  n{i // 3} -> n{i};")
    return "\n".join(lines + ["}"])


def median_ms(source: str, renderer: str, repeat: int, fn=render_svg) -> float:
    for _ in range(3):  # warm-up: find the program, fill the OS file cache
        fn(source, renderer)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(source, renderer)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def main() -> None:
    have = available_renderers()
    print(f"renderers available: {', '.join(have) or 'none'}")
    if "embedded" not in have:
        sys.exit('the embedded renderer is not installed: pip install "graphviz-pure==0.2.2"')
    if "system" not in have:
        print("system `dot` is not installed (apt install graphviz): timing the embedded renderer only")
    cases = [("10-node HTML-label graph", small_graph(), 15 if QUICK else 60),
             ("200-node record graph", big_graph(), 5 if QUICK else 20)]
    print(f"{'graph':<26}{'embedded':>12}{'system dot':>13}{'dot/embedded':>14}")
    for label, source, repeat in cases:
        emb = median_ms(source, "embedded", repeat)
        if "system" in have:
            sys_ms = median_ms(source, "system", repeat)
            print(f"{label:<26}{emb:>9.2f} ms{sys_ms:>10.2f} ms{sys_ms / emb:>13.2f}x")
        else:
            print(f"{label:<26}{emb:>9.2f} ms{'n/a':>13}{'n/a':>14}")

    import adteach as ad
    lesson = ad.draw(lambda x1, x2: (ad.sin(x1 / x2) + x1 / x2 - ad.exp(x2)) * (x1 / x2 - ad.exp(x2)),
                     1.5, 0.5).source
    repeat = 10 if QUICK else 30
    svg_ms = median_ms(lesson, "embedded", repeat)
    png_ms = median_ms(lesson, "embedded", repeat, render_png)
    size = len(render_png(lesson, "embedded"))
    print(f"\nlesson drawing (11 nodes), embedded: SVG {svg_ms:.1f} ms, PNG {png_ms:.1f} ms "
          f"({png_ms / svg_ms:.1f}x SVG; {size / 1024:.0f} KB): a drawing's display costs SVG + PNG once")


if __name__ == "__main__":
    main()
