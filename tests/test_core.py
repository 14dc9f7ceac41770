"""Behaviour of the core: every primitive, both modes, higher order, arrays, errors."""
import gc
import subprocess
import sys
import weakref

import numpy as np
import pytest

import adteach as ad

rng = np.random.default_rng(0)

# Sample inputs for every primitive of the table: (args, aux). Adding a primitive
# to adteach/primitives.py without adding it here fails test_every_primitive_is_tested.
SAMPLES = {
    "add": ((0.7, -1.3), {}), "sub": ((0.7, -1.3), {}), "mul": ((0.7, -1.3), {}),
    "div": ((0.7, -1.3), {}), "neg": ((0.7,), {}), "pow": ((1.7, 2.3), {}),
    "exp": ((0.7,), {}), "log": ((1.7,), {}), "sin": ((0.7,), {}), "cos": ((0.7,), {}),
    "tan": ((0.7,), {}), "tanh": ((0.7,), {}), "sqrt": ((1.7,), {}), "abs": ((-0.7,), {}),
    "sigmoid": ((0.7,), {}), "relu": ((0.7,), {}), "maximum": ((0.7, 0.2), {}),
    "identity": ((0.7,), {}),
    "sum": ((rng.standard_normal((2, 3)),), {"axis": 1}),
    "mean": ((rng.standard_normal((2, 3)),), {"axis": 0}),
    "matmul": ((rng.standard_normal((2, 3)), rng.standard_normal(3)), {}),
    "reshape": ((rng.standard_normal((2, 3)),), {"shape": (3, 2)}),
    "transpose": ((rng.standard_normal((2, 3)),), {"axes": (1, 0)}),
    "broadcast_to": ((rng.standard_normal(3),), {"shape": (2, 3)}),
    "getitem": ((rng.standard_normal((2, 3)),), {"index": (1, slice(0, 2))}),
    "scatter": ((rng.standard_normal(2),), {"index": (1, slice(0, 2)), "shape": (2, 3)}),
    "stack": ((0.7, -1.3, 2.0), {}),
    "minimum": ((0.7, 0.2), {}),
    "max": ((rng.standard_normal((2, 3)),), {"axis": 1, "keepdims": False}),
    "min": ((rng.standard_normal((2, 3)),), {"axis": 0, "keepdims": True}),
    "logsumexp": ((rng.standard_normal((2, 3)),), {"axis": 1, "keepdims": False}),
    "softmax": ((rng.standard_normal((2, 3)),), {"axis": 0}),
    "log_softmax": ((rng.standard_normal((2, 3)),), {"axis": -1}),
    "concatenate": ((rng.standard_normal((2, 3)), rng.standard_normal((1, 3))), {"axis": 0}),
    "where": ((rng.standard_normal((2, 3)), rng.standard_normal(3)), {"cond": rng.random((2, 3)) < 0.5}),
    "stop_gradient": ((0.7,), {}),  # its derivative is 0 on purpose: tested in test_primitives_more.py
}
NOT_NUMERIC = {"stop_gradient"}  # a derivative that differs from the function's on purpose


def test_every_primitive_is_tested():
    assert set(ad.TABLE) == set(SAMPLES)


def _weighted(prim, aux, weights):
    """A scalar function of the primitive's inputs: sum(w * prim(*args))."""
    return lambda *args: ad.sum(weights * ad.primitives.apply(prim, *args, **aux))


@pytest.mark.parametrize("name", sorted(set(SAMPLES) - NOT_NUMERIC))
def test_primitive_reverse_forward_numeric_agree(name):
    prim = ad.TABLE[name]
    args, aux = SAMPLES[name]
    out = prim.fn(*args, **aux)
    weights = np.linspace(0.5, 1.5, np.size(out)).reshape(np.shape(out)) if np.ndim(out) else 1.3
    f = _weighted(prim, aux, weights)
    report = ad.check_grad(f, *args)
    assert report.ok, str(report)
    # second derivatives too: grad of grad equals the numerical derivative of grad
    if all(np.ndim(a) == 0 for a in args) and name not in ("relu", "abs", "maximum", "minimum"):
        for i in range(len(args)):
            g = ad.grad(f, argnums=i)
            for j in range(len(args)):
                exact = ad.grad(g, argnums=j)(*args)
                numeric = ad.numerical_grad(g, *args, argnums=j)
                assert exact == pytest.approx(numeric, rel=1e-5, abs=1e-6), (name, i, j)


