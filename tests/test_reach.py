"""Reach: pictures in every viewer, a publishable package, clear errors for missing extras.

Real Graphviz (the embedded renderer and the system ``dot``), real PNG decoding (Pillow),
real kernels and real subprocesses with a module hidden from them.
"""
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import adteach as ad
from adteach.drawing import cache

ROOT = Path(__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n"
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def gw(x1, x2):
    return (ad.sin(x1 / x2) + x1 / x2 - ad.exp(x2)) * (x1 / x2 - ad.exp(x2))


def png_size(data):
    from PIL import Image
    with Image.open(io.BytesIO(data)) as im:
        im.load()  # decodes every pixel: a truncated or corrupt PNG fails here
        return im.size


def svg_size_px(svg):
    """The size the SVG is shown at, in CSS pixels (Graphviz writes it in points, 96/72 px each)."""
    m = re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    return float(m.group(1)) * 96 / 72, float(m.group(2)) * 96 / 72


def run(code, extra_env=None, cwd=ROOT, timeout=300):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8", **(extra_env or {})}
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


# =====================================================================================
# 1. PNG everywhere
# =====================================================================================
@pytest.mark.parametrize("renderer", ["embedded", "system"])
def test_drawing_offers_png_beside_svg_of_the_same_picture(renderer):
    d = ad.draw(gw, 1.5, 0.5, renderer=renderer)
    bundle = d._repr_mimebundle_()
    assert sorted(bundle) == ["image/png", "image/svg+xml", "text/plain"]
    assert bundle["image/png"].startswith(PNG) and bundle["image/png"] == d.png()
    w, h = png_size(bundle["image/png"])
    sw, sh = svg_size_px(bundle["image/svg+xml"])
    assert abs(w - sw) <= 2 and abs(h - sh) <= 2  # shown at the same size as the SVG


def test_embedded_png_is_the_same_bytes_in_every_process():
    code = "import sys, adteach as ad, tests.test_reach as t; sys.stdout.write(ad.draw(t.gw, 1.5, 0.5).png().hex())"
    first, second = (run(code, {"PYTHONHASHSEED": s}) for s in ("1", "2"))
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout and bytes.fromhex(first.stdout).startswith(PNG)


def test_png_differs_with_the_numbers_and_is_remembered_by_content():
    cache.clear()
    before = dict(cache.stats)
    a, b = ad.draw(gw, 1.5, 0.5), ad.draw(gw, 1.7, 0.5)
    assert a.png() != b.png()
    assert a.png() == ad.draw(gw, 1.5, 0.5).png()  # same DOT text: no new Graphviz run
    assert cache.stats["png_renders"] - before["png_renders"] == 2
    assert cache.stats["png_hits"] - before["png_hits"] == 2


def test_png_does_not_slow_the_svg_fast_path():
    cache.clear()
    for x in (1.5, 1.6):  # first sight of the shape, then the template is built
        ad.draw(gw, x, 0.5)._repr_mimebundle_()
    renders, fills = cache.stats["renders"], cache.stats["fills"]
    ad.draw(gw, 1.9, 0.5).svg()
    assert cache.stats["renders"] == renders and cache.stats["fills"] == fills + 1


def test_mimebundle_include_exclude_and_svg_only_setting(monkeypatch):
    import adteach.drawing as drawing
    cache.clear()
    d = ad.draw(gw, 2.5, 0.5)
    before = cache.stats["png_renders"]
    assert "image/png" not in d._repr_mimebundle_(exclude=["image/png"])
    assert sorted(d._repr_mimebundle_(include=["image/png", "text/plain"])) == ["image/png", "text/plain"]
    monkeypatch.setattr(drawing, "JUPYTER_FORMATS", ("svg",))
    assert sorted(d._repr_mimebundle_()) == ["image/svg+xml", "text/plain"]
    assert cache.stats["png_renders"] == before + 1  # only the one PNG that was asked for


def test_digraph_shows_png_too():
    from IPython.core.formatters import DisplayFormatter
    data, _ = DisplayFormatter().format(ad.draw(gw, 1.5, 0.5).digraph)
    assert data["image/png"].startswith(PNG) and "<svg" in data["image/svg+xml"]


def test_render_like_graphviz(tmp_path, monkeypatch):
    d = ad.draw(gw, 1.5, 0.5)
    monkeypatch.chdir(tmp_path)
    assert d.render(format="png") == "adteach.gv.png"  # graphviz's default name: name + ".gv"
    assert (tmp_path / "adteach.gv").read_text() == d.source
    assert (tmp_path / "adteach.gv.png").read_bytes() == d.png()
    out = d.render("lesson.gv", directory=tmp_path / "figs", format="svg")
    assert out == str(tmp_path / "figs" / "lesson.gv.svg") and Path(out).read_text() == d.svg()
    out = d.render(outfile="pics/g.png", directory="build", cleanup=True)  # format from the suffix
    assert out == os.path.join("build", "pics", "g.png") and Path(out).read_bytes() == d.png()
    assert not (tmp_path / "build" / "pics" / "g.gv").exists()  # cleanup removed the source
    assert d.render(outfile=tmp_path / "abs.svg") == str(tmp_path / "abs.svg")
    assert (tmp_path / "abs.gv").read_text() == d.source
    with pytest.raises(ValueError, match="format"):
        d.render(outfile="nosuffix")
    assert Path(d.render(format="pdf", renderer="system")).read_bytes().startswith(b"%PDF")
    with pytest.raises(ValueError, match="embedded renderer writes"):
        d.render(format="pdf", renderer="embedded")


@pytest.mark.parametrize("kwargs", [
    {"format": "png"}, {"format": "svg", "cleanup": True}, {"filename": "lesson.gv", "directory": "figs", "format": "png"},
    {"filename": "x", "format": "png"}, {"filename": "x.dot", "format": "svg"}, {"outfile": "pics/g.png"},
    {"outfile": "g.svg", "filename": "src.gv"}, {"filename": "a/b.gv", "directory": "d", "format": "png"},
], ids=str)
def test_render_writes_the_files_graphviz_digraph_writes(tmp_path, monkeypatch, kwargs):
    """The same arguments give the same returned path and the same files as graphviz.Digraph.render."""
    import shutil
    import graphviz
    if shutil.which("dot") is None:
        pytest.skip("graphviz.Digraph.render needs the system `dot` (apt install graphviz)")
    made = {}
    for who in ("graphviz", "adteach"):
        (tmp_path / who).mkdir()
        monkeypatch.chdir(tmp_path / who)
        if who == "graphviz":
            returned = graphviz.Digraph("adteach", body=["a -> b\n"]).render(**kwargs)
        else:
            returned = ad.draw(gw, 1.5, 0.5).render(**kwargs)
        made[who] = returned, sorted(str(p.relative_to(tmp_path / who)) for p in Path().resolve().rglob("*")
                                     if p.is_file())
    assert made["adteach"] == made["graphviz"]


def test_render_takes_graphviz_keywords_and_refuses_the_layouts_it_cannot_do(tmp_path):
    d = ad.draw(gw, 1.5, 0.5)
    out = d.render(tmp_path / "g", format="png", quiet=True, engine="dot", overwrite_source=True)
    assert Path(out).read_bytes() == d.png()
    with pytest.raises(FileExistsError, match="g.png"):
        d.render(tmp_path / "g", format="png", raise_if_result_exists=True)
    for bad in ({"engine": "neato"}, {"formatter": "cairo"}, {"neato_no_op": 1}):
        with pytest.raises(ValueError, match=f"render: {next(iter(bad))}=.*laid out by dot"):
            d.render(tmp_path / "h", format="svg", **bad)
    assert not (tmp_path / "h").exists()  # refused before anything was written
    with pytest.raises(TypeError):
        d.render(tmp_path / "g", colour="red")  # a misspelt keyword is an error, not ignored


def test_view_opens_the_rendered_file_with_the_default_application(tmp_path, monkeypatch):
    if not sys.platform.startswith("linux"):
        pytest.skip("xdg-open is the Linux viewer")
    log = tmp_path / "opened.txt"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    opener = bin_dir / "xdg-open"  # the desktop's "open with the default application", recorded here
    opener.write_text(f'#!/bin/sh\necho "$1" >> {log}\n')
    opener.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    d = ad.draw(gw, 1.5, 0.5)
    out = d.render(tmp_path / "g", format="png", view=True)
    out2 = d.view(tmp_path / "h")
    for _ in range(100):
        if log.exists() and len(log.read_text().split()) == 2:
            break
        import time
        time.sleep(0.05)
    # each viewer is started in the background (as graphviz does), so they may log in either order
    assert sorted(log.read_text().split()) == sorted([out, out2]) and out2.endswith("h.svg")


def test_pipe_and_save_in_png(tmp_path):
    d = ad.draw(gw, 1.5, 0.5)
    assert d.pipe("png") == d.png() and d.pipe(format="PNG").startswith(PNG)
    assert d.pipe("svg", encoding="utf-8") == d.svg() and d.pipe() == d.svg().encode()
    with pytest.raises(ValueError, match="binary"):
        d.pipe("png", encoding="utf-8")
    assert Path(d.save(tmp_path / "g.png")).read_bytes() == d.png()
    with pytest.raises(ValueError, match="suffix"):
        d.save(tmp_path / "g")


def test_render_errors_name_the_format():
    from adteach.drawing.render import RenderError, render
    with pytest.raises(RenderError, match="as png"):
        render("digraph { a -> }", "png", "embedded")
    with pytest.raises(ValueError, match="format"):
        render("digraph { a }", "png; rm -rf", "auto")


def _explorer():
    return ad.explore(gw, x1=(0.5, 2.5), x2=(0.25, 1.5), plot=False)


def test_explorer_bundle_holds_a_picture_of_its_state():
    from adteach.explorer.picture import explorer_dot
    ex = _explorer()
    ex.set(x1=2.0, x2=0.5)
    ex.step = 3
    bundle = ex._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle and bundle["image/png"].startswith(PNG)
    dot = explorer_dot(ex)
    # the parts in the order the live explorer shows them: the step control after the mode buttons,
    # before the read-out and the graph
    order = [dot.index(s) for s in ("Exploring gw(x1, x2)", ">x1<", ">x2<", "reverse mode (adjoints)",
                                    ">play<", "step 3/10", "gw(2, 0.5) =", '"v-1" [')]
    assert order == sorted(order)
    assert ">2.00</FONT>" in dot and ">0.50</FONT>" in dot  # the slider values, as the sliders read them
    w, h = png_size(bundle["image/png"])
    gw_, gh = png_size(ad.draw(gw, 2.0, 0.5, step=3, title=False).png())
    assert w >= gw_ and h > gh + 100  # the graph, with the controls above it
    ex.mode = "forward"
    ex.seed = "x2"
    dot = explorer_dot(ex)
    from adteach.notation import dot as tangent
    assert dot.index(f"seed {tangent('x2')} = 1") < dot.index(">play<") and "forward sweep" in dot
    ex.close()


def test_explorer_picture_when_f_is_undefined_there():
    from adteach.explorer.picture import explorer_dot
    ex = ad.explore(lambda x: ad.log(x), x=(-1.0, 1.0), plot=False)
    ex.set(x=-0.5)
    assert ex.error and "cannot be evaluated" in explorer_dot(ex)
    assert ex._repr_mimebundle_()["image/png"].startswith(PNG)
    ex.close()


def test_nbval_skips_png_so_stored_png_cannot_break_the_lesson_checks():
    from nbval.plugin import IPyNbFile
    src = Path(sys.modules["nbval.plugin"].__file__).read_text()
    assert "self.skip_compare + ('image/png', 'image/jpeg')" in src and IPyNbFile


def _drawing_outputs(nb):
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "image/svg+xml" in data and "<adteach Drawing" in "".join(data.get("text/plain", "")):
                yield "drawing", data
            elif "application/vnd.jupyter.widget-view+json" in data and \
                    "Explorer(" in "".join(data.get("text/plain", "")):
                yield "explorer", data


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.name)
def test_stored_lesson_outputs_carry_png_beside_each_picture(lesson):
    """Untrusted notebooks, GitHub and nbviewer show PNG: every stored drawing and explorer has one.

    Fails until the lessons are re-executed after a change that adds pictures.
    """
    nb = json.loads(lesson.read_text(encoding="utf-8"))
    found = list(_drawing_outputs(nb))
    missing = [kind for kind, data in found if not "".join(data.get("image/png", "")).startswith("iVBORw0KGgo")]
    draws = any(re.search(r"\b(draw|explore)\(|^%+(draw|explore)", "".join(c["source"]), re.M)
                for c in nb["cells"] if c["cell_type"] == "code")
    assert found or not draws, f"{lesson.name} draws or explores but stores no picture (not executed?)"
    assert not missing, f"{lesson.name}: {len(missing)} of {len(found)} pictures have no PNG ({missing})"


