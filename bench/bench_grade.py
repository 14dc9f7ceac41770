"""Grading speed: `adteach grade` against `nbgrader autograde`, same submissions, same run.

    python bench/bench_grade.py [--students N]

nbgrader is never a dependency of adteach: the first run builds it a virtual
environment of its own (nbgrader 0.9.6 + this adteach) under
~/.cache/adteach-bench/ and reuses it afterwards. For every exercise source, N
students submit (alternately the full solution and the released stub); both
graders grade all of them one at a time (--jobs 1: nbgrader autograde is
sequential) and the script prints seconds per submission and the ratio.
Target (issues 7 and 10): adteach, sandbox on, at least 5x faster.

It then times the same submissions through the API three ways, to show what the
judge (issue 10) and the sandbox cost: the judge with bubblewrap (the default),
the judge without the sandbox (``--no-sandbox``), and a bare in-process execution
written here (:func:`exec_in_process`: the submission's cells and the source's
test cells exec'ed in one namespace of this process, as a student's self-check
does; no isolation, no limits, the verdict is whatever the code left behind).

    python bench/bench_grade.py --students 2 --rounds 1 [--no-nbgrader]

The two graders take turns exercise by exercise (the machine may be shared: both see the
same load), and each exercise counts with the better of ``--rounds`` (default 2) runs.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "exercises" / "source").glob("*.ipynb"))
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "adteach-bench" / "nbgrader-venv"


def nbgrader_env() -> Path:
    """nbgrader 0.9.6 and this checkout's adteach in a virtual environment of its own (never a dependency
    of adteach), built once and kept in CACHE; returns its bin directory. tests/test_exercises.py uses it
    too. Built with uv (in the test extra): seconds, where pip took about 40 s."""
    import fcntl
    bin_dir = CACHE / "bin"
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    with open(CACHE.parent / "nbgrader-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)   # one builder at a time (parallel test runs, the bench)
        if not (bin_dir / "nbgrader").exists():
            print(f"building nbgrader's environment in {CACHE} (first run only) ...", flush=True)
            venv.EnvBuilder(with_pip=True, clear=True).create(CACHE)
            uv = subprocess.run([sys.executable, "-m", "uv", "pip", "install", "-q", "--python",
                                 str(bin_dir / "python"), "nbgrader==0.9.6", str(ROOT)],
                                capture_output=True, text=True)
            if uv.returncode != 0:
                shutil.rmtree(CACHE, ignore_errors=True)  # a half-built environment must not pass for a built one
                raise RuntimeError(f"building nbgrader's environment failed:\n{uv.stdout}{uv.stderr}")
    return bin_dir


def exec_in_process(source: Path, submission: Path) -> float:
    """The baseline: run the submission in this process, its test cells replaced by the source's."""
    import contextlib
    import io
    import json

    def gid(cell):
        return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")

    meta = lambda c: c.get("metadata", {}).get("nbgrader", {})  # noqa: E731
    tests = {gid(c): c for c in json.loads(source.read_text())["cells"]
             if meta(c).get("grade") and not meta(c).get("solution")}
    ns, score = {"__name__": "__main__"}, 0.0
    for cell in json.loads(submission.read_text())["cells"]:
        if cell["cell_type"] != "code":
            continue
        cell = tests.get(gid(cell), cell)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile("".join(cell["source"]), "<cell>", "exec"), ns)
        except Exception:  # noqa: BLE001 - a failing test or a stub
            continue
        score += meta(cell).get("points", 0) if gid(cell) in tests else 0
    return score


