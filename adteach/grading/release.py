"""Build released (student) notebooks from nbgrader source notebooks.

The transformation follows nbgrader's ``generate_assignment`` preprocessors
(LockCells, ClearSolutions, ClearOutput, ClearHiddenTests, ComputeChecksums),
so the released notebooks look like the ones nbgrader itself would produce:

* ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` regions become
  ``# YOUR CODE HERE`` / ``raise NotImplementedError()`` (indented like the
  delimiter); a solution cell without delimiters is replaced whole (code) or
  by ``YOUR ANSWER HERE`` (markdown);
* ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` regions are removed;
* test (grade) and read-only (locked) cells get ``editable: false`` and
  ``deletable: false``; solution cells get ``deletable: false``;
* outputs and execution counts are cleared; cell ids and all other metadata
  are kept; nbgrader checksums are recorded like nbgrader does.

:func:`check_release` verifies that a released notebook contains no solution
code and no hidden-test code.
"""

from __future__ import annotations

import copy
import glob
import hashlib
import json
import os
import re
from pathlib import Path

from .notebook import (
    NotebookError,
    atomic_write_bytes,
    cell_source,
    dumps_notebook,
    grade_id,
    is_grade,
    is_locked,
    is_solution,
    nbgrader_meta,
    read_notebook,
    write_notebook,
)

__all__ = [
    "ReleaseError",
    "CODE_STUB",
    "TEXT_STUB",
    "validate_source",
    "release_notebook",
    "release_file",
    "release",
    "check_release",
    "check_course",
    "release_course",
    "default_output_path",
]

CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
TEXT_STUB = "YOUR ANSWER HERE"
BEGIN_SOLUTION = "BEGIN SOLUTION"
END_SOLUTION = "END SOLUTION"
BEGIN_HIDDEN = "BEGIN HIDDEN TESTS"
END_HIDDEN = "END HIDDEN TESTS"
_GRADE_ID_RE = re.compile(r"^[a-zA-Z0-9_\-]+$")


class ReleaseError(NotebookError):
    """The source notebook is not a valid nbgrader source (or a release check failed)."""


# -- regions ----------------------------------------------------------------------------------

def _split_regions(text: str, begin: str, end: str, what: str) -> list[tuple[bool, list[str]]]:
    """Split ``text`` into (inside_region, lines) runs; delimiter lines are dropped.

    Mirrors nbgrader: a line *containing* the delimiter text is a delimiter line.
    """
    runs: list[tuple[bool, list[str]]] = []
    inside = False
    current: list[str] = []
    markers: list[str] = []
    for line in text.split("\n"):
        if begin in line:
            if inside:
                raise ReleaseError(f"nested '{begin}' in {what}")
            runs.append((False, current))
            current = []
            inside = True
            markers.append(line)
        elif end in line:
            if not inside:
                raise ReleaseError(f"'{end}' without '{begin}' in {what}")
            runs.append((True, current))
            current = []
            inside = False
        else:
            current.append(line)
    if inside:
        raise ReleaseError(f"no '{end}' after '{begin}' in {what}")
    runs.append((False, current))
    return runs


