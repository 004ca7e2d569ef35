"""The conformance machinery: our engine passes every row; broken engines written here are caught
by the row that names their defect, with a counterexample; absent ops are N/A.

The engines run in this process (InProcess) with few examples and short chains, so this file
stays in the everyday suite; the worker process is exercised once, on our own engine.
"""

import json
import sys
from pathlib import Path

import pytest

from micrograd import Value, conformance
from micrograd.nn import MLP
from micrograd.testing import GradcheckError, Instr, Program, check_program
from micrograd.testing.conformance import (
    FAIL,
    NA,
    PASS,
    WRONG,
    Checks,
    ConformanceError,
    InProcess,
    Worker,
    run,
)
from micrograd.testing.conformance.batch import slug
from tests.engines.lecture import Value as LectureFaithful
from tests.engines.tiny import Value as Tiny

ROOT = Path(__file__).resolve().parent.parent


class WrongRelu(Tiny):
    def relu(self):  # the derivative of relu taken as 1 everywhere
        return self._node(max(self.data, 0.0), (self,), (1.0,))


class OverCounting(Tiny):
    def backward(self):  # 0.1.0's rule: intermediate grads are never reset between calls
        order, seen = [], set()

        def build(v):
            if v not in seen:
                seen.add(v)
                for p in v._prev:
                    build(p)
                order.append(v)

        build(self)
        self.grad = 1.0
        for v in reversed(order):
            for p, d in zip(v._prev, v._local, strict=True):
                p.grad += d * v.grad


class Recursive(OverCounting):
    def backward(self):
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(500)  # a recursive sort: the chain's depth is the limit
        try:
            super().backward()
        finally:
            sys.setrecursionlimit(old)


class Silent(Tiny):
    def __init__(self, data, _children=()):  # no validation: nan, strings, overflow pass
        self.data, self.grad, self._prev, self._local = data, 0.0, _children, ()

    def _node(self, data, parents, partials):
        out = type(self)(data, parents)
        out._local = partials
        return out


def card(value, mlp=None, twin=False):
    # Few examples and short chains: each broken engine below fails on its first examples.
    return run(InProcess(value, mlp), value.__name__, examples=12, max_depth=2_000, twin=twin)


def rows(c):
    return {r.check: r for r in c.rows}


def test_our_engine_passes_every_row():
    c = card(Value, MLP)
    assert "nn: Module.zero_grad() resets" in rows(c)
    bad = [(r.check, r.status, r.detail) for r in c.rows if r.status not in (PASS, NA)]
    assert not bad
    na = {r.check for r in c.rows if r.status == NA}
    assert na == {"dot: values and derivatives"}  # dot is a function, not a Value method


def test_a_correct_engine_passes_and_its_missing_ops_are_not_applicable():
    r = rows(card(Tiny))
    assert not [k for k, v in r.items() if v.status == FAIL], [
        v for v in r.values() if v.status == FAIL
    ]
    for op in ("div", "sub", "neg", "exp", "log", "tanh", "sigmoid", "powv"):
        if op in ("div", "sub", "neg"):  # these go through __truediv__ / __sub__ / __neg__
            assert r[f"{op}: values and derivatives"].status == NA
        else:
            assert r[f"{op}: values and derivatives"].status == NA
            assert "absent" in r[f"{op}: values and derivatives"].detail
    assert r["nn: Module.zero_grad() resets"].status == NA


def test_a_wrong_derivative_is_caught_with_a_runnable_counterexample():
    r = rows(card(WrongRelu))
    row = r["relu: values and derivatives"]
    assert row.status == FAIL
    assert "d/dx0 1.0, exact 0" in row.detail
    env = {}
    exec(
        row.example.replace("from tests.test_conformance import WrongRelu as Value", ""),
        {"Value": WrongRelu} | env,
    )
    assert r["relu: derivative at its kinks (PyTorch's)"].status == FAIL
    assert r["random programs vs oracle and finite differences"].status == FAIL


def test_over_counting_on_a_second_backward_is_caught():
    r = rows(card(OverCounting))
    row = r["accumulation: k backward() calls add k times, every node"]
    assert row.status == FAIL
    assert "backward() calls" in row.detail
    assert row.example.count(".backward()") >= 2
    assert r["random programs vs oracle and finite differences"].status == PASS


