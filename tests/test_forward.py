"""Nested forward mode (tagged Duals) and transforms nested in every order,
checked against SymPy derivatives (an independent oracle)."""
import numpy as np
import pytest
import sympy as sp

import adteach as ad

X = sp.Symbol("x")
CASES = [  # (adteach function, the same function in SymPy)
    (lambda x: x ** 3 * ad.sin(x), X ** 3 * sp.sin(X)),
    (lambda x: ad.exp(ad.sin(x)) / (1 + x * x), sp.exp(sp.sin(X)) / (1 + X * X)),
    (lambda x: ad.log(1 + x * x) * ad.tanh(x), sp.log(1 + X * X) * sp.tanh(X)),
]
POINTS = [0.3, -1.1, 2.0]


def oracle(expr, order, x0):
    return float(sp.diff(expr, X, order).subs(X, x0))


# every order of composing two/three transforms for the second and third derivative
SECOND = {
    "jvp(grad)": lambda f: lambda x: ad.jvp(ad.grad(f), (x,), (1.0,))[1],
    "jvp(jvp)": lambda f: lambda x: ad.jvp(lambda y: ad.jvp(f, (y,), (1.0,))[1], (x,), (1.0,))[1],
    "grad(jvp)": lambda f: ad.grad(lambda y: ad.jvp(f, (y,), (1.0,))[1]),
    "grad(grad)": lambda f: ad.grad(ad.grad(f)),
    "jacfwd(grad)": lambda f: ad.jacfwd(ad.grad(f)),
    "jacfwd(jacfwd)": lambda f: ad.jacfwd(ad.jacfwd(f)),
    "jacrev(jacfwd)": lambda f: ad.jacrev(ad.jacfwd(f)),
    "jacfwd(jacrev)": lambda f: ad.jacfwd(ad.jacrev(f)),
    "hessian": lambda f: ad.hessian(f),
    "vjp(jvp)": lambda f: lambda x: ad.vjp(lambda y: ad.jvp(f, (y,), (1.0,))[1], x)[1](1.0)[0],
    "jvp(vjp)": lambda f: lambda x: ad.jvp(lambda y: ad.vjp(f, y)[1](1.0)[0], (x,), (1.0,))[1],
}
THIRD = {
    "grad(grad(grad))": lambda f: ad.grad(ad.grad(ad.grad(f))),
    "jvp(jvp(jvp))": lambda f: SECOND["jvp(jvp)"](lambda y: ad.jvp(f, (y,), (1.0,))[1]),
    "jvp(grad(grad))": lambda f: lambda x: ad.jvp(ad.grad(ad.grad(f)), (x,), (1.0,))[1],
    "grad(jvp(grad))": lambda f: ad.grad(SECOND["jvp(grad)"](f)),
    "jacfwd(jacrev(grad))": lambda f: ad.jacfwd(ad.jacrev(ad.grad(f))),
    "jacfwd(jacfwd(jacfwd))": lambda f: ad.jacfwd(ad.jacfwd(ad.jacfwd(f))),
    "grad(grad(jvp))": lambda f: ad.grad(ad.grad(lambda y: ad.jvp(f, (y,), (1.0,))[1])),
}


ORDERS = [(2, n) for n in sorted(SECOND)] + [(3, n) for n in sorted(THIRD)]


@pytest.mark.parametrize("order,name", ORDERS)
@pytest.mark.parametrize("case", range(len(CASES)))
def test_higher_derivatives_in_every_order(order, name, case):
    f, expr = CASES[case]
    transform = (SECOND if order == 2 else THIRD)[name]
    for x0 in POINTS:
        got = float(np.asarray(transform(f)(x0)))
        assert np.isclose(got, oracle(expr, order, x0), rtol=1e-9, atol=1e-12), (name, x0)


def test_no_perturbation_confusion():
    # d/dx [x * d/dy (x + y)] = 1 (untagged duals would give 2)
    inner = lambda x: ad.jvp(lambda y: x + y, (1.0,), (1.0,))[1]
    assert ad.jvp(lambda x: x * inner(x), (1.0,), (1.0,)) == (1.0, 1.0)
    assert ad.jacfwd(lambda x: x * inner(x))(3.0) == 1.0
    # the inner tangent of a function that does not depend on the inner input is 0, not the outer one
    assert ad.jvp(lambda x: ad.jvp(lambda y: x * x, (2.0,), (1.0,))[1], (3.0,), (1.0,)) == (0.0, 0.0)
    # closures across forward and reverse: d/dy grad_x(x*y) = 1
    assert ad.jvp(lambda y: ad.grad(lambda x: x * y)(1.0), (2.0,), (1.0,)) == (2.0, 1.0)
    assert ad.grad(lambda y: ad.jvp(lambda x: x * y * y, (1.0,), (1.0,))[1])(3.0) == 6.0


def test_hessian_vector_products_forward_over_reverse():
    A = np.array([[2.0, 1.0, 0.0], [1.0, 3.0, -1.0], [0.0, -1.0, 4.0]])
    f = lambda x: ad.sum(ad.sin(x) * x ** 2) + 0.5 * ad.sum(x * (A @ x))
    x0, v = np.array([0.3, -1.2, 2.0]), np.array([1.0, 0.5, -2.0])
    H = ad.hessian(f)(x0)
    s = sp.symbols("a b c")
    expr = sum(sp.sin(si) * si ** 2 for si in s) + sp.Rational(1, 2) * sum(
        s[i] * A[i, j] * s[j] for i in range(3) for j in range(3))
    H_sym = np.array(sp.hessian(expr, s).subs(dict(zip(s, x0))), dtype=float)
    assert np.allclose(H, H_sym)
    assert np.allclose(ad.jvp(ad.grad(f), (x0,), (v,))[1], H_sym @ v)
    assert np.allclose(ad.jacfwd(ad.grad(f))(x0), H_sym)
    assert np.allclose(ad.jacfwd(ad.jacfwd(f))(x0), H_sym)
    assert np.allclose(ad.jacrev(ad.jacfwd(f))(x0), H_sym)
    # structural primitives followed by more work, in forward-over-forward
    assert np.allclose(ad.jacfwd(ad.jacfwd(lambda x: ad.sum(x) ** 2))(np.ones(2)), 2 * np.ones((2, 2)))


def test_jvp_of_containers():
    primal, tangent = ad.jvp(lambda x: (2 * x, [x * x], {"a": ad.sin(x)}), (3.0,), (1.0,))
    assert primal == (6.0, [9.0], {"a": np.sin(3.0)})
    assert tangent == (2.0, [6.0], {"a": np.cos(3.0)})


def test_tags_are_shown_and_hand_made_duals_still_work():
    d = ad.Dual(2.0, 1.0)
    assert d.tag == 0 and repr(d) == "Dual(value=2, tangent=1)"
    assert repr(ad.Dual(2.0, 1.0, tag=3)) == "Dual(value=2, tangent=1, tag=3)"
    assert (d * d).tangent == 4.0
