"""A plain ipywidgets notebook, run in real JupyterLab in headless Chromium.

Proves the browser-test infrastructure of conftest.py end to end: server up,
notebook opened, all cells run, the widget rendered by the JupyterLab widget
manager (no "Error displaying widget" / "model not found"), a slider moved with
the keyboard, and the kernel-side observer's output seen in the page.
"""

import time

WIDGET_CELL = """\
import ipywidgets as w
s = w.FloatSlider(value=1.0, min=0, max=3, step=0.5, description="x")
out = w.HTML(value="value=1.0")
s.observe(lambda ch: setattr(out, "value", f"value={ch['new']}"), "value")
display(w.VBox([s, out]))
"""


def test_slider_keyboard_updates_html_output(jlab):
    t0 = time.monotonic()
    nb = jlab.notebook("widgets_demo", [("markdown", "# Slider demo"), WIDGET_CELL])

    jlab.open(nb)
    jlab.run_all()

    # The VBox rendered: initial HTML text and the slider are there.
    jlab.wait_for_text("value=1.0")
    handle = jlab.slider(description="x")
    jlab.assert_no_widget_errors()
    assert jlab.readout("x") in ("1.00", "1.0", "1")

    html = jlab.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .widget-html").first
    before = html.inner_text()
    assert "value=1.0" in before

    jlab.press(handle, "ArrowRight")
    after = jlab.wait_for_change(html, before)
    assert "value=1.5" in after, after
    jlab.wait_for_text("value=1.5")

    # And back down with ArrowLeft.
    jlab.press(handle, "ArrowLeft")
    again = jlab.wait_for_change(html, after)
    assert "value=1.0" in again, again

    jlab.assert_no_widget_errors()
    print(f"\nbrowser widget test body took {time.monotonic() - t0:.1f}s")
