"""Fuzz the public API with wrong types, wrong shapes and non-finite numbers.

Every call either returns a correct, finite result (every data and grad it touches finite;
checked against plain float arithmetic where that is cheap) or raises one of the documented
errors (README, "Use"):

- ``TypeError`` for an argument of the wrong type, ``ValueError`` for a wrong value (a number
  that is not finite or beyond float64, a size below 1, lengths that differ, an empty list, a
  label that is not -1 or +1, a choice outside its set), each naming the argument at fault;
- ``micrograd.OpError`` (an ``ArithmeticError``) naming the op, for an op outside its domain or
  overflowing, and for a backward whose gradients would overflow (then every grad is left as it
  was).

Never a bare Python error (KeyError, IndexError, AttributeError, ZeroDivisionError,
OverflowError, RecursionError, or a TypeError in Python's own wording about an operator Value
does define), never a silent nan or inf.

Python's protocols: the operators a Value defines (``+ - * / **`` both ways, unary ``-``) raise
our TypeError naming the operand. The ones it does not define (``< <= > >=``, ``@ // %``,
``abs``, unary ``+``, ``~``, bitwise ops, three-argument ``pow``) raise Python's own TypeError,
which names the operator and 'Value': a Value has no order and no such op. ``==`` is identity
(Values are graph nodes, kept in sets).

Out of scope: ``.data`` and ``.grad`` are plain attributes, written by the lecture's training
loop; a nan or inf put there by hand is named at the next op (tested), but a non-number put
there is not checked.
"""

import math
import numbers
import operator
import random
from fractions import Fraction

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from micrograd import OPS, OpError, Value, apply, dot
from micrograd.nn import MLP, SGD, Layer, Neuron, l2, max_margin_loss, mean, mse_loss
from micrograd.ops import VARIADIC
from micrograd.testing import GradcheckError, Instr, Program, check_program, gradcheck, run_engine
from micrograd.testing.floats import LEAST_SUBNORMAL, MAX, SMALLEST_NORMAL
from micrograd.viz import draw_dot, trace

TYPE, VALUE = TypeError, ValueError
EDGES = [
    0.0,
    -0.0,
    LEAST_SUBNORMAL,
    -LEAST_SUBNORMAL,
    SMALLEST_NORMAL,
    -SMALLEST_NORMAL,
    1.0,
    -1.0,
    0.5,
    2.0,
    3.0,
    -2.0,
    1e-300,
]
EDGES += [MAX, -MAX, 1e308, 1e154, 709.78, 709.7827128933841, 710.0, -745.2, 1e16, -1e16]

finite = st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from(EDGES)
moderate = st.floats(-1e3, 1e3) | st.sampled_from([0.0, -0.0, 1.0, -1.0, 5e-324])
huge_ints = st.sampled_from([10**400, -(10**400), 2**1024, 2**1024 - 1, 2**1023, 2**53 + 1])
real_numbers = st.one_of(
    st.floats(),  # nan, inf, -0.0, subnormals included
    st.sampled_from([math.nan, math.inf, -math.inf, *EDGES]),
    st.integers(),
    huge_ints,
    st.fractions(),
)
junk = st.one_of(
    st.booleans(),
    st.none(),
    st.text(max_size=3),
    st.binary(max_size=2),
    st.decimals(allow_nan=True),
    st.complex_numbers(max_magnitude=4),
    st.lists(st.floats(), max_size=2),
    st.tuples(st.floats()),
    st.dictionaries(st.text(max_size=1), st.integers(), max_size=1),
    st.builds(object),
    st.just(math.sqrt),
)
anything = real_numbers | junk | st.builds(Value, moderate)


def expect_number(x):
    """What an argument documented as a finite real number does with x (README, "Use"): the float
    it stands for, TypeError (a bool, a Value where a plain number goes, a non-number), or
    ValueError (nan, inf, a number beyond float64's range)."""
    if isinstance(x, bool | Value) or not isinstance(x, numbers.Real):
        return TYPE
    try:
        f = float(x)
    except OverflowError:
        return VALUE
    return f if math.isfinite(f) else VALUE


