"""A forged reply frame costs the judge no more than its own bytes (REDTEAM.md "judge_memory_forged").

The student writes one frame of 64 MB of ``[{},{},...]`` (under MAX_FRAME) on the reply pipe: built by
``json.loads`` it is 22 million dicts, about 1.7 GB in the judge. ``framecheck.check`` rejects it first.
Graded with the real sandbox beside the honest control (square wrong: 3 of 4); the grader's peak
memory (its max RSS, read by the parent after it exited) must stay far below what the dicts would take.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from adteach.grading import read_notebook, release_notebook, sandbox, wire

DATA = Path(__file__).parent / "grading_data"
SOURCE = DATA / "square.ipynb"

pytestmark = [
    pytest.mark.skipif(sandbox.bwrap_path() is None, reason="needs bubblewrap (apt-get install bubblewrap)"),
]

TOY = {
    "square": "def square(x):\n    return x",
    "dsquare": "def dsquare(x):\n    return 2.0 * np.asarray(x, dtype=float)",
    "numerical_derivative": "def numerical_derivative(f, x, h=1e-6):\n    return (f(x + h) - f(x - h)) / (2 * h)",
}
FORGED = r'''def square(x):
    import gc, os, struct
    end = [o for o in gc.get_objects() if type(o).__name__ == "StudentEnd"][0]
    body = b"[" + b"{}," * ((64 << 20) // 3 - 2) + b"{}]"
    os.write(end.wfd, struct.pack(">I", len(body)) + body)
    return x
'''


def _notebook(solutions) -> dict:
    nb = release_notebook(read_notebook(SOURCE))
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in solutions:
            cell["source"] = solutions[gid]
    return nb


def test_a_forged_frame_is_rejected_before_it_is_built(tmp_path):
    control, forged = tmp_path / "control.ipynb", tmp_path / "forged.ipynb"
    control.write_text(json.dumps(_notebook(TOY)))
    forged.write_text(json.dumps(_notebook({**TOY, "square": FORGED})))
    proc = subprocess.run([sys.executable, "-m", "adteach", "grade", str(SOURCE), str(control), str(forged),
                           "--report", str(tmp_path / "r"), "--timeout", "3"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=600)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss   # the largest child waited for so far
    assert proc.returncode == 0, proc.stderr[-3000:]
    subs = json.loads((tmp_path / "r" / "grades.json").read_text())["submissions"]
    assert subs["control"]["score"] == 3 and subs["forged"]["score"] == 3, subs
    assert "broke the protocol" in subs["forged"]["tests"][0]["feedback"], subs["forged"]["tests"][0]
    # 64 MB read, a copy or two of it: a few hundred MB at most; the 22 M dicts would be ~1.7 GB
    assert peak_kb < 600 * 1024, peak_kb
