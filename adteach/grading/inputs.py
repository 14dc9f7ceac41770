"""Collecting submissions: which notebook is whose, from files, folders and LMS downloads.

``adteach grade SOURCE INPUT ...`` accepts, in any mix:

* notebook files (the student is the file's stem, or the folder above it when
  the file is named like the exercise, as in ``alice/03_reverse_mode.ipynb``);
* folders in nbgrader's layout, ``submitted/<student>/<assignment>/<notebook>.ipynb``,
  and any other folder of notebooks (``<student>/<notebook>.ipynb`` or loose
  ``<student>.ipynb``; ``.ipynb_checkpoints`` and hidden folders are ignored);
* ``.zip`` bulk downloads from Canvas ("Download Submissions": members named
  ``<name>_<userid>_<submissionid>_<file>``, with ``_late_`` / ``_LATE_`` after
  the name for late work and ``-1``, ``-2`` appended to re-submitted files) and
  from Moodle ("Download all submissions": ``<Full Name>_<participantid>_
  assignsubmission_file_<file>`` or, with "download submissions in folders",
  ``<Full Name>_<participantid>_assignsubmission_file/<file>``); the same names
  are recognised in a folder where such a download was unpacked. The student
  chose only ``<file>``: names are read from the left (the first id is the LMS's),
  and a name both LMS's patterns match is read as the LMS of ``--lms`` or of the
  download's other names, or else skipped as ambiguous, so that no file name can
  put a notebook under another student's id.

Zip members are never extracted by name: each one is read (at most
:data:`MAX_MEMBER_MB`, :data:`MAX_ARCHIVE_MB` in all) into a private temporary
directory under a generated name, so no member path can escape it. Member
names that are not valid UTF-8, absolute or contain ``..`` are reported, not
followed.

Which notebook is graded for a student: notebooks whose nbgrader-graded cells
(solution and test cells) share no ``grade_id`` with the source belong to
another exercise. Among a student's notebooks, one that matches the source is
graded (preferring the one named like the source) and the rest are listed as
skipped with the reason; a student whose only notebooks belong to other
exercises gets the status ``mismatched``, never a silent 0.
"""

from __future__ import annotations

import csv
import io
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Iterable

from .notebook import (NotebookError, grade_id, is_grade, is_solution, loads_notebook, read_notebook,
                       read_submission)

__all__ = [
    "InputError",
    "Submission",
    "Collection",
    "collect",
    "load_roster",
    "parse_lms_name",
    "MAX_MEMBER_MB",
    "MAX_ARCHIVE_MB",
]

MAX_MEMBER_MB = 64        # one notebook read from a zip
MAX_ARCHIVE_MB = 4096     # all members of one zip together
MAX_MEMBERS = 50_000

_CANVAS = re.compile(r"^(?P<name>.+?)_(?:(?P<late>late|LATE)_)?(?P<id>\d+)_(?P<sub>\d+)_(?P<file>.+)$")
_MOODLE = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_(?P<plugin>[A-Za-z0-9]+)(?:_(?P<file>.+))?$")
# Both name groups are non-greedy: the LMS writes <name>_<id>_ first and the student controls only the
# <file> part after it, so the id is the first one from the left. A name both patterns match (a Canvas
# member whose file is called "x_2222_assignsubmission_file_a.ipynb", a Moodle one whose file is
# "hw_1_2.ipynb") is read as the LMS the download comes from (--lms, or the other members of the same
# download), or reported as ambiguous; never as the student the file name points at.
LMS_KINDS = ("canvas", "moodle")
_RESUBMITTED = re.compile(r"-\d+$")   # Canvas appends -1, -2 ... to re-submitted files


class InputError(ValueError):
    """A usage error in what was given to grade: a missing path, a broken zip or roster."""


