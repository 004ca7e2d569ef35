"""Fuzzing the public API (tests/fuzz/): the contract every call is held to, and the shared
strategies and checks.

Every call either returns a correct, finite result (every data and grad it touches finite;
checked against plain float arithmetic where that is cheap) or raises one of the documented
errors (docs/use.md):

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

from hypothesis import strategies as st

from micrograd import OpError, Value
from micrograd.testing.floats import LEAST_SUBNORMAL, MAX, SMALLEST_NORMAL
from micrograd.viz import trace

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
    """What an argument documented as a finite real number does with x (docs/use.md): the float
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


def size_errors(name, n):
    if type(n) is not int:
        return [(TYPE, [name])]
    return [] if n >= 1 else [(VALUE, [name])]
