"""Exercise 1 written as students write it. Each solution is cell id -> the code of that cell."""

SOLUTIONS = {
    "numpy arrays and loops": {
        "ex01-diffs": '''
def forward_diff(f, x, h):
    fx = f(x)
    return (f(x + h) - fx) / h


def central_diff(f, x, h=1e-6):
    return 0.5 * (f(x + h) - f(x - h)) / h
''',
        "ex01-steps": '''
def step_errors(f, df, x, steps):
    errors = np.empty(len(steps))  # an array, not a list
    for k, h in enumerate(steps):
        errors[k] = abs(central_diff(f, x, h) - df(x))
    return errors


def best_step(f, df, x, steps):
    errors = step_errors(f, df, x, steps)
    best = min(range(len(steps)), key=lambda k: errors[k])
    return steps[best]
''',
        "ex01-gradient": '''
def numerical_gradient(f, point, h=1e-6):
    grad = []  # a list, not an array
    for i in range(len(point)):
        up, down = list(point), list(point)
        up[i] += h
        down[i] -= h
        grad.append((f(*up) - f(*down)) / (2 * h))
    return grad
''',
    },
    "math, tuples and comprehensions": {
        "ex01-diffs": '''
import math


def forward_diff(f, x, h):
    return (f(x + h) - f(x)) / h


def central_diff(f, x, h=1e-6):
    right, left = f(x + h), f(x - h)
    return (right - left) / (h + h)
''',
        "ex01-steps": '''
def step_errors(f, df, x, steps):
    return tuple(math.fabs(central_diff(f, x, h) - df(x)) for h in steps)


def best_step(f, df, x, steps):
    return min(zip(step_errors(f, df, x, steps), steps))[1]
''',
        "ex01-gradient": '''
def numerical_gradient(f, point, h=1e-6):
    def moved(i, d):
        return [p + d if j == i else p for j, p in enumerate(point)]

    return tuple((f(*moved(i, h)) - f(*moved(i, -h))) / (2 * h) for i in range(len(point)))
''',
    },
    'vectorised over the steps, NumPy floats, np.eye': {
        "ex01-diffs": '''
def forward_diff(f, x, h):
    return (f(x + h) - f(x)) * (1.0 / h)


def central_diff(f, x, h=1e-6):
    return np.true_divide(f(x + h) - f(x - h), 2.0 * h)  # works for an array of steps too
''',
        "ex01-steps": '''
def step_errors(f, df, x, steps):
    return np.abs(central_diff(f, x, np.asarray(steps, dtype=float)) - df(x))  # all steps at once


def best_step(f, df, x, steps):
    return sorted(zip(step_errors(f, df, x, steps), steps))[0][1]
''',
        "ex01-gradient": '''
def numerical_gradient(f, point, h=1e-6):
    point = np.array(point, dtype=float)
    shifts = h * np.eye(point.size)
    return np.array([f(*(point + s)) - f(*(point - s)) for s in shifts]) / (2 * h)
''',
    },
}

MISTAKES = {
    "the central difference without the factor 1/2": {
        "cells": {"ex01-diffs": '''
def forward_diff(f, x, h):
    return (f(x + h) - f(x)) / h


def central_diff(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / h
'''},
        "feedback": {"ex01-test-central": "Your central_diff computes (f(x+h) - f(x-h))/h, which is missing the "
                                          "factor 1/2.",
                     "ex01-test-steps": "step_errors runs your central_diff: fix central_diff first"},
        "score": 3,
    },
    "a central difference for the forward one": {
        "cells": {"ex01-diffs": '''
def forward_diff(f, x, h):
    return (f(x + h) - f(x - h)) / (2 * h)


def central_diff(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)
'''},
        "feedback": {"ex01-test-forward": "Your forward_diff computes the central difference"},
        "score": 5,
    },
    "best_step returns the smallest error": {
        "cells": {"ex01-steps": '''
def step_errors(f, df, x, steps):
    return [abs(central_diff(f, x, h) - df(x)) for h in steps]


def best_step(f, df, x, steps):
    return min(step_errors(f, df, x, steps))
'''},
        "feedback": {"ex01-test-steps": "return the step h whose error is smallest (not the error, not its index)"},
        "score": 4,
    },
    "a gradient by forward differences": {
        "cells": {"ex01-gradient": '''
def numerical_gradient(f, point, h=1e-6):
    point = np.asarray(point, dtype=float)
    return np.array([(f(*(point + h * np.eye(len(point))[i])) - f(*point)) / h for i in range(len(point))])
'''},
        "feedback": {"ex01-test-gradient": "Your numerical_gradient computes forward differences"},
        "score": 4,
    },
}
