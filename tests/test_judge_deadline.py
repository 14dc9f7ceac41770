"""A test cell that does unbounded work on a value student code returned cannot stall the batch.

The judge runs the pristine test cells on the values the student process returns. A test whose own
code computes with such a value (``for _ in range(square(3))``, ``sum(range(square(4)))``: the
latter is one C call that never releases the GIL) could run forever in the grader. ``adteach grade``
runs the judge's work in worker processes under a supervisor with a hard per-submission deadline:
the worker that overruns is killed with everything it started, the submission is reported as
"timeout", a fresh worker grades the rest, and the batch completes with its LMS files.

Real submissions of a variant of the toy exercise (tests/grading_data/square.ipynb, whose
``test_square`` also loops over ``square``'s return values), real bubblewrap, ``--jobs 2``.
"""

from __future__ import annotations

import copy
import importlib
import json
import os
import time
from pathlib import Path

import pytest

from adteach.grading import grade, read_notebook, release_notebook, sandbox
from adteach.grading import judge

pytestmark = pytest.mark.skipif(sandbox.bwrap_path() is None, reason="needs bubblewrap (apt-get install bubblewrap)")

grade_module = importlib.import_module("adteach.grading.grade")   # the package exports the function
SOURCE = Path(__file__).parent / "grading_data" / "square.ipynb"

# prepended to the pristine test_square: honest answers make these 9 iterations and a sum of 16 terms
UNBOUNDED = (
    "for _ in range(square(3)):      # a Python loop over the returned int\n"
    "    pass\n"
    "assert sum(range(square(4))) == 120    # one C call: holds the GIL while it runs\n"
)

GOOD = {
    "dsquare": "def dsquare(x):\n    return 2.0 * np.asarray(x, dtype=float)",
    "numerical_derivative": "def numerical_derivative(f, x, h=1e-6):\n    return (f(x + h) - f(x - h)) / (2 * h)",
}
SQUARE_RIGHT = "def square(x):\n    return x * x"
SQUARE_BAD = "def square(x):\n    return x"
# a huge int where the test computes with it (returned values are plain ints: not tamed)
SQUARE_LOOP = "def square(x):\n    return 10 ** 18 if type(x) is int and x == 3 else x * x"
SQUARE_GIL = "def square(x):\n    return 10 ** 18 if type(x) is int and x == 4 else x * x"


