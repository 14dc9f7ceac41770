"""Release and bulk grading of nbgrader-style exercises, with real processes (no mocks).

The toy exercise tests/grading_data/square.ipynb asks for square(x) (1 point),
dsquare(x) (2 points) and numerical_derivative(f, x) (1 point). Hostile
submissions are generated from its released version below; each one states
the score an honest reading gives.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from adteach.grading import judge  # noqa: E402
from adteach.grading import (
    NotebookError,
    build_schedule,
    check_release,
    grade,
    grade_submission,
    load_exercise,
    read_notebook,
    release,
    release_notebook,
)

DATA = Path(__file__).parent / "grading_data"
SOURCE = DATA / "square.ipynb"
REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 2.0
MEMORY_MB = 512

SQUARE = "def square(x):\n    return x * x"
DSQUARE = "def dsquare(x):\n    return 2.0 * np.asarray(x, dtype=float)"
NUMDIFF = "def numerical_derivative(f, x, h=1e-6):\n    return (f(x + h) - f(x - h)) / (2 * h)"
SQUARE_BAD = "def square(x):\n    return x"
DSQUARE_BAD = "def dsquare(x):\n    return x"
NUMDIFF_BAD = "def numerical_derivative(f, x, h=1e-6):\n    return 0.0 * x"
GOOD = {"square": SQUARE, "dsquare": DSQUARE, "numerical_derivative": NUMDIFF}
TESTS = ("test_square", "test_dsquare", "test_numerical_derivative")


def _gid(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _src(cell):
    s = cell["source"]
    return "".join(s) if isinstance(s, list) else s


def _code_cell(code, cid):
    return {"cell_type": "code", "execution_count": None, "id": cid, "metadata": {}, "outputs": [],
            "source": code}


def _released():
    return release_notebook(read_notebook(SOURCE))


def _submission(solutions=None, extra=(), edit=None):
    """A student notebook: the release with solution cells filled in.

    ``solutions`` maps solution grade_id -> cell code (default: the released stub);
    ``extra`` is a list of (after_grade_id, code) cells added after that cell
    (``None``: at the start); ``edit(nb)`` may change the notebook further.
    """
    nb = _released()
    for cell in nb["cells"]:
        if solutions and _gid(cell) in solutions:
            cell["source"] = solutions[_gid(cell)]
    for k, (after, code) in enumerate(extra):
        new = _code_cell(code, f"student-extra-{k}")
        if after is None:
            nb["cells"].insert(0, new)
        else:
            pos = next(i for i, c in enumerate(nb["cells"]) if _gid(c) == after)
            nb["cells"].insert(pos + 1, new)
    if edit is not None:
        edit(nb)
    return json.dumps(nb, indent=1).encode()


def _delete_tests(nb):
    nb["cells"] = [c for c in nb["cells"] if not (_gid(c) or "").startswith("test_") and _gid(c) != "setup"]


def _edit_tests(nb):
    for c in nb["cells"]:
        gid = _gid(c) or ""
        if gid.startswith("test_"):
            c["source"] = "pass  # all tests passed"
        if gid == "test_dsquare":
            c["metadata"] = {}          # metadata stripped too: matched by cell id
        if gid == "test_numerical_derivative":
            c["metadata"] = {}
            c["id"] = "my-own-cell"     # neither grade_id nor id: the pristine test is put back


FORGE = '''import os
print("All tests passed")
print("Score: 4/4")
for fd in range(3, 64):
    for seq in range(16):
        try:
            os.write(fd, b"\\n" + repr(("done", seq, "0" * 32, True, "", None, 1)).encode() + b"\\n")
        except OSError:
            pass'''

PATCH_NUMPY = '''import numpy
import numpy.testing
numpy.allclose = lambda *a, **k: True
np.allclose = lambda *a, **k: True
numpy.testing.assert_allclose = lambda *a, **k: None'''

PATCH_BUILTINS = '''import builtins
builtins.abs = lambda x: 0.0
builtins.float = lambda x=0: 0.0
abs = lambda x: 0.0
float = lambda x=0: 0.0'''

REDEFINE_HELPERS = '''def check_close(*args, **kwargs):
    return None'''

SYS_MODULES = '''import sys, types
fake = types.ModuleType("numpy")
fake.allclose = lambda *a, **k: True
fake.sin = lambda x: 0.0
fake.cos = lambda x: 0.0
sys.modules["numpy"] = fake'''

CODE_PATCH = '''check_close.__code__ = (lambda actual, expected, tol=1e-8: None).__code__
np.allclose._implementation.__code__ = (lambda a, b, rtol=1e-05, atol=1e-08, equal_nan=False: True).__code__'''

PATCH_DURING_TEST = '''def numerical_derivative(f, x, h=1e-6):
    import numpy
    numpy.allclose = lambda *a, **k: True
    return 0.0'''

STDOUT = '''import io, sys
sys.stdout = io.StringIO()
sys.stderr = sys.stdout
print("All tests passed")
sys.__stdout__.write("All tests passed\\n")'''

INFINITE = "def dsquare(x):\n    while True:\n        pass"

# Doubling allocations: reaches the address-space limit in a few steps (fast and deterministic
# even on a loaded machine, unlike filling the memory byte by byte).
MEMORY_BOMB = '''def numerical_derivative(f, x, h=1e-6):
    hog = []
    n = 1 << 20
    while True:
        hog.append(np.empty(n))
        n *= 2'''

OS_EXIT_CELL = DSQUARE + "\n\nimport os\nos._exit(3)"

KILL_KERNEL = '''def dsquare(x):
    import os, signal
    os.kill(os.getpid(), signal.SIGKILL)'''

KILL_PARENT = '''import os, signal
os.kill(os.getppid(), signal.SIGKILL)'''

SYS_EXIT = '''import sys
sys.exit("bye")'''

THREAD = '''import threading, time, numpy
def _repatch():
    while True:
        try:
            numpy.__dict__["allclose"] = lambda *a, **k: True
        except Exception:
            pass
        time.sleep(0.001)
threading.Thread(target=_repatch, daemon=True).start()
time.sleep(0.05)'''

MAGICS = "%matplotlib inline\n!echo hello\nx = 1"

# name -> (notebook bytes, expected score, expected per-test statuses or None)
CASES = {
    "solution": (_submission(GOOD), 4, ("pass", "pass", "pass")),
    "stub": (_submission(), 0, ("fail", "fail", "fail")),
    "source_itself": (SOURCE.read_bytes(), 4, ("pass", "pass", "pass")),
    "prints_all_passed": (_submission(extra=[(None, FORGE), ("test_square", FORGE)]), 0, ("fail", "fail", "fail")),
    "patch_numpy": (_submission({**GOOD, "dsquare": DSQUARE_BAD, "numerical_derivative": NUMDIFF_BAD},
                                extra=[("setup", PATCH_NUMPY), ("numerical_derivative", PATCH_NUMPY)]),
                    1, ("pass", "fail", "fail")),
    "patch_builtins": (_submission({**GOOD, "dsquare": DSQUARE_BAD}, extra=[("setup", PATCH_BUILTINS)]),
                       2, ("pass", "fail", "pass")),
    "redefine_helpers": (_submission({**GOOD, "square": SQUARE_BAD},
                                     extra=[("setup", REDEFINE_HELPERS), ("square", REDEFINE_HELPERS)]),
                         3, ("fail", "pass", "pass")),
    "sys_modules": (_submission({**GOOD, "numerical_derivative": NUMDIFF_BAD}, extra=[("dsquare", SYS_MODULES)]),
                    3, ("pass", "pass", "fail")),
    "code_patch": (_submission({**GOOD, "square": SQUARE_BAD, "numerical_derivative": NUMDIFF_BAD},
                               extra=[("setup", CODE_PATCH)]),
                   2, ("fail", "pass", "fail")),
    "patch_during_test": (_submission({**GOOD, "numerical_derivative": PATCH_DURING_TEST}), 3, ("pass", "pass", "fail")),
    "stdout_patch": (_submission(GOOD, extra=[("setup", STDOUT)]), 4, ("pass", "pass", "pass")),
    "infinite_loop": (_submission({**GOOD, "dsquare": INFINITE}), 2, ("pass", "timeout", "pass")),
    "memory_bomb": (_submission({**GOOD, "numerical_derivative": MEMORY_BOMB}), 3, ("pass", "pass", "fail")),
    "os_exit_in_solution_cell": (_submission({**GOOD, "dsquare": OS_EXIT_CELL}), 2, ("pass", "fail", "pass")),
    "kill_kernel": (_submission({**GOOD, "dsquare": KILL_KERNEL}), 2, ("pass", "crash", "pass")),
    "kill_parent": (_submission(GOOD, extra=[(None, KILL_PARENT), ("dsquare", KILL_PARENT)]), 4, ("pass", "pass", "pass")),
    "sys_exit": (_submission(GOOD, extra=[(None, SYS_EXIT), ("square", "exit()"), ("dsquare", "raise SystemExit(1)")]),
                 4, ("pass", "pass", "pass")),
    "deleted_tests": (_submission(GOOD, edit=_delete_tests), 4, ("pass", "pass", "pass")),
    "edited_tests": (_submission(edit=_edit_tests), 0, ("fail", "fail", "fail")),
    "background_thread": (_submission({**GOOD, "numerical_derivative": NUMDIFF_BAD},
                                      extra=[("numerical_derivative", THREAD)]), 3, None),
    "magics": (_submission(GOOD, extra=[("setup", MAGICS)]), 4, ("pass", "pass", "pass")),
    "invalid_json": (b'{"cells": [{"cell_type": "code", "source": "', 0, None),
    "not_a_notebook": (b"[1, 2, 3]\n", 0, None),
    "empty_file": (b"", 0, None),
}
UNREADABLE = {"invalid_json", "not_a_notebook", "empty_file"}


def _sha(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """All cases graded in one CLI batch (2 jobs), plus a second API run to check determinism."""
    root = tmp_path_factory.mktemp("grading")
    (root / "source").mkdir()
    source = root / "source" / "square.ipynb"
    shutil.copy(SOURCE, source)
    subs = root / "submitted"
    subs.mkdir()
    paths = {}
    for name, (data, _score, _statuses) in CASES.items():
        p = subs / f"{name}.ipynb"
        p.write_bytes(data)
        paths[name] = str(p)
    missing = str(subs / "does_not_exist.ipynb")
    before = {n: _sha(p) for n, p in paths.items()}
    report_dir = root / "report"
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "adteach", "grade", str(source), *paths.values(),
         "--report", str(report_dir), "--jobs", "2", "--timeout", str(TIMEOUT),
         "--memory-mb", str(MEMORY_MB)],
        capture_output=True, text=True, cwd=root, timeout=300,
    )
    elapsed = time.monotonic() - t0
    assert proc.returncode == 1, proc.stderr  # 1: some submissions are unreadable
    report = json.loads((report_dir / "grades.json").read_text())
    t1 = time.monotonic()
    again = grade(source, list(paths.values()), root / "report2", jobs=2,
                  timeout=TIMEOUT, memory_mb=MEMORY_MB)
    for r in (report, again):  # keyed by student (the file's stem here); the tests below look up by path
        assert list(r["submissions"]) == list(paths)
        r["submissions"] = {res["path"]: res for res in r["submissions"].values()}
    elapsed_again = time.monotonic() - t1
    after = {n: _sha(p) for n, p in paths.items()}
    print(f"\nbatch of {len(paths) + 1} submissions: CLI {elapsed:.1f} s, API rerun {elapsed_again:.1f} s")
    return {"report": report, "again": again, "paths": paths, "missing": missing, "before": before,
            "after": after, "report_dir": report_dir, "stdout": proc.stdout, "stderr": proc.stderr,
            "root": root}


@pytest.mark.parametrize("name", list(CASES))
def test_case_scores(batch, name):
    res = batch["report"]["submissions"][batch["paths"][name]]
    _data, score, statuses = CASES[name]
    assert res["max_score"] == 4
    assert res["score"] == score, json.dumps(res, indent=1)
    if name in UNREADABLE:
        assert res["status"] == "unreadable" and res["error"]
    else:
        assert res["status"] == "graded", res
    if statuses is not None:
        assert tuple(t["status"] for t in res["tests"]) == statuses, json.dumps(res["tests"], indent=1)
    assert [t["grade_id"] for t in res["tests"]] == list(TESTS)


def test_feedback_texts(batch):
    sub = batch["report"]["submissions"]
    p = batch["paths"]
    stub = sub[p["stub"]]["tests"]
    assert all(t["feedback"] == "NotImplementedError" for t in stub)
    dsq = sub[p["patch_builtins"]]["tests"][1]
    assert dsq["feedback"] == "AssertionError: dsquare(3.0) should be 6.0" and dsq["line"] == 1
    sq = sub[p["redefine_helpers"]]["tests"][0]
    assert sq["feedback"].startswith("AssertionError: got 3.0, expected 9.0")
    assert "timed out after 2 s" in sub[p["infinite_loop"]]["tests"][1]["feedback"]
    assert "MemoryError" in sub[p["memory_bomb"]]["tests"][2]["feedback"]
    assert "SIGKILL" in sub[p["kill_kernel"]]["tests"][1]["feedback"]
    # the student's process patched its own numpy: the judge's comparison is untouched
    assert sub[p["patch_during_test"]]["tests"][2]["feedback"] == \
        "AssertionError: the derivative of t**2 at 2.0 should be about 4"
    nd = sub[p["os_exit_in_solution_cell"]]
    assert nd["tests"][1]["feedback"] == "NameError: name 'dsquare' is not defined"
    assert any(e["status"] == "crash" and "exited with status 3" in e["message"] for e in nd["cell_errors"])


def test_flags_for_review(batch):
    sub = batch["report"]["submissions"]
    p = batch["paths"]
    assert sub[p["solution"]]["flags"] == []
    assert any("broke the protocol" in f for f in sub[p["prints_all_passed"]]["flags"])
    assert any("monkeypatching" in f for f in sub[p["patch_numpy"]]["flags"])
    assert any("process" in f or "signals" in f for f in sub[p["kill_parent"]]["flags"])
    assert any("redefines 'check_close'" in f for f in sub[p["redefine_helpers"]]["flags"])


def test_missing_file_is_unreadable(batch):
    res = grade_submission(SOURCE, batch["missing"], timeout=TIMEOUT, memory_mb=MEMORY_MB)
    assert res["status"] == "unreadable" and res["score"] == 0


def test_submissions_never_modified(batch):
    assert batch["before"] == batch["after"]
    for name, p in batch["paths"].items():
        assert batch["report"]["submissions"][p]["sha256"] in (None, batch["before"][name])


def test_regrading_gives_same_grades(batch):
    first = batch["report"]["submissions"]
    again = batch["again"]["submissions"]
    assert list(first) == list(again)
    assert first == again  # scores, statuses, feedback, flags: the report has no volatile fields
    for path in first:
        a, b = first[path], again[path]
        assert (a["status"], a["score"]) == (b["status"], b["score"]), path
        assert [(t["status"], t["feedback"]) for t in a["tests"]] == \
               [(t["status"], t["feedback"]) for t in b["tests"]], path


def test_report_files(batch):
    d = batch["report_dir"]
    assert sorted(os.listdir(d)) == ["feedback", "grades.csv", "grades.json"]  # no temp files left behind
    report = json.loads((d / "grades.json").read_text())
    assert report["max_score"] == 4 and [t["grade_id"] for t in report["tests"]] == list(TESTS)
    rows = list(csv.DictReader((d / "grades.csv").open()))
    assert [r["student"] for r in rows] == list(report["submissions"])
    assert [r["submission"] for r in rows] == [res["path"] for res in report["submissions"].values()]
    by_path = {r["submission"]: r for r in rows}
    sol = by_path[batch["paths"]["solution"]]
    assert (sol["status"], float(sol["score"]), float(sol["max_score"])) == ("graded", 4, 4)
    assert [float(sol[t]) for t in TESTS] == [1, 2, 1]
    assert by_path[batch["paths"]["invalid_json"]]["status"] == "unreadable"
    assert "4/4" in batch["stdout"]


def _students_started_since(ticks: int) -> list:
    """Processes running this checkout's student process started at or after ``ticks`` (since boot)."""
    from adteach.grading import judge
    out = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
                stat = Path(f"/proc/{pid}/stat").read_bytes()
            except OSError:
                continue
            if str(judge.STUDENT).encode() in cmd and int(stat[stat.rfind(b")") + 2:].split()[19]) >= ticks:
                out.append(pid)
    return out


