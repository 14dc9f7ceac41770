"""Every number in shared/REFERENCES.md, reproduced in forward and reverse mode."""
import math

import numpy as np
import pytest

import adteach as ad

approx = lambda v: pytest.approx(v, rel=1e-12, abs=1e-12)


def gw(x1, x2):
    """Griewank & Walther's example written as their evaluation trace."""
    v1 = x1 / x2
    v2 = ad.sin(v1)
    v3 = ad.exp(x2)
    v4 = v1 - v3
    v5 = v2 + v4
    return v5 * v4


def gw_inline(x1, x2):
    return (ad.sin(x1 / x2) + x1 / x2 - ad.exp(x2)) * (x1 / x2 - ad.exp(x2))


GW_TABLE = [  # name, operation, primal, tangent, adjoint
    ("v-1", "x1", 1.5, 1, 3.011843327673907),
    ("v0", "x2", 0.5, 0, -13.723961509314076),
    ("v1", "v-1 / v0", 3.0, 2.0, 1.5059216638369535),
    ("v2", "sin(v1)", 0.1411200080598672, -1.979984993200891, 1.3512787292998718),
    ("v3", "exp(v0)", 1.6487212707001282, 0, -2.843677466659611),
    ("v4", "v1 - v3", 1.3512787292998718, 2.0, 2.843677466659611),
    ("v5", "v2 + v4", 1.492398737359739, 0.020015006799109, 1.3512787292998718),
    ("v6", "v5 * v4", 2.016646669428201, 3.011843327673907, 1),
]


def test_griewank_walther_trace_row_by_row():
    t = ad.trace(gw, 1.5, 0.5)
    assert [r.name for r in t.rows] == [row[0] for row in GW_TABLE]
    for row, (name, op, primal, tangent, adjoint) in zip(t.rows, GW_TABLE):
        assert row.expr == op, name
        assert row.primal == approx(primal), name
        assert row.tangent == pytest.approx(tangent, rel=1e-12, abs=1e-14), name
        assert row.adjoint == approx(adjoint), name
    assert t.rows[-1].label == "y" and t.rows[0].label == "x1"


@pytest.mark.parametrize("f", [gw, gw_inline])
def test_griewank_walther_all_transforms(f):
    value, (g1, g2) = ad.value_and_grad(f, argnums=(0, 1))(1.5, 0.5)
    assert value == approx(2.016646669428201)
    assert (g1, g2) == (approx(3.011843327673907), approx(-13.723961509314076))
    assert ad.grad(f)(1.5, 0.5) == approx(3.011843327673907)
    assert ad.jvp(f, (1.5, 0.5), (1.0, 0.0)) == (approx(2.016646669428201), approx(3.011843327673907))
    assert ad.jvp(f, (1.5, 0.5), (0.0, 1.0))[1] == approx(-13.723961509314076)
    y, pullback = ad.vjp(f, 1.5, 0.5)
    assert pullback(1.0) == (approx(3.011843327673907), approx(-13.723961509314076))
    # object style, as in the seeds
    x1, x2 = ad.Var(1.5, name="x1"), ad.Var(0.5, name="x2")
    out = f(x1, x2)
    out.backward()
    assert (x1.grad, x2.grad) == (approx(3.011843327673907), approx(-13.723961509314076))
    # dual numbers, one input seeded at a time (seed 000 part 1): a Jacobian column per pass
    assert f(ad.Dual(1.5, 1.0), ad.Dual(0.5, 0.0)).tangent == approx(3.011843327673907)
    assert f(ad.Dual(1.5, 0.0), ad.Dual(0.5, 1.0)).tangent == approx(-13.723961509314076)


BAYDIN_TABLE = [
    ("v-1", "x1", 2, 1, 5.5),
    ("v0", "x2", 5, 0, 1.7163378145367738),
    ("v1", "log(v-1)", 0.6931471805599453, 0.5, 1),
    ("v2", "v-1 * v0", 10, 5, 1),
    ("v3", "v1 + v2", 10.693147180559945, 5.5, 1),
    ("v4", "sin(v0)", -0.9589242746631385, 0, -1),
    ("v5", "v3 - v4", 11.652071455223084, 5.5, 1),
]


def baydin(x1, x2):
    return ad.log(x1) + x1 * x2 - ad.sin(x2)


