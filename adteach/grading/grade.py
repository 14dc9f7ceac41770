"""Bulk autograding of student notebooks against the pristine tests of an nbgrader source.

Design (the threat model is in the README; the process model in ``judge.py``):

* Two processes per submission. The JUDGE (in ``adteach grade``, a worker
  process per ``--jobs`` slot, supervised by the grading process, which kills a
  worker that overruns a submission's hard deadline: see ``_Supervisor``; in
  ``grade_submission``, the calling process) holds the source and runs the
  pristine read-only and test cells
  (hidden tests included), with the student's names bound to proxies; every
  comparison and message is computed here by ``adteach.testing``. The STUDENT
  PROCESS (``_student.py``, inside bubblewrap, see ``sandbox.py``) runs the
  student's cells and answers requests with plain data (``wire.py``).
* What runs: the student's code cells in their order; the student's copies of
  test and read-only cells are replaced by the PRISTINE source cells, matched by
  nbgrader ``grade_id`` (or cell id); pristine cells the student deleted are put
  back after the preceding source cell, as nbgrader's autograde does.
* Limits: CPU time per item (``timeout``, read from ``/proc`` while the judge
  waits), a wall-clock bound of 5x that (at least 60 s), the sandbox's limits
  (RLIMIT_CPU, RLIMIT_AS, RLIMIT_NPROC, RLIMIT_FSIZE) and a per-submission
  budget bounded by the source's cells. When an item times out, crashes the
  student process or breaks the protocol, the judge starts a fresh student
  process, replays the earlier items (minus the ones that failed that way) and
  goes on with the next one.
* Random generators are reseeded per test from the source hash and the test's
  grade_id (in the student process), so re-grading gives the same report.
* While a submission is graded, the next one's student process starts (see
  ``_Spares``, one per worker): a fresh sandbox that has imported the source's modules and has
  run no student code; each process serves exactly one submission.
"""

from __future__ import annotations

import ast
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from .notebook import (
    NotebookError,
    read_submission,
    cell_source,
    grade_id,
    is_locked,
    is_solution,
    is_test,
    loads_notebook,
    nbgrader_meta,
    read_bytes,
)
from .inputs import collect, load_roster
from .release import ReleaseError, student_view, validate_source
from .reports import LMS_FORMATS, write_report
from . import compiling, sandbox
from .judge import LAUNCH as _LAUNCH
from .scan import import_bindings, scan_code

__all__ = [
    "Exercise",
    "TestCell",
    "load_exercise",
    "grade_submission",
    "grade",
    "write_report",
    "DEFAULT_TIMEOUT",
    "DEFAULT_MEMORY_MB",
]

DEFAULT_TIMEOUT = 30.0
DEFAULT_MEMORY_MB = 2048
DEFAULT_FILE_SIZE_MB = 64


# -- the source exercise ----------------------------------------------------------------------

@dataclass(frozen=True)
class TestCell:
    """One autograder test cell of the source notebook (scored all or nothing)."""

    __test__ = False  # not a pytest test class

    grade_id: str
    points: float
    source: str          # pristine source, hidden tests included
    cell_index: int      # index in the source notebook
    cell_id: str | None


@dataclass(frozen=True)
class _SourceCell:
    index: int
    kind: str            # "test", "locked", "solution", "other"
    grade_id: str | None
    cell_id: str | None
    source: str


@dataclass
class Exercise:
    """A parsed nbgrader source notebook: the pristine cells and what they import."""

    path: Path
    name: str
    sha256: str
    cells: list          # code cells, as _SourceCell
    tests: list          # TestCell, in source order
    manual: list         # (grade_id, points) of manually graded cells (not autograded)
    imports: list        # modules the given cells import (the student process imports them before student code)
    bindings: list       # (name, module, attr) bound by the given (non-solution) import statements
    module_names: frozenset = field(default_factory=frozenset)
    pristine_names: frozenset = field(default_factory=frozenset)

    @property
    def max_score(self) -> float:
        return float(sum(t.points for t in self.tests))