@dataclass
class Submission:
    """One notebook found in the inputs, and whose it is."""

    student: str                  # the id the report is keyed by (LMS user id, nbgrader student, stem)
    path: str                     # where it came from, for people: a file, or "download.zip:member"
    file: Path | None             # a readable copy on disk (zip members: in the private temp dir)
    origin: str                   # "file", "folder", "nbgrader", "canvas", "moodle"
    name: str | None = None       # the name the LMS put in the file name, if any
    late: bool = False            # Canvas marked it late
    assignment: str | None = None  # nbgrader layout: the assignment folder
    notebook: str = ""            # the notebook's own file name (for matching the source's name)
    status: str | None = None     # preset: "unreadable" (zip member too big, encrypted...), "mismatched"
    error: str | None = None
    notes: list = field(default_factory=list)   # e.g. "zip member name is not UTF-8"
    match: str = "unknown"        # "match", "other" (another exercise's cells), "unknown"
    found_ids: tuple = ()         # graded grade_ids found in the notebook
    archive: bool = False         # read from a zip (``file`` is a private temporary copy)
    lms_raw: str | None = None    # an LMS file name both patterns match, until the download's LMS is known
    lms_nested: bool = False      # ... and it names a folder (the notebook's name is its own)

    def info(self) -> dict:
        """What the report keeps about where this submission came from."""
        out = {"student": self.student, "path": self.path, "origin": self.origin}
        if self.name:
            out["lms_name"] = self.name
        if self.late:
            out["late"] = True
        if self.assignment:
            out["assignment"] = self.assignment
        return out


@dataclass
class Collection:
    submissions: list             # Submission, one per student, in input order
    skipped: list                 # {"path", "student", "reason"} for notebooks not graded


# -- names --------------------------------------------------------------------------------------

def parse_lms_name(name: str, lms: str | None = None) -> dict | None:
    """Student id, name and original file name from a Canvas or Moodle download's file name.

    ``lms`` (``"canvas"`` or ``"moodle"``) is the LMS the download comes from, when known: a name
    that both LMS's patterns match is then read as that one's. Unknown, such a name gives
    ``{"origin": "ambiguous", "id": None, "candidates": [canvas reading, moodle reading]}``.

    >>> parse_lms_name("doejane_late_12345_67890_03_reverse_mode-1.ipynb")["id"]
    '12345'
    >>> parse_lms_name("Jane Doe_4821_assignsubmission_file_03_reverse_mode.ipynb")["origin"]
    'moodle'
    >>> parse_lms_name("aaron_1111_5001_x_2222_assignsubmission_file_a.ipynb", "canvas")["id"]
    '1111'
    >>> parse_lms_name("aaron_1111_5001_x_2222_assignsubmission_file_a.ipynb")["origin"]
    'ambiguous'
    """
    if lms is not None and lms not in LMS_KINDS:
        raise ValueError(f"parse_lms_name: unknown LMS {lms!r}; expected one of {', '.join(LMS_KINDS)}")
    m = _MOODLE.match(name)
    c = _CANVAS.match(name)
    moodle = canvas = None
    if m:
        moodle = {"origin": "moodle", "id": m["id"], "name": m["name"], "late": False,
                  "file": m["file"] or "", "plugin": m["plugin"]}
    if c:
        canvas = {"origin": "canvas", "id": c["id"], "name": c["name"], "late": bool(c["late"]),
                  "file": c["file"]}
    if moodle and canvas:
        if lms == "moodle":
            return moodle
        if lms == "canvas":
            return canvas
        return {"origin": "ambiguous", "id": None, "name": None, "late": False, "file": name,
                "candidates": [canvas, moodle]}
    return moodle or canvas


def _ambiguity(lms: dict) -> str:
    c, m = lms["candidates"]
    return (f"the file name reads both as Canvas user {c['id']}'s ({c['name']!r}, file {c['file']!r}) and as "
            f"Moodle participant {m['id']}'s ({m['name']!r}, file {m['file']!r}); not graded: give --lms "
            "canvas or --lms moodle")


def _notebook_stem(filename: str) -> str:
    stem = PurePosixPath(filename).stem
    return _RESUBMITTED.sub("", stem)


# -- the source's identity ----------------------------------------------------------------------

