"""Attacks on the grader, each a real submission notebook graded beside an honest control.

The toy exercise tests/grading_data/square.ipynb has three tests: square (1 point),
dsquare (2) and numerical_derivative (1). Every attack below is written into a
submission whose ``square`` is WRONG (it returns x): the honest control (the same
notebook without the attack) scores 3, and the attack must not score more. Where an
attack could only succeed by reading something it must not see, ``square`` becomes
correct exactly when the read succeeded (an oracle): a score of 3 then proves the read
failed.

All attacks and controls are graded in one batch (``--jobs 2``), as a class would be.
The README's threat model cites these tests by name.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from adteach.grading import grade, read_notebook, release_notebook

DATA = Path(__file__).parent / "grading_data"
SOURCE = DATA / "square.ipynb"
REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 3.0

SQUARE_BAD = "def square(x):\n    return x"
SQUARE_IF = "def square(x):\n    return x * x if LEAKED else x"
GOOD = {
    "dsquare": "def dsquare(x):\n    return 2.0 * np.asarray(x, dtype=float)",
    "numerical_derivative": "def numerical_derivative(f, x, h=1e-6):\n    return (f(x + h) - f(x - h)) / (2 * h)",
}


def _gid(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def notebook(square: str = SQUARE_BAD, extra=(), solutions=None) -> dict:
    """The released toy notebook with ``square`` (and the good dsquare / numerical_derivative) filled
    in; ``extra``: (after grade_id or None, code) cells added by the student."""
    nb = release_notebook(read_notebook(SOURCE))
    sols = {"square": square, **GOOD, **(solutions or {})}
    for cell in nb["cells"]:
        if _gid(cell) in sols:
            cell["source"] = sols[_gid(cell)]
    for k, (after, code) in enumerate(extra):
        new = {"cell_type": "code", "execution_count": None, "id": f"attack-{k}", "metadata": {}, "outputs": [],
               "source": code}
        pos = 0 if after is None else next(i for i, c in enumerate(nb["cells"]) if _gid(c) == after) + 1
        nb["cells"].insert(pos, new)
    return nb


# -- forging the verdict -------------------------------------------------------------------------------

FORGE_FRAMES = r'''
import json, os, struct
def _frame(obj):
    data = json.dumps(obj).encode()
    return struct.pack(">I", len(data)) + data
FAKE = [_frame({"r": "ok", "v": None}), _frame({"r": "ok", "v": 9.0}), _frame({"r": "ok", "v": True}),
        _frame({"q": "exec", "code": "print('pass')", "filename": "x"}), b"\n('done', 1, 'x', True, '', None, 1)\n",
        _frame({"r": "ok", "v": {"$r": 1, "$s": "j", "$c": "object"}}), b"\xff" * 64]
def forge():
    for fd in range(3, 64):
        for data in FAKE:
            try:
                os.write(fd, data)
            except OSError:
                pass
forge()
print("All tests passed. Score: 4/4")
'''

FORGE_IN_SQUARE = FORGE_FRAMES + r'''
def square(x):
    forge()   # while the judge waits for this very reply
    return x
'''

DUP_FDS = r'''
import os
# replace every descriptor with a pipe of our own, and stdout / stderr with the channel
r, w = os.pipe()
for fd in range(3, 64):
    if fd not in (r, w):
        try:
            os.dup2(w, fd)
        except OSError:
            pass
for fd in (1, 2):
    try:
        os.dup2(5, fd)
    except OSError:
        pass
'''

ANSWER_PROTOCOL = r'''
import json, os, struct, sys
# take over the runner: answer every request of the judge with "pass" data of our choosing
def _frame(obj):
    data = json.dumps(obj).encode()
    return struct.pack(">I", len(data)) + data
mod = sys.modules["__main__"]
def square(x):
    for fd in range(3, 16):
        try:
            os.write(fd, _frame({"r": "ok", "v": 9.0}) + _frame({"r": "ok", "v": 2.25}))
        except OSError:
            pass
    return x
'''

WRITE_REPORT = r'''
import os, glob
LEAKED = False
for pattern in ["{report}/*", "{report}"]:
    for path in glob.glob(pattern):
        try:
            with open(path, "w") as fh:
                fh.write('{{"forged": true}}')
            LEAKED = True
        except OSError:
            pass
'''

# -- reading the solutions -----------------------------------------------------------------------------

READ_SECRETS = r'''
import gc, os, sys
# built at run time, so that this cell's own text does not hold them
MARKERS = ("BEGIN" + " HIDDEN", "check_close(square(" + "-1.5)", "HIDDEN" + " TESTS")
FOUND = []
def _look(text, where):
    if any(text is not m and m in text for m in MARKERS):
        FOUND.append(where)
def _read(path):
    try:
        with open(path, "rb") as fh:
            return fh.read(1 << 20).decode("utf-8", "replace")
    except OSError:
        return ""
# the source, the checkout's .git, the report directory: by their real paths
for path in ["{source}", "{repo}/.git/HEAD", "{repo}/exercises/source", "{repo}/tests/grading_data/square.ipynb"]:
    if os.path.exists(path):
        FOUND.append(path)
# the environment, argv, every process's cmdline and environ, inherited descriptors
_look(repr(dict(os.environ)), "environ")
_look(repr(sys.argv), "argv")
for pid in os.listdir("/proc"):
    if pid.isdigit():
        for name in ("cmdline", "environ"):
            _look(_read(f"/proc/{{pid}}/{{name}}"), f"/proc/{{pid}}/{{name}}")
for fd in range(3, 64):
    try:
        os.lseek(fd, 0, 0)
    except OSError:
        pass
    try:
        _look(os.read(fd, 1 << 16).decode("utf-8", "replace"), f"fd {{fd}}")
    except OSError:
        pass
# the cwd and HOME, and their parents
for top in {{os.getcwd(), os.path.expanduser("~"), "/tmp", "/", "/work", "/root", "/home"}}:
    for root, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev", "usr", "lib", "lib64", "bin", "sbin")
                   and root.count("/") < 4]
        for f in files:
            if f.endswith(".ipynb"):
                _look(_read(os.path.join(root, f)), os.path.join(root, f))
# the process's own memory
for obj in gc.get_objects():
    if type(obj) is str:
        _look(obj, "memory")
    elif type(obj) is dict:
        for v in list(obj.values()):
            if type(v) is str:
                _look(v, "memory")
LEAKED = bool(FOUND)
'''

READ_FROM_CALLER = r'''
import sys
LEAKED = False
def square(x):
    # walk every frame above us: a judge in this process would have the expected value there
    global LEAKED
    f = sys._getframe()
    while f is not None:
        for scope in (f.f_locals, f.f_globals):
            for k, v in list(scope.items()):
                if k in ("expected", "check_close") and f.f_code.co_filename.startswith("<judge"):
                    LEAKED = True
        f = f.f_back
    return x * x if LEAKED else x
'''

# -- tampering with the checker while the test calls the student's code ---------------------------------

TAMPER = r'''
import sys, numpy, gc
import adteach.testing as T
def _true(*a, **k):
    return True
def square(x):
    # swap the code of every checker in reach, patch numpy, trace the caller's frames
    for mod in list(sys.modules.values()):
        for name in ("allclose", "isclose", "check_value", "check_close", "assert_allclose"):
            f = getattr(mod, name, None)
            if hasattr(f, "__code__"):
                try:
                    f.__code__ = _true.__code__
                except Exception:
                    pass
    numpy.allclose = _true
    for obj in gc.get_objects():
        if callable(obj) and getattr(obj, "__name__", "") == "check_close":
            obj.__code__ = (lambda *a, **k: None).__code__
    sys.settrace(lambda *a: None)
    return x
'''

LIARS = r'''
import numpy as np, sys
class Liar(float):
    """Equal to everything, close to everything, and reads the caller's expected value."""
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __lt__(self, other): return True
    def __gt__(self, other): return True
    def __abs__(self): return 0.0
    def __sub__(self, other): return Liar(0.0)
    def __rsub__(self, other): return Liar(0.0)
    def __float__(self):
        f = sys._getframe(1)
        while f is not None:
            if "expected" in f.f_locals:
                try:
                    return float(np.ravel(f.f_locals["expected"])[0])
                except Exception:
                    pass
            f = f.f_back
        return 0.0
    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.__float__())
    def __bool__(self): return True
