"""Nothing a submission starts outlives its grading, and one box never shares a budget with another.

Real submissions of the toy exercise (tests/grading_data/square.ipynb: square 1 point, dsquare 2,
numerical_derivative 1) graded with the real bubblewrap sandbox, each beside an honest control (the
same notebook without the attack: square wrong, 3 of 4). The attacks are the red team's
(REDTEAM.md "the box outlives its grading", "CPU limits do not count children"):

* the worker replaces ``os._exit`` so that it never ends when the judge says "exit" (as root, the
  sandbox's PID 1 switches uid, which cleared bwrap's parent-death signal, and PID 1 runs in a session
  of its own: killing bwrap's process group left the box running after the grader had exited);
* the same after PTRACE_ATTACH to PID 1 (which stops it);
* 80 sleeping children holding the box's uid (RLIMIT_NPROC counts a uid's processes: with uids handed
  out in the same order in every run, they made the next run's box unable to fork);
* CPU burnt in a forked child (RLIMIT_CPU and the judge's CPU reading counted the worker only).

Each attack's ``square`` raises with its uid, so the test knows which uid must have no process left.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from adteach.grading import read_notebook, release_notebook, sandbox

DATA = Path(__file__).parent / "grading_data"
SOURCE = DATA / "square.ipynb"

pytestmark = pytest.mark.skipif(sandbox.bwrap_path() is None, reason="needs bubblewrap (apt-get install bubblewrap)")

GOOD = {
    "dsquare": "def dsquare(x):\n    return 2.0 * np.asarray(x, dtype=float)",
    "numerical_derivative": "def numerical_derivative(f, x, h=1e-6):\n    return (f(x + h) - f(x - h)) / (2 * h)",
}
SQUARE_BAD = "def square(x):\n    return x"
SQUARE_RIGHT = "def square(x):\n    return x * x"
# wrong like the control's, and says which uid the box ran as
SQUARE_UID = "def square(x):\n    import os\n    raise ValueError(f'uid={os.getuid()}')"


def _gid(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def notebook(square=SQUARE_BAD, extra=(), solutions=None) -> dict:
    nb = release_notebook(read_notebook(SOURCE))
    sols = {"square": square, **GOOD, **(solutions or {})}
    for cell in nb["cells"]:
        if _gid(cell) in sols:
            cell["source"] = sols[_gid(cell)]
    for k, code in enumerate(extra):
        nb["cells"].insert(0, {"cell_type": "code", "execution_count": None, "id": f"attack-{k}", "metadata": {},
                               "outputs": [], "source": code})
    return nb


MARK = f"adtm{random.randrange(10 ** 6):06d}"   # the attackers' process name (comm), unique to this run

# the worker names itself, then never ends: the runner's os._exit (on "exit" or EOF) sleeps forever
NAME_AND_STAY = f'''
import ctypes, os, time
ctypes.CDLL(None).prctl(15, b"{MARK}", 0, 0, 0)          # PR_SET_NAME: findable in /proc/*/comm
os._exit = lambda code: time.sleep(10 ** 6)
'''
PTRACE_PID1 = NAME_AND_STAY + '''
libc = ctypes.CDLL(None, use_errno=True)
PTRACE_ATTACH = 16
print("ptrace", libc.ptrace(PTRACE_ATTACH, 1, 0, 0))       # stops PID 1, the waiter
'''
HOLD_UID = NAME_AND_STAY + '''
held = 0
for _ in range(80):                  # fill RLIMIT_NPROC of this uid with sleepers, for the next run
    try:
        if os.fork() == 0:
            time.sleep(10 ** 6)
            os._exit(0)
        held += 1
    except OSError:
        break
'''


def _grade(root: Path, subs: dict, report: str, *extra, timeout=600) -> tuple[subprocess.CompletedProcess, dict]:
    folder = root / f"in-{report}"
    folder.mkdir()
    paths = []
    for name, nb in subs.items():
        p = folder / f"{name}.ipynb"
        p.write_text(json.dumps(nb))
        paths.append(str(p))
    proc = subprocess.run([sys.executable, "-m", "adteach", "grade", str(SOURCE), *paths, "--report",
                           str(root / report), "--jobs", "2", "--timeout", "3", *extra],
                          capture_output=True, text=True, cwd=root, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc, json.loads((root / report / "grades.json").read_text())


def _running(pid) -> bool:
    """Alive and not a zombie (a zombie has exited; only its parent has not collected it yet)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2:].split()[0] != "Z"


def _comm_alive(mark=MARK) -> list:
    alive = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if Path(f"/proc/{pid}/comm").read_text().strip() == mark and _running(pid):
                    alive.append(int(pid))
            except OSError:
                pass
    return alive


def _uid_alive(uid: int, zombies=False) -> list:
    return [pid for pid in map(int, filter(str.isdigit, os.listdir("/proc")))
            if uid in sandbox._uids_of(pid) and (zombies or _running(pid))]


def _box_uid(result) -> int | None:
    fb = result["tests"][0]["feedback"]
    return int(fb.split("uid=")[1].split()[0].strip("'\"")) if "uid=" in fb else None


