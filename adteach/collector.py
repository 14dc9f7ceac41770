"""Speed machinery: the cycle collector and a growing graph.

A recorded graph is made of many small objects (one ``Var`` per operation), and
CPython's cycle collector runs after every 700 net allocations, each full pass
scanning everything alive: the whole graph, again and again, while it grows.
adteach's nodes point only to their parents and hold no closures, so the graph
has no reference cycles and those passes find nothing; reference counting alone
frees a graph the moment it is dropped.

So while a graph is being recorded the collector runs less often: the first
recorded operation raises its first threshold 10,000-fold (700 to 7,000,000 by
default), and the end of a reverse sweep puts the thresholds back as they were.
Each young collection scans every object made since the one before, which here is
the growing graph itself (about three objects per operation); with the threshold
raised, a graph of a million operations is recorded without one collection (at
1000-fold it took four, a quarter of the recording's time).

Putting the thresholds back would make the very next allocation scan every object
made meanwhile: the graph, still alive (the output and its leaves are in use).
For a large graph (``MOVE_AT`` objects or more) those objects first join the
oldest generation unscanned (``gc.freeze()`` then ``gc.unfreeze()``, two list
splices). CPython counts what enters its oldest generation to decide when to run
a full collection, but it does not see objects arrive this way, so this module
keeps the count itself: once the objects moved exceed four times those alive after
the last full collection (and at least ``FULL_AFTER``), the next graph starts with
a full collection. Without that count, cyclic garbage made by other code during a
training loop (a closure that refers to itself, an exception kept with its frames)
was moved along with the graph and never collected: 3 MB a step, 1.8 GB after 600
steps of the vectorised benchmark. A small graph is not moved at all: the usual
young collection scans it (and collects such garbage) soon after.

The collector is never switched off: cyclic garbage that other code makes
meanwhile is still collected, only later (after at most 7,000,000 net allocations).
(Measured by ``bench/bench_core.py``; the cost of the collector is printed there.)
"""
from __future__ import annotations

import gc

__all__ = ["raised", "raise_thresholds", "restore"]

FACTOR = 10_000
MOVE_AT = 50_000  # young objects from which a scan costs milliseconds: fewer are left to the usual collection
FULL_AFTER = 1_000_000  # the least number of moved objects between two full collections
raised = False  # read by tape._record on every operation: a plain module global
_saved = None
_moved = 0  # objects moved to the oldest generation, unscanned, since the last full collection
_budget = FULL_AFTER  # a full collection when _moved passes it


def raise_thresholds() -> None:
    """Make the collector run FACTOR times less often (until ``restore``)."""
    global raised, _saved
    if raised:
        return
    if _moved > _budget:
        _collect_all()
    _saved = gc.get_threshold()
    first, *rest = _saved
    if first > 0:  # 0 means the program disabled automatic collection: leave it so
        gc.set_threshold(first * FACTOR, *rest)
    raised = True


def restore() -> None:
    """Put the collector's thresholds back (the end of a reverse sweep)."""
    global raised, _saved, _moved
    if not raised:
        return
    current = gc.get_threshold()
    if _saved is not None and current[0] == _saved[0] * FACTOR:  # unless someone changed them since
        young = gc.get_count()[0]  # net allocations since the last collection: mostly the graph
        if young >= MOVE_AT and gc.get_freeze_count() == 0:  # (a program's own frozen objects stay frozen)
            gc.freeze()  # the objects made while the collector waited move, unscanned, to the
            gc.unfreeze()  # oldest generation: O(1), instead of one pass over the whole graph now
            _moved += young
        gc.set_threshold(*_saved)
    raised, _saved = False, None


def _collect_all() -> None:
    """A full collection, as CPython would have run by now had it seen the moved objects arrive."""
    global _moved, _budget
    gc.collect()
    alive = 0
    if gc.get_freeze_count() == 0:
        gc.freeze()  # (after a full collection every object is in the oldest generation: this moves none)
        alive = gc.get_freeze_count()
        gc.unfreeze()
    _moved, _budget = 0, max(4 * alive, FULL_AFTER)