def load_exercise(source_path: str | os.PathLike) -> Exercise:
    """Read and validate an nbgrader source notebook."""
    source_path = Path(source_path)
    data = read_bytes(source_path)  # the bytes, not only the notebook: the report keeps their sha256
    nb = loads_notebook(data, str(source_path))
    problems = validate_source(nb, str(source_path))
    if problems:
        raise ReleaseError("invalid nbgrader source:\n  " + "\n  ".join(problems))
    cells, tests, manual = [], [], []
    bindings: list[tuple[str, str, str | None]] = []
    for i, cell in enumerate(nb["cells"]):
        if cell.get("cell_type") != "code":
            if nbgrader_meta(cell).get("grade") and is_solution(cell):
                manual.append((grade_id(cell), float(nbgrader_meta(cell)["points"])))
            continue
        src = cell_source(cell)
        if is_test(cell):
            kind = "test"
            tests.append(TestCell(grade_id(cell), float(nbgrader_meta(cell)["points"]), src, i, cell.get("id")))
        elif is_locked(cell):
            kind = "locked"
        elif is_solution(cell):
            kind = "solution"
            if nbgrader_meta(cell).get("grade"):
                manual.append((grade_id(cell), float(nbgrader_meta(cell)["points"])))
        else:
            kind = "other"
        cells.append(_SourceCell(i, kind, grade_id(cell), cell.get("id"), src))
        bindings.extend(import_bindings(student_view(cell, f"cell {i}")))
    imports: list[str] = []
    for _name, module, attr in bindings:
        for mod in (module, f"{module}.{attr}" if attr else None):
            if mod and mod not in imports:
                imports.append(mod)
    module_names = frozenset(name for name, _m, attr in bindings if attr is None)
    imported = {name for name, _m, _a in bindings}
    pristine_names = frozenset(
        n for c in cells if c.kind in ("test", "locked")
        for n in _module_level_names(c.source) if n not in imported
    )
    return Exercise(
        path=source_path,
        name=source_path.stem,
        sha256=hashlib.sha256(data).hexdigest(),
        cells=cells,
        tests=tests,
        manual=manual,
        imports=imports,
        bindings=[list(b) for b in dict.fromkeys(bindings)],
        module_names=module_names,
        pristine_names=pristine_names,
    )


# -- what to run for one submission -----------------------------------------------------------

@dataclass(frozen=True)
class _Item:
    kind: str                  # "student", "locked", "test"
    code: str
    label: str                 # for the report
    test: TestCell | None = None
    cell: int | None = None    # index of the cell in the submission (None for re-inserted cells)


_MAGIC = re.compile(r"^(\s*)([%!].*)$")


def _neutralise_magics(code: str) -> str:
    """Comment out IPython magics / shell escapes when (and only when) the cell isn't Python."""
    try:
        compiling.parse(code)
        return code
    except SyntaxError:
        pass
    except ValueError:
        return code
    lines = code.split("\n")
    if lines and lines[0].lstrip().startswith("%%"):
        lines[0] = "pass  # " + lines[0].strip()
    out = [
        (m.group(1) + "pass  # " + m.group(2)) if (m := _MAGIC.match(line)) else line
        for line in lines
    ]
    return "\n".join(out)


