"""Fair exercises: correct answers in students' own styles score full marks under the real grader,
and each typical mistake scores less with feedback that names it.

The data is in ``tests/exercise_styles/<exercise>.py``, one file per exercise:

* ``SOLUTIONS``: style name -> {cell id: the code of that cell}, applied to the released notebook.
  Each style rewrites every solution cell, in a way different from the source's solution.
* ``MISTAKES``: name -> {"cells": {cell id: code}, "feedback": {grade id: text}}. The cells are
  applied on top of the first style; the submission must lose points, and each test named in
  "feedback" must fail with a message containing that text.

All submissions of one exercise are graded in one ``grade()`` call, as an instructor would.
"""
import copy
import json
import runpy
import textwrap
from pathlib import Path

import pytest

from adteach.grading import grade, read_notebook
from adteach.grading.notebook import cell_source, dumps_notebook, is_solution

ROOT = Path(__file__).resolve().parents[1]
STYLES = Path(__file__).resolve().parent / "exercise_styles"
NAMES = sorted(p.stem for p in STYLES.glob("*.py"))


def test_every_exercise_has_styles_and_mistakes():
    exercises = sorted(p.stem for p in (ROOT / "exercises" / "source").glob("*.ipynb"))
    assert NAMES == exercises
    for name in NAMES:
        data = runpy.run_path(str(STYLES / f"{name}.py"))
        assert len(data["SOLUTIONS"]) >= 2, name
        assert len(data["MISTAKES"]) >= 3, name


def _code(text: str) -> str:
    return textwrap.dedent(text).strip("\n") + "\n"


def _submission(released: dict, source: dict, cells: dict, *, whole: bool) -> dict:
    """The released notebook with ``cells`` (id -> code) written into its solution cells."""
    nb = copy.deepcopy(released)
    by_id = {c["id"]: c for c in nb["cells"]}
    solution_ids = {c["id"] for c in source["cells"] if is_solution(c)}
    assert set(cells) <= solution_ids, f"not solution cells: {sorted(set(cells) - solution_ids)}"
    if whole:  # a full solution: every solution cell is the student's own
        assert set(cells) == solution_ids, f"cells not written: {sorted(solution_ids - set(cells))}"
    for cid, code in cells.items():
        by_id[cid]["source"] = _code(code)
    return nb


def _result(report: dict, path: Path) -> dict:
    for key, res in report["submissions"].items():
        if str(path) in (key, res.get("path")):
            return res
    raise KeyError(path)


def _failures(res: dict) -> str:
    return json.dumps([(t["grade_id"], t["status"], t["feedback"]) for t in res["tests"] if t["status"] != "pass"],
                      indent=1)


@pytest.mark.parametrize("name", NAMES)
def test_styles_score_full_marks_and_mistakes_are_named(name, tmp_path):
    data = runpy.run_path(str(STYLES / f"{name}.py"))
    source_path = ROOT / "exercises" / "source" / f"{name}.ipynb"
    source = read_notebook(source_path)
    released = read_notebook(ROOT / "exercises" / f"{name}.ipynb")
    source_code = {c["id"]: cell_source(c) for c in source["cells"]}
    styles, mistakes = data["SOLUTIONS"], data["MISTAKES"]
    base = next(iter(styles.values()))
    paths = {}
    for k, (style, cells) in enumerate(styles.items()):
        for cid, code in cells.items():  # a style of its own, not the source's solution again
            assert _code(code) != _code(source_code[cid]), (style, cid)
        paths[("solution", style)] = _submission(released, source, cells, whole=True)
    for mistake, spec in mistakes.items():
        paths[("mistake", mistake)] = _submission(released, source, {**base, **spec["cells"]}, whole=True)
    files = {}
    for k, (key, nb) in enumerate(paths.items()):
        path = tmp_path / f"{key[0]}{k:02d}.ipynb"
        path.write_text(dumps_notebook(nb), encoding="utf-8")
        files[key] = path
    report = grade(source_path, list(files.values()), tmp_path / "report", jobs=2, timeout=60)

    for (kind, label), path in files.items():
        res = _result(report, path)
        assert res["status"] == "graded", (label, res)
        if kind == "solution":
            assert res["score"] == res["max_score"] > 0, f"{name}, {label}: {_failures(res)}"
            continue
        assert res["score"] < res["max_score"], f"{name}, mistake {label!r} scored full marks"
        tests = {t["grade_id"]: t for t in res["tests"]}
        for grade_id, text in mistakes[label]["feedback"].items():
            test = tests[grade_id]
            assert test["status"] != "pass", f"{name}, mistake {label!r}: {grade_id} passed"
            assert text in test["feedback"], f"{name}, mistake {label!r}, {grade_id}:\n{test['feedback']}"
