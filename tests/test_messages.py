"""The words of every engine error: each names the call, the argument and what is wrong with it.

The messages are part of the interface (docs/use.md: errors name the argument), so they are
checked whole: a message that loses the argument's name, its position or the reason fails here.
"""

import math
import re

import pytest

from micrograd import OPS, OpError, Value, apply, dot
from micrograd.engine import binary_node
from micrograd.nn import Neuron
from micrograd.ops import Op, register, registered


def _hand_set(data: object) -> Value:
    v = Value(1.0)
    v.data = data  # what only an assignment by hand can do
    return v


def _neuron_with_weight(data: object) -> Neuron:
    neuron = Neuron(1, activation="linear")
    neuron.w[0].data = data  # bias 0; its node is dot(w, b, x, 1)
    return neuron


def _assign_backward() -> None:
    Value(1.0)._backward = lambda: None


NO_CLOSURES = (
    "micrograd's ops are declared in its registry, micrograd/ops.py (how to add one: "
    "help(micrograd.ops))"
)


BY_HAND = ": a Value's .data was set to a non-finite number or a non-number by hand"
HUGE = 10**400  # an int beyond float64's range

CALLS = [
    # apply: the op, its params, its inputs, each named with its position.
    (
        lambda: apply("add", 1.0, 2.0),
        TypeError,
        "apply takes a registry entry as op (micrograd.OPS['add'], ...), got str: 'add'",
    ),
    (
        lambda: apply(OPS["pow"], 1.0, params=5),
        TypeError,
        "apply: params must be a tuple of numbers, got int",
    ),
    (lambda: apply(OPS["pow"], 1.0), TypeError, "apply: pow takes 1 params (n), got ()"),
    (
        lambda: apply(OPS["exp"], 1.0, params=(2.0,)),
        TypeError,
        "apply: exp takes 0 params (none), got (2.0,)",
    ),
    (
        lambda: apply(OPS["dot"], 1.0),
        TypeError,
        "apply: dot takes an even, non-zero number of inputs, got 1",
    ),
    (
        lambda: apply(OPS["dot"]),
        TypeError,
        "apply: dot takes an even, non-zero number of inputs, got 0",
    ),
    (lambda: apply(OPS["add"], 1.0), TypeError, "apply: add takes 2 inputs, got 1"),
    (lambda: apply(OPS["add"], 1.0, 2.0, 3.0), TypeError, "apply: add takes 2 inputs, got 3"),
    (
        lambda: apply(OPS["pow"], 1.0, params=("a",)),
        TypeError,
        "apply: pow's param n must be a real number, got str: 'a'",
    ),
    (
        lambda: apply(OPS["add"], 1.0, "b"),
        TypeError,
        "apply: add's input 2 must be a real number, got str: 'b'",
    ),
    (
        lambda: apply(OPS["add"], "a", Value(2.0)),
        TypeError,
        "apply: add's input 1 must be a real number, got str: 'a'",
    ),
    (
        lambda: apply(OPS["add"], Value(1.0), math.inf),
        ValueError,
        "apply: add's input 2 must be a finite number (float64), got inf",
    ),
    (
        lambda: apply(OPS["dot"], Value(1.0), Value(2.0), Value(3.0), None),
        TypeError,
        "apply: dot's input 4 must be a real number, got NoneType: None",
    ),
    # dot, by hand or in a Neuron: which list, which element.
    (lambda: dot([1.0], "x"), TypeError, "dot: b must be a list of numbers or Values, got str"),
    (lambda: dot(3, [1.0]), TypeError, "dot: a must be a list of numbers or Values, got int"),
    (
        lambda: dot([1.0, "x"], [1.0, 2.0]),
        TypeError,
        "dot: a[1] must be a real number, got str: 'x'",
    ),
    (
        lambda: dot([1.0], [None]),
        TypeError,
        "dot: b[0] must be a real number, got NoneType: None",
    ),
    (
        lambda: dot([1e200], [1e200]),
        OpError,
        "dot(1e+200, 1e+200): the value or a derivative overflows float64",
    ),
    (
        lambda: _neuron_with_weight(1e200)([1e200]),
        OpError,
        "dot(1e+200, 0.0, 1e+200, 1.0): the value or a derivative overflows float64",
    ),
    (
        lambda: _neuron_with_weight("abc")([2.0]),
        OpError,
        "dot('abc', 0.0, 2.0, 1.0): input 1 is a str" + BY_HAND,
    ),
    # What micrograd 0.1.0 allowed and the registry replaces.
    (
        lambda: Value(1.0, (Value(2.0),), "+"),
        TypeError,
        "Value(data, _children, _op) cannot build an op node by hand: "
        + NO_CLOSURES
        + "; build nodes with the ops themselves (a + b, a.tanh(), ...)",
    ),
    (
        _assign_backward,
        TypeError,
        "micrograd does not take a _backward closure: an op's value and local derivatives "
        "are declared once in its registry, micrograd/ops.py (how to add one: "
        "help(micrograd.ops)); node._backward() then does that node's chain-rule step",
    ),
    (
        lambda: Value(1.0, (Value(2.0),)),  # children alone, or an op alone: refused as well
        TypeError,
        "Value(data, _children, _op) cannot build an op node by hand: "
        + NO_CLOSURES
        + "; build nodes with the ops themselves (a + b, a.tanh(), ...)",
    ),
    (
        lambda: Value(1.0, _op="+"),
        TypeError,
        "Value(data, _children, _op) cannot build an op node by hand: "
        + NO_CLOSURES
        + "; build nodes with the ops themselves (a + b, a.tanh(), ...)",
    ),
    (
        lambda: Value(1.0).backward(math.nan),
        ValueError,
        "gradient must be a finite number (float64), got nan",
    ),
    # Value(...) and operands.
    (
        lambda: Value(HUGE),
        ValueError,
        "data must be a finite number (float64), got int beyond float64's range (about 1.8e308)",
    ),
    (lambda: Value(math.nan), ValueError, "data must be a finite number (float64), got nan"),
    (lambda: Value(True), TypeError, "data must be a real number, got bool: True"),
    (lambda: Value(Value(1.0)), TypeError, "data must be a real number, got a Value"),
    (lambda: Value("1"), TypeError, "data must be a real number, got str: '1'"),
    (lambda: Value(1.0) + "a", TypeError, "the operand must be a real number, got str: 'a'"),
    (lambda: "a" * Value(1.0), TypeError, "the operand must be a real number, got str: 'a'"),
    (
        lambda: Value(1.0) - math.nan,
        ValueError,
        "the operand must be a finite number (float64), got nan",
    ),
    (
        lambda: Value(1.0) ** "2",
        TypeError,
        "the exponent must be a real number, got str: '2'",
    ),
    (lambda: Value(1.0, label=3), TypeError, "label must be a str, got int: 3"),
    # Ops: the op and its operands, then which input and why.
    (
        lambda: Value(1.0) * _hand_set(math.nan),
        OpError,
        "mul(1.0, nan): input 2 is nan" + BY_HAND,
    ),
    (
        lambda: _hand_set(math.inf) + Value(2.0),
        OpError,
        "add(inf, 2.0): input 1 is inf" + BY_HAND,
    ),
    (lambda: _hand_set(-math.inf).exp(), OpError, "exp(-inf): the input is -inf" + BY_HAND),
    (lambda: _hand_set("x").relu(), OpError, "relu('x'): the input is a str" + BY_HAND),
    (
        lambda: _hand_set(HUGE) * 2.0,
        OpError,
        f"mul({HUGE}, 2.0): input 1 is an int beyond float64's range" + BY_HAND,
    ),
    (lambda: Value(2.0) / 0.0, OpError, "div(2.0, 0.0): input 2 outside the domain x != 0"),
    (lambda: Value(-1.0).log(), OpError, "log(-1.0): outside the domain 0 < x"),
    (lambda: Value(-1.0) ** 0.5, OpError, "pow(-1.0, 0.5): outside the domain 0 < x"),
    (
        lambda: Value(1e200) * 1e200,
        OpError,
        "mul(1e+200, 1e+200): the value or a derivative overflows float64",
    ),
    (
        lambda: Value(1000.0).exp(),
        OpError,
        "exp(1000.0): the value or a derivative overflows float64",
    ),
]