class LiarArray(np.ndarray):
    def __eq__(self, other): return np.ones(np.shape(other), dtype=bool)
    def __array_finalize__(self, obj): pass
def square(x):
    if np.ndim(x):
        return np.asarray(x).view(LiarArray)
    return Liar(x)
'''

# -- hooks that outlive a cell ---------------------------------------------------------------------------

HOOKS = FORGE_FRAMES + r'''
import atexit, gc, signal, sys, threading, time, weakref, importlib.abc
def hook(*args):
    forge()
sys.addaudithook(lambda event, args: forge() if event in ("exec", "compile", "open") else None)
gc.callbacks.append(lambda phase, info: forge())
gc.set_threshold(1)
for sig in range(1, 32):
    try:
        signal.signal(sig, lambda *a: forge())
    except (OSError, ValueError, RuntimeError):
        pass
signal.setitimer(signal.ITIMER_REAL, 0.01, 0.01)
sys.settrace(lambda *a: (forge(), None)[1])
sys.setprofile(lambda *a: None)
threading.settrace(lambda *a: None)
class Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, *a, **k):
        forge()
        return None
sys.meta_path.insert(0, Finder())
def loop():
    while True:
        forge()
        time.sleep(0.005)
threading.Thread(target=loop, daemon=True).start()
class Ghost:
    def __del__(self):
        forge()