def _module_level_names(code: str) -> list[str]:
    """Names a cell binds (or deletes) at module level: assignments, imports, defs, classes, ..."""
    try:
        tree = compiling.parse(code)
    except (SyntaxError, ValueError):
        return []
    names: set[str] = set()

    def visit(node):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            for dec in node.decorator_list:
                visit(dec)
            return
        if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name != "*":
                    names.add(alias.asname or alias.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif type(node).__name__ in ("MatchAs", "MatchStar") and getattr(node, "name", None):
            names.add(node.name)
        elif type(node).__name__ == "MatchMapping" and getattr(node, "rest", None):
            names.add(node.rest)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return sorted(n for n in names if n.isidentifier())


def build_schedule(exercise: Exercise, submission: dict) -> list[_Item]:
    """The ordered items to run: student cells, with pristine locked/test cells substituted."""
    by_gid = {c.grade_id: c for c in exercise.cells if c.grade_id}
    by_id = {c.cell_id: c for c in exercise.cells if c.cell_id}
    tests_by_index = {t.cell_index: t for t in exercise.tests}
    items: list[_Item] = []
    placed: dict[int, int] = {}      # source index -> position in items
    used: set[int] = set()
    for j, cell in enumerate(submission["cells"]):
        if cell.get("cell_type") != "code":
            continue
        gid = grade_id(cell)
        src = by_gid.get(gid) if gid else None
        if src is None and isinstance(cell.get("id"), str):
            src = by_id.get(cell["id"])
        if src is not None and src.kind in ("test", "locked"):
            if src.index in used:
                continue  # a duplicate of a read-only cell: the pristine copy already runs
            used.add(src.index)
            placed[src.index] = len(items)
            if src.kind == "test":
                t = tests_by_index[src.index]
                items.append(_Item("test", src.source, f"test {t.grade_id}", t, j))
            else:
                items.append(_Item("locked", src.source, f"read-only cell {src.grade_id}", None, j))
            continue
        if src is not None and src.index not in placed:
            placed[src.index] = len(items)
        label = f"cell {j}" + (f" ({gid})" if gid else "")
        items.append(_Item("student", cell_source(cell), label, None, j))
    # put back pristine cells the student deleted, after the preceding source cell
    for src in exercise.cells:
        if src.kind not in ("test", "locked") or src.index in used:
            continue
        prev = [k for k in placed if k < src.index]
        pos = placed[max(prev)] + 1 if prev else 0
        if src.kind == "test":
            t = tests_by_index[src.index]
            item = _Item("test", src.source, f"test {t.grade_id}", t, None)
        else:
            item = _Item("locked", src.source, f"read-only cell {src.grade_id}", None, None)
        items.insert(pos, item)
        for k in placed:
            if placed[k] >= pos:
                placed[k] += 1
        placed[src.index] = pos
        used.add(src.index)
    return [
        _Item(it.kind, _neutralise_magics(it.code), it.label, it.test, it.cell) for it in items
    ]


# -- the child process ------------------------------------------------------------------------

@dataclass(frozen=True)
class _Settings:
    timeout: float
    memory_mb: int | None
    fsize_mb: int | None
    submission_timeout: float | None
    python: str
    sandbox: bool = True          # run student code inside bubblewrap (see sandbox.py)


@dataclass
class _Outcome:
    status: str                # "ok", "error", "timeout", "crash"
    feedback: str = ""
    line: int | None = None
    threads: int = 0


class _StartError(RuntimeError):
    pass


# -- grading one submission -------------------------------------------------------------------

def _test_seed(exercise: Exercise, test: TestCell) -> int:
    return int(hashlib.sha256(f"{exercise.sha256}:{test.grade_id}".encode()).hexdigest()[:12], 16)


def _settings(timeout, memory_mb, submission_timeout, python, sandboxed=True,
              fsize_mb=DEFAULT_FILE_SIZE_MB, check=True) -> _Settings:
    if timeout is None or timeout <= 0:
        raise ValueError("timeout must be positive")
    if sandboxed:
        if check:
            sandbox.check()  # SandboxUnavailable (a RuntimeError) says why and what to install
    else:
        print(sandbox.NO_SANDBOX_WARNING, file=sys.stderr)
    return _Settings(float(timeout), memory_mb, fsize_mb, submission_timeout, python or sys.executable,
                     bool(sandboxed))


def _sha256_of(path) -> str | None:
    """The submission file's SHA-256, or None when there is no file or it cannot be read."""
    if not path:
        return None
    try:
        return hashlib.sha256(read_submission(path)).hexdigest()
    except OSError:
        return None


def _empty_result(exercise: Exercise, status: str, error: str, sha256: str | None) -> dict:
    return {
        "status": status,
        "score": 0.0,
        "max_score": exercise.max_score,
        "sha256": sha256,
        "error": error,
        "tests": [
            {"grade_id": t.grade_id, "points": t.points, "score": 0.0, "status": "not run",
             "feedback": "", "line": None}
            for t in exercise.tests
        ],
        "cell_errors": [],
        "flags": [],
    }


def grade_submission(exercise: Exercise | str | os.PathLike, submission: str | os.PathLike, *,
                     timeout: float = DEFAULT_TIMEOUT, memory_mb: int | None = DEFAULT_MEMORY_MB,
                     submission_timeout: float | None = None, python: str | None = None,
                     sandboxed: bool = True) -> dict:
    """Grade one submission notebook against the pristine tests; never modifies the file.

    Returns a dict with ``status`` ("graded", "unreadable" or "error"), ``score``,
    ``max_score``, ``sha256`` of the submission, ``tests`` (per test:
    ``grade_id``, ``points``, ``score``, ``status`` in pass/fail/timeout/crash/not run,
    ``feedback``, ``line``), ``cell_errors`` and ``flags`` (for human review).
    ``sandboxed=False`` runs student code without the bubblewrap sandbox (with
    the grader's rights; a warning says so).
    """
    if not isinstance(exercise, Exercise):
        exercise = load_exercise(exercise)
    settings = _settings(timeout, memory_mb, submission_timeout, python, sandboxed)
    return _grade_one(exercise, Path(submission), settings)


def _grade_one(exercise: Exercise, path: Path, settings: _Settings, spares=None) -> dict:
    try:
        data = read_submission(path)  # read once; the file is never opened for writing
    except OSError as exc:
        return _empty_result(exercise, "unreadable", f"cannot read file: {exc.strerror or exc}", None)
    sha = hashlib.sha256(data).hexdigest()
    try:
        nb = loads_notebook(data, path.name)
    except NotebookError as exc:
        return _empty_result(exercise, "unreadable", str(exc), sha)
    schedule = build_schedule(exercise, nb)
    flags: list[str] = []
    for it in schedule:
        if it.kind == "student":
            for line, reason in scan_code(it.code, exercise.module_names, exercise.pristine_names):
                flags.append(f"{it.label}, line {line}: {reason}")
    workdir = Path(tempfile.mkdtemp(prefix="adteach-grade-"))
    try:
        outcomes, runtime_flags = _run_judged(exercise, schedule, settings, workdir, spares)
    except _StartError as exc:
        result = _empty_result(exercise, "error", str(exc), sha)
        result["flags"] = flags
        return result
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    flags.extend(runtime_flags)
    tests_out = {}
    cell_errors = []
    for it, out in zip(schedule, outcomes):
        if it.kind == "test":
            if it.test.grade_id in tests_out:
                continue
            status = {"ok": "pass", "error": "fail", "timeout": "timeout", "crash": "crash"}.get(
                out.status if out else "", "not run")
            tests_out[it.test.grade_id] = {
                "grade_id": it.test.grade_id,
                "points": it.test.points,
                "score": it.test.points if status == "pass" else 0.0,
                "status": status,
                "feedback": out.feedback if out else "",
                "line": out.line if out else None,
            }
        elif out is not None and out.status != "ok":
            cell_errors.append({"cell": it.cell, "label": it.label, "status": out.status,
                                "message": out.feedback})
    tests = [tests_out.get(t.grade_id) or {
        "grade_id": t.grade_id, "points": t.points, "score": 0.0, "status": "not run",
        "feedback": "", "line": None} for t in exercise.tests]
    return {
        "status": "graded",
        "score": float(sum(t["score"] for t in tests)),
        "max_score": exercise.max_score,
        "sha256": sha,
        "error": None,
        "tests": tests,
        "cell_errors": cell_errors,
        "flags": flags,
    }


class _Spares:
    """Student processes started ahead, one per worker: while a submission is graded, the next one's
    sandbox starts and imports the source's modules (no student code runs before it is handed out).
    Each is used for exactly one submission and gets its own scratch; the ones not needed are
    killed when the batch ends.

    One thread starts them all and lives until :meth:`close`: bwrap's ``--die-with-parent`` is
    bound to the thread that started it (PR_SET_PDEATHSIG), so a short-lived thread would take
    its sandbox down with it."""

    def __init__(self, exercise: Exercise, settings: _Settings, count: int | None, jobs: int, first=None):
        """``first``: (workdir, (plan, handles)) of a student process already started (see
        ``judge.launch``): the first spare."""
        import queue
        self.exercise, self.settings = exercise, settings
        self.lock = threading.Lock()
        self.left = count if count is not None else jobs   # submissions that may still ask for one
        self.waiting: list = []     # holders of started (or starting) spares, oldest first
        self.closed = False
        self.requests: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._serve, name="adteach-spares", daemon=True)
        self.thread.start()
        with self.lock:
            for _ in range(min(jobs, self.left)):
                self._start(first)
                first = None
        if first is not None:     # not needed after all
            holder = {"workdir": first[0], "ready": threading.Event(), "started": first[1]}
            self.requests.put(holder)
            holder["ready"].wait()
            if "session" in holder:
                holder["session"].kill()
            shutil.rmtree(first[0], ignore_errors=True)

    def expect(self, count: int):
        """How many submissions will ask (known once the inputs are collected)."""
        with self.lock:
            self.left = count

    def _serve(self):
        from .judge import Session
        while True:
            holder = self.requests.get()
            if holder is None:
                return
            try:
                if not self.closed or holder.get("started"):
                    holder["session"] = Session(self.exercise, self.settings, holder["workdir"],
                                                started=holder.get("started"))
            except Exception as exc:  # noqa: BLE001 - the submission then starts its own, and reports
                holder["error"] = exc
            finally:
                holder["ready"].set()

    def _start(self, first=None):
        if first is not None:
            holder = {"workdir": first[0], "ready": threading.Event(), "started": first[1]}
        else:
            holder = {"workdir": Path(tempfile.mkdtemp(prefix="adteach-grade-")), "ready": threading.Event()}
        self.waiting.append(holder)
        self.requests.put(holder)

    def take(self):
        """(session, its workdir) or None."""
        with self.lock:
            self.left -= 1
            if self.closed or not self.waiting:
                return None
            holder = self.waiting.pop(0)
            if self.left > len(self.waiting):
                self._start()
        holder["ready"].wait()
        if "session" not in holder:
            shutil.rmtree(holder["workdir"], ignore_errors=True)
            return None
        return holder["session"], holder["workdir"]

    def close(self):
        with self.lock:
            self.closed = True
            waiting, self.waiting = self.waiting, []
        self.requests.put(None)
        for holder in waiting:
            holder["ready"].wait()
            if "session" in holder:
                holder["session"].kill()
            shutil.rmtree(holder["workdir"], ignore_errors=True)
        self.thread.join()


