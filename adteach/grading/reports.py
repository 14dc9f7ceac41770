"""The grading report: grades.json, grades.csv, one feedback page per student, LMS imports.

Everything is written atomically (a temporary file in the target directory,
then ``os.replace``), as UTF-8, and can be rewritten after every graded
submission, so an interrupted run leaves a consistent report of what was
graded (``"complete": false`` until the end).

* ``grades.json``: the exercise, its tests and settings, and ``submissions``
  keyed by student, each with its ``path``, ``status``, ``score``, per-test
  results and feedback, flags for review; ``skipped`` lists notebooks that
  were not graded and why.
* ``grades.csv``: one row per student, starting with ``student``.
* ``feedback/<student>.html``: what the student gets back, as nbgrader's
  ``generate_feedback`` gives: each test, its points and its message.
* ``canvas.csv``: Canvas's gradebook import format (``Student``, ``ID``,
  ``SIS User ID``, ``SIS Login ID``, ``Section``, then the assignment column;
  the second row is the ``Points Possible`` row of Canvas's own export, which
  the import skips). Canvas matches rows by ``ID`` (the user id in a Canvas
  download's file names) or the SIS columns (from ``--roster``).
* ``moodle.csv``: Moodle's assignment grading worksheet ("Upload grading
  worksheet"): ``Identifier`` (``Participant <id>``, the id in a Moodle
  download's file names), ``Full name``, ``Email address``, ``ID number``,
  ``Grade``, ``Maximum Grade``, ``Feedback comments``. The gradebook's "Import
  grades from CSV" can use the same file, mapping ``Email address`` or
  ``ID number`` to the user and ``Grade`` to the grade item.

Students that were not graded (unreadable, mismatched, errors) get an empty
grade in the LMS files, never a 0, and a status in the report.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import os
import re
from pathlib import Path

from .notebook import atomic_write_bytes

__all__ = ["write_report", "feedback_name", "feedback_html", "LMS_FORMATS", "GRADED"]

LMS_FORMATS = ("canvas", "moodle")
GRADED = "graded"


def _fmt(x) -> str:
    return f"{x:g}" if isinstance(x, (int, float)) else ""


def _text_cell(s) -> str:
    """A CSV text field that a spreadsheet will not run as a formula."""
    s = "" if s is None else str(s)
    return "'" + s if s[:1] in ("=", "+", "-", "@", "\t", "\r") else s


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "replace")   # lone surrogates from student output become '?'


def _csv_bytes(rows) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerows(rows)
    return _utf8(buf.getvalue())


def feedback_name(student: str) -> str:
    """The feedback page's file name for a student id: safe characters only, never colliding."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", student)[:80].lstrip(".") or "student"
    if safe != student:
        safe += "-" + hashlib.sha256(student.encode("utf-8", "replace")).hexdigest()[:8]
    return safe + ".html"


def _display_name(res: dict) -> str:
    return res.get("name") or res.get("lms_name") or ""


# -- grades.csv -------------------------------------------------------------------------------

def _grades_csv(report: dict) -> bytes:
    test_ids = [t["grade_id"] for t in report["tests"]]
    rows = [["student", "name", "email", "submission", "status", "score", "max_score", *test_ids,
             "late", "flags", "error"]]
    for student, res in report["submissions"].items():
        graded = res["status"] == GRADED
        per_test = {t["grade_id"]: t["score"] for t in res.get("tests", [])}
        rows.append([
            _text_cell(student), _text_cell(_display_name(res)), _text_cell(res.get("email")),
            _text_cell(res.get("path")), res["status"], _fmt(res["score"]) if graded else "",
            _fmt(res["max_score"]), *((_fmt(per_test.get(g, 0.0)) if graded else "") for g in test_ids),
            "yes" if res.get("late") else "", len(res.get("flags", [])), _text_cell(res.get("error") or ""),
        ])
    return _csv_bytes(rows)


# -- LMS files --------------------------------------------------------------------------------

def _canvas_csv(report: dict, assignment: str) -> tuple[bytes, list[str]]:
    rows = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", assignment],
            ["    Points Possible", "", "", "", "", _fmt(report["max_score"])]]
    unmatched = []
    for student, res in report["submissions"].items():
        canvas_id = student if res.get("origin") == "canvas" else ""
        sis_user, sis_login = res.get("sis_user_id", ""), res.get("sis_login_id", "")
        if not (canvas_id or sis_user or sis_login):
            unmatched.append(student)
            continue
        rows.append([_text_cell(_display_name(res) or student), canvas_id, _text_cell(sis_user),
                     _text_cell(sis_login), _text_cell(res.get("section", "")),
                     _fmt(res["score"]) if res["status"] == GRADED else ""])
    return _csv_bytes(rows), unmatched


def _summary(res: dict) -> str:
    """A plain-text feedback comment for the LMS: the score and each failed test's message."""
    if res["status"] != GRADED:
        return f"Not graded ({res['status']}): {res.get('error') or ''}".strip()
    lines = [f"{_fmt(res['score'])}/{_fmt(res['max_score'])} points."]
    for t in res.get("tests", []):
        if t["status"] != "pass":
            msg = (t.get("feedback") or t["status"]).strip().splitlines()
            lines.append(f"{t['grade_id']} ({_fmt(t['score'])}/{_fmt(t['points'])}): {msg[0] if msg else ''}")
    return "\n".join(lines)


