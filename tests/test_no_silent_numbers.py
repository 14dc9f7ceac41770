"""No silent wrong numbers: each input that used to give a wrong number (or a wrong error)
now gives the right answer or a clear ADError, with its message asserted.

Oracles: closed forms, and JAX in float64 where its behaviour is the reference
(comparisons, truth values, object arrays of traced values).
"""
import math
import operator

import numpy as np
import pytest

import adteach as ad
from adteach.forward import Dual

DROPS = r"float\(\) of a Var drops its derivative: math.sin\(x\), math.exp\(x\), float\(x\) and np.float64\(x\)"


# --- float(), int(), math.* -------------------------------------------------------------
@pytest.mark.parametrize("f", [
    lambda x: math.sin(x),
    lambda x: float(x) * x,
    lambda x: math.exp(x) + x,
    lambda x: math.sqrt(x * x),
])
def test_math_functions_and_float_of_a_var_raise_instead_of_dropping_the_derivative(f):
    with pytest.raises(ad.ADTypeError, match=DROPS + r".*Use ad.sin\(...\), ad.exp\(...\) instead of math.sin, "
                                                       r"math.exp, or x.value if you mean the number"):
        ad.grad(f)(1.0)


def test_numpy_float_int_and_index_of_a_var_raise_clearly():
    with pytest.raises(ad.ADTypeError, match=r"Making a float64 array of a Var drops its derivative"):
        ad.grad(lambda x: np.float64(x) * x)(1.0)
    with pytest.raises(ad.ADTypeError, match=r"Making a float64 array of a Var drops its derivative"):
        ad.grad(lambda x: ad.sum(np.asarray(x, dtype=float)))(np.ones(2))
    with pytest.raises(ad.ADTypeError, match=r"int\(\) of a Var drops its derivative"):
        ad.grad(lambda x: int(x) * x)(1.0)
    with pytest.raises(ad.ADTypeError, match=r"a Var cannot be used as an index or a count: use int\(x.value\)"):
        ad.grad(lambda x: [1.0, 2.0][x] * x)(1.0)
    with pytest.raises(ad.ADTypeError, match="index or a count"):
        operator.index(ad.Var(1.0))
    with pytest.raises(ad.ADTypeError, match=r"float\(\) of a Dual drops its tangent"):
        ad.jvp(lambda x: math.sin(x), (1.0,), (1.0,))
    # JAX refuses too (a concretization error), instead of returning a wrong number
    jax = pytest.importorskip("jax")
    with pytest.raises(Exception):
        jax.grad(lambda x: math.sin(x))(1.0)


def test_the_value_is_still_reachable_and_fstrings_format_it():
    seen = []
    g = ad.grad(lambda x: seen.append((f"{x:.4f}", f"{x * 2.0:8.2f}", math.sin(x.value))) or ad.sin(x))(1.5)
    assert g == pytest.approx(math.cos(1.5))
    assert seen == [("1.5000", "    3.00", math.sin(1.5))]
    assert f"{Dual(0.25, 1.0):.2f}" == "0.25"
    assert ad.Var(np.array([2.5])).item() == 2.5


# --- truth values -------------------------------------------------------------------------
def test_truth_values_follow_numpy():
    assert ad.grad(lambda x: x * 3.0 if x else -x)(1.0) == 3.0
    assert ad.grad(lambda x: x * 3.0 if x else -x)(0.0) == -1.0
    assert bool(ad.Var(np.array([2.0]))) is True  # one element: its truth value, as NumPy
    assert bool(Dual(0.0, 1.0)) is False
    with pytest.raises(ad.ShapeError, match=r"the truth value of a Var of shape \(2,\) is ambiguous \(NumPy's rule\)"):
        ad.grad(lambda x: ad.sum(x) if x else 0.0)(np.ones(2))
    with pytest.raises(ValueError, match="ambiguous"):  # a ShapeError is a ValueError, as NumPy's is
        bool(ad.Var(np.ones((2, 2))))
    with pytest.raises(ad.ShapeError, match=r"shape \(0,\) is ambiguous"):
        bool(ad.Var(np.ones(0)))
    assert ad.grad(lambda x: x * 2.0 if x > 0.5 and x < 2.0 else x)(1.0) == 2.0


# --- comparisons ----------------------------------------------------------------------------
def test_equality_compares_values_as_numpy_jax_and_pytorch():
    assert ad.grad(lambda x: x * 2.0 if x == 1.0 else x)(1.0) == 2.0  # was 1.0: an identity comparison
    assert ad.grad(lambda x: x * 2.0 if x != 1.0 else x)(1.0) == 1.0
    assert ad.jvp(lambda x: x * 2.0 if x == 1.0 else x, (1.0,), (1.0,)) == (2.0, 2.0)
    a, b = ad.Var(1.0), ad.Var(1.0)
    assert (a == b) is True and (a != b) is False and (a == 2.0) is False
    eq = ad.Var(np.array([1.0, 2.0])) == np.array([1.0, 3.0])
    assert isinstance(eq, np.ndarray) and eq.dtype == bool and list(eq) == [True, False]
    # every comparison reads the values, consistently
    for x, y in ((1.0, 2.0), (2.0, 2.0), (3.0, 2.0)):
        for op in (operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne):
            assert op(ad.Var(x), y) == op(x, y) == op(ad.Var(x), ad.Var(y)) == op(Dual(x, 1.0), y) == op(x, ad.Var(y))