ghosts = [Ghost() for _ in range(100)]
class Anchor: pass
anchor = Anchor()
wr = weakref.ref(anchor, lambda r: forge())
del anchor
atexit.register(forge)
'''

# -- contaminating others --------------------------------------------------------------------------------

CONTAMINATE = r'''
import os, site, sys, signal, glob
written = []
targets = [os.path.join(p, "evil.pth") for p in site.getsitepackages() + [site.getusersitepackages()]]
targets += [os.path.join(os.path.dirname(os.path.dirname(__import__("numpy").__file__)), "evil.pth"),
            os.path.join(os.path.dirname(__import__("adteach").__file__), "testing.py"),
            "{repo}/adteach/testing.py", "{repo}/conftest.py", "/tmp/numpy.py", os.path.expanduser("~/numpy.py"),
            "{victim}", "{report}/grades.json"]
for path in targets:
    try:
        with open(path, "a") as fh:
            fh.write("import os; os.system('echo pwned')\n")
        written.append(path)
    except OSError:
        pass
# kill everything we can see: siblings, the grader
for sig in (signal.SIGKILL, signal.SIGTERM):
    try:
        os.kill(-1, sig)
    except OSError:
        pass
'''

DAEMON = r'''
import os, time
# a detached daemon that outlives the grading and rewrites the report (and the victim) later
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", "{marker}"])
    os._exit(0)
'''

# -- resource escapes ------------------------------------------------------------------------------------

FORK_BOMB = r'''
import os
pids = []
for _ in range(10000):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        import time
        time.sleep(1000)
        os._exit(0)
    pids.append(pid)
'''

OUTPUT_FLOOD = r'''
import os, sys
chunk = b"x" * (1 << 20)
for _ in range(300):          # 300 MB on stdout and stderr
    os.write(1, chunk)
    os.write(2, chunk)
print("y" * (1 << 20))
'''

DISK_FILL = r'''
import os
chunk = b"z" * (1 << 20)
for name in ("/tmp/fill", os.path.expanduser("~/fill2"), "fill3"):
    try:
        with open(name, "wb") as fh:
            for _ in range(4096):
                fh.write(chunk)
    except OSError:
        pass
