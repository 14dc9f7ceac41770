"""Release and autograde nbgrader-style exercises (stdlib only; nbgrader is not needed).

* :func:`release` / :func:`release_notebook` build student notebooks from
  ``exercises/source/*.ipynb`` and :func:`check_release` proves they hold no
  solution or hidden-test code;
* :func:`grade` grades many submissions against the pristine tests, each in
  its own limited subprocess, and writes ``grades.json`` / ``grades.csv``.
"""

from .grade import (
    DEFAULT_MEMORY_MB,
    DEFAULT_TIMEOUT,
    Exercise,
    TestCell,
    build_schedule,
    grade,
    grade_submission,
    load_exercise,
    write_report,
)
from .notebook import NotebookError, read_notebook, write_notebook
from .release import (
    ReleaseError,
    check_release,
    release,
    release_file,
    release_notebook,
    validate_source,
)

__all__ = [
    "DEFAULT_MEMORY_MB",
    "DEFAULT_TIMEOUT",
    "Exercise",
    "NotebookError",
    "ReleaseError",
    "TestCell",
    "build_schedule",
    "check_release",
    "grade",
    "grade_submission",
    "load_exercise",
    "read_notebook",
    "release",
    "release_file",
    "release_notebook",
    "validate_source",
    "write_notebook",
    "write_report",
]
