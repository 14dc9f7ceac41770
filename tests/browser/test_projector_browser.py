"""Readable on a projector: the lessons' drawings and explorers in a real JupyterLab at 1024x768.

The lessons with the widest graphs run, unchanged, in JupyterLab in headless Chromium at a
1024x768 viewport (a classroom projector). For every graph drawing on the page the browser
measures its rendered width against its output area and the rendered size of its node text:

* static drawings (``ad.draw``, ``%%trace``): JupyterLab shows the SVG as an ``<img>``; the
  text size is each ``<text>``'s font size times the picture's rendered scale;
* explorers: the graph is inline SVG; the text size is its font size times the screen CTM;
  the plot is a PNG whose text size the kernel reports (matplotlib, at the figure's dpi),
  times the PNG's rendered scale.

Every drawing of up to 20 nodes must fit its output area with the left sidebar collapsed
(as when presenting: the notebook column is then about 840 px wide) and have all text at
12 CSS px or more; a larger one may scroll but keeps its text size. With the file browser
open (the column is about 590 px) the drawings of up to 9 nodes must fit too.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import CHROMIUM_ARGS, WAIT_S, JupyterLabDriver, _only_local  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
LESSONS = ["01_welcome", "05_reverse_mode", "06_chain_rule", "09_higher_order", "10_neural_network"]
MIN_PX = 12.0

# appended to each lesson: the smallest text of every explorer's plot, in image pixels
PLOT_TEXT_CELL = """\
import gc, json
from matplotlib.text import Text
from adteach.explorer import Explorer
_sizes = []
for _e in gc.get_objects():
    if isinstance(_e, Explorer) and _e._panel is not None:
        _fig = _e._panel.fig
        _sizes.append(min(t.get_fontsize() * _fig.dpi / 72 for t in _fig.findobj(Text) if t.get_visible() and t.get_text()))
