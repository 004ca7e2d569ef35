"""A correct small engine: + * ** relu, an iterative backward that accumulates as PyTorch does,
and refusals of non-numbers, nan and overflow. The base of the test engines: subclassed for
the in-process ones, and, as its source with relu's line marked BUG replaced, each hostile
engine run in a worker (tests/engines/hostile.py)."""

import math


class Value:
    def __init__(self, data, _children=()):
        if not isinstance(data, int | float) or isinstance(data, bool):
            raise TypeError(f"data must be a number, got {type(data).__name__}")
        if not math.isfinite(data):
            raise ValueError(f"data must be finite, got {data!r}")
        self.data, self.grad, self._prev = float(data), 0.0, _children
        self._local = ()

    def _node(self, data, parents, partials):
        if not math.isfinite(data):
            raise OverflowError("overflow")
        out = type(self)(data, parents)
        out._local = partials
        return out

    def __add__(self, other):
        other = other if isinstance(other, Value) else type(self)(other)
        return self._node(self.data + other.data, (self, other), (1.0, 1.0))

    __radd__ = __add__

    def __mul__(self, other):
        other = other if isinstance(other, Value) else type(self)(other)
        return self._node(self.data * other.data, (self, other), (other.data, self.data))

    __rmul__ = __mul__

    def __pow__(self, n):
        if not isinstance(n, int | float):
            raise TypeError("only number powers")
        if (self.data == 0 and (n < 0 or 0 < n < 1)) or (self.data < 0 and n != int(n)):
            raise ValueError("outside the domain")
        return self._node(self.data**n, (self,), (n * self.data ** (n - 1) if n else 0.0,))

    def relu(self):
        if self.data < 0:
            pass  # BUG
        return self._node(max(self.data, 0.0), (self,), (1.0 if self.data > 0 else 0.0,))

    def backward(self):
        order, seen, stack = [], set(), [(self, False)]
        while stack:
            v, done = stack.pop()
            if done:
                order.append(v)
            elif v not in seen:
                seen.add(v)
                stack.append((v, True))
                stack.extend((p, False) for p in v._prev)
        g = dict.fromkeys(order, 0.0)
        g[self] = 1.0
        for v in reversed(order):
            for p, d in zip(v._prev, v._local, strict=True):
                g[p] += d * g[v]
        for v in order:
            v.grad += g[v]
