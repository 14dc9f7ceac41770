"""Speed machinery: the cycle collector and a growing graph.

A recorded graph is made of many small objects (one ``Var`` per operation), and
CPython's cycle collector runs after every 700 net allocations, each full pass
scanning everything alive: the whole graph, again and again, while it grows.
adteach's nodes point only to their parents and hold no closures, so the graph
has no reference cycles and those passes find nothing; reference counting alone
frees a graph the moment it is dropped.

So while a graph is being recorded the collector runs less often: the first
recorded operation raises its first threshold 1000-fold (700 to 700,000 by default), and the end of a reverse
sweep puts the thresholds back as they were. Putting them back would make the very
next allocation scan every object made meanwhile (the graph, still alive: the
output and its leaves are in use), so those objects first join the oldest
generation unscanned (``gc.freeze()`` then ``gc.unfreeze()``, two list splices);
full collections, which are rare, still look at them. The collector is never
switched off, so cyclic garbage made by other code is still collected, only later.
(Measured by ``bench/bench_core.py``; the cost of the collector is printed there.)
"""
from __future__ import annotations

import gc

__all__ = ["raised", "raise_thresholds", "restore"]

FACTOR = 1000
raised = False  # read by tape._record on every operation: a plain module global
_saved = None


def raise_thresholds() -> None:
    """Make the collector run FACTOR times less often (until ``restore``)."""
    global raised, _saved
    if raised:
        return
    _saved = gc.get_threshold()
    first, *rest = _saved
    if first > 0:  # 0 means the program disabled automatic collection: leave it so
        gc.set_threshold(first * FACTOR, *rest)
    raised = True


def restore() -> None:
    """Put the collector's thresholds back (the end of a reverse sweep)."""
    global raised, _saved
    if not raised:
        return
    current = gc.get_threshold()
    if _saved is not None and current[0] == _saved[0] * FACTOR:  # unless someone changed them since
        if gc.get_freeze_count() == 0:  # (unless the program froze objects itself: then leave them be)
            gc.freeze()  # the objects made while the collector waited (the graph, alive) move, unscanned,
            gc.unfreeze()  # to the oldest generation: O(1), instead of one pass over the whole graph now
        gc.set_threshold(*_saved)
    raised, _saved = False, None