def test_vars_stay_hashable_by_identity():
    a, b = ad.Var(1.0), ad.Var(1.0)
    d = {a: "a", b: "b"}
    assert len(d) == 2 and d[a] == "a" and d[b] == "b"
    assert len({a, b, a}) == 2
    y = a * b + a
    y.backward()
    assert (a.grad, b.grad) == (2.0, 1.0)  # the sweep keys its dict by node: equal values stay apart


# --- overflow: one rule for floats and arrays ---------------------------------------------
OVERFLOW = r"the result overflows: it is larger than the largest float64, 1.798e\+308"


def test_overflow_is_the_same_clear_error_for_floats_and_arrays():
    for x in (1000.0, np.array([1.0, 1000.0])):
        with pytest.raises(ad.DomainError, match=r"exp: " + OVERFLOW + r" \(ad.logsumexp and ad.softmax"):
            ad.exp(x)
        with pytest.raises(ad.DomainError, match=r"exp: " + OVERFLOW):
            ad.grad(lambda x: ad.sum(ad.exp(x)))(x)
        with pytest.raises(ad.DomainError, match=r"pow: " + OVERFLOW):
            ad.grad(lambda x: ad.sum(x ** 400.0))(x * 0.01 + 9.0)
    # infinite inputs give infinite results (IEEE), for floats and arrays alike
    assert ad.exp(np.inf) == np.inf and list(ad.exp(np.array([np.inf, 0.0]))) == [np.inf, 1.0]
    assert ad.exp(-1000.0) == 0.0 and ad.exp(np.array([-1000.0]))[0] == 0.0  # underflow is not an error
    assert ad.logsumexp(np.array([1000.0, 0.0])) == 1000.0  # the stable way


# --- object arrays of Vars --------------------------------------------------------------------
def test_numpy_object_arrays_of_vars_keep_their_derivatives():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    x = np.array([2.0, 3.0])

    def check(f_ad, f_jx, at=x):
        np.testing.assert_allclose(ad.jacrev(f_ad)(at), jax.jacrev(f_jx)(at), rtol=1e-12)
        np.testing.assert_allclose(ad.jacfwd(f_ad)(at), jax.jacfwd(f_jx)(at), rtol=1e-12)

    check(lambda v: np.array([v[0] * v[1], v[1] ** 3]), lambda v: jnp.array([v[0] * v[1], v[1] ** 3]))
    check(lambda v: np.where(np.array([True, False]), v * v, 0), lambda v: jnp.where(np.array([True, False]), v * v, 0))
    check(lambda v: np.where(v > 2.5, v * v, v), lambda v: jnp.where(v > 2.5, v * v, v))
    check(lambda v: np.concatenate([v, v * v]), lambda v: jnp.concatenate([v, v * v]))
    check(lambda v: np.stack([v, v * v]), lambda v: jnp.stack([v, v * v]))
    check(lambda v: ad.sin(np.array([v[0], v[1] * v[0]])), lambda v: jnp.sin(jnp.array([v[0], v[1] * v[0]])))
    check(lambda v: np.sin(np.array([v[0], v[1] * v[0]])), lambda v: jnp.sin(jnp.array([v[0], v[1] * v[0]])))
    # a scalar output that is a 0-d object array
    assert ad.grad(lambda v: np.where(True, v * v, 0))(3.0) == 6.0
    assert ad.jvp(lambda v: np.where(True, v * v, 0), (3.0,), (1.0,)) == (9.0, 6.0)
    # second order through an object array
    np.testing.assert_allclose(ad.hessian(lambda v: ad.sum(np.array([v[0] * v[1], v[1] ** 3])))(x),
                               [[0.0, 1.0], [1.0, 18.0]])
    # a Python list of Vars given to an adteach function: NumPy makes it an object array, stacked too
    assert ad.grad(lambda v: ad.sum(ad.sin([v, v * v])))(1.0) == pytest.approx(3 * math.cos(1.0))
    # ... but a list beside a Var in an operation is refused, with the way out
    with pytest.raises(ad.ADTypeError, match=r"a list holding Vars would lose their derivatives: "
                                             r"combine them with ad.stack"):
        ad.grad(lambda v: ad.sum(v * [v, v]))(1.0)


def test_stack_backward_is_linear_in_the_number_of_values():
    """Counted, not timed: stack's rule receives its inputs as one list, so each input costs O(1)."""
    seen = []
    prim = ad.TABLE["stack"]
    original = prim.vjp

    def spy(g, i, xs, out):
        seen.append(type(xs))
        return original(g, i, xs, out=out)
    object.__setattr__(prim, "vjp", spy)
    try:
        xs = [ad.Var(float(k)) for k in range(200)]
        y = ad.sum(ad.stack(xs) ** 2)
        y.backward()
    finally:
        object.__setattr__(prim, "vjp", original)
    assert [x.grad for x in xs[:3]] == [0.0, 2.0, 4.0] and len(seen) == 200
    assert all(t is list for t in seen)  # one shared list, never n copies of n arguments


def test_grad_before_backward_is_none_as_documented():
    """``.grad`` is None until backward() (PyTorch's convention); testing.py and ipython.py rely on it."""
    x = ad.Var(2.0)
    assert x.grad is None
    (x * x).backward()
    assert x.grad == 4.0
    assert "None until" in ad.Var.__doc__
