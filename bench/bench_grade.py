"""Grading speed: `adteach grade` against `nbgrader autograde`, same submissions, same run.

    python bench/bench_grade.py [--students N]

nbgrader is never a dependency of adteach: the first run builds it a virtual
environment of its own (nbgrader 0.9.6 + this adteach) under
~/.cache/adteach-bench/ and reuses it afterwards. For every exercise source, N
students submit (alternately the full solution and the released stub); both
graders grade all of them one at a time (--jobs 1: nbgrader autograde is
sequential) and the script prints seconds per submission and the ratio.
Target (issue 7): adteach at least 5x faster.

It then times the same submissions through the API three ways, to show what the
judge (issue 10) and the sandbox cost: the judge with bubblewrap (the default),
the judge without the sandbox, and the earlier runner that computed the verdict in
the student's own process (``engine="inprocess"``, kept for this comparison only).

    python bench/bench_grade.py --students 2 [--no-nbgrader]
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
    bin_dir = CACHE / "bin"
    if not (bin_dir / "nbgrader").exists():
        print(f"building nbgrader's environment in {CACHE} (first run only) ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(CACHE)
        subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", "nbgrader==0.9.6", str(ROOT)],
                       check=True)
    return bin_dir


def main():
    n = int(sys.argv[sys.argv.index("--students") + 1]) if "--students" in sys.argv else 3
    with_nbgrader = "--no-nbgrader" not in sys.argv
    bin_dir = nbgrader_env() if with_nbgrader else Path("/nonexistent")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "VIRTUAL_ENV"))}
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
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

    t_nbgrader = None
    if with_nbgrader:
        for name in subs:
            nb("generate_assignment", name, "--force")
        t0 = time.perf_counter()
        for name in subs:
            nb("autograde", name, "--create")
        t_nbgrader = time.perf_counter() - t0

    t0 = time.perf_counter()
    for name, paths in subs.items():
        subprocess.run([sys.executable, "-m", "adteach", "grade", str(ROOT / "exercises" / "source" / f"{name}.ipynb"),
                        *map(str, paths), "--report", str(work / "reports" / name), "--jobs", "1", "--no-progress",
                        "-q"], check=True)
    t_adteach = time.perf_counter() - t0

    from adteach.grading import grade
    api = {}
    for label, kw in (("judge + sandbox", {}), ("judge, no sandbox", {"sandboxed": False}),
                      ("earlier in-process runner, no sandbox", {"sandboxed": False, "engine": "inprocess"})):
        t0 = time.perf_counter()
        for name, paths in subs.items():
            grade(ROOT / "exercises" / "source" / f"{name}.ipynb", paths, None, jobs=1, **kw)
        api[label] = time.perf_counter() - t0
    shutil.rmtree(work, ignore_errors=True)

    print(f"{total} submissions ({len(subs)} exercises x {n} students, half solutions, half stubs), one at a time:")
    if t_nbgrader is not None:
        print(f"  nbgrader autograde   {t_nbgrader / total:6.2f} s per submission")
        print(f"  adteach grade        {t_adteach / total:6.2f} s per submission   -> "
              f"{t_nbgrader / t_adteach:4.1f}x faster (target >= 5x)")
    else:
        print(f"  adteach grade        {t_adteach / total:6.2f} s per submission")
    base = api["earlier in-process runner, no sandbox"]
    print("  through the API (same run):")
    for label, t in api.items():
        print(f"    {label:40s} {t / total:6.2f} s per submission  ({t / base:4.2f}x the earlier runner)")
    print(f"  the sandbox adds {(api['judge + sandbox'] - api['judge, no sandbox']) / total:+.2f} s per submission, "
          f"the judge/student split {(api['judge, no sandbox'] - base) / total:+.2f} s")
    print(f"  adteach grade --jobs 2 would divide its wall time by up to 2 on this machine "
          f"({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
