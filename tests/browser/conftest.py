"""Browser-test infrastructure: a real JupyterLab server driven by headless Chromium.

Fixtures
--------
``jupyter_server`` (function scope)
    Starts ``python -m jupyterlab`` on 127.0.0.1 with a free port, a random token,
    no browser and ``root_dir`` = a fresh temporary directory.  Jupyter's config,
    data, runtime and IPython directories are isolated in temporary directories, so
    nothing on the machine (user settings, workspaces, IPython profiles) leaks in.
    Yields a :class:`JupyterServer` (``url``, ``token``, ``root_dir``, ``port``,
    ``log_path``, ``lab_url(path)``, ``api(path)``).  Always stopped afterwards.

``browser`` (session scope)
    A Playwright ``Browser``: Debian's Chromium at ``/usr/bin/chromium``
    (``ADTEACH_CHROMIUM`` overrides the path) launched headless with the flags this
    closed network needs.  Never downloads a browser.

``browser_page`` (function scope)
    A fresh context + ``Page`` (1280x900) whose requests to anything but
    127.0.0.1/localhost are aborted.  Console messages and page errors are collected
    in ``page.adteach_console``; on test failure a screenshot is written and its path
    and the console log are printed.

``make_notebook`` (function scope)
    ``make_notebook(name, cells) -> Path``: writes an ``.ipynb`` (nbformat 4, python3
    kernelspec) into the server's root dir.  ``cells`` are source strings (code cells)
    or ``("markdown", source)`` tuples.

``jlab`` (function scope)
    A :class:`JupyterLabDriver` bundling the server, the page and the helpers below:
    ``jlab.server``, ``jlab.page``, ``jlab.notebook(name, cells) -> Path``,
    ``jlab.open(path_or_name)``, ``jlab.run_all(timeout, clear_first=True)``,
    ``jlab.wait_idle()``, ``jlab.command(id, args)``,
    ``jlab.slider(description=None, index=0) -> Locator``, ``jlab.readout(...)``,
    ``jlab.press(handle, key="ArrowRight", times=1)``, ``jlab.wait_for_text(text)``,
    ``jlab.wait_for_change(locator, old_text) -> str``, ``jlab.widget_errors()``,
    ``jlab.assert_no_widget_errors()``, ``jlab.outputs() -> list[str]``.

    Typical use::

        def test_explorer(jlab):
            nb = jlab.notebook("t", ["import ipywidgets as w; ..."])   # or copy a lesson into jlab.server.root_dir
            jlab.open(nb)
            jlab.run_all()
            handle = jlab.slider("x")
            html = jlab.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .widget-html").first
            before = html.inner_text()        # inner_text includes SVG <text> content
            jlab.press(handle, "ArrowRight")
            assert jlab.wait_for_change(html, before) != before
            jlab.assert_no_widget_errors()

    Notebooks saved with widget outputs show "Error displaying widget: model not
    found" until re-run (the kernel that owned the models is gone): ``run_all``
    clears outputs first, so check for widget errors *after* running.
    Never ``await`` a JupyterLab command inside ``page.evaluate`` (no timeout, and a
    dialog would hang the test): use ``jlab.command``.

Helpers (plain functions, also reachable through ``jlab``)
----------------------------------------------------------
``open_notebook(page, server, path, timeout=WAIT_S)``
``wait_for_kernel_idle(page, timeout=WAIT_S)``
``run_all_cells(page, timeout=WAIT_S, clear_first=True)``  (raises on a cell error)
``run_command(page, command_id, args=None)``  (fire-and-forget JupyterLab command)
``find_slider(page, description=None, index=0) -> Locator``  (the keyboard-focusable handle)
``slider_readout(page, description=None, index=0) -> str``
``press_slider(page, handle, key="ArrowRight", times=1)``
``wait_for_text(page, text, timeout=WAIT_S)``
``wait_for_text_change(locator, old_text, timeout=WAIT_S) -> str``
``assert_no_widget_errors(page)``

Skipping: when Playwright (the Python package), JupyterLab or the Chromium binary is
missing the tests are skipped with the reason -- unless the environment variable
``CI`` is set, in which case they FAIL, naming what to install.  CI never silently
skips the browser tests.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Iterable, Sequence

import pytest

# ---------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------

#: Upper bound for any single wait, in seconds.  Generous, but bounded.
WAIT_S = 60.0

CHROMIUM_PATH = os.environ.get("ADTEACH_CHROMIUM", "/usr/bin/chromium")

#: Flags for Debian's Chromium on this machine: as root it needs --no-sandbox, and
#: without the background-networking flags its connections are refused by the
#: closed network.  Playwright adds --headless and its own temporary
#: --user-data-dir (a new empty profile per launch).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

INSTALL_HINT = (
    "install them with:\n"
    "    apt-get update && apt-get install -y chromium\n"
    "    python -m pip install 'playwright>=1.40' 'jupyterlab>=4.2,<5' 'ipywidgets>=8.1,<9' ipykernel\n"
    "(never `playwright install`: the tests use Debian's /usr/bin/chromium, "
    "or set ADTEACH_CHROMIUM to another Chromium binary)"
)

# Text JupyterLab / ipywidgets show when a widget cannot be rendered.
WIDGET_ERROR_TEXTS = ("Error displaying widget", "model not found")

_LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


# ---------------------------------------------------------------------------
# Skip / fail when the browser stack is missing
# ---------------------------------------------------------------------------


def _missing_requirements() -> list[str]:
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the Python package 'playwright'")
    for mod, what in (
        ("jupyterlab", "the Python package 'jupyterlab'"),
        ("ipykernel", "the Python package 'ipykernel'"),
        ("ipywidgets", "the Python package 'ipywidgets'"),
    ):
        try:
            __import__(mod)
        except ImportError:
            missing.append(what)
    if not (os.path.isfile(CHROMIUM_PATH) and os.access(CHROMIUM_PATH, os.X_OK)):
        missing.append(f"a Chromium binary at {CHROMIUM_PATH} (Debian package 'chromium')")
    return missing


def require_browser_stack() -> None:
    """Skip (locally) or fail (when $CI is set) if the browser stack is missing."""
    missing = _missing_requirements()
    if not missing:
        return
    what = "; ".join(missing)
    if os.environ.get("CI"):
        pytest.fail(
            f"Browser tests cannot run in CI: missing {what}.\n{INSTALL_HINT}",
            pytrace=False,
        )
    pytest.skip(f"browser tests need {what}")


# ---------------------------------------------------------------------------
# JupyterLab server
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class JupyterServer:
    url: str  # base URL, ends with "/", e.g. http://127.0.0.1:PORT/
    token: str
    root_dir: Path
    port: int
    log_path: Path
    process: subprocess.Popen

    def lab_url(self, path: str = "") -> str:
        """URL that opens ``path`` (relative to root_dir) in JupyterLab."""
        quoted = urllib.parse.quote(str(path).lstrip("/"))
        tree = f"lab/tree/{quoted}" if path else "lab"
        return f"{self.url}{tree}?token={self.token}"

    def api(self, path: str, timeout: float = 10.0):
        """GET ``/api/<path>`` and return the decoded JSON."""
        req = urllib.request.Request(
            f"{self.url}api/{path.lstrip('/')}",
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (127.0.0.1 only)
            return json.loads(resp.read().decode())

    def log_tail(self, n: int = 60) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "<no server log>"
        return "\n".join(lines[-n:])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop_process_group(proc: subprocess.Popen, timeout: float = 15.0) -> None:
    """Stop the server we started (and its kernels, which share its process group)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    # Whatever is left of *our* process group (e.g. a kernel that ignored SIGTERM).
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def _die_with_parent() -> None:  # pragma: no cover (runs in the child)
    """In the server process: get SIGTERM if pytest dies (Linux), e.g. killed by a timeout."""
    os.setsid()
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except Exception:  # noqa: BLE001 (not Linux: rely on fixture teardown)
        pass


