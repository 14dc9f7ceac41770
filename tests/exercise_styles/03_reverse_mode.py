"""Exercise 3 written as students write it. Each solution is cell id -> the code of that cell."""

_GIVEN_FORWARD_SWEEP = '''
    v_1, v0 = x1, x2
    v1 = v_1 / v0
    v2 = np.sin(v1)
    v3 = np.exp(v0)
    v4 = v1 - v3
    v5 = v2 + v4
    v6 = v5 * v4
'''

SOLUTIONS = {
    "NumPy arrays, math functions, a dict of adjoints": {
        "ex03-binary": '''
def mul_backward(g, x, y):
    return np.array([g * y, g * x])


def div_backward(g, x, y):
    return np.array([g / y, -g * x / (y * y)])
''',
        "ex03-unary": '''
import math


def sin_backward(g, x):
    return g * math.cos(x)


def exp_backward(g, x):
    return math.exp(x) * g


def log_backward(g, x):
    return g * (1 / x)
''',
        "ex03-sweep": '''
def f_and_gradient(x1, x2):
''' + _GIVEN_FORWARD_SWEEP + '''
    bar = dict.fromkeys(["v_1", "v0", "v1", "v2", "v3", "v4", "v5"], 0.0)
    bar["v6"] = 1.0
    d5, d4 = mul_backward(bar["v6"], v5, v4)
    bar["v5"] += d5
    bar["v4"] += d4
    d2, d4 = add_backward(bar["v5"], v2, v4)
    bar["v2"] += d2
    bar["v4"] += d4
    d1, d3 = sub_backward(bar["v4"], v1, v3)
    bar["v1"] += d1
    bar["v3"] += d3
    bar["v0"] += exp_backward(bar["v3"], v0)
    bar["v1"] += sin_backward(bar["v2"], v1)
    d_1, d0 = div_backward(bar["v1"], v_1, v0)
    bar["v_1"] += d_1
    bar["v0"] += d0
    return v6, np.array([bar["v_1"], bar["v0"]])
''',
        "ex03-baydin": '''
import math


def baydin_gradient(x1, x2):
    v1 = math.log(x1)
    v2 = x1 * x2
    v3 = v1 + v2
    v4 = math.sin(x2)
    g3, g4 = sub_backward(1.0, v3, v4)
    g1, g2 = add_backward(g3, v1, v2)
    gx1, gx2 = mul_backward(g2, x1, x2)
    return np.array([gx1 + log_backward(g1, x1), gx2 + sin_backward(g4, x2)])
''',
    },
    "lists and a tape of rules": {
        "ex03-binary": '''
def mul_backward(g, x, y):
    return [g * y, g * x]


def div_backward(g, x, y):
    out = x / y
    return [g / y, -g * out / y]
''',
        "ex03-unary": '''
def sin_backward(g, x):
    return np.cos(x) * g


def exp_backward(g, x):
    return g * np.exp(x)


def log_backward(g, x):
    return g / x
''',
        "ex03-sweep": '''
def reverse_sweep(values, tape, output):
    """Adjoints of every named value: visit the tape backwards, adding up the shares."""
    adjoint = dict.fromkeys(values, 0.0)
    adjoint[output] = 1.0
    for out, rule, inputs in reversed(tape):
        shares = rule(adjoint[out], *[values[name] for name in inputs])
        if len(inputs) == 1:
            shares = [shares]
        for name, share in zip(inputs, shares):
            adjoint[name] += share
    return adjoint


def f_and_gradient(x1, x2):
''' + _GIVEN_FORWARD_SWEEP + '''
    values = {"v_1": v_1, "v0": v0, "v1": v1, "v2": v2, "v3": v3, "v4": v4, "v5": v5, "v6": v6}
    tape = [("v1", div_backward, ["v_1", "v0"]), ("v2", sin_backward, ["v1"]), ("v3", exp_backward, ["v0"]),
            ("v4", sub_backward, ["v1", "v3"]), ("v5", add_backward, ["v2", "v4"]),
            ("v6", mul_backward, ["v5", "v4"])]
    adjoint = reverse_sweep(values, tape, "v6")
    return v6, [adjoint["v_1"], adjoint["v0"]]
''',
        "ex03-baydin": '''
def baydin_gradient(x1, x2):
    values = {"v_1": x1, "v0": x2}
    values["v1"] = np.log(x1)
    values["v2"] = x1 * x2
    values["v3"] = values["v1"] + values["v2"]
    values["v4"] = np.sin(x2)
    values["v5"] = values["v3"] - values["v4"]
    tape = [("v1", log_backward, ["v_1"]), ("v2", mul_backward, ["v_1", "v0"]), ("v3", add_backward, ["v1", "v2"]),
            ("v4", sin_backward, ["v0"]), ("v5", sub_backward, ["v3", "v4"])]
    adjoint = reverse_sweep(values, tape, "v5")
    return [adjoint["v_1"], adjoint["v0"]]
''',
    },
    'vectorised shares, an array of adjoints, NumPy floats': {
        "ex03-binary": '''
def mul_backward(g, x, y):
    return g * np.array([y, x])


def div_backward(g, x, y):
    return g * np.array([1.0, -x / y]) / y
''',
        "ex03-unary": '''
def sin_backward(g, x):
    return np.multiply(g, np.cos(x))


def exp_backward(g, x):
    return np.exp(x) * g


def log_backward(g, x):
    return np.divide(g, x)
''',
        "ex03-sweep": '''
def f_and_gradient(x1, x2):
''' + _GIVEN_FORWARD_SWEEP + '''
    bar = np.zeros(8)  # bar[k + 1] is the adjoint of v_k
    bar[7] = 1.0
    s5, s4 = mul_backward(bar[7], v5, v4)
    bar[6] += s5
    bar[5] += s4
    s2, s4 = add_backward(bar[6], v2, v4)
    bar[3] += s2
    bar[5] += s4
    s1, s3 = sub_backward(bar[5], v1, v3)
    bar[2] += s1
    bar[4] += s3
    bar[1] += exp_backward(bar[4], v0)
    bar[2] += sin_backward(bar[3], v1)
    s_1, s0 = div_backward(bar[2], v_1, v0)
    bar[0] += s_1
    bar[1] += s0
    return v6, bar[:2]
''',
        "ex03-baydin": '''
def baydin_gradient(x1, x2):
    v1, v2 = np.log(x1), x1 * x2
    v3 = v1 + v2
    v4 = np.sin(x2)
    bar3, bar4 = sub_backward(1.0, v3, v4)
    bar1, bar2 = add_backward(bar3, v1, v2)
    grad = np.zeros(2)
    grad += mul_backward(bar2, x1, x2)
    grad[0] += log_backward(bar1, x1)
    grad[1] += sin_backward(bar4, x2)
    return grad
''',
    },
}