def _ticks_now() -> int:
    return int(float(Path("/proc/uptime").read_text().split()[0]) * os.sysconf("SC_CLK_TCK")) - 1


def test_infinite_loop_costs_only_its_time_limit(tmp_path):
    sub = tmp_path / "loop.ipynb"
    sub.write_bytes(CASES["infinite_loop"][0])
    t0 = time.monotonic()
    ticks = _ticks_now()
    res = grade_submission(SOURCE, sub, timeout=1.0, memory_mb=MEMORY_MB)
    elapsed = time.monotonic() - t0
    assert res["score"] == 2 and res["tests"][1]["status"] == "timeout"
    # the looping process was killed with its box (as root too, where the switch to an unprivileged uid
    # clears the parent-death signal bwrap set: the sandbox sets it again)
    time.sleep(0.3)
    assert _students_started_since(ticks) == []
    # the limit is CPU time (a loaded machine stretches it in wall time); the loop cost only its cell
    assert "timed out after 1 s of CPU time" in res["tests"][1]["feedback"]
    assert elapsed < 120, elapsed


TALKER = """
def numerical_derivative(f, x, h=1e-6):
    import time
    while True:          # never silent: it calls the test's function (a request to the judge) every 20 ms
        f(x)
        time.sleep(0.02)
"""


