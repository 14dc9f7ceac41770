"""The primitives of a backprop lecture: max/min reductions, minimum, concatenate, where,
logsumexp, softmax, log_softmax, stop_gradient and custom_vjp.

Oracle: JAX in float64 (a test-only dependency), for values and derivatives of
orders 1 to 3 in reverse mode, forward mode and their nestings, on 2-D inputs
with every ``axis`` and ``keepdims``; closed forms for stability and ties.
"""
import numpy as np
import pytest

import adteach as ad

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jnp = jax.numpy

rng = np.random.default_rng(3)
X = rng.normal(size=(2, 3))
V = rng.normal(size=(2, 3))
WEIGHTS = np.linspace(0.5, 1.5, 6).reshape(2, 3)


def close(a, b):
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-8, atol=1e-10)


def jax_oracle(f_jx, v):
    """JAX's value, gradient, Hessian, H v and d/dx <v, H v>, compiled once (eager JAX is slow)."""
    n = np.ndim(v)

    def all_of(x):
        H = jax.hessian(f_jx)(x)
        d3 = jax.grad(lambda y: jnp.vdot(jnp.tensordot(jax.hessian(f_jx)(y), v, axes=n), v))(x)
        return f_jx(x), jax.grad(f_jx)(x), H, jnp.tensordot(H, v, axes=n), d3
    return jax.jit(all_of)


def agree_with_jax(f_ad, f_jx, x=X, v=V, forward=True):
    """Value, gradient, Hessian (three ways) and third derivative along v, against JAX."""
    value, g, H, hv, d3 = (np.asarray(a) for a in jax_oracle(f_jx, v)(x))
    close(f_ad(x), value)
    close(ad.grad(f_ad)(x), g)
    close(ad.hessian(f_ad)(x), H)
    close(ad.grad(lambda y: ad.sum(ad.vjp(ad.grad(f_ad), y)[1](v)[0] * v))(x), d3)  # reverse^3
    if forward:
        close(ad.jvp(f_ad, (x,), (v,))[1], np.vdot(g, v))
        close(ad.jacfwd(ad.grad(f_ad))(x), H)
        close(ad.jacfwd(ad.jacfwd(f_ad))(x), H)
        close(ad.jvp(ad.grad(f_ad), (x,), (v,))[1], hv)
        close(ad.grad(lambda y: ad.sum(ad.jvp(ad.grad(f_ad), (y,), (v,))[1] * v))(x), d3)
        d2 = lambda y: ad.jvp(lambda z: ad.jvp(f_ad, (z,), (v,))[1], (y,), (v,))[1]
        close(ad.jvp(d2, (x,), (v,))[1], np.vdot(d3, v))


# Each case: (adteach function of an array, the same function in JAX). Nonlinear
# wrappers (sin, squares) make second and third derivatives non-trivial.
def _case(op_ad, op_jx):
    return (lambda x: ad.sum(ad.sin(op_ad(x * x + x)) * 1.0 + op_ad(x) ** 2),
            lambda x: jnp.sum(jnp.sin(op_jx(x * x + x)) * 1.0 + op_jx(x) ** 2))


