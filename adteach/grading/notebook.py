"""Reading, writing and classifying nbgrader notebooks with the standard library only.

adteach does not depend on nbformat or nbgrader: a notebook is the plain JSON
document of nbformat 4, and nbgrader's cell metadata is read the way nbgrader
reads it (``nbgrader.utils.is_grade`` / ``is_solution`` / ``is_locked``).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

__all__ = [
    "NotebookError",
    "read_notebook",
    "loads_notebook",
    "dumps_notebook",
    "write_notebook",
    "atomic_write_bytes",
    "cell_source",
    "nbgrader_meta",
    "is_grade",
    "is_solution",
    "is_locked",
    "is_test",
    "grade_id",
]


class NotebookError(ValueError):
    """A file is not a readable nbformat-4 notebook, or not a valid nbgrader source."""


def cell_source(cell: dict) -> str:
    """The source of a cell as one string (nbformat allows a list of lines)."""
    src = cell.get("source", "")
    if isinstance(src, list):
        return "".join(s for s in src if isinstance(s, str))
    return src if isinstance(src, str) else ""


def loads_notebook(data: bytes | str, name: str = "<notebook>") -> dict:
    """Parse notebook JSON and check the structure the grader relies on.

    Raises NotebookError for anything that is not JSON, not an object, has no
    ``cells`` list, or has cells that are not objects with a string
    ``cell_type``. Cell sources are normalised to strings.
    """
    try:
        if isinstance(data, bytes):
            data = data.decode("utf-8")
        nb = json.loads(data)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise NotebookError(f"{name}: not valid notebook JSON ({type(exc).__name__}: {exc})") from None
    if not isinstance(nb, dict):
        raise NotebookError(f"{name}: notebook JSON must be an object, got {type(nb).__name__}")
    if nb.get("nbformat") != 4:
        raise NotebookError(f"{name}: only nbformat 4 notebooks are supported (nbformat={nb.get('nbformat')!r})")
    cells = nb.get("cells")
    if not isinstance(cells, list):
        raise NotebookError(f"{name}: notebook has no 'cells' list")
    for i, cell in enumerate(cells):
        if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
            raise NotebookError(f"{name}: cell {i} is not a cell object")
        src = cell.get("source", "")
        if not isinstance(src, (str, list)) or (isinstance(src, list) and not all(isinstance(s, str) for s in src)):
            raise NotebookError(f"{name}: cell {i} has an invalid 'source'")
        cell["source"] = cell_source(cell)
        meta = cell.get("metadata", {})
        if not isinstance(meta, dict):
            raise NotebookError(f"{name}: cell {i} has invalid metadata")
        cell["metadata"] = meta
        if "nbgrader" in meta and not isinstance(meta["nbgrader"], dict):
            raise NotebookError(f"{name}: cell {i} has invalid nbgrader metadata")
    if not isinstance(nb.get("metadata", {}), dict):
        raise NotebookError(f"{name}: notebook has invalid metadata")
    return nb


MAX_NOTEBOOK_MB = 64


def read_submission(path, limit_mb: int = MAX_NOTEBOOK_MB) -> bytes:
    """The bytes of a submitted notebook: a regular file, not followed through a symlink, at most
    ``limit_mb`` MB. A FIFO, a device, a directory, a symlink or a bigger file raises OSError
    saying which (never a hang: the file is opened non-blocking and checked before it is read)."""
    import errno
    import stat as st

    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OSError(exc.errno, "a symbolic link (not followed)") from None
        raise
    try:
        info = os.fstat(fd)
        if not st.S_ISREG(info.st_mode):
            kind = ("a FIFO" if st.S_ISFIFO(info.st_mode) else "a directory" if st.S_ISDIR(info.st_mode)
                    else "a device" if st.S_ISCHR(info.st_mode) or st.S_ISBLK(info.st_mode)
                    else "a socket" if st.S_ISSOCK(info.st_mode) else "not a file")
            raise OSError(errno.EINVAL, f"not a regular file ({kind})")
        limit = limit_mb << 20
        if info.st_size > limit:
            raise OSError(errno.EFBIG, f"larger than the {limit_mb} MB limit for a notebook")
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            total += len(chunk)
            if total > limit:
                raise OSError(errno.EFBIG, f"larger than the {limit_mb} MB limit for a notebook")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_bytes(path: str | os.PathLike) -> bytes:
    """A file's bytes, or a NotebookError that names the file and the reason."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise NotebookError(f"{path}: cannot read ({exc.strerror or exc})") from None


def read_notebook(path: str | os.PathLike) -> dict:
    """Read a notebook file (see :func:`loads_notebook`)."""
    return loads_notebook(read_bytes(path), str(path))


def _split_lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def dumps_notebook(nb: dict) -> str:
    """Serialise like ``nbformat.writes``: sorted keys, indent 1, sources as lists of lines."""
    out = json.loads(json.dumps(nb))  # deep copy
    for cell in out.get("cells", []):
        if isinstance(cell.get("source"), str):
            cell["source"] = _split_lines(cell["source"])
        for output in cell.get("outputs", []) or []:
            if isinstance(output.get("text"), str):
                output["text"] = _split_lines(output["text"])
    return json.dumps(out, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def _current_umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # not thread-safe, hence the /proc route first
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to a temporary file in the target directory, then ``os.replace`` it.

    The file gets the permissions a plain ``open(path, "w")`` would give it
    (mkstemp's 0600 would hide released notebooks and reports from others).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_current_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_notebook(nb: dict, path: str | os.PathLike) -> None:
    """Write a notebook atomically in nbformat's on-disk style."""
    atomic_write_bytes(path, dumps_notebook(nb).encode("utf-8"))


# -- nbgrader metadata, read as nbgrader.utils reads it ------------------------------------------

def nbgrader_meta(cell: dict) -> dict:
    meta = cell.get("metadata") or {}
    nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
    return nbg if isinstance(nbg, dict) else {}


def is_grade(cell: dict) -> bool:
    return bool(nbgrader_meta(cell).get("grade", False))


def is_solution(cell: dict) -> bool:
    return bool(nbgrader_meta(cell).get("solution", False))


def is_locked(cell: dict) -> bool:
    """True when nbgrader would overwrite the cell's source (as ``nbgrader.utils.is_locked``)."""
    nbg = nbgrader_meta(cell)
    if not nbg or is_solution(cell):
        return False
    if is_grade(cell):
        return True
    return bool(nbg.get("locked", False))


def is_test(cell: dict) -> bool:
    """An autograder test cell: a code cell that is graded but is not a solution."""
    return cell.get("cell_type") == "code" and is_grade(cell) and not is_solution(cell)


def grade_id(cell: dict) -> str | None:
    gid = nbgrader_meta(cell).get("grade_id")
    return gid if isinstance(gid, str) and gid else None

