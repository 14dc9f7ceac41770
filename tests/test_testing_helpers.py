"""adteach.testing: each helper passes correct code and fails wrong code with a precise message."""
import math

import numpy as np
import pytest

import adteach as ad
from adteach.testing import (CheckFailed, NotImplementedYet, as_numbers, call, check_backward, check_below,
                             check_decreasing, check_derivative, check_differentiable, check_forward_rule,
                             check_function, check_gradient, check_order_function, check_topological_order,
                             check_value, unpack)


def message(fn, *args, **kwargs) -> str:
    """The message of the CheckFailed that fn(*args, **kwargs) raises."""
    with pytest.raises(CheckFailed) as info:
        fn(*args, **kwargs)
    text = str(info.value)
    assert "0x" not in text, text  # deterministic: no memory addresses
    assert len(text.splitlines()) <= 6, text  # short
    return text


# --- student code used below -----------------------------------------------------------------
def mul_backward(g, x, y):
    return (g * y, g * x)


def mul_backward_swapped(g, x, y):
    return (g * x, g * y)


def mul_backward_without_g(g, x, y):
    return (y, x)


def mul_backward_stub(g, x, y):
    # YOUR CODE HERE
    raise NotImplementedError()


def div_backward(g, x, y):
    return (g / y, -g * x / y ** 2)


def div_backward_sign(g, x, y):
    return (g / y, g * x / y ** 2)


def sin_backward(g, x):
    return g * np.cos(x)


def exp_backward(g, x):
    return g * np.exp(x)


def log_backward(g, a):
    return g / a


def log_backward_wrong(g, a):
    return g * np.log(a)


class Dual:
    def __init__(self, val, dot=0.0):
        self.val, self.dot = val, dot

    def __mul__(self, other):
        return Dual(self.val * other.val, self.dot * other.val + self.val * other.dot)

    def __truediv__(self, other):
        return Dual(self.val / other.val, (self.dot * other.val - self.val * other.dot) / other.val ** 2)

    def __sub__(self, other):
        # YOUR CODE HERE
        raise NotImplementedError()


def dual_mul_product_of_tangents(a, b):
    return Dual(a.val * b.val, a.dot * b.dot)


def dual_mul_wrong_value(a, b):
    return Dual(a.val + b.val, a.dot * b.val + a.val * b.dot)


def dual_div_no_square(a, b):
    return Dual(a.val / b.val, (a.dot * b.val - a.val * b.dot) / b.val)


def dual_sin(d):
    return Dual(np.sin(d.val), np.cos(d.val) * d.dot)


def dual_sin_no_chain(d):
    return Dual(np.sin(d.val), np.cos(d.val))


def dual_exp_plain(d):
    return np.exp(d.val)


# --- call ----------------------------------------------------------------------------------------
def test_call_returns_the_result():
    assert call(lambda a, b: a + b, 1, 2) == 3


def test_call_not_implemented():
    text = message(call, mul_backward_stub, 1.0, 2.0, 3.0)
    assert text == ("mul_backward_stub is not implemented yet: replace `raise NotImplementedError()` "
                    "with your code")


def test_call_not_implemented_names_the_inner_function():
    def gradient(x1, x2):
        return Dual(x1, 1.0) - Dual(x2, 0.0)

    with pytest.raises(NotImplementedYet) as info:
        call(gradient, 1.0, 2.0, name="forward_gradient")
    assert str(info.value) == ("Dual.__sub__ is not implemented yet (needed by forward_gradient): "
                               "replace `raise NotImplementedError()` with your code")


def test_call_other_exception_names_the_call_and_chains():
    def central_diff(f, x, h):
        return (f(x + h) - f(x - h)) / (2 * h)

    with pytest.raises(CheckFailed) as info:
        call(central_diff, math.log, 0.0, 0.0)
    assert str(info.value).startswith("central_diff raised ValueError at f=log, x=0, h=0: math domain error")
    assert isinstance(info.value.__cause__, ValueError)


