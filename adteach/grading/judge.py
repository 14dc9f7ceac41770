"""The judge: runs the pristine test code, with the student's names bound to proxies.

One :class:`Session` per submission owns a student process (``_student.py``,
inside the sandbox) and a judge namespace. For every item of the schedule:

* a student cell is sent to the student process to run (``exec``);
* a read-only (locked) cell runs in both: in the student process, so that the
  student's code can use and subclass what it defines, and in the judge, so
  that the tests use the pristine definitions;
* a test cell runs only here, in the judge. A name the test (or a function it
  calls) reads that no pristine cell defined is looked up in the student
  process and bound to a proxy: calling it, reading its attributes, using its
  operators are requests, and the replies are plain data (see ``wire.py``).
  Every comparison and every message comes from ``adteach.testing`` running
  here. The hidden tests and the expected values never leave this process.

What the student process may ask of the judge (callbacks: a test passes a
lambda, a NumPy function, a random generator or one of its own objects to the
student's code) is limited by :func:`_policy`: calls of functions and classes
defined by pristine cells, of NumPy ufuncs and of a random generator's
sampling methods; attributes (without a leading underscore) of instances of
pristine classes. Nothing else; in particular no function's code, globals or
frames, no module.

Time: the judge reads the student process's CPU time from ``/proc`` while it
waits. An item may use ``cpu_limit`` CPU seconds of the student process, and a
generous wall-clock bound stops a process that sleeps. In the judge,
``time.process_time()`` (used by tests that time the student's work) is the
judge's CPU time plus the student process's.
"""

from __future__ import annotations

import builtins
import collections
import dataclasses
import os
import select
import subprocess
import time
import types
from pathlib import Path

import numpy as np

from . import compiling, sandbox, wire
from .wire import ProtocolError

STUDENT = Path(__file__).with_name("_student.py")
JUDGE_FILE = "<judge {}>"


#: The wall-clock bound of one item is 5x its CPU-time limit, and at least this many seconds.
WALL_FLOOR = 60.0


class StudentGone(BaseException):
    """The student process is gone or unusable (raised through test code, which must not catch it)."""

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status = status        # "timeout", "crash" or "protocol"
        self.message = message


def _local_exceptions():
    from adteach import errors as P  # the exception classes live in adteach.errors (their __module__)
    from adteach import testing as T
    out = {}
    for mod, names in ((P, ("ADError", "DomainError", "ShapeError", "ADTypeError")),
                       (T, ("CheckFailed", "NotImplementedYet"))):
        for n in names:
            cls = getattr(mod, n)
            out[(mod.__name__, n)] = cls
    return out


_BUILTIN_NAMES = frozenset(dir(builtins))
_GENERATOR_METHODS = frozenset({"normal", "uniform", "integers", "random", "standard_normal", "choice",
                                "permutation", "shuffle", "exponential", "binomial", "poisson", "beta", "gamma"})


class _TimeShim(types.ModuleType):
    """``time`` for the judge's tests: process_time() counts the student process's CPU too."""

    def __init__(self, session):
        super().__init__("time")
        self._session = session

    def __getattr__(self, name):
        return getattr(time, name)

    def process_time(self):
        # this thread's CPU (other submissions are graded in other threads) + the student process's
        return time.thread_time() + self._session.student_cpu()


class _Namespace(dict):
    """The judge's globals: pristine names, then the student's names as proxies."""

    def __init__(self, session):
        super().__init__()
        self.session = session

    def __missing__(self, name):
        if name in _BUILTIN_NAMES or name.startswith("__"):
            raise KeyError(name)
        try:
            return self.session.end.request("global", name=name)
        except NameError:
            raise KeyError(name) from None