def test_deep_chain_is_iterative_and_frees_without_the_cycle_collector():
    x = ad.Var(0.5)
    y = x
    for _ in range(100_000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == 1.0
    probe = weakref.ref(y.parents[0])
    gc.disable()
    try:
        del y
        assert probe() is None  # freed by reference counting alone: no cycles
    finally:
        gc.enable()


def test_no_reference_cycles_in_a_graph():
    gc.collect()
    gc.disable()
    try:
        x = ad.Var(np.ones(3))
        y = ad.sum(ad.tanh(x * 2.0) @ np.ones(3))
        y.backward(create_graph=True)
        probe = weakref.ref(y)
        del y, x
        assert probe() is None
    finally:
        gc.enable()


def test_reuse_and_every_node_keeps_its_grad():
    x = ad.Var(3.0, name="x")
    y = x * x
    z = y + x
    z.backward()
    assert x.grad == 7.0 and y.grad == 1.0 and z.grad == 1.0


def test_backward_twice_replaces_accumulate_adds_zero_grad_zeroes():
    x = ad.Var(2.0)
    y = x ** 3
    y.backward()
    y.backward()
    assert x.grad == 12.0  # documented: backward() replaces, so twice = once
    y.backward(accumulate=True)
    assert x.grad == 24.0
    y.zero_grad()
    assert x.grad == 0.0 and y.grad == 0.0


def test_higher_order_by_tracing_the_backward_pass():
    assert ad.grad(ad.grad(lambda x: x ** 3))(2.0) == 12.0
    assert ad.grad(ad.grad(ad.grad(lambda x: x ** 3)))(2.0) == 6.0
    x = ad.Var(2.0, name="x")
    y = x ** 3
    y.backward(create_graph=True)
    g = x.grad
    assert isinstance(g, ad.Var) and g.value == 12.0
    g.backward()
    assert x.grad == 12.0  # d(3x^2)/dx at 2


def test_hessian_is_exact():
    f = lambda x, y: x ** 2 * y + ad.sin(x * y)
    H = ad.hessian(f, argnums=(0, 1))(0.3, 0.7)
    s = np.sin(0.21)
    expected = [[2 * 0.7 - 0.49 * s, 2 * 0.3 + np.cos(0.21) - 0.21 * s], [None, -0.09 * s]]
    expected[1][0] = expected[0][1]
    assert np.allclose(np.array(H, dtype=float), np.array(expected, dtype=float), rtol=1e-13, atol=0)
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    assert np.allclose(ad.hessian(lambda v: 0.5 * v @ (A @ v))(np.array([1.0, -1.0])), A)


def test_jacobians_column_by_column_and_row_by_row():
    def g(x):
        return [x[0] * x[1], ad.sin(x[0]) + x[2], ad.exp(x[2]) * x[1]]
    x = np.array([0.5, -1.0, 0.25])
    J = np.array([[x[1], x[0], 0], [np.cos(x[0]), 0, 1], [0, np.exp(x[2]), np.exp(x[2]) * x[1]]])
    assert np.allclose(ad.jacfwd(g)(x), J) and np.allclose(ad.jacrev(g)(x), J)
    W = rng.standard_normal((4, 3))
    h = lambda v: ad.tanh(W @ v)
    assert ad.jacfwd(h)(x).shape == (4, 3)
    assert np.allclose(ad.jacfwd(h)(x), ad.jacrev(h)(x))


def test_broadcasting_both_directions_sums_gradients_back():
    a = rng.standard_normal((3, 1))
    b = rng.standard_normal((1, 4))
    f = lambda a, b: ad.sum((a * b + a - b) ** 2)
    ga, gb = ad.grad(f, argnums=(0, 1))(a, b)
    assert ga.shape == (3, 1) and gb.shape == (1, 4)
    assert ad.check_grad(f, a, b)
    s = lambda x, v: ad.mean(ad.sigmoid(x + v))  # scalar + array
    gx, gv = ad.grad(s, argnums=(0, 1))(0.3, np.arange(5.0))
    assert np.ndim(gx) == 0 and gv.shape == (5,)
    assert ad.check_grad(s, 0.3, np.arange(5.0))


def test_array_python_scalar_and_numpy_scalar_mix():
    x = ad.Var(np.array([1.0, 2.0]))
    for y in (np.float64(2.0) * x, x * np.float64(2.0), np.array([2.0, 2.0]) * x, 2 * x):
        assert isinstance(y, ad.Var)
        ad.sum(y).backward()
        assert np.allclose(x.grad, [2.0, 2.0])


def test_documented_conventions_at_kinks():
    assert ad.grad(ad.abs)(0.0) == 0.0
    assert ad.grad(ad.relu)(0.0) == 0.0
    assert ad.grad(ad.maximum, argnums=(0, 1))(1.0, 1.0) == (0.5, 0.5)


@pytest.mark.parametrize("call, kind, words", [
    (lambda: ad.grad(ad.log)(0.0), ad.DomainError, ["log", "> 0", "0"]),
    (lambda: ad.grad(ad.log)(-1.0), ad.DomainError, ["log", "> 0", "-1"]),
    (lambda: ad.grad(ad.sqrt)(0.0), ad.DomainError, ["sqrt", "derivative", "0"]),
    (lambda: ad.sqrt(ad.Var(-4.0, name="x")), ad.DomainError, ["sqrt", ">= 0", "x = -4"]),
    (lambda: ad.Var(1.0, name="a") / ad.Var(0.0, name="b"), ad.DomainError, ["div", "zero", "b = 0"]),
    (lambda: ad.Var(-2.0) ** 0.5, ad.DomainError, ["pow", "integer exponent"]),
    (lambda: ad.Var(np.ones(3), name="u") + np.ones(4), ad.ShapeError, ["add", "(3,)", "(4,)"]),
    (lambda: ad.matmul(ad.Var(np.ones((2, 3))), np.ones((2, 3))), ad.ShapeError, ["matmul", "(2, 3)"]),
    (lambda: ad.grad(lambda x: x * np.ones(3))(1.0), ad.ShapeError, ["scalar output", "(3,)", "jacrev"]),
    (lambda: ad.Var("a"), ad.ADError, ["numbers", "str"]),
    (lambda: ad.Var(1.0) + "a", ad.ADError, ["add", "str"]),
    (lambda: ad.sin(ad.Var(1.0), 2.0), TypeError, []),
    (lambda: ad.grad(lambda x, y: x * y, argnums=2)(1.0, 2.0), ad.ADError, ["argnums=2", "2 argument"]),
    (lambda: ad.Var(np.ones(3)).backward(), ad.ShapeError, ["seed", "(3,)"]),
])
def test_errors_name_the_operation(call, kind, words):
    with pytest.raises(kind) as info:
        call()
    for w in words:
        assert w in str(info.value), (w, str(info.value))


def test_trace_reprs_are_readable_and_deterministic():
    def f(x1, x2):
        return ad.log(x1) + x1 * x2 - ad.sin(x2)
    t = ad.trace(f, 2.0, 5.0)
    text, html, latex = repr(t), t._repr_html_(), t.to_latex()
    assert "0x" not in text + html + latex
    assert "v₋₁ = x1" in text and "v₅ = y" in text and "<table" in html and "\\begin{tabular}" in latex
    # slide notation: subscripts (v-1 would read "v minus 1"), the bar on the v, x_{1} in LaTeX
    assert "v̄₄ += v̄₅ * (-1)" in t.reverse_text() and "v-1" not in text + html and "v4̄" not in t.reverse_text()
    assert "$v_{-1} = x_{1}$" in latex and "adjoint seed: v̄₅ = 1" in text and "v̇₋₁ = 1" in text
    code = ("import adteach as ad\n"
            "def f(x1, x2):\n    return ad.log(x1) + x1 * x2 - ad.sin(x2)\n"
            "print(repr(ad.trace(f, 2.0, 5.0))); print(ad.trace(f, 2.0, 5.0)._repr_html_())")
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
            for _ in range(2)]
    assert runs[0] == runs[1] == text + "\n" + html + "\n"
    assert repr(ad.Var(1.5, name="x1")) == "Var(1.5, name='x1')"
    assert repr(ad.Dual(1.5, 1.0)) == "Dual(value=1.5, tangent=1)"