CASES = {
    "max": _case(lambda x: ad.max(x), jnp.max),
    "max axis=0": _case(lambda x: ad.max(x, 0), lambda x: jnp.max(x, 0)),
    "max axis=1 keepdims": _case(lambda x: ad.max(x, axis=1, keepdims=True) * WEIGHTS,
                                 lambda x: jnp.max(x, axis=1, keepdims=True) * WEIGHTS),
    "max axis=(0, 1)": _case(lambda x: ad.max(x, (0, 1)), lambda x: jnp.max(x, (0, 1))),
    "min axis=-1": _case(lambda x: ad.min(x, -1), lambda x: jnp.min(x, -1)),
    "min keepdims": _case(lambda x: ad.min(x, 0, True) * WEIGHTS, lambda x: jnp.min(x, 0, keepdims=True) * WEIGHTS),
    "minimum": _case(lambda x: ad.minimum(x, 0.1 * WEIGHTS), lambda x: jnp.minimum(x, 0.1 * WEIGHTS)),
    "np.minimum": _case(lambda x: np.minimum(x, 0.1 * WEIGHTS), lambda x: jnp.minimum(x, 0.1 * WEIGHTS)),
    "logsumexp": _case(lambda x: ad.logsumexp(x), jax.nn.logsumexp),
    "logsumexp axis=0": _case(lambda x: ad.logsumexp(x, 0), lambda x: jax.nn.logsumexp(x, 0)),
    "logsumexp axis=1 keepdims": _case(lambda x: ad.logsumexp(x, 1, keepdims=True) * WEIGHTS,
                                       lambda x: jax.nn.logsumexp(x, 1, keepdims=True) * WEIGHTS),
    "softmax": _case(lambda x: ad.softmax(x) * WEIGHTS, lambda x: jax.nn.softmax(x) * WEIGHTS),
    "softmax axis=0": _case(lambda x: ad.softmax(x, axis=0) * WEIGHTS, lambda x: jax.nn.softmax(x, axis=0) * WEIGHTS),
    "log_softmax": _case(lambda x: ad.log_softmax(x) * WEIGHTS, lambda x: jax.nn.log_softmax(x) * WEIGHTS),
    "log_softmax axis=0": _case(lambda x: ad.log_softmax(x, 0) * WEIGHTS,
                                lambda x: jax.nn.log_softmax(x, 0) * WEIGHTS),
    "concatenate axis=0": _case(lambda x: ad.concatenate([x, x * x]) * np.arange(1.0, 4.0),
                                lambda x: jnp.concatenate([x, x * x]) * np.arange(1.0, 4.0)),
    "concatenate axis=1": _case(lambda x: ad.concatenate([x[:, :1] * 3.0, np.ones((2, 2)), x], axis=1),
                                lambda x: jnp.concatenate([x[:, :1] * 3.0, np.ones((2, 2)), x], axis=1)),
    "concatenate axis=-1": _case(lambda x: ad.concatenate((x, x), -1), lambda x: jnp.concatenate((x, x), -1)),
    "where": _case(lambda x: ad.where(X > 0, x * x, x), lambda x: jnp.where(X > 0, x * x, x)),
    "where broadcast": _case(lambda x: ad.where(np.array([True, False, True]), x[0], 2.0 * x),
                             lambda x: jnp.where(np.array([True, False, True]), x[0], 2.0 * x)),
    "where scalar branch": _case(lambda x: ad.where(X > 0, ad.sum(x), x),
                                 lambda x: jnp.where(X > 0, jnp.sum(x), x)),
    "stop_gradient": _case(lambda x: x * ad.stop_gradient(x), lambda x: x * jax.lax.stop_gradient(x)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_mode_and_order_agrees_with_jax(name):
    agree_with_jax(*CASES[name])


def test_scalar_inputs_work_in_every_mode():
    x, v = 0.3, 1.0
    agree_with_jax(lambda x: ad.sin(ad.logsumexp(x) * ad.max(x)) + ad.where(x > 0, x ** 3, 0.0),
                   lambda x: jnp.sin(jax.nn.logsumexp(x) * jnp.max(x)) + jnp.where(x > 0, x ** 3, 0.0), x, v)


def test_ties_split_the_gradient_evenly_as_in_jax():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, -1.0]])
    for axis in (None, 0, 1):
        close(ad.grad(lambda x: ad.sum(ad.max(x, axis)))(x), jax.grad(lambda x: jnp.sum(jnp.max(x, axis)))(x))
        close(ad.grad(lambda x: ad.sum(ad.min(x, axis)))(x), jax.grad(lambda x: jnp.sum(jnp.min(x, axis)))(x))
        close(ad.jacfwd(lambda x: ad.max(x, axis))(x), jax.jacfwd(lambda x: jnp.max(x, axis))(x))
    assert list(ad.grad(ad.max)(np.array([1.0, 3.0, 3.0]))) == [0.0, 0.5, 0.5]
    # elementwise minimum and maximum: 1/2 each at a tie, as jax.numpy
    assert ad.grad(lambda a: ad.minimum(a, 2.0))(2.0) == 0.5 == float(jax.grad(lambda a: jnp.minimum(a, 2.0))(2.0))