# =====================================================================================
# 2. a package ready to publish
# =====================================================================================
@pytest.fixture(scope="module")
def dists(tmp_path_factory):
    """`python -m build` (sdist, then the wheel built from that sdist) on a copy of this checkout."""
    base = tmp_path_factory.mktemp("dist")
    files = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split("\0")
    src = base / "src"
    for f in files:
        if (ROOT / f).is_file():
            (src / f).parent.mkdir(parents=True, exist_ok=True)
            (src / f).write_bytes((ROOT / f).read_bytes())
    out = subprocess.run([sys.executable, "-m", "build", "-o", str(base / "dist"), str(src)],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return next((base / "dist").glob("*.whl")), next((base / "dist").glob("*.tar.gz")), base


def test_wheel_ships_lessons_and_released_exercises_never_sources(dists):
    import zipfile
    wheel, _, _ = dists
    names = zipfile.ZipFile(wheel).namelist()
    lessons = sorted(n.split("/")[-1] for n in names if n.startswith("adteach/lessons/") and n.count("/") == 2)
    assert lessons == sorted(p.name for p in LESSONS)
    released = sorted(n.split("/")[-1] for n in names if n.startswith("adteach/lessons/exercises/"))
    assert released == sorted([p.name for p in (ROOT / "exercises").glob("[0-9][0-9]_*.ipynb")] + ["README.md"])
    assert not [n for n in names if "source" in n.split("/") or "BEGIN HIDDEN" in n]
    for n in names:  # no solution or hidden test in any file of the wheel
        if n.endswith(".ipynb"):
            text = zipfile.ZipFile(wheel).read(n).decode()
            assert "### BEGIN SOLUTION" not in text and "### BEGIN HIDDEN TESTS" not in text, n
    packages = {str(p.parent.relative_to(ROOT)).replace(os.sep, "/") for p in (ROOT / "adteach").rglob("__init__.py")}
    assert packages <= {n.rsplit("/", 1)[0] for n in names if n.endswith("/__init__.py")}  # none forgotten
    meta = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "License-Expression: MIT" in meta and "Project-URL: Source" in meta and f"Version: {ad.__version__}" in meta
    assert any(n.endswith("licenses/LICENSE") for n in names)


def test_sdist_holds_what_its_test_suite_needs(dists):
    import tarfile
    _, sdist, _ = dists
    names = {n.split("/", 1)[1] for n in tarfile.open(sdist).getnames() if "/" in n}
    for need in ("LICENSE", "pyproject.toml", "tests/conftest.py", "tests/test_reach.py", "notebooks/nbval_sanitize.cfg",
                 "exercises/source/03_reverse_mode.ipynb", "binder/requirements.txt", "bench/bench_render.py"):
        assert need in names, need
    assert {p.name for p in LESSONS} <= {n.split("/")[-1] for n in names if n.startswith("notebooks/")}
    # every file the suite reads: all that git holds under the folders of pyproject's testpaths and
    # the data they use (tests/grading_data, exercises/, notebooks/), the benchmarks and binder/
    tracked = subprocess.run(["git", "ls-files", "-z", "tests", "notebooks", "exercises", "bench", "binder", ".ci"],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout.split("\0")
    missing = [f for f in tracked if f and (ROOT / f).is_file() and f not in names]
    assert not missing, missing[:20]


def test_twine_check_passes(dists):
    wheel, sdist, _ = dists
    out = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)],
                         capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.count("PASSED") == 2, out.stdout + out.stderr