def _budget(exercise: Exercise, settings: _Settings) -> float:
    """A submission's time budget: ``submission_timeout``, or bounded by the source's cells (not by
    how many cells the student added)."""
    if settings.submission_timeout is not None:
        return float(settings.submission_timeout)
    return max(60.0, 3 * settings.timeout * max(len(exercise.cells), 1))


def _deadline(exercise: Exercise, settings: _Settings) -> float:
    """The hard limit on one submission's grading (seconds), enforced by the supervisor: the budget
    (checked by the judge between items) plus a margin for the item running when it ran out."""
    budget = _budget(exercise, settings)
    return budget + max(10.0, 0.25 * budget)


def _run_judged(exercise: Exercise, schedule: list[_Item], settings: _Settings, workdir: Path, spares=None):
    """Run the schedule with the judge (judge.py): tests here, student cells in the student process."""
    from .judge import Session, StudentGone

    n = len(schedule)
    outcomes: list[_Outcome | None] = [None] * n
    excluded: set[int] = set()
    flags: list[str] = []
    budget = _budget(exercise, settings)
    started = time.monotonic()
    session = None
    spare_dirs = []
    if spares is not None:
        got = spares.take()
        if got is not None:
            session = got[0]
            spare_dirs.append(got[1])

    def run(sess, k: int) -> _Outcome:
        item = schedule[k]
        if item.kind == "student":
            err = sess.run_student(item.code, f"<cell {k}>")
            return _Outcome("error", err) if err is not None else _Outcome("ok")
        if item.kind == "locked":
            err = sess.run_student(item.code, f"<cell {k}>")
            ok, feedback, line = sess.run_pristine(item.code, f"<judge {k}>", None)
            if not ok:
                return _Outcome("error", feedback, line)
            return _Outcome("error", err) if err is not None else _Outcome("ok")
        ok, feedback, line = sess.run_pristine(item.code, f"<judge {k}>", _test_seed(exercise, item.test))
        return _Outcome("ok" if ok else "error", feedback, line)

    def gone(exc) -> _Outcome:
        if exc.status == "protocol":
            flags.append(f"{schedule[i].label}: {exc.message}")
        return _Outcome("timeout" if exc.status == "timeout" else "crash", exc.message)

    try:
        i = 0
        while i < n:
            if time.monotonic() - started > budget:
                for k in range(i, n):
                    outcomes[k] = _Outcome("timeout", f"not run: the submission's time budget ({budget:g} s) ran out")
                break
            if session is None:
                try:
                    session = Session(exercise, settings, workdir)
                except RuntimeError as exc:
                    raise _StartError(str(exc)) from None
                replay_ok = True
                for j in range(i):  # replay what ran before, minus what hung or crashed
                    if j in excluded:
                        continue
                    try:
                        run(session, j)
                    except StudentGone:
                        excluded.add(j)
                        session.kill()
                        session = None
                        replay_ok = False
                        break
                if not replay_ok:
                    continue
            try:
                outcomes[i] = run(session, i)
            except StudentGone as exc:
                outcomes[i] = gone(exc)
                excluded.add(i)
                session.kill()
                session = None
            i += 1
    finally:
        if session is not None:
            session.close()
        for d in spare_dirs:
            shutil.rmtree(d, ignore_errors=True)
    return outcomes, flags