@pytest.mark.parametrize(("call", "error", "message"), CALLS)
def test_each_error_says_what_is_wrong(call, error, message):
    with pytest.raises(error) as raised:
        call()
    assert type(raised.value) is error
    assert str(raised.value) == message


def test_an_op_error_keeps_the_op_operands_and_reason_as_attributes():
    with pytest.raises(OpError) as raised:
        Value(2.0) / 0.0
    assert (raised.value.op, raised.value.operands) == ("div", (2.0, 0.0))
    assert raised.value.reason == "input 2 outside the domain x != 0"


def test_backward_names_the_node_whose_grad_overflows():
    x = Value(1.0)
    y = x * 1e308
    y.backward()  # x.grad = 1e308; a second pass would make it inf
    with pytest.raises(OpError) as raised:
        y.backward()
    assert str(raised.value) == (
        "backward(1e+308): adding to the grad of Value(data=1.0, grad=1e+308) overflows"
    )
    # The node named is the one that overflows, not the first one looked at (a, here).
    a, b = Value(2.0), Value(3.0)
    z = a * b + b
    b.grad = 1.7e308
    with pytest.raises(OpError) as raised:
        z.backward(1e307)  # adds 3e307 to a's grad (fine) and 3e307 to b's (beyond 1.8e308)
    assert str(raised.value) == (
        "backward(9.0): adding to the grad of Value(data=3.0, grad=1.7e+308) overflows"
    )
    assert (a.grad, b.grad, z.grad) == (0.0, 1.7e308, 0.0)  # nothing was added