def raises_documented(call, errors, ops=()):
    """Run call(). ``errors`` lists (type, words) pairs any of which may be raised, the message
    containing one of the words (the argument's name); ``ops`` names the ops whose OpError may
    be raised. Return (True, result) when it returned, (False, error) when it raised."""
    try:
        return True, call()
    except Exception as raised:
        e = raised
    if isinstance(e, OpError):
        assert ops, f"unexpected OpError: {e}"
        assert any(str(e).startswith(f"{op}(") for op in ops), f"OpError names no op of {ops}: {e}"
        assert isinstance(e, ArithmeticError)
        return False, e
    ok = [t for t, words in errors if type(e) is t and any(w in str(e) for w in words)]
    assert ok, f"{type(e).__name__}: {e} (allowed: {errors}, OpError of {ops})"
    return False, e


def must_raise(call, error, words):
    ok, out = raises_documented(call, [(error, words)])
    assert not ok, f"returned {out!r}, expected {error.__name__} naming one of {words}"
    return out


def finite_graph(root):
    """Every data and grad of root's graph is a finite float."""
    nodes, _ = trace(root)
    for v in nodes:
        assert type(v.data) is float, v
        assert math.isfinite(v.data), v
        assert type(v.grad) is float, v
        assert math.isfinite(v.grad), v
    return nodes


def element_errors(xs, words):
    """The documented error for each element of xs that is neither a Value nor a finite number."""
    return [
        (expect_number(x), words)
        for x in xs
        if not isinstance(x, Value) and not isinstance(expect_number(x), float)
    ]


def backward_is_finite_or_refused(root, gradient=1.0):
    """root.backward(gradient) makes every grad finite, or raises OpError naming backward and
    changes no grad."""
    nodes, _ = trace(root)
    before = [v.grad for v in nodes]
    ok, _e = raises_documented(lambda: root.backward(gradient), [], ops=["backward"])
    if not ok:
        assert [v.grad for v in nodes] == before, "a failed backward changed a grad"
        return False
    finite_graph(root)
    return True


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


UNARY = {
    "neg": (operator.neg, lambda x: True),
    "relu": (Value.relu, lambda x: True),
    "tanh": (Value.tanh, lambda x: True),
    "sigmoid": (Value.sigmoid, lambda x: True),
    # e**x and its derivative e**x are finite floats up to log(MAX); math.exp raises beyond.
    "exp": (Value.exp, lambda x: x <= 709.782712893384),
    # log needs 0 < x, and its derivative 1/x overflows below 2**-1024.
    "log": (Value.log, lambda x: x > 0 and math.isfinite(1.0 / x)),
}


@given(x=finite, name=st.sampled_from(sorted(UNARY)), gradient=finite)
@example(x=5e-324, name="log", gradient=1.0)
@example(x=709.7827128933841, name="exp", gradient=1.0)
@example(x=-0.0, name="relu", gradient=1.0)
def test_unary_ops_are_finite_or_refused_where_the_maths_says(x, name, gradient):
    method, defined = UNARY[name]
    v = Value(x)
    ok, out = raises_documented(lambda: method(v), [], ops=[name])
    assert ok == defined(x), f"{name}({x!r}): {out}"
    if not ok:
        return
    assert type(out.data) is float
    assert math.isfinite(out.data)
    want = {
        "neg": -x,
        "relu": x if x > 0 else 0.0,
        "exp": math.exp(x) if ok and name == "exp" else None,
        "log": math.log(x) if ok and name == "log" else None,
    }.get(name)
    if want is not None:
        assert out.data == want
    if backward_is_finite_or_refused(out, gradient):
        d = v.grad / gradient if gradient else None
        if name == "relu" and gradient:
            assert v.grad == (gradient if x > 0 else 0.0)  # 0 at the kink, as PyTorch
        if name == "tanh" and d is not None:
            # sech**2 is in [0, 1]; computed as 4e / (1 + e)**2, 2 ulps above 1 at most.
            assert abs(v.grad) <= abs(gradient) * (1 + 2**-51)
        if name == "sigmoid":
            assert 0.0 <= out.data <= 1.0
            assert abs(v.grad) <= abs(gradient) / 4


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


# nn: constructors and calls