def test_call_recursion_error():
    def topological_order(n):
        return topological_order(n + 1)

    text = message(call, topological_order, 0)
    assert text.startswith("topological_order raised RecursionError: the recursion went too deep")
    assert "explicit stack" in text


def test_call_numpy_function_on_adteach_values():
    def predict(w):
        return np.arctan(w)  # np.tanh, np.exp, ... run as adteach primitives; arctan has none

    text = message(call, ad.grad(predict), 0.5, name="ad.grad(predict)")
    assert text.startswith("ad.grad(predict) raised ADTypeError at w=0.5")
    assert "use ad.tanh, ad.exp" in text


def test_call_shows_big_arrays_by_shape():
    def loss(params, X):
        raise ValueError("bad")

    text = message(call, loss, [np.ones((2, 3)), np.ones(3)], np.ones((10, 2)))
    assert text == "loss raised ValueError at params=<list of 2 arrays>, X=<array of shape (10, 2)>: bad"


# --- check_value / check_below -------------------------------------------------------------------
def test_check_value_passes():
    check_value("h", 1e-6, 1e-6)
    check_value("g", (3.0, 2.0), [3.0, 2.0 + 1e-12])
    check_value("v", ad.Var(2.0), 2.0)


def test_check_value_fails_with_expected_and_got():
    assert message(check_value, "h_best", 0.1, 1e-6) == "h_best is wrong:\n  expected 1e-06, got 0.1"
    assert message(check_value, "the gradient", (-592, -222), (-444, -296), at={"x": 2, "y": 3}) == \
        "the gradient is wrong at x=2, y=3:\n  expected (-444, -296), got (-592, -222)"


def test_check_value_none_shape_and_hint():
    assert message(check_value, "y", None, 1.0) == "y is wrong:\n  returned None (did you forget `return`?)"
    assert message(check_value, "g", [1.0, 2.0, 3.0], [1.0, 2.0]) == \
        "g is wrong:\n  expected shape (2,), got shape (3,): [1, 2, 3]"
    assert message(check_value, "w0", np.array([0.5, 1.0]), [1.0, 1.0], hint="do not change w0") == \
        "w0 is wrong:\n  expected [1, 1], got [0.5, 1]\n  do not change w0"


def test_check_value_large_array_names_the_entry():
    expected = np.zeros((3, 4))
    got = expected.copy()
    got[1, 2] = 5.0
    assert message(check_value, "W", got, expected) == "W is wrong:\n  entry [1, 2]: expected 0, got 5"


def test_check_below():
    check_below("loss", 0.009, 0.0105)
    assert message(check_below, "the final loss", 0.5, 0.01, hint="take more steps") == \
        "the final loss is too high: 0.5 is not below 0.01\n  take more steps"
    assert message(check_below, "loss", float("nan"), 0.01) == \
        "loss is nan, not a finite number below 0.01 (did the iteration diverge?)"


# --- check_function ------------------------------------------------------------------------------
CANDIDATES = {
    "the forward difference (f(x+h) - f(x))/h": lambda f, x, h: (f(x + h) - f(x)) / h,
    "(f(x+h) - f(x-h))/h, which is missing the factor 1/2": lambda f, x, h: (f(x + h) - f(x - h)) / h,
}


def test_check_function_passes():
    def central_diff(f, x, h):
        return (f(x + h) - f(x - h)) / (2 * h)

    check_function(central_diff, [((np.sin, 1.0, 1e-3), math.cos(1) * math.sin(1e-3) / 1e-3)], rtol=1e-9,
                   candidates=CANDIDATES)


def test_check_function_names_the_mistake():
    def central_diff(f, x, h):
        return (f(x + h) - f(x)) / h

    assert message(check_function, central_diff, [((np.sin, 1.0, 1e-3), 0.5403022158176542)],
                   candidates=CANDIDATES) == (
        "central_diff is wrong at f=sin, x=1, h=0.001:\n"
        "  expected 0.5403022158, got 0.5398814804\n"
        "  Your central_diff computes the forward difference (f(x+h) - f(x))/h.")