def test_a_process_that_keeps_talking_is_stopped_by_the_wall_clock(tmp_path, monkeypatch):
    """The limits are checked on every read of the channel, not only when it falls silent."""
    monkeypatch.setattr(judge, "WALL_FLOOR", 4.0)
    sub = tmp_path / "talker.ipynb"
    sub.write_bytes(_submission({**GOOD, "numerical_derivative": TALKER}))
    t0 = time.monotonic()
    res = grade_submission(SOURCE, sub, timeout=0.5, memory_mb=MEMORY_MB)
    assert time.monotonic() - t0 < 60
    assert res["score"] == 3, res
    assert res["tests"][2]["status"] == "timeout"
    assert "timed out after 4 s (wall clock)" in res["tests"][2]["feedback"]


# -- release ----------------------------------------------------------------------------------

def test_release_has_no_solution_or_hidden_tests():
    source = read_notebook(SOURCE)
    released = _released()
    assert check_release(released, source) == []
    text = json.dumps(released)
    for secret in ("np.multiply(x, x)", "2.0 * np.asarray(x, dtype=float)", "(f(x + h) - f(x - h))",
                   "square(-1.5)", "dsquare(-2.5)", "np.sin", "BEGIN", "END SOLUTION", "HIDDEN"):
        assert secret not in text, secret
    cells = {_gid(c): c for c in released["cells"]}
    assert _src(cells["square"]) == ('def square(x):\n    """x squared, elementwise."""\n'
                                     "    # YOUR CODE HERE\n    raise NotImplementedError()")
    for gid in TESTS + ("setup",):
        assert cells[gid]["metadata"]["editable"] is False
        assert cells[gid]["metadata"]["deletable"] is False
    assert cells["square"]["metadata"]["deletable"] is False
    assert "editable" not in cells["square"]["metadata"]
    assert _src(cells["test_square"]).startswith("check_close(square(3.0), 9.0)")
    assert [c["id"] for c in released["cells"]] == [c["id"] for c in source["cells"]]
    assert all(c.get("outputs", []) == [] for c in released["cells"])