def start_jupyter_server(base_dir: Path, timeout: float = WAIT_S) -> JupyterServer:
    """Start JupyterLab on 127.0.0.1 (free port, token, no browser); wait until it answers."""
    root_dir = base_dir / "root"
    home = base_dir / "home"
    for d in (root_dir, home / "config" / "labconfig", home / "data", home / "runtime",
              home / "ipython", home / "workspaces", home / "settings"):
        d.mkdir(parents=True, exist_ok=True)
    # Turn off the "news / check for updates" notification: it would fetch from the
    # internet and pops a toast over the notebook.
    (home / "config" / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    )

    port = _free_port()
    token = secrets.token_hex(24)
    log_path = base_dir / "jupyter-server.log"
    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        IPYTHONDIR=str(home / "ipython"),
        JUPYTER_PLATFORM_DIRS="1",
        PYTHONUNBUFFERED="1",
        # Kernels inherit this; keep numeric libraries from grabbing both cores.
        OMP_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
    )
    env.pop("JUPYTER_PATH", None)
    env.pop("JUPYTER_TOKEN", None)
    cmd = [
        sys.executable, "-m", "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root_dir}",
        "--ServerApp.allow_root=True",
        "--ServerApp.open_browser=False",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
        f"--LabApp.workspaces_dir={home / 'workspaces'}",
        f"--LabApp.user_settings_dir={home / 'settings'}",
    ]
    log = open(log_path, "wb")  # noqa: SIM115 (closed below / by the OS at exit)
    try:
        proc = subprocess.Popen(
            cmd, cwd=root_dir, env=env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent,
        )
    finally:
        log.close()
    server = JupyterServer(
        url=f"http://127.0.0.1:{port}/", token=token, root_dir=root_dir,
        port=port, log_path=log_path, process=proc,
    )
    deadline = time.monotonic() + timeout
    last_err: Exception | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"jupyter lab exited with code {proc.returncode} before answering.\n"
                f"--- server log ---\n{server.log_tail()}"
            )
        try:
            server.api("status", timeout=2)
            # The lab page itself (served by the LabApp extension) must answer too.
            with urllib.request.urlopen(server.lab_url(), timeout=5) as resp:  # noqa: S310
                if resp.status == 200:
                    return server
        except (urllib.error.URLError, ConnectionError, OSError, ValueError) as exc:
            last_err = exc
        time.sleep(0.25)
    _stop_process_group(proc)
    raise RuntimeError(
        f"jupyter lab did not answer on {server.url} within {timeout:.0f}s "
        f"(last error: {last_err!r}).\n--- server log ---\n{server.log_tail()}"
    )