def test_check_function_single_argument_and_hint():
    def square(x):
        return 2 * x

    assert message(check_function, square, [(3.0, 9.0)], hint="x**2, not 2*x") == \
        "square is wrong at x=3:\n  expected 9, got 6\n  x**2, not 2*x"


# --- check_derivative ------------------------------------------------------------------------------
def test_check_derivative():
    check_derivative(np.cos, np.sin, at=[0.5, 2.0], name="dsin")
    assert message(check_derivative, lambda x: -np.cos(x), np.sin, at=[0.5], name="dsin") == \
        "dsin is wrong at x=0.5:\n  expected 0.8775825619 (the numerical derivative of sin), got -0.8775825619\n" \
        "  The sign is flipped."
    assert message(check_derivative, np.sin, np.sin, at=[0.5], name="dsin").endswith(
        "It returns the value of sin, not its derivative.")
    assert message(check_derivative, lambda x: 6 * x, lambda x: x ** 3, at=[1.0], name="dcube").endswith(
        "It is off by a factor of 2.")


# --- check_gradient ------------------------------------------------------------------------------
def loss(x, y):
    return (49 - 2 * x * y) ** 2


def test_check_gradient_passes():
    check_gradient(lambda x, y: (-4 * y * (49 - 2 * x * y), -4 * x * (49 - 2 * x * y)), loss, at=[(2.0, 3.0)])
    check_gradient(ad.grad(loss, argnums=(0, 1)), loss, at=[(2.0, 3.0), (-1.5, 0.25)])
    W = np.arange(6.0).reshape(2, 3)
    check_gradient(lambda W: 3 * W ** 2, lambda W: np.sum(W ** 3), at=[W])


def test_check_gradient_names_the_wrong_component():
    def seed003_grad(x, y):
        return (-592.0, -222.0)

    assert message(check_gradient, seed003_grad, loss, at=[(2.0, 3.0)]) == (
        "seed003_grad is wrong at x=2, y=3, in the derivative with respect to x:\n"
        "  expected -444 (numerical), got -592")


def test_check_gradient_array_and_count():
    W = np.arange(6.0).reshape(2, 3)
    big = np.ones((4, 5))
    assert message(check_gradient, lambda W: 2 * W, lambda W: np.sum(W ** 3), at=[big], name="grad_W") == (
        "grad_W is wrong at W=<array of shape (4, 5)>, in the derivative with respect to W:\n"
        "  entry [0, 0]: expected 3 (numerical), got 2 (20 of 20 entries differ)")
    assert message(check_gradient, lambda W: 2 * W, lambda W: np.sum(W ** 3), at=[W], name="grad_W") == (
        "grad_W is wrong at W=[[0, 1, 2], [3, 4, 5]], in the derivative with respect to W:\n"
        "  entry [0, 1]: expected 3 (numerical), got 2 (5 of 6 entries differ)")
    assert message(check_gradient, lambda x, y: -444.0, loss, at=[(2.0, 3.0)], name="grad") == \
        "grad should return 2 values (one per input x, y: a tuple, a list or an array) at x=2, y=3; it returned -444"


# --- check_backward ------------------------------------------------------------------------------
@pytest.mark.parametrize("rule, op, at", [
    (mul_backward, "mul", [(1.5, -2.0), (0.3, 0.8)]),
    (div_backward, "div", [(1.5, -2.0), (0.3, 0.8)]),
    (sin_backward, "sin", [0.5, 3.0]),
    (exp_backward, "exp", [0.5, -1.0]),
    (log_backward, "log", [0.5, 2.0]),
    (lambda g, x: g * 3 * x ** 2, lambda x: x ** 3, [0.5, 2.0]),
])
def test_check_backward_passes_correct_rules(rule, op, at):
    check_backward(rule, op, at=at)


def test_check_backward_swapped_mul():
    assert message(check_backward, mul_backward_swapped, "mul", at=[(1.5, -2.0)], name="mul_backward") == (
        "mul_backward is wrong for input x, at g=0.7, x=1.5, y=-2:\n"
        "  expected -1.4 (g times the numerical derivative of x*y), got 1.05\n"
        "  Your mul_backward returns g*x for input x; the numerical derivative says g*y.\n"
        "  The results for x and y look swapped.")