def main():
    n = int(sys.argv[sys.argv.index("--students") + 1]) if "--students" in sys.argv else 3
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 2
    with_nbgrader = "--no-nbgrader" not in sys.argv
    bin_dir = nbgrader_env() if with_nbgrader else Path("/nonexistent")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "VIRTUAL_ENV"))}
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    env["PYTHONPATH"] = str(ROOT)  # nbgrader's kernels grade with this checkout's adteach, as adteach does
    work = Path(tempfile.mkdtemp(prefix="adteach-bench-grade-"))
    env["JUPYTER_CONFIG_DIR"] = str(work / "jupyter-config")
    course = work / "course"
    subs = {}  # exercise name -> submission paths
    for src in SOURCES:
        name = src.stem
        (course / "source" / name).mkdir(parents=True)
        shutil.copy(src, course / "source" / name / src.name)
        stub = ROOT / "exercises" / src.name
        for k in range(n):
            d = course / "submitted" / f"student{k:02d}" / name
            d.mkdir(parents=True)
            shutil.copy(src if k % 2 == 0 else stub, d / src.name)
            subs.setdefault(name, []).append(d / src.name)
    total = sum(len(v) for v in subs.values())

    def nb(*args):
        subprocess.run([str(bin_dir / "nbgrader"), *args], cwd=course, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def ours(name):
        subprocess.run([sys.executable, "-m", "adteach", "grade", str(ROOT / "exercises" / "source" / f"{name}.ipynb"),
                        *map(str, subs[name]), "--report", str(work / "reports" / name), "--jobs", "1",
                        "--no-progress", "-q"], check=True)

    def timed(fn, *args):
        t0 = time.perf_counter()
        fn(*args)
        return time.perf_counter() - t0

    # The machine may be shared: the two graders take turns, exercise by exercise, so that both see the
    # same load, and each exercise counts with the better of `rounds` runs of each grader.
    best_nb, best_ours = {}, {}
    if with_nbgrader:
        for name in subs:
            nb("generate_assignment", name, "--force")
    for _ in range(rounds):
        for name in subs:
            if with_nbgrader:
                t = timed(nb, "autograde", name, "--create", "--force")
                best_nb[name] = min(t, best_nb.get(name, t))
            t = timed(ours, name)
            best_ours[name] = min(t, best_ours.get(name, t))
    t_nbgrader = sum(best_nb.values()) if with_nbgrader else None
    t_adteach = sum(best_ours.values())

    from adteach.grading import grade
    api, points = {}, {}
    for label, kw in (("judge + sandbox", {}), ("judge, no sandbox", {"sandboxed": False})):
        t0 = time.perf_counter()
        points[label] = 0.0
        for name, paths in subs.items():
            report = grade(ROOT / "exercises" / "source" / f"{name}.ipynb", paths, None, jobs=1, **kw)
            points[label] += sum(r["score"] for r in report["submissions"].values())
        api[label] = time.perf_counter() - t0
    label = "in-process exec, no isolation"
    t0 = time.perf_counter()
    points[label] = sum(exec_in_process(ROOT / "exercises" / "source" / f"{name}.ipynb", path)
                        for name, paths in subs.items() for path in paths)
    api[label] = time.perf_counter() - t0
    shutil.rmtree(work, ignore_errors=True)

    print(f"{total} submissions ({len(subs)} exercises x {n} students, half solutions, half stubs), one at a time; "
          f"the graders take turns, the better of {rounds} runs per exercise:")
    if t_nbgrader is not None:
        print(f"  nbgrader autograde   {t_nbgrader / total:6.2f} s per submission")
        print(f"  adteach grade        {t_adteach / total:6.2f} s per submission   -> "
              f"{t_nbgrader / t_adteach:4.1f}x faster (target >= 5x)")
    else:
        print(f"  adteach grade        {t_adteach / total:6.2f} s per submission")
    base = api["in-process exec, no isolation"]
    print("  through the API (same run):")
    for label, t in api.items():
        print(f"    {label:32s} {t / total:6.2f} s per submission  ({t / base:4.2f}x the in-process exec)"
              f"  {points[label]:g} points in all")
    print(f"  the sandbox adds {(api['judge + sandbox'] - api['judge, no sandbox']) / total:+.2f} s per submission, "
          f"the judge/student split {(api['judge, no sandbox'] - base) / total:+.2f} s")
    print(f"  adteach grade --jobs 2 would divide its wall time by up to 2 on this machine "
          f"({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
