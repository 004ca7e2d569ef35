"""A corpus of engines with one typical student bug each: one template (the lecture's engine with
+ - * / ** neg exp tanh relu and an iterative backward) and each bug as a single textual change
to it, written from what students get wrong when they type the lecture; with the row of the
scorecard that must catch it and the severity it deserves."""

from micrograd.testing.conformance import CONVENTION, HARDENING, PRECISION, WRONG

TEMPLATE = """
import math

class Value:
    def __init__(self, data, _children=()):
        if not isinstance(data, (int, float)) or isinstance(data, bool):
            raise TypeError("data must be a number")
        if not math.isfinite(data):
            raise ValueError("data must be finite")
        self.data, self.grad = float(data), 0.0
        self._prev, self._backward = tuple(_children), lambda: None

    def _check(self, out):
        if not math.isfinite(out.data):
            raise OverflowError("overflow")
        return out

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = self._check(Value(self.data + other.data, (self, other)))
        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = self._check(Value(self.data * other.data, (self, other)))
        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, n):
        if not isinstance(n, (int, float)):
            return NotImplemented
        if (self.data == 0 and n < 0) or (self.data < 0 and n != int(n)):
            raise ValueError("outside the domain")
        out = self._check(Value(self.data ** n, (self,)))
        def _backward():
            self.grad += (n * self.data ** (n - 1) if n else 0.0) * out.grad
        out._backward = _backward
        return out

    def exp(self):
        out = self._check(Value(math.exp(self.data), (self,)))
        def _backward():
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,))
        e = math.exp(-2 * abs(self.data))
        def _backward():
            self.grad += 4 * e / (1 + e) ** 2 * out.grad  # sech(x)**2, without overflow
        out._backward = _backward
        return out

    def relu(self):
        out = Value(self.data if self.data > 0 else 0.0, (self,))
        def _backward():
            self.grad += (1.0 if self.data > 0 else 0.0) * out.grad
        out._backward = _backward
        return out

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __truediv__(self, other):
        if not isinstance(other, Value):
            other = Value(other)
        if other.data == 0:
            raise ZeroDivisionError("division by zero")
        return self * other ** -1

    def __radd__(self, other):
        return self + other

    def __rsub__(self, other):
        return other + (-self)

    def __rmul__(self, other):
        return self * other

    def __rtruediv__(self, other):
        return other * self ** -1

    def backward(self):
        topo, seen, stack = [], set(), [(self, False)]
        while stack:
            v, done = stack.pop()
            if done:
                topo.append(v)
            elif id(v) not in seen:
                seen.add(id(v))
                stack.append((v, True))
                stack.extend((p, False) for p in v._prev)
        for v in topo:
            v.grad = 0.0 if v is not self else v.grad
        self.grad = 1.0
        for v in reversed(topo):
            v._backward()
"""

