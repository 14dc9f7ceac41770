"""The sandbox student code runs in, tested with the real bubblewrap: what a program
inside can and cannot see, write, reach or outlive."""
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from adteach.grading import sandbox

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(sandbox.bwrap_path() is None, reason="needs bubblewrap (apt-get install bubblewrap)")


def run_boxed(code, limits=sandbox.Limits(), pass_fds=(), timeout=60):
    """Run Python ``code`` in the sandbox; (returncode, stdout, stderr, host pid of the program)."""
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "PYTHONPATH": str(Path(sandbox.package_dir()).parent)}
    info_r, info_w = os.pipe()
    argv = sandbox.command(["-s", "-c", textwrap.dedent(code)], limits=limits, info_fd=info_w, env=env)
    proc = subprocess.Popen(argv, pass_fds=(info_w, *pass_fds), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=sandbox.preexec(limits))
    os.close(info_w)
    pid = sandbox.read_info(info_r)
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out.decode(), err.decode(), pid


def test_no_network_not_even_the_hosts_loopback():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    try:
        rc, out, err, _ = run_boxed(f"""
            import socket
            for addr in [("127.0.0.1", {port}), ("1.1.1.1", 80)]:
                s = socket.socket()
                s.settimeout(5)
                try:
                    s.connect(addr)
                    print("connected", addr)
                except OSError as exc:
                    print("refused", addr, type(exc).__name__)
            """)
    finally:
        server.close()
    assert rc == 0, err
    assert "connected" not in out
    assert out.count("refused") == 2


def test_cannot_see_or_signal_the_grader():
    rc, out, err, pid = run_boxed(f"""
        import os
        print(sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
        try:
            os.kill({os.getpid()}, 0)
            print("signalled")
        except ProcessLookupError:
            print("no such process")
        """)
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0] == "[1]"  # only itself: PID 1 of its own namespace
    assert lines[1] == "no such process"
    assert pid and pid != os.getpid()


def test_sees_none_of_the_sources_checkout_or_reports(tmp_path):
    source = tmp_path / "source.ipynb"
    source.write_text("SECRET SOLUTION")
    report = tmp_path / "report"
    report.mkdir()
    (report / "grades.json").write_text("{}")
    paths = [str(source), str(report), str(ROOT / ".git"), str(ROOT / "exercises"), str(ROOT / "README.md"),
             "/etc/shadow", "/root/.bash_history", os.path.expanduser("~/.ssh")]
    rc, out, err, _ = run_boxed(f"""
        import os
        for p in {paths!r}:
            print(p, os.path.exists(p))
        print("pkg", os.path.exists({str(Path(sandbox.package_dir()) / "testing.py")!r}))
        """)
    assert rc == 0, err
    seen = dict(line.rsplit(" ", 1) for line in out.splitlines())
    assert seen.pop("pkg") == "True"  # the adteach package itself is visible (read-only)
    assert set(seen.values()) == {"False"}, seen


def test_cannot_write_outside_its_scratch():
    targets = ["/x", "/usr/x", "/dev/x", "/etc/x", os.path.join(sys.prefix, "x"),
               os.path.join(sandbox.package_dir(), "x.py"), str(ROOT / "x")]
    rc, out, err, _ = run_boxed(f"""
        import os
        for p in {targets!r}:
            try:
                with open(p, "w") as fh:
                    fh.write("planted")
                print("WROTE", p)
            except OSError as exc:
                print("refused", p)
        with open("/tmp/mine", "w") as fh:
            fh.write("ok")
        print("scratch", os.getcwd(), os.environ["HOME"], open("mine").read())
        """)
    assert rc == 0, err
    assert "WROTE" not in out
    assert "scratch /tmp /tmp ok" in out
    assert not (Path(sandbox.package_dir()) / "x.py").exists()


def test_scratch_is_size_limited():
    rc, out, err, _ = run_boxed("""
        import errno
        written = 0
        try:
            with open("big", "wb") as fh:
                for _ in range(64):
                    fh.write(b"x" * (1 << 20))
                    fh.flush()
                    written += 1
        except OSError as exc:
            print("stopped", written, errno.errorcode[exc.errno])
        """, limits=sandbox.Limits(scratch_mb=8))
    assert rc == 0, err
    words = out.split()
    assert words[0] == "stopped" and int(words[1]) <= 8 and words[2] == "ENOSPC", out