def clear_solutions(text: str, cell_type: str = "code", what: str = "cell") -> tuple[str, bool]:
    """Replace solution regions by the stub; returns (new_text, replaced_any)."""
    stub = (CODE_STUB if cell_type == "code" else TEXT_STUB).split("\n")
    out: list[str] = []
    replaced = False
    inside = False
    for line in text.split("\n"):
        if BEGIN_SOLUTION in line:
            if inside:
                raise ReleaseError(f"nested '{BEGIN_SOLUTION}' in {what}")
            inside = True
            replaced = True
            indent = re.match(r"\s*", line).group(0)
            out.extend(indent + s for s in stub)
        elif END_SOLUTION in line:
            if not inside:
                raise ReleaseError(f"'{END_SOLUTION}' without '{BEGIN_SOLUTION}' in {what}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ReleaseError(f"no '{END_SOLUTION}' after '{BEGIN_SOLUTION}' in {what}")
    return "\n".join(out), replaced


def clear_hidden_tests(text: str, what: str = "cell") -> tuple[str, bool]:
    """Remove hidden-test regions (delimiters included); returns (new_text, removed_any)."""
    runs = _split_regions(text, BEGIN_HIDDEN, END_HIDDEN, what)
    kept = [line for inside, lines in runs if not inside for line in lines]
    return "\n".join(kept), any(inside for inside, _ in runs)


def student_view(cell: dict, what: str = "cell") -> str:
    """The cell text as released, except hidden tests are kept (what a grader may assume is given)."""
    text = cell_source(cell)
    text, replaced = clear_solutions(text, cell.get("cell_type", "code"), what)
    if is_solution(cell) and not replaced:
        text = CODE_STUB if cell.get("cell_type") == "code" else TEXT_STUB
    return text


# -- validation -------------------------------------------------------------------------------

def validate_source(nb: dict, name: str = "<source>") -> list[str]:
    """Problems that would make nbgrader (or adteach) reject this source notebook."""
    problems: list[str] = []
    seen: dict[str, int] = {}
    ids: dict[str, int] = {}
    for i, cell in enumerate(nb.get("cells", [])):
        where = f"{name}: cell {i}"
        cid = cell.get("id")
        if isinstance(cid, str):
            if cid in ids:
                problems.append(f"{where}: duplicate cell id {cid!r} (also cell {ids[cid]})")
            ids[cid] = i
        text = cell_source(cell)
        ctype = cell.get("cell_type")
        try:
            _, has_solution = clear_solutions(text, ctype or "code", where)
            _, has_hidden = clear_hidden_tests(text, where)
        except ReleaseError as exc:
            problems.append(str(exc))
            continue
        nbg = nbgrader_meta(cell)
        if has_solution and not is_solution(cell):
            problems.append(f"{where}: solution region in a cell that is not a solution cell")
        if has_hidden and not is_grade(cell):
            problems.append(f"{where}: hidden-test region in a cell that is not a grade (test) cell")
        if not nbg:
            continue
        if nbg.get("schema_version") != 3:
            problems.append(f"{where}: nbgrader schema_version must be 3 (got {nbg.get('schema_version')!r})")
        for key in ("grade", "solution", "locked"):
            if not isinstance(nbg.get(key), bool):
                problems.append(f"{where}: nbgrader metadata needs a boolean {key!r}")
        if is_grade(cell) or is_solution(cell) or nbg.get("locked"):
            gid = grade_id(cell)
            if gid is None:
                problems.append(f"{where}: nbgrader cell has no grade_id")
            elif not _GRADE_ID_RE.match(gid):
                problems.append(f"{where}: grade_id {gid!r} may only contain letters, digits, '_' and '-'")
            elif gid in seen:
                problems.append(f"{where}: duplicate grade_id {gid!r} (also cell {seen[gid]})")
            else:
                seen[gid] = i
        if is_grade(cell):
            pts = nbg.get("points")
            if isinstance(pts, bool) or not isinstance(pts, (int, float)) or pts < 0:
                problems.append(f"{where}: grade cell needs non-negative numeric 'points' (got {pts!r})")
        if ctype == "markdown" and not nbg.get("task", False):
            if is_grade(cell) and not is_solution(cell):
                problems.append(f"{where}: markdown grade cell must also be a solution cell")
            if is_solution(cell) and not is_grade(cell):
                problems.append(f"{where}: markdown solution cell must also be a grade cell")
    return problems


# -- release ----------------------------------------------------------------------------------

def _checksum(cell: dict) -> str:
    """nbgrader.utils.compute_checksum."""
    m = hashlib.md5()
    m.update(cell_source(cell).encode("utf-8"))
    m.update(cell["cell_type"].encode("utf-8"))
    m.update(str(is_grade(cell)).encode("utf-8"))
    m.update(str(is_solution(cell)).encode("utf-8"))
    m.update(str(is_locked(cell)).encode("utf-8"))
    m.update(nbgrader_meta(cell)["grade_id"].encode("utf-8"))
    if is_grade(cell):
        m.update(str(float(nbgrader_meta(cell)["points"])).encode("utf-8"))
    return m.hexdigest()


def release_notebook(source: dict, name: str = "<source>") -> dict:
    """Return the student version of a source notebook (the input is not modified)."""
    problems = validate_source(source, name)
    if problems:
        raise ReleaseError("invalid nbgrader source:\n  " + "\n  ".join(problems))
    nb = copy.deepcopy(source)
    nb.setdefault("metadata", {}).pop("celltoolbar", None)
    for i, cell in enumerate(nb["cells"]):
        what = f"{name}: cell {i}"
        meta = cell.setdefault("metadata", {})
        # LockCells (nbgrader defaults)
        if is_solution(cell):
            meta["deletable"] = False
        elif is_grade(cell) or is_locked(cell):
            meta["deletable"] = False
            meta["editable"] = False
        # ClearSolutions
        text, replaced = clear_solutions(cell_source(cell), cell["cell_type"], what)
        if is_solution(cell) and not replaced:
            text = CODE_STUB if cell["cell_type"] == "code" else TEXT_STUB
        # ClearHiddenTests
        text, _ = clear_hidden_tests(text, what)
        cell["source"] = text
        # ClearOutput
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
            meta.pop("collapsed", None)
            meta.pop("scrolled", None)
        # ComputeChecksums (after hidden tests are cleared, as nbgrader does)
        if grade_id(cell) and (is_grade(cell) or is_solution(cell) or is_locked(cell)):
            meta["nbgrader"]["checksum"] = _checksum(cell)
            meta["nbgrader"]["cell_type"] = cell["cell_type"]
    return nb


def default_output_path(source_path: str | os.PathLike) -> Path:
    """``exercises/source/<name>.ipynb`` -> ``exercises/<name>.ipynb``."""
    source_path = Path(source_path)
    if source_path.parent.name != "source":
        raise ReleaseError(
            f"{source_path}: not inside a 'source' directory; give an output directory explicitly")
    return source_path.parent.parent / source_path.name


def release_file(source_path: str | os.PathLike, output_path: str | os.PathLike | None = None,
                 *, check: bool = False) -> tuple[Path, bool]:
    """Release one source notebook. Returns (output_path, changed).

    With ``check=True`` nothing is written; ``changed`` tells whether the
    released file is missing or out of date.
    """
    source_path = Path(source_path)
    output_path = Path(output_path) if output_path is not None else default_output_path(source_path)
    if output_path.resolve() == source_path.resolve():
        raise ReleaseError(f"{source_path}: refusing to overwrite the source with its release")
    released = release_notebook(read_notebook(source_path), str(source_path))
    leaks = check_release(released, read_notebook(source_path))
    if leaks:
        raise ReleaseError(f"{source_path}: release check failed:\n  " + "\n  ".join(leaks))
    data = dumps_notebook(released).encode("utf-8")
    try:
        changed = output_path.read_bytes() != data
    except OSError:
        changed = True
    if changed and not check:
        write_notebook(released, output_path)
    return output_path, changed


def _expand_sources(sources) -> list[Path]:
    if not sources:
        sources = ["exercises/source"]
    files: list[Path] = []
    for src in sources:
        p = Path(src)
        if p.is_dir():
            files.extend(sorted(p.glob("*.ipynb")))
        elif any(ch in str(src) for ch in "*?["):
            files.extend(sorted(Path(x) for x in glob.glob(str(src))))
        else:
            files.append(p)
    return [f for f in files if ".ipynb_checkpoints" not in f.parts]


def release(sources=None, output_dir: str | os.PathLike | None = None, *,
            check: bool = False) -> list[tuple[Path, Path, bool]]:
    """Release source notebooks (files, directories or globs; default ``exercises/source``).

    Each ``dir/source/x.ipynb`` goes to ``output_dir/x.ipynb``, or to
    ``dir/x.ipynb`` when no output directory is given. Returns
    ``[(source, output, changed), ...]``.
    """
    results = []
    for src in _expand_sources(sources):
        out = Path(output_dir) / src.name if output_dir is not None else default_output_path(src)
        out, changed = release_file(src, out, check=check)
        results.append((src, out, changed))
    return results


# -- checking a release -----------------------------------------------------------------------

def _strings(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, list):
        for x in obj:
            yield from _strings(x)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _strings(k)
            yield from _strings(v)


def _secret_and_public_lines(source: dict) -> tuple[dict[str, str], set[str]]:
    """Lines that occur only inside solution / hidden-test regions of the source, and the rest."""
    secret: dict[str, str] = {}
    public: set[str] = set()
    for i, cell in enumerate(source.get("cells", [])):
        text = cell_source(cell)
        what = f"cell {i}"
        sol_runs = _split_regions(text, BEGIN_SOLUTION, END_SOLUTION, what)
        whole_solution = is_solution(cell) and len(sol_runs) == 1
        for inside_sol, lines in sol_runs:
            for inside_hidden, hlines in _split_regions("\n".join(lines), BEGIN_HIDDEN, END_HIDDEN, what):
                for line in hlines:
                    key = line.strip()
                    if not key:
                        continue
                    if inside_sol or whole_solution:
                        secret.setdefault(key, "solution")
                    elif inside_hidden:
                        secret.setdefault(key, "hidden test")
                    else:
                        public.add(key)
    for stub in (CODE_STUB, TEXT_STUB):
        public.update(s.strip() for s in stub.split("\n"))
    for cell in source.get("cells", []):  # markdown and metadata text are public too
        if cell.get("cell_type") != "code" and not is_solution(cell):
            public.update(line.strip() for line in cell_source(cell).split("\n"))
    return secret, public


def check_release(released: dict, source: dict) -> list[str]:
    """Problems with a released notebook; an empty list means it is clean.

    Checks that no line that exists only inside a solution or hidden-test region
    of the source (ignoring lines shorter than 4 characters, such as ``)``)
    appears anywhere in the released notebook's JSON (sources, outputs,
    metadata), that no region delimiters remain, that outputs are cleared,
    that test/read-only cells are locked, and that cell ids are kept.
    """
    problems: list[str] = []
    secret, public = _secret_and_public_lines(source)
    released_lines: set[str] = set()
    for s in _strings(released):
        for line in s.split("\n"):
            released_lines.add(line.strip())
    for line, kind in sorted(secret.items()):
        if line in public or len(line) < 4:
            continue
        if line in released_lines:
            problems.append(f"{kind} line present in release: {line!r}")
    for marker in (BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN, END_HIDDEN):
        if any(marker in line for line in released_lines):
            problems.append(f"region delimiter {marker!r} present in release")
    src_cells = source.get("cells", [])
    rel_cells = released.get("cells", [])
    if [c.get("id") for c in src_cells] != [c.get("id") for c in rel_cells]:
        problems.append("cell ids (or the cell order) differ from the source")
    for i, cell in enumerate(rel_cells):
        meta = cell.get("metadata", {})
        if cell.get("cell_type") == "code" and (cell.get("outputs") or cell.get("execution_count") is not None):
            problems.append(f"cell {i}: outputs not cleared")
        if (is_grade(cell) and not is_solution(cell)) or is_locked(cell):
            if meta.get("editable") is not False or meta.get("deletable") is not False:
                problems.append(f"cell {i} ({grade_id(cell)}): test/read-only cell is not locked")
    return problems


# -- the student course -----------------------------------------------------------------------

_MANIFEST = ".adteach-release.json"
_SKIP_PARTS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".hypothesis"}


