"""The ``adteach`` command line.

    adteach release [SOURCE ...] [-o DIR] [--check]
    adteach grade SOURCE SUBMISSION ... --report DIR [--jobs N] [--timeout S] [--memory-mb M]

Also available as ``python -m adteach``. Heavy modules are imported lazily,
inside the subcommands.
"""

from __future__ import annotations

import argparse
import sys


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="adteach",
        description="adteach: automatic differentiation for teaching (exercise release and grading).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

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
            "Student code runs in a bubblewrap sandbox (no network, no view of the sources)."
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
    gr.add_argument("--no-sandbox", action="store_true",
                    help="run student code without the bubblewrap sandbox, with YOUR rights (only for "
                         "trusted code, or where bwrap cannot run; prefer a Linux container or VM)")
    gr.add_argument("--python", metavar="PATH", default=None,
                    help="interpreter that runs the submissions (default: the current one)")
    gr.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    gr.add_argument("-q", "--quiet", action="store_true", help="do not print the score table")
    return parser


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
    from .grading.sandbox import SandboxUnavailable

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
            python=args.python, sandboxed=not args.no_sandbox,
        )
    except (NotebookError, ValueError, SandboxUnavailable) as exc:
        hint = ("\n  install it (apt-get install bubblewrap), grade inside a Linux container or VM, or pass "
                "--no-sandbox to run student code with your rights") if isinstance(exc, SandboxUnavailable) else ""
        print(f"adteach grade: {exc}{hint}", file=sys.stderr)
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
    if args.command == "release":
        return _cmd_release(args)
    if args.command == "grade":
        return _cmd_grade(args)
    return 2  # pragma: no cover - argparse enforces a command


if __name__ == "__main__":
    sys.exit(main())