def test_max_min_methods_and_numpy_functions():
    x = ad.Var(np.array([1.0, 4.0, 2.0]))
    for y in (x.max(), np.max(x), ad.max(x)):
        y.backward()
        assert y.value == 4.0 and list(x.grad) == [0.0, 1.0, 0.0]
    y = np.min(x)
    y.backward()
    assert y.value == 1.0 and list(x.grad) == [1.0, 0.0, 0.0]
    with pytest.raises(ad.ADTypeError, match="max: adteach does not support the NumPy option"):
        np.max(x, initial=3.0)


def test_logsumexp_softmax_log_softmax_are_stable():
    assert ad.logsumexp(np.array([1000.0, 1000.0])) == pytest.approx(1000.0 + np.log(2.0), rel=1e-15)
    assert ad.logsumexp(np.array([-1000.0, -1000.0])) == pytest.approx(-1000.0 + np.log(2.0), rel=1e-15)
    s = ad.softmax(np.array([1000.0, 0.0]))
    assert not np.any(np.isnan(s)) and list(s) == [1.0, 0.0]
    ls = ad.log_softmax(np.array([1000.0, 0.0]))
    assert list(ls) == [0.0, -1000.0]
    g = ad.grad(lambda x: ad.logsumexp(x))(np.array([1000.0, 1000.0]))
    assert list(g) == [0.5, 0.5]
    g = ad.grad(lambda x: ad.sum(ad.log_softmax(x) * np.array([1.0, 0.0])))(np.array([1000.0, 0.0]))
    assert np.all(np.isfinite(g))
    # -inf entries take no part, as in JAX
    assert ad.logsumexp(np.array([-np.inf, 0.0])) == 0.0
    close(ad.grad(ad.logsumexp)(np.array([-np.inf, 0.0])), [0.0, 1.0])
    assert ad.logsumexp(np.array([-np.inf, -np.inf])) == -np.inf


def test_stop_gradient_is_a_constant_to_every_derivative():
    assert ad.grad(lambda x: x * ad.stop_gradient(x))(3.0) == 3.0
    assert ad.grad(ad.grad(lambda x: x * x * ad.stop_gradient(x)))(3.0) == 6.0
    assert ad.jvp(lambda x: ad.stop_gradient(x) * x, (2.0,), (1.0,)) == (4.0, 2.0)
    assert ad.grad(ad.stop_gradient)(1.0) == 0.0
    assert ad.stop_gradient(2.5) == 2.5


def test_structural_errors_name_the_operation():
    with pytest.raises(ad.ShapeError, match="concatenate: input 1 is a scalar.*ad.stack"):
        ad.grad(lambda x: ad.sum(ad.concatenate([x, x])))(1.0)
    with pytest.raises(ad.ShapeError, match="concatenate: needs at least one array"):
        ad.concatenate([])
    with pytest.raises(ad.ShapeError, match="concatenate"):
        ad.grad(lambda x: ad.sum(ad.concatenate([x, np.ones(2)], axis=0)))(np.ones((2, 2)))
    with pytest.raises(ad.ShapeError, match="max"):
        ad.grad(lambda x: ad.max(x, 3))(np.ones(2))
    with pytest.raises(ad.ShapeError, match="max"):
        ad.max(ad.Var(np.ones(0)))
    with pytest.raises(ad.ShapeError, match="where"):
        ad.where(np.array([True, False, True]), ad.Var(np.ones(2)), 0.0)
    with pytest.raises(ad.ADTypeError, match="axis must be None, an int or a tuple"):
        ad.sum(ad.max(ad.Var(np.ones(2)), axis="rows"))


