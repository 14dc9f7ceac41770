"""The student process: runs the student's cells and answers the judge's requests.

Run as a script, inside the sandbox::

    python -I -S _student.py REQ_FD REPLY_FD

Everything here is under the student's control once its first cell runs (it is
the same process): the judge therefore treats every reply as data to check, and
nothing this file does is needed for the verdict to be right. What it does is
serve honest submissions well:

* the protocol channel is a pair of pipes on descriptors of its own; the
  student's ``print`` and writes to fd 1 and 2 go to /dev/null and a capped
  log, never into the channel;
* the student's cells run in a fresh ``__main__`` namespace; the judge asks
  for names (``global``), calls, attributes and operators on handles, and
  sends callbacks (a test's lambda passed to the student's function) the other
  way;
* ``vcall`` / ``vjp`` let the judge differentiate through student functions:
  the student's adteach records the call and later back-propagates a seed the
  judge sends.
"""

import os
import sys


def _main() -> None:
    req_fd, rep_fd = int(sys.argv[1]), int(sys.argv[2])
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    pkg_parent = os.path.dirname(os.path.dirname(here))
    if pkg_parent not in sys.path:
        sys.path.append(pkg_parent)  # `import adteach` (the same package as the grader's)

    # The pid the student could signal (os.getppid()) is a waiter that only mirrors our exit.
    pid = os.fork()
    if pid:
        import signal
        os.close(req_fd)
        os.close(rep_fd)
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

    import importlib.util
    import random
    import types

    spec = importlib.util.spec_from_file_location("_adteach_wire", os.path.join(here, "wire.py"))
    wire = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(wire)

    main_mod = types.ModuleType("__main__")
    ns = main_mod.__dict__
    import builtins
    ns["__builtins__"] = builtins
    sys.modules["__main__"] = main_mod
    if not hasattr(builtins, "display"):
        def display(*objs, **kwargs):  # a stand-in for IPython's display()
            for obj in objs:
                print(repr(obj))
        builtins.display = display

    pkg_dir = os.path.dirname(here) + os.sep

    class _Pull:
        """A recorded call of a student function on adteach values (the judge holds a handle)."""

        def __init__(self, out, leaves, backprop):
            self.out, self.leaves, self.backprop = out, leaves, backprop

    class StudentEnd(wire.Endpoint):
        def where(self, exc):
            """The innermost student function in the traceback (as adteach.testing.call names it)."""
            found = None
            tb = exc.__traceback__
            while tb is not None:
                code = tb.tb_frame.f_code
                name = getattr(code, "co_qualname", None) or code.co_name
                fname = code.co_filename
                if not fname.startswith(pkg_dir) and "site-packages" not in fname and not name.endswith(">") \
                        and fname != __file__:
                    found = name.rsplit("<locals>.", 1)[-1]
                tb = tb.tb_next
            return found

        def vcall(self, obj, msg):
            import adteach
            from adteach.tape import Var, backprop
            leaves = []

            def leaf(value):
                v = Var(value)
                leaves.append(v)
                return v
            args = [wire.decode(a, self.refs, leaf=leaf) for a in wire._list(msg.get("args"))]
            kwargs = {}
            for pair in wire._list(msg.get("kwargs")):
                kwargs[pair[0]] = wire.decode(pair[1], self.refs, leaf=leaf)
            out = obj(*args, **kwargs)
            if type(out) is Var:
                pull = _Pull(out, leaves, backprop)
                return {"r": "ok", "v": [wire.encode(out.value, self.refs), wire.encode(pull, self.refs)]}
            del adteach
            return {"r": "ok", "v": [wire.encode(out, self.refs), None]}

    end = StudentEnd(req_fd, rep_fd, "s")
    end.caching = True

    def h_exec(msg):
        code = compile(msg["code"], msg["filename"], "exec", dont_inherit=True)
        exec(code, ns)
        return {"r": "ok", "v": None}

    def h_global(msg):
        name = msg["name"]
        if name not in ns:
            raise NameError(f"name {name!r} is not defined")
        return {"r": "ok", "v": wire.encode(ns[name], end.refs)}

    def h_seed(msg):
        seed = msg["seed"]
        random.seed(seed)
        np = sys.modules.get("numpy")
        try:
            np.random.seed(seed % (2 ** 32))
        except Exception:  # noqa: BLE001 - numpy replaced or not imported
            pass
        return {"r": "ok", "v": None}

    def h_vjp(msg):
        import numpy as np
        pull = wire.decode(msg["obj"], end.refs)
        g = wire.decode(msg["value"], end.refs)
        adj = pull.backprop(pull.out, g)
        grads = []
        for leaf in pull.leaves:
            a = adj.get(leaf)
            if a is None:
                a = np.zeros_like(leaf.value) if np.ndim(leaf.value) else 0.0
            while hasattr(a, "value") and type(a).__name__ == "Var":
                a = a.value
            grads.append(a)
        return {"r": "ok", "v": wire.encode(grads, end.refs)}

    def h_hello(msg):
        # the modules the source's given cells import, imported before any student code (the
        # judge does not wait for student code to do it; failures are the cells' business)
        import importlib
        for name in wire._list(msg.get("imports")):
            if type(name) is str and len(name) < 200 and all(p.isidentifier() for p in name.split(".")):
                try:
                    importlib.import_module(name)
                except Exception:  # noqa: BLE001
                    pass
        return {"r": "ok", "v": os.getpid()}

    end.handlers.update({"exec": h_exec, "global": h_global, "seed": h_seed, "vjp": h_vjp, "hello": h_hello})
    # Student code may rebind builtins (builtins.float = ...): that would break this runner's own
    # encoding of its later answers, so they are put back after every request (not a defence: the
    # judge does not rely on anything in this process; it keeps honest cells after such a one graded).
    builtins_dict = builtins.__dict__
    builtins_snap = dict(builtins_dict)

    def restore_builtins():
        for k, v in builtins_snap.items():
            if builtins_dict.get(k, restore_builtins) is not v:
                builtins_dict[k] = v

    while True:
        restore_builtins()
        try:
            msg = end._read()
        except EOFError:
            os._exit(0)
        if type(msg) is dict and msg.get("q") == "exit":
            end.flush()
            os._exit(0)
        end.handle(msg)


if __name__ == "__main__":
    _main()