MISTAKES = {
    "the shares of mul swapped": {
        "cells": {"ex03-binary": '''
def mul_backward(g, x, y):
    return (g * x, g * y)


def div_backward(g, x, y):
    return (g / y, -g * x / y ** 2)
'''},
        "feedback": {"ex03-test-mul": "The results for x and y look swapped.",
                     "ex03-test-sweep": "f_and_gradient runs your backward rules, and one is wrong: fix it first.",
                     "ex03-test-baydin": "baydin_gradient runs your backward rules, and one is wrong: fix it first."},
        "score": 4,
    },
    "the sign of the quotient rule": {
        "cells": {"ex03-binary": '''
def mul_backward(g, x, y):
    return (g * y, g * x)


def div_backward(g, x, y):
    return (g / y, g * x / y ** 2)
'''},
        "feedback": {"ex03-test-div": "Your div_backward returns g*x/y**2 for input y; the numerical derivative "
                                      "says -g*x/y**2.",
                     "ex03-test-sweep": "f_and_gradient runs your backward rules, and one is wrong: fix it first."},
        "score": 5,
    },
    "sin_backward without g": {
        "cells": {"ex03-unary": '''
def sin_backward(g, x):
    return np.cos(x)


def exp_backward(g, x):
    return g * np.exp(x)


def log_backward(g, x):
    return g / x
'''},
        "feedback": {"ex03-test-sin": "Multiply by the incoming gradient g (the chain rule).",
                     "ex03-test-sweep": "f_and_gradient runs your backward rules, and one is wrong: fix it first.",
                     "ex03-test-baydin": "baydin_gradient runs your backward rules, and one is wrong: fix it first."},
        "score": 4,
    },
    "log_backward returns the log": {
        "cells": {"ex03-unary": '''
def sin_backward(g, x):
    return g * np.cos(x)


def exp_backward(g, x):
    return g * np.exp(x)


def log_backward(g, x):
    return g * np.log(x)
'''},
        "feedback": {"ex03-test-log": "Your log_backward returns g*log(x); the numerical derivative says g/x.",
                     "ex03-test-baydin": "baydin_gradient runs your backward rules, and one is wrong: fix it first."},
        "score": 6,
    },
    "a share overwritten instead of added": {
        "cells": {"ex03-sweep": '''
def f_and_gradient(x1, x2):
''' + _GIVEN_FORWARD_SWEEP + '''
    v5_bar, v4_bar = mul_backward(1.0, v5, v4)
    v2_bar, v4_bar = add_backward(v5_bar, v2, v4)
    v1_bar, v3_bar = sub_backward(v4_bar, v1, v3)
    v1_bar = v1_bar + sin_backward(v2_bar, v1)
    v0_bar = exp_backward(v3_bar, v0)
    v_1_bar, v0_share = div_backward(v1_bar, v_1, v0)
    return v6, (v_1_bar, v0_bar + v0_share)
'''},
        "feedback": {"ex03-test-sweep": "a value used twice (v4, v1, v0) gets the sum of its two shares"},
        "score": 6,
    },
}