def test_auxiliary_arguments_are_positional_and_never_differentiated():
    """shape, index and axis are given positionally as in NumPy; second and third order go through."""
    x = np.array([0.3, -0.7, 1.1])
    pairs = [
        (lambda x: ad.sum(ad.broadcast_to(x, (2, 3)) ** 3), lambda x: jnp.sum(jnp.broadcast_to(x, (2, 3)) ** 3)),
        (lambda x: ad.getitem(x, 1) ** 3 + ad.getitem(x, slice(0, 2)).sum() ** 2,
         lambda x: x[1] ** 3 + jnp.sum(x[0:2]) ** 2),
        (lambda x: ad.sum(ad.reshape(x, (3, 1)) ** 3), lambda x: jnp.sum(jnp.reshape(x, (3, 1)) ** 3)),
        (lambda x: ad.sum(ad.sum(ad.broadcast_to(x, (2, 3)), 0) ** 3),
         lambda x: jnp.sum(jnp.sum(jnp.broadcast_to(x, (2, 3)), 0) ** 3)),
        (lambda x: ad.sum(ad.mean(ad.broadcast_to(x, (2, 3)), 1) ** 3),
         lambda x: jnp.sum(jnp.mean(jnp.broadcast_to(x, (2, 3)), 1) ** 3)),
        (lambda x: ad.sum(ad.transpose(ad.reshape(x, (1, 3)), (1, 0)) ** 3),
         lambda x: jnp.sum(jnp.transpose(jnp.reshape(x, (1, 3)), (1, 0)) ** 3)),
        (lambda x: ad.sum(ad.stack([x[0], x[2], x[0] * x[1]]) ** 3),
         lambda x: jnp.sum(jnp.stack([x[0], x[2], x[0] * x[1]]) ** 3)),
        (lambda x: ad.sum(ad.sum(x) ** 2), lambda x: jnp.sum(x) ** 2),
    ]
    v = np.array([1.0, 0.5, -2.0])
    for f_ad, f_jx in pairs:
        agree_with_jax(f_ad, f_jx, x, v)


# --- custom_vjp ---------------------------------------------------------------------
@ad.custom_vjp
def clip_gradient(x):
    return x


def _clip_fwd(x):
    return x, None


def _clip_bwd(res, g):
    return (np.clip(g, -1.0, 1.0),)


clip_gradient.defvjp(_clip_fwd, _clip_bwd)


@ad.custom_vjp
def softplus(x):
    return ad.log(1.0 + ad.exp(x))


def _softplus_fwd(x):
    return softplus(x), x  # the function itself may be called inside fwd, as in JAX's examples


def _softplus_bwd(x, g):
    return (g * ad.sigmoid(x),)


softplus.defvjp(_softplus_fwd, _softplus_bwd)


@ad.custom_vjp
def scaled_product(a, b):
    return a * b


def _sp_fwd(a, b):
    return a * b, (a, b)


def _sp_bwd(res, g):
    a, b = res
    return (g * b, None)  # None: a zero cotangent for b (a custom rule may drop one)


scaled_product.defvjp(_sp_fwd, _sp_bwd)


def test_custom_vjp_clips_the_gradient_as_in_jax():
    @jax.custom_vjp
    def clip_jx(x):
        return x
    clip_jx.defvjp(lambda x: (x, None), lambda res, g: (jnp.clip(g, -1.0, 1.0),))
    assert clip_gradient(2.0) == 2.0  # plain numbers: the function itself
    assert ad.grad(lambda x: clip_gradient(x) * 5.0)(2.0) == 1.0
    x = np.array([0.2, 3.0, -4.0])
    f_ad = lambda x: ad.sum(clip_gradient(x * x) * 0.9)
    f_jx = lambda x: jnp.sum(clip_jx(x * x) * 0.9)
    close(ad.grad(f_ad)(x), jax.grad(f_jx)(x))
    close(ad.jacrev(lambda x: clip_gradient(x) * 3.0)(x), jax.jacrev(lambda x: clip_jx(x) * 3.0)(x))
    out, pullback = ad.vjp(clip_gradient, x)
    close(out, x)
    close(pullback(np.array([0.5, 2.0, -3.0]))[0], [0.5, 1.0, -1.0])