class IgnoresCreateGraph(Tiny):
    """Takes create_graph and ignores it: its gradients are floats, not differentiable."""

    def backward(self, create_graph=False):
        super().backward()


def test_second_order_is_checked_where_backward_takes_create_graph():
    assert rows(card(Value))[SECOND].detail == "exact at a = 1.5, b = -2"
    row = rows(card(Tiny))[SECOND]
    assert (row.status, row.detail) == (NA, "backward() takes no create_graph")
    row = rows(card(IgnoresCreateGraph))[SECOND]
    assert row.status == FAIL
    assert row.detail == "raises AttributeError: 'float' object has no attribute 'backward'"
    assert "create_graph=True" in row.example


SECOND = "second order: backward(create_graph=True), then the gradient's backward()"


def test_a_recursive_backward_fails_the_depth_row():
    row = rows(card(Recursive))["depth: backward through a chain of 2,000 nodes"]
    assert row.status == FAIL
    assert "RecursionError" in row.detail


def test_silent_nan_and_overflow_are_caught():
    r = rows(card(Silent))
    assert r["bad input: Value() refuses non-numbers"].status == FAIL
    assert r["bad input: Value() refuses nan and inf"].status == FAIL
    assert r["bad input: overflow is an error"].status == FAIL


def test_the_worker_runs_our_engine_in_its_own_process():
    worker = Worker(sys.executable, "micrograd.engine:Value", [str(ROOT)], foreign=False)
    try:
        assert worker.describe["value"] == "micrograd.engine:Value"
        answer = worker.request(
            {"cmd": "exec", "code": "x = Value(2.0)\ny = x * x\ny.backward()", "read": ["x"]}
        )
        assert answer == {"ok": True, "nodes": {"x": [2.0, 4.0]}, "result": None}
        crash = worker.probe({"cmd": "exec", "code": "import os\nos.abort()"}, timeout=30)
        assert crash["error"] == "Crash"
    finally:
        worker.close()


class Lecture(Tiny):
    """Tiny with the lecture's - and /: other + (-self), self * other ** -1."""

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __truediv__(self, other):
        return self * other**-1

    def __rtruediv__(self, other):
        return other * self**-1


class SwappedRsub(Lecture):
    def __rsub__(self, other):  # 2 - x computed as x - 2
        return self - other


class SwappedRdiv(Lecture):
    def __rtruediv__(self, other):  # 2 / x computed as x / 2
        return self / other


class NoRadd(Lecture):
    __radd__ = None  # 2 + x and sum() of Values raise TypeError


class NoRmul(Lecture):
    __rmul__ = None  # 2 * x raises TypeError


def reflected(value):
    checks = Checks(InProcess(value))
    checks.discover_ops()
    return checks.reflected_row()


def test_a_number_on_the_left_is_checked_and_the_lecture_engine_passes():
    row = reflected(Lecture)
    assert row.status == PASS, row
    assert row.detail == "2.0 + x, 2.0 - x, 2.0 * x, 2.0 / x, sum([x, x, x]) (absent: 2.0 ** x)"


@pytest.mark.parametrize(
    ("engine", "detail"),
    [
        (SwappedRsub, "2.0 - x at x = 0.75: value -1.25, d/dx 1.0; exact 1.25, -1.0"),
        (SwappedRdiv, "2.0 / x at x = 0.75: value 0.375, d/dx 0.5; exact 2.6666666666666665, "),
        (NoRadd, "2.0 + x raises TypeError"),
        (NoRmul, "2.0 * x raises TypeError"),
    ],
)
def test_a_swapped_or_missing_reflected_operator_fails_the_row_naming_it(engine, detail):
    row = reflected(engine)
    assert row.status == FAIL
    assert row.detail.startswith(detail), row.detail
    assert "y.backward()" in row.example


def test_the_lecture_faithful_engine_has_no_course_failure_and_each_strict_one_is_named():
    c = card(LectureFaithful)
    strict = {r.check: r.severity for r in c.failed}
    assert strict, "the lecture's engine has strict findings (depth, bad input, ...)"
    assert WRONG not in strict.values(), strict
    c.profile = "course"
    assert c.failed == [], [(r.check, r.severity, r.detail) for r in c.failed]