def _secret_regions(source: dict, name: str) -> list[tuple[str, int, str, frozenset]]:
    """(source, cell index, "solution"/"hidden test", its significant lines) for each secret region."""
    regions = []
    for i, cell in enumerate(source.get("cells", [])):
        what = f"{name}: cell {i}"
        runs = _split_regions(cell_source(cell), BEGIN_SOLUTION, END_SOLUTION, what)
        if is_solution(cell) and len(runs) == 1:
            regions.append((name, i, "solution", runs[0][1]))
            continue
        for inside_sol, lines in runs:
            if inside_sol:
                regions.append((name, i, "solution", lines))
                continue
            for inside_hidden, hlines in _split_regions("\n".join(lines), BEGIN_HIDDEN, END_HIDDEN, what):
                if inside_hidden:
                    regions.append((name, i, "hidden test", hlines))
    return [(n, i, kind, frozenset(line.strip() for line in lines)) for n, i, kind, lines in regions]


def _file_lines(rel: str, data: bytes) -> set[str]:
    text = data.decode("utf-8", "replace")
    if rel.endswith(".ipynb"):
        try:
            return {line.strip() for s in _strings(json.loads(text)) for line in s.split("\n")}
        except ValueError:
            pass
    return {line.strip() for line in text.split("\n")}