def test_custom_vjp_residuals_stay_differentiable_for_higher_order():
    x = np.array([0.5, -1.0])
    f_jx = lambda x: jnp.sum(jax.nn.softplus(x) ** 2)
    f_ad = lambda x: ad.sum(softplus(x) ** 2)
    close(ad.grad(f_ad)(x), jax.grad(f_jx)(x))
    close(ad.hessian(f_ad)(x), jax.hessian(f_jx)(x))
    close(ad.jacrev(ad.hessian(f_ad))(x), jax.jacrev(jax.hessian(f_jx))(x))
    assert ad.grad(ad.grad(ad.grad(softplus)))(0.5) == pytest.approx(float(jax.grad(jax.grad(jax.grad(
        jax.nn.softplus)))(0.5)), rel=1e-12)
    x = ad.Var(0.5)  # .backward() on a Var works too
    softplus(x).backward()
    assert x.grad == pytest.approx(1.0 / (1.0 + np.exp(-0.5)))


def test_custom_vjp_with_two_inputs_and_a_none_cotangent():
    assert scaled_product(2.0, 3.0) == 6.0
    assert ad.grad(scaled_product, argnums=(0, 1))(2.0, 3.0) == (3.0, 0.0)
    g = ad.grad(lambda a, b: ad.sum(scaled_product(a, b)), argnums=(0, 1))(np.ones(2), np.array([2.0, 5.0]))
    close(g[0], [2.0, 5.0])
    close(g[1], [0.0, 0.0])


def test_custom_vjp_bwd_runs_once_per_adjoint():
    calls = []

    @ad.custom_vjp
    def f(a, b):
        return a * b
    f.defvjp(lambda a, b: (a * b, (a, b)), lambda res, g: calls.append(1) or (g * res[1], g * res[0]))
    assert ad.grad(f, argnums=(0, 1))(2.0, 3.0) == (3.0, 2.0)
    assert len(calls) == 1


def test_custom_vjp_refuses_forward_mode_and_bad_rules_clearly():
    with pytest.raises(ad.ADError, match="custom_vjp softplus: it has a reverse-mode rule only.*jvp, jacfwd.*"
                                         "use grad, vjp or jacrev"):
        ad.jvp(softplus, (1.0,), (1.0,))
    with pytest.raises(ad.ADError, match="reverse-mode rule only"):
        ad.jacfwd(lambda x: softplus(x))(np.ones(2))
    with pytest.raises(ad.ADError, match="reverse-mode rule only"):
        ad.jvp(ad.grad(softplus), (1.0,), (1.0,))

    @ad.custom_vjp
    def no_rule(x):
        return x
    assert no_rule(1.0) == 1.0
    with pytest.raises(ad.ADError, match=r"custom_vjp no_rule: call no_rule.defvjp\(fwd, bwd\) before"):
        ad.grad(no_rule)(1.0)

    @ad.custom_vjp
    def bare(x):
        return x
    bare.defvjp(lambda x: (x, None), lambda res, g: g)
    with pytest.raises(ad.ADTypeError, match=r"bwd must return a tuple with one cotangent per input \(1\), "
                                             r"got a float \(write `return \(g,\)` for one input\)"):
        ad.grad(bare)(1.0)

    @ad.custom_vjp
    def not_a_pair(x):
        return x
    not_a_pair.defvjp(lambda x: x, lambda res, g: (g,))
    with pytest.raises(ad.ADTypeError, match=r"fwd must return a pair \(output, residuals\)"):
        ad.grad(not_a_pair)(1.0)

    @ad.custom_vjp
    def wrong_shape(x):
        return ad.sum(x)
    wrong_shape.defvjp(lambda x: (ad.sum(x), None), lambda res, g: (g,))
    with pytest.raises(ad.ShapeError, match=r"bwd's cotangent 1 has shape \(\) but input 1 has shape \(2,\)"):
        ad.grad(wrong_shape)(np.ones(2))
    with pytest.raises(ad.ADTypeError, match="pass the inputs positionally"):
        ad.grad(lambda x: softplus(x=x))(1.0)
    with pytest.raises(ad.ADTypeError, match="defvjp"):
        bare.defvjp(1, 2)