def test_installed_wheel_copies_its_lessons_and_prints_how_to_open_them(dists, tmp_path):
    wheel, _, base = dists
    site = base / "site"
    if not site.exists():
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
                       check=True, capture_output=True)
    env = {**os.environ, "PYTHONPATH": str(site)}
    where = subprocess.run([sys.executable, "-c", "import adteach; print(adteach.__file__)"], env=env,
                           capture_output=True, text=True, cwd=tmp_path)
    assert where.stdout.startswith(str(site))  # the wheel's adteach, not this checkout's
    version = subprocess.run([sys.executable, "-m", "adteach", "--version"], env=env, capture_output=True, text=True)
    assert version.stdout.strip() == f"adteach {ad.__version__}"
    out = subprocess.run([sys.executable, "-m", "adteach", "lessons", "my lessons"], env=env, capture_output=True,
                         text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    target = tmp_path / "my lessons"
    assert sorted(p.name for p in target.glob("*.ipynb")) == sorted(p.name for p in LESSONS)
    assert (target / "exercises" / "03_reverse_mode.ipynb").is_file() and not (target / "exercises" / "source").exists()
    assert "jupyter lab 'my lessons/01_welcome.ipynb'" in out.stdout
    (target / "01_welcome.ipynb").write_text("my work")
    again = subprocess.run([sys.executable, "-m", "adteach", "lessons", "my lessons"], env=env, capture_output=True,
                           text=True, cwd=tmp_path)
    assert "kept" in again.stdout and (target / "01_welcome.ipynb").read_text() == "my work"  # never overwritten


# =====================================================================================
# 3. clear errors for missing extras (the module really hidden from a fresh interpreter)
# =====================================================================================
BLOCKER = '''
import sys
class _Hide:
    """Makes these modules look uninstalled, as on a machine without the extra."""
    hidden = {hidden!r}
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.hidden:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, _Hide())
'''


def hidden_env(tmp_path, *modules):
    d = tmp_path / "hide"
    d.mkdir(exist_ok=True)
    (d / "sitecustomize.py").write_text(BLOCKER.format(hidden=set(modules)))
    return {"PYTHONPATH": f"{d}{os.pathsep}{ROOT}"}


def test_explore_without_ipywidgets_names_the_extra(tmp_path):
    out = run("import adteach as ad\ntry:\n    ad.explore(lambda x: x * x, x=(0, 1))\n"
              "except ModuleNotFoundError as e:\n    print(type(e).__name__, e.name, e)\n",
              hidden_env(tmp_path, "ipywidgets"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("MissingExtra ipywidgets ad.explore needs ipywidgets")
    assert 'pip install "adteach[widgets]"' in out.stdout and '%pip install "adteach[widgets]"' in out.stdout


def test_explorer_without_matplotlib_works_with_no_plot_panel(tmp_path):
    code = ("import adteach as ad, sys\nex = ad.explore(lambda x: x * x, x=(0.0, 2.0))\nex.set(x=1.5)\n"
            "print(ex.value, ex.gradient, ex.png, 'matplotlib' in sys.modules)\n"
            "print(ex.children[-2].value)\n")
    out = run(code, hidden_env(tmp_path, "matplotlib"))
    assert out.returncode == 0, out.stderr
    first, note = out.stdout.splitlines()[:2]
    assert first == "2.25 (3.0,) None False"
    assert "no plot" in note and 'adteach[widgets]' in note


def test_digraph_without_graphviz_names_the_extra_and_the_picture_still_shows(tmp_path):
    code = ("import adteach as ad\nd = ad.draw(lambda x: ad.sin(x), 1.0)\nprint(sorted(d._repr_mimebundle_()))\n"
            "try:\n    d.digraph\nexcept ModuleNotFoundError as e:\n    print(e)\n")
    out = run(code, hidden_env(tmp_path, "graphviz"))
    assert out.returncode == 0, out.stderr
    bundle, message = out.stdout.splitlines()[:2]
    assert bundle == "['image/png', 'image/svg+xml', 'text/plain']"  # the embedded renderer needs no graphviz
    assert message.startswith("Drawing.digraph needs graphviz") and 'pip install "adteach[draw]"' in message


def test_percent_explore_without_ipywidgets_in_a_real_kernel(tmp_path, monkeypatch):
    import nbclient
    import nbformat
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "%load_ext adteach\ndef f(x):\n    return x * x\n%explore f x=0:1")])
    monkeypatch.setenv("PYTHONPATH", hidden_env(tmp_path, "ipywidgets")["PYTHONPATH"])  # the kernel inherits it
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True).execute()
    text = "".join(o.get("text", "") for o in nb.cells[0].outputs if o.get("name") == "stderr")
    assert text.startswith("UsageError: %explore needs the widget packages"), nb.cells[0].outputs  # IPython prints it
    assert '%pip install "adteach[widgets]"' in text and "Traceback" not in text