print("PLOT_TEXT_PX " + json.dumps(sorted(_sizes)))
"""

# JS: every drawing in the current notebook, measured
MEASURE = r"""() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  const box = e => e.getBoundingClientRect();
  const nodes = root => [...root.querySelectorAll('g.node > title')].filter(t => /^v-?\d+$/.test(t.textContent)).length;
  const found = [];
  for (const img of panel.querySelectorAll('.jp-OutputArea-output img')) {
    const src = img.getAttribute('src') || '';
    if (!src.startsWith('data:image/svg+xml')) continue;
    const doc = new DOMParser().parseFromString(decodeURIComponent(src.slice(src.indexOf(',') + 1)), 'image/svg+xml');
    const svg = doc.documentElement;
    const vb = svg.getAttribute('viewBox').trim().split(/[ ,]+/).map(Number);
    const g = doc.querySelector('g.graph');
    const m = /scale\(([\d.]+)/.exec((g && g.getAttribute('transform')) || '');
    const scale = box(img).width / vb[2] * (m ? parseFloat(m[1]) : 1);   // CSS px per SVG text unit
    const sizes = [...doc.querySelectorAll('text')].map(t => parseFloat(t.getAttribute('font-size')) * scale);
    const area = img.closest('.jp-OutputArea-output');
    found.push({kind: 'static', nodes: nodes(doc), width: box(img).width, right: box(img).right,
                area: area.clientWidth, areaRight: box(area).left + area.clientWidth,
                scrolls: area.scrollWidth > area.clientWidth + 1, minFont: Math.min(...sizes), texts: sizes.length});
  }
  for (const ex of panel.querySelectorAll('.adteach-explorer')) {
    const area = ex.closest('.jp-OutputArea-output');
    const svg = ex.querySelector('.adteach-graph svg');
    if (svg) {
      const sizes = [...svg.querySelectorAll('text')].map(t => parseFloat(t.getAttribute('font-size')) * t.getScreenCTM().a);
      const holder = svg.parentElement;
      found.push({kind: 'explorer', nodes: nodes(svg), width: box(svg).width, right: box(svg).right,
                  area: area.clientWidth, areaRight: box(area).left + area.clientWidth,
                  scrolls: holder.scrollWidth > holder.clientWidth + 1 || area.scrollWidth > area.clientWidth + 1,
                  minFont: Math.min(...sizes), texts: sizes.length});
    }
    for (const img of ex.querySelectorAll('img')) {
      if (!img.naturalWidth) continue;
      found.push({kind: 'plot', scale: box(img).width / img.naturalWidth, width: box(img).width,
                  right: box(img).right, areaRight: box(area).left + area.clientWidth});
    }
  }
  return found;
}"""


@pytest.fixture
def projector(jupyter_server, browser, request, tmp_path):
    """A JupyterLab page at 1024x768 (the projector), requests to 127.0.0.1 only."""
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    context.set_default_timeout(WAIT_S * 1000)
    context.route("**/*", _only_local)
    page = context.new_page()
    try:
        yield JupyterLabDriver(server=jupyter_server, page=page)
    finally:
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            shot = tmp_path / "projector.png"
            page.screenshot(path=str(shot), full_page=True)
            print(f"\nscreenshot of the failing page: {shot}")
        context.close()


def _lesson_copy(server_root, name):
    nb = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text())
    nb["cells"].append({"cell_type": "code", "id": "projector-plot-text", "metadata": {}, "execution_count": None,
                        "outputs": [], "source": PLOT_TEXT_CELL})
    path = Path(server_root) / f"{name}.ipynb"
    path.write_text(json.dumps(nb))
    return path


def _left_sidebar_open(page):
    return page.evaluate("() => !window.jupyterapp.shell.leftCollapsed")


def _set_left_sidebar(jlab, want_open):
    if _left_sidebar_open(jlab.page) != want_open:
        jlab.command("application:toggle-left-area")
        jlab.page.wait_for_function(f"() => window.jupyterapp.shell.leftCollapsed === {str(not want_open).lower()}")
    jlab.page.wait_for_timeout(500)  # the notebook column takes its new width


def _measure(page):
    # outputs below the fold are rendered lazily: scroll through the notebook first
    page.evaluate("""async () => {
      const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer')
                 || document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
      for (let y = 0; y <= panel.scrollHeight; y += 400) { panel.scrollTop = y; await new Promise(r => setTimeout(r, 30)); }
      panel.scrollTop = 0;
    }""")
    return page.evaluate(MEASURE)


@pytest.mark.parametrize("name", LESSONS)
def test_lessons_drawings_fit_and_read_at_1024x768(projector, name):
    jlab = projector
    path = _lesson_copy(jlab.server.root_dir, name)
    jlab.open(path)
    jlab.run_all(timeout=WAIT_S)
    jlab.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)").get_by_text("PLOT_TEXT_PX").first.wait_for()
    jlab.assert_no_widget_errors()
    plot_text = json.loads(next(t for t in jlab.outputs() if "PLOT_TEXT_PX" in t).split("PLOT_TEXT_PX", 1)[1])

    _set_left_sidebar(jlab, True)  # JupyterLab's own layout: the file browser beside the notebook
    beside_browser = _measure(jlab.page)
    _set_left_sidebar(jlab, False)  # presenting: the sidebar collapsed
    presenting = _measure(jlab.page)

    graphs = [m for m in presenting if m["kind"] != "plot"]
    plots = [m for m in presenting if m["kind"] == "plot"]
    print(f"\n{name}: (kind, nodes, width px, output area px, smallest text px) "
          f"{[(m['kind'], m['nodes'], round(m['width']), m['area'], round(m['minFont'], 1)) for m in graphs]}; "
          f"beside the file browser the area is {sorted({m['area'] for m in beside_browser if 'area' in m})} px; "
          f"plot text px {[round(p, 1) for p in plot_text]}")
    assert graphs, f"{name}: no drawing found on the page"
    for m in graphs:
        where = f"{name}: {m['kind']} drawing of {m['nodes']} nodes"
        assert m["texts"] > 0 and m["minFont"] >= MIN_PX, f"{where}: text at {m['minFont']:.1f} px"
        if m["nodes"] <= 20:
            assert m["right"] <= m["areaRight"] + 1 and not m["scrolls"], (
                f"{where}: {m['width']:.0f} px wide in an output area of {m['area']} px")
    for m in [m for m in beside_browser if m["kind"] != "plot" and m["nodes"] <= 9]:
        assert m["right"] <= m["areaRight"] + 1 and not m["scrolls"], (
            f"{name}: {m['kind']} drawing of {m['nodes']} nodes is {m['width']:.0f} px wide beside the "
            f"file browser, in an output area of {m['area']} px")
    # the plots are shown at their own size (never shrunk), so their text is as large as drawn
    assert len(plots) == len(plot_text), (name, plots, plot_text)
    for m in plots:
        assert m["scale"] >= 0.999 and m["right"] <= m["areaRight"] + 1, (name, m)
    assert all(px >= MIN_PX for px in plot_text), (name, plot_text)