sizes = st.one_of(
    st.integers(-2, 3),
    st.sampled_from([0, -(10**400)]),
    st.floats(0, 3),
    st.booleans(),
    st.none(),
    st.text(max_size=1),
    st.just([2]),
)
nouts_ = st.one_of(st.lists(sizes, max_size=3), st.tuples(sizes), sizes, st.text(max_size=2))
activations = st.one_of(
    st.sampled_from(["relu", "tanh", "linear", None, "softplus", "ReLU", "", "sigmoid"]), anything
)
seeds = st.one_of(
    st.none(), st.integers(), huge_ints, st.booleans(), st.floats(), st.text(max_size=2)
)
nonlins = st.one_of(st.none(), st.booleans(), st.integers(0, 1), st.text(max_size=1))
rngs = st.one_of(
    st.none(),
    st.just(random),
    st.builds(random.Random, st.integers()),
    st.integers(),
    st.text(max_size=1),
)
ACTIVATIONS = ("relu", "tanh", "linear")


def size_errors(name, n):
    if type(n) is not int:
        return [(TYPE, [name])]
    return [] if n >= 1 else [(VALUE, [name])]


def activation_errors(name, activation, nonlin=None):
    """activation=None is the default; nonlin, when given, must be a bool agreeing with it."""
    errors = []
    if nonlin is not None:
        if not isinstance(nonlin, bool):
            return [(TYPE, ["nonlin"])]
        implied = "relu" if nonlin else "linear"
        if activation is not None and activation != implied:
            errors.append((VALUE, ["nonlin", name]))
        return errors
    if activation is not None and not (isinstance(activation, str) and activation in ACTIVATIONS):
        errors.append((VALUE, [name]))
    return errors


def rng_errors(rng):
    ok = rng is None or rng is random or isinstance(rng, random.Random)
    return [] if ok else [(TYPE, ["rng"])]


@given(
    nin=sizes,
    nouts=nouts_,
    activation=activations,
    seed=seeds,
    output_activation=activations,
)
@example(nin=2, nouts=[], activation="relu", seed=0, output_activation="linear")
@example(nin=2, nouts=[0], activation="relu", seed=0, output_activation="linear")
@example(nin=2, nouts=3, activation="relu", seed=0, output_activation="linear")
@example(nin=2, nouts=[1], activation="relu", seed=0, output_activation=None).via(
    "output_activation=None gave a relu output"
)
def test_mlp_constructor(nin, nouts, activation, seed, output_activation):
    errors = size_errors("nin", nin)
    if not isinstance(nouts, list | tuple):
        errors.append((TYPE, ["nouts"]))
    elif not nouts:
        errors.append((VALUE, ["nouts"]))
    else:
        for i, n in enumerate(nouts):
            errors += size_errors(f"nouts[{i}]", n)
    errors += activation_errors("activation", activation)
    errors += activation_errors("output_activation", output_activation)
    if seed is not None and type(seed) is not int:
        errors.append((TYPE, ["seed"]))
    ok, model = raises_documented(
        lambda: MLP(nin, nouts, activation, seed, output_activation), errors
    )
    assert not (ok and errors), f"MLP accepted it: {model!r}; expected one of {errors}"
    if ok:
        assert [len(layer.neurons) for layer in model.layers] == list(nouts)
        last = model.layers[-1].neurons[0].activation
        assert last == (output_activation or "linear")
        assert repr(model).startswith("MLP(")
        if seed is not None:
            assert [p.data for p in MLP(nin, nouts, seed=seed).parameters()] == [
                p.data for p in MLP(nin, nouts, seed=seed).parameters()
            ]


@given(
    nin=sizes,
    nout=sizes,
    activation=activations,
    rng=rngs,
    nonlin=nonlins,
    layer=st.booleans(),
)
@example(nin=2, nout=1, activation="tanh", rng=5, nonlin=None, layer=False).via(
    "rng=5: a bare AttributeError ('int' object has no attribute 'uniform')"
)
@example(nin=2, nout=1, activation=None, rng="x", nonlin=None, layer=True)
def test_neuron_and_layer_constructors(nin, nout, activation, rng, nonlin, layer):
    errors = size_errors("nin", nin) + activation_errors("activation", activation, nonlin)
    errors += rng_errors(rng)
    if layer:
        errors += size_errors("nout", nout)
        make = lambda: Layer(nin, nout, activation, rng, nonlin=nonlin)  # noqa: E731
    else:
        make = lambda: Neuron(nin, activation, rng, nonlin=nonlin)  # noqa: E731
    ok, module = raises_documented(make, errors)
    assert not (ok and errors), f"accepted: {module!r}; expected one of {errors}"
    if ok:
        params = module.parameters()
        assert len(params) == (nin + 1) * (nout if layer else 1)
        assert all(-1 <= p.data <= 1 for p in params)


