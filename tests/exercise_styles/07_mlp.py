"""Exercise 7 written as students write it. Each solution is cell id -> the code of that cell."""

SOLUTIONS = {
    "np.tanh on adteach arrays, backward() by hand, losses as an array": {
        "ex07-init": '''
def init_params(sizes, rng):
    layers = [(rng.normal(size=(m, n)) / np.sqrt(m), np.zeros(n)) for m, n in zip(sizes, sizes[1:])]
    return [p for layer in layers for p in layer]
''',
        "ex07-predict": '''
def predict(params, X):
    h = X
    for k in range(0, len(params), 2):
        h = h @ params[k] + params[k + 1]
        if k + 2 < len(params):
            h = np.tanh(h)
    return h[:, 0]
''',
        "ex07-loss": '''
def loss(params, X, t):
    u = -t * predict(params, X)
    return np.mean(np.maximum(u, 0.0) + np.log(1.0 + np.exp(-np.abs(u))))


def loss_and_grads(params, X, t):
    leaves = [ad.Var(p) for p in params]
    value = loss(leaves, X, t)
    value.backward()
    return value.value, [leaf.grad for leaf in leaves]
''',
        "ex07-train": '''
def train(X, t, sizes=(2, 16, 1), learning_rate=0.5, steps=600, seed=0):
    params = init_params(sizes, np.random.default_rng(seed))
    losses = np.zeros(steps)
    for k in range(steps):
        losses[k], grads = loss_and_grads(params, X, t)
        params = [p - learning_rate * g for p, g in zip(params, grads)]
    return tuple(params), losses
''',
    },
    "explicit layers, ad functions, value_and_grad, a while loop": {
        "ex07-init": '''
def init_params(sizes, rng):
    params = []
    for k in range(len(sizes) - 1):
        params += [rng.standard_normal((sizes[k], sizes[k + 1])) * (1 / np.sqrt(sizes[k])), np.zeros(sizes[k + 1])]
    return params
''',
        "ex07-predict": '''
def predict(params, X):
    weights, biases = params[0::2], params[1::2]
    h = X
    for layer, (W, b) in enumerate(zip(weights, biases)):
        z = h @ W + b
        h = z if layer == len(weights) - 1 else ad.tanh(z)
    return ad.reshape(h, (len(X),))
''',
        "ex07-loss": '''
def softplus(u):
    return ad.log(ad.exp(-ad.abs(u)) + 1.0) + ad.maximum(u, 0.0)


def loss(params, X, t):
    return ad.sum(softplus(-t * predict(params, X))) / len(t)


def loss_and_grads(params, X, t):
    return ad.value_and_grad(lambda *ps: loss(ps, X, t), argnums=tuple(range(len(params))))(*params)
''',
        "ex07-train": '''
def train(X, t, sizes=(2, 16, 1), learning_rate=0.6, steps=500, seed=0):
    params = init_params(sizes, np.random.default_rng(seed))
    losses = []
    while len(losses) < steps:
        value, grads = loss_and_grads(params, X, t)
        losses.append(value)
        params = [p - learning_rate * g for p, g in zip(params, grads)]
    return params, losses
''',
    },
    'gradients as a pytree, (u + |u|) / 2, a tuple of losses': {
        "ex07-init": '''
def init_params(sizes, rng):
    out = []
    for k in range(len(sizes) - 1):
        m, n = sizes[k], sizes[k + 1]
        out.extend([rng.normal(0.0, 1.0, size=(m, n)) * m ** -0.5, np.zeros((n,))])
    return out
''',
        "ex07-predict": '''
def predict(params, X):
    *hidden, (W_out, b_out) = list(zip(params[::2], params[1::2]))
    h = X
    for W, b in hidden:
        h = ad.tanh(h @ W + b)
    z = h @ W_out + b_out
    return z[:, 0]
''',
        "ex07-loss": '''
def loss(params, X, t):
    u = -t * predict(params, X)
    return ad.mean((u + ad.abs(u)) / 2 + ad.log(1.0 + ad.exp(-ad.abs(u))))


def loss_and_grads(params, X, t):
    return ad.value_and_grad(loss)(params, X, t)  # params is a list: its gradient is a list too
''',
        "ex07-train": '''
def train(X, t, sizes=(2, 16, 1), learning_rate=0.5, steps=600, seed=0):
    params = init_params(sizes, np.random.default_rng(seed))
    history = []
    for step in range(steps):
        value, grads = loss_and_grads(params, X, t)
        history.append(value)
        params = [p - learning_rate * g for p, g in zip(params, grads)]
    return params, tuple(history)
''',
    },
}

