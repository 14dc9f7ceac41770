"""Transforms on containers (pytrees), has_aux, keyword arguments, JAX's input rules, check_grad.

Oracles: closed forms and adteach's own central differences (``numerical_grad``),
leaf by leaf, so a container result is checked element by element.
"""
from collections import namedtuple

import numpy as np
import pytest

import adteach as ad

rng = np.random.default_rng(0)
W = rng.normal(size=(3, 2))
B = rng.normal(size=3)
X = rng.normal(size=2)


def loss(p, x, scale=1.0):
    return scale * ad.sum(ad.tanh(p["W"] @ x + p["b"]) ** 2)


def numeric_leaf(f, tree, key):
    """Central differences of f with respect to tree[key] alone."""
    def g(v):
        return f({**tree, key: v})
    return ad.numerical_grad(g, tree[key])


def test_grad_of_a_dict_gives_a_dict_of_gradients():
    params = {"W": W, "b": B}
    g = ad.grad(loss)(params, X)
    assert set(g) == {"W", "b"} and g["W"].shape == W.shape and g["b"].shape == B.shape
    for key in params:
        np.testing.assert_allclose(g[key], numeric_leaf(lambda p: loss(p, X), params, key), rtol=1e-6, atol=1e-9)


def test_keyword_arguments_pass_through_and_are_not_differentiated():
    params = {"W": W, "b": B}
    g1 = ad.grad(loss)(params, X)
    g2 = ad.grad(loss)(params, X, scale=2.5)
    for key in params:
        np.testing.assert_allclose(g2[key], 2.5 * g1[key])
    value, g3 = ad.value_and_grad(loss)(params, X, scale=2.5)
    assert value == pytest.approx(2.5 * float(np.sum(np.tanh(W @ X + B) ** 2)))


def test_lists_tuples_and_namedtuples_of_arrays():
    ps = [np.arange(3.0), np.ones((2, 2))]
    g = ad.grad(lambda ps: ad.sum(ps[0] ** 2) + ad.sum(ps[1] * 3.0))(ps)
    assert isinstance(g, list)
    np.testing.assert_allclose(g[0], 2 * np.arange(3.0))
    np.testing.assert_allclose(g[1], 3 * np.ones((2, 2)))
    Layer = namedtuple("Layer", "w b")
    g = ad.grad(lambda layer: layer.w * layer.w * layer.b)(Layer(2.0, 3.0))
    assert type(g) is Layer and g == Layer(12.0, 4.0)
    # a list of plain numbers is an array, as NumPy reads it
    g = ad.grad(lambda v: ad.sum(v * v))([1.0, 2.0])
    assert isinstance(g, np.ndarray) and list(g) == [2.0, 4.0]


def test_has_aux():
    def f(x):
        y = x * x
        return y, {"half": y / 2, "label": "square"}
    g, aux = ad.grad(f, has_aux=True)(3.0)
    assert g == 6.0 and aux == {"half": 4.5, "label": "square"}
    (value, aux), g = ad.value_and_grad(f, has_aux=True)(3.0)
    assert (value, g, aux["half"]) == (9.0, 6.0, 4.5)
    value, pullback, aux = ad.vjp(f, 3.0, has_aux=True)
    assert value == 9.0 and pullback(1.0) == (6.0,) and aux["half"] == 4.5
    value, tangent, aux = ad.jvp(f, (3.0,), (1.0,), has_aux=True)
    assert (value, tangent, aux["half"]) == (9.0, 6.0, 4.5)
    def square(x):
        return x * x
    with pytest.raises(ad.ADTypeError, match=r"grad\(square, has_aux=True\) needs square to return a pair "
                                             r"\(output, aux\), but it returned Var"):
        ad.grad(square, has_aux=True)(1.0)