def test_baydin_tables_2_and_3():
    t = ad.trace(baydin, 2.0, 5.0)
    for row, (name, op, primal, tangent, adjoint) in zip(t.rows, BAYDIN_TABLE, strict=True):
        assert (row.name, row.expr) == (name, op)
        assert (row.primal, row.tangent, row.adjoint) == (approx(primal), approx(tangent), approx(adjoint))
    # the adjoint of x2 collects two paths: v2_bar * v-1 + v4_bar * cos(v0)
    assert t["v0"].adjoint == approx(2 - math.cos(5.0) * -1 * -1)
    assert ad.grad(baydin, argnums=(0, 1))(2.0, 5.0) == (approx(5.5), approx(1.7163378145367738))
    assert ad.jvp(baydin, (2.0, 5.0), (1.0, 0.0))[1] == approx(5.5)


def test_seed_001_square_exp_square():
    def y(x):
        return (ad.exp(x ** 2)) ** 2
    # REFERENCES.md lists y = 2.718281828459045 (= e), but (exp(0.5**2))**2 = e**0.5;
    # its dy/dx = 3.297442541400256 = 4 * 0.5 * e**0.5 confirms y = e**0.5 (the seed
    # itself prints only the gradient).
    assert y(0.5) == approx(math.exp(0.5))
    assert ad.grad(y)(0.5) == approx(3.297442541400256)
    assert ad.jvp(y, (0.5,), (1.0,))[1] == approx(3.297442541400256)
    assert abs(ad.numerical_diff(y, 0.5, eps=1e-6) - 3.297442541400256) < 1e-6


def test_seed_002_tape_example():
    a, b = ad.Var(2.0, name="a"), ad.Var(3.0, name="b")
    o = a * b
    f = 5 * o
    f.backward()
    assert f.value == 30
    assert (f.grad, o.grad, a.grad, b.grad) == (1, 5, 15, 10)


@pytest.mark.parametrize("square", [lambda h: h * h, lambda h: h ** 2])
def test_seed_002_diamond_gradients_add(square):
    x, y, z = ad.Var(3.0, name="x"), ad.Var(2.0, name="y"), ad.Var(1.0, name="z")
    h1, h2 = x * y, y * z
    h = h1 * h2
    o = square(h)
    o.backward()
    assert (h.value, o.value) == (12, 144)
    assert (h.grad, h1.grad, h2.grad, x.grad, y.grad, z.grad) == (24, 48, 144, 96, 288, 288)
    # forward mode agrees, one input at a time
    f = lambda x, y, z: square((x * y) * (y * z))
    assert [ad.jvp(f, (3.0, 2.0, 1.0), e)[1] for e in np.eye(3)] == [96, 288, 288]


def test_seed_003_example_1_corrected():
    """The seed prints (-592, -222) because its Multiply sends grad * x to both inputs."""
    def L(x, y, a=2.0, c=49.0):
        return (c - (a * x) * y) ** 2
    value, grads = ad.value_and_grad(L, argnums=(0, 1))(2.0, 3.0)
    assert value == 1369
    assert grads == (-444, -296)
    assert grads != (-592, -222)
    assert ad.check_grad(L, 2.0, 3.0)


def test_seed_003_example_2_descent_matches_printed_losses():
    def L(x, y, a=49.0):
        return (a - (x + y)) ** 2
    x, y = 2.0, 3.0
    losses, grads = [], []
    for _ in range(10):
        value, (gx, gy) = ad.value_and_grad(L, argnums=(0, 1))(x, y)
        losses.append(value)
        grads.append((gx, gy))
        x, y = x - 0.01 * gx, y - 0.01 * gy
    assert grads[0] == (-88, -88) and losses[0] == 1936
    printed = [1936.00, 1784.22, 1644.33, 1515.42, 1396.61, 1287.12, 1186.21, 1093.21, 1007.50, 928.51]
    assert [round(v, 2) for v in losses] == printed
    # each step shrinks (49 - x - y) by 0.96, so the loss by 0.96**2
    assert losses == [pytest.approx(1936 * 0.9216 ** k, rel=1e-12) for k in range(10)]


def test_seed_004_optimise_w():
    def v7(x, w):
        xw = x * w
        return ad.exp(xw + ad.sin(xw)) + ad.sin(xw) ** 2 * w
    value, dw = ad.value_and_grad(v7, argnums=1)(1.0, 4.0)
    assert value == approx(27.906496678143885)
    assert dw == approx(13.402273659200267)
    w = 4.0
    for _ in range(30):
        w -= 0.1 * ad.grad(v7, argnums=1)(1.0, w)
    assert w == pytest.approx(-1.8469302838213455, rel=1e-10)
    # the seed's object style: change the input's value and recompute on each step
    x, wv = ad.Var(1.0, name="x"), ad.Var(4.0, name="w")
    for _ in range(30):
        out = v7(x, wv)
        out.backward()
        wv.value -= 0.1 * wv.grad
    assert wv.value == pytest.approx(-1.8469302838213455, rel=1e-10)