class _JudgeEnd(wire.Endpoint):
    """The judge's end: strict policy, differentiable calls into student code."""

    session = None

    def request(self, op, **kw):
        try:
            return super().request(op, **kw)
        except EOFError:
            raise self.session._crashed() from None
        except ProtocolError as exc:
            self.session.kill()
            raise StudentGone("protocol", f"the student process broke the protocol ({exc})") from None
        except OSError as exc:
            if exc.errno in (32, 9):  # EPIPE, EBADF: the process is gone
                raise self.session._crashed() from None
            raise

    def call(self, proxy, args, kwargs):
        from adteach.tape import Var
        if _has_var(args, Var) or _has_var(kwargs, Var):
            return self._vcall(proxy, args, kwargs, Var)
        return super().call(proxy, args, kwargs)

    def _vcall(self, proxy, args, kwargs, Var):
        """Call a student function on adteach values: the student's adteach records, ours chains."""
        from adteach import primitives as P
        from adteach.tape import _record
        leaves: list = []
        value, pull = self.request("vcall", obj=proxy, args=list(args), kwargs=dict(kwargs), leaves=leaves)
        if pull is None:
            return value
        if isinstance(value, np.floating) or type(value) is int:
            value = float(value)
        if not (type(value) is float or (type(value) is np.ndarray and value.dtype.kind == "f")):
            raise TypeError("a student function called on adteach values returned a non-float value")
        cache = {}

        def pullback(g):
            key = id(g)
            if key not in cache:
                grads = self.request("vjp", obj=pull, value=g if type(g) is not Var else g.value)
                if type(grads) is not list or len(grads) != len(leaves):
                    raise TypeError("the student process returned a malformed gradient")
                for got, leaf in zip(grads, leaves):
                    if np.shape(got) != np.shape(leaf.value):
                        raise TypeError("the student process returned a gradient of the wrong shape")
                cache.clear()
                cache[key] = (g, [float(x) if np.ndim(x) == 0 else np.asarray(x, dtype=float) for x in grads])
            return cache[key][1]

        prim = P.Primitive("student_call", lambda *vals, _v=None: _v, "student({all})", "student",
                           vjp=lambda g, i, *inputs, out=None, _v=None: pullback(g)[i])
        return _record(prim, tuple(leaves), {"_v": value}, [leaf.value for leaf in leaves])


def _has_var(obj, Var, depth=0):
    if type(obj) is Var:
        return True
    if depth > 8:
        return False
    if type(obj) in (list, tuple):
        return any(_has_var(v, Var, depth + 1) for v in obj)
    if type(obj) is dict:
        return any(_has_var(v, Var, depth + 1) for v in obj.values())
    return False