def test_check_backward_forgotten_g():
    assert message(check_backward, mul_backward_without_g, "mul", at=[(1.5, -2.0)], name="mul_backward") == (
        "mul_backward is wrong for input x, at g=0.7, x=1.5, y=-2:\n"
        "  expected -1.4 (g times the numerical derivative of x*y), got -2\n"
        "  Your mul_backward returns y for input x; the numerical derivative says g*y.\n"
        "  Multiply by the incoming gradient g (the chain rule).")


def test_check_backward_div_sign():
    assert message(check_backward, div_backward_sign, "div", at=[(1.5, -2.0)], name="div_backward") == (
        "div_backward is wrong for input y, at g=0.7, x=1.5, y=-2:\n"
        "  expected -0.2625 (g times the numerical derivative of x/y), got 0.2625\n"
        "  Your div_backward returns g*x/y**2 for input y; the numerical derivative says -g*x/y**2.")


def test_check_backward_uses_the_students_names():
    assert message(check_backward, log_backward_wrong, "log", at=[0.5], name="log_backward") == (
        "log_backward is wrong at g=0.7, a=0.5:\n"
        "  expected 1.4 (g times the numerical derivative of log(a)), got -0.4852030264\n"
        "  Your log_backward returns g*log(a); the numerical derivative says g/a.")


def test_check_backward_structure_and_stubs():
    assert message(check_backward, lambda g, x, y: g * y, "mul", at=[(1.5, -2.0)], name="mul_backward") == (
        "mul_backward should return 2 values (one adjoint per input: x, y); at g=0.7, x=1.5, y=-2 "
        "it returned -1.4")
    assert message(check_backward, lambda g, x, y: None, "mul", at=[(1.5, -2.0)], name="mul_backward").endswith(
        "it returned None (did you forget `return`?)")
    with pytest.raises(NotImplementedYet, match="^mul_backward is not implemented yet"):
        check_backward(mul_backward_stub, "mul", at=[(1.5, -2.0)], name="mul_backward")


def test_check_backward_function_op_without_a_known_formula():
    text = message(check_backward, lambda g, x: g * 2 * x ** 2, lambda x: x ** 3, at=[0.5], name="cube_backward")
    assert text.startswith("cube_backward is wrong at g=0.7, x=0.5:\n"
                           "  expected 0.525 (g times the numerical derivative of the operation), got 0.35")


# --- check_forward_rule --------------------------------------------------------------------------
def test_check_forward_rule_passes():
    check_forward_rule(Dual.__mul__, "mul", dual=Dual, at=[(1.5, 0.5), (-2.0, 3.0)])
    check_forward_rule(Dual.__truediv__, "div", dual=Dual, at=[(1.5, 0.5), (-2.0, 3.0)])
    check_forward_rule(dual_sin, "sin", dual=Dual, at=[0.5, 3.0])
    check_forward_rule(ad.Dual.__mul__, "mul", dual=ad.Dual, at=[(0.5, 3.0)])  # value / tangent attributes


def test_check_forward_rule_wrong_tangent():
    assert message(check_forward_rule, dual_mul_product_of_tangents, "mul", dual=Dual, at=[(1.5, 0.5)],
                   name="Dual.__mul__") == (
        "Dual.__mul__ computes the wrong tangent at x=1.5 (tangent dx=1), y=0.5 (tangent dy=0):\n"
        "  expected 0.5 (numerical derivative of x*y), got 0\n"
        "  Your Dual.__mul__ gives tangent dx*dy; the numerical derivative says dx*y + x*dy "
        "(dx and dy are the tangents of x and y).")
    assert "Your Dual.__truediv__ gives tangent (dx*y - x*dy)/y; the numerical derivative says " \
           "(dx*y - x*dy)/y**2" in message(check_forward_rule, dual_div_no_square, "div", dual=Dual,
                                           at=[(1.5, 0.5)], name="Dual.__truediv__")