def test_trace_step_states():
    def f(x1, x2):
        return ad.log(x1) + x1 * x2 - ad.sin(x2)
    t = ad.trace(f, 2.0, 5.0)
    assert t.reverse_order == ["v5", "v4", "v3", "v2", "v1"]
    adj, current = t.reverse_state(0)
    assert current is None and adj["v5"] == 1 and all(adj[n] is None for n in ["v4", "v3", "v0"])
    adj, current = t.reverse_state(2)  # v5 and v4 processed: v0 has its sin path only
    assert current == "v4" and adj["v0"] == pytest.approx(-np.cos(5.0))
    adj, _ = t.reverse_state(t.n_steps)
    assert all(adj[r.name] == pytest.approx(r.adjoint) for r in t.rows)
    # the forward sweep counts its steps as the reverse one: step 0 knows the seeds, step k the k-th operation
    assert t.forward_state(0)["v-1"] == 1 and t.forward_state(0)["v1"] is None
    fw = t.forward_state(1)
    assert fw["v1"] == 0.5 and fw["v2"] is None
    assert all(v is not None for v in t.forward_state(t.n_steps).values())


def test_check_grad_catches_a_wrong_derivative():
    """A primitive with seed 003's Multiply bug (grad * x to both inputs) is caught."""
    from adteach.primitives import Primitive, apply
    buggy = Primitive("buggy_mul", lambda a, b: a * b, "{0} * {1}", "",
                      partials=(lambda a, b, out: a, lambda a, b, out: a), nargs=2)
    f = lambda x, y: (49.0 - apply(buggy, 2.0 * x, y)) ** 2
    report = ad.check_grad(f, 2.0, 3.0)
    assert not report.ok and "MISMATCH" in str(report)
    assert report.reverse[0] == pytest.approx(-592) and report.numerical[0] == pytest.approx(-444, rel=1e-6)


