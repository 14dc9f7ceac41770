"""The ``adteach`` command line.

    adteach lessons [DIR] [--force] [--html]
    adteach release [SOURCE ...] [-o DIR] [--check]
    adteach release --student-dir DIR [--course ROOT]
    adteach grade SOURCE SUBMISSION ... --report DIR [--roster CSV] [--lms canvas|moodle] [--jobs N] ...

Also available as ``python -m adteach``. Heavy modules are imported lazily,
inside the subcommands.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="adteach",
        description="adteach: automatic differentiation for teaching (lessons, exercise release and grading).",
    )
    sub = _add_version_and_lessons(parser)

    rel = sub.add_parser(
        "release",
        help="build student notebooks from nbgrader source notebooks",
        description=(
            "Build released (student) notebooks: solutions replaced by a NotImplementedError stub, "
            "hidden tests removed, test cells locked, outputs cleared. "
            "By default exercises/source/*.ipynb -> exercises/*.ipynb."
        ),
    )
    rel.add_argument("sources", nargs="*", metavar="SOURCE",
                     help="source notebooks or directories of them (default: exercises/source)")
    rel.add_argument("-o", "--output", metavar="DIR",
                     help="output directory (default: the parent of each source's 'source' directory)")
    rel.add_argument("--check", action="store_true",
                     help="write nothing; exit 1 if any released notebook is missing or out of date")
    rel.add_argument("--student-dir", metavar="DIR", default=None,
                     help="write the whole student course to DIR instead (lessons, released exercises, "
                          "binder/, the adteach package, a README for students); never a source notebook, "
                          "a solution or a hidden test. DIR may be a clone of the public student repository")
    rel.add_argument("--course", metavar="ROOT", default=".",
                     help="with --student-dir: the instructor repository's root (default: the current directory)")

    gr = sub.add_parser(
        "grade",
        help="grade submissions against the pristine tests of a source notebook",
        description=(
            "Grade each submission in its own process against the pristine (hidden included) tests "
            "of SOURCE and write DIR/grades.json, DIR/grades.csv (one row per student) and "
            "DIR/feedback/<student>.html. Inputs: notebooks, folders (nbgrader's "
            "submitted/<student>/<assignment>/ layout or any folder of notebooks) and Canvas or "
            "Moodle 'download all submissions' zips. Exit status: 0 when every submission was "
            "graded, 1 when some could not be (unreadable, mismatched: another exercise's "
            "notebook, error; the report is still complete), 2 for a usage error. "
            "Student code runs in a bubblewrap sandbox (no network, no view of the sources)."
        ),
    )
    gr.add_argument("source", metavar="SOURCE", help="the nbgrader source notebook (exercises/source/NAME.ipynb)")
    gr.add_argument("submissions", nargs="+", metavar="SUBMISSION",
                    help="notebooks, folders of them, or Canvas/Moodle submission zips")
    gr.add_argument("--report", required=True, metavar="DIR",
                    help="directory for grades.json, grades.csv, feedback/ and the LMS files")
    gr.add_argument("--roster", metavar="CSV", default=None,
                    help="CSV mapping student ids (column id, student id, user id, participant or username) "
                         "to name, email, SIS User ID, SIS Login ID, section, ID number; a Canvas "
                         "gradebook export works as it is")
    gr.add_argument("--lms", action="append", choices=["canvas", "moodle"], default=[],
                    help="also write DIR/canvas.csv (gradebook import) or DIR/moodle.csv (grading "
                         "worksheet); repeatable")
    gr.add_argument("--lms-assignment", metavar="NAME", default=None,
                    help="the grade column's name in the LMS files (default: the exercise name; for "
                         "Canvas 'Name (assignment id)' updates that existing assignment)")
    gr.add_argument("-j", "--jobs", type=int, default=1, metavar="N", help="submissions graded in parallel (default 1)")
    gr.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                    help="CPU time limit per cell of the student's process, tests included (default 30; a "
                         "wall-clock bound of 5x, at least 60 s, stops a process that sleeps)")
    gr.add_argument("--memory-mb", type=int, default=None, metavar="MB",
                    help="address-space limit of each grading process (default 2048; 0 = none)")
    gr.add_argument("--submission-timeout", type=float, default=None, metavar="SECONDS",
                    help="overall wall-clock cap per submission (default 3 x timeout x the source's cells, "
                         "at least 60); a submission whose test code is still running a quarter past it "
                         "(at least 10 s) is stopped and reported as timeout")
    gr.add_argument("--no-sandbox", action="store_true",
                    help="run student code without the bubblewrap sandbox, with YOUR rights (only for "
                         "trusted code, or where bwrap cannot run; prefer a Linux container or VM)")
    gr.add_argument("--python", metavar="PATH", default=None,
                    help="interpreter that runs the submissions (default: the current one)")
    bar = gr.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None,
                     help="show the progress bar (count and ETA) on stderr even when it is not a terminal")
    bar.add_argument("--no-progress", dest="progress", action="store_false",
                     help="no progress bar (default: shown when stderr is a terminal)")
    gr.add_argument("-q", "--quiet", action="store_true", help="do not print the score table")
    return parser


# --- adteach --version and adteach lessons ------------------------------------------------
def _add_version_and_lessons(parser):
    """Add ``--version`` and the ``lessons`` subcommand; return the subparsers for the others."""
    from . import __version__

    parser.add_argument("-V", "--version", action="version", version=f"adteach {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    les = sub.add_parser(
        "lessons",
        help="copy the lesson notebooks and the exercises to a folder, to open them in Jupyter",
        description=("Copy the lesson notebooks (and the student exercises, into DIR/exercises) out of "
                     "the installed package, then print the command that opens lesson 1. Files already "
                     "in DIR are kept (your work is never overwritten) unless --force is given. With "
                     "--html, also write each lesson as an offline web page to DIR/html."),
    )
    les.add_argument("directory", nargs="?", default="adteach-lessons", metavar="DIR",
                     help="where to put them (default: ./adteach-lessons; made if missing)")
    les.add_argument("--force", action="store_true", help="overwrite files that are already there")
    les.add_argument("--html", action="store_true",
                     help="also write DIR/html/: each lesson as a web page that works offline (drawings "
                          "inline, each explorer as the picture of its saved state, formulas by a local "
                          "MathJax when jupyter-server-mathjax is installed)")
    return sub


# MathJax 2 (what nbconvert's pages load) from jupyter-server-mathjax, which has the STIX-Web
# fonts but not the TeX ones: this tells MathJax to use those, set before MathJax.js loads.
_MATHJAX_FONTS = ('<script>window.MathJax = {"HTML-CSS": {availableFonts: [], preferredFont: null, '
                  'webFont: "STIX-Web", imageFont: null}};</script>\n')
_MATHJAX_LOCAL = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"


def export_html(notebooks, out_dir):
    """Write each notebook as ``out_dir/NAME.html``, a page that needs no network.

    Images are embedded (drawings as SVG, plots as PNG); the saved widget state is left out, so
    nbconvert shows each explorer as the PNG picture of its state that the notebook stores beside
    it (a live widget needs a kernel anyway). MathJax is copied to ``out_dir/mathjax`` from
    jupyter-server-mathjax when it is installed, else the page loads it from nbconvert's CDN.
    Returns (the pages written, whether MathJax is local).
    """
    import shutil

    import nbformat
    from nbconvert import HTMLExporter

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        import jupyter_server_mathjax
        static = Path(jupyter_server_mathjax.__file__).parent / "static"
    except ImportError:
        static = None
    exporter = HTMLExporter(embed_images=True)
    if static is not None:
        if not (out_dir / "mathjax" / "MathJax.js").is_file():
            shutil.copytree(static, out_dir / "mathjax", dirs_exist_ok=True)
        exporter.mathjax_url = _MATHJAX_LOCAL
    pages = []
    for nb_path in notebooks:
        nb_path = Path(nb_path)
        nb = nbformat.read(nb_path, as_version=4)
        nb.metadata.pop("widgets", None)  # no widget state: each explorer shows its stored picture
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": nb_path.stem,
                                                                          "path": str(nb_path.parent)}})
        # require.js (from a CDN) only loads the widget renderer, and there are no widgets to render
        body = body.replace(f'<script src="{exporter.require_js_url}"></script>', "", 1)
        if static is not None:
            tag = f'<script src="{_MATHJAX_LOCAL}">'
            body = body.replace(tag, _MATHJAX_FONTS + tag, 1)
        page = out_dir / f"{nb_path.stem}.html"
        page.write_text(body, encoding="utf-8")
        pages.append(page)
    return pages, static is not None


def _lesson_sources():
    """(the lessons' folder, the released exercises' folder): in the wheel, or in a source checkout."""
    here = Path(__file__).resolve().parent
    for lessons, exercises in ((here / "lessons", here / "lessons" / "exercises"),
                               (here.parent / "notebooks", here.parent / "exercises")):
        if any(lessons.glob("[0-9][0-9]_*.ipynb")):
            return lessons, exercises
    return None, None


def _cmd_lessons(args) -> int:
    import shlex
    import shutil
    from importlib.util import find_spec

    lessons, exercises = _lesson_sources()
    if lessons is None:
        print("adteach lessons: this installation holds no lesson notebooks (an incomplete install?); "
              'reinstall with: pip install --force-reinstall "adteach[lessons]"', file=sys.stderr)
        return 2
    target = Path(args.directory)
    plan = [(f, target / f.name) for f in sorted(lessons.glob("[0-9][0-9]_*.ipynb"))]
    plan += [(f, target / "exercises" / f.name) for f in sorted(exercises.glob("[0-9][0-9]_*.ipynb"))]
    plan += [(f, target / "exercises" / f.name) for f in [exercises / "README.md"] if f.is_file()]
    copied, kept = 0, []
    try:
        for src, dst in plan:
            if dst.exists() and not args.force:
                kept.append(dst)
                continue
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
            copied += 1
    except OSError as exc:
        print(f"adteach lessons: cannot write to {target}: {exc}", file=sys.stderr)
        return 2
    print(f"copied {copied} file(s) to {target}" + (f" ({len(kept)} already there, kept: --force replaces them)"
                                                     if kept else ""))
    first = target / plan[0][1].name
    if find_spec("jupyterlab") is None:
        print('JupyterLab is not installed here; first run:  pip install "adteach[lessons]"')
    quote = shlex.quote if sys.platform != "win32" else (lambda s: f'"{s}"' if " " in s else s)
    print("Open lesson 1 with:")
    print(f"    jupyter lab {quote(str(first))}")
    if args.html:
        if find_spec("nbconvert") is None:
            print('adteach lessons --html: nbconvert is not installed; first run:  pip install "adteach[lessons]"',
                  file=sys.stderr)
            return 2
        pages, local = export_html([dst for _, dst in plan if dst.parent == target], target / "html")
        print(f"wrote {len(pages)} web page(s) to {target / 'html'} (open {quote(str(pages[0]))} in a browser)")
        if not local:
            print("  their formulas need MathJax from the internet; for pages that work offline first run:  "
                  "pip install jupyter-server-mathjax")
    return 0


def _cmd_release(args) -> int:
    from .grading.notebook import NotebookError
    from .grading.release import release, release_course

    if args.student_dir is not None:
        if args.sources or args.output or args.check:
            print("adteach release: --student-dir releases the whole course; it takes no SOURCE, -o or --check",
                  file=sys.stderr)
            return 2
        try:
            result = release_course(args.student_dir, args.course)
        except (NotebookError, OSError) as exc:
            print(f"adteach release: {exc}", file=sys.stderr)
            return 2
        for warning in result["warnings"]:
            print(f"adteach release: warning: {warning}", file=sys.stderr)
        print(f"wrote {len(result['written'])} files to {args.student_dir}"
              + (f", removed {len(result['removed'])} an earlier release wrote" if result["removed"] else ""))
        return 0
    try:
        results = release(args.sources or None, args.output, check=args.check)
    except NotebookError as exc:
        print(f"adteach release: {exc}", file=sys.stderr)
        return 2
    if not results:
        print("adteach release: no source notebooks found", file=sys.stderr)
        return 2
    stale = 0
    for src, out, changed in results:
        if args.check:
            stale += changed
            print(f"{'out of date' if changed else 'up to date '}  {out}  (from {src})")
        else:
            print(f"{'wrote    ' if changed else 'unchanged'}  {out}  (from {src})")
    return 1 if (args.check and stale) else 0


def _cmd_grade(args) -> int:
    import os
    from pathlib import Path

    from .grading.grade import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT, grade
    from .grading.inputs import InputError
    from .grading.notebook import NotebookError
    from .grading.sandbox import SandboxUnavailable

    def usage(msg: str) -> int:
        print(f"adteach grade: {msg}", file=sys.stderr)
        return 2

    memory = DEFAULT_MEMORY_MB if args.memory_mb is None else (args.memory_mb or None)
    timeout = DEFAULT_TIMEOUT if args.timeout is None else args.timeout
    if timeout <= 0:
        return usage("--timeout must be positive")
    if args.jobs < 1:
        return usage(f"--jobs must be at least 1 (got {args.jobs})")
    if memory is not None and memory < 0:
        return usage(f"--memory-mb must be positive or 0 for no limit (got {args.memory_mb})")
    if not Path(args.source).is_file():
        return usage(f"SOURCE {args.source}: no such file (expected the nbgrader source notebook)")
    missing = [s for s in args.submissions if not os.path.exists(s)]
    if missing:
        return usage(f"SUBMISSION {missing[0]}: no such file or directory"
                     + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
    report_dir = Path(args.report)
    if report_dir.exists() and not report_dir.is_dir():
        return usage(f"--report {args.report}: exists and is not a directory")
    if args.roster is not None and not Path(args.roster).is_file():
        return usage(f"--roster {args.roster}: no such file")
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    try:
        report = grade(
            args.source, args.submissions, args.report,
            jobs=args.jobs, timeout=timeout, memory_mb=memory,
            submission_timeout=args.submission_timeout,
            progress=progress, python=args.python, sandboxed=not args.no_sandbox,
            roster=args.roster, lms=list(dict.fromkeys(args.lms)), lms_assignment=args.lms_assignment,
        )
    except SandboxUnavailable as exc:
        return usage(f"{exc}\n  install it (apt-get install bubblewrap), grade inside a Linux container or VM, "
                     "or pass --no-sandbox to run student code with your rights")
    except (InputError, NotebookError, ValueError) as exc:
        return usage(str(exc))
    except KeyboardInterrupt:
        print(f"\nadteach grade: interrupted; {report_dir / 'grades.json'} holds what was graded so far",
              file=sys.stderr)
        return 130
    except OSError as exc:
        return usage(f"cannot write the report to {args.report}: {exc.strerror or exc}")
    subs = report["submissions"]
    not_graded = {s: r for s, r in subs.items() if r["status"] != "graded"}
    if not args.quiet:
        width = max([len(s) for s in subs] + [10])
        for student, res in subs.items():
            extra = f"  ({len(res['flags'])} flag(s) to review)" if res.get("flags") else ""
            score = f"{res['score']:g}/{res['max_score']:g}" if res["status"] == "graded" else "-"
            print(f"{student:<{width}}  {score:>7}  {res['status']:<10}  {res.get('path', '')}{extra}")
        for item in report.get("skipped", []):
            print(f"skipped  {item['path']}: {item['reason']}")
        if report.get("missing"):
            print(f"no submission from {len(report['missing'])} student(s) on the roster: "
                  f"{', '.join(report['missing'][:20])}")
        files = ["grades.json", "grades.csv", "feedback/"] + [f"{k}.csv" for k in dict.fromkeys(args.lms)]
        print(f"report: {', '.join(str(report_dir / f) for f in files)}")
    for kind, students in report.get("lms_unmatched", {}).items():
        if students:
            print(f"adteach grade: {len(students)} student(s) left out of {kind}.csv (no LMS id; add them "
                  f"to --roster): {', '.join(students[:10])}", file=sys.stderr)
    if not_graded:
        print(f"adteach grade: {len(not_graded)} of {len(subs)} submission(s) not graded: "
              + ", ".join(f"{s} ({r['status']})" for s, r in list(not_graded.items())[:10]), file=sys.stderr)
        return 1
    return 0


def main(argv=None) -> int:
    """Entry point of the ``adteach`` console script and ``python -m adteach``."""
    args = _build_parser().parse_args(argv)
    if args.command == "lessons":
        return _cmd_lessons(args)
    if args.command == "release":
        return _cmd_release(args)
    if args.command == "grade":
        return _cmd_grade(args)
    return 2  # pragma: no cover - argparse enforces a command


if __name__ == "__main__":
    sys.exit(main())
