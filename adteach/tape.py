"""Reverse mode: ``Var`` nodes record the computation, ``backprop`` sweeps it backwards.

Every operation on a ``Var`` creates a new ``Var`` that remembers its primitive
and its parents (the inputs, in order). Together they form the computational
graph, and listed in creation order they are the *tape* (Wengert list):

    v1 = v-1 / v0,  v2 = sin(v1),  ...,  v6 = v5 * v4

Creation order is already a topological order (a node's parents always exist
before it), so we never need a recursive depth-first search: ``graph_nodes``
collects the nodes reachable from the output with an explicit stack and sorts
them by their creation number. A chain a million operations deep is fine.

``backprop`` then walks the tape backwards. For each node, with adjoint ``g``
(d output / d node), it sends parent ``i`` its share ``prim.rules[i](g, ...)``:
``g * partial_i`` for an elementwise primitive, the vector-Jacobian product for a
structural one. Each primitive's rules are built once from its table entry
(primitives.py), so the derivative is written in one place only; where several
paths meet, the shares add up. While the sweep runs, each node keeps its own
adjoint (``node._adj``; adjoints.py says why, and how sweeps keep them apart).
A node keeps its inputs' values (``inputs``), which is what the partials are
evaluated at. The partials are computed with
adteach's own operations, so with ``create_graph=True`` the sweep itself is
recorded as new ``Var`` nodes and can be differentiated again.

Nodes hold no closures and point only to their parents, so a finished graph is
freed by reference counting alone; the cycle collector has nothing to find.
"""
from __future__ import annotations

import itertools
from operator import attrgetter

import numpy as np

from . import adjoints, collector
from . import primitives as P
from .arraylike import ArrayLike
from .errors import ADError, ShapeError, as_value as _as_value, evaluate
from .primitives import TABLE, pass_on

__all__ = ["Var", "backprop", "graph_nodes"]

_next_number = itertools.count().__next__  # a process-wide counter: the tape's order, never shown


class Var(ArrayLike):
    """A value in the computational graph.

    ``Var(1.5, name="x1")`` makes an input (a leaf). Operations on Vars return
    new Vars, recording ``prim`` (which primitive made it) and ``parents``.
    After ``y.backward()``, every node ``v`` of y's graph has ``v.grad`` = dy/dv;
    ``v.grad`` is None until then (PyTorch's convention: nothing has been computed yet).
    """

    __slots__ = ("value", "grad", "parents", "inputs", "prim", "aux", "name", "_n", "_mark", "_adj", "__weakref__")
    _ad_priority = 1

    def __init__(self, value, name=None):
        """An input (a leaf): no primitive, no parents. Operations make nodes with `_record`."""
        self.value = _as_value(value)
        self.grad = None
        self.parents = self.inputs = ()
        self.prim = None
        self.aux = None
        self.name = name
        self._n = _next_number()
        self._mark = self._adj = None

    # Recording an operation: ``Var._ad_apply``, what an operation calls when a Var carries it,
    # is ``_record``, defined below the class.

    # --- reverse mode ---------------------------------------------------------
    def backward(self, gradient=None, *, create_graph=False, accumulate=False):
        """Compute d self / d v for every node v of the graph and store it in ``v.grad``.

        By default each call *replaces* the ``.grad`` of every node in this graph,
        so calling ``backward()`` twice gives the same numbers twice. With
        ``accumulate=True`` the new gradients are added to the existing ones
        (PyTorch's behaviour, useful for summing over several losses).
        ``gradient`` is the seed (the adjoint of ``self``); it defaults to 1 for a
        scalar output. ``create_graph=True`` records the backward pass, so the
        gradients are themselves Vars that can be differentiated again.
        """
        seed = _seed(self, gradient)
        with adjoints.on_nodes(lambda: _search(self, ())) as nodes:
            _sweep(nodes, seed, create_graph, ())
            for node in nodes:
                g = node._adj
                if g is None:
                    continue
                if accumulate and node.grad is not None:
                    node.grad = node.grad + g
                else:
                    node.grad = g
        return None

    def zero_grad(self):
        """Set ``.grad`` to zero on every node of this graph."""
        for node in graph_nodes(self):
            node.grad = np.zeros_like(node.value) if np.ndim(node.value) else 0.0

    # --- conveniences -----------------------------------------------------------
    @property
    def op(self) -> str:
        """The primitive's name, or 'input' for a leaf."""
        return self.prim.name if self.prim is not None else "input"

    @property
    def is_leaf(self) -> bool:
        return self.prim is None

    def __repr__(self):
        name = f", name={self.name!r}" if self.name else ""
        grad = ""
        if self.grad is not None:
            g = self.grad.value if type(self.grad) is Var else self.grad
            grad = f", grad={_fmt(g)}"
        return f"Var({_fmt(self.value)}{name}{grad})"

    # arithmetic: each operator is one primitive of the table
    def __add__(self, other):
        return _binary(ADD, self, other)

    def __radd__(self, other):
        return _binary(ADD, other, self)

    def __sub__(self, other):
        return _binary(SUB, self, other)

    def __rsub__(self, other):
        return _binary(SUB, other, self)

    def __mul__(self, other):
        return _binary(MUL, self, other)

    def __rmul__(self, other):
        return _binary(MUL, other, self)

    def __truediv__(self, other):
        return _binary(DIV, self, other)

    def __rtruediv__(self, other):
        return _binary(DIV, other, self)

    def __pow__(self, other):
        return _binary(POW, self, other)

    def __rpow__(self, other):
        return _binary(POW, other, self)

    def __neg__(self):
        return _record(NEG, (self,), None)

    def __pos__(self):
        return self


