"""The box student code runs in: bubblewrap (``bwrap``) plus resource limits.

:func:`command` builds the argv that runs a Python program inside a sandbox:

* ``--unshare-all``: no network (only a loopback that nothing listens on), its own
  PID, IPC, UTS and cgroup namespaces, so it can neither see nor signal the grader,
  its siblings or anything else on the machine;
* ``--as-pid-1``: the program is PID 1 of its namespace, so when it dies every
  process of the box dies too. :func:`kill` ends a box by SIGKILL to PID 1 from
  outside (through a pidfd opened when bwrap reported its pid, :func:`read_info`),
  which neither a ptrace stop, a new session, a uid switch nor an ignored signal
  changes, and returns once the kernel has removed every process of the box.
  ``--die-with-parent`` ends bwrap with the grader; as root, PID 1 runs as another
  uid, which the dying bwrap may not signal, so a box whose grader was killed
  (SIGKILL) lives until the next grading starts: :func:`sweep` (run by
  :func:`check`, at exit and, as root, on a SIGTERM nothing else handles) kills
  the PID 1 of every box whose bwrap is gone and every process of this grader's uids;
* ``--new-session`` (no terminal injection); no capabilities (see below) and, when
  bwrap runs unprivileged, ``--disable-userns``;
* a filesystem made only of read-only binds: the system directories (``/usr``,
  ``/bin``, ``/lib*``, a few files of ``/etc``), the Python environment
  (``sys.prefix``, ``sys.base_prefix``) and the adteach package directory alone
  (bound at its own path, so neither the checkout around it, its ``.git``, the
  exercise sources, the report directory nor other submissions exist inside);
  the root and ``/dev`` are remounted read-only;
* a private tmpfs of ``scratch_mb`` megabytes at ``/tmp``, the cwd and ``HOME``;
  ``/dev/shm`` is a small tmpfs of its own.

Limits (:class:`Limits`) are set with ``setrlimit`` before ``bwrap`` is exec'ed
(address space, CPU time, file size, open files, no core dumps; inherited by the
sandbox) and, inside, by a few lines of stdlib Python that run before the
program (:data:`_TRAMPOLINE`): the process count (``RLIMIT_NPROC``, which must be
set after the user namespace exists) and, when the grader runs as root, the
switch to a uid of the box's own (root is exempt from ``RLIMIT_NPROC``; the switch
also clears every capability): never one a live process has, never reused within
a run, from a random start in a range nothing else uses (:func:`_next_uid`).
Nothing in the sandbox can raise a hard limit.

``RLIMIT_NPROC`` is 2 by default: PID 1 (the student runner's waiter) and its
worker; the program can start no other process and no thread (BLAS and OpenMP
are told to use one thread). ``RLIMIT_CPU`` is a per-process total, and so is
what ``/proc`` reports: with no third process, the CPU time of those two is all
the box's. Per-test CPU budgets are enforced from outside by the judge, which
reads it (see :func:`cpu_seconds`): a loaded machine slows a test down but never
costs it its points, because CPU time, not wall time, is what is limited.

Only Linux has bubblewrap. On macOS or Windows, grade inside a Linux container
or VM (e.g. ``docker run --rm -it -v $PWD:/work debian`` with ``apt-get install
bubblewrap python3``); ``--no-sandbox`` grades without one and says so.
"""

from __future__ import annotations

import atexit
import json
import os
import resource
import shutil
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Limits", "SandboxUnavailable", "bwrap_path", "command", "preexec", "read_info", "kill", "sweep",
           "cpu_seconds",
           "UNPRIVILEGED_UID", "NO_SANDBOX_WARNING"]

#: nobody. Kept for callers; boxes no longer run as it: each one gets a uid of its own (:func:`_next_uid`).
UNPRIVILEGED_UID = 65534

NO_SANDBOX_WARNING = ("adteach grade: WARNING: --no-sandbox: student code runs with the grader's rights "
                      "(it can read the sources and hidden tests, the network and your files)")

# System paths bound read-only when they exist. /etc is not bound as a whole (it may hold keys).
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/passwd",
              "/etc/group", "/etc/nsswitch.conf", "/etc/alternatives", "/etc/fonts", "/etc/mime.types")