def test_check_forward_rule_forgotten_chain_rule():
    assert message(check_forward_rule, dual_sin_no_chain, "sin", dual=Dual, at=[0.5], name="sin") == (
        "sin computes the wrong tangent at x=0.5 (tangent dx=-0.6):\n"
        "  expected -0.5265495371 (numerical derivative of sin(x)), got 0.8775825619\n"
        "  Your sin gives tangent cos(x); the numerical derivative says cos(x)*dx (dx is the tangent of x).\n"
        "  Multiply by the input's tangent dx (the chain rule).")


def test_check_forward_rule_wrong_value_and_type():
    assert message(check_forward_rule, dual_mul_wrong_value, "mul", dual=Dual, at=[(1.5, 0.5)],
                   name="Dual.__mul__") == (
        "Dual.__mul__ computes the wrong value at x=1.5 (tangent dx=1), y=0.5 (tangent dy=0):\n"
        "  expected 0.75 (x*y), got 2\n"
        "  Your Dual.__mul__ computes the value x + y; it should be x*y.")
    assert message(check_forward_rule, dual_exp_plain, "exp", dual=Dual, at=[0.5], name="exp") == \
        "exp should return a Dual; at x=0.5 (tangent dx=1) it returned float 1.648721271"


# --- check_topological_order ---------------------------------------------------------------------
class Node:
    def __init__(self, name, *parents):
        self.name, self.parents = name, parents


def diamond():
    x, y, z = Node("x"), Node("y"), Node("z")
    h1, h2 = Node("h1", x, y), Node("h2", y, z)
    h = Node("h", h1, h2)
    return [x, y, z, h1, h2, h, Node("o", h, h)]


def test_check_topological_order():
    nodes = diamond()
    out = nodes[-1]
    check_topological_order(nodes, out)
    check_topological_order(nodes[::-1][::-1], out)
    x, y, z, h1, h2, h, o = nodes
    assert message(check_topological_order, [x, y, h1, y, z, h2, h, o], o, name="topological_order(o)") == (
        "topological_order(o) is wrong: y appears twice (positions 1 and 3); keep a set of visited nodes "
        "so that each node is listed once")
    assert message(check_topological_order, [x, y, h1, h2, h, o], o) == \
        "the order is wrong: it has 6 nodes but the graph has 7; missing: z"
    assert message(check_topological_order, [x, y, z, h2, h, h1, o], o) == (
        "the order is wrong: h (position 4) comes before its input h1 (position 5); every node must come "
        "after all its inputs")
    assert message(check_topological_order, None, o) == "the order is None (did you forget `return`?)"


def test_check_order_function_checks_against_the_graph_before_the_call():
    nodes = diamond()
    out = nodes[-1]

    def honest(output):
        return list(nodes)

    assert check_order_function(honest, out) is None  # nothing to show as a test cell's last line

    def cut(output):  # sorts nothing: empties the graph, then the one-node answer would be "right"
        output.parents = ()
        return [output]

    assert message(check_order_function, cut, out, name="topological_order(o)") == (
        "topological_order(o) changed the graph it was given (the parents of o): a topological sort must "
        "only read the graph")
    nodes = diamond()
    x, y, z, h1, h2, h, o = nodes

    def rewire(output):  # keeps the parents attribute, changes an inner node's
        h1.parents = (x,)
        return [x, h1, y, z, h2, h, o]

    assert "(the parents of h1)" in message(check_order_function, rewire, o)
    nodes = diamond()

    def missing(output):
        return nodes[1:]

    assert message(check_order_function, missing, nodes[-1]) == (
        "missing(o) is wrong: it has 6 nodes but the graph has 7; missing: x")


def test_messages_are_deterministic():
    runs = {message(check_backward, mul_backward_swapped, "mul", at=[(1.5, -2.0)]) for _ in range(3)}
    assert len(runs) == 1