inputs_ = st.one_of(
    st.lists(st.one_of(moderate, finite, anything), max_size=4),
    st.tuples(moderate, moderate),
    anything,
    st.lists(moderate.map(Value), min_size=2, max_size=2),
    st.just(range(2)),
)


@given(
    kind=st.sampled_from(["MLP", "Layer", "Neuron"]),
    x=inputs_,
    activation=st.sampled_from(ACTIVATIONS),
)
@example(kind="MLP", x=["a", "b"], activation="relu")
@example(kind="MLP", x=[1e308, 1e308], activation="relu")
@example(kind="Neuron", x=None, activation="relu")
@example(kind="Layer", x=Value(1.0), activation="relu")
def test_module_calls(kind, x, activation):
    make = {
        "MLP": lambda: MLP(2, [3, 2], activation=activation, seed=0),
        "Layer": lambda: Layer(2, 2, activation, random.Random(0)),
        "Neuron": lambda: Neuron(2, activation, random.Random(0)),
    }[kind]
    module = make()
    errors = []
    if isinstance(x, Value | str | bytes) or not isinstance(x, list | tuple | range):
        errors.append((TYPE, ["input"]))
    elif len(x) != 2:
        errors.append((VALUE, ["input"]))
    else:
        errors += element_errors(x, ["input"])
    ok, out = raises_documented(lambda: module(x), errors, ops=["dot", *ACTIVATIONS])
    assert not (ok and errors), f"{kind} accepted {x!r}: {out!r}"
    if ok:
        outs = out if isinstance(out, list) else [out]
        assert len(outs) == (1 if kind == "Neuron" else 2)
        total = sum(outs[1:], outs[0]) if len(outs) > 1 else outs[0]
        finite_graph(total)
        backward_is_finite_or_refused(total)
        module.zero_grad()
        assert all(p.grad == 0.0 for p in module.parameters())


# Losses


def value_list(xs):
    return [x if isinstance(x, Value) else float(x) for x in xs]


seq_of = lambda elems: st.one_of(  # noqa: E731
    st.lists(elems, max_size=3),
    st.lists(moderate, min_size=1, max_size=3).map(tuple),
    anything,
    st.just(iter([1.0])),
)
loss_elems = st.one_of(moderate.map(Value), moderate, finite, anything)


def list_errors(name, xs, elements=True):
    if isinstance(xs, str | bytes) or not isinstance(xs, list | tuple):
        return [(TYPE, [name])]
    if not xs:
        return [(VALUE, [name])]
    return element_errors(xs, [f"{name}["]) if elements else []


def lists_of_two_lengths(xs, ys):
    return isinstance(xs, list | tuple) and isinstance(ys, list | tuple) and len(xs) != len(ys)


def sum_check(out, terms):
    """out.data is the mean of terms: finite, and within n roundings of the exact sum
    (the sum's error is at most n * eps * sum|terms|, here with 4x headroom)."""
    want = math.fsum(terms) / len(terms)
    err = 4 * len(terms) * 2**-53 * math.fsum(map(abs, terms)) / len(terms) + 2**-1074
    assert abs(out.data - want) <= err, (out.data, want)


@given(xs=seq_of(loss_elems))
@example(xs=5).via("a bare TypeError: 'int' object is not iterable")
@example(xs=None).via("mean(None) said 'mean of no values'")
@example(xs="ab")
@example(xs=[MAX, MAX])
def test_mean(xs):
    errors = list_errors("xs", xs)
    ok, out = raises_documented(lambda: mean(xs), errors, ops=["add", "mul"])
    assert not (ok and errors), out
    if ok:
        finite_graph(out)
        sum_check(out, [x.data if isinstance(x, Value) else float(x) for x in xs])


