"""Exercise 5 written as students write it. Each solution is cell id -> the code of that cell."""

SOLUTIONS = {
    "Kahn's algorithm and a dict of gradients": {
        "ex05-topo": '''
def topological_order(output):
    # every node of the graph, with an explicit stack
    nodes, stack, seen = [], [output], {id(output)}
    while stack:
        node = stack.pop()
        nodes.append(node)
        for parent in node.parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    # Kahn: a node is ready once all its (distinct) parents are listed
    children = {id(n): [] for n in nodes}
    waiting = {}
    for n in nodes:
        distinct = {id(p): p for p in n.parents}
        waiting[id(n)] = len(distinct)
        for p in distinct.values():
            children[id(p)].append(n)
    ready = [n for n in nodes if waiting[id(n)] == 0]
    order = []
    while ready:
        n = ready.pop()
        order.append(n)
        for child in children[id(n)]:
            waiting[id(child)] -= 1
            if waiting[id(child)] == 0:
                ready.append(child)
    return order
''',
        "ex05-backward": '''
def backward(output):
    order = topological_order(output)
    grads = {id(n): 0.0 for n in order}
    grads[id(output)] = 1.0
    for node in order[::-1]:
        for parent, partial in zip(node.parents, node.partials):
            grads[id(parent)] += grads[id(node)] * partial
    for node in order:
        node.grad = grads[id(node)]
''',
    },
    "a stack of parent iterators and index loops": {
        "ex05-topo": '''
def topological_order(output):
    order, done = [], set()
    stack = [(output, iter(output.parents))]
    on_stack = {output}
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if parent not in done and parent not in on_stack:
                on_stack.add(parent)
                stack.append((parent, iter(parent.parents)))
                break
        else:
            stack.pop()
            done.add(node)
            order.append(node)
    return order
''',
        "ex05-backward": '''
def backward(output):
    order = topological_order(output)
    for node in order:
        node.grad = 0.0
    output.grad = 1.0
    k = len(order)
    while k > 0:
        k -= 1
        node = order[k]
        for i in range(len(node.parents)):
            node.parents[i].grad = node.parents[i].grad + node.grad * node.partials[i]
''',
    },
    'a stack of [node, next parent] and a defaultdict of adjoints': {
        "ex05-topo": '''
def topological_order(output):
    order, visited = [], {id(output)}
    stack = [[output, 0]]
    while stack:
        top = stack[-1]
        node, i = top
        if i < len(node.parents):
            top[1] += 1
            parent = node.parents[i]
            if id(parent) not in visited:
                visited.add(id(parent))
                stack.append([parent, 0])
        else:
            order.append(stack.pop()[0])
    return order
''',
        "ex05-backward": '''
from collections import defaultdict


def backward(output):
    adjoint = defaultdict(float)
    adjoint[id(output)] = 1.0
    for node in reversed(topological_order(output)):
        node.grad = adjoint[id(node)]  # complete: every child came earlier in this loop
        for parent, partial in zip(node.parents, node.partials):
            adjoint[id(parent)] += node.grad * partial
''',
    },
}

_BACKWARD = '''
def backward(output):
    order = topological_order(output)
    for node in order:
        node.grad = 0.0
    output.grad = 1.0
    for node in reversed(order):
        for parent, partial in zip(node.parents, node.partials):
            parent.grad += node.grad * partial
'''

MISTAKES = {
    "a recursive sort": {
        "cells": {"ex05-topo": '''
def topological_order(output):
    order, seen = [], set()

    def visit(node):
        if node in seen:
            return
        seen.add(node)
        for parent in node.parents:
            visit(parent)
        order.append(node)

    visit(output)
    return order
''', "ex05-backward": _BACKWARD},
        # backward is right, but it runs the recursive sort: its test says so, naming topological_order
        "feedback": {"ex05-test-topo": "Use a loop with an explicit stack instead of recursion.",
                     "ex05-test-backward": "backward runs your topological_order, which is wrong: fix "
                                           "topological_order first."},
        "score": 0,
    },
    "no set of visited nodes": {
        "cells": {"ex05-topo": '''
def topological_order(output):
    order = []
    stack = [(output, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        stack.append((node, True))
        for parent in node.parents:
            stack.append((parent, False))
    return order
''', "ex05-backward": _BACKWARD},
        "feedback": {"ex05-test-topo": "keep a set of visited nodes so that each node is listed once",
                     "ex05-test-backward": "fix topological_order first.\n  topological_order(o) for the diamond "
                                           "is wrong: y appears twice"},
        "score": 0,
    },
    "cuts the graph instead of sorting it": {
        # the red team's attack on the grader, as a mistake: the order is checked against the graph
        # as it was before the call, so cutting it gains nothing and is named
        "cells": {"ex05-topo": '''
def topological_order(output):
    output.parents = ()
    return [output]
''', "ex05-backward": _BACKWARD},
        "feedback": {"ex05-test-topo": "topological_order(o) for the diamond changed the graph it was given "
                                       "(the parents of o): a topological sort must only read the graph",
                     "ex05-test-backward": "fix topological_order first."},
        "score": 0,
    },
    "backward without resetting the gradients": {
        "cells": {"ex05-backward": _BACKWARD.replace("    for node in order:\n        node.grad = 0.0\n", "")},
        "feedback": {"ex05-test-backward": "reset every grad to 0.0 at the start of backward"},
        "score": 2,
    },
    "backward assigns the shares": {
        "cells": {"ex05-backward": _BACKWARD.replace("parent.grad += ", "parent.grad = ")},
        "feedback": {"ex05-test-backward": "each node adds (+=) node.grad * partial to each parent's grad"},
        "score": 2,
    },
}