class Session:
    """One submission's student process and judge namespace."""

    def __init__(self, exercise, settings, workdir: Path, started=None):
        """``started``: ``(plan, handles)``, a ``launch_plan(exercise, settings, workdir)`` and what
        :func:`launch` returned for it (a student process started ahead, by a worker before its
        imports); None: start one now."""
        self.settings = settings
        self.exercise = exercise
        self.pristine_classes: set = set()
        self.cpu_limit = settings.timeout
        self.wall_limit = max(WALL_FLOOR, 5 * settings.timeout)
        self._deadline = None
        self._cpu_start = 0.0
        self._stderr_path = workdir / ".student-stderr"
        if started is None:
            plan = launch_plan(exercise, settings, workdir)
            try:
                handles = launch(plan)
            except OSError as exc:
                raise RuntimeError(f"could not start {settings.python}: {exc}") from None
        else:
            plan, handles = started
        self.limits = sandbox.Limits(**plan["limits"]) if plan["limits"] is not None else None
        self.proc, req_w, rep_r, info_r = handles
        self.pid = self.proc.pid
        if info_r is not None:
            self.pid = sandbox.read_info(info_r) or self.proc.pid
        self.end = _JudgeEnd(rep_r, req_w, "j", policy=self._policy, wait=self._wait,
                             local_exceptions=_local_exceptions())
        self.end.session = self
        self.end.snapshot = self._snapshot
        self.worker = None
        self.ns = _Namespace(self)
        self.ns["__name__"] = "__main__"
        self.ns["__builtins__"] = self._builtins()
        self._closed = False
        self._begin(max(60.0, settings.timeout))
        try:
            self.end.request("hello", imports=list(exercise.imports))
            self.worker = _child_of(self.pid)
        except StudentGone:
            raise RuntimeError("the student process did not start" + self._stderr_tail()) from None
        except (ProtocolError, Exception) as exc:  # noqa: BLE001
            self.kill()
            raise RuntimeError(f"the student process did not start: {exc}" + self._stderr_tail()) from None

    # -- the judge's namespace ----------------------------------------------------------------
    def _builtins(self) -> dict:
        b = dict(builtins.__dict__)
        b["print"] = lambda *a, **k: None       # pristine cells' prints: not the grader's output
        b["display"] = lambda *a, **k: None
        real_import = builtins.__import__
        shim = _TimeShim(self)

        def judge_import(name, globals=None, locals=None, fromlist=(), level=0):
            if name == "time" and not fromlist:
                return shim
            mod = real_import(name, globals, locals, fromlist, level)
            if name == "time":
                return shim
            return mod
        b["__import__"] = judge_import
        return b

    def _policy(self, op, obj, name):
        """What the student process may do with the judge's objects (see the module docstring)."""
        if op == "op":
            if not any(self._servable_instance(a) for a in obj):
                raise PermissionError("the judge computes operators only on its own objects")
            return
        if op in ("getattr", "setattr", "delattr"):
            if name.startswith("_"):
                raise PermissionError(f"attribute {name!r} of a judge object is not available")
            if self._servable_instance(obj):
                return
            if op == "getattr" and isinstance(obj, np.random.Generator) and name in _GENERATOR_METHODS:
                return
            raise PermissionError(f"attributes of {type(obj).__name__} objects are not available")
        if op in ("call", "vcall"):
            if self._callable(obj):
                return
            raise PermissionError(f"the judge does not call {type(obj).__name__} objects for student code")
        if op == "sig":
            if self._callable(obj):
                return
            raise PermissionError("no signature")
        if op in ("repr", "str", "bool", "len", "float", "int", "index", "complex", "array", "iter",
                  "getitem", "setitem", "contains"):
            if self._servable_instance(obj) or (op in ("repr", "str") and self._callable(obj)):
                return
            raise PermissionError(f"{op} of {type(obj).__name__} objects is not available")
        raise PermissionError(op)

    def _snapshot(self, obj, name, limit=2048):
        """For a getattr that read a plain instance attribute: attribute snapshots of ``obj`` and
        of the judge objects it reaches (breadth first, at most ``limit`` not sent yet), so that
        a student walking a graph of the test's nodes needs one request per ``limit`` nodes.
        None when the read may have run code (a property, ``__getattr__``)."""
        if not self._plain(obj) or name not in vars(obj) or hasattr(type(obj), name):
            return None
        sent = self.end.sent
        out, queue = [], collections.deque([obj])
        plain: dict = {}       # type -> whether its instances are plain (one answer per type and call)
        allowed: dict = {}     # (type, its instance's keys) -> the keys sent (public, not shadowed by the class)
        budget = 1 << 20       # array elements and list entries in one snapshot (well below wire.MAX_FRAME)
        while queue and len(out) < limit:
            o = queue.popleft()
            if id(o) in sent:
                continue
            t = type(o)
            d = vars(o)
            shape = (t, tuple(d))
            keys = allowed.get(shape)
            if keys is None:
                keys = allowed[shape] = [k for k in shape[1] if type(k) is str and not k.startswith("_")
                                         and k.isidentifier() and not hasattr(t, k)]
            attrs = {k: d[k] for k in keys}
            for v in attrs.values():
                tv = type(v)
                if tv is tuple or tv is list:
                    budget -= len(v)
                    for x in v:
                        tx = type(x)
                        if tx is np.ndarray:
                            budget -= x.size
                        elif tx is not float and id(x) not in sent:
                            p = plain.get(tx)
                            if p is None:
                                p = plain[tx] = self._plain(x)
                            if p:
                                queue.append(x)
                elif tv is np.ndarray:
                    budget -= v.size
                elif tv is not float and tv is not str and v is not None and id(v) not in sent:
                    p = plain.get(tv)
                    if p is None:
                        p = plain[tv] = self._plain(v)
                    if p:
                        queue.append(v)
                else:
                    budget -= 1
            if budget < 0 and out:   # the rest is asked for when read
                break
            sent.add(id(o))
            out.append((o, attrs))
        return out

    def _plain(self, obj) -> bool:
        """An instance of a pristine class whose attribute reads and writes run no code of its own."""
        t = type(obj)
        if not self._servable_instance(obj):
            return False
        return (t.__getattribute__ is object.__getattribute__ and t.__setattr__ is object.__setattr__
                and not hasattr(t, "__getattr__") and hasattr(obj, "__dict__"))

    def _pristine_function(self, f) -> bool:
        return type(f) is types.FunctionType and f.__code__.co_filename.startswith("<judge ")

    def _servable_instance(self, obj) -> bool:
        return any(c in self.pristine_classes for c in type(obj).__mro__)

    def _callable(self, obj) -> bool:
        if self._pristine_function(obj) or (isinstance(obj, type) and obj in self.pristine_classes):
            return True
        if type(obj) is types.MethodType and not isinstance(obj.__self__, np.random.Generator):
            return self._pristine_function(obj.__func__) and self._servable_instance(obj.__self__)
        if isinstance(obj, np.ufunc):
            return True
        if type(obj) in (types.BuiltinMethodType, types.MethodType) \
                and isinstance(getattr(obj, "__self__", None), np.random.Generator):
            return getattr(obj, "__name__", None) in _GENERATOR_METHODS
        if self._servable_instance(obj) and callable(obj):
            return True
        return False

    def _remember_pristine(self):
        for v in list(dict.values(self.ns)):
            if isinstance(v, type):
                self.pristine_classes.add(v)

    # -- time ---------------------------------------------------------------------------------
    def student_cpu(self) -> float:
        return (sandbox.cpu_seconds(self.worker) or 0.0) + (sandbox.cpu_seconds(self.pid) or 0.0)

    def _begin(self, wall=None):
        self._cpu_start = self.student_cpu()
        self._deadline = time.monotonic() + (wall if wall is not None else self.wall_limit)

    def _wait(self):
        """Called before every read of the channel: wait for data, or give up on the student process."""
        poller = select.poll()
        poller.register(self.end.rfd, select.POLLIN)
        blocked = 0      # consecutive checks that found the student reading our request channel
        idle = 0         # poll timeouts since data last came
        while True:
            # the limits first, on every read: a process that keeps sending requests (the judge
            # answers each) never leaves the channel silent, and must be stopped all the same
            used = self.student_cpu() - self._cpu_start
            if used > self.cpu_limit:
                self.kill()
                raise StudentGone("timeout", f"timed out after {self.cpu_limit:g} s of CPU time")
            if time.monotonic() > self._deadline:
                self.kill()
                raise StudentGone("timeout", f"timed out after {self.wall_limit:g} s (wall clock)")
            if poller.poll(100):
                return
            idle += 1
            if self.proc.poll() is not None and not poller.poll(0):
                raise self._crashed()
            if idle % 5 == 0:  # every 0.5 s without data: a deadlock?
                blocked = blocked + 1 if self._reading_our_requests() else 0
                if blocked >= 2:
                    self.kill()
                    raise StudentGone("crash", "the process running this cell stopped answering: it was "
                                               "waiting to read the grader's request channel itself")

    def _reading_our_requests(self) -> bool:
        """Whether the student's main thread is blocked reading the channel the judge writes to (the
        judge waits for its answer meanwhile: neither side would ever go on)."""
        if not self.worker or _READ_SYSCALLS is None:
            return False
        try:
            with open(f"/proc/{self.worker}/syscall", "rb") as fh:
                fields = fh.read(512).split()
            if len(fields) < 2 or int(fields[0]) not in _READ_SYSCALLS:
                return False
            target = os.readlink(f"/proc/{self.worker}/fd/{int(fields[1], 16)}")
            return target == f"pipe:[{os.fstat(self.end.wfd).st_ino}]"
        except (OSError, ValueError):
            return False

    def _crashed(self) -> StudentGone:
        try:
            rc = self.proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            rc = None
        if rc is None:
            what = "stopped answering (its channel was closed)"
        else:
            what = sandbox.exit_reason(rc, self.limits, killed=True)
        self.kill()
        return StudentGone("crash", f"the process running this cell {what}")

    def _stderr_tail(self) -> str:
        try:
            tail = self._stderr_path.read_bytes()[-2000:].decode("utf-8", "replace").strip()
        except OSError:
            tail = ""
        return f": {tail}" if tail else ""

    # -- running items --------------------------------------------------------------------------
    def run_student(self, code: str, filename: str) -> str | None:
        """Run a cell in the student process; its error message, or None."""
        self._begin()
        try:
            self.end.request("exec", code=code, filename=filename)
        except StudentGone:
            raise
        except BaseException as exc:  # noqa: BLE001 - the student's error, as data
            return feedback_of(exc)
        return None

    def run_pristine(self, code: str, filename: str, seed: int | None):
        """Run pristine code in the judge: (ok, feedback, line)."""
        self._begin()
        if seed is not None:
            try:
                self.end.request("seed", seed=seed)
            except Exception:  # noqa: BLE001 - the student replaced its random modules: its own business
                pass
        try:
            compiled = compiling.compile_cell(code, filename)
        except SyntaxError as exc:
            return False, feedback_of(exc), None
        try:
            exec(compiled, self.ns)
        except StudentGone:
            raise
        except ProtocolError as exc:
            self.kill()
            raise StudentGone("protocol", f"the student process broke the protocol ({exc})") from None
        except Exception as exc:  # noqa: BLE001 - a failing test
            line = failing_line(exc, filename)
            return False, feedback_of(exc), line
        finally:
            self._remember_pristine()
        return True, "", None

    def close(self):
        if not self._closed:
            try:
                wire.write_frame(self.end.wfd, {"q": "exit"})
            except OSError:
                pass
        self.kill()

    def kill(self):
        if self._closed:
            return
        self._closed = True
        for fd in (self.end.rfd, self.end.wfd) if hasattr(self, "end") else ():
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            sandbox.kill(self.proc, self.pid)  # the box's PID 1 by its pidfd: everything in the box dies
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