@given(preds=seq_of(loss_elems), targets=seq_of(loss_elems))
@example(preds=["a"], targets=[1.0]).via("a bare TypeError: unsupported operand for -")
@example(preds=[1.0], targets=[1e200]).via("a bare OverflowError from float ** 2")
@example(preds=[Value(1.0)], targets=[1.0, 2.0])
def test_mse_loss(preds, targets):
    errors = list_errors("preds", preds) + list_errors("targets", targets)
    if lists_of_two_lengths(preds, targets):
        errors.append((VALUE, ["length"]))
    ok, out = raises_documented(
        lambda: mse_loss(preds, targets), errors, ops=["sub", "pow", "add", "mul"]
    )
    assert not (ok and errors), out
    if ok:
        finite_graph(out)
        backward_is_finite_or_refused(out)
        p = [v.data if isinstance(v, Value) else float(v) for v in preds]
        t = [v.data if isinstance(v, Value) else float(v) for v in targets]
        if all(abs(a) < 1e150 and abs(b) < 1e150 for a, b in zip(p, t, strict=True)):
            sum_check(out, [(a - b) * (a - b) for a, b in zip(p, t, strict=True)])


labels = st.one_of(
    st.sampled_from([1.0, -1.0, 1, -1]), st.sampled_from([0, 2, True, math.nan]), anything
)


@given(scores=seq_of(loss_elems), ys=st.one_of(st.lists(labels, max_size=3), seq_of(labels)))
@example(scores=[1.0], ys=[1]).via("a bare AttributeError: 'float' object has no attribute 'relu'")
@example(scores=["a"], ys=[1])
@example(scores=[Value(1.0)], ys=[2.0])
def test_max_margin_loss(scores, ys):
    errors = list_errors("scores", scores) + list_errors("ys", ys, elements=False)
    if lists_of_two_lengths(scores, ys):
        errors.append((VALUE, ["length"]))
    if isinstance(ys, list | tuple):
        for y in ys:
            if isinstance(y, bool) or not (isinstance(y, int | float) and y in (-1, 1)):
                errors.append((VALUE, ["ys["]))
    ok, out = raises_documented(
        lambda: max_margin_loss(scores, ys), errors, ops=["sub", "mul", "relu", "add"]
    )
    assert not (ok and errors), out
    if ok:
        finite_graph(out)
        backward_is_finite_or_refused(out)
        s = [v.data if isinstance(v, Value) else float(v) for v in scores]
        if all(abs(a) < 1e300 for a in s):
            sum_check(out, [max(0.0, 1 - y * a) for a, y in zip(s, ys, strict=True)])


@given(params=seq_of(loss_elems), alpha=anything)
@example(params=5, alpha=1.0)
@example(params=None, alpha=1.0)
@example(params=[Value(1.0)], alpha="a")
@example(params=[Value(1.0)], alpha=math.nan)
def test_l2(params, alpha):
    errors = list_errors("params", params)
    if not isinstance(alpha, Value) and not isinstance(expect_number(alpha), float):
        errors.append((expect_number(alpha), ["alpha"]))
    ok, out = raises_documented(lambda: l2(params, alpha), errors, ops=["dot", "mul"])
    assert not (ok and errors), out
    if ok:
        finite_graph(out)
        backward_is_finite_or_refused(out)


# SGD


@given(
    params=st.one_of(
        st.lists(st.builds(Value, moderate), max_size=3), st.lists(anything, max_size=2), anything
    ),
    lr=anything,
    grads=st.lists(finite, min_size=3, max_size=3),
)
@example(params=5, lr=0.1, grads=[0.0, 0.0, 0.0]).via("a bare TypeError: not iterable")
@example(params=[Value(1.0)], lr=10**400, grads=[0.0, 0.0, 0.0]).via("a bare OverflowError")
@example(params=[Value(1.0)], lr=Fraction(1, 2), grads=[1.0, 0.0, 0.0])
@example(params=[Value(1.0)], lr=0.1, grads=[MAX, 0.0, 0.0])
def test_sgd(params, lr, grads):
    errors = []
    if isinstance(params, str | bytes | Value) or not hasattr(params, "__iter__"):
        errors.append((TYPE, ["params"]))
    else:
        errors += [(TYPE, ["params["]) for p in params if not isinstance(p, Value)]
    if not isinstance(expect_number(lr), float):
        errors.append((expect_number(lr), ["lr"]))
    ok, opt = raises_documented(lambda: SGD(params, lr), errors)
    assert not (ok and errors), opt
    if not ok:
        return
    for p, g in zip(opt.params, grads, strict=False):
        p.grad = g
    before = [p.data for p in opt.params]
    new = [p.data - opt.lr * p.grad for p in opt.params]  # one step, in plain floats
    ok, e = raises_documented(opt.step, [(VALUE, ["params["])])
    assert ok == all(map(math.isfinite, new)), e
    assert [p.data for p in opt.params] == (new if ok else before)
    opt.zero_grad()
    assert all(p.grad == 0.0 for p in opt.params)