# =====================================================================================
# 4. platforms: graphviz-pure only where it publishes wheels
# =====================================================================================
# PyPI's files for graphviz-pure 0.2.2 (checked with pip download --only-binary=:all: --platform ...):
# wheels for manylinux/musllinux x86_64 and aarch64, macOS x86_64 and arm64, Windows amd64 and arm64; no sdist.
WHEELS = {("linux", "x86_64"), ("linux", "aarch64"), ("darwin", "x86_64"), ("darwin", "arm64"),
          ("win32", "AMD64"), ("win32", "ARM64")}
NO_WHEEL = {("linux", "armv7l"), ("linux", "ppc64le"), ("linux", "s390x"), ("linux", "i686"), ("win32", "x86"),
            ("freebsd14", "amd64"), ("linux", "riscv64")}


def _draw_requirements():
    import tomllib
    from packaging.requirements import Requirement
    return [Requirement(r) for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
            ["optional-dependencies"]["draw"]]


@pytest.mark.parametrize("platform", sorted(WHEELS | NO_WHEEL))
def test_draw_extra_asks_for_graphviz_pure_only_where_it_has_wheels(platform):
    env = {"sys_platform": platform[0], "platform_machine": platform[1], "extra": "draw"}
    wanted = {r.name for r in _draw_requirements() if r.marker is None or r.marker.evaluate(env)}
    assert "graphviz" in wanted  # pure Python: everywhere
    assert ("graphviz-pure" in wanted) == (platform in WHEELS)