ADD, SUB, MUL, DIV, POW, NEG = (TABLE[n] for n in ("add", "sub", "mul", "div", "pow", "neg"))


def _record(prim, args, aux, values=None):
    """Compute ``prim`` on the arguments' values (with a clear error for bad input) and record the new node.

    ``args`` are the operation's arguments; they become the node's parents. An operation
    (``ad.sin``: primitives._op) calls this, as ``Var._ad_apply``, when a Var carries it (the
    highest priority among the arguments); the operators (``_binary``) pass the values too,
    already taken out of the Vars.
    """
    fn = prim.fn
    if values is None:
        if len(args) == 1:  # sin(x), x.exp(), ...: one argument, so the Var that carries the operation
            values = (args[0].value,)
            if type(values[0]) is float:
                fn = prim.on_float  # (math.sin itself, not the float-or-array function around it)
        else:
            args = tuple([a if type(a) is Var else _as_value(a, prim.name) for a in args])
            values = [a.value if type(a) is Var else a for a in args]
    if prim.check is None and aux is None:
        try:
            value = fn(*values)
        except (ValueError, TypeError, ArithmeticError):
            value = evaluate(prim, values, None, _names(args))  # raises a clear error
    else:
        value = evaluate(prim, values, aux, _names(args))
    node = _new(Var)
    node.value = value
    node.parents = args
    node.inputs = values
    node.prim = prim
    node.aux = aux
    node.grad = node.name = node._mark = node._adj = None
    node._n = n = _next_number()
    if n >= collector.until:  # a graph is growing: the cycle collector waits, kept informed (collector.py)
        collector.look(n, node)
    return node


Var._ad_apply = staticmethod(_record)
_new = object.__new__


def _binary(prim, a, b):
    """The fast path for Var arithmetic (Var or plain number on either side)."""
    ta, tb = type(a), type(b)
    if ta is Var:
        if tb is Var:
            return _record(prim, (a, b), None, (a.value, b.value))
        if tb is float or tb is int:
            b = b if tb is float else float(b)
            return _record(prim, (a, b), None, (a.value, b))
    elif tb is Var and (ta is float or ta is int):
        a = a if ta is float else float(a)
        return _record(prim, (a, b), None, (a, b.value))
    return P.apply(prim, a, b)  # arrays, Duals, ...