# draw_dot


@given(
    root=st.one_of(st.builds(Value, finite, label=st.text(max_size=3)), anything),
    fmt=st.one_of(st.sampled_from(["svg", "png"]), anything),
    rankdir=st.one_of(st.sampled_from(["LR", "TB"]), anything),
    max_nodes=st.one_of(st.none(), st.integers(-1, 4), st.booleans(), st.floats(), anything),
    depth=st.integers(0, 4),
)
@example(root=Value(1.0), fmt="svg", rankdir="LR", max_nodes=True, depth=0)
@example(root=5, fmt="svg", rankdir="LR", max_nodes=None, depth=0)
@example(root=Value(1.0), fmt="svg", rankdir="TB", max_nodes=None, depth=2)  # drawn: counted
def test_draw_dot(root, fmt, rankdir, max_nodes, depth):
    errors = []
    if not isinstance(root, Value):
        errors.append((TYPE, ["root"]))
    if not (isinstance(fmt, str) and fmt in ("svg", "png")):
        errors.append((VALUE, ["format"]))
    if not (isinstance(rankdir, str) and rankdir in ("LR", "TB")):
        errors.append((VALUE, ["rankdir"]))
    if max_nodes is not None:
        errors += size_errors("max_nodes", max_nodes)
    built = 0  # Values in the graph, counted as they are made (root is a leaf)
    if isinstance(root, Value):
        built = 1
        for _ in range(depth):
            root = root.tanh() * 2.0  # bounded: no overflow whatever the leaf
            built += 3  # the tanh, the constant 2.0 and the product
        if type(max_nodes) is int and 1 <= max_nodes < built:
            errors.append((VALUE, ["max_nodes"]))
    ok, dot = raises_documented(lambda: draw_dot(root, fmt, rankdir, max_nodes), errors)
    assert not (ok and errors), dot
    if ok:
        assert dot.source.count("shape=record") == built
        assert dot.source.count(" -> ") == 2 * depth + 3 * depth  # op -> node; input -> op


