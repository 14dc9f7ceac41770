"""One student's upload never sets another student's grade (REDTEAM.md "impersonation").

A student controls only the <file> part of an LMS download's member name. Attacker "aaron" (Canvas
user 1111) hands in his own correct notebook and, besides it, the empty stubs under the file name
``x_2222_assignsubmission_file_square.ipynb``, which Canvas calls
``aaron_1111_5001_x_2222_assignsubmission_file_square.ipynb``; 2222 is the victim's user id. Read
with Moodle's pattern (greedy, tried first) that member was participant 2222's, and the victim's own
correct notebook was skipped as "another notebook of this student". Graded here with the real
sandbox, on the toy exercise (square 1, dsquare 2, numerical_derivative 1: a correct notebook is 4/4).
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from adteach.grading import read_notebook, release_notebook, sandbox
from adteach.grading.inputs import collect, parse_lms_name

DATA = Path(__file__).parent / "grading_data"
SOURCE = DATA / "square.ipynb"

SOLVED = {
    "square": "def square(x):\n    return x * x",
    "dsquare": "def dsquare(x):\n    return 2.0 * np.asarray(x, dtype=float)",
    "numerical_derivative": "def numerical_derivative(f, x, h=1e-6):\n    return (f(x + h) - f(x - h)) / (2 * h)",
}


def _gid(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def released() -> dict:
    return release_notebook(read_notebook(SOURCE))


def solved() -> dict:
    nb = released()
    for cell in nb["cells"]:
        if _gid(cell) in SOLVED:
            cell["source"] = SOLVED[_gid(cell)]
    return nb


def canvas_zip(dest: Path, victim_first=False, victim_file="square.ipynb") -> Path:
    members = [("aaron_1111_5001_square.ipynb", solved()),
               ("aaron_1111_5001_x_2222_assignsubmission_file_square.ipynb", released())]   # the stubs: 0
    victim = [(f"victim_2222_5002_{victim_file}", solved())]
    members = victim + members if victim_first else members + victim
    with zipfile.ZipFile(dest, "w") as zf:
        for name, nb in members:
            zf.writestr(name, json.dumps(nb))
    return dest


def moodle_zip(dest: Path) -> Path:
    members = [("Mallory_1111_assignsubmission_file_square.ipynb", solved()),
               ("Mallory_1111_assignsubmission_file_x_2222_assignsubmission_file_square.ipynb", released()),
               ("Victor Victim_2222_assignsubmission_file_my square.ipynb", solved())]
    with zipfile.ZipFile(dest, "w") as zf:
        for name, nb in members:
            zf.writestr(name, json.dumps(nb))
    return dest


def _grade(tmp_path: Path, inputs, *extra, name="report") -> tuple[dict, Path]:
    report = tmp_path / name
    roster = tmp_path / "roster.csv"
    roster.write_text("Student,ID,SIS User ID\nAaron A,1111,a1\nVictor Victim,2222,v2\n")
    proc = subprocess.run([sys.executable, "-m", "adteach", "grade", str(SOURCE), *map(str, inputs), "--report",
                           str(report), "--roster", str(roster), "--timeout", "3", "--jobs", "2", *extra],
                          capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads((report / "grades.json").read_text()), report


needs_bwrap = pytest.mark.skipif(sandbox.bwrap_path() is None, reason="needs bubblewrap (apt-get install bubblewrap)")


@needs_bwrap
@pytest.mark.parametrize("victim_first, victim_file, lms", [
    (False, "square.ipynb", "canvas"),       # the red team's impersonation_canvas.zip
    (False, "my square.ipynb", "canvas"),    # ... _victim_renamed.zip
    (True, "my square.ipynb", "canvas"),
    (False, "my square.ipynb", None),        # no --lms: the zip's other names are Canvas's
])
def test_an_upload_named_like_another_students_is_graded_as_its_uploaders(tmp_path, victim_first, victim_file, lms):
    z = canvas_zip(tmp_path / "submissions.zip", victim_first, victim_file)
    report, folder = _grade(tmp_path, [z], *(["--lms", lms] if lms else []))
    subs = report["submissions"]
    assert set(subs) == {"1111", "2222"}
    assert subs["2222"]["score"] == 4 and subs["2222"]["path"].endswith(f"victim_2222_5002_{victim_file}"), subs["2222"]
    assert subs["1111"]["score"] == 4 and subs["1111"]["path"].endswith("aaron_1111_5001_square.ipynb"), subs["1111"]
    [stubs] = [s for s in report["skipped"] if "x_2222_assignsubmission" in s["path"]]
    assert stubs["student"] == "1111", stubs          # the attacker's own second notebook
    if lms:
        rows = list(csv.DictReader(io.StringIO((folder / "canvas.csv").read_text())))
        scores = {r["SIS User ID"]: r for r in rows if r.get("SIS User ID") in ("a1", "v2")}
        assert {k: float(next(v for key, v in r.items() if key.startswith("square")))
                for k, r in scores.items()} == {"a1": 4.0, "v2": 4.0}, rows


@needs_bwrap
def test_moodle_download_and_its_unpacked_folder(tmp_path):
    z = moodle_zip(tmp_path / "moodle.zip")
    report, _ = _grade(tmp_path, [z], "--lms", "moodle")
    assert {k: v["score"] for k, v in report["submissions"].items()} == {"1111": 4, "2222": 4}
    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    with zipfile.ZipFile(z) as zf:
        zf.extractall(unpacked)
    report2, _ = _grade(tmp_path, [unpacked], name="report2")      # no --lms: the names decide
    assert {k: v["score"] for k, v in report2["submissions"].items()} == {"1111": 4, "2222": 4}


def test_names_parse_from_the_left_and_ambiguity_is_reported(tmp_path):
    attack = "aaron_1111_5001_x_2222_assignsubmission_file_square.ipynb"
    assert parse_lms_name(attack, "canvas")["id"] == "1111"
    assert parse_lms_name(attack, "canvas")["file"] == "x_2222_assignsubmission_file_square.ipynb"
    assert parse_lms_name(attack)["origin"] == "ambiguous"
    flat = "Mallory_1111_assignsubmission_file_x_2222_assignsubmission_file_square.ipynb"
    assert parse_lms_name(flat)["id"] == "1111" and parse_lms_name(flat)["name"] == "Mallory"
    honest = "Jane Doe_4821_assignsubmission_file_hw_1_2_square.ipynb"   # reads as Canvas user 1 too
    assert parse_lms_name(honest, "moodle")["id"] == "4821"
    assert parse_lms_name("doejane_LATE_12345_67890_square-1.ipynb")["late"] is True
    with pytest.raises(ValueError, match="unknown LMS 'blackboard'"):
        parse_lms_name(attack, "blackboard")
    # a zip holding only a name both patterns match, no --lms: skipped as ambiguous, graded as no one's
    only = tmp_path / "only.zip"
    with zipfile.ZipFile(only, "w") as zf:
        zf.writestr(attack, json.dumps(released()))
    (tmp_path / "tmp").mkdir()
    found = collect([only], SOURCE, tmp_path / "tmp")
    assert found.submissions == []
    [skip] = found.skipped
    assert "Canvas user 1111" in skip["reason"] and "Moodle participant 2222" in skip["reason"] \
        and "--lms" in skip["reason"], skip
    (tmp_path / "tmp2").mkdir()
    found = collect([only], SOURCE, tmp_path / "tmp2", lms=["canvas"])
    assert [s.student for s in found.submissions] == ["1111"]
