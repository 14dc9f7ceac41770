"""The child side of the grader: runs ONE submission's cells, one item at a time.

Run as a script (never imported by student code paths)::

    python _runner.py CMD_FD RESULT_FD

It uses the standard library only and does not import adteach, so the grader
works whatever state the autodiff core is in. The parent (``grade.py``) sends
one framed command per notebook item on CMD_FD and reads one result line per
item from RESULT_FD. Every command carries a fresh random nonce that the child
must echo; the pass/fail bit is decided here by whether ``exec`` of the
pristine test raised, never by anything the student code prints.

Protocol (all ASCII except the UTF-8 payload):

* parent -> child: ``b"<seq> <kind> <nonce> <seed> <nbytes>\\n"`` then ``nbytes`` of
  UTF-8 payload. ``kind`` is ``setup`` (payload: JSON config, sent once,
  before any student code runs), ``student``, ``locked``, ``test`` or ``exit``.
  For cells the payload is one line with the names the cell binds at module
  level (computed by the grader; empty for student cells), then the code.
* child -> parent: ``b"\\n" + repr(tuple) + b"\\n"``; ``("hello", pid, threads)``
  once, then ``("done", seq, nonce, ok, feedback, line, threads)`` per item.

What is restored before every pristine (locked/test) item is described in
``_Guard.restore``; see also the threat model in the grading docs.
"""

# NOTE: this file must stay importable on Python 3.10 and use only the stdlib.

import sys