@settings(max_examples=max(5, settings.default.max_examples // 6))
@given(label=st.text(max_size=6), fmt=st.sampled_from(["svg", "png"]))
@example(label="\x00", fmt="svg").via("a NUL in a label: Graphviz failed on the DOT source")
@example(label="\ud800", fmt="svg").via("a lone surrogate: a bare UnicodeEncodeError")
@example(label='a"b|{c}<d>\\', fmt="png")
def test_draw_dot_renders_any_label(label, fmt):
    v = Value(1.5, label=label)
    out = v * 2.0
    out.label = label
    out.backward()
    picture = draw_dot(out, format=fmt).pipe()
    assert picture.startswith(b"\x89PNG" if fmt == "png" else b"<?xml")


# The testing helpers

FUNCTIONS = {  # a function of Values with its arity
    "x * y": (lambda x, y: x * y, 2),
    "tanh(x) / (1 + y**2)": (lambda x, y: x.tanh() / (1.0 + y**2), 2),
    "exp": (lambda x: x.exp(), 1),
    "log": (lambda x: x.log(), 1),
    "relu": (lambda x: x.relu(), 1),
    "sigmoid": (lambda x: x.sigmoid(), 1),
}


@given(name=st.sampled_from(sorted(FUNCTIONS)), data=st.data())
@example(name="relu", data=None).via("relu at its kink")
def test_gradcheck_passes_a_correct_function_or_says_where_it_cannot(name, data):
    fn, arity = FUNCTIONS[name]
    inputs = [0.0] if data is None else [data.draw(moderate, label="x") for _ in range(arity)]
    ok, out = raises_documented(
        lambda: gradcheck(fn, *inputs),
        [(GradcheckError, ["is at a kink", "is near a kink"])],  # only relu near 0 is (near) one
        ops=sorted(OPS),  # a finite-difference step may leave a domain (log near 0)
    )
    if ok:
        assert len(out) == arity
        assert all(map(math.isfinite, out))
    elif isinstance(out, GradcheckError):
        # Finite differences straddle the kink at 0 when x is within a step (EPS**(1/3)) of it.
        assert name == "relu"
        assert abs(inputs[0]) < 1e-5


@given(name=st.sampled_from(sorted(FUNCTIONS)), data=st.data())
def test_gradcheck_names_a_bad_input(name, data):
    fn, arity = FUNCTIONS[name]
    inputs = [data.draw(moderate | anything, label="input") for _ in range(arity)]
    errors = element_errors(inputs, ["input"])
    assume(errors)
    ok, out = raises_documented(lambda: gradcheck(fn, *inputs), errors)
    assert not ok, out


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: gradcheck(5, 1.0), TYPE, ["fn"]),  # 'int' object is not callable
        (lambda: gradcheck(lambda x: 1.0, 1.0), TYPE, ["fn"]),  # AttributeError: no backward
        (lambda: gradcheck(lambda x: x, "a"), TYPE, ["input"]),  # could not convert string
        (lambda: gradcheck(lambda x: x, None), TYPE, ["input"]),  # float() argument must be
        (lambda: gradcheck(lambda x: x, 10**400), VALUE, ["input"]),  # bare OverflowError
        (lambda: check_program(5), TYPE, ["program"]),  # AttributeError: no attribute 'run'
        (lambda: check_program(None), TYPE, ["program"]),
        (  # "backward gives 1.0, finite differences 0.5049": within a step of the kink at 0
            lambda: gradcheck(lambda x: x.relu(), 5.960464477539063e-08),
            GradcheckError,
            ["kink"],
        ),
        (  # a constant beyond float64: a bare OverflowError when the program runs
            lambda: run_engine(Program((), (Instr("exp", (10**400,)),))),
            VALUE,
            ["input", "constant"],
        ),
        (  # "d/dx0 = 0.0, the oracle says 0.5": not a word about the kink
            lambda: check_program(Program((0.0,), (Instr("relu", ("x0",)),))),
            GradcheckError,
            ["kink"],
        ),
    ],
    ids=[
        "gradcheck-fn-5",
        "gradcheck-fn-returns-float",
        "gradcheck-input-str",
        "gradcheck-input-None",
        "gradcheck-input-huge-int",
        "check_program-5",
        "check_program-None",
        "gradcheck-near-a-kink",
        "program-constant-huge-int",
        "check_program-at-a-kink",
    ],
)
def test_testing_helpers_name_what_is_wrong(call, error, words):
    must_raise(call, error, words)


@given(
    leaves=st.one_of(st.lists(real_numbers | junk, max_size=2).map(tuple), anything),
    op=st.sampled_from([*sorted(OPS), "nope"]),
    args=st.lists(
        st.sampled_from(["x0", "x1", "v0", "v9"]) | finite | huge_ints | junk, max_size=3
    ),
    params=st.lists(anything, max_size=1).map(tuple),
)
@example(leaves=(1.0,), op="pow", args=["x0"], params=("a",)).via("bare: must be real number")
@example(leaves=(1.0,), op="pow", args=["x0"], params=(math.nan,)).via("bare: int(nan)")
@example(leaves=(math.nan,), op="exp", args=["x0"], params=())
@example(leaves=(), op="exp", args=[10**400], params=()).via("bare OverflowError when run")
def test_programs_are_checked_or_name_what_is_wrong(leaves, op, args, params):
    """Building a Program and running it on the engine: the program, or a named error."""
    ok, program = raises_documented(
        lambda: Program(leaves, (Instr(op, tuple(args), params),)),
        [(TYPE, ["Program"]), (VALUE, ["Program"])],
    )
    if not ok:
        return
    leaf_errors = element_errors(program.leaves, ["data"])
    const_errors = element_errors([a for a in args if not isinstance(a, str)], ["input"])
    ok, out = raises_documented(
        lambda: run_engine(program),
        [*leaf_errors, *const_errors, *element_errors(params, ["param"])],
        ops=[op],
    )
    if ok:
        finite_graph(out[1])
