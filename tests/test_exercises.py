"""The real exercises, end to end: released notebooks are current and leak nothing, and
nbgrader accepts the sources unchanged (in an environment of its own) and gives the
solutions full marks. That adteach grade gives the solutions full marks and the released
stubs zero is asserted in tests/test_exercise_styles.py, in the batch that grades each
exercise's styles and mistakes."""
import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from adteach.grading import check_release, read_notebook, release_notebook

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "exercises" / "source").glob("*.ipynb"))
NAMES = [s.stem for s in SOURCES]


def test_there_are_at_least_seven_exercises():
    assert len(SOURCES) >= 7


@pytest.mark.parametrize("name", NAMES)
def test_released_notebook_is_current_and_leaks_nothing(name):
    source = read_notebook(ROOT / "exercises" / "source" / f"{name}.ipynb")
    released = read_notebook(ROOT / "exercises" / f"{name}.ipynb")
    assert check_release(released, source) == []
    assert released == release_notebook(source, name)  # `adteach release` was run after the last edit
    text = json.dumps(released)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text
    hidden = [line.strip() for cell in source["cells"] for block in
              "".join(cell["source"]).split("### BEGIN HIDDEN TESTS")[1:]
              for line in block.split("### END HIDDEN TESTS")[0].splitlines() if line.strip()]
    solutions = [line.strip() for cell in source["cells"] for block in
                 "".join(cell["source"]).split("### BEGIN SOLUTION")[1:]
                 for line in block.split("### END SOLUTION")[0].splitlines()
                 if len(line.strip()) > 12 and not line.strip().startswith("#")]
    public = set()  # lines that also stand outside the solution and hidden regions
    for cell in source["cells"]:
        text_ = "".join(cell["source"])
        for start, end in (("### BEGIN SOLUTION", "### END SOLUTION"), ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")):
            parts = text_.split(start)
            text_ = parts[0] + "".join(p.split(end, 1)[-1] for p in parts[1:])
        public.update(line.strip() for line in text_.splitlines())
    code = ["".join(c["source"]) for c in released["cells"] if c["cell_type"] == "code"]
    leaked = [line for line in hidden + solutions
              if len(line) > 12 and line not in public and any(line in c for c in code)]
    assert not leaked, leaked[:3]


@pytest.mark.parametrize("name", NAMES)
def test_time_limits_are_cpu_time_generous_and_stated(name):
    """Each source states its per-cell limit in CPU seconds (metadata adteach.cpu_seconds_per_cell), the
    student text says the same number, and every CPU-time target in the text leaves a 3x margin."""
    source = read_notebook(ROOT / "exercises" / "source" / f"{name}.ipynb")
    limit = source["metadata"]["adteach"]["cpu_seconds_per_cell"]
    text = "\n".join("".join(c["source"]) for c in source["cells"] if c["cell_type"] == "markdown")
    assert f"each cell may use up to {limit} seconds of CPU time" in text
    targets = [int(n) for n in re.findall(r"(\d+)\W*seconds\W* of CPU time", text)]
    assert all(t == limit or 3 * t <= limit for t in targets), (limit, targets)
    released = read_notebook(ROOT / "exercises" / f"{name}.ipynb")
    assert released["metadata"]["adteach"] == source["metadata"]["adteach"]


@pytest.fixture(scope="module")
def nbgrader_env():
    """nbgrader in a virtual environment of its own, built once by bench/bench_grade.py's builder (the
    bench grades with the same one); the test puts this checkout first on PYTHONPATH, so that nbgrader's
    kernels import the adteach under test whatever copy the environment was built with."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import bench_grade
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return bench_grade.nbgrader_env().parent


def test_nbgrader_generates_the_same_release_and_autogrades_the_solutions(nbgrader_env, tmp_path):
    bin_dir = nbgrader_env / "bin"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "VIRTUAL_ENV"))}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env["PATH"] = f"{bin_dir}:{env['PATH']}"  # nbgrader runs `alembic` from PATH
    env["JUPYTER_CONFIG_DIR"] = str(tmp_path / "jupyter-config")
    # Two courses, each with its own gradebook, graded side by side (a gradebook is one SQLite file, written by
    # one nbgrader at a time): the exercises split between them, so the two cores each run half the kernels.
    halves = [SOURCES[0::2], SOURCES[1::2]]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda k: _generate_and_autograde(bin_dir, env, tmp_path / f"course{k}", halves[k]),
                                range(2)))
    scores = dict(line.split(maxsplit=1) for out in results for line in out.split("\n") if line.strip())
    assert sorted(scores) == sorted(NAMES), scores
    for name, line in scores.items():
        score, max_score = line.split()
        assert float(score) == float(max_score) > 0, (name, line)


def _generate_and_autograde(bin_dir, env, course, sources):
    """nbgrader generate_assignment (must give our released notebook) and autograde (the solution, as
    alice's submission) for each exercise source in ``sources``; returns "name score max_score" lines from the gradebook."""
    names = [src.stem for src in sources]
    for name, src in zip(names, sources):
        (course / "source" / name).mkdir(parents=True)
        shutil.copy(src, course / "source" / name / src.name)
        (course / "submitted" / "alice" / name).mkdir(parents=True)
        shutil.copy(src, course / "submitted" / "alice" / name / src.name)  # the solution, as submitted
    run = lambda *args: subprocess.run([str(bin_dir / "nbgrader"), *args], cwd=course, env=env,
                                       capture_output=True, text=True, timeout=600)
    for name in names:
        out = run("generate_assignment", name, "--force")
        assert out.returncode == 0, out.stdout + out.stderr
        theirs = read_notebook(course / "release" / name / f"{name}.ipynb")
        ours = read_notebook(ROOT / "exercises" / f"{name}.ipynb")
        strip = lambda nb: [(c["cell_type"], "".join(c["source"])) for c in nb["cells"]]
        assert strip(theirs) == strip(ours), name
        out = run("autograde", name, "--create")
        assert out.returncode == 0, out.stdout + out.stderr
    code = ("from nbgrader.api import Gradebook\n"
            "gb = Gradebook('sqlite:///gradebook.db')\n"
            f"for name in {names!r}:\n"
            "    s = gb.find_submission(name, 'alice')\n"
            "    print(name, s.score, s.max_score)\n"
            "gb.close()\n")
    out = subprocess.run([str(bin_dir / "python"), "-c", code], cwd=course, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout
