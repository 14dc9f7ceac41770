"""Speed machinery: the cycle collector and a growing graph.

A recorded graph is made of many small objects (one ``Var`` per operation, about
three objects in all), and CPython's cycle collector runs after every 700 net
allocations, each pass scanning objects that are alive: the graph, again and again,
while it grows. adteach's nodes point only to their parents and hold no closures,
so the graph has no reference cycles and those passes find nothing; reference
counting alone frees a graph the moment it is dropped.

So while a graph is being recorded the collector waits, and is kept informed:

* the first recorded operation raises the collector's first threshold 10,000-fold
  (``FACTOR``; 700 to 7,000,000 by default), so no collection starts in the middle;
* every ``PERIOD`` recorded operations (``tape._record`` calls ``look``), the objects
  made since the last look are dealt with: if there are many (``MOVE_AT`` or more:
  the graph is growing) they join the oldest generation unscanned (``gc.freeze()``
  then ``gc.unfreeze()``, two list splices); if there are few (small graphs, made and
  dropped: a loop that only evaluates), the young generation is collected, as CPython
  would have done, so garbage that other code makes meanwhile is still freed;
* the end of a reverse sweep does the same with the objects made since the last look,
  and puts the thresholds back as they were.

CPython counts what enters its oldest generation to decide when to run a full
collection, but it does not see objects arrive by ``freeze``/``unfreeze``, so this
module keeps that count itself: once the objects moved exceed four times those
alive after the last full collection (and at least ``FULL_AFTER``), the next look
runs a full collection. Without that count, cyclic garbage made by other code
during a training loop (a closure that refers to itself, an exception kept with its
frames) was moved along with the graph and never collected: 3 MB a step, 1.8 GB
after 600 steps of the vectorised benchmark.

A program that switched automatic collection off (``gc.disable()``, a threshold of
0) or froze objects itself keeps things as it set them: nothing is raised, moved or
collected then. (Measured by ``bench/bench_core.py``; the cost of the collector is
printed there.)
"""
from __future__ import annotations

import gc
import threading

__all__ = ["until", "look", "restore"]

FACTOR = 10_000
PERIOD = 1 << 15  # recorded operations between two looks (about 100,000 objects)
MOVE_AT = 50_000  # young objects from which a scan costs milliseconds: fewer are collected as usual
FULL_AFTER = 1_000_000  # the least number of moved objects between two full collections
_INT_MAX = 2 ** 31 - 1  # the largest threshold gc.set_threshold takes

until = 0  # tape._record calls look(n) when node number n reaches it: a plain module global (0: the next operation)
_lock = threading.Lock()
_saved = None  # the program's thresholds while raised (None: not raised)
_ours = None  # the first threshold as raised here
_moved = 0  # objects moved to the oldest generation, unscanned, since the last full collection
_budget = FULL_AFTER  # a full collection when _moved passes it


def look(n: int) -> None:
    """At node number n: raise the thresholds (the first operation of a graph), or deal with the young objects."""
    global until, _saved, _ours
    with _lock:
        if n < until:  # another thread looked meanwhile
            return
        until = n + PERIOD
        if _saved is None:
            saved = gc.get_threshold()
            if saved[0] > 0 and gc.isenabled():  # (otherwise the program switched automatic collection off)
                _ours = min(saved[0] * FACTOR, _INT_MAX)
                gc.set_threshold(_ours, *saved[1:])
            _saved = saved
        elif _in_charge():
            _settle(collect_young=True)


def restore() -> None:
    """The end of a reverse sweep: deal with the young objects and put the program's thresholds back."""
    global until, _saved, _ours
    with _lock:
        if _saved is None:
            return
        if _ours is not None and gc.get_threshold()[0] == _ours:  # (unless the program changed them since)
            if _in_charge():
                _settle(collect_young=False)  # (few young objects: the usual young collection comes soon)
            gc.set_threshold(*_saved)
        _saved = _ours = None
        until = 0


def _in_charge() -> bool:
    """Are the thresholds still as raised here (not changed by the program since), with nothing of its own frozen?"""
    return _ours is not None and gc.get_threshold()[0] == _ours and gc.isenabled() and gc.get_freeze_count() == 0


def _settle(collect_young: bool) -> None:
    global _moved, _budget
    young = gc.get_count()[0]  # net allocations since the last collection: mostly the graph
    if young >= MOVE_AT:
        gc.freeze()  # the young objects move, unscanned, to the oldest generation: O(1), where a scan
        gc.unfreeze()  # of the whole graph would cost milliseconds
        _moved += young
    elif collect_young:
        gc.collect(0)
    if _moved > _budget:  # what CPython would have run by now, had it seen the moved objects arrive
        gc.collect()
        gc.freeze()  # (after a full collection every object is in the oldest generation: this moves none,
        alive = gc.get_freeze_count()  # it only counts them)
        gc.unfreeze()
        _moved, _budget = 0, max(4 * alive, FULL_AFTER)