def test_marker_agrees_with_this_machine():
    import platform as pf
    from importlib import metadata
    req = next(r for r in _draw_requirements() if r.name == "graphviz-pure")
    assert req.marker.evaluate() == ((sys.platform, pf.machine()) in WHEELS)
    if req.marker.evaluate():
        assert metadata.version("graphviz-pure") == str(req.specifier).lstrip("=")


def test_without_graphviz_pure_drawings_use_the_system_dot(tmp_path):
    """Where graphviz-pure has no wheel the draw extra leaves it out: drawings then come from `dot`."""
    import shutil
    import numpy as np
    dot = shutil.which("dot")
    if dot is None:
        pytest.skip("no system Graphviz `dot` on PATH (apt install graphviz)")
    site = tmp_path / "site"  # this interpreter's packages without graphviz-pure: numpy only (-S below)
    site.mkdir()
    for name in ("numpy", "numpy.libs"):
        if (Path(np.__file__).parents[1] / name).exists():
            (site / name).symlink_to(Path(np.__file__).parents[1] / name)
    code = ("import adteach as ad\nfrom adteach.drawing import render\nprint(render.available_renderers())\n"
            "b = ad.draw(lambda x: ad.sin(x) * x, 1.0)._repr_mimebundle_()\n"
            "print(sorted(b), 'graphviz-pure' in b['image/svg+xml'], b['image/png'][:4])\n")
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, cwd=tmp_path,
                         env={"PATH": os.path.dirname(dot), "PYTHONPATH": os.pathsep.join([str(ROOT), str(site)])})
    assert out.returncode == 0, out.stderr
    renderers, shown = out.stdout.splitlines()
    assert renderers == "['system']"
    assert shown == "['image/png', 'image/svg+xml', 'text/plain'] False b'\\x89PNG'"