# Runs inside the sandbox before the program: stdlib only, no site, no user code yet.
# The uid switch clears the parent-death signal that bwrap's --die-with-parent set (the kernel does so
# on every credential change): it is set again after it, so that when bwrap dies (the judge killed it,
# or the judge died), this process, PID 1 of the box, dies and the kernel kills everything in the box.
_TRAMPOLINE = (
    "import os,resource,sys\n"
    "n,uid=int(sys.argv[1]),int(sys.argv[2])\n"
    "if os.getuid()==0 and uid>0:\n"
    " os.setgroups([]);os.setgid(uid);os.setuid(uid)\n"
    " import ctypes\n"
    " if ctypes.CDLL(None,use_errno=True).prctl(1,9,0,0,0)!=0:os._exit(125)\n"
    "if n>0:resource.setrlimit(resource.RLIMIT_NPROC,(n,n))\n"
    "os.execv(sys.argv[3],sys.argv[3:])\n"
)

# The uids boxes run as when the grader is root: one of its own per box, never reused within a run, from
# a range no distribution or systemd hands out (systemd's "unused" 1879048192-2147352575), starting at a
# random offset in every run, and never one that a live process already has (a box left by a grader that
# was killed, another grader's box). RLIMIT_NPROC counts the processes of a uid: a shared uid would let
# one box stop another from starting.
_UID_BASE, _UID_COUNT = 1_900_000_000, 200_000_000
_uid_lock = threading.Lock()
_uid_next = [int.from_bytes(os.urandom(4), "little") % _UID_COUNT]
_uids_given: set = set()


def _uids_of(pid) -> set:
    """The uids (real, effective, saved, filesystem) of process ``pid``; empty if it is gone."""
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            data = fh.read()
    except OSError:
        return set()
    start = data.find(b"\nUid:")
    if start < 0:
        return set()
    return {int(u) for u in data[start + 5:data.find(b"\n", start + 1)].split()}


def _processes():
    return (int(e) for e in os.listdir("/proc") if e.isdigit())


def _uids_in_use() -> set:
    """Every uid of a process alive now."""
    out: set = set()
    for pid in _processes():
        out |= _uids_of(pid)
    return out


def _next_uid() -> int:
    with _uid_lock:
        busy = _uids_in_use()     # one /proc scan per box: about 2 ms for 100 processes
        while True:
            uid = _UID_BASE + _uid_next[0] % _UID_COUNT
            _uid_next[0] += 1
            if uid not in busy and uid not in _uids_given:
                _uids_given.add(uid)
                return uid


