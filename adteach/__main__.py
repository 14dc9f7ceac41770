"""The ``adteach`` command line.

    adteach lessons [DIR] [--force]
    adteach release [SOURCE ...] [-o DIR] [--check]
    adteach grade SOURCE SUBMISSION ... --report DIR [--jobs N] [--timeout S] [--memory-mb M]

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

    gr = sub.add_parser(
        "grade",
        help="grade submissions against the pristine tests of a source notebook",
        description=(
            "Grade each SUBMISSION notebook in its own process against the pristine (hidden "
            "included) tests of SOURCE, and write DIR/grades.json and DIR/grades.csv. "
            "This is not a sandbox: run untrusted submissions inside a container."
        ),
    )
    gr.add_argument("source", metavar="SOURCE", help="the nbgrader source notebook (exercises/source/NAME.ipynb)")
    gr.add_argument("submissions", nargs="+", metavar="SUBMISSION",
                    help="submitted notebooks (directories are searched for *.ipynb)")
    gr.add_argument("--report", required=True, metavar="DIR", help="directory for grades.json and grades.csv")
    gr.add_argument("-j", "--jobs", type=int, default=1, metavar="N", help="submissions graded in parallel (default 1)")
    gr.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                    help="time limit per cell, tests included (default 30)")
    gr.add_argument("--memory-mb", type=int, default=None, metavar="MB",
                    help="address-space limit of each grading process (default 2048; 0 = none)")
    gr.add_argument("--submission-timeout", type=float, default=None, metavar="SECONDS",
                    help="overall time cap per submission (default 3 x timeout x cells, at least 60)")
    gr.add_argument("--run-as", metavar="USER", default=None,
                    help="run submissions as this unprivileged user (grader must be root); keep the "
                         "source notebook unreadable to that user so code can't read the solutions")
    gr.add_argument("--python", metavar="PATH", default=None,
                    help="interpreter that runs the submissions (default: the current one)")
    gr.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
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
        description=("Copy the ten lesson notebooks (and the student exercises, into DIR/exercises) out of "
                     "the installed package, then print the command that opens lesson 1. Files already "
                     "in DIR are kept (your work is never overwritten) unless --force is given."),
    )
    les.add_argument("directory", nargs="?", default="adteach-lessons", metavar="DIR",
                     help="where to put them (default: ./adteach-lessons; made if missing)")
    les.add_argument("--force", action="store_true", help="overwrite files that are already there")
    return sub


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
    return 0


def _cmd_release(args) -> int:
    from .grading.notebook import NotebookError
    from .grading.release import release

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
    from .grading.grade import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT, grade
    from .grading.notebook import NotebookError

    memory = DEFAULT_MEMORY_MB if args.memory_mb is None else (args.memory_mb or None)
    timeout = DEFAULT_TIMEOUT if args.timeout is None else args.timeout
    if timeout <= 0:
        print("adteach grade: --timeout must be positive", file=sys.stderr)
        return 2
    try:
        report = grade(
            args.source, args.submissions, args.report,
            jobs=args.jobs, timeout=timeout, memory_mb=memory,
            submission_timeout=args.submission_timeout,
            progress=not args.no_progress,
            python=args.python, run_as=args.run_as,
        )
    except (NotebookError, ValueError) as exc:
        print(f"adteach grade: {exc}", file=sys.stderr)
        return 2
    if not args.quiet:
        subs = report["submissions"]
        width = max([len(p) for p in subs] + [10])
        for path, res in subs.items():
            extra = f"  ({len(res['flags'])} flag(s) to review)" if res.get("flags") else ""
            print(f"{path:<{width}}  {res['score']:g}/{res['max_score']:g}  {res['status']}{extra}")
        print(f"report: {args.report}/grades.json, {args.report}/grades.csv")
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
