"""Speed machinery: where the adjoints live while a reverse sweep runs.

The sweep (tape.py) keeps each node's adjoint on the node itself, in a slot
(``node._adj``), instead of in a dict keyed by node: for a graph of 65,000 scalar
nodes the dict's hashing cost about a third of the sweep. The graph search marks
the nodes it has found the same way (``node._mark``) instead of keeping a set.

Storing on the nodes is safe only if two sweeps never share nodes at the same
time, so this module makes sure of it:

* one sweep runs at a time (``lock``; the GIL runs one thread at a time anyway):
  two threads sweeping graphs that share a leaf wait for each other;
* a sweep started inside another one in the same thread (a ``custom_vjp`` rule
  that calls ``grad`` or ``backward``, over nodes of the outer graph) saves the
  adjoints of its nodes first and puts them back when it ends;
* when a sweep ends, its nodes drop their adjoints (an adjoint Var, with
  ``create_graph``, would otherwise keep its own graph alive in a cycle), and the
  outermost sweep puts the cycle collector's thresholds back (collector.py).

(A ``custom_vjp`` rule that waits for another thread which itself sweeps would
wait forever: a rule should not do that.)
"""
from __future__ import annotations

import threading

from . import collector

__all__ = ["lock", "on_nodes"]

lock = threading.RLock()  # also held by tape.graph_nodes while it marks nodes
_depth = 0  # sweeps running in the thread that holds the lock (more than 1: nested)


class on_nodes:
    """``with on_nodes(find) as nodes:`` -- ``find()`` returns the sweep's nodes; each starts with ``_adj = None``."""

    def __init__(self, find):
        self.find = find
        self.nodes = self.saved = ()

    def __enter__(self):
        global _depth
        lock.acquire()
        _depth += 1
        try:
            self.nodes = nodes = self.find()
            if _depth > 1:  # nested: these nodes may hold the adjoints of the sweep around this one
                self.saved = [(n, n._adj) for n in nodes]
                for n in nodes:
                    n._adj = None
            # (otherwise each is None already: a node is made with _adj = None, and every sweep leaves it so)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return nodes

    def __exit__(self, *exc):
        global _depth
        try:
            for n in self.nodes:
                n._adj = None
            for n, adjoint in self.saved:
                n._adj = adjoint
        finally:
            _depth -= 1
            if _depth == 0:
                collector.restore()
            lock.release()