def check_course(files: dict, sources: dict) -> tuple[list[str], list[str]]:
    """Scan a student course for solution and hidden-test code: returns (problems, warnings).

    ``files`` maps each relative path to its bytes, ``sources`` each source
    notebook's name to the parsed notebook. Problems: a file that is an
    nbgrader source (region delimiters, or a notebook with nbgrader cells that
    fails :func:`check_release` against the source of the same name); any file
    that holds a hidden-test region of a source, or (outside the lessons in
    ``notebooks/``) a whole solution region, counting its lines of 4 or more
    characters that are not also given to students elsewhere in the sources.
    Warnings: a lesson that shows a whole solution region (the lessons are the
    instructor's own teaching; the release says so rather than guess).
    """
    public: set[str] = set()
    regions = []
    for name, nb in sources.items():
        _secret, pub = _secret_and_public_lines(nb)
        public |= pub
        regions.extend(_secret_regions(nb, name))
    significant = [(n, i, kind, frozenset(x for x in lines if len(x) >= 4 and x not in public))
                   for n, i, kind, lines in regions]
    significant = [r for r in significant if r[3]]
    problems: list[str] = []
    warnings: list[str] = []
    markers = re.compile(r"^\s*#+\s*(BEGIN|END) (SOLUTION|HIDDEN TESTS)\b")
    for rel, data in sorted(files.items()):
        lines = _file_lines(rel, data)
        if any(markers.match(x) for x in lines):
            problems.append(f"{rel}: holds nbgrader solution / hidden-test delimiters (a source notebook?)")
        if rel.endswith(".ipynb"):
            try:
                nb = json.loads(data.decode("utf-8", "replace"))
            except ValueError:
                nb = None
            if isinstance(nb, dict) and any(nbgrader_meta(c) for c in nb.get("cells", []) if isinstance(c, dict)):
                src = sources.get(Path(rel).stem)
                if src is None:
                    problems.append(f"{rel}: an nbgrader notebook with no source of that name to check against")
                else:
                    problems.extend(f"{rel}: {p}" for p in check_release(nb, src))
        for name, i, kind, sig in significant:
            if sig <= lines:
                what = f"{rel}: holds the {kind} of {name} cell {i} ({sorted(sig)[0]!r}...)"
                if kind == "solution" and rel.startswith("notebooks/"):
                    warnings.append(what)
                else:
                    problems.append(what)
    return problems, warnings