# -- the workers and their supervisor ---------------------------------------------------------
#
# The judge runs the pristine test code on values the student process returned, and test code can
# do unbounded work on them (``3 ** n`` for a huge returned n is one C call that holds the GIL;
# ``for _ in range(n)`` never ends). So the judge's work for a batch runs in worker PROCESSES
# (one per --jobs slot, each grading a sequence of submissions and keeping its own spare student
# process), and this process only supervises them: it hands out submissions, receives each result
# as JSON over a pipe, and enforces a hard deadline per submission (:func:`_deadline`). A worker
# that overruns is frozen, everything it started is killed (the boxes by their PID 1, which takes
# their whole PID namespace with it), then the worker itself; the submission is reported as
# "timeout" and a fresh worker takes the next one. Workers are started with fork+exec
# (``subprocess``: safe whatever threads this process has), in their own session, and die with it.

# Standard library only until the first student process is started: the worker's own imports
# (NumPy, adteach: about 0.3 s) then overlap with that process's start.
_WORKER_BOOT = (
    "import json, os, sys\n"
    "if sys.path and sys.path[0] == '':\n"      # -c put the cwd first: not a place to import from
    "    del sys.path[0]\n"
    "import ctypes\n"                            # die with the supervisor (the thread that started us
    "ctypes.CDLL(None).prctl(1, 9, 0, 0, 0)\n"   # lives until the batch ends): PR_SET_PDEATHSIG, SIGKILL
    "if str(os.getppid()) != os.environ.get('ADTEACH_GRADE_SUPERVISOR'):\n"
    "    os._exit(70)\n"                         # it died before the line above
    "init = json.loads(sys.stdin.readline())\n"
    "started = None\n"
    "if init['plan'] is not None:\n"
    + "".join(f"    {line}\n" for line in _LAUNCH.strip("\n").splitlines()) +
    "    started = (init['plan'], launch(init['plan']))\n"
    "p = os.environ.pop('ADTEACH_GRADE_PATH', '')\n"   # where the supervisor's adteach is
    "if p and p not in sys.path:\n"
    "    sys.path.insert(0, p)\n"
    "from adteach.grading.grade import _worker_main\n"
    "_worker_main(init, started)\n"
)