def test_import_is_light():
    code = ("import sys, adteach; heavy = [m for m in ('matplotlib', 'ipywidgets', 'graphviz', 'IPython', "
            "'wasmtime', 'sympy') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_machinery_lives_beside_the_core_under_its_old_names_too():
    """errors.py and arraylike.py hold the machinery; the old import paths give the very same objects."""
    from adteach import arraylike, errors, forward, primitives, tape
    for name in ("ADError", "DomainError", "ShapeError", "ADTypeError"):
        assert getattr(ad, name) is getattr(errors, name) is getattr(primitives, name)
        assert getattr(errors, name).__module__ == "adteach.errors"
    assert primitives.evaluate is errors.evaluate and tape._as_value is errors.as_value
    assert primitives.ArrayLike is arraylike.ArrayLike and primitives.from_objects is arraylike.from_objects
    assert issubclass(tape.Var, arraylike.ArrayLike) and issubclass(forward.Dual, arraylike.ArrayLike)
    with pytest.raises(ad.DomainError, match=r"log: defined only for inputs > 0; got input 1 = -1"):
        errors.evaluate(primitives.TABLE["log"], (-1.0,), {})
    with pytest.raises(ad.ADTypeError, match="not str"):
        errors.as_value("1.0", "exp")


def test_an_operation_with_no_arguments_or_unknown_keywords_says_which():
    """Empty argument lists (stacking an empty list from a loop) reach the clear error, not an IndexError."""
    with pytest.raises(ad.DomainError, match="stack: need at least one array"):
        ad.stack([])
    with pytest.raises(ad.DomainError, match="stack: need at least one array"):
        ad.grad(lambda x: ad.stack([x * k for k in range(0)]))(1.0)
    with pytest.raises(ad.ADTypeError, match="sin: unsupported input types"):
        ad.sin()
    with pytest.raises(ad.ADTypeError, match="add: unsupported input types"):
        ad.add()
    with pytest.raises(TypeError, match=r"sin\(\) got an unexpected keyword argument 'x'"):
        ad.sin(x=1.0)  # (it once computed sin(1.0) silently, ignoring the name)


def test_one_rule_per_edge_serves_both_modes():
    """The sweep and forward mode call the rules each primitive builds from its table entry."""
    mul = ad.TABLE["mul"]
    assert mul.rules is mul.chains and len(mul.chains) == 2
    assert mul.rules[0](2.0, (3.0, 5.0), 15.0, None) == 10.0  # g * d(ab)/da = g * b
    assert ad.TABLE["sub"].rules[1](2.0, (3.0, 5.0), -2.0, None) == -2.0  # the MINUS_ONE marker
    assert len(ad.TABLE["matmul"].rules) == 2 and ad.TABLE["stack"].rules[7] is not None  # any number of inputs
    calls = []
    original = mul.partials[1]
    object.__setattr__(mul, "partials", (mul.partials[0], lambda a, b, out: calls.append(1) or original(a, b, out)))
    del mul.__dict__["chains"], mul.__dict__["rules"]  # rebuilt from the (patched) entry when next used
    try:
        x = ad.Var(3.0)
        (x * x).backward()  # reverse mode: one call of the partial per edge
        assert x.grad == 6.0 and len(calls) == 1
        assert ad.jvp(lambda t: t * t, (3.0,), (1.0,))[1] == 6.0 and len(calls) == 2  # forward mode: the same
    finally:
        object.__setattr__(mul, "partials", (mul.partials[0], original))
        mul.__dict__.pop("chains", None), mul.__dict__.pop("rules", None)
    assert ad.grad(lambda t: t * t)(3.0) == 6.0


def test_numpy_ufuncs_run_as_primitives_or_explain():
    x = ad.Var(np.array([0.5, 1.0]), name="x")
    y = ad.sum(np.sin(x) * np.array([2.0, 3.0]) + np.exp(x))
    y.backward()
    assert np.allclose(x.grad, 2 * np.cos([0.5, 1.0]) * [1, 1.5] + np.exp([0.5, 1.0]))
    assert ad.jvp(lambda a: np.tanh(a), (0.3,), (1.0,))[1] == pytest.approx(1 - np.tanh(0.3) ** 2)
    assert list(np.array([0.0, 3.0]) > ad.Var(1.0)) == [False, True]
    with pytest.raises(ad.ADTypeError, match="numpy.arctan cannot differentiate through a Var"):
        np.arctan(x)


def test_second_derivatives_through_indexing_and_labels():
    H = ad.hessian(lambda p: p[0] ** 3 + p[0] * p[1])(np.array([2.0, 1.0]))
    assert np.allclose(H, [[12.0, 1.0], [1.0, 0.0]])
    t = ad.trace(lambda x, y: x * y, 2.0, 3.0)
    assert [r.label for r in t.rows] == ["x", "y", "z"]  # the output is not called y when an input is (z̄, not ȳ)
    assert type(t.tangent_seed[0]) is float and repr(t.tangent_seed) == "[1.0, 0.0]"


def test_review_regressions():
    """Each of these once gave a silently wrong answer or an unclear error."""
    # grad nested through a closure keeps the outer derivative: f(x) = x * x
    assert ad.grad(lambda x: x * ad.grad(lambda y: x * y)(1.0))(3.0) == 6.0
    # nested forward mode keeps the tangents apart (tags): d/dx[x * d/dy(x + y)] = 1, not 2
    assert ad.jvp(lambda x: x * ad.jvp(lambda y: x + y, (1.0,), (1.0,))[1], (1.0,), (1.0,)) == (1.0, 1.0)
    assert ad.jvp(ad.grad(lambda x: x ** 3), (2.0,), (1.0,)) == (12.0, 12.0)
    # a list holding Vars is refused, not turned into a constant
    with pytest.raises(ad.ADTypeError, match="ad.stack"):
        ad.grad(lambda a, b: ad.sum(a * [b, 1.0]), argnums=(0, 1))(2.0, 3.0)
    # every given input keeps its trace number, even an unused one
    t = ad.trace(lambda a, b, c: a * c, 1.0, 2.0, 3.0, seed=(0, 0, 1))
    assert [r.name for r in t.rows[:3]] == ["v-2", "v-1", "v0"]
    assert t.tangent == 1.0 and t.gradient == (3.0, 0.0, 1.0)
    assert ad.trace(lambda a, b: b * b, 1.0, 2.0).tangent == 0.0
    # transpose with negative axes, Dual tangent shapes, pow at 0
    A, B = np.arange(6.0).reshape(2, 3), np.arange(6.0).reshape(3, 2)
    assert np.array_equal(ad.grad(lambda x: ad.sum(ad.transpose(x, (-1, 0)) * B))(A), B.T)
    assert ad.sum(ad.Dual(np.array([1.0, 2.0]), 1.0)).tangent == 2.0
    with pytest.raises(ad.ShapeError, match="tangent has shape"):
        ad.Dual(np.array([1.0, 2.0]), np.array([1.0, 2.0, 3.0]))
    assert ad.grad(lambda x: x ** 0)(0.0) == 0.0
    with pytest.raises(ad.DomainError, match="infinite"):
        ad.grad(lambda x: x ** 0.5)(0.0)
    # forward mode no longer differentiates a constant exponent
    assert ad.jacfwd(lambda a, b: a ** b, argnums=0)(-2.0, 3.0) == 12.0
    assert ad.check_grad(lambda a, b: a ** b, -2.0, 3.0, argnums=0)
    # argnums: duplicates refused, NumPy integers accepted
    with pytest.raises(ad.ADError, match="twice"):
        ad.grad(lambda x, y: x * y, argnums=(0, 0))(1.0, 2.0)
    assert ad.grad(lambda x, y: x * y, argnums=np.int64(1))(3.0, 2.0) == 3.0
    # clear errors instead of raw ones from deep inside
    with pytest.raises(ad.ADTypeError, match="return"):
        ad.grad(lambda x: None)(1.0)
    with pytest.raises(ad.ShapeError, match="getitem"):
        ad.Var([1.0, 2.0])[5]
    with pytest.raises(ad.DomainError, match="exp"):
        ad.grad(ad.exp)(1000.0)
    with pytest.raises(ad.ShapeError, match="axis 3"):
        ad.sum(ad.Var([1.0, 2.0]), axis=3)
    assert np.sum(ad.Var([1.0, 2.0])).value == 3.0


def test_higher_order_through_structural_primitives():
    """Auxiliary arguments (shape, index, axis) are never differentiable inputs, so the
    recorded backward pass of sum/mean/broadcast_to/indexing/stack can be differentiated again."""
    h = ad.hessian(lambda x: ad.sum(x) ** 2)(np.ones(2))
    np.testing.assert_allclose(h, 2.0 * np.ones((2, 2)))
    x = np.array([3.0, 4.0])  # Hessian of the norm: (I - x x^T / |x|^2) / |x|
    np.testing.assert_allclose(ad.hessian(lambda v: ad.sqrt(ad.sum(v * v)))(x),
                               (np.eye(2) - np.outer(x, x) / 25.0) / 5.0)
    x = np.array([0.0, 1.0])  # Hessian of log-sum-exp: diag(p) - p p^T
    p = np.exp(x) / np.exp(x).sum()
    np.testing.assert_allclose(ad.hessian(lambda v: ad.log(ad.sum(ad.exp(v))))(x),
                               np.diag(p) - np.outer(p, p))
    np.testing.assert_allclose(ad.hessian(lambda v: ad.mean(v) ** 2)(np.ones(2)), 0.5 * np.ones((2, 2)))
    np.testing.assert_allclose(ad.hessian(lambda v: ad.stack([v[0] ** 2, v[1]]).sum() ** 2)(np.ones(2)),
                               [[16.0, 4.0], [4.0, 2.0]])
    third = ad.grad(ad.grad(ad.grad(lambda t: ad.sum(ad.broadcast_to(t, (3,))) ** 3)))
    assert third(2.0) == pytest.approx(162.0)  # (3t)^3 = 27 t^3
    # shape and index are accepted positionally, as NumPy does
    assert ad.broadcast_to(2.0, (3,)).tolist() == [2.0, 2.0, 2.0]
    assert ad.getitem(np.arange(3.0), 1) == 1.0
    assert ad.grad(lambda v: ad.getitem(v, 1) * 3.0)(np.arange(3.0)).tolist() == [0.0, 3.0, 0.0]


def test_sigmoid_is_accurate_in_both_tails():
    assert ad.log(ad.sigmoid(-40.0)) == pytest.approx(-40.0, rel=1e-12)  # was exactly 0 -> log raised
    np.testing.assert_allclose(ad.log(ad.sigmoid(np.array([-40.0, 0.0, 40.0]))),
                               [-40.0, -np.log(2.0), 0.0], rtol=1e-12, atol=1e-17)
    assert ad.sigmoid(800.0) == 1.0 and ad.sigmoid(np.array([800.0]))[0] == 1.0  # no overflow
    assert ad.grad(lambda x: ad.log(ad.sigmoid(x)))(-40.0) == pytest.approx(1.0)


def test_complex_arrays_and_object_arrays_of_vars():
    with pytest.raises(ad.ADTypeError, match="not complex arrays"):
        ad.grad(lambda x: ad.sum(ad.sin(x)))(np.array([1j, 2.0]))
    # an object array of Vars mixed with a Var: its elements are stacked, never silently constant
    assert ad.grad(lambda x: ad.sum(ad.sin(x) * np.array([x, x])))(1.0) == pytest.approx(2 * (np.cos(1.0) + np.sin(1.0)))
    with pytest.raises(ad.ADTypeError, match="a list holding Vars would lose their derivatives"):
        ad.grad(lambda x: ad.sum(ad.sin(x) * [x, x]))(1.0)
    # where NumPy's object arithmetic adds the Vars themselves, the gradient is right
    assert ad.grad(lambda x: ad.sum(np.array([x, x * 2.0])))(1.0) == 3.0


def test_fstring_formats_the_value_of_var_and_dual():
    seen = []
    ad.grad(lambda x: seen.append(f"{x * 2.0:.3f}") or x * 2.0)(1.5)
    assert seen == ["3.000"]
    from adteach.forward import Dual
    assert f"{Dual(0.25, 1.0):.2f}" == "0.25"


def test_a_sweep_nested_in_a_custom_rule_keeps_the_outer_adjoints():
    # During a sweep each node holds its adjoint (tape._Sweep). A custom_vjp's bwd may start another sweep over
    # nodes of the outer graph (here through a closure over `a`): the outer sweep's adjoints must survive it.
    x = ad.Var(2.0, name="x")
    a = x * x
    inner = []

    @ad.custom_vjp
    def triple(t):
        return t * 3.0

    def bwd(res, g):
        y = a * a  # shares a and x with the outer graph
        y.backward()
        inner.append(x.grad)  # d(a^2)/dx = 2a * 2x = 32
        return (g * 3.0,)

    triple.defvjp(lambda t: (triple(t), None), bwd)
    out = triple(a) + a  # 3x^2 + x^2: d/dx = 8x = 16
    out.backward()
    assert inner == [32.0]
    assert x.grad == 16.0 and a.grad == 4.0
    # the functional transforms too
    assert ad.grad(lambda v: triple(v * v) + v * v)(2.0) == 16.0


def test_a_sweep_that_fails_midway_leaves_no_adjoint_behind():
    # A sweep starts from nodes whose adjoints are all None (a node is made so, and every sweep leaves it so,
    # adjoints.py): a sweep stopped by an error half-way must not leave its partial sums for the next one.
    x = ad.Var(3.0, name="x")
    a = x * x

    @ad.custom_vjp
    def fails(t):
        return t * 2.0

    def bwd(res, g):
        raise RuntimeError("this rule fails")

    fails.defvjp(lambda t: (fails(t), None), bwd)
    out = fails(a) + a * 5.0  # the sweep reaches a (share 5) before the failing rule
    with pytest.raises(Exception, match="this rule fails"):
        out.backward()
    y = a * 1.0
    y.backward()
    assert x.grad == 6.0 and a.grad == 1.0  # not 5 + 1: nothing left over from the failed sweep
    assert all(n._adj is None for n in ad.graph_nodes(out))


def run_threads_switching_often(targets):
    """Run each target in a thread of its own, the interpreter switching threads as often as it can (races show at once)."""
    import threading
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=t) for t in targets]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)


def test_threads_sweeping_graphs_with_a_shared_leaf_keep_their_adjoints_apart():
    p = ad.Var(1.0001, name="p")  # every thread's graph uses p

    def work(k, results):
        for _ in range(5):
            y = ad.Var(float(k))
            for _ in range(3000):
                y = y * p
            results.append(ad.backprop(y)[p] / k)  # d(k p^n)/dp / k = n p^(n-1)

    results = []
    run_threads_switching_often([lambda k=k: work(k, results) for k in (1, 2, 3, 4)])
    expected = 3000 * 1.0001 ** 2999
    assert len(results) == 20 and all(r == pytest.approx(expected, rel=1e-12) for r in results)
