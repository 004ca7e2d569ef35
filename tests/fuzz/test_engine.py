"""Fuzz micrograd.engine: Value, its operators and methods, apply(), dot(), backward(), and
micrograd.grad().

The contract: tests/fuzz/strategies.py."""

import math
import numbers
import operator
from collections.abc import Sequence
from fractions import Fraction

import mpmath
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from micrograd import OPS, OpError, Value, apply, dot, grad
from micrograd.ops import VARIADIC
from micrograd.testing import ORACLE_DPS, ULPS, spell
from micrograd.testing.floats import EPS, LEAST_SUBNORMAL, MAX
from micrograd.testing.oracle import beyond_float64, may_overflow, op_exact, op_tolerance
from micrograd.viz import trace
from tests.fuzz.strategies import (
    TYPE,
    VALUE,
    anything,
    backward_is_finite_or_refused,
    element_errors,
    expect_number,
    finite,
    finite_graph,
    moderate,
    must_raise,
    raises_documented,
)

# Value(data, label=...)


@given(data=anything, label=st.one_of(st.text(max_size=4), anything))
@example(data=10**400, label="x").via("Value(10**400) raised a bare OverflowError")
@example(data=Fraction(10**400, 3), label="x")
def test_value_takes_a_finite_number_and_a_str_label(data, label):
    want = expect_number(data)
    errors = [] if isinstance(want, float) else [(want, ["data"])]
    if not isinstance(label, str):
        errors.append((TYPE, ["label"]))
    ok, v = raises_documented(lambda: Value(data, label=label), errors)
    if ok:
        assert not errors
        assert type(v.data) is float
        assert v.data == want
        assert v.grad == 0.0
        assert v.label == label
        assert math.copysign(1, v.data) == math.copysign(1, want)  # -0.0 stays -0.0


# Operators and methods


BINARY = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}
OP_NAMES = {"+": "add", "-": "sub", "*": "mul", "/": "div"}


def exact_binary(sym, a, b):
    """(value, d/da, d/db) exactly, as Fractions; None where the op is undefined."""
    fa, fb = Fraction(a), Fraction(b)
    if sym == "+":
        return fa + fb, Fraction(1), Fraction(1)
    if sym == "-":
        return fa - fb, Fraction(1), Fraction(-1)
    if sym == "*":
        return fa * fb, fb, fa
    return None if b == 0 else (fa / fb, 1 / fb, -fa / fb / fb)


@given(x=finite, other=anything, sym=st.sampled_from(sorted(BINARY)), reflected=st.booleans())
@example(x=1.0, other="a", sym="+", reflected=False)
@example(x=1.0, other=[1.0, 2.0], sym="*", reflected=True)
@example(x=1.0, other=10**400, sym="-", reflected=True)
@example(x=1e-300, other=1e-300, sym="/", reflected=False)  # d/db = -a / b**2 overflows
@example(x=0.0, other=5e-324, sym="/", reflected=False)  # 1 / b overflows
@example(x=MAX, other=MAX, sym="+", reflected=False)
def test_arithmetic_is_exact_or_a_documented_error(x, other, sym, reflected):
    v = Value(x)
    a, b = (other, v) if reflected else (v, other)
    op = OP_NAMES[sym]
    want = other.data if isinstance(other, Value) else expect_number(other)
    errors = [] if isinstance(want, float) else [(want, ["operand"])]
    ok, out = raises_documented(lambda: BINARY[sym](a, b), errors, ops=[op])
    if not isinstance(want, float):
        assert not ok
        return
    fa, fb = (want, x) if reflected else (x, want)
    exact = exact_binary(sym, fa, fb)
    # Rounding to float64 overflows beyond 2**1024 (less half an ulp); two roundings (div's
    # -a/b/b) move a number by at most 2 ulps: within [2**1023, 2**1024 + 4 ulps] either verdict
    # is right, below 2**1023 the op must succeed, above it must refuse.
    biggest = None if exact is None else max(abs(q) for q in exact)
    if biggest is None or biggest > Fraction(2**1024) * (1 + Fraction(1, 2**50)):
        assert not ok, f"{fa!r} {sym} {fb!r} gave {out!r}: a value or a derivative overflows"
        return
    if biggest < 2**1023:
        assert ok, f"{fa!r} {sym} {fb!r} refused: {out}"
    if not ok:
        return
    assert out.data == BINARY[sym](fa, fb)  # one IEEE operation, as the op's definition says
    if not backward_is_finite_or_refused(out):
        return
    for operand, exact_d in ((a, exact[1]), (b, exact[2])):
        if isinstance(operand, Value):  # a number operand becomes a constant leaf
            # d/db of div is -a/b/b: two roundings, the first (a/b) possibly subnormal: 2 ulps
            # relative plus the first rounding's absolute 2**-1075 scaled by 1/|b|, + 2**-1075.
            tol = 2**-52 * abs(float(exact_d)) + 2**-1074 * (1 + (1 / abs(fb) if fb else 0))
            assert abs(operand.grad - exact_d) <= tol, (operand.grad, exact_d)