_BASE = next(iter(SOLUTIONS))

MISTAKES = {
    "math.tanh in predict": {
        "cells": {"ex07-predict": "import math\n" + SOLUTIONS[_BASE]["ex07-predict"].replace("np.tanh", "math.tanh")},
        # loss and train run predict: their tests name predict, not loss or train
        "feedback": {"ex07-test-predict": "Python's math functions (math.sin, math.exp, ...) and float(...) take "
                                          "plain numbers",
                     "ex07-test-loss": "predict raised TypeError",
                     "ex07-test-train": "predict raised TypeError"},
        "score": 1,
    },
    "predict returns an (n, 1) column": {
        "cells": {"ex07-predict": SOLUTIONS[_BASE]["ex07-predict"].replace("return h[:, 0]", "return h")},
        "feedback": {"ex07-test-predict": "expected shape (3,), got shape (3, 1)",
                     "ex07-test-loss": "loss runs your predict: fix predict first",
                     "ex07-test-train": "train runs your predict: fix predict first"},
        "score": 1,
    },
    "the loss computed as written, which overflows": {
        "cells": {"ex07-loss": '''
def loss(params, X, t):
    return ad.mean(ad.log(1.0 + ad.exp(-t * predict(params, X))))


def loss_and_grads(params, X, t):
    value, grads = ad.value_and_grad(lambda *ps: loss(list(ps), X, t), argnums=tuple(range(len(params))))(*params)
    return value, list(grads)
'''},
        "feedback": {"ex07-test-loss": "compute log(1 + exp(u)) as max(u, 0) + log(1 + exp(-|u|))"},
        "score": 5,
    },
    "reading .grad before backward()": {
        "cells": {"ex07-loss": SOLUTIONS[_BASE]["ex07-loss"].replace(
            "    value.backward()\n    return value.value, [leaf.grad for leaf in leaves]",
            "    grads = [leaf.grad for leaf in leaves]\n    value.backward()\n    return value.value, grads")},
        "feedback": {"ex07-test-loss": "An adteach value's .grad is None until .backward() has run",
                     "ex07-test-train": "train runs your loss_and_grads: fix loss_and_grads first"},
        "score": 2,
    },
    "a step uphill": {
        "cells": {"ex07-train": '''
def train(X, t, sizes=(2, 16, 1), learning_rate=0.5, steps=300, seed=0):
    params = init_params(sizes, np.random.default_rng(seed))
    losses = []
    for _ in range(steps):
        value, grads = loss_and_grads(params, X, t)
        losses.append(value)
        params = [p + learning_rate * g for p, g in zip(params, grads)]
    return params, losses
'''},
        "feedback": {"ex07-test-train": "the loss did not go down during training"},
        "score": 4,
    },
    "np.random instead of the rng given": {
        "cells": {"ex07-init": '''
def init_params(sizes, rng):
    params = []
    for m, n in zip(sizes[:-1], sizes[1:]):
        params.append(np.random.normal(size=(m, n)) / np.sqrt(m))
        params.append(np.zeros(n))
    return params
'''},
        "feedback": {"ex07-test-init": "draw rng.normal(size=(fan_in, fan_out)) / sqrt(fan_in), layer by layer, "
                                       "from the rng given"},
        "score": 6,
    },
}