def _main() -> None:  # noqa: C901 - one closure on purpose: the captured references live here
    import builtins
    import gc
    import json
    import os
    import resource
    import signal
    import threading
    import types
    import warnings

    cmd_fd = int(sys.argv[1])
    res_fd = int(sys.argv[2])

    # Don't let `import release` etc. resolve to files next to this script.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]

    # ---- captured references (taken before any student code exists) ----------------------------
    _read = os.read
    _write = os.write
    _exit = os._exit
    _exec = builtins.exec
    _compile = builtins.compile
    _repr = builtins.repr
    _int = builtins.int
    _len = builtins.len
    _type = builtins.type
    _isinstance = builtins.isinstance
    _issubclass = builtins.issubclass
    _str_str = str.__str__
    _BaseException = BaseException
    _listdir = os.listdir
    _chdir = os.chdir
    _getcwd = os.getcwd
    _settrace = sys.settrace
    _setprofile = sys.setprofile
    _thr_settrace = threading.settrace
    _thr_setprofile = threading.setprofile
    _active_count = threading.active_count
    _setrecursionlimit = sys.setrecursionlimit
    _signal = signal.signal
    _alarm = signal.alarm
    _setitimer = signal.setitimer
    _gc_enable = gc.enable
    _gc_isenabled = gc.isenabled
    _setattr = builtins.setattr
    _type_setattr = type.__setattr__
    _type_delattr = type.__delattr__
    _FunctionType = types.FunctionType
    _MISSING = object()

    def read_exact(n: int) -> bytes:
        chunks = []
        while n > 0:
            chunk = _read(cmd_fd, min(n, 1 << 20))
            if not chunk:
                _exit(70)
            chunks.append(chunk)
            n -= _len(chunk)
        return b"".join(chunks)

    def read_command():
        header = b""
        while not header.endswith(b"\n"):
            ch = _read(cmd_fd, 1)
            if not ch:
                _exit(70)
            header += ch
            if _len(header) > 200:
                _exit(71)
        parts = header.split()
        seq, kind, nonce, seed, nbytes = parts
        payload = read_exact(_int(nbytes)).decode("utf-8")
        return _int(seq), kind.decode("ascii"), nonce.decode("ascii"), _int(seed), payload

    def send(message: tuple) -> None:
        data = b"\n" + _repr(message).encode("utf-8", "backslashreplace") + b"\n"
        while data:
            n = _write(res_fd, data)
            data = data[n:]

    def thread_count() -> int:
        try:
            return _len(_listdir("/proc/self/task"))
        except OSError:
            return _active_count()

    # ---- setup (before any student code) ---------------------------------------------------------
    seq, kind, _nonce, _seed, payload = read_command()
    if kind != "setup":
        _exit(72)
    config = json.loads(payload)

    mem = config.get("memory_bytes")
    if mem:
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    fsize = config.get("fsize_bytes")
    if fsize:
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes fail with EFBIG instead of killing us
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    # An intermediate process, so that student code calling os.kill(os.getppid(), ...) hits this
    # waiter instead of the grader. The waiter closes the pipes: when the worker dies, the
    # grader sees EOF. It mirrors the worker's exit status.
    pid = os.fork()
    if pid:
        os.close(cmd_fd)
        os.close(res_fd)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        while True:
            try:
                _, status = os.waitpid(pid, 0)
                break
            except InterruptedError:
                continue
            except ChildProcessError:
                status = 0
                break
        code = os.waitstatus_to_exitcode(status)
        os._exit(code if code >= 0 else 128 - code)

    # ---- the worker ---------------------------------------------------------------------------
    import random

    cwd = _getcwd()
    if "" not in sys.path and cwd not in sys.path:
        sys.path.insert(0, cwd)

    # Pre-import what the pristine cells import, so that these modules are snapshotted before
    # student code can touch them.
    for name in config.get("imports", []):
        try:
            __import__(name)
        except BaseException:  # noqa: BLE001 - a missing optional module simply isn't protected
            pass

    # Names bound by the pristine cells' import statements (e.g. np -> numpy).
    static_bindings = {}
    for name, module, attr in config.get("bindings", []):
        try:
            obj = sys.modules[module]
            if attr is not None:
                obj = getattr(obj, attr)
            static_bindings[name] = obj
        except BaseException:  # noqa: BLE001
            pass

    if not hasattr(builtins, "display"):
        def display(*objs, **kwargs):  # a stand-in for IPython's display()
            for obj in objs:
                print(repr(obj))
        builtins.display = display

    # The student's namespace is a fresh __main__ module; pristine cells run in their own dict.
    main_mod = types.ModuleType("__main__")
    ns = main_mod.__dict__
    ns["__builtins__"] = builtins
    tns = {}
    sys.modules["__main__"] = main_mod

    # ---- snapshot -----------------------------------------------------------------------------
    protect_tops = set(config.get("protect", [])) | {"warnings", "random"}
    real_modules = sys.modules
    modules_snapshot = dict(real_modules)
    protected_modules = [
        m for name, m in modules_snapshot.items()
        if name.split(".")[0] in protect_tops and _isinstance(m, types.ModuleType)
    ]
    module_snaps = []
    class_snaps = []
    func_snaps = []
    seen_classes = set()

    snapped_funcs = set()

    def snap_function(f):
        if _type(f) is _FunctionType and id(f) not in snapped_funcs:
            snapped_funcs.add(id(f))
            func_snaps.append((f, f.__code__, f.__defaults__, f.__kwdefaults__))

    def snap_functions(values):
        for v in values:
            if _type(v) is _FunctionType:
                snap_function(v)
                snap_function(getattr(v, "__wrapped__", None))
            elif _isinstance(v, (staticmethod, classmethod)):
                snap_function(v.__func__)
            elif not _isinstance(v, (type, types.ModuleType)) and callable(v):
                try:  # numpy's array-function dispatchers wrap a Python implementation
                    snap_function(getattr(v, "_implementation", None))
                    snap_function(getattr(v, "__wrapped__", None))
                except BaseException:  # noqa: BLE001
                    pass

    def snap_class(v):
        if id(v) in seen_classes:
            return
        try:
            if not (v.__flags__ & (1 << 9)):  # only heap (Python-defined) types can be patched
                return
        except BaseException:  # noqa: BLE001
            return
        seen_classes.add(id(v))
        cdict = dict(v.__dict__)
        class_snaps.append((v, cdict))
        snap_functions(cdict.values())

    for m in protected_modules:
        d = m.__dict__
        snap = dict(d)
        module_snaps.append((d, snap))
        snap_functions(snap.values())
        mname = snap.get("__name__")
        for v in snap.values():
            if _isinstance(v, type):
                try:
                    if v.__module__ != mname:
                        continue
                except BaseException:  # noqa: BLE001
                    continue
                snap_class(v)

    builtins_dict = builtins.__dict__
    builtins_snap = dict(builtins_dict)
    snap_functions(builtins_snap.values())

    sys_attrs = {
        k: getattr(sys, k)
        for k in ("stdout", "stderr", "stdin", "displayhook", "excepthook", "breakpointhook",
                  "modules", "path", "meta_path", "path_hooks", "path_importer_cache", "unraisablehook")
        if hasattr(sys, k)
    }
    sys_lists = [(sys.path, list(sys.path)), (sys.meta_path, list(sys.meta_path)),
                 (sys.path_hooks, list(sys.path_hooks))]
    recursion_limit = sys.getrecursionlimit()
    warnings_filters = warnings.filters
    warnings_snap = list(warnings_filters)
    _filters_mutated = getattr(warnings, "_filters_mutated", None) or getattr(
        warnings, "_filters_mutated_lock_held", None)
    thr_excepthook = getattr(threading, "excepthook", None)
    signals = {}
    for sname in ("SIGINT", "SIGTERM", "SIGALRM", "SIGVTALRM", "SIGPROF", "SIGUSR1", "SIGUSR2",
                  "SIGHUP", "SIGCHLD", "SIGPIPE", "SIGXFSZ", "SIGXCPU"):
        sig = getattr(signal, sname, None)
        if sig is not None:
            try:
                signals[sig] = signal.getsignal(sig)
            except (ValueError, OSError):
                pass
    gc_was_enabled = _gc_isenabled()

    numpy = real_modules.get("numpy")
    np_seterr = np_err = np_seed = None
    if numpy is not None:
        try:
            np_seterr = numpy.seterr
            np_err = numpy.geterr()
            np_seed = numpy.random.seed
        except BaseException:  # noqa: BLE001
            pass
    py_seed = random.seed

    # While a pristine cell runs, the protected modules (not sys/warnings, which tests may
    # legitimately redirect) refuse attribute assignment, so student functions called by a test
    # can't do `numpy.allclose = ...` mid-test. Submodule binding by the import system is allowed.
    _ModuleType = types.ModuleType
    _module_setattr = types.ModuleType.__setattr__

    class _ReadOnlyModule(types.ModuleType):
        __slots__ = ()

        def __setattr__(self, name, value):
            if _type(value) is _ModuleType:
                _module_setattr(self, name, value)
                return
            raise AttributeError(f"module {self.__name__!r} is read-only while tests run")

        def __delattr__(self, name):
            raise AttributeError(f"module {self.__name__!r} is read-only while tests run")

    freezable = [m for m in protected_modules
                 if _type(m) is _ModuleType and m.__name__.split(".")[0] not in ("sys", "warnings")]
    if _type(builtins) is _ModuleType:
        freezable.append(builtins)

    def freeze(on: bool) -> None:
        cls = _ReadOnlyModule if on else _ModuleType
        for m in freezable:
            try:
                if _type(m) is not cls:
                    _module_setattr(m, "__class__", cls)
            except BaseException:  # noqa: BLE001
                pass

    switch_interval = sys.getswitchinterval()
    _setswitchinterval = sys.setswitchinterval
    _sleep = __import__("time").sleep

    # Pristine-owned names: values bound by pristine (locked/test) cells, which win over student
    # rebinding when the next pristine cell runs.
    pristine_owned = {}
    builtin_names = frozenset(builtins_snap)
    baseline_threads = thread_count()

    def restore() -> None:
        """Undo, as far as an in-process harness can, what student code did to shared state."""
        # System calls that release the GIL come first, so that a student thread waiting for the
        # GIL can't run between the restore below and the test.
        try:
            _chdir(cwd)
        except OSError:
            pass
        _settrace(None)
        _setprofile(None)
        _thr_settrace(None)
        _thr_setprofile(None)
        # builtins first: exact restore, including removing added names
        for k, v in builtins_snap.items():
            if builtins_dict.get(k, _MISSING) is not v:
                builtins_dict[k] = v
        for k in [k for k in builtins_dict if k not in builtins_snap]:
            del builtins_dict[k]
        for k, v in sys_attrs.items():
            _setattr(sys, k, v)
        for lst, snap in sys_lists:
            lst[:] = snap
        _setrecursionlimit(recursion_limit)
        # sys.modules entries (re-import gives the pristine module again)
        for name, m in modules_snapshot.items():
            if real_modules.get(name, _MISSING) is not m:
                real_modules[name] = m
        real_modules["__main__"] = main_mod
        # module attributes of numpy, adteach, math, ... (whatever pristine cells import)
        for d, snap in module_snaps:
            for k, v in snap.items():
                if d.get(k, _MISSING) is not v:
                    d[k] = v
        # class attributes (monkeypatched methods) of pure-Python classes in those modules
        for cls, snap in class_snaps:
            cd = cls.__dict__
            for k, v in snap.items():
                if cd.get(k, _MISSING) is not v:
                    try:
                        _type_setattr(cls, k, v)
                    except BaseException:  # noqa: BLE001
                        pass
            for k in [k for k in cd if k not in snap]:
                try:
                    _type_delattr(cls, k)
                except BaseException:  # noqa: BLE001
                    pass
        # function objects patched in place (f.__code__ = ...)
        for f, code, defaults, kwdefaults in func_snaps:
            if f.__code__ is not code:
                f.__code__ = code
            if f.__defaults__ is not defaults:
                f.__defaults__ = defaults
            if f.__kwdefaults__ is not kwdefaults:
                f.__kwdefaults__ = kwdefaults
        warnings_filters[:] = warnings_snap
        if _filters_mutated is not None:
            try:
                _filters_mutated()
            except BaseException:  # noqa: BLE001
                pass
        if thr_excepthook is not None:
            _setattr(threading, "excepthook", thr_excepthook)
        for sig, handler in signals.items():
            try:
                _signal(sig, handler)
            except (TypeError, ValueError, OSError):
                pass
        _alarm(0)
        for which in (signal.ITIMER_REAL, signal.ITIMER_VIRTUAL, signal.ITIMER_PROF):
            _setitimer(which, 0)
        if gc_was_enabled:
            _gc_enable()
        if np_seterr is not None:
            try:
                np_seterr(**np_err)
            except BaseException:  # noqa: BLE001
                pass

    def sync_pristine_namespace() -> None:
        """Rebuild the pristine cells' globals: student names, then pristine names on top."""
        tns.clear()  # same dict object: functions defined by locked cells keep working
        for k, v in ns.items():
            if k.startswith("__") and k.endswith("__"):
                continue
            if k in builtin_names:  # student globals named `abs`, `print`, ... don't shadow builtins
                continue
            tns[k] = v
        tns.update(static_bindings)
        tns.update(pristine_owned)
        tns["__builtins__"] = builtins
        tns["__name__"] = "__main__"

    def feedback_of(exc) -> str:
        try:
            name = _type(exc).__name__
            name = _str_str(name) if _isinstance(name, str) else "Exception"
        except BaseException:  # noqa: BLE001
            name = "Exception"
        try:
            msg = str(exc)
            msg = _str_str(msg) if _isinstance(msg, str) else ""
        except BaseException:  # noqa: BLE001
            msg = "<exception message could not be read>"
        text = f"{name}: {msg}" if msg else name
        if _len(text) > 1000:
            text = text[:1000] + " [...]"
        return text

    def failing_line(exc, filename: str):
        line = None
        try:
            tb = exc.__traceback__
            while tb is not None:
                if tb.tb_frame.f_code.co_filename == filename:
                    line = tb.tb_lineno
                tb = tb.tb_next
        except BaseException:  # noqa: BLE001
            line = None
        return line if _type(line) is int else None

    send(("hello", os.getpid(), baseline_threads))

    # ---- main loop ----------------------------------------------------------------------------
    while True:
        seq, kind, nonce, seed, payload = read_command()
        if kind == "exit":
            break
        names_line, _, source = payload.partition("\n")
        bound = names_line.split()
        pristine = kind in ("locked", "test")
        filename = f"<cell {seq}>"
        threads = 0
        if pristine:
            # Threads started by student code get the GIL only when the test blocks: flush any
            # thread already waiting for it, then restore.
            _setswitchinterval(1000.0)
            threads = thread_count()
            if threads > baseline_threads:
                _sleep(0.02)
            restore()
            sync_pristine_namespace()
            if kind == "test":
                py_seed(seed)
                if np_seed is not None:
                    try:
                        np_seed(seed % (2 ** 32))
                    except BaseException:  # noqa: BLE001
                        pass
            globs = tns
            before = dict(tns)
        else:
            globs = ns
            ns["__builtins__"] = builtins
        ok = False
        feedback = ""
        line = None
        try:
            code = _compile(source, filename, "exec", dont_inherit=True)
            if pristine:
                freeze(True)
            try:
                _exec(code, globs)
            finally:
                if pristine:
                    freeze(False)
            ok = True
        except _BaseException as exc:  # noqa: BLE001 - everything a cell raises is a failure
            feedback = feedback_of(exc)
            line = failing_line(exc, filename)
            exc = None
        if pristine:
            restore()
            _setswitchinterval(switch_interval)
            changed = {}
            for k, v in tns.items():
                if k.startswith("__") and k.endswith("__"):
                    continue
                if before.get(k, _MISSING) is not v:
                    changed[k] = v
            for k in bound:  # bound by the cell, possibly to the object that was already there
                if k in tns and not (k.startswith("__") and k.endswith("__")):
                    changed[k] = tns[k]
            for k in before:
                if k not in tns and not (k.startswith("__") and k.endswith("__")):
                    pristine_owned.pop(k, None)
                    ns.pop(k, None)
            pristine_owned.update(changed)
            ns.update(changed)
            if kind == "locked":  # e.g. assertion helpers: protect their code objects too
                for v in changed.values():
                    try:
                        if _type(v) is _FunctionType:
                            snap_function(v)
                        elif _issubclass(_type(v), type):
                            snap_class(v)
                    except BaseException:  # noqa: BLE001
                        pass
        msg = ("done", seq, nonce, ok, feedback, line, threads)
        data = _repr(msg).encode("utf-8", "backslashreplace")
        while _len(data) > 3900 and _len(feedback) > 10:
            feedback = feedback[: _len(feedback) // 2] + " [...]"
            msg = ("done", seq, nonce, ok, feedback, line, threads)
            data = _repr(msg).encode("utf-8", "backslashreplace")
        send(msg)
    _exit(0)


if __name__ == "__main__":
    _main()