@pytest.fixture
def jupyter_server(tmp_path_factory):
    """A running JupyterLab server; yields :class:`JupyterServer`; always stopped."""
    require_browser_stack()
    base = tmp_path_factory.mktemp("jlab")
    server = start_jupyter_server(base)
    try:
        yield server
    finally:
        _stop_process_group(server.process)


# ---------------------------------------------------------------------------
# Notebook files
# ---------------------------------------------------------------------------


def write_notebook(path: Path, cells: Sequence[str | tuple[str, str]]) -> Path:
    """Write a minimal nbformat-4 notebook with a python3 kernelspec to ``path``."""
    nb_cells = []
    for i, cell in enumerate(cells):
        kind, source = ("code", cell) if isinstance(cell, str) else cell
        c = {"cell_type": kind, "id": f"cell-{i}", "metadata": {}, "source": source}
        if kind == "code":
            c.update(execution_count=None, outputs=[])
        nb_cells.append(c)
    nb = {
        "cells": nb_cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1))
    return path


@pytest.fixture
def make_notebook(jupyter_server):
    """``make_notebook(name, cells) -> Path`` inside the server's root dir."""

    def _make(name: str, cells: Sequence[str | tuple[str, str]]) -> Path:
        if not name.endswith(".ipynb"):
            name += ".ipynb"
        return write_notebook(jupyter_server.root_dir / name, cells)

    return _make