# --- any reasonable form of a correct answer ---------------------------------------------------
@pytest.mark.parametrize("container", [tuple, list, np.array], ids=["tuple", "list", "array"])
def test_gradients_and_adjoints_in_any_container(container):
    check_gradient(lambda x, y: container([-4 * y * (49 - 2 * x * y), -4 * x * (49 - 2 * x * y)]), loss,
                   at=[(2.0, 3.0)])
    check_backward(lambda g, x, y: container([g * y, g * x]), "mul", at=[(1.5, -2.0)])
    check_backward(lambda g, x: container([g * math.cos(x)]), "sin", at=[0.5])  # a 1-entry container
    check_backward(lambda g, x: np.float64(g) * math.cos(x), "sin", at=[0.5])  # math and NumPy floats


def test_wrong_gradient_in_an_array_is_still_named():
    assert message(check_gradient, lambda x, y: np.array([-592.0, -222.0]), loss, at=[(2.0, 3.0)], name="g") == (
        "g is wrong at x=2, y=3, in the derivative with respect to x:\n  expected -444 (numerical), got -592")
    assert message(check_backward, lambda g, x, y: np.array([g * x, g * y]), "mul", at=[(1.5, -2.0)],
                   name="mul_backward").endswith("The results for x and y look swapped.")


def test_check_gradient_hint():
    assert message(check_gradient, lambda x, y: (-592.0, -222.0), loss, at=[(2.0, 3.0)], name="g",
                   hint="sum the shares").endswith("expected -444 (numerical), got -592\n  sum the shares")


def test_a_gradient_read_before_backward_gets_a_hint():
    text = message(check_gradient, lambda x, y: (None, None), loss, at=[(2.0, 3.0)], name="grads")
    assert text.endswith("Reading .grad? An adteach value's .grad is None until .backward() has run on a "
                         "result computed from it.")
    text = message(call, lambda w: w - 0.1 * ad.Var(w).grad, 1.0, name="step")
    assert "(An adteach value's .grad is None until .backward() has run.)" in text


def test_as_numbers_and_unpack():
    assert as_numbers("losses", np.array([3.0, 2.0])) == [3.0, 2.0]
    assert as_numbers("losses", (ad.Var(1.0), np.float64(0.5), 2)) == [1.0, 0.5, 2.0]
    assert message(as_numbers, "the losses train returns", None) == \
        "the losses train returns is None (did you forget `return`?)"
    assert message(as_numbers, "losses", 0.5) == "losses should be a list of numbers, got float 0.5"
    assert message(as_numbers, "losses", [1.0, [2.0, 3.0]]) == \
        "losses should be a list of numbers; entry 1 is list [2, 3]"
    assert message(as_numbers, "run", [1.0], length=31) == "run should have 31 entries; it has 1"
    assert message(as_numbers, "losses", [], at_least=2) == "losses should have at least 2 entries; it has 0"
    params, losses = unpack("fit_line(xs, ys)", (np.zeros(2), [1.0]), 2)
    assert losses == [1.0]
    assert message(unpack, "fit_line(xs, ys)", np.zeros(2 * 50).reshape(50, 2), 2,
                   what="the parameters and the losses") == (
        "fit_line(xs, ys) should return 2 values (the parameters and the losses); it returned "
        "<array of shape (50, 2)>")
    assert message(unpack, "train(X, t)", None, 2).endswith("it returned None (did you forget `return`?)")


def test_check_decreasing_never_raises_a_numpy_error():
    check_decreasing("the losses", np.array([3.0, 2.0, 2.0, 1.0]))
    assert message(check_decreasing, "the losses of fit_line", np.array([3.0, 2.0, 2.5]), hint="smaller steps") == \
        "the losses of fit_line go up at entry 2: from 2 to 2.5\n  smaller steps"


def test_an_in_place_update_is_named():
    w = np.array([0.9025, -0.5])
    assert message(check_value, "history", [w, w, w], [[1.0, -2.0], [0.95, -1.0], [0.9025, -0.5]]) == (
        "history is wrong:\n  entry [0, 0]: expected 1, got 0.9025 (4 of 6 entries differ)\n"
        "  Entries 0 and 1 are the same array: an in-place update (w -= ..., w[...] = ...) changes an array that "
        "is already in the list. Make a new array at each step (w = w - ...).")
    # equal numbers (not arrays) are not called an in-place update
    assert "in-place" not in message(check_value, "history", [1.0, 1.0], [1.0, 0.5])