_STUDENT_README = """# {title}

Lessons and exercises on automatic differentiation, made with adteach.

* `notebooks/`: {n_lessons} lessons; start with `notebooks/{first_lesson}`.
* `exercises/`: {n_exercises} graded exercises (see `exercises/README.md`).
* `adteach/`: the small autodiff library the lessons use, written to be read.

## Open the course

With Python 3.10 or newer, from a clone of this repository:

    python3 -m venv .venv && .venv/bin/pip install -e ".[lessons]" && .venv/bin/jupyter lab notebooks/{first_lesson}

(on Windows use `.venv\\Scripts\\` instead of `.venv/bin/`). Or with no install: open this
repository on [mybinder.org](https://mybinder.org) (`binder/` holds its configuration).

## Doing and handing in an exercise

Open `exercises/<name>.ipynb`, replace each `# YOUR CODE HERE` / `raise NotImplementedError()`
with your code, and run the test cell below it: no output means it passed, a failing test says
what is wrong. Your instructor grades with more (hidden) tests of the same kind, so make your
code right in general, not only for the cases shown.

Hand in the notebook file itself, as your instructor asks (for example as an upload to the
course's Canvas or Moodle assignment). Work in the notebook you were given: its cells carry
ids the grader uses to find your answers, so do not copy your code into a new notebook, and do
not edit or delete the test cells (the grader runs its own copies anyway).
"""