'''

SURROGATE = "def numerical_derivative(f, x, h=1e-6):\n    raise ValueError('bad \\udcff\\x00\\x1b[31m' + 'x' * 100000)"


def _attacks(root: Path) -> dict:
    fmt = dict(source=str(root / "source" / "square.ipynb"), repo=str(REPO), report=str(root / "report"),
               victim=str(root / "submitted" / "victim.ipynb"), marker="4242.5")
    f = lambda code: code.format(**fmt)  # noqa: E731
    return {
        # name: (notebook, expected score)
        "control": (notebook(), 3),
        "victim": (notebook("def square(x):\n    return x * x"), 4),
        "forge_frames": (notebook(extra=[(None, FORGE_FRAMES), ("test_square", FORGE_FRAMES)]), 3),
        "forge_in_square": (notebook(FORGE_IN_SQUARE), 3),
        "dup_fds": (notebook(extra=[(None, DUP_FDS)]), 3),
        "answer_protocol": (notebook(ANSWER_PROTOCOL), 3),
        "write_report": (notebook(SQUARE_IF, extra=[(None, f(WRITE_REPORT))]), 3),
        "read_secrets": (notebook(SQUARE_IF, extra=[(None, f(READ_SECRETS))]), 3),
        "read_from_caller": (notebook(READ_FROM_CALLER), 3),
        "tamper_checker": (notebook(TAMPER), 3),
        "liars": (notebook(LIARS), 3),
        "hooks": (notebook(extra=[(None, HOOKS)]), 3),
        "contaminate": (notebook(extra=[(None, f(CONTAMINATE)), ("test_square", f(CONTAMINATE))]), 3),
        "daemon": (notebook(extra=[(None, f(DAEMON))]), 3),
        "fork_bomb": (notebook(extra=[(None, FORK_BOMB)]), 3),
        "output_flood": (notebook(extra=[(None, OUTPUT_FLOOD)]), 3),
        "disk_fill": (notebook(extra=[(None, DISK_FILL), ("dsquare", DISK_FILL)]), 3),
        "surrogates": (notebook(solutions={"numerical_derivative": SURROGATE}), 2),
    }


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    root = tmp_path_factory.mktemp("attacks")
    (root / "source").mkdir()
    shutil.copy(SOURCE, root / "source" / "square.ipynb")
    subs = root / "submitted"
    subs.mkdir()
    cases = _attacks(root)
    paths = {}
    for name, (nb, _score) in cases.items():
        p = subs / f"{name}.ipynb"
        p.write_text(json.dumps(nb))
        paths[name] = p
    before = {n: p.read_bytes() for n, p in paths.items()}
    site_before = _site_listing()
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "adteach", "grade", str(root / "source" / "square.ipynb"),
                           *map(str, paths.values()), "--report", str(root / "report"), "--jobs", "2",
                           "--timeout", str(TIMEOUT), "--memory-mb", "1024"],
                          capture_output=True, text=True, cwd=root, timeout=600)
    elapsed = time.monotonic() - t0
    report_bytes = (root / "report" / "grades.json").read_bytes()
    time.sleep(1.0)  # a daemon that survived would strike now
    return {"proc": proc, "report": json.loads(report_bytes), "report_bytes": report_bytes, "root": root,
            "paths": paths, "before": before, "cases": cases, "elapsed": elapsed, "site_before": site_before}


def _site_listing():
    import site
    out = {}
    for d in site.getsitepackages():
        if os.path.isdir(d):
            out[d] = sorted(os.listdir(d))
    return out


def _result(attacked, name):
    return attacked["report"]["submissions"][name]


def test_batch_finished_and_reported(attacked):
    proc = attacked["proc"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert set(attacked["report"]["submissions"]) == set(attacked["cases"])
    assert attacked["report"]["complete"] is True


@pytest.mark.parametrize("name", ["control", "victim", "forge_frames", "forge_in_square", "dup_fds",
                                  "answer_protocol", "write_report", "read_secrets", "read_from_caller",
                                  "tamper_checker", "liars", "hooks", "contaminate", "daemon", "fork_bomb",
                                  "output_flood", "disk_fill", "surrogates"])
def test_attack_scores_its_controls_score(attacked, name):
    res = _result(attacked, name)
    expected = attacked["cases"][name][1]
    assert res["status"] == "graded", res
    assert res["score"] == expected, json.dumps(res, indent=1)[:3000]


def test_hooks_cost_only_the_cell_that_installed_them(attacked):
    """The hooks forge frames from their own cell on: the channel breaks during that cell, which is
    reported (and flagged) as such; the judge starts a fresh student process, replays the earlier
    items without that cell, and every test is graded as the control's, with the same feedback."""
    res, control = _result(attacked, "hooks"), _result(attacked, "control")
    assert res["tests"] == control["tests"]
    assert control["cell_errors"] == []
    assert [(e["cell"], e["status"]) for e in res["cell_errors"]] == [(0, "crash")], res["cell_errors"]
    assert res["cell_errors"][0]["message"].startswith("the student process broke the protocol ("), res
    assert "cell 0: the student process broke the protocol" in "\n".join(res["flags"]), res["flags"]


def test_forged_frames_are_flagged_as_protocol_violations(attacked):
    flags = _result(attacked, "forge_in_square")["flags"]
    assert any("broke the protocol" in f for f in flags), flags
    tests = _result(attacked, "forge_in_square")["tests"]
    assert tests[0]["status"] in ("fail", "crash") and tests[1]["status"] == "pass"


def test_secrets_are_out_of_reach(attacked):
    """The oracle notebook's square is right only when one of its reads found a secret."""
    assert _result(attacked, "read_secrets")["tests"][0]["status"] == "fail"
    # its read of every descriptor blocked on the judge's request pipe: a deadlock, ended at once
    errors = _result(attacked, "read_secrets")["cell_errors"]
    assert [(e["status"], "waiting to read the grader's request channel" in e["message"]) for e in errors] \
        == [("crash", True)], errors
    assert _result(attacked, "read_from_caller")["tests"][0]["status"] == "fail"


def test_liars_only_send_data(attacked):
    test = _result(attacked, "liars")["tests"][0]
    # the judge compared the numbers the liar's process sent (never called its __eq__ or __float__)
    assert test["status"] == "fail" and test["feedback"].startswith("AssertionError: "), test


def test_nothing_outside_the_box_was_changed(attacked):
    for name, p in attacked["paths"].items():
        assert p.read_bytes() == attacked["before"][name], name     # no submission overwritten
    assert (attacked["root"] / "report" / "grades.json").read_bytes() == attacked["report_bytes"]
    assert not (REPO / "conftest.py").exists()
    assert "pwned" not in (REPO / "adteach" / "testing.py").read_text()
    assert _site_listing() == attacked["site_before"]               # no .pth planted
    assert not Path("/tmp/numpy.py").exists()


def test_no_process_outlives_its_grading(attacked):
    """The daemon (`sleep 4242.5`) and the fork bomb's children died with their sandboxes."""
    alive = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"4242.5" in cmd:
                alive.append(pid)
    assert alive == []


def test_floods_cost_only_their_own_time(attacked):
    # 600 MB of output, a filled scratch disk and a fork bomb: graded, nothing else disturbed
    for name in ("output_flood", "disk_fill", "fork_bomb"):
        res = _result(attacked, name)
        assert [t["status"] for t in res["tests"]] == ["fail", "pass", "pass"], (name, res["tests"])
    assert attacked["elapsed"] < 300


def test_student_controlled_text_is_escaped_in_the_report(attacked):
    raw = attacked["report_bytes"]
    raw.decode("utf-8")  # valid UTF-8: the lone surrogate was escaped
    fb = _result(attacked, "surrogates")["tests"][2]["feedback"]
    assert fb.startswith("CheckFailed") or fb.startswith("ValueError"), fb
    assert len(fb) <= 1100


# -- hostile files ---------------------------------------------------------------------------------------

def test_hostile_files_are_reported_never_a_hang(tmp_path):
    """A FIFO, a symlink to the source, a name that is not UTF-8, a 70 MB notebook, a directory named
    like a notebook: each is reported as such, beside an honest control that is graded normally."""
    subs = tmp_path / "submitted"
    subs.mkdir()
    (subs / "control.ipynb").write_text(json.dumps(notebook()))
    os.mkfifo(subs / "fifo.ipynb")
    os.symlink(SOURCE, subs / "link.ipynb")
    bad_name = os.fsdecode(b"caf\xe9.ipynb")
    (subs / bad_name).write_text(json.dumps(notebook()))
    with open(subs / "huge.ipynb", "wb") as fh:
        fh.truncate(70 << 20)
    (subs / "dir.ipynb").mkdir()
    direct = [str(subs / "fifo.ipynb"), str(subs / "link.ipynb"), str(subs / "huge.ipynb")]
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "adteach", "grade", str(SOURCE), str(subs), *direct,
                           "--report", str(tmp_path / "report"), "--jobs", "2", "--timeout", str(TIMEOUT)],
                          capture_output=True, timeout=300, cwd=tmp_path)
    assert time.monotonic() - t0 < 200
    raw = (tmp_path / "report" / "grades.json").read_bytes()
    raw.decode("utf-8")
    report = json.loads(raw)
    subs_ = {res["path"]: res for res in report["submissions"].values()}
    skipped = {s["path"]: s["reason"] for s in report["skipped"]}
    assert subs_[str(subs / "control.ipynb")]["score"] == 3
    assert subs_[str(subs / "fifo.ipynb")]["status"] == "unreadable"
    assert "FIFO" in subs_[str(subs / "fifo.ipynb")]["error"]
    assert subs_[str(subs / "link.ipynb")]["status"] == "unreadable"
    assert "symbolic link" in subs_[str(subs / "link.ipynb")]["error"]
    assert subs_[str(subs / "huge.ipynb")]["status"] == "unreadable"
    assert "MB limit" in subs_[str(subs / "huge.ipynb")]["error"]
    bad = [res for path, res in subs_.items() if "caf" in path]
    assert bad and bad[0]["score"] == 3, bad          # graded; its name escaped in the report
    assert proc.returncode == 1                       # some could not be graded; the report is complete
    assert report["complete"] is True
    assert any("fifo" in p for p in skipped) or str(subs / "fifo.ipynb") in subs_


# -- the judge's parser ---------------------------------------------------------------------------------

def test_the_judge_parses_replies_strictly_and_builds_only_plain_data():
    """What the student process sends is JSON parsed into plain values, checked field by field."""
    import base64

    import numpy as np

    from adteach.grading import wire

    refs = wire.Refs("j", lambda rid, name: ("proxy", rid, name))
    ok = {"$t": "nd", "dtype": "<f8", "shape": [2], "b64": base64.b64encode(np.array([1.0, 2.0]).tobytes()).decode()}
    assert wire.decode(ok, refs).tolist() == [1.0, 2.0]
    assert wire.decode({"$r": 7, "$s": "s", "$c": "Dual"}, refs) == ("proxy", 7, "Dual")
    bad = [
        {"$t": "nd", "dtype": "|O", "shape": [1], "b64": "AAAAAAAAAAA="},          # object arrays: no
        {"$t": "nd", "dtype": "<f8", "shape": [3], "b64": ok["b64"]},              # size does not match
        {"$t": "pickle", "v": "gASV"},                                             # unknown tag
        {"$r": 1, "$s": "j", "$c": "object"},                                      # a judge handle never given
        {"$r": 1, "$s": "s", "$c": "not a name"},
        {"$t": "dict", "v": [[[1, 2], 3]]},                                        # unhashable key
        {"$t": "sc", "dtype": "<f8", "v": "1e400"},
        {"$t": "tuple", "v": [1], "extra": 2},
        ["x"] * 3 + [{"$t": "f", "v": "NaN!"}],
    ]
    nested = 1
    for _ in range(200):
        nested = [nested]
    bad.append(nested)
    for msg in bad:
        with pytest.raises(wire.ProtocolError):
            wire.decode(msg, refs)
    # a student's SystemExit / KeyboardInterrupt arrives as an ordinary Exception subclass
    for name, bases in (("SystemExit", ["SystemExit", "BaseException"]), ("KeyboardInterrupt", ["BaseException"])):
        exc = wire.exception_from({"type": name, "module": "builtins", "bases": bases, "msg": "", "where": None})
        assert isinstance(exc, Exception) and type(exc).__name__ == name
    with pytest.raises(wire.ProtocolError):
        wire.exception_from({"type": "X", "module": "m", "bases": [], "msg": 3, "where": None})


def test_every_test_the_threat_model_cites_exists():
    """The README's threat model backs each sentence with a test: each one it names is a real test."""
    import re
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Grading untrusted notebooks: threat model"):readme.index("## Benchmarks")]
    tests_dir = Path(__file__).parent
    cited = set(re.findall(r"`(?:tests/(test_\w+\.py)::)?(test_\w+)`", section))
    assert len(cited) >= 20
    for file, name in cited:
        files = [tests_dir / file] if file else sorted(tests_dir.glob("test_*.py"))
        assert any(re.search(rf"^def {name}\(", f.read_text(encoding="utf-8"), re.M) for f in files), (file, name)
    for file in set(re.findall(r"`(tests/[\w/]+\.py)`", section)):
        assert (tests_dir.parent / file).is_file(), file
    assert re.findall(r"cases? `(\w+)`", section)  # attack cases are named too
