"""JAX-style function transforms built on the two modes.

``grad(f)`` returns a new function computing the gradient of ``f``; it runs ``f``
on ``Var`` inputs (recording the graph) and sweeps backwards. ``jvp`` runs ``f``
on ``Dual`` inputs (forward mode). ``jacfwd`` builds a Jacobian column by column
with forward passes, ``jacrev`` row by row with reverse passes.

Reverse-mode transforms nest: when an outer transform is recording, the inner one
records its own backward pass too (``create_graph``), so ``grad(grad(f))`` and
``hessian`` are exact, not finite differences. Forward mode nests too: each
``jvp`` tags its Duals (forward.py explains the tags), so ``jvp(jvp(f))``,
``jacfwd(jacfwd(f))``, ``jvp(grad(f))`` (forward over reverse: Hessian-vector
products) and ``grad`` of a function that uses ``jvp`` all work. When ``grad``
is called on a Dual, its Var goes inside the Dual (``Dual(Var(x), x')``) and the
value and the tangent of the output are differentiated separately: the
derivative of ``v + t*eps`` is ``dv/dx + (dt/dx)*eps``.
"""
from __future__ import annotations

import contextlib
import functools
import numbers

import numpy as np

from . import primitives as P
from .forward import Dual
from .primitives import ADError, ADTypeError, ShapeError
from .tape import Var, _as_value, backprop

__all__ = ["grad", "value_and_grad", "jvp", "vjp", "jacfwd", "jacrev", "hessian"]


def _argnums_tuple(argnums, nargs, fname):
    nums = (int(argnums),) if isinstance(argnums, numbers.Integral) else tuple(int(a) for a in argnums)
    for a in nums:
        if not -nargs <= a < nargs:
            raise ADError(f"{fname}: argnums={argnums!r} but the function was called with {nargs} argument(s)")
    nums = tuple(a % nargs for a in nums)
    if len(set(nums)) != len(nums):
        raise ADError(f"{fname}: argnums={argnums!r} names an argument twice")
    return nums


# How many transforms are recording right now. A transform that starts while
# another one records (grad inside the function of a grad, even when the outer
# Var only reaches it through a closure) must record its own backward pass too.
_recording = 0


@contextlib.contextmanager
def recording():
    """Mark that a function is being called on Vars (see ``_recording``)."""
    global _recording
    _recording += 1
    try:
        yield
    finally:
        _recording -= 1


_last_tag = 0  # each jvp takes a new tag for its Duals (see forward.py)


def _name(f):
    return getattr(f, "__name__", type(f).__name__)