#: Set in every box: numerical libraries must not start threads (RLIMIT_NPROC allows none).
_SINGLE_THREAD = {v: "1" for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                    "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "GOTO_NUM_THREADS")}


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create namespaces here."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed program (None: no limit)."""

    cpu_seconds: int | None = 60        # RLIMIT_CPU of each process (soft = hard)
    memory_bytes: int | None = 2 << 30  # RLIMIT_AS
    # RLIMIT_NPROC, processes and threads: 2 is PID 1 (the waiter) and the worker, so the program cannot
    # fork or start a thread at all. Its CPU time is then the CPU time of those two processes, which
    # the judge reads (a child's or a thread's would have a budget of its own); BLAS and OpenMP are
    # told to use one thread (see _SINGLE_THREAD).
    nproc: int | None = 2
    fsize_bytes: int | None = 64 << 20  # RLIMIT_FSIZE, the largest file it may write
    nofile: int | None = 256            # RLIMIT_NOFILE
    scratch_mb: int = 64                # size of the tmpfs at /tmp (cwd and HOME)


def bwrap_path() -> str | None:
    """The bwrap executable, or None."""
    return shutil.which("bwrap")


def _python_roots(python: str) -> list[str]:
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    exe = Path(python)
    for p in (exe, exe.resolve()):
        roots.add(str(p.parent.parent))  # .../bin/python -> ...
    return sorted(r for r in roots if r and os.path.isdir(r))


def package_dir() -> str:
    """The adteach package directory (bound read-only at its own path)."""
    return str(Path(__file__).resolve().parents[1])


def _minimal(paths: list[str]) -> list[str]:
    """Drop paths that lie inside another path of the list."""
    out: list[str] = []
    for p in sorted(set(paths), key=len):
        if not any(p == q or p.startswith(q.rstrip("/") + "/") for q in out):
            out.append(p)
    return out


def command(program: list[str], *, python: str | None = None, limits: Limits = Limits(),
            info_fd: int | None = None, extra_ro: tuple = (), env: dict | None = None,
            uid: int | None = None) -> list[str]:
    """The argv that runs ``[python, *program]`` inside a bubblewrap sandbox.

    ``program`` is what follows the interpreter (``["-I", "script.py", ...]``).
    ``info_fd`` (optional) receives bwrap's JSON with the host ``child-pid``.
    ``env`` is the complete environment of the program (bwrap clears the rest).
    """
    bwrap = bwrap_path()
    if bwrap is None:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed: apt-get install bubblewrap")
    python = python or sys.executable
    root = os.geteuid() == 0
    argv = [bwrap, "--die-with-parent", "--new-session", "--as-pid-1", "--clearenv"]
    if root:
        # --unshare-all minus the user namespace: in one, the program would still be uid 0 outside and so
        # exempt from RLIMIT_NPROC. It keeps only CAP_SETUID/SETGID, for the trampoline's switch to
        # the box's uid, which clears them.
        argv += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
                 "--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:  # unprivileged: bwrap makes a user namespace; forbid nested ones
        argv += ["--unshare-all", "--disable-userns"]
    ro = [d for d in _SYSTEM_DIRS if os.path.exists(d)]
    ro += _python_roots(python)
    ro.append(package_dir())
    ro += [str(p) for p in extra_ro]
    binds = _minimal(ro)
    # the private scratch first: bwrap mounts in order, so a Python environment or an adteach checkout
    # that lives under /tmp (a clone in /tmp/...) is bound on top of the scratch instead of hidden by it
    argv += ["--size", str(int(limits.scratch_mb) << 20), "--perms", "1777", "--tmpfs", "/tmp"]
    parents = sorted({str(a) for path in binds for a in Path(path).parents if str(a) != "/"}, key=len)
    for parent in parents:  # bwrap would create them 0700, unreadable once we are not root
        if parent not in binds:
            argv += ["--perms", "0755", "--dir", parent]
    for path in binds:
        if os.path.islink(path):  # /bin -> usr/bin on merged-/usr systems
            argv += ["--symlink", os.readlink(path), path]
        else:
            argv += ["--ro-bind", path, path]
    for path in _ETC_FILES:
        argv += ["--ro-bind-try", path, path]
    argv += ["--proc", "/proc", "--dev", "/dev",
             "--size", str(16 << 20), "--perms", "1777", "--tmpfs", "/dev/shm",
             "--remount-ro", "/dev", "--remount-ro", "/", "--chdir", "/tmp"]
    for key, value in {**(env or {}), **_SINGLE_THREAD}.items():
        argv += ["--setenv", key, value]
    if info_fd is not None:
        argv += ["--info-fd", str(info_fd)]
    # as root: an unprivileged uid, by default one of its own per sandbox (uid=None), so that RLIMIT_NPROC,
    # which counts the processes of a uid, is not shared with the sandboxes graded beside it
    uid = (uid if uid is not None else _next_uid()) if root else 0
    argv += ["--", python, "-I", "-S", "-c", _TRAMPOLINE, str(limits.nproc or 0), str(uid), python, *program]
    return argv


def rlimits(limits: Limits) -> list:
    """The ``(resource, soft, hard)`` limits set before bwrap is exec'ed (inherited by the sandbox)."""
    out = []

    def cap(which, value, hard=None):
        if value is not None:
            out.append((which, int(value), int(hard if hard is not None else value)))
    # soft < hard: a process other than PID 1 gets SIGXCPU first (so its exit says why); PID 1,
    # which ignores SIGXCPU, is ended by the hard limit's SIGKILL
    if limits.cpu_seconds is not None:
        cap(resource.RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds + 2)
    cap(resource.RLIMIT_AS, limits.memory_bytes)
    cap(resource.RLIMIT_FSIZE, limits.fsize_bytes)
    cap(resource.RLIMIT_NOFILE, limits.nofile)
    out.append((resource.RLIMIT_CORE, 0, 0))
    return out


def preexec(limits: Limits):
    """A ``preexec_fn`` that sets the inherited limits before bwrap is exec'ed."""
    todo = rlimits(limits)

    def apply() -> None:
        for which, soft, hard in todo:
            resource.setrlimit(which, (soft, hard))
    return apply


def read_info(fd: int, timeout: float = 10.0) -> int | None:
    """The host pid of the sandboxed program (its PID 1), from bwrap's ``--info-fd`` (closes ``fd``).

    The process is pinned at once by a pidfd (kept until :func:`kill`), so that killing it later
    can never hit another process that got the same pid."""
    import select

    data = b""
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        while b"}" not in data and len(data) < 4096:
            if not poller.poll(int(timeout * 1000)):
                break
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(fd)
    try:
        pid = json.loads(data.decode("ascii", "replace")).get("child-pid")
    except ValueError:
        return None
    if not (isinstance(pid, int) and pid > 0):
        return None
    _pin(pid)
    return pid


_pinned: dict = {}     # host pid of a box's PID 1 -> its pidfd
_pinned_lock = threading.Lock()


def _ns_pid(pid: int) -> int | None:
    """The pid of host process ``pid`` in its innermost PID namespace (1 for a box's PID 1)."""
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"NSpid:"):
                    return int(line.split()[-1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def _pin(pid: int) -> None:
    try:
        fd = os.pidfd_open(pid)
    except (OSError, AttributeError):
        return
    if _ns_pid(pid) != 1:       # not (or no longer) a box's PID 1: never signalled through this pin
        os.close(fd)
        return
    with _pinned_lock:
        old = _pinned.pop(pid, None)
        _pinned[pid] = fd
    if old is not None:
        os.close(old)


def kill(proc, pid: int | None, timeout: float = 10.0) -> None:
    """End a box and everything in it: ``proc`` is bwrap's Popen, ``pid`` its PID 1's host pid.

    SIGKILL to PID 1 (through the pidfd :func:`read_info` opened) makes the kernel kill every
    process of its PID namespace; a ptrace stop, a new session, a changed uid or an ignored signal
    change nothing. This waits until PID 1 is gone, which the kernel reports only once every other
    process of the namespace is gone too. Unsandboxed programs (``pid`` not pinned): bwrap's or the
    program's process group is killed, as before.
    """
    with _pinned_lock:
        fd = _pinned.pop(pid, None) if pid else None
    if fd is not None:
        try:
            signal.pidfd_send_signal(fd, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _await_exit(fd, timeout)
        try:
            proc.wait(timeout=2.0)    # bwrap reaps its child and exits with it (no zombie left to init)
            return
        except Exception:  # noqa: BLE001 - subprocess.TimeoutExpired
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=timeout)
    except Exception:  # noqa: BLE001 - subprocess.TimeoutExpired: reported by the caller's own wait
        pass


def _await_exit(fd: int, timeout: float) -> None:
    """Wait (at most ``timeout`` s) until the process of pidfd ``fd`` has exited; close ``fd``."""
    import select
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN)   # readable once the process has exited
        poller.poll(int(timeout * 1000))
    finally:
        os.close(fd)


def _descendants(pid: int) -> list:
    """Host pids of every process below ``pid`` (children first seen first)."""
    children: dict = {}
    for p in _processes():
        parent = _ppid(p)
        if parent is not None:
            children.setdefault(parent, []).append(p)
    out, todo = [], list(children.get(pid, ()))
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, ()))
    return out


