"""A corpus of engines with one typical student bug each: every one is caught by the row that
names the defect, with the severity it deserves; the correct engine they all come from passes.

The engines are one template (the lecture's engine with + - * / ** neg exp tanh relu and an
iterative backward), each bug a single textual change to it, written from what students get
wrong when they type the lecture. They run in this process (InProcess), row by row.
"""

import re

import pytest

from micrograd.testing.conformance import (
    CONVENTION,
    FAIL,
    HARDENING,
    PASS,
    PRECISION,
    WRONG,
    Checks,
    InProcess,
    severity,
)

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


def engine(source: str) -> type:
    namespace: dict = {}
    exec(compile(source, "<engine>", "exec"), namespace)
    return namespace["Value"]


def row(value: type, which, examples: int = 12) -> object:
    checks = Checks(InProcess(value), examples=examples)
    checks.discover_ops()
    ops = {op.name: op for op in checks.ops}
    kind, op = (which, None) if isinstance(which, str) else which
    found = {
        "reflected": checks.reflected_row,
        "reuse": checks.reuse_row,
        "programs": checks.random_programs,
        "basics": checks.basics,
        "op": lambda: checks.op_row(ops[op]),
        "kink": lambda: checks.kink_row(ops[op]),
    }[kind]()
    if found.status == FAIL and not found.severity:
        found.severity = severity(found)
    return found


def test_the_template_passes_every_row_the_corpus_uses():
    value = engine(TEMPLATE)
    rows = ["reflected", "reuse", "programs", "basics"]
    ops = ["add", "sub", "mul", "div", "neg", "pow", "exp", "tanh", "relu"]
    for which in [*rows, *(("op", op) for op in ops), ("kink", "relu")]:
        r = row(value, which)
        assert r.status == PASS, (which, r)


@pytest.mark.parametrize("bug", list(BUGS))
def test_each_typical_bug_fails_its_row_with_its_severity(bug):
    old, new, which, want = BUGS[bug]
    assert TEMPLATE.count(old) == 1, f"the bug {bug!r} must change one place"
    r = row(engine(TEMPLATE.replace(old, new)), which)
    assert r.status == FAIL, (bug, r)
    assert r.severity == want, (bug, r.severity, r.detail)


def test_a_second_failure_of_a_row_is_listed_with_its_own_counterexample():
    # The lecture's tanh twice over: its exp formula (an error above x = 355) and 1 - t**2.
    lecture = TEMPLATE.replace(*BUGS["tanh' = 1 - t**2 (the lecture's)"][:2]).replace(
        *BUGS["tanh overflows (the lecture's formula: raises above x = 355)"][:2]
    )
    # Three distinct findings: the error at 400, d/dx0 by 1 - t**2 near t = 1, and the value
    # by exp(2x) - 1 near 0 (a cancellation): the worst (HARDENING) first.
    r = row(engine(lecture), ("op", "tanh"))
    assert [f.severity for f in r.findings] == [HARDENING, PRECISION, PRECISION], r
    assert [" raises " in r.detail, "d/dx0" in r.also[0].detail, "value" in r.also[1].detail] == [
        True,
        True,
        True,
    ], r
    # Both partials of mul wrong, each in its own way: the second is not hidden by the first.
    both = TEMPLATE.replace(
        "            self.grad += other.data * out.grad\n            other.grad += self.data * out.grad",
        "            self.grad += out.grad\n            other.grad += other.data * out.grad",
    )
    value = engine(both)
    r = row(value, ("op", "mul"))
    assert len(r.findings) >= 2, r
    assert {"d/dx0", "d/dx1"} <= set(re.findall(r"d/dx\d", " ".join(f.detail for f in r.findings)))
    for f in r.findings:  # each counterexample runs as printed and reproduces its finding
        assert f.example.count("v0 = x0 * x1") == 1, f.example
        ns: dict = {"Value": value}
        exec(f.example.replace("from builtins import Value", ""), ns)  # InProcess: exec()ed
        want = {"x0": ns["x1"].data, "x1": ns["x0"].data}
        assert any(ns[x].grad != g for x, g in want.items()), f.example


@pytest.mark.parametrize("bug", ["rsub swapped", "rtruediv swapped", "no radd", "no rmul"])
def test_random_programs_put_numbers_on_the_left_and_sum_values(bug):
    # A number on either side of an operator and sum() of Values, as students write them:
    # the reflected methods are exercised inside programs too, not only by their own row.
    old, new, _, _ = BUGS[bug]
    r = row(engine(TEMPLATE.replace(old, new)), "programs", examples=100)  # the CLI's default
    assert (r.status, r.severity) == (FAIL, WRONG), (bug, r)
