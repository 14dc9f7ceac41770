"""adteach.drawing.render with real rendering, no mocks: the embedded graphviz-pure
program always, and the system `dot` where Graphviz is installed."""
import os
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from adteach.drawing.render import RenderError, RendererUnavailable, available_renderers, render_svg

ROOT = Path(__file__).resolve().parents[1]
RENDER_PY = ROOT / "adteach" / "drawing" / "render.py"

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's `dot` is not installed here (apt install graphviz)")
RENDERERS = ["embedded", pytest.param("system", marks=needs_dot)]

LONG_NAME = "n" * 300
TRICKY = textwrap.dedent(r'''
    digraph G {
      q [label="say \"hi\" & <bye>"];
      u [label="v̄ = ∂L/∂v, αβγ Δω"];
      t [shape=plaintext, label=<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0">
           <TR><TD COLSPAN="2"><B>mul</B></TD></TR>
           <TR><TD>v = 3 &lt; 4 &amp; 5</TD><TD>v&#772; = 0.5</TD></TR></TABLE>>];
      "LONG" -> q -> u -> t;
      "quoted \"name\"" -> t [label="∂y/∂x"];
    }''').replace("LONG", LONG_NAME)

MALFORMED = [
    "digraph { a -> ; }",
    "digraph { a -> b",
    "this is not DOT",
    "digraph { a [label=<<B>unclosed</B>]; }",
]


def chain(n):
    return "digraph { node [shape=record]; " + " ".join(
        f'n{i} [label="{{op{i}|v={i}}}"]; n{i // 2} -> n{i};' for i in range(1, n)) + " }"


def run_python(code, *args, path, python_flags=()):
    """Run `code` in a fresh interpreter whose PATH is only `path`; return its stdout bytes."""
    env = dict(os.environ, PATH=str(path), PYTHONPATH=str(ROOT), PYTHONIOENCODING="utf-8")
    proc = subprocess.run([sys.executable, *python_flags, "-c", code, *args], env=env, cwd=ROOT,
                          capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    return proc.stdout


def assert_tricky_labels(svg):
    ET.fromstring(svg.encode("utf-8"))  # well-formed XML: every <, & and " was escaped
    assert "say &quot;hi&quot; &amp; &lt;bye&gt;" in svg
    assert "v̄ = ∂L/∂v, αβγ Δω" in svg
    assert "∂y/∂x" in svg
    assert "quoted &quot;name&quot;" in svg
    assert f"<title>{LONG_NAME}</title>" in svg
    # the HTML-like table really was laid out (a build without expat would draw just "t")
    assert ">mul</text>" in svg
    assert "v = 3 &lt; 4 &amp; 5" in svg
    assert "v̄ = 0.5" in svg


EMBEDDED_ONLY = """
import shutil, sys
assert shutil.which("dot") is None, "dot is on PATH"
from adteach.drawing.render import available_renderers, render_svg
assert available_renderers() == ["embedded"], available_renderers()
svg = render_svg(sys.argv[1])            # "auto" must pick the embedded renderer
assert svg == render_svg(sys.argv[1], "embedded")
sys.stdout.buffer.write(svg.encode("utf-8"))
"""


def test_embedded_needs_no_system_graphviz_and_is_byte_identical_across_processes(tmp_path):
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()  # PATH holds nothing at all: no dot, not even graphviz-pure
    for source in (TRICKY, chain(200)):
        first = run_python(EMBEDDED_ONLY, source, path=empty_bin)
        second = run_python(EMBEDDED_ONLY, source, path=empty_bin)
        assert first.lstrip().startswith(b"<?xml") and b"</svg>" in first
        assert first == second
        assert first.decode("utf-8") == render_svg(source, "embedded")  # and the same as in this process
        if source is TRICKY:
            assert_tricky_labels(first.decode("utf-8"))


@pytest.mark.parametrize("renderer", RENDERERS)
def test_labels_with_quotes_markup_unicode_and_long_names(renderer):
    svg = render_svg(TRICKY, renderer)
    assert svg.lstrip().startswith("<?xml") and svg.rstrip().endswith("</svg>")
    assert_tricky_labels(svg)


@needs_dot
def test_system_dot_renders_svg():
    assert "system" in available_renderers()
    svg = render_svg(chain(20), "system")
    ET.fromstring(svg.encode("utf-8"))
    assert "<title>n19</title>" in svg


@pytest.mark.parametrize("renderer", RENDERERS)
@pytest.mark.parametrize("source", MALFORMED)
def test_malformed_dot_raises_render_error_with_graphviz_message(renderer, source):
    with pytest.raises(RenderError) as info:
        render_svg(source, renderer)
    err = info.value
    assert not isinstance(err, RendererUnavailable)
    assert err.renderer == renderer
    assert "syntax error" in err.stderr
    assert "could not draw this DOT source" in str(err) and err.stderr in str(err)


def test_system_without_dot_on_path_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert available_renderers() == ["embedded"]
    with pytest.raises(RendererUnavailable) as info:
        render_svg("digraph { a -> b }", "system")
    message = str(info.value)
    assert "apt install graphviz" in message and "brew install graphviz" in message
    assert 'pip install "graphviz-pure' in message
    assert "<svg" in render_svg("digraph { a -> b }")  # auto still works without PATH


NO_RENDERER = f"""
import importlib.util, sys
spec = importlib.util.spec_from_file_location("render", {str(RENDER_PY)!r})
render = importlib.util.module_from_spec(spec)
spec.loader.exec_module(render)
assert render.available_renderers() == [], render.available_renderers()
for which in ("auto", "embedded"):
    try:
        render.render_svg("digraph {{ a -> b }}", which)
    except render.RendererUnavailable as exc:
        print(exc, end="\\n=====\\n")
    else:
        raise SystemExit("no error raised")
"""


def test_no_renderer_at_all_raises_renderer_unavailable_with_pip_hint(tmp_path):
    # -S: no site-packages, so graphviz-pure is not installed as far as this interpreter
    # knows; and PATH is empty, so there is no dot either.
    out = run_python(NO_RENDERER, path=tmp_path, python_flags=["-S"]).decode()
    auto, embedded, _ = out.split("\n=====\n")
    assert "No Graphviz renderer" in auto and 'pip install "graphviz-pure==' in auto
    assert "apt install graphviz" in auto
    assert "not installed" in embedded and "%pip install" in embedded


IMPORT_COST = f"""
import importlib.util, sys
before = set(sys.modules)
spec = importlib.util.spec_from_file_location("render", {str(RENDER_PY)!r})
spec.loader.exec_module(importlib.util.module_from_spec(spec))
print(" ".join(sorted(set(sys.modules) - before - {{"__future__"}})))
"""


def test_import_is_cheap(tmp_path):
    # loading render.py imports nothing new: subprocess, importlib.metadata and the
    # renderer are looked up only on the first render
    assert run_python(IMPORT_COST, path=tmp_path).decode().split() == []


def test_many_renders_from_two_threads_agree_and_leak_nothing():
    source = chain(10)
    expected = render_svg(source)
    fd_dir = Path("/proc/self/fd")
    fds_before = len(list(fd_dir.iterdir())) if fd_dir.is_dir() else None
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: render_svg(source), range(40)))
    assert all(svg == expected for svg in results)
    if fds_before is not None:
        assert len(list(fd_dir.iterdir())) == fds_before  # every pipe was closed


def test_bad_arguments():
    with pytest.raises(ValueError, match="renderer must be"):
        render_svg("digraph { a }", "wasm")
    with pytest.raises(TypeError, match="str"):
        render_svg(b"digraph { a }")
