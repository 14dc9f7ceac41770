"""The explorer in a real JupyterLab, in headless Chromium: a slider moved with the
keyboard changes the computational graph the student sees to the new values."""
import re

import adteach as ad

CELLS = [
    ("markdown", "# Explorer in the browser"),
    "import adteach as ad\n"
    "def gw(x1, x2):\n"
    "    v1 = x1 / x2\n"
    "    v2 = ad.sin(v1)\n"
    "    v3 = ad.exp(x2)\n"
    "    v4 = v1 - v3\n"
    "    v5 = v2 + v4\n"
    "    return v5 * v4\n"
    "ex = ad.explore(gw, x1=(0.5, 2.5), x2=(0.1, 2.0))\n"
    "ex",
]


def gw(x1, x2):
    v1 = x1 / x2
    v4 = v1 - ad.exp(x2)
    return (ad.sin(v1) + v4) * v4


def numbers(text):
    return {float(m) for m in re.findall(r"[-+]?\d+\.\d+", text)}


def test_keyboard_slider_move_redraws_the_graph(jlab):
    nb = jlab.notebook("explorer", CELLS)
    jlab.open(nb)
    jlab.run_all()
    graph = jlab.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .adteach-graph").first
    graph.wait_for(timeout=60_000)
    before = graph.inner_text()
    x2 = 1.05  # the middle of (0.1, 2.0)
    y0 = ad.trace(gw, 1.5, x2).value
    assert any(abs(v - y0) < 5e-4 * max(1, abs(y0)) for v in numbers(before)), (y0, before[:400])
    jlab.assert_no_widget_errors()

    handle = jlab.slider(description="x1")
    start = float(jlab.readout("x1"))
    jlab.press(handle, "ArrowRight")
    after = jlab.wait_for_change(graph, before)
    new_x1 = float(jlab.readout("x1"))
    assert new_x1 > start
    y1 = ad.trace(gw, new_x1, x2).value
    found = numbers(after)
    assert any(abs(v - new_x1) < 1e-9 for v in found), (new_x1, after[:400])  # the input node
    assert any(abs(v - y1) < 5e-4 * max(1, abs(y1)) for v in found), (y1, after[:400])  # the output node
    assert not any(abs(v - y0) < 1e-6 for v in found if abs(y1 - y0) > 1e-3)  # the old value is gone
    jlab.assert_no_widget_errors()