def _worker_main(init: dict, started) -> None:
    """A worker (``python -c _WORKER_BOOT <result fd>``): after the init line (read by the boot code,
    which also started the first student process if ``init["plan"]``), one JSON line per submission
    on stdin; one JSON line per result on the result fd."""
    import json
    out = int(sys.argv[1])
    exercise = load_exercise(init["source"])
    settings = _Settings(**init["settings"])
    first = None
    if started is not None:
        first = (Path(init["plan"]["cwd"]), started)
    spares = _Spares(exercise, settings, 1 if init["spare"] else 0, 1, first=first)
    try:
        for line in sys.stdin:
            job = json.loads(line)
            spares.expect(2 if job["spare"] else 1)    # this one, and a spare for the next?
            if job["spare"]:
                with spares.lock:
                    if not spares.waiting:   # none was started for this one: it starts now, the next's after it
                        spares._start()
            try:
                res = _grade_one(exercise, Path(job["path"]), settings, spares)
            except Exception as exc:  # noqa: BLE001 - one broken submission never stops the batch
                res = _empty_result(exercise, "error", f"grader error: {type(exc).__name__}: {exc}", None)
            data = (json.dumps({"id": job["id"], "result": res}) + "\n").encode()
            view = memoryview(data)
            while view:
                view = view[os.write(out, view):]
    finally:
        spares.close()
    # every session was closed and every spare killed: what the at-exit sweep would do, then exit at
    # once (the interpreter's teardown is time the supervisor would wait for)
    sandbox.sweep()
    os._exit(0)


class _Worker:
    def __init__(self, source: Path, exercise: Exercise, settings: _Settings, spare: bool):
        from dataclasses import asdict
        from .judge import launch_plan
        self.workdir = None
        plan = None
        if spare:    # the worker starts its first student process before its own imports
            self.workdir = Path(tempfile.mkdtemp(prefix="adteach-grade-"))
            try:
                plan = launch_plan(exercise, settings, self.workdir)
            except RuntimeError:    # no bwrap: the worker's own start fails, sandbox.check() says why
                plan = None
        rfd, wfd = os.pipe()
        env = dict(os.environ)
        env["ADTEACH_GRADE_PATH"] = str(Path(sandbox.package_dir()).parent)
        env["ADTEACH_GRADE_SUPERVISOR"] = str(os.getpid())
        try:
            self.proc = subprocess.Popen([sys.executable, "-c", _WORKER_BOOT, str(wfd)], stdin=subprocess.PIPE,
                                         stdout=subprocess.DEVNULL, pass_fds=[wfd], env=env,
                                         start_new_session=True)
        finally:
            os.close(wfd)
        self.rfd = rfd
        self.buf = b""
        self.job = None          # (id, submission, deadline) being graded
        self.spare = spare       # holds a started student process for its next submission
        self.dead = False
        self.send({"source": str(source.resolve()), "settings": asdict(settings), "spare": spare, "plan": plan})

    def send(self, msg: dict) -> bool:
        import json
        try:
            self.proc.stdin.write((json.dumps(msg) + "\n").encode())
            self.proc.stdin.flush()
            return True
        except (OSError, ValueError):
            return False

    def read(self) -> list:
        """Complete result lines now available; sets ``dead`` at EOF."""
        import json
        try:
            chunk = os.read(self.rfd, 1 << 20)
        except OSError:
            chunk = b""
        if not chunk:
            self.dead = True
            return []
        self.buf += chunk
        *lines, self.buf = self.buf.split(b"\n")
        return [json.loads(line) for line in lines if line.strip()]

    def close(self, kill: bool) -> None:
        try:
            self.proc.stdin.close()     # EOF: the worker closes its spare and exits
        except OSError:
            pass
        if not kill:
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                kill = True
        if kill:
            sandbox.kill_tree(self.proc)
        os.close(self.rfd)
        if self.workdir is not None:      # the first spare's scratch, if the worker did not remove it
            shutil.rmtree(self.workdir, ignore_errors=True)


