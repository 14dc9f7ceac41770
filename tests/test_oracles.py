"""adteach against an independent oracle: JAX in float64, on random expressions.

Each expression is a random tree over adteach's primitives (elementwise, binary,
reductions, indexing, stacking, broadcasting, reshaping, matmul), built once and
evaluated by two backends: adteach (``ad.*``) and ``jax.numpy``. Every mode and
every nesting order is compared with JAX's: first derivatives (reverse, forward),
Hessians (reverse over reverse, forward over reverse, forward over forward) and
third derivatives along a direction (forward^3, reverse over forward^2, forward
over reverse over forward). Inputs stay inside every primitive's domain
(``log(u*u + 0.5)``, denominators ``b*b + 0.5``, ``tan`` of a ``tanh``).

JAX is a test-only dependency (the ``test`` extra); it never enters adteach.
"""
import numpy as np
import pytest

import adteach as ad

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jnp = jax.numpy

N = 3
M = np.random.default_rng(7).normal(size=(N, N)) / 2


class Backend:
    def __init__(self, lib, stack, getitem, broadcast, nn, stop_gradient):
        self.lib, self.stack, self.getitem, self.broadcast = lib, stack, getitem, broadcast
        self.nn, self.stop_gradient = nn, stop_gradient  # softmax, log_softmax, logsumexp


AD = Backend(ad, ad.stack, ad.getitem, ad.broadcast_to, ad, ad.stop_gradient)
JX = Backend(jnp, jnp.stack, lambda x, i: x[i], jnp.broadcast_to, jax.nn, jax.lax.stop_gradient)

UNARY = {  # name -> how it is applied safely, given the backend's module m
    "sin": lambda m, u: m.sin(u),
    "cos": lambda m, u: m.cos(u),
    "tanh": lambda m, u: m.tanh(u),
    "exp": lambda m, u: m.exp(m.tanh(u)),
    "log": lambda m, u: m.log(u * u + 0.5),
    "sqrt": lambda m, u: m.sqrt(u * u + 0.5),
    "tan": lambda m, u: m.tan(m.tanh(u)),
    "sigmoid": lambda m, u: (ad.sigmoid(u) if m is ad else jax.nn.sigmoid(u)),
    "neg": lambda m, u: -u,
    "square": lambda m, u: u ** 2,
    "pow1.5": lambda m, u: (u * u + 0.5) ** 1.5,
    "softmax": lambda m, u: (ad.softmax(u) if m is ad else jax.nn.softmax(u)),
    "log_softmax": lambda m, u: (ad.log_softmax(u) if m is ad else jax.nn.log_softmax(u)),
}
BINARY = {
    "add": lambda m, a, b: a + b,
    "sub": lambda m, a, b: a - b,
    "mul": lambda m, a, b: a * b,
    "div": lambda m, a, b: a / (b * b + 0.5),
    "maximum": lambda m, a, b: m.maximum(a, b + 0.25),  # offset: ties have probability zero
    "minimum": lambda m, a, b: m.minimum(a, b - 0.25),
}
REDUCE = ["sum", "mean", "index", "max", "min", "logsumexp"]


def random_expr(rng, depth):
    """A random expression tree whose value is a vector of length N."""
    if depth == 0 or rng.random() < 0.15:
        return ("x",) if rng.random() < 0.8 else ("const", rng.normal(size=N))
    kind = rng.choice(["unary", "unary", "binary", "binary", "reduce", "reduce", "stack", "matmul", "reshape",
                       "where", "concatenate", "stop_gradient"])
    if kind == "unary":
        return ("unary", str(rng.choice(list(UNARY))), random_expr(rng, depth - 1))
    if kind == "binary":
        return ("binary", str(rng.choice(list(BINARY))), random_expr(rng, depth - 1), random_expr(rng, depth - 1))
    if kind == "reduce":  # a scalar broadcast back to a vector: sum, mean or an element
        how = str(rng.choice(REDUCE))
        return ("reduce", how, int(rng.integers(N)), random_expr(rng, depth - 1))
    if kind == "stack":  # N scalars (elements of subexpressions) stacked into a vector
        return ("stack", [(int(rng.integers(N)), random_expr(rng, depth - 1)) for _ in range(N)])
    if kind == "matmul":
        return ("matmul", random_expr(rng, depth - 1))
    if kind == "where":  # a fixed random condition: not differentiated
        return ("where", rng.random(N) < 0.5, random_expr(rng, depth - 1), random_expr(rng, depth - 1))
    if kind == "concatenate":  # the first element of one vector, then the rest of another
        return ("concatenate", random_expr(rng, depth - 1), random_expr(rng, depth - 1))
    if kind == "stop_gradient":  # u * stop_gradient(u): only one factor is differentiated
        return ("stop_gradient", random_expr(rng, depth - 1))
    return ("reshape", random_expr(rng, depth - 1))


