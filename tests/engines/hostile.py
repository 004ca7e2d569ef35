"""Hostile engines: a correct small engine (+ * ** relu) whose relu misbehaves on a negative
input (BUG): it hangs, calls exit(), raises BaseException, aborts, prints megabytes, or gives
a node whose data is not a number; with the relu row's status each must get."""

from micrograd.testing.conformance import CRASH, FAIL, PASS, TIMEOUT

ENGINE = """
import math, os, sys, time

class Value:
    def __init__(self, data, _children=()):
        if not isinstance(data, (int, float)) or isinstance(data, bool):
            raise TypeError("data must be a number")
        if not math.isfinite(data):
            raise ValueError("data must be finite")
        self.data, self.grad, self._prev, self._local = float(data), 0.0, _children, ()

    def _node(self, data, parents, partials):
        if not math.isfinite(data):
            raise OverflowError("overflow")
        out = Value(data, parents)
        out._local = partials
        return out

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return self._node(self.data + other.data, (self, other), (1.0, 1.0))

    __radd__ = __add__

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return self._node(self.data * other.data, (self, other), (other.data, self.data))

    __rmul__ = __mul__

    def relu(self):
        if self.data < 0:
            BUG
        return self._node(max(self.data, 0.0), (self,), (1.0 if self.data > 0 else 0.0,))

    def backward(self):
        order, seen, stack = [], set(), [(self, False)]
        while stack:
            v, done = stack.pop()
            if done:
                order.append(v)
            elif id(v) not in seen:
                seen.add(id(v))
                stack.append((v, True))
                stack.extend((p, False) for p in v._prev)
        self.grad = 1.0
        for v in reversed(order):
            for p, d in zip(v._prev, v._local):
                p.grad += d * v.grad
"""

BUGS = {
    "hangs": ("time.sleep(3600)", TIMEOUT),
    "exits": ("exit(3)", CRASH),
    "raises BaseException": ("raise BaseException('no')", None),
    "aborts": ("os.abort()", CRASH),
    # Printing is not a wrong answer: the row passes, and the pipe never blocks.
    "floods": ("sys.stdout.write('x' * 2_000_000); sys.stderr.write('y' * 2_000_000)", PASS),
    "gives a non-number": ("r = self._node(0.0, (self,), (0.0,)); r.data = 'zero'; return r", FAIL),
}