def launch_plan(exercise, settings, workdir: Path) -> dict:
    """How to start one submission's student process, as plain data (JSON): argv, environment, cwd,
    the limits set before exec and where its stderr goes. :func:`launch` runs it."""
    env = _student_env(workdir, settings.sandbox)
    argv = [settings.python, "-I", "-B", str(STUDENT), "{req}", "{rep}"]
    rlimits = []
    limits = None
    if settings.sandbox:
        lim = sandbox.Limits(
            cpu_seconds=int(max(60, 3 * settings.timeout * max(len(exercise.cells), 1))),
            memory_bytes=settings.memory_mb << 20 if settings.memory_mb else None,
            fsize_bytes=settings.fsize_mb << 20 if settings.fsize_mb else None)
        limits = dataclasses.asdict(lim)
        argv = sandbox.command(argv[1:], python=settings.python, limits=lim, env=env, info_fd=-1)
        rlimits = sandbox.rlimits(lim)
    else:
        import resource
        if settings.memory_mb:
            rlimits.append((resource.RLIMIT_AS, settings.memory_mb << 20, settings.memory_mb << 20))
        if settings.fsize_mb:
            rlimits.append((resource.RLIMIT_FSIZE, settings.fsize_mb << 20, settings.fsize_mb << 20))
        rlimits.append((resource.RLIMIT_CORE, 0, 0))
    return {"argv": argv, "env": env, "cwd": str(workdir), "rlimits": [list(r) for r in rlimits],
            "stderr": str(workdir / ".student-stderr"), "sandbox": bool(settings.sandbox), "limits": limits}