def test_vjp_of_tuple_and_dict_outputs_is_the_weighted_sum():
    def f(a):
        return a * 2.0, {"s": ad.sum(a * a)}
    a = np.array([1.0, -2.0, 0.5])
    value, pullback = ad.vjp(f, a)
    np.testing.assert_allclose(value[0], 2 * a)
    assert value[1]["s"] == pytest.approx(float(np.sum(a * a)))
    u, w = np.array([0.3, 0.2, -1.0]), 1.5
    (ct,) = pullback((u, {"s": w}))
    np.testing.assert_allclose(ct, 2 * u + w * 2 * a)  # J1^T u + J2^T w
    # before this fix a tuple output gave a zero cotangent
    assert np.any(ct != 0)


def test_vjp_seed_must_match_the_output():
    _, pullback = ad.vjp(lambda a: (a, a * a), 2.0)
    with pytest.raises(ad.ShapeError, match=r"the seed must have the output's structure, a tuple of 2, "
                                            r"but it is a single value"):
        pullback(1.0)
    _, pullback = ad.vjp(lambda a: a * 2, np.ones(3))
    with pytest.raises(ad.ShapeError, match=r"the seed has shape \(2,\) but the output has shape \(3,\)"):
        pullback(np.ones(2))


def test_jvp_of_a_dict_output_and_container_inputs():
    value, tangent = ad.jvp(lambda a: {"y": a * 3.0, "z": ad.sin(a)}, (2.0,), (1.0,))
    assert value == {"y": 6.0, "z": pytest.approx(np.sin(2.0))}
    assert tangent == {"y": 3.0, "z": pytest.approx(np.cos(2.0))}
    params = {"W": W, "b": B}
    dW, db = rng.normal(size=W.shape), rng.normal(size=B.shape)
    _, t = ad.jvp(lambda p: loss(p, X), (params,), ({"W": dW, "b": db},))
    g = ad.grad(loss)(params, X)
    assert t == pytest.approx(float(np.sum(g["W"] * dW) + np.sum(g["b"] * db)))


def test_jacobians_of_containers_agree_and_nest_like_jax():
    def f(p):
        return {"y": p["a"] * p["b"], "z": ad.sin(p["a"])}
    p = {"a": 2.0, "b": 3.0}
    for jac in (ad.jacrev, ad.jacfwd):
        J = jac(f)(p)
        assert J["y"] == {"a": 3.0, "b": 2.0}
        assert J["z"]["a"] == pytest.approx(np.cos(2.0)) and J["z"]["b"] == 0.0
    H = ad.hessian(lambda p: p["a"] ** 2 * p["b"])(p)
    assert H == {"a": {"a": 6.0, "b": 4.0}, "b": {"a": 4.0, "b": 0.0}}
    # array output from a tuple of differently shaped arrays: one Jacobian each
    Jy, Jz = ad.jacrev(lambda a: (a * 2.0, ad.sum(a)))(np.ones(2))
    np.testing.assert_allclose(Jy, 2 * np.eye(2))
    np.testing.assert_allclose(Jz, np.ones(2))
    # a list of scalars is still one vector output (lesson 4's F)
    J = ad.jacfwd(lambda x: [x[0] * x[1], x[0]])(np.array([2.0, 3.0]))
    np.testing.assert_allclose(J, [[3.0, 2.0], [1.0, 0.0]])


def test_hessian_vector_product_with_dict_params_forward_over_reverse():
    params = {"W": W, "b": B}
    v = {"W": rng.normal(size=W.shape), "b": rng.normal(size=B.shape)}
    _, hvp = ad.jvp(lambda p: ad.grad(loss)(p, X), (params,), (v,))
    # oracle: central difference of the gradient along v
    eps = 1e-5
    plus = ad.grad(loss)({k: params[k] + eps * v[k] for k in params}, X)
    minus = ad.grad(loss)({k: params[k] - eps * v[k] for k in params}, X)
    for k in params:
        np.testing.assert_allclose(hvp[k], (plus[k] - minus[k]) / (2 * eps), rtol=1e-5, atol=1e-8)