def _graded_ids(nb: dict) -> set[str]:
    return {gid for c in nb.get("cells", []) if (is_grade(c) or is_solution(c)) and (gid := grade_id(c))}


def _classify(sub: Submission, source_ids: set[str]) -> None:
    if sub.status is not None or sub.file is None:
        return
    try:
        nb = loads_notebook(read_submission(sub.file), sub.path)
    except (OSError, NotebookError):
        return  # the grader reports it as unreadable, with the reason
    found = _graded_ids(nb)
    sub.found_ids = tuple(sorted(found))
    if found & source_ids:
        sub.match = "match"
    elif found:
        sub.match = "other"
    else:
        ids = {c.get("id") for c in nb["cells"] if isinstance(c.get("id"), str)}
        sub.match = "match" if ids & source_ids else "unknown"
        if sub.match == "unknown":
            sub.notes.append("none of the exercise's cells found (no nbgrader metadata, no matching cell ids): "
                             "graded anyway; check that it is this exercise")


# -- walking the inputs -------------------------------------------------------------------------

class _Names:
    """The source's assignment and notebook names, to tell nbgrader layouts and pick notebooks."""

    def __init__(self, source: Path):
        self.notebook = source.stem
        parent = source.parent.name
        self.assignments = {self.notebook} | ({parent} if parent and parent != "source" else set())

    def is_exercise_name(self, filename: str) -> bool:
        return _notebook_stem(filename) == self.notebook


def _lms_submission(lms: dict, raw: str, shown: str, file, notebook: str | None = None) -> Submission:
    """The submission an LMS file name (``raw``, parsed as ``lms``) gives; ``notebook``: the file's own
    name when ``raw`` names the folder it is in."""
    if lms["origin"] == "ambiguous":
        sub = Submission("", shown, file, "ambiguous", notebook=notebook or raw)
        sub.lms_raw, sub.lms_nested = raw, notebook is not None
        return sub
    return Submission(lms["id"], shown, file, lms["origin"], lms["name"], lms["late"],
                      notebook=notebook if notebook is not None else lms["file"])


def _resolve(sub: Submission, kind: str) -> None:
    """Read an ambiguous LMS file name as ``kind``'s."""
    lms = parse_lms_name(sub.lms_raw, kind)
    sub.student, sub.origin, sub.name, sub.late = lms["id"], lms["origin"], lms["name"], lms["late"]
    if not sub.lms_nested:
        sub.notebook = lms["file"]
    sub.lms_raw = None


def _from_file(path: Path, names: _Names, shown: str, hint: str | None = None) -> Submission:
    lms = parse_lms_name(path.name, hint)
    if lms:
        return _lms_submission(lms, path.name, shown, path)
    student = path.stem
    assignment = None
    if names.is_exercise_name(path.name):
        # .../<student>/<notebook>.ipynb or .../<student>/<assignment>/<notebook>.ipynb
        parent = path.resolve().parent
        if parent.name in names.assignments and parent.parent.name:
            assignment = parent.name
            parent = parent.parent
        if parent.name:
            student = parent.name
    return Submission(student, shown, path, "nbgrader" if assignment else "file",
                      assignment=assignment, notebook=path.name)


