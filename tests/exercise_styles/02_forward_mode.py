"""Exercise 2 written as students write it. Each solution is cell id -> the code of that cell."""

SOLUTIONS = {
    "a Dual that lifts numbers, math functions, a NumPy array gradient": {
        "ex02-dual": '''
class Dual:
    __slots__ = ("val", "dot")

    def __init__(self, val, dot=0.0):
        self.val, self.dot = val, dot

    def __repr__(self):
        return f"Dual({self.val:.6g}, {self.dot:.6g})"

    @staticmethod
    def lift(v):
        return v if isinstance(v, Dual) else Dual(v, 0.0)

    def __add__(self, other):
        other = Dual.lift(other)
        return Dual(self.val + other.val, self.dot + other.dot)

    __radd__ = __add__

    def __sub__(self, other):
        other = Dual.lift(other)
        return Dual(self.val - other.val, self.dot - other.dot)

    def __mul__(self, other):
        other = Dual.lift(other)
        return Dual(self.val * other.val, self.val * other.dot + other.val * self.dot)

    __rmul__ = __mul__

    def __truediv__(self, other):
        other = Dual.lift(other)
        q = self.val / other.val
        return Dual(q, (self.dot - q * other.dot) / other.val)
''',
        "ex02-functions": '''
import math


def sin(d):
    return Dual(math.sin(d.val), math.cos(d.val) * d.dot)


def exp(d):
    e = math.exp(d.val)
    return Dual(e, e * d.dot)
''',
        "ex02-forward-gradient": '''
def forward_gradient(f, x1, x2):
    return np.array([f(Dual(x1, s1), Dual(x2, s2)).dot for s1, s2 in np.eye(2)])
''',
    },
    "a dataclass, NumPy functions, a list gradient": {
        "ex02-dual": '''
from dataclasses import dataclass


@dataclass
class Dual:
    val: float
    dot: float = 0.0

    def __add__(self, other):
        return Dual(self.val + other.val, self.dot + other.dot)

    def __sub__(self, other):
        return Dual(self.val - other.val, self.dot - other.dot)

    def __mul__(self, other):
        x, dx = self.val, self.dot
        y, dy = other.val, other.dot
        return Dual(x * y, dx * y + x * dy)

    def __truediv__(self, other):
        x, dx = self.val, self.dot
        y, dy = other.val, other.dot
        return Dual(x / y, dx / y - x * dy / y ** 2)
''',
        "ex02-functions": '''
def sin(d):
    return type(d)(np.sin(d.val), np.cos(d.val) * d.dot)


def exp(d):
    return type(d)(np.exp(d.val), np.exp(d.val) * d.dot)
''',
        "ex02-forward-gradient": '''
def forward_gradient(f, x1, x2):
    grads = []
    for seed1, seed2 in [(1.0, 0.0), (0.0, 1.0)]:
        grads.append(f(Dual(x1, seed1), Dual(x2, seed2)).dot)
    return grads
''',
    },
    'a NamedTuple Dual, math on unpacked values, a tuple gradient': {
        "ex02-dual": '''
from typing import NamedTuple


class Dual(NamedTuple):
    val: float
    dot: float = 0.0

    def __add__(self, other):
        return Dual(self.val + other.val, self.dot + other.dot)

    def __sub__(self, other):
        return Dual(self.val - other.val, self.dot - other.dot)

    def __mul__(self, other):
        (x, dx), (y, dy) = self, other
        return Dual(x * y, x * dy + y * dx)

    def __truediv__(self, other):
        (x, dx), (y, dy) = self, other
        inv = 1.0 / y
        return Dual(x * inv, (dx - x * inv * dy) * inv)
''',
        "ex02-functions": '''
import math


def sin(d):
    val, dot = d
    return Dual(math.sin(val), dot * math.cos(val))


def exp(d):
    e = math.exp(d.val)
    return Dual(e, d.dot * e)
''',
        "ex02-forward-gradient": '''
def forward_gradient(f, x1, x2):
    return tuple(f(Dual(x1, s), Dual(x2, 1.0 - s)).dot for s in (1.0, 0.0))
''',
    },
}

_DUAL = '''
class Dual:
    def __init__(self, val, dot=0.0):
        self.val = val
        self.dot = dot

    def __add__(self, other):
        return Dual(self.val + other.val, self.dot + other.dot)

    def __sub__(self, other):
        return Dual(self.val - other.val, self.dot - other.dot)

    def __mul__(self, other):
        return Dual(self.val * other.val, {mul})

    def __truediv__(self, other):
        return Dual(self.val / other.val, {div})
'''
_RIGHT_MUL = "self.dot * other.val + self.val * other.dot"
_RIGHT_DIV = "(self.dot * other.val - self.val * other.dot) / other.val ** 2"

MISTAKES = {
    "the product of the tangents": {
        "cells": {"ex02-dual": _DUAL.format(mul="self.dot * other.dot", div=_RIGHT_DIV)},
        "feedback": {"ex02-test-mul": "Your Dual.__mul__ gives tangent dx*dy; the numerical derivative says "
                                      "dx*y + x*dy",
                     "ex02-test-gradient": "forward_gradient runs your Dual rules, and one is wrong: fix it first."},
        "score": 3,
    },
    "the quotient rule without the square": {
        "cells": {"ex02-dual": _DUAL.format(mul=_RIGHT_MUL, div="(self.dot * other.val - self.val * other.dot) / other.val")},
        "feedback": {"ex02-test-div": "Your Dual.__truediv__ gives tangent (dx*y - x*dy)/y; the numerical derivative "
                                      "says (dx*y - x*dy)/y**2",
                     "ex02-test-gradient": "forward_gradient runs your Dual rules, and one is wrong: fix it first."},
        "score": 3,
    },
    "sin without the chain rule": {
        "cells": {"ex02-functions": '''
def sin(d):
    return Dual(np.sin(d.val), np.cos(d.val))


def exp(d):
    return Dual(np.exp(d.val), np.exp(d.val) * d.dot)
'''},
        "feedback": {"ex02-test-sin": "Multiply by the input's tangent dx (the chain rule).",
                     "ex02-test-gradient": "forward_gradient runs your Dual rules, and one is wrong: fix it first."},
        "score": 3,
    },
    "math.sin of the Dual itself": {
        "cells": {"ex02-functions": '''
import math


def sin(d):
    return Dual(math.sin(d), math.cos(d) * d.dot)


def exp(d):
    return Dual(np.exp(d.val), np.exp(d.val) * d.dot)
'''},
        "feedback": {"ex02-test-sin": "A function of Python's math module got a Dual: it takes plain numbers "
                                      "(the value inside, such as d.val).",
                     "ex02-test-gradient": "forward_gradient runs your Dual rules, and one is wrong: fix it first."},
        "score": 3,
    },
    "one forward pass only": {
        "cells": {"ex02-forward-gradient": '''
def forward_gradient(f, x1, x2):
    return f(Dual(x1, 1.0), Dual(x2, 1.0)).dot
'''},
        "feedback": {"ex02-test-gradient": "return both partial derivatives: one forward pass seeded (1, 0) for "
                                           "df/dx1"},
        "score": 4,
    },
}