def test_a_hint_can_depend_on_the_value():
    hint = lambda got: "all zero" if not any(got) else None  # noqa: E731
    assert message(check_value, "g", [0.0, 0.0], [1.0, 2.0], hint=hint).endswith("\n  all zero")
    assert message(check_value, "g", [1.0, 0.0], [1.0, 2.0], hint=hint) == "g is wrong:\n  expected [1, 2], got [1, 0]"
    assert message(check_value, "g", None, [1.0, 2.0], hint=hint).startswith("g is wrong")  # a hint that fails


def test_check_differentiable_names_a_dropped_derivative():
    check_differentiable(lambda w: ad.sin(w) * w, at=[0.5, 2.0], name="f")
    check_differentiable(lambda w, x=1.0: np.exp(x * w), at=[(0.5, 2.0)], name="f")
    check_differentiable(lambda W: ad.sum(ad.tanh(W)), at=[np.array([[0.5, -1.0]])], name="f")
    text = message(check_differentiable, lambda w: ad.exp(w + math.sin(w)), at=[4.0], name="v7")
    # the core refuses float() of a Var (math.sin calls it), so the dropped derivative is named, never a wrong number
    assert text.startswith("ad.grad(v7) raised ADTypeError at w=4: float() of a Var drops its derivative")
    assert "Use ad.sin, ad.exp" in text


def test_math_functions_on_adteach_values_get_a_hint():
    def predict(W):
        return ad.sum(math.tanh(W))  # math on an array value

    text = message(call, ad.grad(predict), np.ones((2, 2)), name="ad.grad(predict)")
    assert "Python's math functions (math.sin, math.exp, ...) and float(...) take plain numbers" in text

    class Dual:
        def __init__(self, val, dot):
            self.val, self.dot = val, dot

    text = message(call, lambda d: math.sin(d), Dual(0.5, 1.0), name="sin")
    assert "A function of Python's math module got a Dual: it takes plain numbers (the value inside, such as d.val)" \
        in text


class ConversionError(ad.ADTypeError):
    """The error the core raises for float(Var) / math.sin(Var) (any ADError subclass saying so)."""


@pytest.mark.parametrize("text", ["float() of a Var drops its derivative: use x.value for the number",
                                  "math.sin cannot take an adteach value: use ad.sin"])
def test_the_cores_conversion_error_gets_the_math_hint(text):
    def v7(w):
        raise ConversionError(text)

    got = message(call, v7, 4.0)
    assert got.startswith(f"v7 raised ConversionError at w=4: {text}")
    assert got.endswith("Use ad.sin, ad.exp, ... (or np.sin, np.exp).")


def test_the_truth_value_of_an_array_gets_a_hint():
    def train(losses):
        if losses:
            return 1

    assert "compare single numbers, or use np.all(...) / np.any(...)" in message(call, train, np.ones(3))


# --- the exercise notebooks that use these helpers ---------------------------------------------
# (run in-process, without a kernel: `pytest --nbval exercises/source/` is the full check)
import json  # noqa: E402
import re  # noqa: E402
from pathlib import Path  # noqa: E402

SOURCES = sorted((Path(__file__).resolve().parent.parent / "exercises" / "source").glob("*.ipynb"))