def _names(parents):
    return [p.name if type(p) is Var else "constant" for p in parents]


def _fmt(v):
    if np.ndim(v) == 0:
        return f"{float(v):.6g}"
    return np.array2string(np.asarray(v), precision=4, threshold=8, separator=", ")


# --- the reverse sweep ---------------------------------------------------------------
def graph_nodes(output: Var, stop=()) -> list:
    """All Vars that ``output`` depends on, in topological (creation) order.

    Iterative: an explicit stack instead of recursion. Nodes in ``stop`` are
    included but not expanded (used when differentiating with respect to them).
    """
    with adjoints.lock:  # (_search marks the nodes it finds: see adjoints.py)
        return _search(output, stop)


def _search(output, stop):
    mark = object()  # a node found is marked with it (cheaper than a set of the nodes seen)
    output._mark = mark
    found = [output]
    stack = [output]
    while stack:
        node = stack.pop()
        if stop and node in stop:
            continue
        for p in node.parents:
            if type(p) is Var and p._mark is not mark:
                p._mark = mark
                found.append(p)
                stack.append(p)
    found.sort(key=attrgetter("_n"))
    return found


def backprop(output: Var, seed=None, *, create_graph=False, stop=(), wrt=None) -> dict:
    """The reverse sweep: return ``{node: d output / d node}`` for the whole graph (or only for the nodes ``wrt``).

    ``seed`` is the output's adjoint (1 for a scalar). With ``create_graph`` the
    adjoints are computed with Var operations (so they can be differentiated).
    """
    seed = _seed(output, seed)
    with adjoints.on_nodes(lambda: _search(output, stop)) as nodes:
        _sweep(nodes, seed, create_graph, stop)
        if wrt is not None:
            wrt = set(wrt)
            nodes = [n for n in nodes if n in wrt]
        return {n: n._adj for n in nodes if n._adj is not None}


def _sweep(nodes, seed, create_graph, stop):
    """Walk the tape backwards; each node's adjoint ends in ``node._adj`` (None: no path to the output)."""
    nodes[-1]._adj = seed  # the output (created last)
    for node in reversed(nodes):
        g = node._adj
        if g is None or node.prim is None or (stop and node in stop):
            continue  # a leaf, or a node with no path to the output
        inputs = node.parents if create_graph else node.inputs  # Vars: the sweep is recorded too
        out = node if create_graph else node.value
        rules = node.prim.rules  # rules[i]: parent i's share of g (Primitive.rules)
        i = 0  # (a counter, not zip or enumerate: they make an object per node, a tenth of the sweep's time)
        for parent in node.parents:
            if type(parent) is Var:  # constants need no adjoint
                rule = rules[i]
                share = g if rule is pass_on else rule(g, inputs, out, node.aux)  # partial 1: g itself
                if type(share) is not float:  # an array: sum it back to the parent's shape if broadcast
                    share = P._unbroadcast(share, parent.shape)
                a = parent._adj
                parent._adj = share if a is None else a + share
            i += 1


def _seed(output, seed):
    """The output's adjoint to start from: 1 for a scalar, else a seed of the output's shape (checked)."""
    if type(output) is not Var:
        raise ADError(f"backward() needs a Var output, got {type(output).__name__}")
    if seed is None:
        if output.ndim:
            raise ShapeError(
                f"backward() on an output of shape {output.shape} needs a seed: pass "
                f"gradient= an array of that shape (or use jacrev for the whole Jacobian)")
        return 1.0
    if type(seed) is not Var:
        seed = _as_value(seed)
    if np.shape(P._value(seed)) != output.shape:
        raise ShapeError(f"the seed has shape {np.shape(P._value(seed))} but the output has shape {output.shape}")
    return seed


def _local_vjp(prim, i, g, inputs, out, aux):
    """Parent i's share of the adjoint g: the inner step of ``_sweep`` for one edge (adteach.trace shows it)."""
    share = prim.rules[i](g, inputs, out, aux)
    return share if type(share) is float else P._unbroadcast(share, np.shape(P._value(inputs[i])))