# ---------------------------------------------------------------------------
# Browser
# ---------------------------------------------------------------------------


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


# Module scope, not session: Playwright's sync API keeps an asyncio loop marked as
# running in the main thread while it is open, which would change how later tests
# (the explorer's event-loop coalescing) behave.
@pytest.fixture(scope="module")
def browser():
    require_browser_stack()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM_PATH,
            headless=True,
            args=CHROMIUM_ARGS,
            timeout=WAIT_S * 1000,
        )
        try:
            yield b
        finally:
            b.close()


def _only_local(route) -> None:
    host = urllib.parse.urlsplit(route.request.url).hostname or ""
    if route.request.url.startswith(("data:", "blob:", "about:")) or host in _LOCAL_HOSTS:
        route.continue_()
    else:
        route.abort()


@pytest.fixture
def browser_page(browser, request, tmp_path):
    """A fresh Playwright page; requests leave 127.0.0.1 never; screenshot on failure."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(WAIT_S * 1000)
    context.set_default_navigation_timeout(WAIT_S * 1000)
    context.route("**/*", _only_local)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(f"[{m.type}] {m.text}"))
    page.on("pageerror", lambda e: console.append(f"[pageerror] {e}"))
    page.adteach_console = console  # type: ignore[attr-defined]
    try:
        yield page
    finally:
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            shot = tmp_path / "failure.png"
            try:
                page.screenshot(path=str(shot), full_page=True)
                print(f"\nscreenshot of the failing page: {shot}")
            except Exception as exc:  # noqa: BLE001
                print(f"\n(could not take a screenshot: {exc})")
            print("--- browser console (last 80) ---")
            print("\n".join(console[-80:]))
        context.close()


# ---------------------------------------------------------------------------
# JupyterLab helpers
# ---------------------------------------------------------------------------

_NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden)"

# JS: status of the kernel of the notebook in the main area (via the exposed app,
# falling back to the DOM's execution indicator).
_JS_KERNEL_STATUS = """() => {
  const app = window.jupyterapp;
  const w = app && app.shell && app.shell.currentWidget;
  const sc = w && w.sessionContext;
  if (sc) {
    if (!sc.isReady) return 'starting';
    const k = sc.session && sc.session.kernel;
    return k ? k.status : 'no-kernel';
  }
  const ind = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator');
  return ind ? (ind.getAttribute('data-status') || 'unknown') : 'no-notebook';
}"""

# JS: execution state of the code cells of the current notebook, from the models
# (error outputs) and the prompts ("[ ]", "[*]" or "[n]").
_JS_CELL_STATE = """() => {
  const app = window.jupyterapp;
  const panel = app && app.shell && app.shell.currentWidget;
  const nb = panel && panel.content;
  if (!nb || !nb.widgets) return {n: -1, done: 0, errors: [], prompts: []};
  const cells = nb.widgets.filter(c => c.model && c.model.type === 'code');
  const errors = [], prompts = [];
  let done = 0;
  cells.forEach((c, i) => {
    for (const o of c.model.outputs.toJSON()) {
      if (o.output_type === 'error') errors.push(`code cell ${i}: ${o.ename}: ${o.evalue}`);
    }
    const p = c.node.querySelector('.jp-InputArea-prompt');
    const txt = p ? p.textContent.trim() : '';
    prompts.push(txt);
    if (/\\[\\d+\\]/.test(txt)) done++;
  });
  return {n: cells.length, done, errors, prompts};
}"""


def _ms(timeout: float) -> float:
    return min(timeout, WAIT_S) * 1000


def wait_for_kernel_idle(page, timeout: float = WAIT_S) -> None:
    """Wait until the current notebook's kernel is started and idle."""
    try:
        page.wait_for_function(f"() => ({_JS_KERNEL_STATUS})() === 'idle'", timeout=_ms(timeout),
                               polling=200)
    except Exception as exc:
        status = page.evaluate(_JS_KERNEL_STATUS)
        raise AssertionError(f"kernel not idle within {timeout:.0f}s (status: {status!r})") from exc