def test_jax_rules_for_primals_with_clear_errors():
    with pytest.raises(ad.ADTypeError, match=r"jvp: primals must be a tuple or list with one entry per "
                                             r"argument of sin, e.g. jvp\(f, \(x,\), \(v,\)\); got ndarray"):
        ad.jvp(ad.sin, np.ones(2), np.ones(2))
    with pytest.raises(ad.ShapeError, match=r"argument 1 is a dict with keys \['a'\] but its tangent is a "
                                            r"single value"):
        ad.jvp(lambda p: p["a"], ({"a": 1.0},), (1.0,))
    with pytest.raises(ad.ADTypeError, match=r"grad\(f\): argument 1 \(x\): adteach works with numbers and "
                                             r"NumPy arrays, not str"):
        def f(x):
            return x
        ad.grad(f)("x")
    with pytest.raises(ad.ADTypeError, match=r"grad\(g\): argument 1 \(p\['b'\]\): adteach works with numbers and NumPy "
                                             r"arrays, not NoneType"):
        def g(p):
            return p["a"]
        ad.grad(g)({"a": 1.0, "b": None})
    # one number per scalar argument, as a row of np.eye(n), is accepted
    assert [ad.jvp(lambda x, y: x * y, (3.0, 2.0), e)[1] for e in np.eye(2)] == [2.0, 3.0]


def test_check_grad_scales_its_step_and_prints_it():
    h0 = np.cbrt(np.finfo(float).eps) * 1000.0  # 6.06e-3: the first step tried, scaled to |x|
    report = ad.check_grad(lambda x: ad.sin(x), 1000.0)
    assert report
    candidates = [h0 * 10.0 ** -j for j in range(4)]
    assert any(report.steps[0] == pytest.approx(h) for h in candidates), report.steps
    assert f"{report.steps[0]:.1e}" in str(report)
    small = ad.check_grad(lambda x: ad.sin(x), 0.001)  # below 1 the scale is 1
    assert any(small.steps[0] == pytest.approx(h / 1000.0) for h in candidates), small.steps


def test_check_grad_tells_numerical_error_from_a_mismatch():
    # the first steps leave log's domain; the estimate at a tiny step carries truncation error
    near_edge = ad.check_grad(lambda x: ad.log(x), 1e-9)
    assert near_edge, str(near_edge)
    assert near_edge.errors[0]["status"] in ("ok", "ok (numerical error)")
    # round-off dominated: f is huge, the step cannot resolve it to rtol
    big = ad.check_grad(lambda x: 1e12 * ad.sin(x), 1e6)
    assert big, str(big)
    assert big.errors[0]["status"] in ("ok", "ok (numerical error)")
    # a real mismatch is still one (test_core.py::test_check_grad_catches_a_wrong_derivative too):
    # reverse and forward mode of a non-differentiable point disagree with the numerical slope
    kink = ad.check_grad(lambda x: ad.relu(x - 1.0) * 100.0, 1.0)  # a kink: 0 or 100 on either side
    assert not kink and kink.errors[0]["status"] == "MISMATCH", str(kink)
    assert "GRADIENTS DISAGREE" in str(kink)


def test_check_grad_reports_instead_of_crashing_where_the_derivative_is_undefined():
    report = ad.check_grad(lambda x: ad.sqrt(x), 0.0)
    assert not report
    assert report.errors[0]["status"] == "not checked"
    assert "sqrt: the derivative is undefined at 0" in str(report)
    assert "could not check every input" in str(report)


def _sines(x, n):
    for _ in range(n):
        x = ad.sin(x)
    return x


