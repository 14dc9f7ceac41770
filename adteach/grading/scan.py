"""Static scan of student code for constructs worth a human look.

The grader cannot stop code that runs *inside* a test (e.g. in the student's
own function that the test calls) from tampering with the process it runs
in. This scan does not change any grade: it lists, per submission, the
places where student code reaches for the tools such tampering needs
(monkeypatching imported modules or builtins, frame/garbage-collector
introspection, process and file-descriptor control, threads, tracing
hooks), so an instructor can review them.
"""

from __future__ import annotations

import ast

from . import compiling

__all__ = ["scan_code", "import_bindings"]

_SUSPICIOUS_MODULES = {
    "ctypes": "loads ctypes",
    "gc": "uses the garbage collector module",
    "inspect": "uses frame introspection (inspect)",
    "threading": "starts or manages threads",
    "_thread": "starts or manages threads",
    "multiprocessing": "starts processes",
    "subprocess": "starts processes",
    "signal": "handles signals",
    "resource": "changes resource limits",
    "builtins": "imports builtins",
    "importlib": "manipulates imports",
    "unittest.mock": "uses mock patching",
}

_SUSPICIOUS_ATTRS = {
    "_getframe": "uses frame introspection (sys._getframe)",
    "f_back": "walks stack frames",
    "f_locals": "reads frame locals",
    "f_globals": "reads frame globals",
    "f_lineno": "changes frame line numbers",
    "f_trace": "installs a frame trace function",
    "settrace": "installs a trace function",
    "setprofile": "installs a profile function",
    "addaudithook": "installs an audit hook",
    "__code__": "touches function code objects",
    "__globals__": "touches function globals",
    "__closure__": "touches function closures",
    "__builtins__": "touches __builtins__",
    "__subclasses__": "walks the class hierarchy",
    "_exit": "exits the process (os._exit)",
    "kill": "sends signals to processes",
    "killpg": "sends signals to process groups",
    "fork": "forks the process",
    "dup2": "rewires file descriptors",
    "modules": "touches sys.modules",
    "stdout": "touches sys.stdout",
    "stderr": "touches sys.stderr",
    "setrecursionlimit": "changes the recursion limit",
    "setrlimit": "changes resource limits",
}

_SUSPICIOUS_CALLS = {
    "setattr": "calls setattr",
    "delattr": "calls delattr",
    "exec": "calls exec",
    "eval": "calls eval",
    "compile": "calls compile",
    "__import__": "calls __import__",
    "globals": "calls globals()",
    "vars": "calls vars()",
    "exit": "calls exit()",
    "quit": "calls quit()",
}


def import_bindings(code: str) -> list[tuple[str, str, str | None]]:
    """Names bound by module-level import statements: ``(name, module, attribute_or_None)``.

    ``import numpy as np`` -> ``("np", "numpy", None)``; ``import a.b`` ->
    ``("a", "a", None)``; ``from numpy.testing import assert_allclose`` ->
    ``("assert_allclose", "numpy.testing", "assert_allclose")``. Imports inside
    functions are ignored; relative and star imports are skipped.
    """
    try:
        tree = compiling.parse(code)
    except (SyntaxError, ValueError):
        return []
    out: list[tuple[str, str, str | None]] = []

    def visit(stmts):
        for node in stmts:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        out.append((alias.asname, alias.name, None))
                    else:
                        top = alias.name.split(".")[0]
                        out.append((top, top, None))
            elif isinstance(node, ast.ImportFrom):
                if node.level or not node.module:
                    continue
                for alias in node.names:
                    if alias.name == "*":
                        continue
                    out.append((alias.asname or alias.name, node.module, alias.name))
            elif isinstance(node, (ast.If, ast.Try, ast.With)) or type(node).__name__ == "TryStar":
                for field in ("body", "orelse", "finalbody", "handlers"):
                    for child in getattr(node, field, []) or []:
                        visit(child.body if isinstance(child, ast.ExceptHandler) else [child])

    visit(tree.body)
    return out


def scan_code(code: str, module_names: set[str] | frozenset[str] = frozenset(),
              pristine_names: set[str] | frozenset[str] = frozenset()) -> list[tuple[int, str]]:
    """(line, reason) for suspicious constructs in one cell of student code.

    ``module_names`` are the names that refer to modules the tests rely on
    (``np``, ``numpy``, ``adteach``, ...): assigning or deleting attributes on
    them is reported as monkeypatching. ``pristine_names`` are names that
    read-only or test cells define (assertion helpers, fixtures): redefining
    them is reported too (the grader restores them before each test).
    """
    try:
        tree = compiling.parse(code)
    except (SyntaxError, ValueError):
        return []
    modules = set(module_names) | {"builtins", "__builtins__", "sys", "os"}
    found: set[tuple[int, str]] = set()

    def root_name(node):
        while isinstance(node, (ast.Attribute, ast.Subscript)):
            node = node.value
        return node.id if isinstance(node, ast.Name) else None

    # A name assigned inside a function (and not declared global there) is a local
    # variable: it cannot shadow a helper the tests use, so it is not reported.
    local_binds: set[int] = set()
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            body = fn.body if isinstance(fn.body, list) else [fn.body]
            declared = {n for stmt in body for g in ast.walk(stmt)
                        if isinstance(g, ast.Global) for n in g.names}
            for stmt in body:
                for sub in ast.walk(stmt):
                    if isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)) \
                            and sub.id not in declared:
                        local_binds.add(id(sub))

    skip: set[int] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        line = getattr(node, "lineno", 0)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in names:
                for mod, reason in _SUSPICIOUS_MODULES.items():
                    if name == mod or name.startswith(mod + "."):
                        found.add((line, reason))
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for t in targets:
                for sub in ast.walk(t):
                    if isinstance(sub, (ast.Attribute, ast.Subscript)):
                        root = root_name(sub)
                        if root in modules:
                            found.add((line, f"modifies {ast.unparse(sub)} (monkeypatching)"))
                            skip.update(id(x) for x in ast.walk(t))
                            break
                    if isinstance(sub, ast.Name) and sub.id == "__builtins__":
                        found.add((line, "rebinds __builtins__"))
                    elif isinstance(sub, ast.Name) and sub.id in pristine_names and id(sub) not in local_binds:
                        found.add((line, f"redefines {sub.id!r}, which a read-only or test cell defines"))
        elif isinstance(node, ast.Attribute) and node.attr in _SUSPICIOUS_ATTRS:
            found.add((line, _SUSPICIOUS_ATTRS[node.attr]))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _SUSPICIOUS_CALLS:
            found.add((line, _SUSPICIOUS_CALLS[node.func.id]))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "/proc/" in node.value:
            found.add((line, "reads /proc"))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in pristine_names:
            found.add((line, f"redefines {node.name!r}, which a read-only or test cell defines"))
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            for name in node.names:
                if name in modules:
                    found.add((line, f"rebinds module name {name!r} from a function"))
    return sorted(found)