# name: (text in TEMPLATE, its replacement, the row that must fail, its severity)
BUGS = {
    "rsub swapped": (
        "return other + (-self)",
        "return self - other",
        "reflected",
        WRONG,
    ),
    "rtruediv swapped": (
        "return other * self ** -1",
        "return self / other",
        "reflected",
        WRONG,
    ),
    "no radd": (
        "    def __radd__(self, other):\n        return self + other\n",
        "",
        "reflected",
        WRONG,
    ),
    "no rmul": (
        "    def __rmul__(self, other):\n        return self * other\n",
        "",
        "reflected",
        WRONG,
    ),
    "mul grad from own data": (
        "self.grad += other.data * out.grad",
        "self.grad += self.data * out.grad",
        ("op", "mul"),
        WRONG,
    ),
    "add grad to one input only": (
        "            other.grad += out.grad\n",
        "",
        ("op", "add"),
        WRONG,
    ),
    "grads assigned, not added": (
        "            self.grad += out.grad\n            other.grad += out.grad",
        "            self.grad = out.grad\n            other.grad = out.grad",
        "reuse",
        WRONG,
    ),
    "relu' = 1 everywhere": (
        "self.grad += (1.0 if self.data > 0 else 0.0) * out.grad",
        "self.grad += out.grad",
        ("op", "relu"),
        WRONG,
    ),
    "relu' = 1 at 0": (
        "self.grad += (1.0 if self.data > 0 else 0.0) * out.grad",
        "self.grad += (1.0 if self.data >= 0 else 0.0) * out.grad",
        ("kink", "relu"),
        CONVENTION,
    ),
    "relu passes negatives": (
        "Value(self.data if self.data > 0 else 0.0, (self,))",
        "Value(self.data, (self,))",
        ("op", "relu"),
        WRONG,
    ),
    "pow' = n * x**n": (
        "n * self.data ** (n - 1)",
        "n * self.data ** n",
        ("op", "pow"),
        WRONG,
    ),
    "pow' without n": ("n * self.data ** (n - 1)", "self.data ** (n - 1)", ("op", "pow"), WRONG),
    "tanh' = 1 - t": (
        "4 * e / (1 + e) ** 2 * out.grad",
        "(1 - t) * out.grad",
        ("op", "tanh"),
        WRONG,
    ),
    "tanh' from x": (
        "4 * e / (1 + e) ** 2 * out.grad",
        "(1 - self.data ** 2) * out.grad",
        ("op", "tanh"),
        WRONG,
    ),
    "tanh' = 1 - t**2 (the lecture's)": (
        "4 * e / (1 + e) ** 2 * out.grad",
        "(1 - t * t) * out.grad",
        ("op", "tanh"),
        PRECISION,
    ),
    "tanh overflows (the lecture's formula: raises above x = 355)": (
        "t = math.tanh(self.data)",
        "t = (math.exp(2 * self.data) - 1) / (math.exp(2 * self.data) + 1)",
        ("op", "tanh"),
        HARDENING,
    ),
    "tanh gives 0 above x = 354 (an overflow caught and ignored)": (
        "t = math.tanh(self.data)",
        "t = math.tanh(self.data) if abs(self.data) < 354 else 0.0",
        ("op", "tanh"),
        WRONG,
    ),
    "exp' = 1": ("self.grad += out.data * out.grad", "self.grad += out.grad", ("op", "exp"), WRONG),
    "exp' = x": (
        "self.grad += out.data * out.grad",
        "self.grad += self.data * out.grad",
        ("op", "exp"),
        WRONG,
    ),
    "exp' squares the incoming grad": (
        "self.grad += out.data * out.grad",
        "self.grad += out.grad * out.grad",
        "programs",
        WRONG,
    ),
    "backward in creation order": ("for v in reversed(topo):", "for v in topo:", "reuse", WRONG),
    "shared nodes walked twice": (
        "            elif id(v) not in seen:\n                seen.add(id(v))\n"
        "                stack.append((v, True))",
        "            else:\n                stack.append((v, True))",
        "reuse",
        WRONG,
    ),
    "root grad never seeded": ("        self.grad = 1.0\n", "", "basics", WRONG),
    "neg keeps the sign": ("return self * -1", "return self * 1", ("op", "neg"), WRONG),
    "sub reversed": ("return self + (-other)", "return other + (-self)", ("op", "sub"), WRONG),
    "div as the reciprocal of the wrong side": (
        "return self * other ** -1",
        "return self ** -1 * other",
        ("op", "div"),
        WRONG,
    ),
    "mul grads swapped between inputs": (
        "            self.grad += other.data * out.grad\n            other.grad += self.data * out.grad",
        "            self.grad += self.data * out.grad\n            other.grad += other.data * out.grad",
        ("op", "mul"),
        WRONG,
    ),
    "add grad doubled": (
        "            self.grad += out.grad\n            other.grad += out.grad",
        "            self.grad += 2 * out.grad\n            other.grad += out.grad",
        ("op", "add"),
        WRONG,
    ),
}