def test_the_cycle_collector_waits_while_a_graph_grows_and_is_restored_after_the_sweep():
    import gc
    from adteach import collector
    collector.restore()
    before = gc.get_threshold()
    x = ad.Var(0.5)
    y = ad.sin(x) * x
    assert gc.get_threshold() == before  # a small graph is not worth raising them for
    y.backward()
    assert gc.get_threshold() == before and x.grad == pytest.approx(np.cos(0.5) * 0.5 + np.sin(0.5))
    y = _sines(x, 2 * collector.START)  # (START operations from the first, or fewer: the count may be running)
    assert gc.get_threshold()[0] == before[0] * collector.FACTOR and gc.isenabled()
    y.backward()
    assert gc.get_threshold() == before
    # a small graph stays young: the usual young collection scans it (and any garbage made meanwhile)
    assert not any(o is y for o in gc.get_objects(generation=2))
    # a large one (collector.MOVE_AT objects or more) joins the oldest generation unscanned: the next
    # allocation does not set off a pass over the whole graph (which would leave it in the middle one)
    big = _sines(x, collector.MOVE_AT // 2)
    big.backward()
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    assert any(o is big for o in gc.get_objects(generation=2))
    del big
    assert ad.grad(lambda t: t * t)(3.0) == 6.0
    assert gc.get_threshold() == before  # a transform ends with a sweep too
    keep = [object() for _ in range(3)]
    gc.freeze()  # a program that froze its own objects (before forking, say) keeps them frozen
    try:
        frozen = gc.get_freeze_count()
        (ad.Var(1.0) * 2.0).backward()
        assert gc.get_freeze_count() == frozen and gc.get_threshold() == before
    finally:
        gc.unfreeze()
        del keep
    gc.set_threshold(0)  # a program that switched automatic collection off keeps it off
    try:
        z = ad.Var(1.0) * 2.0
        assert gc.get_threshold()[0] == 0
        z.backward()
        assert gc.get_threshold()[0] == 0
    finally:
        gc.set_threshold(*before)


class _Cycle:
    """Garbage as user code makes it: an object that refers to itself, holding an array."""
    def __init__(self):
        self.me, self.data = self, np.zeros(10_000)


@pytest.mark.parametrize("size", ["small graphs", "large graphs", "evaluation only"])
def test_cyclic_garbage_made_beside_a_training_loop_is_collected(size):
    """Each step leaves one reference cycle behind; the cycle collector must still free them.

    (It once did not: the end of each sweep moved every young object, such garbage included, into the
    oldest generation, where CPython never looked again: 3 MB a step, 1.8 GB after 600 steps.)
    """
    import gc
    import weakref
    from adteach import collector
    gc.collect()
    n_ops = {"small graphs": 3, "large graphs": collector.MOVE_AT // 2,  # (three objects per operation)
             "evaluation only": collector.PERIOD // 8}[size]  # (no backward: the thresholds come back when y is dropped)
    steps = 40
    left, history = [], []
    w = ad.Var(0.3)
    for _ in range(steps):
        left.append(weakref.ref(_Cycle()))  # dropped at once: garbage only the cycle collector can free
        y = w
        for _ in range(n_ops):
            y = ad.sin(y) * 0.999
        if size != "evaluation only":
            y.backward()
        del y
        history.append([[0.0] for _ in range(1000)])  # other objects a loop keeps (what makes CPython collect)
    alive = sum(r() is not None for r in left)
    assert alive < steps // 2, f"{alive} of {steps} cycles are still alive after {steps} steps"
    gc.collect()
    assert sum(r() is not None for r in left) == 0


def test_the_collector_respects_what_the_program_set():
    """A large first threshold (its product with FACTOR would not fit gc.set_threshold), a collector switched
    off, objects the program froze itself: recording works, and each is as the program left it."""
    import gc
    from adteach import collector
    collector.restore()
    before = gc.get_threshold()
    try:
        gc.set_threshold(250_000, *before[1:])  # 250,000 x 10,000 > 2**31 - 1
        assert ad.grad(lambda t: _sines(t, 2 * collector.START) * 0.0 + ad.sin(t) * t)(0.5) == pytest.approx(
            np.cos(0.5) * 0.5 + np.sin(0.5))  # (a graph large enough to raise them)
        assert gc.get_threshold() == (250_000, *before[1:])
        gc.set_threshold(*before)
        gc.disable()
        full = gc.get_stats()[2]["collections"]
        for _ in range(3):
            y = ad.Var(0.3)
            for _ in range(collector.PERIOD * 2):
                y = ad.sin(y)
            y.backward()
        assert not gc.isenabled() and gc.get_threshold() == before
        assert gc.get_stats()[2]["collections"] == full  # no collection while the program keeps it off
    finally:
        gc.enable()
        gc.set_threshold(*before)


def test_the_collector_waits_only_while_the_graph_lives():
    """With no sweep at the end (evaluation only, a pullback never called, a forward pass that raised), the
    thresholds are back once the graph is dropped (they once stayed raised for the rest of the process)."""
    import gc
    from adteach import collector
    collector.restore()
    before = gc.get_threshold()
    n = 2 * collector.START
    y = _sines(ad.Var(0.5), n)
    assert gc.get_threshold()[0] == before[0] * collector.FACTOR
    del y
    assert gc.get_threshold() == before
    out, pullback = ad.vjp(lambda t: ad.sum(_sines(t, n)), np.ones(3))
    assert gc.get_threshold()[0] == before[0] * collector.FACTOR
    del out, pullback
    assert gc.get_threshold() == before
    with pytest.raises(ad.DomainError):
        ad.grad(lambda t: ad.log(_sines(t, n) - 1.0))(0.5)
    assert gc.get_threshold() == before
    long = _sines(ad.Var(0.5), collector.PERIOD + 10)  # a graph that outlives the looks: the latest node looked at counts
    assert gc.get_threshold()[0] == before[0] * collector.FACTOR
    del long
    assert gc.get_threshold() == before


def test_threads_recording_at_once_leave_the_thresholds_as_they_were(monkeypatch):
    import gc
    from adteach import collector
    from test_core import run_threads_switching_often
    collector.restore()
    before = gc.get_threshold()
    errors = []

    def work():
        try:
            for _ in range(5000):
                x = ad.Var(0.5)
                (x * x + x).backward()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
    monkeypatch.setattr(collector, "START", 1)  # every graph of two operations raises them: as many raises as can be
    run_threads_switching_often([work] * 4)
    assert errors == [] and gc.get_threshold() == before


def test_transforms_leave_no_cyclic_garbage():
    """grad, jvp, vjp, jacfwd, hessian and backward free everything by reference counting alone
    (a recursive closure in the pytree code once made a cycle per call that kept the leaves alive)."""
    import gc
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        ad.grad(lambda d: ad.sum(d["W"] ** 2) + d["b"][0])({"W": np.ones((2, 2)), "b": [1.0, 2.0]})
        ad.value_and_grad(lambda a, b: ad.sum(a * b), argnums=(0, 1))(np.ones(3), np.ones(3))
        ad.jvp(lambda t: (t * 2, {"s": ad.sin(t)}), (1.0,), (1.0,))
        ad.vjp(lambda t: [t, t * t], np.ones(2))[1]([np.ones(2), np.ones(2)])
        ad.jacfwd(ad.sin)(np.ones(2)), ad.hessian(lambda v: ad.sum(v) ** 2)(np.ones(2))
        x = ad.Var(1.0)
        (ad.sin(x) * x).backward()
        gc.collect()
        assert [type(o).__name__ for o in gc.garbage] == []
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


def test_recording_is_per_thread():
    """One thread inside a transform does not make another thread's grad record a nested graph."""
    import threading
    from adteach import transforms

    inside, done = threading.Event(), threading.Event()

    def outer():
        with transforms.recording():
            inside.set()
            done.wait(10)

    t = threading.Thread(target=outer)
    t.start()
    inside.wait(10)
    try:
        assert transforms._recording() == 0
        g = ad.grad(lambda x: x * x)(3.0)
        assert g == 6.0 and type(g) is float  # a plain number, not a Var of a recorded backward pass
    finally:
        done.set()
        t.join()
