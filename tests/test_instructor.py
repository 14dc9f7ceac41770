"""The instructor's workflow, end to end with the real ``python -m adteach`` on the real exercises.

One batch grades exercise 03 from every kind of input at once (nbgrader's
layout, a loose notebook, a Canvas and a Moodle bulk-download zip), with a
roster and both LMS exports, and the tests below read the files it wrote.
Student notebooks are made from the released notebook (exercises/) by filling
in the source's solutions (exercises/source/), or left as released, or taken
from another exercise.
"""

from __future__ import annotations

import csv
import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from adteach.grading import load_exercise, read_notebook, release_notebook
from adteach.grading.notebook import cell_source, grade_id, is_solution

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "exercises" / "source" / "03_reverse_mode.ipynb"
OTHER = REPO / "exercises" / "06_gradient_descent.ipynb"
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])}
EX = load_exercise(SOURCE)
MAX = EX.max_score
SOL_CELLS = [grade_id(c) for c in read_notebook(SOURCE)["cells"] if is_solution(c) and c["cell_type"] == "code"]


def _adteach(*args, cwd=None, timeout=300, **kw):
    return subprocess.run([sys.executable, "-m", "adteach", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, env=ENV, timeout=timeout, **kw)


def _notebook(solved=True, replace=None) -> bytes:
    """The released exercise 03 with the source's solutions filled in (``replace``: grade_id -> code)."""
    src = {grade_id(c): c for c in read_notebook(SOURCE)["cells"]}
    nb = release_notebook(read_notebook(SOURCE))
    for cell in nb["cells"]:
        gid = grade_id(cell)
        if replace and gid in replace:
            cell["source"] = replace[gid]
        elif solved and is_solution(cell) and cell["cell_type"] == "code":
            cell["source"] = "\n".join(line for line in cell_source(src[gid]).split("\n")
                                       if "BEGIN SOLUTION" not in line and "END SOLUTION" not in line)
    return json.dumps(nb, indent=1).encode()


WRONG_SIN = ("def sin_backward(g, x):\n    return g * np.sin(x)\n\n"
             "def exp_backward(g, x):\n    return g * np.exp(x)\n\n"
             "def log_backward(g, x):\n    return g / x\n")
HOSTILE = ("def mul_backward(g, x, y):\n    raise ValueError(\"<script>alert('x')</script> \\u00e9\\udc80\")\n\n"
           "def div_backward(g, x, y):\n    return (g / y, -g * x / y ** 2)\n")
XSS_NAME = "Zoë <img src=x onerror=alert(1)>"


def _zip(path: Path, members: dict, raw_names: dict = None) -> Path:
    """A zip with these members; ``raw_names`` patches ASCII placeholders into raw (non-UTF-8) bytes."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    if raw_names:
        data = path.read_bytes()
        for placeholder, raw in raw_names.items():
            assert len(placeholder) == len(raw)
            data = data.replace(placeholder.encode("ascii"), raw)
        path.write_bytes(data)
    return path


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    solved, stub, partial = _notebook(), _notebook(solved=False), _notebook(replace={"ex03-unary": WRONG_SIN})
    other = OTHER.read_bytes()
    # nbgrader's layout: alice has two exercises' notebooks (and a checkpoint), carol only another exercise's
    sub = root / "submitted"
    for rel, data in {"alice/03_reverse_mode/03_reverse_mode.ipynb": solved,
                      "alice/03_reverse_mode/.ipynb_checkpoints/03_reverse_mode-checkpoint.ipynb": stub,
                      "alice/06_gradient_descent/06_gradient_descent.ipynb": other,
                      "bob/03_reverse_mode/03_reverse_mode.ipynb": partial,
                      "carol/06_gradient_descent/06_gradient_descent.ipynb": other}.items():
        (sub / rel).parent.mkdir(parents=True, exist_ok=True)
        (sub / rel).write_bytes(data)
    (root / "loose").mkdir()
    (root / "loose" / "dave.ipynb").write_bytes(stub)
    big = b"{" + b" " * (65 * 2**20) + b"}"
    canvas = _zip(root / "canvas-download.zip", {
        "doejane_12345_678901_03_reverse_mode.ipynb": solved,
        "smithjohn_late_23456_678902_03_reverse_mode-1.ipynb": _notebook(replace={"ex03-binary": HOSTILE}),
        "roeralf_LATE_34567_678903_notes.txt": b"my notes",
        "mXller_45678_678904_03_reverse_mode.ipynb": partial,          # name patched to CP1252 bytes
        "../../evil_56789_678905_03_reverse_mode.ipynb": solved,
        "hugefile_67890_678906_03_reverse_mode.ipynb": big,
        "__MACOSX/._doejane_12345_678901_03_reverse_mode.ipynb": b"\0\0",
    }, raw_names={"mXller": b"m\xfcller"})
    moodle = _zip(root / "moodle-download.zip", {
        "Jane Roe_4821_assignsubmission_file/03_reverse_mode.ipynb": solved,
        "Max Mustermann_4822_assignsubmission_file_03_reverse_mode.ipynb": stub,
        "Max Mustermann_4822_assignsubmission_onlinetext_onlinetext.html": b"<p>hi</p>",
        "Eve Doe_4823_assignsubmission_file_06_gradient_descent.ipynb": other,
        f"{XSS_NAME}_4830_assignsubmission_file_03_reverse_mode.ipynb": solved,
    })
    roster = root / "roster.csv"
    roster.write_text("\ufeffID,Name,Email,SIS User ID,SIS Login ID,Section,ID number\n"
                      "12345,Jane Doe,jane@example.edu,S-12345,jdoe,Sec 1,\n"
                      "alice,Alice Adams,alice@example.edu,S-1,aadams,Sec 2,A1\n"
                      "4821,Jane Roe,roe@example.edu,,,,M-4821\n", encoding="utf-8")
    report = root / "grades"
    t0 = time.monotonic()
    proc = _adteach("grade", SOURCE, sub, root / "loose" / "dave.ipynb", canvas, moodle, "--report", report,
                    "--lms", "canvas", "--lms", "moodle", "--roster", roster, "--jobs", "2", "--progress",
                    "--timeout", "20", cwd=root)
    elapsed = time.monotonic() - t0
    print(f"\ngraded {len(json.loads((report / 'grades.json').read_text())['submissions'])} students "
          f"from 4 inputs in {elapsed:.1f} s")
    return {"root": root, "proc": proc, "report": report,
            "json": json.loads((report / "grades.json").read_text(encoding="utf-8"))}


def _sub(course, student):
    return course["json"]["submissions"][student]


def test_exit_status_is_1_when_some_could_not_be_graded(course):
    proc = course["proc"]
    assert proc.returncode == 1, proc.stderr
    assert "not graded" in proc.stderr and "carol (mismatched)" in proc.stderr


def test_every_input_kind_gives_students_keyed_by_id(course):
    subs = course["json"]["submissions"]
    assert set(subs) == {"alice", "bob", "carol", "dave", "12345", "23456", "45678", "67890",
                         "4821", "4822", "4823", "4830"}
    assert course["json"]["complete"] is True
    origin = {s: r["origin"] for s, r in subs.items()}
    assert origin["alice"] == origin["bob"] == "nbgrader" and _sub(course, "alice")["assignment"] == "03_reverse_mode"
    assert origin["12345"] == "canvas" and origin["4821"] == "moodle"
    assert _sub(course, "alice")["path"].endswith(os.path.join("alice", "03_reverse_mode", "03_reverse_mode.ipynb"))
    assert _sub(course, "12345")["path"].endswith("canvas-download.zip:doejane_12345_678901_03_reverse_mode.ipynb")
    assert _sub(course, "23456")["late"] is True and "late" not in _sub(course, "12345")
    assert _sub(course, "4822")["lms_name"] == "Max Mustermann"


def test_scores(course):
    for student in ("alice", "12345", "4821", "4830"):
        res = _sub(course, student)
        assert (res["status"], res["score"], res["max_score"]) == ("graded", MAX, MAX), (student, res["tests"])
    for student in ("dave", "4822"):   # the released notebook as it is: graded, 0 points
        assert (_sub(course, student)["status"], _sub(course, student)["score"]) == ("graded", 0)
    for student in ("bob", "45678"):   # a wrong sin rule
        res = _sub(course, student)
        tests = {t["grade_id"]: t for t in res["tests"]}
        assert res["status"] == "graded" and 0 < res["score"] < MAX
        assert tests["ex03-test-sin"]["status"] == "fail" and tests["ex03-test-mul"]["status"] == "pass"


def test_another_exercises_notebook_is_mismatched_not_zero(course):
    for student in ("carol", "4823"):
        res = _sub(course, student)
        assert res["status"] == "mismatched", res
        assert "06" in res["error"] and "03_reverse_mode" in res["error"]
    rows = {r["student"]: r for r in csv.DictReader((course["report"] / "grades.csv").open(encoding="utf-8"))}
    assert rows["carol"]["status"] == "mismatched" and rows["carol"]["score"] == ""


def test_the_rest_is_skipped_with_a_reason(course):
    skipped = {Path(s["path"].split(":")[-1]).name if ":" in s["path"] else Path(s["path"]).name: s["reason"]
               for s in course["json"]["skipped"]}
    assert "another exercise" in skipped["06_gradient_descent.ipynb"]          # alice's other notebook
    assert skipped["roeralf_LATE_34567_678903_notes.txt"] == "not a notebook"
    assert skipped["Max Mustermann_4822_assignsubmission_onlinetext_onlinetext.html"] == "not a notebook"
    assert "unsafe member name" in skipped["evil_56789_678905_03_reverse_mode.ipynb"]
    assert not any("checkpoint" in s["path"] or "__MACOSX" in s["path"] for s in course["json"]["skipped"])
    assert "checkpoint" not in json.dumps(course["json"]["submissions"])
    # nothing was extracted next to the zip or above it
    assert sorted(p.name for p in course["root"].iterdir()) == sorted(
        ["submitted", "loose", "canvas-download.zip", "moodle-download.zip", "roster.csv", "grades"])


def test_zip_members_are_read_safely(course):
    huge = _sub(course, "67890")
    assert huge["status"] == "unreadable" and "64 MB limit" in huge["error"]
    mueller = _sub(course, "45678")
    assert mueller["status"] == "graded"
    assert any("not valid UTF-8" in n and "b'm\\xfcller" in n for n in mueller["notes"]), mueller.get("notes")


def test_grades_csv_starts_with_student(course):
    text = (course["report"] / "grades.csv").read_bytes().decode("utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    header = text.splitlines()[0].split(",")
    assert header[0] == "student" and header[3] == "submission"
    assert [t.grade_id for t in EX.tests] == header[7:7 + len(EX.tests)]
    by = {r["student"]: r for r in rows}
    assert list(by) == list(course["json"]["submissions"])
    assert by["alice"]["name"] == "Alice Adams" and by["alice"]["email"] == "alice@example.edu"
    assert float(by["alice"]["score"]) == MAX and by["23456"]["late"] == "yes"


def test_feedback_page_per_student(course):
    fb = course["report"] / "feedback"
    subs = course["json"]["submissions"]
    assert len(list(fb.iterdir())) == len(subs)
    for student, res in subs.items():
        page = course["report"] / res["feedback_page"]
        text = page.read_bytes().decode("utf-8")    # valid UTF-8, or this raises
        for t in res["tests"]:
            assert f"<code>{html.escape(t['grade_id'])}</code>" in text
            assert f"{t['score']:g} / {t['points']:g}" in text
            if t["feedback"]:
                assert html.escape(t["feedback"].encode("utf-8", "replace").decode("utf-8")) in text
    bob = (fb / "bob.html").read_text(encoding="utf-8")
    msg = next(t["feedback"] for t in subs["bob"]["tests"] if t["grade_id"] == "ex03-test-sin")
    assert "sin_backward" in msg and html.escape(msg) in bob
    assert "Score: <strong>" in bob


def test_feedback_escapes_student_controlled_text(course):
    subs = course["json"]["submissions"]
    hostile = subs["23456"]
    assert any("<script>" in t["feedback"] for t in hostile["tests"]), hostile["tests"]
    page = (course["report"] / hostile["feedback_page"]).read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    xss = subs["4830"]
    assert xss["lms_name"] == XSS_NAME
    assert re.fullmatch(r"feedback/4830\.html", xss["feedback_page"])
    page = (course["report"] / xss["feedback_page"]).read_text(encoding="utf-8")
    assert "<img" not in page and html.escape(XSS_NAME) in page


def test_canvas_gradebook_import_file(course):
    rows = list(csv.reader((course["report"] / "canvas.csv").open(encoding="utf-8")))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "03_reverse_mode"]
    assert rows[1][0].strip() == "Points Possible" and float(rows[1][5]) == MAX
    by = {r[1] or r[3]: r for r in rows[2:]}
    assert by["12345"] == ["Jane Doe", "12345", "S-12345", "jdoe", "Sec 1", f"{MAX:g}"]
    assert by["aadams"] == ["Alice Adams", "", "S-1", "aadams", "Sec 2", f"{MAX:g}"]   # nbgrader student, via the roster
    assert by["67890"][5] == ""          # unreadable: an empty grade, never 0
    assert by["23456"][0] == "smithjohn" and float(by["23456"][5]) < MAX
    assert "bob" in course["proc"].stderr and "left out of canvas.csv" in course["proc"].stderr


def test_moodle_grading_worksheet(course):
    rows = list(csv.DictReader((course["report"] / "moodle.csv").open(encoding="utf-8")))
    assert list(rows[0]) == ["Identifier", "Full name", "Email address", "ID number", "Grade", "Maximum Grade",
                             "Feedback comments"]
    by = {r["Identifier"] or r["Email address"]: r for r in rows}
    roe = by["Participant 4821"]
    assert (roe["Full name"], roe["Email address"], roe["ID number"]) == ("Jane Roe", "roe@example.edu", "M-4821")
    assert float(roe["Grade"]) == MAX and float(roe["Maximum Grade"]) == MAX
    assert by["Participant 4823"]["Grade"] == "" and "mismatched" in by["Participant 4823"]["Feedback comments"]
    assert float(by["Participant 4822"]["Grade"]) == 0 and "ex03-test-mul" in by["Participant 4822"]["Feedback comments"]
    assert by["alice@example.edu"]["Identifier"] == ""     # not from Moodle: matched by e-mail on import


def test_progress_bar_count_and_eta(course):
    err = course["proc"].stderr
    n = len(course["json"]["submissions"])
    assert f"grading {n}/{n}" in err and "ETA" in err and "elapsed" in err


def test_report_dir_has_no_temp_files(course):
    names = sorted(p.name for p in course["report"].iterdir())
    assert names == ["canvas.csv", "feedback", "grades.csv", "grades.json", "moodle.csv"]


# -- exit status and usage errors --------------------------------------------------------------

@pytest.mark.parametrize("case", ["missing_submission", "missing_source", "broken_zip", "jobs", "roster",
                                  "report_is_file"])
def test_usage_errors_exit_2_with_a_clear_message(tmp_path, case):
    nb = tmp_path / "a.ipynb"
    nb.write_bytes(_notebook(solved=False))
    args = [SOURCE, nb, "--report", tmp_path / "out"]
    expect = ""
    if case == "missing_submission":
        args[1], expect = tmp_path / "nope.ipynb", "nope.ipynb: no such file or directory"
    elif case == "missing_source":
        args[0], expect = tmp_path / "nosource.ipynb", "nosource.ipynb: no such file"
    elif case == "broken_zip":
        (tmp_path / "dl.zip").write_bytes(b"PK\x03\x04 not really a zip")
        args[1], expect = tmp_path / "dl.zip", "dl.zip: not a readable zip archive"
    elif case == "jobs":
        args += ["--jobs", "0"]
        expect = "--jobs must be at least 1"
    elif case == "roster":
        (tmp_path / "r.csv").write_text("name,mail\nx,y\n")
        args += ["--roster", tmp_path / "r.csv"]
        expect = "no id column"
    else:
        (tmp_path / "out").write_text("")
        expect = "exists and is not a directory"
    proc = _adteach("grade", *args, "--no-progress")
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert expect in proc.stderr and "Traceback" not in proc.stderr


def test_each_result_is_written_as_soon_as_known(tmp_path):
    """All graded: exit 0. While the slow third notebook runs, the first two are already in the report."""
    for name, data in (("ann", _notebook()), ("ben", _notebook(solved=False)),
                       ("cid", _notebook(replace={"ex03-baydin": "import time\ntime.sleep(4)\n"}))):
        (tmp_path / f"{name}.ipynb").write_bytes(data)
    report = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "adteach", "grade", str(SOURCE), *(str(tmp_path / f"{n}.ipynb")
                             for n in ("ann", "ben", "cid")), "--report", str(report), "--no-progress", "-q"],
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = None
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            partial = json.loads((report / "grades.json").read_text(encoding="utf-8"))
        except FileNotFoundError:   # never a torn file (written atomically): only "not there yet"
            partial = None
        if partial and len(partial["submissions"]) == 2 and seen is None:
            seen = partial
            assert proc.poll() is None
            assert (report / "feedback" / "ann.html").exists() and (report / "feedback" / "ben.html").exists()
        time.sleep(0.05)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert seen is not None and seen["complete"] is False and list(seen["submissions"]) == ["ann", "ben"]
    final = json.loads((report / "grades.json").read_text(encoding="utf-8"))
    assert final["complete"] is True and list(final["submissions"]) == ["ann", "ben", "cid"]
    assert final["submissions"]["ann"]["score"] == MAX


# -- the student course and the Binder image ---------------------------------------------------

def _tree(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _sources() -> dict:
    return {p.stem: read_notebook(p) for p in sorted((REPO / "exercises" / "source").glob("*.ipynb"))}


def test_release_student_dir_writes_the_course_without_solutions(tmp_path):
    from adteach.grading.release import _secret_regions, check_course

    out = tmp_path / "course-student"
    proc = _adteach("release", "--student-dir", out, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    files = _tree(out)
    lessons = sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb"))
    sources = _sources()
    assert sorted(k[len("notebooks/"):] for k in files if k.startswith("notebooks/")) == lessons
    assert sorted(k for k in files if k.startswith("exercises/")) == sorted(
        [f"exercises/{n}.ipynb" for n in sources] + ["exercises/README.md"])
    assert {"README.md", "binder/postBuild", "binder/requirements.txt", "pyproject.toml",
            "adteach/__init__.py", "adteach/testing.py"} <= set(files)
    assert not any("source" in Path(k).parts or k.startswith(("tests/", "bench/", ".git/")) for k in files)
    assert os.access(out / "binder" / "postBuild", os.X_OK)
    # every file it wrote, scanned for solution and hidden-test code
    problems, warnings = check_course(files, sources)
    assert problems == []
    for w in warnings:   # a lesson showing a solution is reported on stderr, not hidden
        assert w.startswith("notebooks/") and w in proc.stderr
    for name, nb in sources.items():
        assert files[f"exercises/{name}.ipynb"] == (REPO / "exercises" / f"{name}.ipynb").read_bytes(), \
            f"exercises/{name}.ipynb is not the release of its source (run adteach release)"
    readme = files["README.md"].decode("utf-8")
    assert "pip install -e \".[lessons]\"" in readme and "exercises/" in readme and "hidden" in readme
    assert "For instructors" not in files["exercises/README.md"].decode("utf-8")
    # the check fails on a leak: a source notebook, a hidden test pasted into a lesson
    leaky = dict(files)
    leaky["notebooks/extra.ipynb"] = (REPO / "exercises" / "source" / "03_reverse_mode.ipynb").read_bytes()
    hidden = next(lines for _n, _i, kind, lines in _secret_regions(sources["03_reverse_mode"], "03")
                  if kind == "hidden test")
    leaky["notes.md"] = ("hint:\n" + "\n".join(f"    {line}" for line in sorted(hidden))).encode()
    found, _ = check_course(leaky, sources)
    assert any(p.startswith("notebooks/extra.ipynb") and "delimiters" in p for p in found), found
    assert any(p.startswith("notes.md: holds the hidden test of 03_reverse_mode") for p in found), found
    # a second release into the same folder (e.g. a clone of the student repository) updates it
    (out / ".git").mkdir()
    stale = json.loads((out / ".adteach-release.json").read_text())
    stale["files"].append("notebooks/99_removed.ipynb")
    (out / ".adteach-release.json").write_text(json.dumps(stale))
    (out / "notebooks" / "99_removed.ipynb").write_text("{}")
    again = _adteach("release", "--student-dir", out, cwd=REPO)
    assert again.returncode == 0, again.stderr
    assert not (out / "notebooks" / "99_removed.ipynb").exists() and (out / ".git").is_dir()
    # a folder that no release wrote is refused
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "thesis.tex").write_text("x")
    refused = _adteach("release", "--student-dir", tmp_path / "other", cwd=REPO)
    assert refused.returncode == 2 and "not written by adteach release" in refused.stderr
    assert (tmp_path / "other" / "thesis.tex").exists()


def _binder_repo(tmp_path) -> Path:
    """A copy of the instructor repository's layout (with a git history) for postBuild to run in."""
    repo = tmp_path / "repo"
    for d in ("binder", "exercises", "notebooks", "bench", ".ci"):
        shutil.copytree(REPO / d, repo / d, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    shutil.copytree(REPO / "tests" / "grading_data", repo / "tests" / "grading_data")
    shutil.copy(REPO / "tests" / "test_grading.py", repo / "tests")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return repo


def test_binder_image_holds_no_solutions(tmp_path):
    import numpy

    repo = _binder_repo(tmp_path)
    venv_dir = tmp_path / "kernel-env"   # postBuild installs the kernel config into this environment only
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv_dir)], check=True)
    env = {k: v for k, v in ENV.items() if k not in ("REPO_DIR", "ADTEACH_STRIP_INSTRUCTOR_FILES")}
    env.update(ADTEACH_PYTHON=str(venv_dir / "bin" / "python"),
               PYTHONPATH=os.pathsep.join([str(REPO), str(Path(numpy.__file__).parents[1])]),
               IPYTHONDIR=str(tmp_path / "ipython"))
    # run by hand (as test_binder.py does, in the instructor's checkout): nothing is removed
    by_hand = subprocess.run(["bash", "binder/postBuild"], cwd=repo, env=env, capture_output=True, text=True)
    assert by_hand.returncode == 0, by_hand.stderr
    assert (repo / "exercises" / "source").is_dir() and (repo / ".git").is_dir()
    # as repo2docker runs it: REPO_DIR is the clone the image is built from
    r2d = subprocess.run(["bash", "binder/postBuild"], cwd=repo, env={**env, "REPO_DIR": str(repo)},
                         capture_output=True, text=True)
    assert r2d.returncode == 0, r2d.stderr
    assert (venv_dir / "etc" / "ipython" / "ipython_kernel_config.py").is_file()
    for gone in ("exercises/source", "tests", "bench", ".ci", ".git"):
        assert not (repo / gone).exists(), gone
    assert sorted(p.name for p in (repo / "exercises").glob("*.ipynb")) == sorted(f"{n}.ipynb" for n in _sources())
    assert len(list((repo / "notebooks").glob("*.ipynb"))) == len(list((REPO / "notebooks").glob("*.ipynb")))
    problems, _ = check_course_of(repo)
    assert problems == []


def check_course_of(folder: Path):
    from adteach.grading.release import check_course

    return check_course(_tree(folder), _sources())