def open_notebook(page, server: JupyterServer, path: str, timeout: float = WAIT_S) -> None:
    """Open ``path`` (relative to the server's root dir) in JupyterLab; wait for an idle kernel."""
    page.goto(server.lab_url(path), wait_until="domcontentloaded", timeout=_ms(timeout))
    page.wait_for_selector(f"{_NOTEBOOK} .jp-Notebook .jp-Cell", state="visible", timeout=_ms(timeout))
    page.wait_for_function(
        "() => !!(window.jupyterapp && window.jupyterapp.shell.currentWidget"
        " && window.jupyterapp.shell.currentWidget.sessionContext)",
        timeout=_ms(timeout), polling=200,
    )
    wait_for_kernel_idle(page, timeout)


def run_command(page, command_id: str, args: dict | None = None) -> None:
    """Fire a JupyterLab command (e.g. ``"docmanager:save"``) without awaiting it.

    Never ``await`` commands inside ``page.evaluate``: evaluate has no timeout and a
    command that opens a dialog would hang the test.  Wait for its effect instead.
    """
    page.evaluate(
        "([id, args]) => { window.jupyterapp.commands.execute(id, args || {}); }",
        [command_id, args],
    )


def _cell_state(page) -> dict:
    return page.evaluate(_JS_CELL_STATE)


def run_all_cells(page, timeout: float = WAIT_S, clear_first: bool = True) -> None:
    """Run every cell of the current notebook; wait until all have run and the kernel is idle.

    Outputs and prompts are cleared first (``clear_first``), so a notebook saved with
    execution counts is not mistaken for one that has just run.  Raises
    ``AssertionError`` naming the cell as soon as a cell produces an error output.
    """
    wait_for_kernel_idle(page, timeout)
    if page.evaluate("() => !!window.jupyterapp"):
        if clear_first:
            run_command(page, "notebook:clear-all-cell-outputs")
            page.wait_for_function(f"() => ({_JS_CELL_STATE})().done === 0",
                                   timeout=_ms(timeout), polling=100)
        # Fired, not awaited: see run_command.
        run_command(page, "notebook:run-all-cells")
    else:  # no exposed app: use the menu like a person would
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_text("Run All Cells", exact=True).click()
    try:
        page.wait_for_function(
            f"() => {{ const s = ({_JS_CELL_STATE})(); return s.n >= 0 && (s.done === s.n || s.errors.length > 0); }}",
            timeout=_ms(timeout), polling=200,
        )
    except Exception as exc:
        raise AssertionError(
            f"not every cell ran within {timeout:.0f}s; cell state: {_cell_state(page)}"
        ) from exc
    state = _cell_state(page)
    if state["errors"]:
        raise AssertionError("a cell raised an error:\n" + "\n".join(state["errors"]))
    wait_for_kernel_idle(page, timeout)


def _slider_containers(page, description: str | None):
    sliders = page.locator(f"{_NOTEBOOK} .widget-slider")
    if description is not None:
        sliders = sliders.filter(has=page.locator(".widget-label", has_text=description))
    return sliders


def find_slider(page, description: str | None = None, index: int = 0, timeout: float = WAIT_S):
    """Locator of the keyboard-focusable handle of an ipywidgets slider.

    ``description`` filters by the slider's label text; ``index`` picks among matches.
    """
    handle = _slider_containers(page, description).nth(index).locator(
        ".noUi-handle[role='slider'], [role='slider']"
    ).first
    handle.wait_for(state="visible", timeout=_ms(timeout))
    return handle