def _from_folder(root: Path, skipped: list, hint: str | None = None) -> list[Submission]:
    out: list[Submission] = []
    for p in sorted(root.rglob("*.zip")):
        if not any(part.startswith(".") for part in p.relative_to(root).parts):
            skipped.append({"path": str(p), "student": None,
                            "reason": "a zip inside a folder is not opened; give it to adteach grade itself"})
    for p in sorted(root.rglob("*.ipynb")):
        rel = p.relative_to(root).parts
        if any(part.startswith(".") for part in rel):   # .ipynb_checkpoints, hidden folders
            continue
        if p.is_symlink() or not p.is_file():   # reported, never followed or opened (a FIFO would hang)
            what = "a symbolic link (not followed)" if p.is_symlink() else "not a regular file"
            skipped.append({"path": str(p), "student": None, "reason": what})
            continue
        shown = str(p)
        first = parse_lms_name(rel[0], "moodle") if len(rel) > 1 else None
        if len(rel) == 1:
            lms = parse_lms_name(rel[0], hint)
            if lms:
                out.append(_lms_submission(lms, rel[0], shown, p))
            else:
                out.append(Submission(p.stem, shown, p, "folder", notebook=p.name))
        elif first and not first["file"]:   # Moodle's <Full Name>_<id>_assignsubmission_file/<file>
            out.append(Submission(first["id"], shown, p, "moodle", first["name"], notebook=p.name))
        elif len(rel) == 3:
            out.append(Submission(rel[0], shown, p, "nbgrader", assignment=rel[1], notebook=p.name))
        else:
            out.append(Submission(rel[0], shown, p, "folder", notebook=p.name))
    return out


def _member_name(info: zipfile.ZipInfo) -> tuple[str, str | None]:
    """The member's name as text, and a note when it was not UTF-8."""
    if info.flag_bits & 0x800:
        return info.filename, None
    raw = info.filename.encode("cp437")   # zipfile decoded the raw bytes as CP437
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        return info.filename, (f"zip member name {raw!r} is not valid UTF-8 (read as CP437: "
                               f"{info.filename!r})")


def _from_zip(path: Path, tmpdir: Path, skipped: list, hint: str | None = None) -> list[Submission]:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{path}: not a readable zip archive ({type(exc).__name__}: {exc})") from None
    out: list[Submission] = []
    total = 0
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise InputError(f"{path}: {len(infos)} members, more than the {MAX_MEMBERS} a "
                             "submissions download can hold")
        for k, info in enumerate(infos):
            if info.is_dir():
                continue
            name, note = _member_name(info)
            shown = f"{path}:{name}"
            parts = PurePosixPath(name.replace("\\", "/")).parts
            if not parts or parts[0].startswith("__MACOSX") or parts[-1].startswith("._"):
                continue
            if name.startswith(("/", "\\")) or ".." in parts or re.match(r"^[A-Za-z]:", name):
                skipped.append({"path": shown, "student": None,
                                "reason": "unsafe member name (absolute or with '..'); not read"})
                continue
            if any(p.startswith(".") for p in parts):
                continue
            if not parts[-1].lower().endswith(".ipynb"):
                skipped.append({"path": shown, "student": None, "reason": "not a notebook"})
                continue
            lms = parse_lms_name(parts[0], hint if len(parts) == 1 else "moodle")
            if lms is not None and len(parts) > 1 and lms["file"]:
                lms = None    # only Moodle names a folder <Full Name>_<id>_assignsubmission_file
            if lms is None and len(parts) == 1:
                sub = Submission(PurePosixPath(parts[0]).stem, shown, None, "file", notebook=parts[-1])
            elif lms is None:
                sub = Submission(parts[0], shown, None,
                                 "nbgrader" if len(parts) == 3 else "folder",
                                 assignment=parts[1] if len(parts) == 3 else None, notebook=parts[-1])
            else:
                sub = _lms_submission(lms, parts[0], shown, None, None if len(parts) == 1 else parts[-1])
            sub.archive = True
            if note:
                sub.notes.append(note)
            out.append(sub)
            limit = MAX_MEMBER_MB * 2**20
            if info.file_size > limit:
                sub.status, sub.error = "unreadable", f"larger than the {MAX_MEMBER_MB} MB limit for a notebook"
                continue
            try:
                with zf.open(info) as fh:
                    data = fh.read(limit + 1)   # never trust the header's size
            except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError,
                    ValueError) as exc:  # CRC errors, encryption, unknown compression
                sub.status, sub.error = "unreadable", f"cannot read zip member ({type(exc).__name__}: {exc})"
                continue
            if len(data) > limit:
                sub.status, sub.error = "unreadable", f"larger than the {MAX_MEMBER_MB} MB limit for a notebook"
                continue
            total += len(data)
            if total > MAX_ARCHIVE_MB * 2**20:
                raise InputError(f"{path}: more than {MAX_ARCHIVE_MB} MB of notebooks; unpack it and "
                                 "grade the folder instead")
            dest = tmpdir / f"{k:06d}.ipynb"   # a generated name: the member's own name is never a path
            dest.write_bytes(data)
            sub.file = dest
    return out