class _Supervisor:
    """The workers of one batch (see above); runs in the thread that called :func:`grade`."""

    def __init__(self, source: Path, exercise: Exercise, settings: _Settings, jobs: int):
        self.source, self.exercise, self.settings = source, exercise, settings
        self.limit = _deadline(exercise, settings)
        self.workers = [_Worker(source, exercise, settings, True) for _ in range(jobs)]

    def _timeout_result(self, sub) -> dict:
        sha = _sha256_of(sub.file)
        return _empty_result(self.exercise, "timeout",
                             f"the test code did not finish within {self.limit:g} s on this submission's values "
                             f"(its grading was stopped; see the README's threat model)", sha)

    def run(self, queue: list, record, bar) -> None:
        import select
        queue = list(queue)
        next_id = 0
        while True:
            for i, w in enumerate(self.workers):   # hand out work
                if w.job is None and queue:
                    if w.dead or w.proc.poll() is not None:   # an idle worker that died: a fresh one
                        w.close(kill=True)
                        w = self.workers[i] = _Worker(self.source, self.exercise, self.settings, False)
                    sub = queue.pop(0)
                    others = sum(1 for x in self.workers if x is not w and x.spare and not x.dead)
                    w.spare = len(queue) > others
                    if not w.send({"id": next_id, "path": str(sub.file), "spare": w.spare}):
                        w.dead = True
                    w.job = (next_id, sub, time.monotonic() + self.limit)
                    next_id += 1
            busy = [w for w in self.workers if w.job is not None]
            if not busy:
                return
            wait = max(0.0, min(w.job[2] for w in busy) - time.monotonic())
            poller = select.poll()
            by_fd = {}
            for w in busy:
                poller.register(w.rfd, select.POLLIN)
                by_fd[w.rfd] = w
            events = poller.poll(int(min(wait, 1.0) * 1000) + 1) if not any(w.dead for w in busy) else []
            for fd, _ev in events:
                w = by_fd[fd]
                for msg in w.read():
                    if w.job is not None and msg.get("id") == w.job[0]:
                        sub = w.job[1]
                        w.job = None
                        record(sub, msg["result"])
                        bar.update(sub.path)
            now = time.monotonic()
            for i, w in enumerate(self.workers):
                if w.job is not None and (w.dead or now > w.job[2]):
                    sub = w.job[1]
                    w.job = None
                    dead = w.dead
                    w.close(kill=True)
                    if dead:
                        res = _empty_result(self.exercise, "error", "grader error: the grading worker exited "
                                            f"(status {w.proc.returncode})", None)
                    else:
                        res = self._timeout_result(sub)
                    record(sub, res)
                    bar.update(sub.path)
                    others = sum(1 for x in self.workers if x is not w and x.spare)
                    self.workers[i] = _Worker(self.source, self.exercise, self.settings, len(queue) > others)

    def close(self) -> None:
        for w in self.workers:     # EOF to every idle worker first: they shut down side by side
            if w.job is None and not w.dead:
                try:
                    w.proc.stdin.close()
                except OSError:
                    pass
        for w in self.workers:
            try:
                w.close(kill=w.job is not None or w.dead)
            except Exception:  # noqa: BLE001 - close every worker
                sandbox.kill_tree(w.proc)
        self.workers = []


# -- many submissions -------------------------------------------------------------------------

class _Progress:
    """``grading 12/200 [###...] 6%  0:31 elapsed, ETA 8:05`` on stderr (one line per update off a TTY)."""

    def __init__(self, total: int, enabled: bool, stream=None):
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = bool(enabled) and total > 0
        self.total = total
        self.done = 0
        self.started = time.monotonic()
        self.lock = threading.Lock()
        try:
            self.tty = self.stream.isatty()
        except (AttributeError, ValueError):
            self.tty = False

    @staticmethod
    def _clock(seconds: float) -> str:
        m, s = divmod(int(round(seconds)), 60)
        h, m = divmod(m, 60)
        return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"

    def update(self, label: str) -> None:
        if not self.enabled:
            return
        with self.lock:
            self.done += 1
            elapsed = time.monotonic() - self.started
            eta = elapsed / self.done * (self.total - self.done)
            width = 24
            filled = int(width * self.done / self.total)
            line = (f"grading {self.done}/{self.total} [{'#' * filled}{'.' * (width - filled)}] "
                    f"{100 * self.done // self.total:3d}%  {self._clock(elapsed)} elapsed, "
                    f"ETA {self._clock(eta)}")
            if self.tty:
                self.stream.write("\r" + line + ("\n" if self.done == self.total else ""))
            else:
                self.stream.write(line + "\n")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.tty and 0 < self.done < self.total:
            self.stream.write("\n")
            self.stream.flush()


def _report_entry(exercise: Exercise, sub, res: dict, roster: dict) -> dict:
    """The report's record of one student: where the notebook came from, who it is, the result."""
    if sub.archive and sub.file is not None and res.get("error"):
        res["error"] = res["error"].replace(sub.file.name, sub.path)   # a zip member, not its temp copy
    entry = {**sub.info(), **roster.get(sub.student, {}), **res}
    if sub.notes:
        entry["notes"] = list(sub.notes)
    return entry


