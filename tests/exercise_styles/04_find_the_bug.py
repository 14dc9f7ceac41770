"""Exercise 4 written as students write it. Each solution is cell id -> the code of that cell."""

_FIXED_MULTIPLY = '''
class FixedMultiply(Operation):
    def forward(self):
        x, y = self.inputs
        name = f"({x.name}*{y.name})"
        return Variable(x.value * y.value, name)

    def backward(self, grad):
        x, y = self.inputs
'''


def _fixed_multiply(body):
    """The cell ex04-fix with the body of FixedMultiply.backward written by the student."""
    return _FIXED_MULTIPLY + body + "\n"


SOLUTIONS = {
    "an array of differences, a comprehension, x.grad = x.grad + share": {
        "ex04-numerical": '''
def numerical_gradient_example1(x, y, h=1e-6):
    loss = lambda a, b: example1(a, b)[0]
    return np.array([loss(x + h, y) - loss(x - h, y), loss(x, y + h) - loss(x, y - h)]) / (2 * h)
''',
        "ex04-op-check": '''
def op_gradient_check(make_op, values, h=1e-6):
    leaves = [Variable(v, f"in{k}") for k, v in enumerate(values)]
    make_op()(*leaves).backward()

    def output(vals):
        return make_op()(*[Variable(v, "tmp") for v in vals]).value

    def moved(k, d):
        return [v + d if j == k else v for j, v in enumerate(values)]

    return [(leaf.grad, (output(moved(k, h)) - output(moved(k, -h))) / (2 * h)) for k, leaf in enumerate(leaves)]
''',
        "ex04-fix": _fixed_multiply('''\
        gx, gy = grad * y.value, grad * x.value
        x.backward(gx)
        y.backward(gy)
        x.grad = x.grad + gx
        y.grad = y.grad + gy'''),
    },
    "loops, a list of lists, a loop over the inputs": {
        "ex04-numerical": '''
def numerical_gradient_example1(x, y, h=1e-6):
    point = [x, y]
    grad = []
    for i in range(2):
        up, down = list(point), list(point)
        up[i] += h
        down[i] -= h
        grad.append((example1(*up)[0] - example1(*down)[0]) / (2 * h))
    return grad
''',
        "ex04-op-check": '''
def op_gradient_check(make_op, values, h=1e-6):
    inputs = []
    for v in values:
        inputs.append(Variable(v, "x"))
    result = make_op()(*inputs)
    result.backward()
    pairs = []
    for i in range(len(values)):
        plus = list(values)
        minus = list(values)
        plus[i] = plus[i] + h
        minus[i] = minus[i] - h
        f_plus = make_op()(*[Variable(v, "p") for v in plus]).value
        f_minus = make_op()(*[Variable(v, "m") for v in minus]).value
        pairs.append([inputs[i].grad, (f_plus - f_minus) / (2 * h)])
    return pairs
''',
        "ex04-fix": _fixed_multiply('''\
        for var, share in ((x, grad * y.value), (y, grad * x.value)):
            var.backward(share)
            var.grad += share'''),
    },
    'np.eye shifts, a dict of leaves, shares in a list': {
        "ex04-numerical": '''
def numerical_gradient_example1(x, y, h=1e-6):
    def loss(p):
        return example1(*p)[0]

    p = np.array([x, y], dtype=float)
    return tuple((loss(p + d) - loss(p - d)) / (2 * h) for d in h * np.eye(2))
''',
        "ex04-op-check": '''
def op_gradient_check(make_op, values, h=1e-6):
    leaves = {i: Variable(v, f"v{i}") for i, v in enumerate(values)}
    make_op()(*leaves.values()).backward(1.0)

    def value(vals):
        return make_op()(*(Variable(v, "w") for v in vals)).value

    result = []
    for i, leaf in leaves.items():
        plus = np.array(values, dtype=float)
        minus = plus.copy()
        plus[i] += h
        minus[i] -= h
        result.append((leaf.grad, (value(plus) - value(minus)) / (2 * h)))
    return result
''',
        "ex04-fix": _fixed_multiply('''\
        shares = [grad * y.value, grad * x.value]
        for var, share in zip(self.inputs, shares):
            var.backward(share)
        for var, share in zip(self.inputs, shares):
            var.grad += share'''),
    },
}

MISTAKES = {
    "reading .grad without calling backward()": {
        "cells": {"ex04-op-check": '''
def op_gradient_check(make_op, values, h=1e-6):
    inputs = [Variable(v, f"x{i}") for i, v in enumerate(values)]
    make_op()(*inputs)
    pairs = []
    for i, var in enumerate(inputs):
        up = [Variable(v + h * (j == i), "v") for j, v in enumerate(values)]
        down = [Variable(v - h * (j == i), "v") for j, v in enumerate(values)]
        pairs.append((var.grad, (make_op()(*up).value - make_op()(*down).value) / (2 * h)))
    return pairs
'''},
        "feedback": {"ex04-test-op-check": "every backprop gradient is 0, the value .grad has before backward() "
                                           "runs: call backward() on the operation's output"},
        "score": 4,
    },
    "FixedMultiply assigns .grad": {
        "cells": {"ex04-fix": _fixed_multiply('''\
        x.backward(grad * y.value)
        y.backward(grad * x.value)
        x.grad = grad * y.value
        y.grad = grad * x.value''')},
        "feedback": {"ex04-test-fix": "add each share to x.grad (x.grad += ...) instead of assigning it"},
        "score": 3,
    },
    "FixedMultiply keeps the wrong rule": {
        "cells": {"ex04-fix": _fixed_multiply('''\
        x.backward(grad * x.value)
        y.backward(grad * x.value)
        x.grad += grad * x.value
        y.grad += grad * y.value''')},
        "feedback": {"ex04-test-fix": "FixedMultiply.backward must give x the share grad * d(xy)/dx"},
        "score": 3,
    },
}
