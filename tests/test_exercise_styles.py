"""Fair exercises: correct answers in students' own styles score full marks, both in the student's own
self-check (the released notebook's public test cells, run in a real Jupyter kernel) and under the real
grader (``adteach grade``: the pristine tests, hidden ones included); each typical mistake loses exactly
the points of the tests it should fail, in both, with feedback that names the real culprit.

The data is in ``tests/exercise_styles/<exercise>.py``, one file per exercise:

* ``SOLUTIONS``: style name -> {cell id: the code of that cell}, applied to the released notebook.
  Each style rewrites every solution cell, in a way different from the source's solution.
* ``MISTAKES``: name -> {"cells": {cell id: code}, "feedback": {grade id: text}, "score": points}. The
  cells are applied on top of the first style. Exactly the tests named in "feedback" fail, in the
  notebook's self-check and in grading, each with a message containing that text (so the public test
  catches what the hidden one catches, with the same words), and the grade is "score".

The released notebook itself, run as it is, fails every test cell with "... is not implemented yet"
and grades 0 (every test with feedback); the source's own solution grades full marks. All submissions
of one exercise (styles, mistakes, the source's solution, the released stub) are graded in one
``grade()`` call, as an instructor would.
"""
import asyncio
import copy
import json
import os
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
        for mistake, spec in data["MISTAKES"].items():
            assert set(spec) == {"cells", "feedback", "score"}, (name, mistake)
            assert spec["feedback"], (name, mistake)


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


def _points(source: dict) -> dict:
    """grade id -> points of every graded test cell of the source."""
    out = {}
    for c in source["cells"]:
        meta = c.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and c["cell_type"] == "code":
            out[meta["grade_id"]] = meta.get("points", 0)
    return out


def _self_check(notebooks: dict, workdir: Path) -> dict:
    """Run each notebook (key -> released notebook with a student's cells) top to bottom in a real kernel,
    as the student does, and return key -> {cell id: (error name, message)} for the cells that raised."""
    import nbclient
    import nbformat

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    results = {}

    async def run(key, nb, limit):
        node = nbformat.from_dict(copy.deepcopy(nb))
        client = nbclient.NotebookClient(node, timeout=300, kernel_name="python3", allow_errors=True,
                                         resources={"metadata": {"path": str(workdir)}})
        async with limit:
            await client.async_execute(env=env)
        errors = {}
        for cell in node.cells:
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    errors[cell.get("id")] = (out["ename"], out["evalue"])
        results[key] = errors

    async def main():
        limit = asyncio.Semaphore(2)  # two kernels at a time (the machine is shared)
        await asyncio.gather(*(run(key, nb, limit) for key, nb in notebooks.items()))

    asyncio.run(main())
    return results


@pytest.mark.parametrize("name", NAMES)
def test_styles_score_full_marks_and_mistakes_are_named(name, tmp_path):
    data = runpy.run_path(str(STYLES / f"{name}.py"))
    source_path = ROOT / "exercises" / "source" / f"{name}.ipynb"
    source = read_notebook(source_path)
    released = read_notebook(ROOT / "exercises" / f"{name}.ipynb")
    source_code = {c["id"]: cell_source(c) for c in source["cells"]}
    points = _points(source)
    styles, mistakes = data["SOLUTIONS"], data["MISTAKES"]
    base = next(iter(styles.values()))
    notebooks = {}
    for style, cells in styles.items():
        for cid, code in cells.items():  # a style of its own, not the source's solution again
            assert _code(code) != _code(source_code[cid]), (style, cid)
        notebooks[("solution", style)] = _submission(released, source, cells, whole=True)
    for mistake, spec in mistakes.items():
        assert set(spec["feedback"]) <= set(points), (mistake, sorted(points))
        notebooks[("mistake", mistake)] = _submission(released, source, {**base, **spec["cells"]}, whole=True)
    files = {}
    for k, (key, nb) in enumerate(notebooks.items()):
        path = tmp_path / f"{key[0]}{k:02d}.ipynb"
        path.write_text(dumps_notebook(nb), encoding="utf-8")
        files[key] = path
    # the source itself (its solution, as a student would hand it in) and the released stub, in the same batch
    files[("source", "solution")] = tmp_path / "source_solution.ipynb"
    files[("source", "solution")].write_bytes(source_path.read_bytes())
    files[("stub", "released")] = ROOT / "exercises" / f"{name}.ipynb"
    report = grade(source_path, list(files.values()), tmp_path / "report", jobs=2, timeout=60)
    assert (tmp_path / "report" / "grades.json").exists()
    kernel_dir = tmp_path / "kernel"
    kernel_dir.mkdir()
    self_check = _self_check({**notebooks, ("stub", "released"): released}, kernel_dir)

    problems = []
    # the released notebook as it is: every test cell says what is not implemented yet, no raw error
    stub = self_check[("stub", "released")]
    for grade_id in points:
        ename, message = stub.get(grade_id, ("", ""))
        if ename != "NotImplementedYet" or "is not implemented yet" not in message:
            problems.append(f"the released notebook's {grade_id}: {ename}: {message}")
    for (kind, label), path in files.items():
        res = _result(report, path)
        if res["status"] != "graded":
            problems.append(f"{label}: status {res['status']}: {json.dumps(res, indent=1)[:3000]}")
            continue
        if kind == "source":  # the source's own solution: full marks
            if not res["score"] == res["max_score"] > 0:
                problems.append(f"the source's solution: graded {res['score']}/{res['max_score']}: {_failures(res)}")
            continue
        if kind == "stub":    # the released notebook as it is: 0, and every failure says something
            if res["score"] != 0 or not all(t["feedback"] for t in res["tests"]):
                problems.append(f"the released stub: graded {res['score']}: {_failures(res)}")
            continue
        errors = self_check[(kind, label)]
        failed = {t["grade_id"] for t in res["tests"] if t["status"] != "pass"}
        if kind == "solution":
            if res["score"] != res["max_score"] or failed:
                problems.append(f"{label}: graded {res['score']}/{res['max_score']}: {_failures(res)}")
            if errors:
                problems.append(f"{label}: the notebook's own tests fail: {errors}")
            continue
        spec = mistakes[label]
        expected = set(spec["feedback"])
        if failed != expected:
            problems.append(f"mistake {label!r}: grading failed {sorted(failed)}, expected {sorted(expected)}: "
                            f"{_failures(res)}")
        if res["score"] != spec["score"] or spec["score"] != res["max_score"] - sum(points[g] for g in expected):
            problems.append(f"mistake {label!r}: scored {res['score']} of {res['max_score']}, expected "
                            f"{spec['score']}")
        public = {cid for cid in errors if cid in points}  # the graded test cells that raised
        if public != expected:  # the student's self-check finds the same, no more, no less
            problems.append(f"mistake {label!r}: the notebook's own tests fail in {sorted(public)}, expected "
                            f"{sorted(expected)}: {errors}")
        tests = {t["grade_id"]: t for t in res["tests"]}
        for grade_id, text in spec["feedback"].items():
            if text not in tests[grade_id]["feedback"]:
                problems.append(f"mistake {label!r}, {grade_id} graded:\n{tests[grade_id]['feedback']}")
            ename, message = errors.get(grade_id, ("", ""))
            # the test's own verdict (CheckFailed), never a raw error from the test code
            if ename not in ("CheckFailed", "NotImplementedYet") or text not in message:
                problems.append(f"mistake {label!r}, {grade_id} in the notebook: {ename}: {message}")
    assert not problems, f"{name}:\n" + "\n".join(problems)
