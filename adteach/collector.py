"""Speed machinery: the cycle collector and a growing graph.

A recorded graph is made of many small objects (one ``Var`` per operation, about
three objects in all), and CPython's cycle collector runs after every 700 net
allocations, each pass scanning objects that are alive: the graph, again and again,
while it grows. adteach's nodes point only to their parents and hold no closures,
so the graph has no reference cycles and those passes find nothing; reference
counting alone frees a graph the moment it is dropped.

So while a graph is being recorded the collector waits, and is kept informed:

* once a graph has ``START`` recorded operations (2048: for a smaller one it is not
  worth it), the collector's first threshold is raised 10,000-fold (``FACTOR``; 700
  to 7,000,000 by default), so no collection starts in the middle;
* the raise lasts while the graph does: it ends when a reverse sweep ends, or when
  the node recorded at the raise (or at the latest look, below) is dropped (a weak
  reference's callback). So a loop that only evaluates, a ``vjp`` whose pullback is
  never called, a forward pass that raised, all end with the thresholds back;
* every ``PERIOD`` recorded operations (``tape._record`` calls ``look``), if many
  objects were made since the last look (``MOVE_AT`` or more: the graph is growing),
  they join the oldest generation unscanned (``gc.freeze()`` then ``gc.unfreeze()``,
  two list splices), and the latest node becomes the one whose drop ends the raise;
* the end of a reverse sweep does the same with the objects made since the last
  look, and puts the thresholds back as they were.

CPython counts what enters its oldest generation to decide when to run a full
collection, but it does not see objects arrive by ``freeze``/``unfreeze``, so this
module keeps that count itself: once the objects moved exceed twice those alive
after the last full collection (and at least ``FULL_AFTER``), the next raise runs a
full collection. Without that count, cyclic garbage made by other code during a
training loop (a closure that refers to itself, an exception kept with its frames)
was moved along with the graph and never collected: 3 MB a step, 1.8 GB after 600
steps of the vectorised benchmark.

A program that switched automatic collection off (``gc.disable()``, a threshold of
0) keeps it off: nothing is raised or collected; one that froze objects itself keeps
them frozen: nothing is moved. A threshold the program changes meanwhile is left as
it set it. (Measured by ``bench/bench_core.py``; the cost of the collector is
printed there.)
"""
from __future__ import annotations

import gc
import threading
import weakref

__all__ = ["until", "look", "restore"]

FACTOR = 10_000
START = 2048  # recorded operations before the thresholds are raised: for a smaller graph it is not worth it
PERIOD = 1 << 15  # recorded operations between two looks (about 100,000 objects)
MOVE_AT = 50_000  # young objects from which a scan costs milliseconds: fewer are collected as usual
FULL_AFTER = 1_000_000  # the least number of moved objects between two full collections
_INT_MAX = 2 ** 31 - 1  # the largest threshold gc.set_threshold takes

until = 0  # tape._record calls look(n) when node number n reaches it: a plain module global (0: the next operation, which starts the count)
_lock = threading.RLock()  # (RLock: a drop's callback may come while this thread holds it)
_saved = None  # the program's thresholds while raised (None: not raised)
_ours = None  # the first threshold as raised here
_probe = None  # a weak reference to the node whose drop ends the raise
_moved = 0  # objects moved to the oldest generation, unscanned, since the last full collection
_budget = FULL_AFTER  # a full collection when _moved passes it


def look(n: int, node) -> None:
    """At node number n (``node``): start counting (the first operation since the thresholds were put back),
    raise them (START operations later), or deal with the young objects (every PERIOD operations after)."""
    global until, _saved, _ours, _probe
    with _lock:
        if n < until:  # another thread looked meanwhile
            return
        if _saved is None and until == 0:  # the first operation since the thresholds were put back: a small
            until = n + START  # graph is not worth raising them for, so wait START operations and see
            return
        until = n + PERIOD
        if _saved is None:
            saved = gc.get_threshold()
            if saved[0] > 0 and gc.isenabled():  # (otherwise the program switched automatic collection off)
                if _moved > _budget:
                    _collect_all()
                _ours = min(saved[0] * FACTOR, _INT_MAX)
                gc.set_threshold(_ours, *saved[1:])
            _saved = saved
        elif _in_charge():
            _settle()
        _probe = weakref.ref(node, _dropped)  # the raise ends when this node is dropped (or a sweep ends)


def restore() -> None:
    """The end of a reverse sweep: deal with the young objects and put the program's thresholds back."""
    with _lock:
        if _saved is None:
            return  # (a small graph: nothing was raised)
        if _in_charge():
            _settle()  # (few young objects: the usual young collection comes soon)
        _put_back()


def _dropped(ref) -> None:
    """The node whose life the raise lasts was dropped, with no sweep: the graph is gone, put the thresholds back."""
    with _lock:
        if ref is _probe:
            _put_back()


def _put_back() -> None:
    global until, _saved, _ours, _probe
    if _still_ours():  # (unless the program changed them since)
        gc.set_threshold(*_saved)
    _saved = _ours = _probe = None
    until = 0


def _still_ours() -> bool:
    """Is the first threshold still as raised here (not changed by the program since)?"""
    return _ours is not None and gc.get_threshold()[0] == _ours


def _in_charge() -> bool:
    """Are the thresholds still ours, the collector on and nothing of the program's own frozen?"""
    return _still_ours() and gc.isenabled() and gc.get_freeze_count() == 0


def _settle() -> None:
    global _moved
    young = gc.get_count()[0]  # net allocations since the last collection: mostly the graph
    if young >= MOVE_AT:
        gc.freeze()  # the young objects move, unscanned, to the oldest generation: O(1), where a scan
        gc.unfreeze()  # of the whole graph would cost milliseconds
        _moved += young


def _collect_all() -> None:
    """What CPython would have run by now, had it seen the moved objects arrive: a full collection."""
    global _moved, _budget
    gc.collect()
    alive = 0
    if gc.get_freeze_count() == 0:
        gc.freeze()  # (after a full collection every object is in the oldest generation: this moves none,
        alive = gc.get_freeze_count()  # it only counts them)
        gc.unfreeze()
    _moved, _budget = 0, max(2 * alive, FULL_AFTER)