def kill_tree(proc, timeout: float = 10.0) -> None:
    """End ``proc`` (a grading worker's Popen) and everything it started: boxes (by their PID 1),
    bwraps, unsandboxed student processes and their groups. ``proc`` is stopped first, so it starts
    nothing meanwhile."""
    try:
        os.killpg(proc.pid, signal.SIGSTOP)
    except (ProcessLookupError, PermissionError):
        pass
    for _ in range(5):
        found = []
        for p in _descendants(proc.pid):
            try:
                found.append((p, os.pidfd_open(p)))
            except OSError:
                continue
        if not found:
            break
        # PID 1 of a box first: the kernel then kills its whole PID namespace
        found.sort(key=lambda pf: _ns_pid(pf[0]) != 1)
        for p, fd in found:
            try:
                signal.pidfd_send_signal(fd, signal.SIGKILL)
            except OSError:
                pass
            try:
                if os.getpgid(p) == p:
                    os.killpg(p, signal.SIGKILL)
            except OSError:
                pass
        for _p, fd in found:
            _await_exit(fd, 5.0)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=timeout)
    except Exception:  # noqa: BLE001 - subprocess.TimeoutExpired
        pass
    if os.geteuid() == 0:
        # a box whose bwrap went before its PID 1 was found (see sweep); not every box of the
        # uids this process handed out: the other workers' first boxes have some of them
        sweep(ours=False)


