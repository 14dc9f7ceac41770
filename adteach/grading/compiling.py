"""``ast.parse`` and ``compile`` for the grader's threads, one at a time.

CPython (seen with 3.11) keeps the recursion depth of its AST conversion in
interpreter-wide state, so two threads parsing or compiling at the same moment can
fail with ``SystemError: AST constructor recursion depth mismatch``. The grader
parses and compiles cells in several threads (``--jobs``): it does so under one lock.
Both are fast (well under a millisecond for a cell), so nothing waits noticeably.
"""
from __future__ import annotations

import ast
import threading

__all__ = ["parse", "compile_cell"]

_LOCK = threading.Lock()


def parse(code: str, filename: str = "<unknown>", mode: str = "exec") -> ast.AST:
    with _LOCK:
        return ast.parse(code, filename, mode)


def compile_cell(code, filename: str, mode: str = "exec"):
    with _LOCK:
        return compile(code, filename, mode, dont_inherit=True)