def _moodle_csv(report: dict) -> tuple[bytes, list[str]]:
    rows = [["Identifier", "Full name", "Email address", "ID number", "Grade", "Maximum Grade",
             "Feedback comments"]]
    unmatched = []
    for student, res in report["submissions"].items():
        ident = f"Participant {student}" if res.get("origin") == "moodle" else ""
        email, idnum = res.get("email", ""), res.get("id_number", "")
        if not (ident or email or idnum):
            unmatched.append(student)
            continue
        rows.append([ident, _text_cell(_display_name(res) or student), _text_cell(email), _text_cell(idnum),
                     _fmt(res["score"]) if res["status"] == GRADED else "", _fmt(res["max_score"]),
                     _text_cell(_summary(res))])
    return _csv_bytes(rows), unmatched


# -- feedback pages ---------------------------------------------------------------------------

_STYLE = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #ccc;padding:.4rem .6rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}.pass{color:#176a1d}.fail{color:#a31515}pre{white-space:pre-wrap;margin:0;font-size:.9em}
.total{font-size:1.3em}"""


def feedback_html(report: dict, student: str, res: dict) -> str:
    """One student's feedback page (every student-controlled string is escaped)."""
    e = html.escape
    name = _display_name(res)
    who = f"{name} ({student})" if name and name != student else student
    title = f"Feedback: {report['exercise']}, {who}"
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{e(title)}</title><style>{_STYLE}</style></head><body>",
           f"<h1>{e(report['exercise'])}</h1>",
           f"<p>Student: <strong>{e(who)}</strong><br>Submission: <code>{e(str(res.get('path', '')))}</code></p>"]
    if res["status"] == GRADED:
        out.append(f'<p class="total">Score: <strong>{e(_fmt(res["score"]))} / {e(_fmt(res["max_score"]))}</strong></p>')
    else:
        out.append(f'<p class="total fail">Not graded ({e(res["status"])}): {e(res.get("error") or "")}</p>')
    out.append("<table><thead><tr><th>test</th><th>points</th><th>result</th><th>message</th></tr></thead><tbody>")
    for t in res.get("tests", []):
        cls = "pass" if t["status"] == "pass" else "fail"
        msg = t.get("feedback") or ("" if t["status"] == "pass" else t["status"])
        line = f" (line {t['line']})" if isinstance(t.get("line"), int) else ""
        out.append(f"<tr><td><code>{e(t['grade_id'])}</code></td>"
                   f"<td>{e(_fmt(t['score']))} / {e(_fmt(t['points']))}</td>"
                   f'<td class="{cls}">{e(t["status"])}{e(line)}</td><td><pre>{e(msg)}</pre></td></tr>')
    out.append("</tbody></table>")
    if report.get("manually_graded"):
        pts = sum(m["points"] for m in report["manually_graded"])
        out.append(f"<p>{e(_fmt(pts))} more point(s) are graded by hand and are not included above.</p>")
    errors = res.get("cell_errors") or []
    if errors:
        out.append("<h2>Errors in your cells</h2><ul>")
        for c in errors:
            out.append(f"<li>{e(str(c.get('label', '')))}: {e(c.get('status', ''))}<pre>{e(c.get('message') or '')}</pre></li>")
        out.append("</ul>")
    out.append("</body></html>\n")
    return "\n".join(out)


# -- everything -------------------------------------------------------------------------------

def write_report(report: dict, report_dir: str | os.PathLike, *, students=None, lms=(),
                 assignment: str | None = None) -> dict:
    """Write the report files; returns {"grades.json": path, ..., "unmatched": {lms: [students]}}.

    ``students``: only these students' feedback pages (default: all of them);
    ``lms``: any of ``"canvas"``, ``"moodle"``; ``assignment``: the LMS column
    name (default the exercise name; for Canvas ``Name (assignment id)``
    updates that assignment instead of creating a new one).
    """
    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    written: dict = {"unmatched": {}}
    fb_dir = report_dir / "feedback"
    for student in (report["submissions"] if students is None else students):
        res = report["submissions"][student]
        page = fb_dir / feedback_name(student)
        res["feedback_page"] = f"feedback/{page.name}"
        atomic_write_bytes(page, _utf8(feedback_html(report, student, res)))
    json_path = report_dir / "grades.json"
    atomic_write_bytes(json_path, _utf8(json.dumps(report, indent=2, ensure_ascii=False) + "\n"))
    csv_path = report_dir / "grades.csv"
    atomic_write_bytes(csv_path, _grades_csv(report))
    written.update({"grades.json": json_path, "grades.csv": csv_path})
    for kind in lms:
        if kind == "canvas":
            data, unmatched = _canvas_csv(report, assignment or report["exercise"])
        elif kind == "moodle":
            data, unmatched = _moodle_csv(report)
        else:
            raise ValueError(f"unknown LMS format {kind!r}; expected one of {', '.join(LMS_FORMATS)}")
        path = report_dir / f"{kind}.csv"
        atomic_write_bytes(path, data)
        written[f"{kind}.csv"] = path
        written["unmatched"][kind] = unmatched
    return written