def test_backward_names_the_node_whose_gradient_overflows():
    # Two paths of 1e308 each meet at x: its gradient in this pass is inf, whatever its grad.
    # x passes gradient on (h, an inner node) or passes nothing on (a leaf, an end): the
    # message is the same, though backward finds each at another step.
    x = Value(1e-300)
    h = x * 1.0
    y = h * 1e308 + h * 1e308
    with pytest.raises(OpError) as raised:
        y.backward()
    assert str(raised.value) == f"backward(200000000.0): the gradient at {h!r} overflows"
    y = x * 1e308 + x * 1e308
    with pytest.raises(OpError) as raised:
        y.backward()
    assert str(raised.value) == f"backward(200000000.0): the gradient at {x!r} overflows"
    assert (x.grad, h.grad, y.grad) == (0.0, 0.0, 0.0)  # nothing was added


@pytest.mark.parametrize(
    ("bad", "problem"),
    [(math.nan, "is nan"), ("abc", "is a str"), (HUGE, "is an int beyond float64's range")],
)
def test_backward_and_a_nodes_backward_name_a_grad_set_by_hand(bad, problem):
    x = Value(1.0)
    y = x * 2.0
    x.grad = bad
    with pytest.raises(OpError) as raised:
        y.backward()
    assert str(raised.value) == (
        f"backward(2.0): the grad of {x!r} {problem}: .grad was set by hand"
    )
    with pytest.raises(OpError) as raised:
        y._backward()
    assert str(raised.value) == f"_backward(2.0): the grad of {x!r} {problem}: set by hand"


@pytest.mark.parametrize(
    ("x_grad", "y_grad"),
    [(1.7e308, 1e4), (0.0, 1e5)],  # the sum overflows; the product d * g alone overflows
)
def test_a_nodes_backward_names_an_overflow(x_grad, y_grad):
    x = Value(1.0)
    y = x * 1e304
    x.grad, y.grad = x_grad, y_grad
    with pytest.raises(OpError) as raised:
        y._backward()
    assert str(raised.value) == f"_backward(1e+304): an input's grad overflows at {y!r}"
    assert x.grad == x_grad  # nothing was added