# =====================================================================================
# 6. Binder: lesson 1 opens, JupyterLab asks about no news
# =====================================================================================
def test_binder_links_open_lesson_1():
    import tomllib
    from urllib.parse import parse_qs, urlparse
    links = re.findall(r"\((https://mybinder\.org/v2/gh/[^)\s]+)\)", (ROOT / "README.md").read_text())
    links.append(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Lessons"])
    assert len(links) >= 2
    for link in links:
        (urlpath,) = parse_qs(urlparse(link).query)["urlpath"]
        assert urlpath.startswith("lab/tree/") and ROOT / urlpath.removeprefix("lab/tree/") == LESSONS[0], link


def test_binder_overrides_switch_off_jupyterlabs_news_and_update_check(tmp_path):
    """JupyterLab's own settings code reads binder/overrides/overrides.json as the new defaults, and
    postBuild puts it where this JupyterLab looks for it (<prefix>/share/jupyter/lab/settings)."""
    import shutil
    import jsonschema
    from jupyterlab.labapp import LabApp
    from jupyterlab_server.settings_utils import get_settings
    app = LabApp()
    assert Path(app.app_settings_dir) == Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings"
    assert "$prefix/share/jupyter/lab/settings" in (ROOT / "binder" / "postBuild").read_text()
    settings = tmp_path / "settings"
    settings.mkdir()
    shutil.copy(ROOT / "binder" / "overrides" / "overrides.json", settings)
    name = "@jupyterlab/apputils-extension:notification"
    plain, _ = get_settings(str(tmp_path / "none"), app.schemas_dir, str(tmp_path / "user"), schema_name=name)
    result, _ = get_settings(str(settings), app.schemas_dir, str(tmp_path / "user"), schema_name=name)
    before, after = plain["schema"]["properties"], result["schema"]["properties"]
    assert before["fetchNews"]["default"] == "none"  # JupyterLab's own default: ask with a pop-up
    assert after["fetchNews"]["default"] == "false" and after["checkForUpdates"]["default"] is False
    jsonschema.validate({"fetchNews": "false", "checkForUpdates": False}, plain["schema"])  # values it accepts


# =====================================================================================
# 7. static export: a lesson as one HTML page
# =====================================================================================
def test_lesson_exports_to_html_with_widget_state_and_drawings(tmp_path):
    lesson = ROOT / "notebooks" / "05_reverse_mode.ipynb"
    out = subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", "--embed-images",
                          "--output-dir", str(tmp_path), str(lesson)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    page = (tmp_path / "05_reverse_mode.html").read_text(encoding="utf-8")
    nb = json.loads(lesson.read_text(encoding="utf-8"))
    state = re.search(r'<script type="application/vnd.jupyter.widget-state\+json">(.*?)</script>', page, re.S)
    assert state, "no widget state in the page"
    models = json.loads(state.group(1))["state"]
    assert set(nb["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]) == set(models)
    assert 'type="application/vnd.jupyter.widget-view+json"' in page
    drawings = [d for kind, d in _drawing_outputs(nb) if kind == "drawing"]
    import base64
    images = [base64.b64decode(m).decode("utf-8", "replace")
              for m in re.findall(r'data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)', page)]
    inline = [m for m in images if "<title>adteach</title>" in m] + re.findall(r"<svg\b.*?<title>adteach</title>", page, re.S)
    assert drawings and len(inline) >= len(drawings)  # every drawing in the page itself, no file beside it
    assert "adteach" in page and "MathJax" in page


# =====================================================================================
# 5. front ends: the explorer's kernel side with ipywidgets 7.7 (Google Colab's)
# =====================================================================================
W7 = ["ipywidgets==7.7.*", "ipython_genutils~=0.2.0", "widgetsnbextension==3.6.*", "jupyterlab_widgets>=1,<3"]  # 7.7's own pins


@pytest.fixture(scope="module")
def ipywidgets7(tmp_path_factory):
    """A virtual environment whose own site-packages hold ipywidgets 7.7 (and its matched front-end
    packages); the rest (ipykernel, numpy, graphviz, matplotlib) and this checkout's adteach come
    after it on sys.path from the test environment (a .pth file), so ipywidgets 7.7 is the one
    imported. Installed with --no-deps: widgetsnbextension 3.6 would otherwise pull in a whole
    Notebook 7 and JupyterLab that the kernel side never imports."""
    import site
    import venv
    base = tmp_path_factory.mktemp("ipywidgets7")
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    own = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         capture_output=True, text=True, check=True).stdout.strip()
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", own, *W7],
                         capture_output=True, text=True, timeout=300)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    (Path(own) / "zz_test_environment.pth").write_text(
        "\n".join([str(ROOT), *site.getsitepackages()]) + "\n")
    kernels = base / "share" / "jupyter" / "kernels" / "ipywidgets7"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(py), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python (ipywidgets 7.7)", "language": "python"}))
    return py, base / "share" / "jupyter"


def _iopub_until_idle(kc, msg_id, timeout=60):
    msgs = []
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        msgs.append(msg)
        if (msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status"
                and msg["content"]["execution_state"] == "idle"):
            return msgs


def _execute(kc, code):
    msg_id = kc.execute(code)
    msgs = _iopub_until_idle(kc, msg_id)
    errors = [m["content"] for m in msgs if m["msg_type"] == "error"]
    assert not errors, "\n".join("\n".join(e["traceback"]) for e in errors)
    return msgs


def _fold_states(msgs, states):
    """The front end's copy of every widget model: its comm_open state, then each "update" applied."""
    for m in msgs:
        if m["msg_type"] == "comm_open":
            states[m["content"]["comm_id"]] = dict(m["content"]["data"]["state"])
        elif m["msg_type"] == "comm_msg" and m["content"]["data"].get("method") == "update":
            states.setdefault(m["content"]["comm_id"], {}).update(m["content"]["data"]["state"])
    return states


def _stdout(msgs):
    return "".join(m["content"]["text"] for m in msgs if m["msg_type"] == "stream" and m["content"]["name"] == "stdout")


def test_widgets_extra_accepts_colabs_ipywidgets_and_lessons_extra_needs_8_for_jupyterlab_4():
    import tomllib
    from packaging.requirements import Requirement
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]

    def spec(extra):
        return next(Requirement(r).specifier for r in extras[extra] if Requirement(r).name == "ipywidgets")
    assert spec("widgets").contains("7.7.1") and spec("widgets").contains("8.1.9")  # Colab's, and today's
    assert not spec("widgets").contains("7.6.5") and not spec("widgets").contains("9.0.0")
    assert spec("lessons").contains("8.1.9") and not spec("lessons").contains("7.7.1")