def test_a_bug_is_wrong_and_fails_the_course_profile_too():
    c = card(WrongRelu)
    c.profile = "course"
    failed = {r.check: r.severity for r in c.failed}
    assert failed["relu: values and derivatives"] == WRONG
    assert failed["random programs vs oracle and finite differences"] == WRONG
    assert "relu: derivative at its kinks (PyTorch's)" not in failed  # CONVENTION: strict only


def test_a_parameter_is_named_by_its_layer_neuron_and_weight_or_bias():
    from micrograd.testing.twin import parameter_name

    # MLP(3, [4, 4, 2]) in 0.1.0's order: 4 neurons of 3 weights and a bias, then 4 of 4, then 2
    assert parameter_name(0) == "layer 0, neuron 0, weight 0"
    assert parameter_name(3) == "layer 0, neuron 0, bias"
    assert parameter_name(4) == "layer 0, neuron 1, weight 0"
    assert parameter_name(16) == "layer 1, neuron 0, weight 0"
    assert parameter_name(45) == "layer 2, neuron 1, bias"
    with pytest.raises(IndexError):
        parameter_name(46)


def test_an_engine_with_other_names_is_told_what_is_missing_and_what_it_has(tmp_path, monkeypatch):
    from micrograd.testing import adapter

    (tmp_path / "student_engine.py").write_text(
        "class Tensor:\n"
        "    def __init__(self, value):\n"
        "        self.value, self.gradient = value, 0.0\n"
        "    def __add__(self, o):\n"
        "        return Tensor(self.value + o.value)\n"
        "    def __mul__(self, o):\n"
        "        return Tensor(self.value * o.value)\n"
        "    def backprop(self):\n"
        "        pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(LookupError) as e:
        adapter.discover("student_engine")
    assert str(e.value) == (
        "no Value class (with backward, + and *) in student_engine (student_engine:Tensor: "
        "Tensor has backprop(), not backward(); Tensor(1.5) has no .data: found .value; "
        "Tensor(1.5) has no .grad: found .gradient)"
    )


def test_a_package_that_does_not_import_is_told_so_first(tmp_path, monkeypatch):
    # A package whose engine imports what it does not declare (graphviz, nbdev) was told "no
    # Value class", its import error in brackets after it.
    from micrograd.testing import adapter

    (tmp_path / "gradpkg").mkdir()
    (tmp_path / "gradpkg" / "__init__.py").write_text("")
    (tmp_path / "gradpkg" / "engine.py").write_text("import not_declared_anywhere\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(adapter, "IMPORT_ERRORS", [])
    with pytest.raises(LookupError) as e:
        adapter.discover("gradpkg")
    assert str(e.value) == (
        "gradpkg: a module does not import, so no Value class could be found: import gradpkg.engine: "
        "ModuleNotFoundError: No module named 'not_declared_anywhere' (a package it needs but "
        "does not declare?)"
    )


RENAMED = """
class Tensor:
    def __init__(self, value, parents=(), partials=()):
        if not isinstance(value, (int, float)) or value != value or abs(value) == float("inf"):
            raise TypeError("a finite number")
        self.value, self.gradient, self.parents, self.partials = float(value), 0.0, parents, partials
    def __add__(self, o):
        o = o if isinstance(o, Tensor) else Tensor(o)
        return Tensor(self.value + o.value, (self, o), (1.0, 1.0))
    def __mul__(self, o):
        o = o if isinstance(o, Tensor) else Tensor(o)
        return Tensor(self.value * o.value, (self, o), (o.value, self.value))
    def backprop(self):
        order, seen = [], set()
        def visit(v):
            if id(v) not in seen:
                seen.add(id(v))
                for p in v.parents:
                    visit(p)
                order.append(v)
        visit(self)
        self.gradient = 1.0
        for v in reversed(order):
            for p, d in zip(v.parents, v.partials):
                p.gradient += d * v.gradient
"""


def test_map_gives_an_engine_the_names_the_checks_use(tmp_path):
    (tmp_path / "renamed.py").write_text(RENAMED)
    maps = {"backward": "backprop", "data": "value", "grad": "gradient"}
    worker = Worker(sys.executable, "renamed", [str(tmp_path)], maps=maps)
    try:
        assert worker.describe["value"] == "renamed:Tensor"
        checks = Checks(worker)
        assert checks.basics().status == PASS
        checks.discover_ops()
        assert checks.reuse_row().status == PASS  # a + a, a * a, a diamond: exact grads
    finally:
        worker.close()
    with pytest.raises(ConformanceError, match=r"Tensor has backprop\(\), not backward\(\)"):
        Worker(sys.executable, "renamed", [str(tmp_path)])  # without the names: told why


class ListOutput(MLP):
    """A one-output MLP that returns a list of one Value (0.1.0's Layer returns the Value)."""

    def __call__(self, x):
        out = super().__call__(x)
        return out if isinstance(out, list) else [out]


def test_a_one_output_mlp_must_return_its_value_not_a_list():
    rows = {r.check: r for r in card(Value, MLP).rows}
    assert rows["nn: MLP(3, [4, 1]) returns one Value, not a list"].status == PASS
    r = {r.check: r for r in card(Value, ListOutput).rows}[
        "nn: MLP(3, [4, 1]) returns one Value, not a list"
    ]
    assert (r.status, r.severity) == (FAIL, WRONG), r
    assert "returns a list of 1" in r.detail


STUDENT = '''
class Value:
    """A student's engine, in a package of its own called micrograd: relu' = 1 everywhere."""
    def __init__(self, data, _children=()):
        self.data, self.grad, self._prev, self._backward = float(data), 0.0, _children, lambda: None
    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other))
        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out
    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other))
        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out
    def relu(self):
        out = Value(max(self.data, 0.0), (self,))
        def _backward():
            self.grad += out.grad
        out._backward = _backward
        return out
    def backward(self):
        topo, seen = [], set()
        def build(v):
            if v not in seen:
                seen.add(v)
                for c in v._prev:
                    build(c)
                topo.append(v)
        build(self)
        self.grad = 1.0
        for v in reversed(topo):
            v._backward()
'''


def test_an_engine_called_micrograd_is_checked_as_its_own_code_never_ours(tmp_path, monkeypatch):
    student = tmp_path / "alice"
    (student / "micrograd").mkdir(parents=True)
    (student / "micrograd" / "__init__.py").write_text("from micrograd.engine import Value\n")
    (student / "micrograd" / "engine.py").write_text(STUDENT)
    quick = ["--examples", "5", "--max-depth", "500", "--no-speed", "--report-only"]
    # Imported as it is, from its folder: the student's micrograd, with its relu bug.
    out = tmp_path / "out"
    assert conformance.main([str(student), "--no-install", "--out", str(out), *quick]) == 0
    card = json.loads((out / f"{slug(str(student))}.json").read_text())
    assert card["engine"]["value"] == "micrograd.engine:Value"
    relu = next(r for r in card["rows"] if r["check"] == "relu: values and derivatives")
    assert relu["severity"] == "WRONG", relu
    # A module path that resolves to this package is refused, never scored as the target's.
    monkeypatch.chdir(ROOT)
    with pytest.raises(ConformanceError, match="the checker's own package"):
        Worker(sys.executable, "micrograd.engine:Value", [str(ROOT)])
    # ... and so is an engine that imports this package for its parts.
    (tmp_path / "borrower.py").write_text("from micrograd.engine import Value\n")
    with pytest.raises(ConformanceError, match="the checker's own package"):
        Worker(sys.executable, "borrower", [str(tmp_path)])


def test_a_program_rounding_worse_than_our_model_is_precision_not_wrong():
    # The lecture's tanh, (exp(2x) - 1) / (exp(2x) + 1), loses digits near 0 (a cancellation):
    # outside the 8-ulp model, within 1e-9 of the oracle: PRECISION, as in its op row.
    program = Program((0.00390625,), (Instr("tanh", ("x0",)),))
    checks = Checks(InProcess(LectureFaithful))
    with pytest.raises(GradcheckError, match=r"the output is 0\.003906230131906374"):
        check_program(program, checks.engine_gradients, checks.engine_forward)
    assert checks.near_oracle(program)
    # A wrong derivative is far outside: WRONG.
    wrong = Program((0.5,), (Instr("tanh", ("x0",)),))
    assert not Checks(InProcess(WrongTanh)).near_oracle(wrong)


class WrongTanh(LectureFaithful):
    def tanh(self):
        out = LectureFaithful.tanh(self)
        out._backward = lambda: setattr(self, "grad", self.grad + (1 - out.data) * out.grad)
        return out