def test_check_release_detects_leaks():
    source = read_notebook(SOURCE)
    problems = check_release(copy.deepcopy(source), source)
    assert any("solution line" in p for p in problems)
    assert any("hidden test line" in p for p in problems)
    leaky = _released()
    leaky["cells"][3]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "return np.multiply(x, x)\n"}]
    assert any("np.multiply" in p for p in check_release(leaky, source))


def test_released_notebook_is_valid_nbformat():
    nbformat = pytest.importorskip("nbformat")
    nbformat.validate(nbformat.reads(json.dumps(_released()), as_version=4))


def test_release_cli_default_paths_and_check(tmp_path):
    (tmp_path / "exercises" / "source").mkdir(parents=True)
    shutil.copy(SOURCE, tmp_path / "exercises" / "source" / "square.ipynb")
    run = lambda *a: subprocess.run([sys.executable, "-m", "adteach", "release", *a],  # noqa: E731
                                    capture_output=True, text=True, cwd=tmp_path)
    assert run("--check").returncode == 1
    proc = run()
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "exercises" / "square.ipynb"
    assert check_release(read_notebook(out), read_notebook(SOURCE)) == []
    assert run("--check").returncode == 0
    first = out.read_bytes()
    assert run().returncode == 0 and out.read_bytes() == first  # idempotent
    # the released stub scores zero
    res = grade_submission(SOURCE, out, timeout=TIMEOUT, memory_mb=MEMORY_MB)
    assert res["status"] == "graded" and res["score"] == 0