# Every one-input op without params of the registry: an op added as a row is fuzzed too.
UNARY = sorted((op for op in OPS.values() if op.arity == 1 and not op.params), key=lambda o: o.name)


def fits(exact, early=False):
    """Whether an exact result is a finite float64: True, False, or None where a correct float
    computation may go either way: within ULPS ulps of the overflow threshold, and with
    ``early`` within the factor 2**20 below MAX where an op's formula may overflow first."""
    slack = ULPS * EPS
    if beyond_float64(exact * (1 - slack)):
        return False
    doubtful = may_overflow(exact) if early else beyond_float64(exact * (1 + slack))
    return None if doubtful else True


@given(x=finite, op=st.sampled_from(UNARY), gradient=finite)
@example(x=5e-324, op=OPS["log"], gradient=1.0)  # log's derivative 1/x overflows
@example(x=709.7827128933841, op=OPS["exp"], gradient=1.0)  # the last finite exp
@example(x=-0.0, op=OPS["relu"], gradient=1.0)  # the kink
@example(x=20.0, op=OPS["tanh"], gradient=1e300)  # a gradient times a tiny partial
def test_unary_ops_are_finite_or_refused_where_the_maths_says(x, op, gradient):
    # What the maths says, from the registry's domain and the 50-digit oracle (op.mp): the op
    # is defined where x is in its domain and the exact value and derivative fit in float64.
    # Error model: op_tolerance (ULPS ulps of the exact result at inputs moved by ULPS ulps).
    v = Value(x)
    ok, out = raises_documented(lambda: eval(spell(op, ["v"]), {}, {"v": v}), [], ops=[op.name])
    if x not in op.domains()[0]:
        assert not ok, f"{op.name}({x!r}) is outside {op.domains()[0]}, returned {out!r}"
        return
    with mpmath.workdps(ORACLE_DPS):
        value, (partial,), (value_scale, partial_scale) = op_exact(op, [x])
        if x in op.kinks:  # no derivative there: the registry's convention, PyTorch's
            partial, partial_scale = mpmath.mpf(op.kinks[x]), 0
        defined = {fits(value, early=True), fits(partial, early=True)}
        if defined == {True}:
            assert ok, f"{op.name}({x!r}) = {value}, derivative {partial}: refused with {out}"
        elif False in defined:
            assert not ok, f"{op.name}({x!r}) = {value}, derivative {partial}: gave {out!r}"
        if not ok:
            return
        assert abs(out.data - value) <= op_tolerance(value, value_scale, [x]), (out.data, value)
        want = gradient * partial
        if not backward_is_finite_or_refused(out, gradient):
            assert fits(want) is not True, f"backward refused d {op.name} = {want}"
            return
        assert fits(want) is not False, f"backward gave {v.grad!r} for {want}"
        # The partial's error times |gradient|, then the rounding of the product.
        tol = abs(gradient) * op_tolerance(partial, partial_scale, [x])
        assert abs(v.grad - want) <= tol + EPS * abs(want) + LEAST_SUBNORMAL, (v.grad, want)


@given(x=finite, n=anything)
@example(x=2.0, n=10**400)
@example(x=0.0, n=0.5)  # the derivative 0.5 / sqrt(0) is infinite
@example(x=-8.0, n=1 / 3)
@example(x=2.0, n=True)
@example(x=0.0, n=0.0)  # x**0 has derivative 0 everywhere, 0 included (as PyTorch)
def test_power_by_a_number(x, n):
    v = Value(x)
    want = n.data if isinstance(n, Value) else expect_number(n)
    op = "powv" if isinstance(n, Value) else "pow"
    errors = [] if isinstance(want, float) else [(want, ["exponent"])]
    ok, out = raises_documented(lambda: v**n, errors, ops=[op])
    if not isinstance(want, float) or op == "powv":
        if ok:
            assert x > 0
            assert out.data == math.pow(x, want)
            backward_is_finite_or_refused(out)
        return
    try:  # the value x**n and the derivative n * x**(n - 1) as floats (0 for n = 0)
        ref = math.pow(x, want), (want * math.pow(x, want - 1) if want else 0.0)
        defined = all(map(math.isfinite, ref))
    except (ValueError, OverflowError, ZeroDivisionError):
        defined = False
    assert ok == defined, f"{x!r} ** {want!r}: {out}"
    if ok:
        assert out.data == ref[0]
        backward_is_finite_or_refused(out)