def slider_readout(page, description: str | None = None, index: int = 0) -> str:
    """The text of the slider's readout (e.g. ``"1.50"``)."""
    return _slider_containers(page, description).nth(index).locator(".widget-readout").inner_text().strip()


def press_slider(page, handle, key: str = "ArrowRight", times: int = 1) -> None:
    """Focus a slider handle and press ``key`` (ArrowRight/ArrowLeft/...) ``times`` times."""
    handle.scroll_into_view_if_needed()
    handle.focus()
    for _ in range(times):
        handle.press(key)


def wait_for_text(page, text: str, timeout: float = WAIT_S, root: str = _NOTEBOOK) -> None:
    """Wait until ``text`` appears (visible) inside ``root`` (the current notebook by default)."""
    page.locator(root).get_by_text(text).first.wait_for(state="visible", timeout=_ms(timeout))


def wait_for_text_change(locator, old_text: str, timeout: float = WAIT_S) -> str:
    """Wait until ``locator.inner_text()`` differs from ``old_text``; return the new text."""
    deadline = time.monotonic() + min(timeout, WAIT_S)
    current = old_text
    while time.monotonic() < deadline:
        try:
            current = locator.inner_text(timeout=2000)
        except Exception:  # noqa: BLE001 (element re-rendering)
            current = old_text
        if current != old_text:
            return current
        time.sleep(0.1)
    raise AssertionError(f"text did not change within {timeout:.0f}s (still {old_text[:200]!r})")


def widget_errors(page) -> list[str]:
    """Widget-rendering error texts visible in the page (empty list when none)."""
    body = page.locator("body").inner_text()
    return [t for t in WIDGET_ERROR_TEXTS if t.lower() in body.lower()]


def assert_no_widget_errors(page) -> None:
    errors = widget_errors(page)
    assert not errors, f"page shows widget errors {errors}"


@dataclasses.dataclass
class JupyterLabDriver:
    """Server + page + helpers in one object (the ``jlab`` fixture)."""

    server: JupyterServer
    page: object

    def notebook(self, name: str, cells: Sequence[str | tuple[str, str]]) -> Path:
        if not name.endswith(".ipynb"):
            name += ".ipynb"
        return write_notebook(self.server.root_dir / name, cells)

    def open(self, path: str | Path, timeout: float = WAIT_S) -> None:
        p = Path(path)
        rel = p.relative_to(self.server.root_dir) if p.is_absolute() else p
        open_notebook(self.page, self.server, rel.as_posix(), timeout)

    def command(self, command_id: str, args: dict | None = None) -> None:
        run_command(self.page, command_id, args)

    def run_all(self, timeout: float = WAIT_S, clear_first: bool = True) -> None:
        run_all_cells(self.page, timeout, clear_first)

    def wait_idle(self, timeout: float = WAIT_S) -> None:
        wait_for_kernel_idle(self.page, timeout)

    def slider(self, description: str | None = None, index: int = 0):
        return find_slider(self.page, description, index)

    def readout(self, description: str | None = None, index: int = 0) -> str:
        return slider_readout(self.page, description, index)

    def press(self, handle, key: str = "ArrowRight", times: int = 1) -> None:
        press_slider(self.page, handle, key, times)

    def wait_for_text(self, text: str, timeout: float = WAIT_S) -> None:
        wait_for_text(self.page, text, timeout)

    def wait_for_change(self, locator, old_text: str, timeout: float = WAIT_S) -> str:
        return wait_for_text_change(locator, old_text, timeout)

    def widget_errors(self) -> list[str]:
        return widget_errors(self.page)

    def assert_no_widget_errors(self) -> None:
        assert_no_widget_errors(self.page)

    def outputs(self) -> Iterable[str]:
        return self.page.locator(f"{_NOTEBOOK} .jp-OutputArea-output").all_inner_texts()


@pytest.fixture
def jlab(jupyter_server, browser_page):
    return JupyterLabDriver(server=jupyter_server, page=browser_page)