def test_an_op_returning_the_wrong_number_of_partials_is_named():
    one_short = Op("one_short", 1, lambda a: (a, ()), "{}.one_short()", torch="neg")
    two_short = Op("two_short", 2, lambda a, b: (a, (1.0,)), "two_short({}, {})", torch="add")
    with registered(one_short, two_short):
        with pytest.raises(TypeError) as raised:
            Value(1.0).one_short()
        assert str(raised.value) == "op 'one_short' returned 0 partials for 1 inputs"
        with pytest.raises(TypeError) as raised:
            apply(two_short, 1.0, 2.0)
        assert str(raised.value) == "op 'two_short' returned 1 partials for 2 inputs"
    # The engine's two-input path, which the operators take.
    with pytest.raises(TypeError) as raised:
        binary_node(two_short, Value(1.0), Value(2.0))
    assert str(raised.value) == "op 'two_short' returned 1 partials for 2 inputs"


def test_apply_names_every_param_an_op_takes():
    clip = Op(
        "clip",
        1,
        lambda a, lo, hi: (min(max(a, lo), hi), (1.0,)),
        "clip({}, {!r}, {!r})",
        params={"lo": (0.0,), "hi": (1.0,)},
    )
    with registered(clip), pytest.raises(TypeError) as raised:
        apply(clip, 1.0, params=(0.0,))
    assert str(raised.value) == "apply: clip takes 2 params (lo, hi), got (0.0,)"


def test_register_adds_a_method_only_for_a_method_spelled_op_not_already_defined():
    def double(a):
        return 2.0 * a, (2.0,)

    zero_grad = Value.zero_grad
    ops = (
        Op("double", 1, double, "{}.double()", torch="mul"),
        Op("twice", 1, double, "twice({})", torch="mul"),
        Op("zero_grad", 1, double, "{}.zero_grad()", torch="mul"),  # a name Value has
    )
    with registered(*ops):
        assert Value(1.5).double().data == 3.0
        assert not hasattr(Value, "twice")  # spelled as a function: no method
        assert Value.zero_grad is zero_grad
        with pytest.raises(ValueError, match=re.escape("op 'double' is already registered")):
            register(Op("double", 1, double, "{}.double()", torch="mul"))
    # Unregistered: the method it added is gone, the one Value had is kept.
    assert not hasattr(Value, "double")
    assert Value.zero_grad is zero_grad
    assert "double" not in OPS


def test_a_variadic_ops_error_names_the_input_outside_its_domain():
    from micrograd.ops import POSITIVE, VARIADIC

    def log_dot(*ab):
        n = len(ab) // 2
        return sum(math.log(a) * b for a, b in zip(ab[:n], ab[n:], strict=True)), ab

    op = Op("log_dot", VARIADIC, log_dot, "log_dot({}, {})", domain=(POSITIVE,))
    with registered(op), pytest.raises(OpError) as raised:
        apply(op, 1.0, -1.0, 2.0, 3.0)  # log(-1.0): its second input
    assert str(raised.value) == "log_dot(1.0, -1.0, 2.0, 3.0): input 2 outside the domain 0 < x"


def without_mpmath(code):
    """Run ``code`` in a fresh interpreter where mpmath cannot be imported (the test extra
    missing)."""
    import subprocess
    import sys

    prelude = "import sys; sys.modules['mpmath'] = None\n"
    return subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True)


def test_a_missing_extra_is_named_with_the_command_that_installs_it():
    r = without_mpmath("import micrograd.testing")
    assert r.returncode == 1
    assert (
        "ImportError: micrograd.testing needs the 'test' extra (mpmath is not installed): "
        "pip install -e '.[test]' (in a clone of micrograd-verified)"
    ) in r.stderr
    r = without_mpmath(
        "from micrograd import conformance; raise SystemExit(conformance.main(['x']))"
    )
    assert r.returncode == 2
    assert "needs the 'conformance' extra (mpmath is not installed)" in r.stderr
    assert "Traceback" not in r.stderr
    r = without_mpmath("from micrograd import conformance; conformance.main(['--help'])")
    assert r.returncode == 0
    assert "usage:" in r.stdout