@given(base=anything, x=finite)
@example(base=-2.0, x=1.0)
@example(base=0.0, x=1.0)
@example(base=10**400, x=1.0)
def test_number_to_the_power_of_a_value(base, x):
    v = Value(x)
    want = base.data if isinstance(base, Value) else expect_number(base)
    errors = [] if isinstance(want, float) else [(want, ["operand"])]
    ok, out = raises_documented(lambda: base**v, errors, ops=["powv"])
    if ok:
        assert isinstance(want, float)
        assert want > 0
        assert out.data == math.pow(want, x)
        backward_is_finite_or_refused(out)
    elif isinstance(want, float) and want <= 0:
        assert isinstance(out, OpError)
        assert "outside the domain" in str(out)


UNSUPPORTED = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "@": operator.matmul,
    "//": operator.floordiv,
    "%": operator.mod,
    "&": operator.and_,
    "|": operator.or_,
    "^": operator.xor,
    "<<": operator.lshift,
    ">>": operator.rshift,
    "divmod": divmod,
}


@given(sym=st.sampled_from(sorted(UNSUPPORTED)), other=anything, reflected=st.booleans())
def test_operators_a_value_does_not_define_raise_pythons_type_error(sym, other, reflected):
    # NOTE: str and bytes define % themselves (formatting), so "%s" % v is theirs, not ours.
    assume(not (reflected and sym == "%" and isinstance(other, str | bytes)))
    a, b = (other, Value(1.0)) if reflected else (Value(1.0), other)
    e = must_raise(lambda: UNSUPPORTED[sym](a, b), TYPE, ["'Value'"])
    assert sym in str(e) or sym == "divmod"


@pytest.mark.parametrize(
    "call",
    [abs, operator.pos, operator.invert, lambda v: pow(v, 2, 3)],
    ids=["abs", "+", "~", "pow3"],
)
def test_unary_operators_a_value_does_not_define(call):
    must_raise(lambda: call(Value(2.0)), TYPE, ["'Value'", "Value."])


@pytest.mark.parametrize(
    "convert",
    [float, int, complex, round, math.trunc, math.floor, math.ceil, math.exp, math.sqrt, range],
)
def test_no_implicit_conversion_to_a_number(convert):
    must_raise(lambda: convert(Value(4.0)), TYPE, ["v.data"])


@given(x=finite, label=st.text(max_size=3), other=anything)
def test_equality_is_identity(x, label, other):
    v = Value(x, label=label)
    assert (v == v) is True
    assert (v == other) is False
    assert (v != other) is True
    assert len({v, v, Value(x)}) == 2


@given(x=st.sampled_from([math.nan, math.inf, -math.inf]), name=st.sampled_from(sorted(OPS)))
@example(x=math.nan, name="relu").via("relu of a nan set by hand was silently 0.0")
@example(x=math.inf, name="tanh").via("tanh of an inf set by hand was silently 1.0")
def test_a_nonfinite_data_set_by_hand_is_named_at_the_next_op(x, name):
    op, v = OPS[name], Value(1.0)
    v.data = x
    args = [v, Value(1.0)] if op.arity in (2, VARIADIC) else [v]
    params = tuple(next(iter(op.params.values()))[:1]) if op.params else ()
    ok, e = raises_documented(lambda: apply(op, *args, params=params), [], ops=[name])
    assert not ok
    assert str(e).startswith(f"{name}(")
    assert "set to a non-finite number" in str(e)


# apply() and dot()