def test_release_rejects_invalid_sources(tmp_path):
    nb = read_notebook(SOURCE)
    nb["cells"][3]["source"] += "\n### BEGIN SOLUTION"      # unbalanced delimiters
    bad = tmp_path / "source" / "bad.ipynb"
    bad.parent.mkdir()
    bad.write_text(json.dumps(nb))
    with pytest.raises(NotebookError):
        release([bad])
    proc = subprocess.run([sys.executable, "-m", "adteach", "grade", str(bad), str(SOURCE), "--report",
                           str(tmp_path / "r")], capture_output=True, text=True)
    assert proc.returncode == 2 and "invalid nbgrader source" in proc.stderr


def test_schedule_puts_deleted_cells_back_in_order():
    ex = load_exercise(SOURCE)
    nb = json.loads(CASES["deleted_tests"][0])
    labels = [it.label for it in build_schedule(ex, nb)]
    assert labels == ["read-only cell setup", "cell 2 (square)", "test test_square", "cell 4 (dsquare)",
                      "test test_dsquare", "cell 6 (numerical_derivative)", "test test_numerical_derivative"]
    kinds = [it.kind for it in build_schedule(ex, json.loads(CASES["edited_tests"][0]))]
    assert kinds.count("test") == 3


def test_python_dash_m_help():
    proc = subprocess.run([sys.executable, "-m", "adteach", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "release" in proc.stdout and "grade" in proc.stdout


# -- the sandbox ------------------------------------------------------------------------------

def _add_exercise():
    """A one-test source notebook."""
    def cell(cid, src, **nbg):
        meta = {"nbgrader": {"grade": False, "locked": False, "schema_version": 3, "solution": False,
                             "task": False, "grade_id": cid, **nbg}}
        return {"cell_type": "code", "execution_count": None, "id": cid, "metadata": meta, "outputs": [],
                "source": src}
    return {"cells": [
        cell("add", "def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION", solution=True),
        cell("test_add", "assert add(2, 3) == 5\n### BEGIN HIDDEN TESTS\nassert add(-1, 1) == 0\n"
                         "### END HIDDEN TESTS", grade=True, points=1),
    ], "metadata": {"kernelspec": {"language": "python", "name": "python3", "display_name": "Python 3"}},
        "nbformat": 4, "nbformat_minor": 5}


def _source_reader(tmp_path):
    source = tmp_path / "add.ipynb"
    source.write_text(json.dumps(_add_exercise()))
    cheat = ("import json\n"
             f"src = json.load(open({str(source)!r}))\n"
             "for c in src['cells']:\n"
             "    if c['metadata']['nbgrader']['solution']:\n"
             "        exec(''.join(c['source']))\n")
    released = release_notebook(read_notebook(source))
    released["cells"].insert(1, _code_cell(cheat, "cheat"))
    sub = tmp_path / "sub.ipynb"
    sub.write_text(json.dumps(released))
    return source, sub


def test_sandbox_keeps_the_source_out_of_reach(tmp_path):
    source, sub = _source_reader(tmp_path)
    # Without the sandbox, the code reads the solutions from the source notebook ...
    assert grade_submission(source, sub, timeout=TIMEOUT, sandboxed=False)["score"] == 1
    # ... in it, the file does not exist and the test fails as it should.
    res = grade_submission(source, sub, timeout=TIMEOUT)
    assert res["status"] == "graded" and res["score"] == 0, res
    assert any("FileNotFoundError" in e["message"] for e in res["cell_errors"]), res


def test_grade_refuses_without_bwrap_unless_no_sandbox(tmp_path):
    source, sub = _source_reader(tmp_path)
    env = {**os.environ, "PATH": str(tmp_path / "empty-bin")}  # no bwrap on PATH
    run = lambda *a: subprocess.run([sys.executable, "-m", "adteach", "grade", str(source), str(sub),  # noqa: E731
                                     "--report", str(tmp_path / "r"), "-q", *a],
                                    capture_output=True, text=True, env=env, timeout=120)
    refused = run()
    assert refused.returncode == 2
    assert "bubblewrap" in refused.stderr and "--no-sandbox" in refused.stderr
    assert not (tmp_path / "r" / "grades.json").exists()
    unboxed = run("--no-sandbox")
    assert unboxed.returncode == 0, unboxed.stderr
    assert "student code runs with the grader's rights" in unboxed.stderr
    assert json.loads((tmp_path / "r" / "grades.json").read_text())["settings"]["sandbox"] is False


def test_scan_ignores_local_variables_but_not_globals():
    from adteach.grading.scan import scan_code
    code = ("def init_params(n):\n    params = [0.0] * n\n    return params\n"
            "def sneaky():\n    global check_close\n    check_close = lambda *a: None\n"
            "params = None\n")
    found = [msg for _, msg in scan_code(code, ["numpy"], {"params", "check_close"})]
    assert sum("redefines 'params'" in m for m in found) == 1  # the module-level one only
    assert any("redefines 'check_close'" in m for m in found)


def test_wire_keeps_every_array_shape():
    """Arrays cross the judge's channel with their shape: 0-d, transposed (non-contiguous), empty, integer."""
    import numpy as np
    from adteach.grading import wire
    values = [1.0, np.array(0.8), np.arange(6.0).reshape(2, 3).T, np.zeros((0, 2)), np.array([1, 2], dtype=np.int32)]
    back = wire.decode(wire.encode(values, wire.Refs("s", lambda *a: None)), wire.Refs("j", lambda *a: None))
    assert back[0] == 1.0
    for got, sent in zip(back[1:], values[1:]):
        assert type(got) is np.ndarray and got.shape == sent.shape and got.dtype == sent.dtype
        assert np.array_equal(got, sent)


PLANT = ("import builtins, os, sys\n"
         "builtins.PLANTED = True\n"
         "sys.modules['planted_by_another'] = sys\n"
         "for d in ('/tmp', os.path.expanduser('~'), os.getcwd()):\n"
         "    open(os.path.join(d, 'planted.txt'), 'w').write('x')\n")
SEE_PLANTED = ("import builtins, os, sys\n"
               "LEAKED = (hasattr(builtins, 'PLANTED') or 'planted_by_another' in sys.modules\n"
               "          or any(os.path.exists(os.path.join(d, 'planted.txt'))\n"
               "                 for d in ('/tmp', os.path.expanduser('~'), os.getcwd())))\n")


def _student_processes():
    """This test process's descendants that run the student process (other sessions may grade too)."""
    parent, cmd = {}, {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                stat = Path(f"/proc/{pid}/stat").read_bytes()
                cmd[int(pid)] = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            parent[int(pid)] = int(stat[stat.rfind(b")") + 2:].split()[1])
    out = []
    for pid, line in cmd.items():
        p = pid
        while p in parent and p != os.getpid():
            p = parent[p]
        if p == os.getpid() and b"_student.py" in line:
            out.append(pid)
    return out


def test_spare_student_processes_serve_one_submission_each(tmp_path):
    """The next submission's student process is started while one is graded: it is fresh (the first
    submission's builtins, modules and files are not in it: the oracle's square is right only if they
    were), serves one submission only, and no student process is left when the batch returns."""
    plant = tmp_path / "plant.ipynb"
    plant.write_bytes(_submission(GOOD, extra=[(None, PLANT)]))
    paths = [plant]
    for k in range(2):
        p = tmp_path / f"oracle{k}.ipynb"
        p.write_bytes(_submission({**GOOD, "square": "def square(x):\n    return x * x if LEAKED else x"},
                                  extra=[(None, SEE_PLANTED)]))
        paths.append(p)
    before = _student_processes()
    report = grade(SOURCE, paths, tmp_path / "report", jobs=1, timeout=TIMEOUT, memory_mb=MEMORY_MB)
    scores = {k: r["score"] for k, r in report["submissions"].items()}
    assert scores == {"plant": 4.0, "oracle0": 3.0, "oracle1": 3.0}, report["submissions"]
    assert _student_processes() == before


BIG_EXPONENT = r'''def op_gradient_check(make_op, values, h=1e-6):
    op = make_op()                    # the test's operation: an object of the judge
    try:
        op.e                          # only Power has an exponent
    except AttributeError:
        return [(1.0, 1.0), (1.0, 1.0)]

    class Leaf:                       # read by the judge's Power.forward: x.value ** self.e
        value = 3
        name = "v"

    op.e = 3 * 10 ** 6                # as an int, 3 ** e would be one C operation of the judge holding the GIL
    op(Leaf())
    raise ValueError("the judge computed the big power")
'''


def test_integers_written_into_the_tests_objects_cannot_stall_the_judge(tmp_path):
    """The red team's GIL freeze: a huge int exponent written into the test's Power object made the
    test's own code compute 3 ** e for hours in the judge. Written integers above 2**16 arrive as floats,
    so the test's arithmetic overflows at once (and the item fails, as the control's does)."""
    source = Path(__file__).parent.parent / "exercises" / "source" / "04_find_the_bug.ipynb"
    nb = release_notebook(read_notebook(source))
    for cell in nb["cells"]:
        if _gid(cell) == "ex04-op-check":
            cell["source"] = BIG_EXPONENT
    sub = tmp_path / "big_exponent.ipynb"
    sub.write_text(json.dumps(nb))
    res = grade_submission(source, sub, timeout=5.0, memory_mb=MEMORY_MB)
    test = next(t for t in res["tests"] if t["grade_id"] == "ex04-test-op-check")
    assert test["status"] == "fail", test
    assert "OverflowError" in test["feedback"] and "computed the big power" not in test["feedback"], test