#: :func:`launch`, as source that needs only the standard library (a worker runs it before its imports).
LAUNCH = """
def launch(plan):
    import os, resource, subprocess
    req_r, req_w = os.pipe()
    rep_r, rep_w = os.pipe()
    info_r = info_w = None
    fds = [req_r, rep_w]
    if plan["sandbox"]:
        info_r, info_w = os.pipe()
        fds.append(info_w)
    sub = {"{req}": str(req_r), "{rep}": str(rep_w)}
    argv = [sub.get(a, a) for a in plan["argv"]]
    if plan["sandbox"]:   # bwrap's --info-fd value, the only "-1" of its argv
        k = argv.index("--info-fd") + 1
        argv[k] = str(info_w)
    rl = [tuple(r) for r in plan["rlimits"]]

    def limits():
        for which, soft, hard in rl:
            resource.setrlimit(which, (soft, hard))
    try:
        with open(plan["stderr"], "ab") as err:
            proc = subprocess.Popen(argv, pass_fds=fds, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=err, cwd=plan["cwd"], env=plan["env"], start_new_session=True,
                                    preexec_fn=limits)
    except OSError:
        for fd in (req_r, req_w, rep_r, rep_w, info_r, info_w):
            if fd is not None:
                os.close(fd)
        raise
    finally:
        for fd in (req_r, rep_w, info_w):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
    return proc, req_w, rep_r, info_r
"""
exec(LAUNCH)