def evaluate(e, x, B):
    m = B.lib
    tag = e[0]
    if tag == "x":
        return x
    if tag == "const":
        return e[1]
    if tag == "unary":
        return UNARY[e[1]](m, evaluate(e[2], x, B))
    if tag == "binary":
        return BINARY[e[1]](m, evaluate(e[2], x, B), evaluate(e[3], x, B))
    if tag == "reduce":
        v = evaluate(e[3], x, B)
        if e[1] == "index":
            s = B.getitem(v, e[2])
        elif e[1] == "logsumexp":
            s = B.nn.logsumexp(v)
        else:
            s = getattr(m, e[1])(v)
        return B.broadcast(s, (N,)) * np.arange(1.0, N + 1)
    if tag == "stack":
        return B.stack([B.getitem(evaluate(sub, x, B), i) for i, sub in e[1]])
    if tag == "matmul":
        return M @ evaluate(e[1], x, B)
    if tag == "where":
        return m.where(e[1], evaluate(e[2], x, B), evaluate(e[3], x, B))
    if tag == "concatenate":
        a, b = evaluate(e[1], x, B), evaluate(e[2], x, B)
        return m.concatenate([B.getitem(a, slice(0, 1)), B.getitem(b, slice(1, N))])
    if tag == "stop_gradient":
        u = evaluate(e[1], x, B)
        return u * B.stop_gradient(u)
    if tag == "reshape":
        v = evaluate(e[1], x, B)
        return m.reshape(m.transpose(m.reshape(v, (N, 1))), (N,))
    raise AssertionError(tag)


def functions(e):
    def f_ad(x):
        return ad.sum(evaluate(e, x, AD) * np.linspace(0.5, 1.5, N))

    def f_jx(x):
        return jnp.sum(evaluate(e, x, JX) * np.linspace(0.5, 1.5, N))
    return f_ad, f_jx


def third_along(jvp, f, x, v):
    """d^3/dt^3 f(x + t v) at t = 0, by nesting jvp three times."""
    d1 = lambda y: jvp(f, (y,), (v,))[1]
    d2 = lambda y: jvp(d1, (y,), (v,))[1]
    return jvp(d2, (x,), (v,))[1]


def size(e):
    if e[0] in ("x", "const"):
        return 1
    if e[0] == "stack":
        return 1 + sum(size(sub) for _, sub in e[1])
    return 1 + sum(size(p) for p in e[1:] if isinstance(p, tuple))  # where's condition is an array: skipped


def cases(n, max_size=25):
    """n random expressions of at most max_size nodes (JAX's eager oracle is slow on big ones)."""
    found, seed = [], 0
    while len(found) < n:
        e = random_expr(np.random.default_rng(seed), depth=4)
        seed += 1
        if 4 <= size(e) <= max_size:
            found.append(e)
    return found


CASES = cases(60)


def close(a, b):
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-8, atol=1e-10)


def oracle(f_jx):
    """JAX's value, gradient, Hessian and third-derivative tensor, compiled once."""
    return jax.jit(lambda x: (f_jx(x), jax.grad(f_jx)(x), jax.hessian(f_jx)(x),
                              jax.jacfwd(jax.hessian(f_jx))(x)))


@pytest.mark.parametrize("k", range(len(CASES)))
def test_every_mode_and_order_agrees_with_jax(k):
    e = CASES[k]
    f_ad, f_jx = functions(e)
    rng = np.random.default_rng(100 + k)
    x, v = rng.normal(size=N), rng.normal(size=N)
    value, g, H, T = (np.asarray(a) for a in oracle(f_jx)(x))
    close(f_ad(x), value)
    close(ad.grad(f_ad)(x), g)
    close(ad.jacfwd(f_ad)(x), g)
    close(ad.jvp(f_ad, (x,), (v,))[1], g @ v)
    close(ad.hessian(f_ad)(x), H)                  # reverse over reverse
    close(ad.jacfwd(ad.grad(f_ad))(x), H)          # forward over reverse
    close(ad.jacfwd(ad.jacfwd(f_ad))(x), H)        # forward over forward
    close(ad.jvp(ad.grad(f_ad), (x,), (v,))[1], H @ v)  # Hessian-vector product
    Tvv = T @ v @ v                                # T[i, j, k] v_j v_k: the gradient of d2f along v
    close(third_along(ad.jvp, f_ad, x, v), Tvv @ v)  # forward^3
    d2_ad = lambda y: ad.jvp(lambda z: ad.jvp(f_ad, (z,), (v,))[1], (y,), (v,))[1]
    close(ad.grad(d2_ad)(x), Tvv)                  # reverse over forward^2
    hvp_ad = lambda y: ad.jvp(ad.grad(f_ad), (y,), (v,))[1]
    close(ad.jvp(hvp_ad, (x,), (v,))[1], Tvv)      # forward over reverse over forward
    close(ad.jacrev(ad.hessian(f_ad))(x), T)       # reverse^3: the whole tensor


def test_the_cases_cover_every_primitive():
    seen = set()

    def walk(e):
        seen.add(e[0] if e[0] not in ("unary", "binary", "reduce") else f"{e[0]}:{e[1]}")
        for part in e[1:]:
            if isinstance(part, tuple):
                walk(part)
            if isinstance(part, list):
                for _, sub in part:
                    walk(sub)
    for e in CASES:
        walk(e)
    expected = ({f"unary:{u}" for u in UNARY} | {f"binary:{b}" for b in BINARY} | {f"reduce:{r}" for r in REDUCE}
                | {"stack", "matmul", "reshape", "where", "concatenate", "stop_gradient", "x", "const"})
    assert expected <= seen, expected - seen