def _course_files(root: Path, sources: list[Path]) -> dict[str, tuple[bytes, int]]:
    """What the student course holds: relative path -> (bytes, file mode)."""
    files: dict[str, tuple[bytes, int]] = {}

    def add_tree(folder: str, pattern: str = "*") -> None:
        base = root / folder
        if not base.is_dir():
            return
        for p in sorted(base.rglob(pattern)):
            rel = p.relative_to(root)
            if p.is_file() and not (_SKIP_PARTS & set(rel.parts)) and p.suffix not in (".pyc", ".pyo") \
                    and not any(part.endswith(".egg-info") for part in rel.parts):
                files[rel.as_posix()] = (p.read_bytes(), p.stat().st_mode & 0o777)

    lessons = root / "notebooks"
    for p in sorted(lessons.glob("*.ipynb")) if lessons.is_dir() else []:
        files[f"notebooks/{p.name}"] = (p.read_bytes(), 0o644)
    for src in sources:
        released = release_notebook(read_notebook(src), str(src))
        leaks = check_release(released, read_notebook(src))
        if leaks:
            raise ReleaseError(f"{src}: release check failed:\n  " + "\n  ".join(leaks))
        files[f"exercises/{src.name}"] = (dumps_notebook(released).encode("utf-8"), 0o644)
    readme = root / "exercises" / "README.md"
    if readme.is_file():
        text = readme.read_text(encoding="utf-8")
        text = text.split("\n## For instructors", 1)[0].rstrip() + "\n"
        files["exercises/README.md"] = (text.encode("utf-8"), 0o644)
    add_tree("binder")
    add_tree("adteach")
    for name in ("pyproject.toml", ".gitignore", "LICENSE", "LICENSE.txt", "LICENSE.md"):
        if (root / name).is_file():
            files[name] = ((root / name).read_bytes(), 0o644)
    first = sorted(k for k in files if k.startswith("notebooks/"))
    files["README.md"] = (_STUDENT_README.format(
        title="Automatic differentiation: the course", n_lessons=len(first),
        first_lesson=Path(first[0]).name if first else "01_welcome.ipynb",
        n_exercises=len(sources)).encode("utf-8"), 0o644)
    return files


def release_course(student_dir: str | os.PathLike, root: str | os.PathLike = ".") -> dict:
    """Write the student-facing course to ``student_dir``; returns {"written", "removed", "warnings"}.

    The course (from the instructor repository at ``root``): the lessons
    (``notebooks/*.ipynb``), the exercises released from ``exercises/source``
    (never the sources), the students' part of ``exercises/README.md``, the
    ``binder/`` configuration, the ``adteach`` package with ``pyproject.toml``,
    and a README for students. Everything is scanned with :func:`check_course`
    before anything is written; a problem raises :class:`ReleaseError`.
    ``student_dir`` may be a clone of the public student repository (``.git``
    is left alone); files an earlier release wrote and this one does not are
    removed; a non-empty directory that no release wrote is refused.
    """
    root = Path(root)
    out = Path(student_dir)
    source_dir = root / "exercises" / "source"
    sources = sorted(source_dir.glob("*.ipynb")) if source_dir.is_dir() else []
    if not sources:
        raise ReleaseError(f"{source_dir}: no source notebooks; run from the instructor repository's root "
                           "(where exercises/source is)")
    r, o = root.resolve(), out.resolve()
    if o == r or any(o == r / d or r / d in o.parents for d in ("exercises", "notebooks", "adteach", "binder")):
        raise ReleaseError(f"--student-dir {out}: must not be the instructor repository or one of its folders")
    files = _course_files(root, sources)
    problems, warnings = check_course({k: v[0] for k, v in files.items()},
                                      {s.stem: read_notebook(s) for s in sources})
    if problems:
        raise ReleaseError("the student course would leak:\n  " + "\n  ".join(problems))
    manifest_path = out / _MANIFEST
    previous: list[str] = []
    if out.exists():
        if not out.is_dir():
            raise ReleaseError(f"--student-dir {out}: exists and is not a directory")
        if manifest_path.is_file():
            try:
                previous = list(json.loads(manifest_path.read_text(encoding="utf-8"))["files"])
            except (ValueError, KeyError, TypeError):
                raise ReleaseError(f"{manifest_path}: unreadable; remove it to release afresh") from None
        elif any(p.name != ".git" for p in out.iterdir()):
            raise ReleaseError(f"--student-dir {out}: not empty and not written by adteach release "
                               "(give a new or empty directory, or a clone of the student repository)")
    for rel, (data, mode) in files.items():
        dest = out / rel
        atomic_write_bytes(dest, data)
        os.chmod(dest, mode | 0o644)
    removed = []
    for rel in previous:
        if rel not in files and ".." not in Path(rel).parts and not Path(rel).is_absolute():
            try:
                (out / rel).unlink()
                removed.append(rel)
            except FileNotFoundError:
                pass
    atomic_write_bytes(manifest_path, (json.dumps({"files": sorted(files)}, indent=1) + "\n").encode("utf-8"))
    return {"written": sorted(files), "removed": removed, "warnings": warnings}