def test_memory_and_file_size_limits():
    rc, out, err, _ = run_boxed("""
        try:
            block = bytearray(1 << 30)
            print("allocated")
        except MemoryError:
            print("MemoryError")
        try:
            with open("f", "wb") as fh:
                fh.write(b"x" * (3 << 20))
        except OSError as exc:
            print("EFBIG", exc.errno)
        """, limits=sandbox.Limits(memory_bytes=512 << 20, fsize_bytes=1 << 20))
    assert rc == 0, err
    assert out.splitlines() == ["MemoryError", "EFBIG 27"]


def test_cpu_limit_kills_a_busy_loop_and_says_so():
    start = time.monotonic()
    rc, out, err, _ = run_boxed("""
        import signal
        signal.signal(signal.SIGXCPU, signal.SIG_IGN)  # the limit is a hard one: ignoring SIGXCPU changes nothing
        while True:
            pass
        """, limits=sandbox.Limits(cpu_seconds=1))
    assert rc == 128 + signal.SIGKILL  # bwrap reports 128 + the signal
    assert time.monotonic() - start < 30
    assert sandbox.exit_reason(rc, sandbox.Limits(cpu_seconds=1)) == "exceeded its CPU time limit (1 s)"
    assert sandbox.exit_reason(rc, sandbox.Limits(cpu_seconds=1), killed=True) == "was killed by SIGKILL"


def test_process_count_is_limited():
    rc, out, err, _ = run_boxed("""
        import os, time
        children = 0
        try:
            for _ in range(200):
                pid = os.fork()
                if pid == 0:
                    time.sleep(30)
                    os._exit(0)
                children += 1
        except OSError as exc:
            print("fork refused after", children, exc.strerror, flush=True)
        os._exit(0)
        """, limits=sandbox.Limits(nproc=16))
    assert "fork refused after" in out, (out, err)
    assert int(out.split()[3]) < 16


def test_forked_children_and_daemons_die_with_the_program():
    r, w = os.pipe()
    try:
        rc, out, err, pid = run_boxed(f"""
            import os, time
            if os.fork() == 0:          # a detached daemon: new session, parent gone
                os.setsid()
                if os.fork() == 0:
                    time.sleep(600)     # holds fd {w} open while it lives
                os._exit(0)
            print("parent exits")
            """, pass_fds=(w,))
        os.close(w)
        w = None
        assert rc == 0, err
        start = time.monotonic()
        # EOF on the pipe once no process in the box holds its write end any more
        import select
        ready, _, _ = select.select([r], [], [], 20)
        assert ready and os.read(r, 1) == b"", "a process of the sandbox outlived it"
        assert time.monotonic() - start < 20
    finally:
        os.close(r)
        if w is not None:
            os.close(w)


def test_unprivileged_inside(tmp_path):
    rc, out, err, _ = run_boxed("""
        import os
        status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines())
        print(int(status["CapEff"].strip(), 16), os.getuid() != 0 or os.path.exists("/proc/self/uid_map"))
        """)
    assert rc == 0, err
    assert out.split() == ["0", "True"]


@pytest.mark.skipif(os.geteuid() != 0, reason="as root, each box runs as a uid of its own")
def test_a_box_never_shares_its_uid_with_a_running_process(monkeypatch):
    """RLIMIT_NPROC counts a uid's processes: a box whose uid another box (of this grader or of one
    running beside it) already has would share its process budget (a fork bomb there starves it)."""
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    argv = sandbox.command(["-c", "import time; time.sleep(30)"], env=env)
    uid = int(argv[argv.index(sandbox._TRAMPOLINE) + 2])
    proc = subprocess.Popen(argv, preexec_fn=sandbox.preexec(sandbox.Limits()))
    try:
        deadline = time.monotonic() + 20
        while uid not in sandbox._uids_in_use():
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        # the counter comes round to that uid again: the next box skips it
        monkeypatch.setattr(sandbox, "_uid_counter", iter([uid - sandbox._UID_BASE, uid - sandbox._UID_BASE + 1]))
        again = sandbox.command(["-c", "pass"], env=env)
        next_uid = sandbox._UID_BASE + (uid - sandbox._UID_BASE + 1) % sandbox._UID_COUNT
        assert int(again[again.index(sandbox._TRAMPOLINE) + 2]) == next_uid
    finally:
        proc.kill()
        proc.wait()