@given(op=st.sampled_from(sorted(OPS)), args=st.lists(anything, max_size=4), params=anything)
@example(op="add", args=[1.0], params=()).via("wrong arity: a bare TypeError from a lambda")
@example(op="dot", args=[1.0, 2.0, 3.0], params=()).via("odd dot: a silent wrong result")
@example(op="dot", args=[1.0], params=()).via("one input: silently 0")
@example(op="pow", args=[1.0], params=(math.nan,)).via("a bare ValueError from int(nan)")
@example(op="pow", args=[1.0], params=("a",))
@example(op="pow", args=[1.0], params=5)
@example(op="add", args=[], params={})
@example(op="add", args=[], params="")
def test_apply_checks_its_op_inputs_and_params(op, args, params):
    entry = OPS[op]
    errors = []
    # An empty container unpacks to no params (as () does); anything else must be a sequence.
    empty = isinstance(params, str | bytes | dict) and not params
    if not (empty or isinstance(params, tuple | list)):
        errors.append((TYPE, ["params"]))
    else:
        if len(params) != len(entry.params):
            errors.append((TYPE, ["params"]))
        errors += element_errors(params, ["param"])
    n = len(args)
    if (entry.arity == VARIADIC and (n == 0 or n % 2)) or entry.arity not in (VARIADIC, n):
        errors.append((TYPE, ["input"]))
    errors += element_errors(args, ["input"])
    also = [(TYPE, ["params"])] if empty else []  # may be named along with another error
    ok, out = raises_documented(lambda: apply(entry, *args, params=params), errors + also, ops=[op])
    assert not (ok and errors), f"apply({op}, {args!r}, params={params!r}) gave {out!r}"
    if ok:
        finite_graph(out)
        backward_is_finite_or_refused(out)
        if op == "dot":
            xs = [a.data if isinstance(a, Value) else float(a) for a in args]
            products = [p * q for p, q in zip(xs[: len(xs) // 2], xs[len(xs) // 2 :], strict=True)]
            # n <= 2 products and a sum: each rounding errs by eps/2 of what it rounds, so
            # the whole by at most 2 eps * sum |products|, plus subnormal rounding.
            err = 2 * 2**-53 * math.fsum(map(abs, products)) + 2 * 2**-1074
            assert abs(out.data - math.fsum(products)) <= err


def test_apply_takes_a_registry_op():
    must_raise(lambda: apply("add", 1.0, 2.0), TYPE, ["op"])
    must_raise(lambda: apply(None, 1.0), TYPE, ["op"])


@given(a=anything | st.lists(anything, max_size=3), b=anything | st.lists(anything, max_size=3))
@example(a=iter([1.0]), b=[1.0]).via("a bare TypeError: object has no len()")
@example(a=1.0, b=2.0)
@example(a=["a"], b=[1.0])
def test_dot_takes_two_lists_of_numbers_of_one_length(a, b):
    errors = []
    for name, xs in (("a", a), ("b", b)):
        if not isinstance(xs, list | tuple):
            errors.append((TYPE, [name]))
        else:
            errors += element_errors(xs, [f"{name}["])
    if isinstance(a, list | tuple) and isinstance(b, list | tuple) and (len(a) != len(b) or not a):
        errors.append((VALUE, ["length"]))
    ok, out = raises_documented(lambda: dot(a, b), errors, ops=["dot"])
    assert not (ok and errors), out
    if ok:
        finite_graph(out)
        backward_is_finite_or_refused(out)


# backward(gradient), zero_grad()


@given(x=finite, c=finite, gradient=anything, twice=st.booleans())
@example(x=1.0, c=1e308, gradient=1.0, twice=True).via("accumulation overflowed to inf")
@example(x=1.0, c=2.0, gradient=10**400, twice=False)
@example(x=1.0, c=2.0, gradient=-0.0, twice=False)
@example(x=0.0, c=0.0, gradient=MAX, twice=True)  # the root's own grad overflows on the second
def test_backward_takes_a_finite_gradient_and_accumulates_exactly(x, c, gradient, twice):
    v = Value(x)
    ok, y = raises_documented(lambda: v * c, [], ops=["mul"])
    assume(ok)
    want = expect_number(gradient)
    errors = [] if isinstance(want, float) else [(want, ["gradient"])]
    ok, e = raises_documented(lambda: y.backward(gradient), errors, ops=["backward"])
    if not isinstance(want, float):
        assert not ok
        assert v.grad == 0.0
        assert y.grad == 0.0
        return
    # d y / d x = c and d y / d c = x (the constant c is a leaf too): one rounding each.
    first, of_c = want * c, want * x
    assert ok == (math.isfinite(first) and math.isfinite(of_c)), e
    if not ok:
        assert v.grad == 0.0
        assert y.grad == 0.0
        return
    assert v.grad == first
    assert y.grad == want
    if twice:
        ok, e = raises_documented(lambda: y.backward(gradient), [], ops=["backward"])
        # y's own grad accumulates the gradient too.
        sums = (first + first, of_c + of_c, want + want)
        assert ok == all(map(math.isfinite, sums)), e
        assert v.grad == (first + first if ok else first)
    y.zero_grad()
    assert v.grad == 0.0
    assert y.grad == 0.0


@given(st.data())
def test_random_graphs_never_hold_a_nonfinite_number(data):
    """Ops on any finite inputs, constants and params: each gives finite data or OpError; then
    backward with any finite gradient: finite grads everywhere, or OpError and no grad changed."""
    nodes = [Value(data.draw(finite, label="leaf")) for _ in range(data.draw(st.integers(1, 3)))]
    for _ in range(data.draw(st.integers(1, 8), label="ops")):
        op = OPS[data.draw(st.sampled_from(sorted(OPS)), label="op")]
        arity = 2 * data.draw(st.integers(1, 2)) if op.arity == VARIADIC else op.arity
        args = [
            data.draw(st.sampled_from(nodes) | finite.map(Value) | finite, label="arg")
            for _ in range(arity)
        ]
        params = tuple(
            data.draw(finite | st.sampled_from(v), label=k) for k, v in op.params.items()
        )
        ok, out = raises_documented(lambda: apply(op, *args, params=params), [], ops=[op.name])  # noqa: B023
        if ok:
            assert math.isfinite(out.data)
            assert out.grad == 0.0
            nodes.append(out)
    root = nodes[-1]
    for _ in range(data.draw(st.integers(1, 2), label="backward calls")):
        backward_is_finite_or_refused(root, data.draw(finite, label="gradient"))
    root.zero_grad()
    assert all(v.grad == 0.0 for v in trace(root)[0])


def sequence_errors(xs, name):
    """grad's rule for outputs and inputs: a Value, or a non-empty sequence of Values."""
    if isinstance(xs, Value):
        return []
    if not isinstance(xs, Sequence) or isinstance(xs, str) or not xs:
        return [(TYPE, [name])]
    return [(TYPE, [f"{name}["]) for x in xs if not isinstance(x, Value)]


values = st.lists(st.builds(Value, moderate), min_size=1, max_size=3)  # valid: drawn often


@given(
    outputs=values | anything | st.lists(anything, max_size=3),
    inputs=values | anything | st.lists(anything, max_size=3),
    grad_outputs=st.none()
    | st.lists(finite, max_size=4)
    | anything
    | st.lists(anything, max_size=3),
    create_graph=st.booleans(),
    same=st.booleans(),
)
@example(outputs=[Value(1.0)], inputs=None, grad_outputs=None, create_graph=False, same=True)
@example(outputs=[Value(1.0)], inputs=None, grad_outputs=[1.0, 2.0], create_graph=False, same=True)
@example(
    outputs=[Value(1.0), Value(2.0)], inputs=None, grad_outputs=[1.0], create_graph=True, same=True
)
def test_grad_checks_its_arguments(outputs, inputs, grad_outputs, create_graph, same):
    inputs = outputs if same else inputs  # the outputs' own gradients: the seeds
    errors = sequence_errors(outputs, "outputs") + sequence_errors(inputs, "inputs")
    outs = [outputs] if isinstance(outputs, Value) else outputs
    if not errors:
        n = len(outs)
        if grad_outputs is None:
            seeds = [1.0] * n
        elif isinstance(grad_outputs, Value | numbers.Real) and n == 1:
            seeds = [grad_outputs]
        elif isinstance(grad_outputs, Sequence) and len(grad_outputs) == n:
            seeds = list(grad_outputs)
        else:
            seeds, errors = [], [(VALUE, ["grad_outputs"])]
        for s in seeds:
            e = None if isinstance(s, Value) else expect_number(s)
            if e in (TYPE, VALUE):
                errors.append((e, ["grad_outputs["]))
        if not same:
            errors.append((VALUE, ["inputs["]))  # fresh leaves: the outputs do not use them
    ok, out = raises_documented(lambda: grad(outputs, inputs, grad_outputs, create_graph), errors)
    assert not (ok and errors), f"grad gave {out!r}, expected one of {errors}"
    if ok:
        want = {}
        for o, s in zip(outs, seeds, strict=True):
            s = s.data if isinstance(s, Value) else float(s)
            want[o] = want[o] + s if o in want else s
        for x, g in zip([inputs] if isinstance(inputs, Value) else inputs, out, strict=True):
            assert isinstance(g, Value) if create_graph else type(g) is float
            assert (g.data if create_graph else g) == want[x]
