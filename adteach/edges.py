"""The edge table of a graph: on every edge, the local partial derivative, written and evaluated.

An edge runs from input ``i`` of an operation (its *parent*) to the operation (its
*child*). The chain rule multiplies along it by the local partial ``d child / d parent``,
which the primitive table (``adteach.primitives.TABLE``) holds as a rule, or as one of
the markers ``ONE`` / ``MINUS_ONE`` for a constant partial. This module is the one place
outside the sweep itself that reads those rules for presenting them: ``partial`` turns a
rule into a number, ``label`` writes it with the inputs' names, and ``table`` builds the
edge table that ``adteach.trace.Trace`` keeps and the drawings and the explorer read.
``chain`` is the rule applied to one edge (g · partial, with the markers' shortcuts); it
imports nothing but the table, so the sweeps themselves (``tape``, ``forward``) can use it too.

Structural primitives (``sum``, ``matmul``, ``reshape``, ...) have a vector-Jacobian
product instead of a scalar partial: their edges carry a label ("1", "1/n", "v1ᵀ") and
no number (``partial`` is None).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import notation
from . import primitives as P

__all__ = ["Edge", "chain", "partial", "label", "table"]


@dataclass(frozen=True)
class Edge:
    parent: str      # trace name of the input node
    child: str       # trace name of the operation node
    index: int       # which input of the child
    label: str       # the partial derivative written symbolically, e.g. "cos(v1)"
    partial: Any     # its value (None for structural operations such as sum or matmul)


def chain(prim, i, g, inputs, out):
    """The chain rule on the edge from input ``i`` of an elementwise primitive: ``g · d out / d input_i``.

    ``g`` is the adjoint (reverse mode) or the tangent (forward mode) carried along the edge;
    a constant partial (``ONE``, ``MINUS_ONE``) needs no multiplication. ``inputs`` and ``out``
    may be plain values or Vars (then the product is recorded: grad of grad).
    """
    rule = prim.partials[i]
    if rule is P.ONE:
        return g
    if rule is P.MINUS_ONE:
        return -g
    return g * rule(*inputs, out)


def partial(prim, i, inputs, out):
    """``d out / d input_i`` at plain values (``inputs``, ``out``), or None for a structural primitive."""
    if prim.vjp is not None:
        return None
    return P._value(chain(prim, i, 1.0, inputs, out))


def label(prim, i, refs):
    """The partial on edge ``i`` written with the inputs' names ``refs`` ("cos(v0)", "2·v0")."""
    if i >= len(prim.labels):
        return "1"  # stack: every input passes its adjoint slice through unchanged
    return notation.edge_label(prim.name, i, prim.labels[i], refs)


def table(ops, names):
    """The edges of the operations ``ops`` (Vars), in order: each input of each operation that is a Var.

    ``names`` maps a node to its trace name; a constant input is written as its number.
    """
    from .tape import Var  # not at the top: the tape may use ``chain``
    edges = []
    for node in ops:
        prim = node.prim
        inputs = [p.value if type(p) is Var else p for p in node.parents]
        refs = [names[p] if type(p) is Var else notation.number(p) for p in node.parents]
        for i, p in enumerate(node.parents):
            if type(p) is Var:
                edges.append(Edge(names[p], names[node], i, label(prim, i, refs),
                                  partial(prim, i, inputs, node.value)))
    return edges
