"""Containers of arrays ("pytrees", as JAX calls them), for the transforms.

``grad(loss)(params)`` with ``params = {"W": W, "b": b}`` returns
``{"W": dloss/dW, "b": dloss/db}``; ``vjp`` and ``jvp`` accept and return such
containers too. A *tree* is a ``dict``, ``list`` or ``tuple`` (namedtuples
included) of trees, or a *leaf*: a number, an array, a ``Var`` or a ``Dual``.

One rule differs from JAX, for the lessons' sake: a list or tuple that holds only
plain numbers (``[1.0, 2.0]``, ``[[1, 2], [3, 4]]``) is one leaf, read as an
array the way ``np.array`` reads it, so ``grad(f)([1.0, 2.0])`` gives an array.
A list of arrays, of Vars or of dicts is a container, and so is a namedtuple.

This is machinery beside the core: the transforms flatten their arguments to
leaves, differentiate leaf by leaf, and put the results back in the same shape.
"""
from __future__ import annotations

import numbers

import numpy as np

__all__ = ["flatten", "flatten_with_paths", "unflatten", "tree_map", "describe"]

_LEAF = None  # the treedef of a leaf


class _Node:
    """The shape of a container: its type, its keys (dict) and its children's shapes."""
    __slots__ = ("kind", "keys", "children")

    def __init__(self, kind, keys, children):
        self.kind, self.keys, self.children = kind, keys, children

    def __eq__(self, other):
        return (type(other) is _Node and self.kind is other.kind and self.keys == other.keys
                and self.children == other.children)

    __hash__ = None


def _numbers_only(x) -> bool:
    if isinstance(x, (list, tuple)):
        return all(_numbers_only(e) for e in x)
    return isinstance(x, numbers.Number) and not isinstance(x, (np.ndarray,)) and not hasattr(type(x), "_ad_apply")


def is_container(x) -> bool:
    if isinstance(x, dict) or (isinstance(x, tuple) and hasattr(type(x), "_fields")):  # namedtuples are records
        return True
    return isinstance(x, (list, tuple)) and not (len(x) > 0 and _numbers_only(x))


def flatten(tree):
    """Return ``(leaves, treedef)``: the leaves in a fixed order and the container's shape."""
    leaves, _, treedef = flatten_with_paths(tree)
    return leaves, treedef


def flatten_with_paths(tree):
    """Like ``flatten``, plus each leaf's path for messages and names: ``['W']``, ``[0]``, ``.b``."""
    leaves, paths = [], []
    treedef = _walk(tree, "", leaves, paths)
    return leaves, paths, treedef


# (Module functions, not closures inside the two above: a closure that calls itself refers to itself,
# a reference cycle that only the cycle collector frees, and it would keep the leaves alive until then.)
def _walk(t, path, leaves, paths):
    if isinstance(t, dict):
        keys = sorted(t, key=repr) if not all(isinstance(k, str) for k in t) else sorted(t)
        return _Node(dict, tuple(keys), tuple(_walk(t[k], f"{path}[{k!r}]", leaves, paths) for k in keys))
    if is_container(t):
        fields = getattr(type(t), "_fields", None)
        return _Node(type(t), None, tuple(
            _walk(e, f"{path}.{fields[j]}" if fields else f"{path}[{j}]", leaves, paths) for j, e in enumerate(t)))
    leaves.append(t)
    paths.append(path)
    return _LEAF


def unflatten(treedef, leaves):
    """Put ``leaves`` back into the container shape ``treedef`` (the inverse of ``flatten``)."""
    return _build(treedef, iter(leaves))


def _build(d, it):
    if d is _LEAF:
        return next(it)
    items = [_build(c, it) for c in d.children]
    if d.kind is dict:
        return dict(zip(d.keys, items))
    if d.kind is list:
        return items
    if d.kind is tuple:
        return tuple(items)
    if hasattr(d.kind, "_fields"):  # a namedtuple
        return d.kind(*items)
    return d.kind(items)


def tree_map(f, tree):
    """Apply ``f`` to every leaf of ``tree``, keeping its shape."""
    leaves, treedef = flatten(tree)
    return unflatten(treedef, [f(x) for x in leaves])


def describe(treedef) -> str:
    """A short text for error messages: ``a leaf``, ``dict with keys ['W', 'b']``, ``tuple of 2``."""
    if treedef is _LEAF:
        return "a single value"
    if treedef.kind is dict:
        return f"a dict with keys {list(treedef.keys)}"
    return f"a {treedef.kind.__name__} of {len(treedef.children)}"
