"""Exercise 6 written as students write it. Each solution is cell id -> the code of that cell."""

SOLUTIONS = {
    "history[-1], NumPy functions on adteach values, losses as an array": {
        "ex06-descent": '''
def gradient_descent(grad_fn, w0, learning_rate, steps):
    history = [w0]
    for _ in range(steps):
        history.append(history[-1] - learning_rate * grad_fn(history[-1]))
    return history
''',
        "ex06-blog": '''
def v7(w, x=1.0):
    return np.exp(x * w + np.sin(x * w)) + np.sin(x * w) ** 2 * w


def blog_post_run():
    dv7 = ad.grad(v7)
    return gradient_descent(dv7, 4.0, 0.1, 30)
''',
        "ex06-fit": '''
def mse(params, xs, ys):
    residual = params[0] * xs + params[1] - ys
    return ad.sum(residual * residual) / len(xs)


def fit_line(xs, ys):
    loss = lambda p: mse(p, xs, ys)
    history = gradient_descent(ad.grad(loss), np.zeros(2), 0.7, 200)
    return history[-1], np.array([loss(p) for p in history])
''',
    },
    "a while loop, unpacked parameters, np.mean, a tuple": {
        "ex06-descent": '''
def gradient_descent(grad_fn, w0, learning_rate, steps):
    w, iterates = w0, [w0]
    k = 0
    while k < steps:
        w = w - learning_rate * grad_fn(w)
        iterates.append(w)
        k += 1
    return iterates
''',
        "ex06-blog": '''
def v7(w, x=1.0):
    xw = x * w
    s = ad.sin(xw)
    return ad.exp(xw + s) + w * s ** 2


def blog_post_run():
    return gradient_descent(lambda w: ad.grad(v7)(w), 4.0, 0.1, 30)
''',
        "ex06-fit": '''
def mse(params, xs, ys):
    a, b = params
    return np.mean((a * xs + b - ys) ** 2)


def fit_line(xs, ys):
    grad_fn = ad.grad(lambda p: mse(p, xs, ys))
    history = gradient_descent(grad_fn, np.array([0.0, 0.0]), 0.5, 300)
    losses = [mse(p, xs, ys) for p in history]
    return tuple(history[-1]), losses
''',
    },
    'a copy updated in place, 0-d arrays, NumPy-float losses': {
        "ex06-descent": '''
def gradient_descent(grad_fn, w0, learning_rate, steps):
    w = np.array(w0, dtype=float)  # a copy: w0 itself is never touched
    history = [w0]
    for _ in range(steps):
        w = w.copy()  # a new array for every iterate, then updated in place
        w -= learning_rate * np.asarray(grad_fn(w))
        history.append(w)
    return history
''',
        "ex06-blog": '''
def v7(w, x=1.0):
    s = np.sin(x * w)
    return np.exp(x * w) * np.exp(s) + w * s * s


def blog_post_run():
    return gradient_descent(ad.grad(v7), 4.0, 0.1, 30)
''',
        "ex06-fit": '''
def mse(params, xs, ys):
    residual = params[0] * xs + params[1] - ys
    return np.sum(residual ** 2) / xs.size


def fit_line(xs, ys):
    from functools import partial

    history = gradient_descent(ad.grad(partial(mse, xs=xs, ys=ys)), np.zeros(2), 0.8, 120)
    return list(history[-1]), [mse(w, xs, ys) for w in history]
''',
    },
}

_FIT = '''
def mse(params, xs, ys):
    return ad.mean((params[0] * xs + params[1] - ys) ** 2)


def fit_line(xs, ys):
    grad_fn = ad.grad(lambda p: mse(p, xs, ys))
    history = gradient_descent(grad_fn, np.array([0.0, 0.0]), {learning_rate}, 200)
    return history[-1], [mse(p, xs, ys) for p in history{skip}]
'''

MISTAKES = {
    "w -= ... changes the caller's array": {
        "cells": {"ex06-descent": '''
def gradient_descent(grad_fn, w0, learning_rate, steps):
    history = [w0]
    w = w0
    for _ in range(steps):
        w -= learning_rate * grad_fn(w)
        history.append(w)
    return history
''', "ex06-fit": _FIT.format(learning_rate=0.5, skip="")},
        "feedback": {
            "ex06-test-descent": "gradient_descent changed the array passed to it as w0 in place",
            # the fit test names gradient_descent, not fit_line
            "ex06-test-fit": "fit_line runs your gradient_descent: fix gradient_descent first",
        },
        "score": 2,
    },
    "fit_line rewrites the test's data instead of fitting it": {
        # the red team's attack as a mistake: zero the targets so the zero line fits "perfectly".
        # The test's arrays are put back as soon as fit_line returns, and the change is named
        "cells": {"ex06-fit": '''
def mse(params, xs, ys):
    return ad.mean((params[0] * xs + params[1] - ys) ** 2)


def fit_line(xs, ys):
    ys[...] = 0.0
    return np.zeros(2), [mse(np.zeros(2), xs, ys), 0.0]
'''},
        "feedback": {"ex06-test-fit": "fit_line changed the array passed to it as ys in place"},
        "score": 4,
    },
    "a history of copies, but w -= ... still changes w0": {
        "cells": {"ex06-descent": '''
def gradient_descent(grad_fn, w0, learning_rate, steps):
    w = w0
    history = [np.copy(w0)]
    for _ in range(steps):
        w -= learning_rate * grad_fn(w)
        history.append(np.copy(w))
    return history
'''},
        # only the loop's test fails: fit_line does not care that its own starting array changed
        "feedback": {"ex06-test-descent": "gradient_descent changed the array passed to it as w0 in place (the "
                                          "test's [1, -2] became [0.9025, -0.5])"},
        "score": 5,
    },
    "only the final point returned": {
        "cells": {"ex06-descent": '''
def gradient_descent(grad_fn, w0, learning_rate, steps):
    w = w0
    for _ in range(steps):
        w = w - learning_rate * grad_fn(w)
    return w
'''},
        "feedback": {"ex06-test-descent": "return the list of all iterates [w0, w1, ..., w_steps] (steps + 1 entries)",
                     "ex06-test-blog": "blog_post_run runs your gradient_descent: fix gradient_descent first",
                     "ex06-test-fit": "fit_line runs your gradient_descent: fix gradient_descent first"},
        "score": 0,
    },
    "math.sin drops the derivative": {
        "cells": {"ex06-blog": '''
import math


def v7(w, x=1.0):
    return math.exp(x * w + math.sin(x * w)) + math.sin(x * w) ** 2 * w


def blog_post_run():
    return gradient_descent(ad.grad(v7), 4.0, 0.1, 30)
'''},
        "feedback": {"ex06-test-blog": "math.sin"},
        "score": 5,
    },
    "a learning rate too large": {
        "cells": {"ex06-fit": _FIT.format(learning_rate=1.2, skip="")},
        "feedback": {"ex06-test-fit": "the losses of fit_line go up at entry"},
        "score": 4,
    },
    "the first loss left out": {
        "cells": {"ex06-fit": _FIT.format(learning_rate=0.5, skip="[1:]")},
        "feedback": {"ex06-test-fit": "record the loss of every iterate, the first one included"},
        "score": 4,
    },
}
