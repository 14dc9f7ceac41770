"""NumPy's ufuncs on Vars and Duals (adteach/arraylike.py): each one runs as primitives of the table.

np.square(x) is x * x, np.reciprocal(x) is 1 / x, ...: the derivative is checked against the
closed form, in reverse mode (Var), forward mode (Dual) and at second order, on scalars and arrays.
A ufunc with no table counterpart is refused with a message naming it.
"""
import math

import numpy as np
import pytest

import adteach as ad

# ufunc, its derivative in closed form, a point in its domain
CASES = [
    (np.square, lambda x: 2 * x, 1.7),
    (np.reciprocal, lambda x: -1 / x ** 2, 1.7),
    (np.positive, lambda x: 1.0 + 0 * x, 1.7),
    (np.fabs, lambda x: np.sign(x), -1.7),
    (np.exp2, lambda x: np.log(2) * 2 ** x, 0.6),
    (np.log2, lambda x: 1 / (x * np.log(2)), 1.7),
    (np.log10, lambda x: 1 / (x * np.log(10)), 1.7),
    (np.conjugate, lambda x: 1.0 + 0 * x, 1.7),
    (lambda x: np.float_power(x, 3.0), lambda x: 3 * x ** 2, 1.7),
]
IDS = ["square", "reciprocal", "positive", "fabs", "exp2", "log2", "log10", "conjugate", "float_power"]


@pytest.mark.parametrize("ufunc, deriv, x", CASES, ids=IDS)
def test_ufunc_on_a_var_and_a_dual(ufunc, deriv, x):
    assert ad.grad(ufunc)(x) == pytest.approx(deriv(x), rel=1e-12)
    value, tangent = ad.jvp(ufunc, (x,), (1.0,))
    assert value == pytest.approx(float(ufunc(x)), rel=1e-12)
    assert tangent == pytest.approx(deriv(x), rel=1e-12)


@pytest.mark.parametrize("ufunc, deriv, x", CASES, ids=IDS)
def test_ufunc_on_arrays(ufunc, deriv, x):
    xs = np.array([x, 2 * x, 0.5 * x])
    g = ad.grad(lambda v: ad.sum(ufunc(v)))(xs)
    assert g == pytest.approx(deriv(xs), rel=1e-12)
    assert ad.jacfwd(ufunc)(xs) == pytest.approx(np.diag(deriv(xs)), rel=1e-12)


def test_second_derivatives_of_square_and_reciprocal():
    assert ad.grad(ad.grad(np.square))(1.3) == pytest.approx(2.0)
    assert ad.grad(ad.grad(np.reciprocal))(1.3) == pytest.approx(2 / 1.3 ** 3)
    assert ad.jvp(ad.grad(np.reciprocal), (1.3,), (1.0,))[1] == pytest.approx(2 / 1.3 ** 3)


def test_the_ufunc_keeps_the_domain_check_of_its_primitive():
    with pytest.raises(ad.DomainError, match="log"):
        ad.grad(np.log2)(-1.0)
    with pytest.raises(ad.DomainError, match="div"):
        ad.grad(np.reciprocal)(0.0)


def test_a_ufunc_without_a_primitive_is_refused_by_name():
    with pytest.raises(ad.ADTypeError, match=r"numpy\.arctan cannot differentiate through a Var"):
        ad.grad(np.arctan)(0.5)
    with pytest.raises(ad.ADTypeError, match=r"numpy\.expm1 cannot differentiate through a Dual"):
        ad.jvp(np.expm1, (0.5,), (1.0,))
    with pytest.raises(ad.ADTypeError, match="with no extra arguments"):
        ad.grad(lambda x: np.square(x, out=None, dtype=float))(0.5)
    assert math.isclose(float(np.square(1.5)), 2.25)  # plain numbers are NumPy's business