def test_no_box_outlives_its_grading_and_the_next_run_is_not_disturbed(tmp_path):
    subs = {"control": notebook(),
            "stay": notebook(SQUARE_UID, extra=[NAME_AND_STAY]),
            "ptrace_pid1": notebook(SQUARE_UID, extra=[PTRACE_PID1]),
            "hold_uid": notebook(SQUARE_UID, extra=[HOLD_UID])}
    _, report = _grade(tmp_path, subs, "r1")
    res = report["submissions"]
    assert res["control"]["score"] == 3, res["control"]
    for name in ("stay", "ptrace_pid1", "hold_uid"):
        assert res[name]["status"] == "graded" and res[name]["score"] == 3, (name, res[name])
    # the grader has exited: every process of every box is gone (the attackers' name and their uids)
    assert _comm_alive() == []
    if os.geteuid() == 0:
        uids = {name: _box_uid(res[name]) for name in ("stay", "ptrace_pid1", "hold_uid")}
        assert all(uids.values()) and len(set(uids.values())) == 3, uids   # a uid of its own per box
        for name, uid in uids.items():
            assert _uid_alive(uid, zombies=True) == [], (name, uid)
    # the next run: an honest classmate is graded in full
    _, report2 = _grade(tmp_path, {"honest_victim": notebook(SQUARE_RIGHT)}, "r2")
    assert report2["submissions"]["honest_victim"]["score"] == 4, report2["submissions"]["honest_victim"]


def _grading_a_sleeper(tmp_path):
    """`adteach grade` in a process of its own, once the box of its one submission (a cell that
    sleeps for good) is running."""
    sleeper = notebook(extra=[NAME_AND_STAY + "time.sleep(10 ** 6)\n"])
    (tmp_path / "sleeper.ipynb").write_text(json.dumps(sleeper))
    grader = subprocess.Popen([sys.executable, "-m", "adteach", "grade", str(SOURCE), str(tmp_path / "sleeper.ipynb"),
                               "--report", str(tmp_path / "r"), "--timeout", "3"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
    deadline = time.monotonic() + 60
    while not _comm_alive() and time.monotonic() < deadline and grader.poll() is None:
        time.sleep(0.1)
    if not _comm_alive():
        grader.kill()
        grader.wait()
        pytest.fail("the sleeper never started")
    return grader


@pytest.mark.skipif(os.geteuid() != 0, reason="uids are switched only when the grader is root")
def test_a_box_left_by_a_killed_grader_dies_when_the_next_grading_starts(tmp_path):
    """SIGKILL to the grader mid-batch (no cleanup runs in it). As root, the box's PID 1 runs as
    another uid, so the dying bwrap may not send it the parent-death signal: the box lives on until
    the next `adteach grade` starts, which kills it (and grades its own submissions in full)."""
    grader = _grading_a_sleeper(tmp_path)
    try:
        grader.send_signal(signal.SIGKILL)
        grader.wait(timeout=10)
        _, report = _grade(tmp_path, {"honest": notebook(SQUARE_RIGHT)}, "r2")
        assert report["submissions"]["honest"]["score"] == 4
        assert _comm_alive() == []
    finally:
        if grader.poll() is None:
            grader.kill()
            grader.wait()
        for pid in _comm_alive():
            os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(os.geteuid() != 0, reason="uids are switched only when the grader is root")
def test_a_grader_ended_by_sigterm_ends_its_boxes(tmp_path):
    """SIGTERM (as `timeout` sends) mid-batch: the grader kills its boxes before it exits."""
    grader = _grading_a_sleeper(tmp_path)
    try:
        grader.send_signal(signal.SIGTERM)
        grader.wait(timeout=30)
        assert _comm_alive() == []
    finally:
        if grader.poll() is None:
            grader.kill()
            grader.wait()
        for pid in _comm_alive():
            os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(os.geteuid() != 0, reason="uids are switched only when the grader is root")
def test_a_uid_that_a_live_process_holds_is_never_handed_out():
    uid = sandbox._next_uid() + 1        # the next one in order
    child = subprocess.Popen([sys.executable, "-c", f"import os, time; os.setuid({uid}); time.sleep(60)"])
    try:
        deadline = time.monotonic() + 10
        while uid not in sandbox._uids_of(child.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert uid in sandbox._uids_of(child.pid)
        got = sandbox._next_uid()
        assert got != uid and got not in sandbox._uids_in_use()
    finally:
        child.kill()
        child.wait()


def test_box_processes_share_one_cpu_budget(tmp_path):
    """CPU burnt in a child (or a thread) would have a budget of its own: the box allows neither."""
    burn = "BURN = 10\n"
    in_child = burn + '''def square(x):
    import os
    pid = os.fork()
    if pid == 0:
        import time
        t = time.process_time()
        while time.process_time() - t < BURN:
            pass
        os._exit(0)
    os.waitpid(pid, 0)
    return x * x
'''
    in_thread = burn + '''def square(x):
    import threading, time
    def spin():
        t = time.process_time()
        while time.process_time() - t < BURN:
            pass
    th = threading.Thread(target=spin)
    th.start()
    th.join()
    return x * x
'''
    in_self = burn + '''def square(x):
    import time
    t = time.process_time()
    while time.process_time() - t < BURN:
        pass
    return x * x
'''
    _, report = _grade(tmp_path, {"control": notebook(), "in_child": notebook(in_child),
                                  "in_thread": notebook(in_thread), "in_self": notebook(in_self)}, "r")
    res = report["submissions"]
    assert res["control"]["score"] == 3
    assert res["in_self"]["score"] == 3 and "CPU time" in res["in_self"]["tests"][0]["feedback"], res["in_self"]
    for name in ("in_child", "in_thread"):
        test = res[name]["tests"][0]
        assert res[name]["score"] == 3 and test["status"] != "pass", (name, test)