def test_explorer_kernel_side_works_with_ipywidgets_7_7(ipywidgets7, monkeypatch):
    """As in Colab (ipywidgets 7.7): a real kernel builds and shows an explorer; the front end's message
    for a dragged slider (a comm_msg "update", as the widget manager sends it) moves it; the kernel
    answers with the new value and gradient and a new graph for the front end."""
    from jupyter_client.manager import start_new_kernel
    py, data_dir = ipywidgets7
    monkeypatch.setenv("JUPYTER_PATH", str(data_dir))
    km, kc = start_new_kernel(kernel_name="ipywidgets7", startup_timeout=120)
    try:
        msgs = _execute(kc, (
            "import sys, json, ipywidgets, adteach as ad\n"
            "from IPython.display import display\n"
            "def gw(x1, x2):\n"
            "    return (ad.sin(x1 / x2) + x1 / x2 - ad.exp(x2)) * (x1 / x2 - ad.exp(x2))\n"
            "ex = ad.explore(gw, x1=(0.5, 2.5), x2=(0.25, 1.5))\n"
            "display(ex)\n"
            "print(ipywidgets.__version__, ipywidgets.__file__.startswith(sys.prefix))\n"
            "print(ex.model_id, ex.sliders['x1'].model_id, ex.graph_html.model_id, ex.readout.model_id)\n"))
        (version, own), ids = (line.split() for line in _stdout(msgs).splitlines())
        assert version.startswith("7.7.") and own == "True"  # the venv's ipywidgets 7.7, not the 8.x beside it
        explorer, slider, graph, readout = ids
        opened = {m["content"]["comm_id"]: m for m in msgs if m["msg_type"] == "comm_open"}
        assert {explorer, slider, graph, readout} <= set(opened)
        assert opened[slider]["content"]["data"]["state"]["_model_name"] == "FloatSliderModel"
        assert opened[slider]["metadata"]["version"].startswith("2.")  # ipywidgets 7's widget protocol
        views = [m["content"]["data"].get("application/vnd.jupyter.widget-view+json", {})
                 for m in msgs if m["msg_type"] == "display_data"]
        assert [v["model_id"] for v in views] == [explorer]  # shown once, as the front end expects it
        shown = next(m["content"]["data"] for m in msgs if m["msg_type"] == "display_data")
        assert shown["image/png"].startswith("iVBORw0KGgo")  # its picture too, for a saved Colab notebook
        states = _fold_states(msgs, {})
        old_graph = states[graph]["value"]
        assert "<svg" in old_graph and states[slider]["value"] == 1.5  # the range's middle

        # the front end drags x1 to 2.25: the message ipywidgets' JavaScript manager sends
        kc.shell_channel.send(kc.session.msg("comm_msg", {"comm_id": slider, "data": {
            "method": "update", "state": {"value": 2.25}, "buffer_paths": []}}))
        answers = []
        for _ in range(500):  # the kernel's answers: new state for the read-out and the graph
            answers.append(kc.get_iopub_msg(timeout=60))
            if answers[-1]["msg_type"] == "comm_msg" and answers[-1]["content"]["comm_id"] == graph:
                break
        # then ask the kernel what it now holds (its reply comes after any trailing frame's messages)
        msgs = _execute(kc, "print(json.dumps([ex.values, ex.value, list(ex.gradient), ex.svg]))")
        states = _fold_states(answers + msgs, states)
        new_graph = states[graph]["value"]
        assert "<svg" in new_graph and new_graph != old_graph
        values, value, gradient, svg = json.loads(_stdout(msgs))
        assert values["x1"] == 2.25 and svg in new_graph  # what the kernel drew is what the front end has
        expected = ad.trace(gw, values["x1"], values["x2"])  # computed here, in the test's own process
        assert value == pytest.approx(expected.value, rel=1e-12)
        assert gradient == pytest.approx(list(expected.gradient), rel=1e-12)
        assert ad.draw(gw, values["x1"], values["x2"]).svg().split("<svg", 1)[1] in new_graph  # the new picture
        assert ad.notation.number(expected.value) in states[readout]["value"]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_offline_lesson_pages_show_formulas_drawings_and_explorers_with_no_network(tmp_path):
    """`adteach lessons DIR --html`: pages that a browser shows with every request off this machine
    refused: MathJax typesets from DIR/html/mathjax, drawings are inline, explorers are their pictures."""
    from playwright.sync_api import sync_playwright
    out = subprocess.run([sys.executable, "-m", "adteach", "lessons", "L", "--html"], cwd=tmp_path,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr
    pages = tmp_path / "L" / "html"
    assert sorted(p.stem for p in pages.glob("*.html")) == [p.stem for p in LESSONS]
    assert f"wrote {len(LESSONS)} web page(s)" in out.stdout and "internet" not in out.stdout
    lesson = ROOT / "notebooks" / "05_reverse_mode.ipynb"
    nb = json.loads(lesson.read_text(encoding="utf-8"))
    kinds = [kind for kind, _ in _drawing_outputs(nb)]
    assert kinds.count("drawing") and kinds.count("explorer")
    page = (pages / "05_reverse_mode.html").read_text(encoding="utf-8")
    assert "widget-view+json" not in page and "widget-state+json" not in page
    assert re.findall(r'<script[^>]* src="([^"]+)"', page) == [
        "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"]  # nothing else to fetch

    chromium = os.environ.get("ADTEACH_CHROMIUM", "/usr/bin/chromium")
    if not Path(chromium).exists():
        pytest.skip(f"no Chromium at {chromium} (apt install chromium)")
    refused, failed = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            view = browser.new_page(viewport={"width": 1100, "height": 900})
            view.route(re.compile(r"^(?!file:|data:|about:)"), lambda r: (refused.append(r.request.url), r.abort()))
            view.on("requestfailed", lambda r: failed.append(r.url) if r.url.startswith("file:") else None)
            view.goto((pages / "05_reverse_mode.html").as_uri())
            view.wait_for_function("window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0 && "
                                   "document.querySelectorAll('.MathJax').length > 0", timeout=60000)
            seen = view.evaluate("""() => ({
                math: document.querySelectorAll('.MathJax').length,
                errors: document.querySelectorAll('.MathJax_Error, [data-mjx-error]').length
                        + (document.body.innerText.includes('Math Processing Error') ? 1 : 0),
                unset: Array.from(document.querySelectorAll('.jp-MarkdownOutput')).filter(
                        e => /\\$[^$]+\\$/.test(e.innerText)).length,
                svg: Array.from(document.images).filter(i => i.src.startsWith('data:image/svg+xml')
                        && i.naturalWidth > 100).length + document.querySelectorAll('svg title').length,
                png: Array.from(document.images).filter(i => i.src.startsWith('data:image/png')
                        && i.naturalWidth > 300).length})""")
        finally:
            browser.close()
    assert not refused and not failed, (refused, failed)  # e.g. a MathJax font file that is not there
    assert seen["math"] >= 10 and not seen["errors"] and not seen["unset"], seen
    assert seen["svg"] >= kinds.count("drawing") and seen["png"] >= kinds.count("explorer"), seen