# read, pread64, readv, preadv, preadv2 (what /proc/<pid>/syscall shows a blocked read as)
_READ_SYSCALLS = {"x86_64": {0, 17, 19, 295, 327}, "aarch64": {63, 65, 67, 69, 286}}.get(os.uname().machine)


def _child_of(pid):
    """The host pid of ``pid``'s child (the student's worker process under its waiter)."""
    for _ in range(50):
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    stat = fh.read()
            except OSError:
                continue
            fields = stat[stat.rfind(b")") + 2:].split()
            if len(fields) > 1 and fields[1] == str(pid).encode():
                return int(entry)
        time.sleep(0.01)
    return None


def feedback_of(exc) -> str:
    name = type(exc).__name__
    try:
        msg = str(exc)
    except Exception:  # noqa: BLE001
        msg = "<exception message could not be read>"
    text = f"{name}: {msg}" if msg else name
    if len(text) > 1000:
        text = text[:1000] + " [...]"
    return text


def failing_line(exc, filename: str):
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


_ENV_KEEP = ("PATH", "HOME", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "LC_NUMERIC", "TZ", "TMPDIR",
             "VIRTUAL_ENV", "CONDA_PREFIX", "LD_LIBRARY_PATH", "SYSTEMROOT")


def _student_env(workdir: Path, sandboxed: bool) -> dict:
    """A minimal environment: the instructor's may hold tokens and keys."""
    env = {k: v for k, v in os.environ.items() if k in _ENV_KEEP}
    if sandboxed:
        env = {k: v for k, v in env.items() if k in ("LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "LC_NUMERIC", "TZ")}
        workdir = Path("/tmp")
        env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    env["HOME"] = env["TMPDIR"] = env["MPLCONFIGDIR"] = str(workdir)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
                "VECLIB_MAXIMUM_THREADS"):
        env[var] = "1"
    env["MPLBACKEND"] = "Agg"
    env["PYTHONHASHSEED"] = "0"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env
