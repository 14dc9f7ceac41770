"""The box student code runs in: bubblewrap (``bwrap``) plus resource limits.

:func:`command` builds the argv that runs a Python program inside a sandbox:

* ``--unshare-all``: no network (only a loopback that nothing listens on), its own
  PID, IPC, UTS and cgroup namespaces, so it can neither see nor signal the grader,
  its siblings or anything else on the machine;
* ``--die-with-parent`` and ``--as-pid-1``: the program is PID 1 of its namespace,
  so when it dies (or its parent, the judge, dies) every process it forked dies too;
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
switch to an unprivileged uid (root is exempt from ``RLIMIT_NPROC``; the switch
also clears every capability). Nothing in the sandbox can raise a hard limit.

``RLIMIT_CPU`` is a per-process total. Per-test CPU budgets are enforced from
outside by the judge, which reads the program's CPU time in ``/proc`` (see
:func:`cpu_seconds`): a loaded machine slows a test down but never costs it its
points, because CPU time, not wall time, is what is limited.

Only Linux has bubblewrap. On macOS or Windows, grade inside a Linux container
or VM (e.g. ``docker run --rm -it -v $PWD:/work debian`` with ``apt-get install
bubblewrap python3``); ``--no-sandbox`` grades without one and says so.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Limits", "SandboxUnavailable", "bwrap_path", "command", "preexec", "read_info", "cpu_seconds",
           "UNPRIVILEGED_UID", "NO_SANDBOX_WARNING"]

#: The uid student code runs as when the grader is root (nobody).
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


_UID_BASE, _UID_COUNT = 62000, 2000
_uid_counter = iter(range(int.from_bytes(os.urandom(2), "big") % _UID_COUNT, 1 << 62))


def _uids_in_use() -> set:
    out = set()
    try:
        entries = os.listdir("/proc")
    except OSError:
        return out
    for entry in entries:
        if entry.isdigit():
            try:
                out.add(os.stat(f"/proc/{entry}").st_uid)
            except OSError:
                pass
    return out


def _next_uid() -> int:
    """A uid of the range that no process has now: RLIMIT_NPROC counts a uid's processes, so a box
    must not share its uid with another box, of this grader or of another one running beside it
    (each starts at a random place in the range)."""
    used = _uids_in_use()
    for _ in range(_UID_COUNT):
        uid = _UID_BASE + next(_uid_counter) % _UID_COUNT
        if uid not in used:
            return uid
    return uid


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create namespaces here."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed program (None: no limit)."""

    cpu_seconds: int | None = 60        # RLIMIT_CPU of each process (soft = hard)
    memory_bytes: int | None = 2 << 30  # RLIMIT_AS
    nproc: int | None = 64              # RLIMIT_NPROC, processes and threads
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
        # UNPRIVILEGED_UID, which clears them.
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
    for key, value in (env or {}).items():
        argv += ["--setenv", key, value]
    if info_fd is not None:
        argv += ["--info-fd", str(info_fd)]
    # as root: an unprivileged uid, by default one of its own per sandbox (uid=None), so that RLIMIT_NPROC,
    # which counts the processes of a uid, is not shared with the sandboxes graded beside it
    uid = (uid if uid is not None else _next_uid()) if root else 0
    argv += ["--", python, "-I", "-S", "-c", _TRAMPOLINE, str(limits.nproc or 0), str(uid), python, *program]
    return argv


def preexec(limits: Limits):
    """A ``preexec_fn`` that sets the inherited limits before bwrap is exec'ed."""
    def apply() -> None:
        def cap(which, value, hard=None):
            if value is not None:
                resource.setrlimit(which, (int(value), int(hard if hard is not None else value)))
        # soft < hard: a process other than PID 1 gets SIGXCPU first (so its exit says why); PID 1,
        # which ignores SIGXCPU, is ended by the hard limit's SIGKILL
        if limits.cpu_seconds is not None:
            cap(resource.RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds + 2)
        cap(resource.RLIMIT_AS, limits.memory_bytes)
        cap(resource.RLIMIT_FSIZE, limits.fsize_bytes)
        cap(resource.RLIMIT_NOFILE, limits.nofile)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def read_info(fd: int, timeout: float = 10.0) -> int | None:
    """The host pid of the sandboxed program, from bwrap's ``--info-fd`` (closes ``fd``)."""
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
    return pid if isinstance(pid, int) and pid > 0 else None


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


def check() -> None:
    """Raise SandboxUnavailable unless a trivial program runs in the sandbox here."""
    import subprocess

    try:
        argv = command(["-c", "pass"])
    except SandboxUnavailable:
        raise
    try:
        out = subprocess.run(argv, capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SandboxUnavailable(f"bwrap could not run: {exc}") from None
    if out.returncode != 0:
        err = out.stderr.decode("utf-8", "replace").strip()[-500:]
        raise SandboxUnavailable(f"bwrap cannot create a sandbox here (exit {out.returncode}): {err}")