def _param_names(f, n):
    try:
        import inspect
        params = [p.name for p in inspect.signature(f).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    return [params[i] if i < len(params) else f"x{i + 1}" for i in range(n)]


def _call_on_leaves(f, args, argnums):
    """Call f with Var leaves in the argnums positions.

    Returns (output, leaves, nested). ``nested`` is True when an outer transform
    is recording (some argument is already a Var, or f is called from inside an
    outer transform's function): then the backward pass is recorded too, and a leaf
    whose argument is a Var is an identity node attached to it, so the outer graph
    continues through us.
    """
    nested = _recording > 0 or any(type(a) is Var for a in args)
    names = _param_names(f, len(args))
    call_args = list(args)
    leaves = []
    for i in argnums:
        call_args[i], leaf = _lift(args[i], names[i])
        leaves.append(leaf)
    with recording():
        out = f(*call_args)
    return out, leaves, nested


def _lift(a, name):
    """Return (argument for f, its Var leaf): the leaf goes inside any Duals."""
    if type(a) is Dual:
        inner, leaf = _lift(a.value, name)
        return Dual(inner, a.tangent, a.tag), leaf
    leaf = P.identity(a) if type(a) is Var else Var(_as_value(a), name=name)
    if type(a) is Var:
        leaf.name = name
    return leaf, leaf


def _adjoints_for(out, leaves, seed, nested):
    """The seed-weighted adjoint of ``out`` for each leaf.

    A Dual output (or seed) is differentiated part by part: the value and the
    tangent of a Dual are separate functions of the leaves.
    """
    if type(out) is Dual or type(seed) is Dual:
        return _dual_adjoints(out, leaves, seed, nested)
    if type(out) is not Var:  # the output does not depend on the inputs
        return [_zeros_like(leaf) for leaf in leaves]
    adj = backprop(out, seed, create_graph=nested, stop=set(leaves))
    return [adj.get(leaf, None) if adj.get(leaf, None) is not None else _zeros_like(leaf) for leaf in leaves]


def _dual_adjoints(out, leaves, seed, nested):
    o_tag = out.tag if type(out) is Dual else -1
    s_tag = seed.tag if type(seed) is Dual else -1
    tag = max(o_tag, s_tag)
    ov, ot = (out.value, out.tangent) if o_tag == tag else (out, None)
    sv, st = (seed.value, seed.tangent) if s_tag == tag else (seed, None)
    value = _adjoints_for(ov, leaves, sv, nested)
    parts = []  # the tangent: d<seed, out> = <seed', out> + <seed, out'>
    if ot is not None:
        parts.append(_adjoints_for(ot, leaves, sv, nested))
    if st is not None:
        parts.append(_adjoints_for(ov, leaves, st, nested))
    tangent = parts[0] if len(parts) == 1 else [a + b for a, b in zip(*parts)]
    return [Dual(v, t, tag) for v, t in zip(value, tangent)]


def _zeros_like(leaf):
    return np.zeros_like(leaf.value) if np.ndim(leaf.value) else 0.0


def _unwrap(x, nested):
    if nested:
        return x
    if type(x) is Dual:
        return Dual(_unwrap(x.value, nested), _unwrap(x.tangent, nested), x.tag)
    x = x.value if type(x) is Var else x
    return float(x) if isinstance(x, np.generic) or (isinstance(x, np.ndarray) and x.ndim == 0) else x


def _scalar_output(out, fname, f):
    if out is None or isinstance(out, (str, bytes, list, tuple, dict)):
        hint = " (is a `return` missing?)" if out is None else ""
        raise ADTypeError(f"{fname}({_name(f)}) needs a number to differentiate, "
                          f"but {_name(f)} returned {type(out).__name__}{hint}")
    value = P._value(out)
    if np.ndim(value) != 0:
        raise ShapeError(
            f"{fname}({_name(f)}) needs a scalar output, but {_name(f)} returned shape {np.shape(value)}; "
            "use jacrev/jacfwd for the Jacobian, or vjp with a seed")


def value_and_grad(f, argnums=0):
    """Return a function computing ``(f(*args), gradient)``.

    With an int ``argnums`` the gradient has the shape of that argument; with a
    tuple it is a tuple of gradients, one per listed argument.
    """
    @functools.wraps(f)
    def wrapper(*args):
        nums = _argnums_tuple(argnums, len(args), "grad")
        out, leaves, nested = _call_on_leaves(f, args, nums)
        _scalar_output(out, "grad", f)
        grads = _adjoints_for(out, leaves, None, nested)
        grads = [_unwrap(g, nested) for g in grads]
        value = _unwrap(out, nested)
        return value, (grads[0] if isinstance(argnums, numbers.Integral) else tuple(grads))
    return wrapper


def grad(f, argnums=0):
    """Return a function computing the gradient of scalar-valued ``f``.

    ``grad(f)(x, y)`` is df/dx (JAX's convention: ``argnums=0``);
    ``grad(f, argnums=(0, 1))(x, y)`` is (df/dx, df/dy).
    """
    vg = value_and_grad(f, argnums)

    @functools.wraps(f)
    def wrapper(*args):
        return vg(*args)[1]
    return wrapper


def vjp(f, *primals):
    """Reverse mode: return ``(f(*primals), pullback)``.

    ``pullback(ybar)`` returns the tuple of ``ybar``-weighted gradients, one per primal.
    """
    nums = tuple(range(len(primals)))
    out, leaves, nested = _call_on_leaves(f, primals, nums)

    def pullback(ybar):
        return tuple(_unwrap(g, nested) for g in _adjoints_for(out, leaves, ybar, nested))
    return _unwrap(out, nested), pullback


def jvp(f, primals, tangents):
    """Forward mode: return ``(f(*primals), directional derivative along tangents)``."""
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ADError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    global _last_tag
    _last_tag += 1
    tag = _last_tag
    duals = []
    for k, (p, t) in enumerate(zip(primals, tangents)):
        pv = p if _traced(p) else _as_value(p)
        tv = t if _traced(t) else _as_value(t)
        if np.shape(P._value(pv)) != np.shape(P._value(tv)):
            raise ShapeError(f"jvp: argument {k + 1} has shape {np.shape(P._value(pv))} "
                             f"but its tangent has shape {np.shape(P._value(tv))}")
        duals.append(Dual(pv, tv, tag))
    out = f(*duals)
    return _tree_parts(out, tag)


def _traced(x):
    return type(x) is Var or type(x) is Dual


def _tree_parts(out, tag):
    """Split an output (a Dual, or a tuple/list/dict of them) into values and tangents."""
    if isinstance(out, (tuple, list)):
        parts = [_tree_parts(o, tag) for o in out]
        return type(out)(p[0] for p in parts), type(out)(p[1] for p in parts)
    if isinstance(out, dict):
        parts = {k: _tree_parts(o, tag) for k, o in out.items()}
        return {k: p[0] for k, p in parts.items()}, {k: p[1] for k, p in parts.items()}
    return _dual_parts(out, tag)


def _dual_parts(o, tag):
    if type(o) is Dual and o.tag == tag:
        return o.value, o.tangent
    zero = np.zeros(np.shape(P._value(o))) if np.ndim(P._value(o)) else 0.0
    return o, zero


def _as_array_output(out):
    """Allow vector functions to return lists/tuples of scalars."""
    if isinstance(out, (list, tuple)):
        return P.stack(out)
    return out


def jacfwd(f, argnums=0):
    """Jacobian by forward mode: one ``jvp`` per input element (a column each).

    The result has shape ``output.shape + input.shape``.
    """
    def jac(*args):
        nums = _argnums_tuple(argnums, len(args), "jacfwd")
        results = []
        for i in nums:
            x = args[i] if _traced(args[i]) else _as_value(args[i])
            shape = np.shape(P._value(x))
            cols = []
            for k in range(int(np.prod(shape, dtype=int))):
                e = np.zeros(int(np.prod(shape, dtype=int)))
                e[k] = 1.0
                def f_i(v, i=i):  # f of argument i alone: the others stay plain constants
                    return _as_array_output(f(*args[:i], v, *args[i + 1:]))
                _, t = jvp(f_i, (x,), (e.reshape(shape),))
                cols.append(t)
            out_shape = np.shape(P._value(cols[0])) if cols else ()
            if any(_traced(c) for c in cols):
                J = P.reshape(P.transpose(P.reshape(P.stack(cols), (len(cols), -1))), out_shape + shape)
            else:
                J = _plain_array(np.stack([np.asarray(c, dtype=float) for c in cols], axis=-1), out_shape + shape)
            results.append(J)
        return results[0] if isinstance(argnums, numbers.Integral) else tuple(results)
    return jac


def jacrev(f, argnums=0):
    """Jacobian by reverse mode: one ``vjp`` per output element (a row each).

    The result has shape ``output.shape + input.shape``.
    """
    def jac(*args):
        nums = _argnums_tuple(argnums, len(args), "jacrev")
        out, leaves, nested = _call_on_leaves(lambda *a: _as_array_output(f(*a)), args, nums)
        out_shape = np.shape(P._value(out))
        n_out = int(np.prod(out_shape, dtype=int))
        rows = [[] for _ in leaves]
        for k in range(n_out):
            e = np.zeros(n_out)
            e[k] = 1.0
            seed = e.reshape(out_shape) if out_shape else 1.0
            for j, g in enumerate(_adjoints_for(out, leaves, seed, nested)):
                rows[j].append(g)
        results = []
        for j, leaf in enumerate(leaves):
            in_shape = np.shape(leaf.value)
            if any(_traced(r) for r in rows[j]):
                J = P.reshape(P.stack(rows[j]), out_shape + in_shape)
            else:
                J = _plain_array(np.stack([np.asarray(P._value(r), dtype=float) for r in rows[j]]), out_shape + in_shape)
            results.append(J)
        return results[0] if isinstance(argnums, numbers.Integral) else tuple(results)
    return jac


def _plain_array(a, shape):
    a = a.reshape(shape)
    return float(a) if a.ndim == 0 else a


def hessian(f, argnums=0):
    """The Hessian of scalar ``f``: reverse mode over reverse mode (exact)."""
    if isinstance(argnums, numbers.Integral):
        return jacrev(grad(f, argnums), argnums)

    def hess(*args):
        return tuple(
            tuple(jacrev(grad(f, i), j)(*args) for j in argnums) for i in argnums)
    return hess