def grade(source: str | os.PathLike, submissions: Sequence[str | os.PathLike],
          report_dir: str | os.PathLike | None = None, *, jobs: int = 1,
          timeout: float = DEFAULT_TIMEOUT, memory_mb: int | None = DEFAULT_MEMORY_MB,
          submission_timeout: float | None = None, progress: bool = False,
          python: str | None = None, sandboxed: bool = True,
          roster: str | os.PathLike | dict | None = None, lms: Sequence[str] = (),
          lms_assignment: str | None = None) -> dict:
    """Grade many submissions in parallel and write the report to ``report_dir``.

    ``submissions`` are notebooks, folders (nbgrader's ``submitted/<student>/<assignment>/``
    layout or any folder of notebooks) and Canvas / Moodle ``.zip`` downloads
    (see :mod:`adteach.grading.inputs`); the report is keyed by student.
    ``timeout`` is the per-cell time limit in seconds, ``memory_mb`` the
    address-space limit of each child process, ``submission_timeout`` an
    overall cap per submission (default: 3 x timeout x number of cells, at
    least 60 s). ``python`` is the interpreter that runs submissions (default:
    this one). Student code runs in a bubblewrap sandbox (``sandbox.py``);
    without bwrap this raises ``SandboxUnavailable`` unless ``sandboxed=False``.
    ``roster`` (CSV path or dict) adds names, e-mail and SIS ids; ``lms``
    (``"canvas"``, ``"moodle"``) adds gradebook-import files (see
    :mod:`adteach.grading.reports`). Each result is written as soon as it is
    known. The judge's work runs in ``jobs`` worker processes; a submission
    whose grading overruns its hard deadline (the budget plus a quarter of it,
    at least 10 s) is stopped and reported as ``"timeout"``. Raises
    :class:`~adteach.grading.inputs.InputError` for inputs that do not exist.
    Returns the report dict.
    """
    exercise = load_exercise(source)
    settings = _settings(timeout, memory_mb, submission_timeout, python, sandboxed, check=False)
    for kind in lms:
        if kind not in LMS_FORMATS:
            raise ValueError(f"unknown LMS format {kind!r}; expected one of {', '.join(LMS_FORMATS)}")
    # the workers (and each one's first student process) start now, while the sandbox is checked
    # and the inputs collected
    workers = _Supervisor(Path(source), exercise, settings, max(1, int(jobs)))
    tmp = None
    try:
        if settings.sandbox:
            sandbox.check()  # SandboxUnavailable (a RuntimeError) says why and what to install
        roster_map = roster if isinstance(roster, dict) else (load_roster(roster) if roster else {})
        tmp = Path(tempfile.mkdtemp(prefix="adteach-inputs-"))
        found = collect(submissions, source, tmp, lms=lms)
        order = [s.student for s in found.submissions]
        report = {
            "exercise": exercise.name,
            "source": str(source),
            "source_sha256": exercise.sha256,
            "max_score": exercise.max_score,
            "tests": [{"grade_id": t.grade_id, "points": t.points} for t in exercise.tests],
            "manually_graded": [{"grade_id": g, "points": p} for g, p in exercise.manual],
            "settings": {"timeout": settings.timeout, "memory_mb": settings.memory_mb,
                         "sandbox": settings.sandbox},
            "complete": False,
            "submissions": {},
            "skipped": found.skipped,
        }
        if report_dir is not None:
            write_report(report, report_dir, students=[])
        bar = _Progress(len(found.submissions), progress)
        done: dict[str, dict] = {}

        def record(sub, res):
            done[sub.student] = _report_entry(exercise, sub, res, roster_map)
            report["submissions"] = {k: done[k] for k in order if k in done}
            if report_dir is not None:
                write_report(report, report_dir, students=[sub.student])

        try:
            queue = []
            for sub in found.submissions:
                if sub.status is not None:   # reported as found (unreadable, not a notebook, ...)
                    record(sub, _empty_result(exercise, sub.status, sub.error, _sha256_of(sub.file)))
                    bar.update(sub.path)
                else:
                    queue.append(sub)
            workers.run(queue, record, bar)
        finally:
            bar.close()
        report["complete"] = True
        report["missing"] = [sid for sid in roster_map if sid not in done]   # on the roster, nothing handed in
        if report_dir is not None:
            written = write_report(report, report_dir, students=[], lms=lms, assignment=lms_assignment)
            report["lms_unmatched"] = written["unmatched"]
            if any(written["unmatched"].values()):
                write_report(report, report_dir, students=[], lms=lms, assignment=lms_assignment)
        return report
    finally:
        workers.close()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