def _gid(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _source(tmp: Path) -> Path:
    nb = copy.deepcopy(read_notebook(SOURCE))
    for cell in nb["cells"]:
        if _gid(cell) == "test_square":
            src = cell["source"]
            cell["source"] = UNBOUNDED + ("".join(src) if isinstance(src, list) else src)
    path = tmp / "square_loops.ipynb"
    path.write_text(json.dumps(nb))
    return path


def _notebook(source: Path, square: str) -> dict:
    nb = release_notebook(read_notebook(source))
    sols = {"square": square, **GOOD}
    for cell in nb["cells"]:
        if _gid(cell) in sols:
            cell["source"] = sols[_gid(cell)]
    return nb


def _ticks_now() -> int:
    return int(float(Path("/proc/uptime").read_text().split()[0]) * os.sysconf("SC_CLK_TCK")) - 1


def _started_since(ticks: int) -> list:
    """Live processes of this test's gradings started at or after ``ticks``: boxes and student
    processes of this checkout (bwrap's argv, the box's PID 1 and the student's worker all name
    its _student.py; other checkouts may be grading on this machine meanwhile) and grading workers
    whose supervisor is this process."""
    student = str(judge.STUDENT).encode()
    ours = f"ADTEACH_GRADE_SUPERVISOR={os.getpid()}".encode()
    out = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
                stat = Path(f"/proc/{pid}/stat").read_bytes()
                worker = grade_module._WORKER_BOOT.encode() in cmd and \
                    ours in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            except OSError:
                continue
            fields = stat[stat.rfind(b")") + 2:].split()
            if fields[0] != b"Z" and int(fields[19]) >= ticks and (student in cmd or worker):
                out.append((pid, cmd[:200]))
    return out


def test_unbounded_test_code_on_returned_values_times_out_and_the_batch_completes(tmp_path):
    source = _source(tmp_path)
    subs = {"honest": SQUARE_RIGHT, "control": SQUARE_BAD, "loop": SQUARE_LOOP, "gil": SQUARE_GIL,
            "after": SQUARE_RIGHT}
    paths = []
    for name, square in subs.items():
        p = tmp_path / f"{name}.ipynb"
        p.write_text(json.dumps(_notebook(source, square)))
        paths.append(p)
    ticks = _ticks_now()
    t0 = time.monotonic()
    report = grade(source, paths, tmp_path / "report", jobs=2, timeout=3.0, memory_mb=512,
                   submission_timeout=8.0, lms=["canvas"])
    elapsed = time.monotonic() - t0
    res = report["submissions"]
    # the honest ones, graded beside the hostile ones, get their exact scores
    assert (res["honest"]["status"], res["honest"]["score"]) == ("graded", 4.0), res["honest"]
    assert (res["after"]["status"], res["after"]["score"]) == ("graded", 4.0), res["after"]
    assert (res["control"]["status"], res["control"]["score"]) == ("graded", 3.0), res["control"]
    assert [t["status"] for t in res["control"]["tests"]] == ["fail", "pass", "pass"]
    limit = grade_module._deadline(grade_module.load_exercise(source),
                                   grade_module._settings(3.0, 512, 8.0, None, check=False))
    for name in ("loop", "gil"):
        assert res[name]["status"] == "timeout", res[name]
        assert res[name]["error"].startswith(
            f"the test code did not finish within {limit:g} s on this submission's values"), res[name]
        assert res[name]["sha256"] is not None
        # no partial score: test_dsquare and test_numerical_derivative (which would pass) are not run
        assert res[name]["score"] == 0.0
        assert [t["status"] for t in res[name]["tests"]] == ["not run"] * 3
    # each hostile one cost its deadline, not the batch
    assert elapsed < 2 * limit + 60, elapsed
    on_disk = json.loads((tmp_path / "report" / "grades.json").read_text())
    assert on_disk["complete"] is True
    assert {k: v["status"] for k, v in on_disk["submissions"].items()} == {
        "honest": "graded", "control": "graded", "loop": "timeout", "gil": "timeout", "after": "graded"}
    canvas = (tmp_path / "report" / "canvas.csv").read_text()
    assert canvas.startswith("Student,ID,"), canvas    # written (its rows need a roster's LMS ids)
    assert sorted(report["lms_unmatched"]["canvas"]) == sorted(subs), report["lms_unmatched"]
    # no worker, no student process, no box is left
    assert _started_since(ticks) == []


def test_a_grading_worker_that_dies_costs_only_its_submission(tmp_path):
    """A worker killed mid-submission (here from outside, as the OOM killer would): that submission is
    reported as a grader error, its box dies, a fresh worker grades the rest, the batch completes."""
    import signal
    import threading
    mark = f"adtw{os.getpid() % 10 ** 6:06d}"
    slow = ("import ctypes, time\n"
            f"ctypes.CDLL(None).prctl(15, b'{mark}', 0, 0, 0)\n"      # PR_SET_NAME: findable in /proc/*/comm
            "time.sleep(8)\n")
    nb = _notebook(SOURCE, SQUARE_RIGHT)
    nb["cells"].insert(0, {"cell_type": "code", "execution_count": None, "id": "slow", "metadata": {},
                           "outputs": [], "source": slow})
    # graded beside the victim, in the other worker's first box, while the victim's worker is killed
    honest = _notebook(SOURCE, SQUARE_RIGHT)
    honest["cells"].insert(0, {"cell_type": "code", "execution_count": None, "id": "wait", "metadata": {},
                               "outputs": [], "source": "import time\ntime.sleep(3)\n"})
    paths = []
    for name, data in {"a_honest": honest, "b_victim": nb,
                       "c_control": _notebook(SOURCE, SQUARE_BAD), "d_after": _notebook(SOURCE, SQUARE_RIGHT)}.items():
        p = tmp_path / f"{name}.ipynb"
        p.write_text(json.dumps(data))
        paths.append(p)
    boot = grade_module._WORKER_BOOT.encode()
    killed = []

    def killer():
        t_end = time.monotonic() + 120
        while time.monotonic() < t_end and not killed:
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    if Path(f"/proc/{pid}/comm").read_text().strip() != mark:
                        continue
                except OSError:
                    continue
                p = int(pid)
                while p > 1:       # up from the student's worker to the grading worker above its box
                    p = sandbox._ppid(p) or 1
                    try:
                        if boot in Path(f"/proc/{p}/cmdline").read_bytes():
                            os.kill(p, signal.SIGKILL)
                            killed.append(p)
                            break
                    except OSError:
                        break
            time.sleep(0.05)

    ticks = _ticks_now()
    th = threading.Thread(target=killer)
    th.start()
    try:
        report = grade(SOURCE, paths, tmp_path / "report", jobs=2, timeout=3.0, memory_mb=512)
    finally:
        killed.append(None)
        th.join()
    res = report["submissions"]
    assert killed[0] is not None
    assert res["b_victim"]["status"] == "error", res["b_victim"]
    assert "the grading worker exited (status -9)" in res["b_victim"]["error"]
    assert {k: (v["status"], v["score"]) for k, v in res.items() if k != "b_victim"} == {
        "a_honest": ("graded", 4.0), "c_control": ("graded", 3.0), "d_after": ("graded", 4.0)}, res
    assert res["a_honest"]["cell_errors"] == [], res["a_honest"]     # its box was not touched
    assert json.loads((tmp_path / "report" / "grades.json").read_text())["complete"] is True
    assert _started_since(ticks) == []
    assert _comm_alive(mark) == []          # the victim's box died with its worker


def _comm_alive(mark: str) -> list:
    alive = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            if Path(f"/proc/{pid}/comm").read_text().strip() == mark and stat[stat.rfind(")") + 2] != "Z":
                alive.append(pid)
        except OSError:
            pass
    return alive