# -- choosing one notebook per student -------------------------------------------------------------

def _choose(group: list[Submission], names: _Names) -> tuple[Submission, list[tuple[Submission, str]]]:
    """The submission to grade for one student and the others, each with why it is not graded."""
    def rank(s: Submission):
        return (names.is_exercise_name(s.notebook or s.path),
                (s.assignment or "") in names.assignments, s.status is None)

    matching = [s for s in group if s.match == "match"]
    unknown = [s for s in group if s.match == "unknown"]
    if matching:
        pool = matching
    elif unknown:
        pool = unknown
    else:
        pool = []
    if pool:
        chosen = max(pool, key=rank)   # max keeps the first of equals: input order
    else:
        chosen = group[0]
        others = ", ".join(sorted({i for s in group for i in s.found_ids}))
        chosen.status = "mismatched"
        chosen.error = (f"{len(group)} notebook(s) found, none for exercise {names.notebook}: their "
                        f"graded cells ({others}) are not the source's")
    rest = []
    for s in group:
        if s is chosen:
            continue
        if s.match == "other":
            why = f"belongs to another exercise (graded cells {', '.join(s.found_ids[:4])}...)"
        else:
            why = f"another notebook of this student was graded: {chosen.path}"
        rest.append((s, why))
    return chosen, rest


def collect(inputs: Iterable, source: str | os.PathLike, tmpdir: str | os.PathLike,
            lms: Iterable[str] = ()) -> Collection:
    """Find the submissions in ``inputs`` (files, folders, zips) for the exercise ``source``.

    Zip members are copied into ``tmpdir`` (which the caller removes). ``lms``: the LMS the
    downloads come from (``--lms``; only one of ``canvas``/``moodle`` decides anything): a file
    name that both LMS's patterns match is read as that LMS's; without it, as the LMS that the
    other names of the same input (zip, folder) unambiguously are; otherwise it is skipped as
    ambiguous. Raises :class:`InputError` for paths that do not exist and archives that cannot
    be opened.
    """
    kinds = {k for k in lms if k in LMS_KINDS}
    hint = kinds.pop() if len(kinds) == 1 else None
    source = Path(source)
    tmpdir = Path(tmpdir)
    names = _Names(source)
    try:
        source_ids = _graded_ids(read_notebook(source))
    except NotebookError as exc:
        raise InputError(str(exc)) from None
    found: list[Submission] = []
    skipped: list[dict] = []
    for item in inputs:
        p = Path(item)
        if not p.exists():
            raise InputError(f"{item}: no such file or directory")
        if p.is_dir():
            subs = _from_folder(p, skipped, hint)
            if not subs:
                skipped.append({"path": str(p), "student": None, "reason": "folder holds no notebooks"})
        elif p.suffix.lower() == ".zip" or (p.suffix.lower() != ".ipynb" and p.is_file() and not p.is_symlink()
                                                 and zipfile.is_zipfile(p)):
            zipdir = tmpdir / f"zip{len(list(tmpdir.iterdir())):03d}"
            zipdir.mkdir()
            subs = _from_zip(p, zipdir, skipped, hint)
        else:
            subs = [_from_file(p, names, str(item), hint)]
        # names both LMS patterns match: read as the LMS this input's other LMS names all are
        seen_kinds = {s.origin for s in subs if s.origin in LMS_KINDS}
        for s in subs:
            if s.origin == "ambiguous" and len(seen_kinds) == 1:
                _resolve(s, next(iter(seen_kinds)))
        found.extend(subs)
    for s in [s for s in found if s.origin == "ambiguous"]:
        found.remove(s)
        skipped.append({"path": s.path, "student": None, "reason": _ambiguity(parse_lms_name(s.lms_raw))})
    seen_paths: set[str] = set()
    unique = []
    for s in found:   # the same file given twice (a folder and a file in it) is graded once
        on_disk = s.file is not None and tmpdir not in s.file.parents
        key = str(s.file.resolve()) if on_disk else s.path
        if key in seen_paths:
            continue
        seen_paths.add(key)
        unique.append(s)
    for s in unique:
        _classify(s, source_ids)
    groups: dict[str, list[Submission]] = {}
    for s in unique:
        groups.setdefault(s.student, []).append(s)
    chosen: list[Submission] = []
    for student, group in groups.items():
        pick, rest = _choose(group, names)
        chosen.append(pick)
        # one student's files all carry the name the LMS wrote: another name under the same id means a
        # file name that was not the LMS's own (never skip a notebook for it in silence)
        lms_names = sorted({s.name for s in group if s.origin in LMS_KINDS and s.name})
        if len(lms_names) > 1:
            pick.notes.append(f"notebooks under different names claim student id {student} ({', '.join(lms_names)}): "
                              "check which one is theirs")
            rest = [(s, why + f" (its name in the download is {s.name!r}, the graded one's {pick.name!r})"
                     if s.name != pick.name else why) for s, why in rest]
        skipped.extend({"path": s.path, "student": student, "reason": why} for s, why in rest)
    return Collection(chosen, skipped)