def _ppid(pid) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
        return int(stat[stat.rfind(b")") + 2:].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _comm(pid) -> bytes:
    try:
        with open(f"/proc/{pid}/comm", "rb") as fh:
            return fh.read().strip()
    except OSError:
        return b""


def _orphaned_box(pid, uids) -> bool:
    """A box's PID 1 (a process of the boxes' uid range that is PID 1 of its namespace) whose bwrap is gone.

    The parent-death signal does not reach it then: the kernel checks that the dying bwrap may signal
    a process of another uid, and it may not. A live grader's boxes always have their bwrap."""
    if not any(_UID_BASE <= u < _UID_BASE + _UID_COUNT for u in uids) or _ns_pid(pid) != 1:
        return False
    parent = _ppid(pid)
    return parent is not None and _comm(parent) != b"bwrap"


def sweep(ours: bool = True) -> int:
    """SIGKILL what is left of boxes; how many processes were signalled.

    ``ours=False``: only the PID 1 of boxes whose bwrap is gone (a grading worker that was
    killed leaves those; the boxes of the other workers of this grader are running).

    Left: any process that runs as one of the uids this grader handed out (nothing should be left
    once each box was :func:`kill`-ed; this runs at exit), and the PID 1 of any box, of this grader
    or an earlier one, whose bwrap is gone (a grader killed with SIGKILL leaves its boxes running;
    killing their PID 1 kills all of each one). Runs when a grading starts (:func:`check`) and at exit.
    Boxes of another grader that is running are never touched."""
    with _uid_lock:
        ours = set(_uids_given) if ours else set()
    killed = 0
    for pid in _processes():
        uids = _uids_of(pid)
        if not (ours & uids or _orphaned_box(pid, uids)):
            continue
        try:
            fd = os.pidfd_open(pid)
        except OSError:
            continue
        try:
            uids = _uids_of(pid)        # still that process (the pidfd pins it): never a reused pid
            if ours & uids or _orphaned_box(pid, uids):
                signal.pidfd_send_signal(fd, signal.SIGKILL)
                killed += 1
        except OSError:
            pass
        finally:
            os.close(fd)
    return killed


atexit.register(sweep)


def _end_boxes_on_sigterm() -> None:
    """SIGTERM (``timeout``, ``kill``, a service manager) ends a Python program without its atexit
    handlers: when nothing else handles it, make it kill this grader's boxes first, then exit."""
    if threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return

    def on_sigterm(signum, frame):
        sweep()
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, on_sigterm)


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds of process ``pid`` (all its threads), read from /proc; None if gone."""
    if not pid:
        return None
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return None
    fields = stat[stat.rfind(b")") + 2:].split()
    try:
        return (int(fields[11]) + int(fields[12])) / _TICKS
    except (IndexError, ValueError):
        return None


def exit_reason(returncode: int | None, limits: Limits | None = None, *, killed: bool = False) -> str:
    """What a sandboxed program's exit status means, in words ("exceeded its CPU time limit (2 s)").

    The program is PID 1 of its namespace, where the kernel's SIGXCPU has no effect: the CPU
    limit ends it with SIGKILL. So a SIGKILL that the caller did not send (``killed``) is the
    CPU limit. bwrap reports a death by signal N as exit status 128 + N.
    """
    import signal

    if returncode is None:
        return "did not exit"
    if returncode < 0 or returncode > 128:
        num = -returncode if returncode < 0 else returncode - 128
        cpu = limits.cpu_seconds if limits is not None else None
        if num == signal.SIGXCPU or (num == signal.SIGKILL and cpu and not killed):
            return f"exceeded its CPU time limit ({cpu} s)" if cpu else "exceeded its CPU time limit"
        if num == signal.SIGXFSZ:
            return "exceeded its file size limit"
        try:
            name = signal.Signals(num).name
        except ValueError:
            name = f"signal {num}"
        return f"was killed by {name}"
    return f"exited with status {returncode}"


# the student runner's shape: PID 1 and one child, the most RLIMIT_NPROC allows
_CHECK = ("import os,sys\n"
          "try:\n pid=os.fork()\n"
          "except OSError as exc:\n sys.exit('fork: '+str(exc))\n"
          "if pid==0:os._exit(0)\n"
          "os.waitpid(pid,0)\n")


def check() -> None:
    """Raise SandboxUnavailable unless a program that forks once runs in the sandbox here.

    As root, first :func:`sweep` what earlier graders left."""
    import subprocess

    if os.geteuid() == 0:
        sweep()
        _end_boxes_on_sigterm()
    try:
        argv = command(["-c", _CHECK])
    except SandboxUnavailable:
        raise
    try:
        out = subprocess.run(argv, capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SandboxUnavailable(f"bwrap could not run: {exc}") from None
    if out.returncode != 0:
        err = out.stderr.decode("utf-8", "replace").strip()[-500:]
        if err.startswith("fork:"):
            raise SandboxUnavailable(
                f"a sandboxed program cannot start its one child process ({err}): RLIMIT_NPROC counts all of "
                "your user's processes on this kernel (Linux before 5.14 without user-namespace counts); "
                "grade as root, or on Linux 5.14 or later")
        raise SandboxUnavailable(f"bwrap cannot create a sandbox here (exit {out.returncode}): {err}")
