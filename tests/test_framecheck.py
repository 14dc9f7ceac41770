"""framecheck: a reply frame that would build too many objects in the judge is rejected before json.loads."""

from __future__ import annotations

import json
import random
import tracemalloc

import pytest

from adteach.grading import framecheck as F


def _count(value) -> tuple[int, int, int]:
    """(containers, values, depth) of a parsed JSON value, the slow exact way."""
    if isinstance(value, (list, dict)):
        items = list(value.values()) if isinstance(value, dict) else value
        sub = [_count(v) for v in items]
        return (1 + sum(s[0] for s in sub), 1 + sum(s[1] for s in sub), 1 + max((s[2] for s in sub), default=0))
    return 0, 1, 0


def _random_value(rng, depth=0):
    r = rng.random()
    if depth > 6 or r < 0.4:
        return rng.choice([1.5, -3, None, True, "plain", 'q"uo\\te', "[{,}]", "\\", "\\\\\"[", "é\u2028"])
    if r < 0.7:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(0, 6))]
    return {f"k{i}[,\"": _random_value(rng, depth + 1) for i in range(rng.randrange(0, 6))}


def _padded(value) -> bytes:
    """``value`` as a frame larger than F.SMALL (smaller ones are not looked at)."""
    return json.dumps({"pad": "x" * (F.SMALL + 10), "v": value}, ensure_ascii=True).encode("ascii")


@pytest.mark.parametrize("seed", range(30))
def test_counts_are_exact_on_valid_json(seed):
    rng = random.Random(seed)
    value = [_random_value(rng) for _ in range(20)]
    data = _padded(value)
    containers, _, depth = _count(json.loads(data))
    F.check(data, max_containers=containers, max_depth=depth)         # exactly at the limits: accepted
    with pytest.raises(F.FrameRejected, match="lists and dicts"):
        F.check(data, max_containers=containers - 1)
    with pytest.raises(F.FrameRejected, match="deep"):
        F.check(data, max_depth=depth - 1)


def test_values_are_bounded_by_commas():
    data = _padded(list(range(100_000)))
    F.check(data, max_values=100_002)            # the list's 100,000 + "pad" + its value: commas + 1
    with pytest.raises(F.FrameRejected, match="values"):
        F.check(data, max_values=50_000)


def test_the_forged_64_mb_frame_is_rejected_with_little_memory():
    body = b"[" + b"{}," * ((64 << 20) // 3 - 2) + b"{}]"      # 22 M dicts once parsed: ~1.7 GB
    tracemalloc.start()
    try:
        with pytest.raises(F.FrameRejected, match="more than 1048576 lists and dicts"):
            F.check(body)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 << 20, peak


def test_strings_hide_brackets_and_escaped_quotes_do_not_end_them():
    inner = '"[[[[{{{{,,,,' * 1000 + '\\'          # quotes, brackets, commas, a backslash: all inside one string
    data = _padded([inner, {"a": [inner]}])
    F.check(data, max_containers=4, max_depth=4, max_values=6)
    with pytest.raises(F.FrameRejected):
        F.check(data, max_containers=3)


def test_garbage_after_a_valid_prefix_still_counts_the_prefix():
    # json.loads builds the prefix's objects before it meets the error: the prefix is what must be bounded
    data = b"[" + b"{}," * 200_000 + b'"unterminated \\" [[[[ '
    with pytest.raises(F.FrameRejected, match="lists and dicts"):
        F.check(data, max_containers=100_000)


def test_small_frames_are_not_looked_at_and_bad_input_is_named():
    F.check(b"[" * 1000, max_depth=1)          # 1 KB can build little: not looked at
    with pytest.raises(TypeError, match="framecheck.check: expected the frame's bytes, got str"):
        F.check("[]")