# -- the roster -------------------------------------------------------------------------------

_ROSTER_FIELDS = {
    "id": ("id", "studentid", "userid", "user", "participant", "participantid", "canvasid",
           "canvasuserid", "username", "login"),
    "name": ("name", "fullname", "studentname", "student"),
    "email": ("email", "emailaddress", "email_address", "mail"),
    "sis_user_id": ("sisuserid",),
    "sis_login_id": ("sisloginid",),
    "section": ("section", "sections"),
    "id_number": ("idnumber", "matriculationnumber", "studentnumber"),
}


def load_roster(path: str | os.PathLike) -> dict[str, dict]:
    """Read a roster CSV: student id -> {"name", "email", "sis_user_id", "sis_login_id", "section", "id_number"}.

    The id column (``id``, ``student id``, ``user id``, ``participant``, ``username``...)
    holds what the report is keyed by: the Canvas user id, the Moodle participant id or
    the nbgrader student folder. A Canvas gradebook export works as it is (``Student`` is
    then the name, ``ID`` the id). Header names are matched ignoring case, spaces and
    punctuation; a UTF-8 byte-order mark (Excel) is fine.
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise InputError(f"--roster {path}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise InputError(f"--roster {path}: not UTF-8 text (save the CSV as UTF-8)") from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise InputError(f"--roster {path}: empty file; expected a header row with an id column")
    header = [re.sub(r"[^a-z0-9]", "", h.lower()) for h in rows[0]]
    columns: dict[str, int] = {}
    if not any(a in header for a in _ROSTER_FIELDS["id"]) and "student" in header:
        columns["id"] = header.index("student")   # "student,name,email": the student column is the id
    for key, aliases in _ROSTER_FIELDS.items():
        if key in columns:
            continue
        for alias in aliases:
            if alias in header and header.index(alias) not in columns.values():
                columns[key] = header.index(alias)
                break
    if "id" not in columns:
        raise InputError(f"--roster {path}: no id column (expected one of 'id', 'student id', 'user id', "
                         f"'participant', 'username'); header is {rows[0]!r}")
    roster: dict[str, dict] = {}
    for n, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        get = {k: (row[i].strip() if i < len(row) else "") for k, i in columns.items()}
        sid = get.pop("id")
        if not sid or sid.lower().startswith("points possible") or get.get("name", "").strip().lower() == "points possible":
            continue
        if sid in roster:
            raise InputError(f"--roster {path}, line {n}: student id {sid!r} appears twice")
        roster[sid] = {k: v for k, v in get.items() if v}
    return roster