def _cells(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            yield cell["id"], cell["metadata"].get("nbgrader", {}), src


def _stub(src):
    """What a student sees before writing anything: solution regions replaced by the stub."""
    return re.sub(r"^([ \t]*)### BEGIN SOLUTION\n.*?^[ \t]*### END SOLUTION[ \t]*$",
                  lambda m: f"{m.group(1)}# YOUR CODE HERE\n{m.group(1)}raise NotImplementedError()",
                  src, flags=re.S | re.M)


@pytest.mark.parametrize("path", SOURCES, ids=[p.stem for p in SOURCES])
def test_exercise_solutions_pass_every_test(path):
    ns = {"__name__": "__main__"}
    for cid, meta, src in _cells(path):
        exec(compile(src, f"<{path.stem}:{cid}>", "exec"), ns)  # noqa: S102 - our own notebooks


@pytest.mark.parametrize("path", SOURCES, ids=[p.stem for p in SOURCES])
def test_unsolved_exercises_fail_with_a_verdict(path):
    """Every test cell of an untouched notebook fails with a CheckFailed message, never a bare error."""
    ns = {"__name__": "__main__"}
    tests = 0
    for cid, meta, src in _cells(path):
        code = compile(_stub(src), f"<{path.stem}:{cid}>", "exec")
        if not meta.get("grade"):
            try:
                exec(code, ns)  # noqa: S102
            except NotImplementedError:
                pass  # a stub, or a demo cell that needs the student's code
            continue
        tests += 1
        with pytest.raises(CheckFailed) as info:
            exec(code, ns)  # noqa: S102
        assert "0x" not in str(info.value)
    assert tests >= 2


def test_non_numeric_expectations_are_compared_entry_by_entry_never_by_the_answers_eq():
    class AlwaysEqual:  # a liar: under the grader its == would run in the student's process
        def __eq__(self, other):
            return True

        __hash__ = object.__hash__

    shapes = [(2, 16), (16,), (16, 1)]  # ragged: not one numeric array
    check_value("the parameter shapes", [(2, 16), (16,), (16, 1)], shapes)
    check_value("the parameter shapes", [np.shape(np.zeros(s)) for s in shapes], shapes)
    assert message(check_value, "the parameter shapes", [AlwaysEqual(), (16,), (16, 1)], shapes).startswith(
        "the parameter shapes is wrong:\n  expected [(2, 16), (16,), (16, 1)], got [")
    assert message(check_value, "the parameter shapes", [(2, 17), (16,), (16, 1)], shapes) == (
        "the parameter shapes is wrong:\n  expected [(2, 16), (16,), (16, 1)], got [(2, 17), (16,), (16, 1)]")
    assert message(check_value, "the name", AlwaysEqual(), "relu").startswith(
        "the name is wrong:\n  expected 'relu', got ")
    check_value("the name", "relu", "relu")
    check_value("the settings", {"act": "relu", "sizes": [2, 16]}, {"act": "relu", "sizes": [2, 16]})
    assert "is wrong" in message(check_value, "the settings", {"act": AlwaysEqual(), "sizes": [2, 16]},
                                 {"act": "relu", "sizes": [2, 16]})


def test_call_puts_the_tests_arrays_back_and_names_the_change():
    def descend(grad_fn, w0, learning_rate, steps):
        w = w0
        for _ in range(steps):
            w -= learning_rate * grad_fn(w)
        return w

    w0 = np.array([1.0, -2.0])
    assert message(call, descend, lambda w: w, w0, 0.5, 1) == (
        "descend changed the array passed to it as w0 in place (the test's [1, -2] became [0.5, -1]): leave "
        "the test's arrays as they are: make new values (w = w - ...) or work on a copy (w0.copy()); w -= ... "
        "and w[...] = ... change the caller's array")
    assert w0.tolist() == [1.0, -2.0]  # put back: an expected value computed from w0 afterwards is the test's own

    def zero_targets(data):  # an array inside a dict, as a test may pass its data
        data["ys"][...] = 0.0
        return 0.0

    data = {"xs": np.arange(3.0), "ys": np.ones(3)}
    assert "changed the array passed to it as data in place" in message(call, zero_targets, data)
    assert data["ys"].tolist() == [1.0, 1.0, 1.0]
    w1 = np.array([1.0, 1.0])
    assert call(descend, lambda w: w, w1, 0.5, 1, may_change_inputs=True).tolist() == [0.5, 0.5]
    assert w1.tolist() == [0.5, 0.5]  # left to the function, as a plain call would
    assert call(lambda w: w * 2, w0).tolist() == [2.0, -4.0]  # reading is fine
