"""Property tests: random expressions, four independent answers must agree.

For random expression trees in two variables we compare values, gradients and
Hessians from reverse mode, forward mode, central differences and SymPy (an
independent symbolic oracle), at random points, for scalars and for arrays.
"""
import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import adteach as ad

X, Y = sp.symbols("x y")

# Operations defined on the whole real line, with bounded growth so values stay finite.
UNARY = {
    "sin": (ad.sin, sp.sin), "cos": (ad.cos, sp.cos), "tanh": (ad.tanh, sp.tanh),
    "sigmoid": (ad.sigmoid, lambda u: 1 / (1 + sp.exp(-u))),
    "exp_tanh": (lambda u: ad.exp(ad.tanh(u)), lambda u: sp.exp(sp.tanh(u))),
    "log1p_sq": (lambda u: ad.log(1 + u * u), lambda u: sp.log(1 + u * u)),
    "sqrt1p_sq": (lambda u: ad.sqrt(1 + u ** 2), lambda u: sp.sqrt(1 + u ** 2)),
    "neg": (lambda u: -u, lambda u: -u),
}
BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / (2 + ad.sin(b)), lambda a, b: a / (2 + sp.sin(b))),
    "pow": (lambda a, b: (1 + a * a) ** ad.tanh(b), lambda a, b: (1 + a * a) ** sp.tanh(b)),
}

leaves = st.sampled_from(["x", "y", 0.5, -1.25, 2.0])
trees = st.recursive(
    leaves,
    lambda sub: st.one_of(
        st.tuples(st.sampled_from(sorted(UNARY)), sub),
        st.tuples(st.sampled_from(sorted(BINARY)), sub, sub)),
    max_leaves=6)


def build(tree, x, y, table_index):
    if tree == "x":
        return x
    if tree == "y":
        return y
    if isinstance(tree, float):
        return tree
    if len(tree) == 2:
        return UNARY[tree[0]][table_index](build(tree[1], x, y, table_index))
    return BINARY[tree[0]][table_index](build(tree[1], x, y, table_index), build(tree[2], x, y, table_index))


def make(tree):
    f = lambda x, y: build(tree, x, y, 0) + 0.0 * x + 0.0 * y  # always depends on both inputs
    expr = build(tree, X, Y, 1)
    return f, sp.sympify(expr)


points = st.tuples(st.floats(-1.5, 1.5), st.floats(-1.5, 1.5))
SETTINGS = dict(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@settings(**SETTINGS)
@given(trees, points)
def test_value_gradient_hessian_agree_with_sympy(tree, point):
    f, expr = make(tree)
    x0, y0 = point
    subs = {X: x0, Y: y0}
    value = float(expr.evalf(subs=subs))
    grad_true = [float(sp.diff(expr, v).evalf(subs=subs)) for v in (X, Y)]
    hess_true = [[float(sp.diff(expr, u, v).evalf(subs=subs)) for v in (X, Y)] for u in (X, Y)]
    close = lambda a, b: math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)

    v, g = ad.value_and_grad(f, argnums=(0, 1))(x0, y0)
    assert close(v, value)
    assert all(close(a, b) for a, b in zip(g, grad_true)), (g, grad_true)
    fwd = [ad.jvp(f, (x0, y0), e)[1] for e in ((1.0, 0.0), (0.0, 1.0))]
    assert all(close(a, b) for a, b in zip(fwd, grad_true)), (fwd, grad_true)
    num = ad.numerical_grad(f, x0, y0, argnums=(0, 1))
    assert all(math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-6) for a, b in zip(num, grad_true))
    H = ad.hessian(f, argnums=(0, 1))(x0, y0)
    assert all(close(H[i][j], hess_true[i][j]) for i in range(2) for j in range(2)), (H, hess_true)


@settings(**SETTINGS)
@given(trees, st.integers(0, 2**32 - 1))
def test_array_inputs_match_elementwise_scalars(tree, seed):
    """The same expression on arrays (with a scalar broadcast) gives the scalar answers."""
    f, expr = make(tree)
    r = np.random.default_rng(seed)
    xs, y0 = r.uniform(-1.5, 1.5, 4), float(r.uniform(-1.5, 1.5))
    loss = lambda x, y: ad.sum(f(x, y))
    gx, gy = ad.grad(loss, argnums=(0, 1))(xs, y0)
    assert gx.shape == (4,) and np.ndim(gy) == 0
    dfx = sp.lambdify((X, Y), sp.diff(expr, X), "math")
    dfy = sp.lambdify((X, Y), sp.diff(expr, Y), "math")
    assert np.allclose(gx, [dfx(x, y0) for x in xs], rtol=1e-9, atol=1e-9)
    assert math.isclose(gy, sum(dfy(x, y0) for x in xs), rel_tol=1e-9, abs_tol=1e-9)
    J = ad.jacfwd(lambda x: f(x, y0))(xs)
    assert np.allclose(np.diag(J), gx, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("shape_a, shape_b", [((3, 4), (4,)), ((4,), (4, 2)), ((2, 3), (3, 5)), ((3,), (3,))])
def test_matmul_shapes_gradients(shape_a, shape_b):
    r = np.random.default_rng(1)
    A, B = r.standard_normal(shape_a), r.standard_normal(shape_b)
    f = lambda a, b: ad.sum(ad.tanh(ad.matmul(a, b)))
    assert ad.check_grad(f, A, B)
