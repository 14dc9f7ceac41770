"""A bounded look at a JSON frame before ``json.loads`` builds it.

The judge parses every reply of the student process with ``json.loads``. A frame
of at most ``MAX_FRAME`` bytes can still cost far more memory once built: 64 MB
of ``[{},{},...]`` are 22 million dicts, about 1.7 GB in the judge, before
:func:`adteach.grading.wire.decode` rejects the value (REDTEAM.md
"judge_memory_forged"). :func:`check` rejects such a frame first, in time linear
in its size and with bulk buffers only (no object per JSON value, a few MB of
NumPy work arrays per chunk):

* escapes are dropped (``\\\\`` pairs, then ``\\"``), so every quote left opens or
  closes a string; a bracket or comma is inside a string when the number of
  quotes before it is odd (found by binary search in the quotes' positions);
* containers are the ``[`` and ``{`` outside strings; values are bounded by the
  commas outside strings (every value after the first of a container follows one);
* the nesting depth is the maximum of the running sum of +1 / -1 over the
  brackets outside strings.

Where the frame is not valid JSON, the counts may be wrong only after the first
error, and ``json.loads`` stops there anyway. Frames of at most
:data:`SMALL` bytes are not looked at (they cannot build much). The limits match
what ``wire.decode`` accepts (``MAX_DEPTH`` nesting, ``MAX_ITEMS`` containers).
"""

from __future__ import annotations

import numpy as np

__all__ = ["FrameRejected", "check", "MAX_DEPTH", "MAX_CONTAINERS", "MAX_VALUES", "SMALL"]

MAX_DEPTH = 64 + 8            # wire.MAX_DEPTH, plus the message's own envelope
MAX_CONTAINERS = 1 << 20      # wire.MAX_ITEMS: lists and dicts of one message
MAX_VALUES = 1 << 22          # JSON values of one message (numbers, strings, containers...)

SMALL = 1 << 16               # bytes: a frame this small builds at most a few MB
_CHUNK = 1 << 20
_STEP = np.zeros(256, dtype=np.int8)
_STEP[list(b"[{")] = 1
_STEP[list(b"]}")] = -1


class FrameRejected(ValueError):
    """A frame whose parsed value would be larger than the protocol allows."""


def check(data: bytes, *, max_depth: int = MAX_DEPTH, max_containers: int = MAX_CONTAINERS,
          max_values: int = MAX_VALUES) -> None:
    """Raise :class:`FrameRejected` unless the JSON text ``data`` holds at most ``max_containers``
    lists and dicts, at most ``max_values`` values and nests at most ``max_depth`` deep."""
    if type(data) is not bytes:
        raise TypeError(f"framecheck.check: expected the frame's bytes, got {type(data).__name__}")
    if len(data) <= SMALL:
        return
    if b"\\" in data:
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    buf = np.frombuffer(data, dtype=np.uint8)
    quotes = 0               # quotes so far: an odd count means inside a string
    depth = deepest = 0
    containers = values = 0
    for start in range(0, len(buf), _CHUNK):
        chunk = buf[start:start + _CHUNK]
        q = np.flatnonzero(chunk == 34)                  # '"'
        b = np.flatnonzero(_STEP[chunk])                 # brackets
        c = np.flatnonzero(chunk == 44)                  # ','
        b = b[((np.searchsorted(q, b) + quotes) & 1) == 0]     # outside strings
        c = c[((np.searchsorted(q, c) + quotes) & 1) == 0]
        quotes += len(q)
        steps = _STEP[chunk[b]]
        containers += int(np.count_nonzero(steps == 1))
        values += len(c)
        if containers > max_containers:
            raise FrameRejected(f"frame of {len(data)} bytes holds more than {max_containers} lists and dicts")
        if values + 1 > max_values:
            raise FrameRejected(f"frame of {len(data)} bytes holds more than {max_values} values")
        if len(steps):
            levels = np.cumsum(steps, dtype=np.int64)
            deepest = max(deepest, depth + int(levels.max()))
            depth += int(levels[-1])
            if deepest > max_depth:
                raise FrameRejected(f"frame nests lists and dicts more than {max_depth} deep")
