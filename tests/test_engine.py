"""Value: values, gradients, accumulation, errors and memory behaviour of the engine."""

import gc
import math
import random

import mpmath
import pytest

from micrograd import OpError, Value, apply, dot
from micrograd.nn import Layer
from micrograd.ops import Op
from micrograd.viz import trace


def test_sanity_check():
    # y and dy/dx worked out by hand: z = 3x + 2 = -10, q = z*x = 40, h = z*z = 100.
    x = Value(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    assert y.data == -20.0
    assert x.grad == 46.0  # dh/dx + dq/dx + d(qx)/dx = -60 - 22 + 128


def test_more_ops_match_the_original_micrograd_example():
    # The expression of the original micrograd's test_more_ops; the expected numbers are the
    # PyTorch results it was checked against (to 4 decimals).
    a, b = Value(-4.0), Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert g.data == pytest.approx(24.7041, abs=1e-4)
    assert a.grad == pytest.approx(138.8338, abs=1e-4)
    assert b.grad == pytest.approx(645.5773, abs=1e-4)


# Each row: an expression of (a, b) = (1.5, -0.5), its value and (d/da, d/db) from calculus.
S = 1 / (1 + math.exp(-1.5))
CASES = {
    "add": (lambda a, b: a + b, 1.0, (1.0, 1.0)),
    "radd": (lambda a, b: 2 + a, 3.5, (1.0, 0.0)),
    "sub": (lambda a, b: a - b, 2.0, (1.0, -1.0)),
    "rsub": (lambda a, b: 2 - b, 2.5, (0.0, -1.0)),
    "mul": (lambda a, b: a * b, -0.75, (-0.5, 1.5)),
    "rmul": (lambda a, b: 3 * b, -1.5, (0.0, 3.0)),
    "div": (lambda a, b: a / b, -3.0, (-2.0, -6.0)),
    "rdiv": (lambda a, b: 3 / a, 2.0, (-3 / 1.5**2, 0.0)),
    "neg": (lambda a, b: -a, -1.5, (-1.0, 0.0)),
    "pow": (lambda a, b: a**3, 3.375, (3 * 1.5**2, 0.0)),
    "pow_negative": (lambda a, b: b**-2, 4.0, (0.0, 16.0)),
    "pow_fractional": (lambda a, b: a**0.5, math.sqrt(1.5), (0.5 / math.sqrt(1.5), 0.0)),
    "powv": (lambda a, b: a**b, 1.5**-0.5, (-0.5 * 1.5**-1.5, 1.5**-0.5 * math.log(1.5))),
    "rpow": (lambda a, b: 2**b, 2**-0.5, (0.0, 2**-0.5 * math.log(2))),
    "exp": (lambda a, b: a.exp(), math.exp(1.5), (math.exp(1.5), 0.0)),
    "log": (lambda a, b: a.log(), math.log(1.5), (1 / 1.5, 0.0)),
    "tanh": (lambda a, b: b.tanh(), math.tanh(-0.5), (0.0, 1 - math.tanh(-0.5) ** 2)),
    "sigmoid": (lambda a, b: a.sigmoid(), S, (S * (1 - S), 0.0)),
    "relu_positive": (lambda a, b: a.relu(), 1.5, (1.0, 0.0)),
    "relu_negative": (lambda a, b: b.relu(), 0.0, (0.0, 0.0)),
    "dot": (lambda a, b: dot([a, b], [b, 2.0]), -1.75, (-0.5, 3.5)),
}


@pytest.mark.parametrize("name", CASES)
def test_operator_value_and_gradient(name):
    fn, value, (da, db) = CASES[name]
    a, b = Value(1.5), Value(-0.5)
    y = fn(a, b)
    y.backward()
    # The expected numbers are computed in float64 by another formula: allow a few ulps.
    assert y.data == pytest.approx(value, rel=1e-15, abs=1e-15)
    assert (a.grad, b.grad) == pytest.approx((da, db), rel=1e-14, abs=1e-15)


def test_augmented_assignment_makes_a_new_node():
    a = Value(2.0)
    b = a
    b += 1
    b *= 3
    assert (a.data, b.data) == (2.0, 9.0)
    b.backward()
    assert a.grad == 3.0


def test_repr_and_data_is_a_float():
    v = Value(2)
    assert isinstance(v.data, float)
    assert repr(v) == "Value(data=2.0, grad=0.0)"


@pytest.mark.parametrize(
    "convert",
    [float, int, complex, round, math.exp, math.sqrt, math.log, math.tanh, math.floor, math.fsum],
    ids=lambda f: f.__name__,
)
def test_no_implicit_conversion_cuts_a_value_out_of_the_graph(convert):
    # y * math.exp(y) would give dy at y = 3 as e**3 = 20.09 instead of 4 e**3 = 80.34.
    y = Value(3.0)
    with pytest.raises(TypeError, match=r"v\.exp\(\).*v\.data"):
        convert([y] if convert is math.fsum else y)


@pytest.mark.parametrize("bad", ["abc", True, None, 1j, [1.0], Value])
def test_value_rejects_non_numbers_naming_the_type(bad):
    with pytest.raises(TypeError, match=type(bad).__name__):
        Value(bad)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_value_rejects_non_finite_numbers(bad):
    with pytest.raises(ValueError, match="finite"):
        Value(bad)


def test_operands_are_checked_like_values():
    x = Value(1.0)
    with pytest.raises(TypeError, match="str"):
        x + "a"
    with pytest.raises(TypeError, match="bool"):
        x**True
    with pytest.raises(ValueError, match="finite"):
        x * math.nan


@pytest.mark.parametrize(
    ("expr", "op", "match"),
    [
        (lambda: Value(-1.0).log(), "log", r"log\(-1\.0\): outside the domain 0 < x"),
        (lambda: Value(0.0).log(), "log", "outside the domain"),
        (lambda: Value(1.0) / 0, "div", r"div\(1\.0, 0\.0\): input 2 outside the domain x != 0"),
        (lambda: Value(0.0) ** -1, "pow", "outside the domain x != 0"),
        (lambda: Value(-8.0) ** 0.5, "pow", "outside the domain 0 < x"),
        (lambda: Value(0.0) ** 0.5, "pow", "outside the domain 0 < x"),
        (lambda: Value(-2.0) ** Value(2.0), "powv", "input 1 outside the domain 0 < x"),
        (lambda: Value(1000.0).exp(), "exp", "overflows"),
        (lambda: Value(1e200) * 1e200, "mul", "overflows"),
        (lambda: Value(1.7e308) - -1.7e308, "sub", "overflows"),
        (lambda: Value(10.0) ** 400, "pow", "overflows"),
        (lambda: Value(1e-300) ** -2, "pow", "overflows"),
        (lambda: Value(1.0) / 1e-200 / 1e-200, "div", "overflows"),
    ],
)
def test_ops_outside_their_domain_or_range_raise_naming_op_and_operands(expr, op, match):
    with pytest.raises(OpError, match=match) as info:
        expr()
    assert info.value.op == op
    assert isinstance(info.value, ArithmeticError)


def test_pow_at_zero_where_it_is_defined():
    for n, value, grad in [(0, 1.0, 0.0), (1, 0.0, 1.0), (2, 0.0, 0.0), (1.5, 0.0, 0.0)]:
        x = Value(0.0)
        y = x**n
        y.backward()
        assert (y.data, x.grad) == (value, grad), n


@pytest.mark.parametrize("x", [20.0, -20.0, 40.0, -40.0, 300.0, -300.0, 700.0, -700.0])
def test_saturating_ops_keep_full_precision_in_their_tails(x):
    # tanh'(x) = sech(x)**2 ~ 4 e**-2|x| and sigmoid'(x) ~ e**-|x|: the naive 1 - t*t and
    # s*(1 - s) give 0 exactly once t or s rounds to +-1. Error model: exp(-2|x|) and the few
    # operations after it, each within 1/2 ulp: 8 ulps relative, no absolute slack (abs=0),
    # down to the subnormals (tanh'(-300) is 4.2e-261; sigmoid'(700) is 9.9e-305).
    with mpmath.workdps(50):
        want_tanh = float(mpmath.sech(x) ** 2)
        want_sigmoid = float(mpmath.exp(-x) / (1 + mpmath.exp(-x)) ** 2)
    a, b = Value(x), Value(x)
    a.tanh().backward()
    b.sigmoid().backward()
    assert a.grad == pytest.approx(want_tanh, rel=8 * 2**-52, abs=0)
    assert b.grad == pytest.approx(want_sigmoid, rel=8 * 2**-52, abs=0)


def test_a_saturated_sigmoid_does_not_overflow():
    assert Value(-1000.0).sigmoid().data == 0.0


def test_an_error_leaves_the_graph_usable():
    x = Value(2.0)
    y = x * x
    with pytest.raises(OpError):
        y / 0
    y.backward()
    assert x.grad == 4.0


def test_backward_overflow_raises_and_leaves_gradients_untouched():
    x = Value(1e-300)
    y = x * 1e200 * 1e200  # finite values, but dy/dx = 1e400
    with pytest.raises(OpError, match="overflows") as info:
        y.backward()
    assert info.value.op == "backward"
    assert x.grad == 0.0
    z = x * 3.0
    z.backward()
    assert x.grad == 3.0


def test_shared_node_accumulates():
    a = Value(3.0)
    (a + a).backward()
    assert a.grad == 2.0
    a.grad = 0.0
    (a * a).backward()
    assert a.grad == 6.0


def test_repeated_backward_adds_exactly_once_per_call():
    x = Value(1.0)
    x2 = x * 2
    y = x2 * 3
    y.backward()
    y.backward()
    assert x.grad == 12.0  # the original micrograd gives 18
    assert x2.grad == 6.0
    assert y.grad == 2.0


def test_backward_seed_and_backward_from_an_intermediate_node():
    x = Value(2.0)
    h = x * x
    y = h * 5
    h.backward(gradient=0.5)
    assert x.grad == 2.0  # 0.5 * 2x
    assert y.grad == 0.0  # not upstream of h
    x.grad = 0.0
    y.backward()
    assert x.grad == 20.0


def test_zero_grad_on_a_graph_resets_every_node():
    x = Value(2.0)
    y = (x * x).tanh() + x
    y.backward()
    y.zero_grad()
    nodes = [y, *y._parents, *y._parents[0]._parents, x]
    assert all(v.grad == 0.0 for v in nodes)


def test_million_node_chain_backward_without_recursion_error():
    x = Value(1.0)
    y = x
    for _ in range(1_000_000):
        y = -y
    y.backward()
    assert x.grad == 1.0  # an even number of negations


def test_values_use_slots():
    v = Value(1.0)
    assert not hasattr(v, "__dict__")
    with pytest.raises(AttributeError):
        v.colour = "red"


def test_a_dropped_graph_is_freed_by_reference_counting_alone():
    gc.collect()
    gc.disable()
    try:

        def build():
            x = Value(0.3)
            y = x
            for _ in range(1000):
                y = (y * x + 1.0).tanh()
            y.backward()

        build()
        assert gc.collect() == 0  # nothing was left for the cycle collector
    finally:
        gc.enable()


def test_dot_checks_its_sequences():
    with pytest.raises(ValueError, match="equal, non-zero length: 2, 1"):
        dot([1.0, 2.0], [3.0])
    with pytest.raises(ValueError, match="equal, non-zero length: 0, 0"):
        dot([], [])


class _CountingLeaf(Value):
    """A leaf that counts the writes to its grad."""

    __slots__ = ("_stored", "writes")

    @property
    def grad(self):
        return self._stored

    @grad.setter
    def grad(self, value):
        self._stored, self.writes = value, getattr(self, "writes", 0) + 1


def test_zero_grad_visits_each_node_once():
    x = _CountingLeaf(1.0)
    y = x
    for _ in range(12):  # 4096 paths from y to x: a walk that revisits nodes writes x 4096 times
        y = y + y
    y.backward()
    assert x.grad == 4096.0
    x.writes = 0
    y.zero_grad()
    assert (x.grad, x.writes) == (0.0, 1)
    assert all(v.grad == 0.0 for v in trace(y)[0])


def test_an_op_that_fails_inside_its_domain_says_why():
    from micrograd.ops import registered

    def broken(a):
        raise ValueError("boom")

    short = Op(
        "short",
        2,
        lambda a, b: (a + b, (1.0,)),
        "short({}, {})",
        torch="add",
        mp=lambda mp, a, b: a + b,
    )
    with registered(
        Op("broken", 1, broken, "{}.broken()", torch="neg", mp=lambda mp, a: -a), short
    ):
        with pytest.raises(OpError, match=r"broken\(1\.0\): boom"):
            Value(1.0).broken()
        with pytest.raises(TypeError, match="'short' returned 1 partials for 2 inputs"):
            apply(short, 1.0, 2.0)


def test_overflow_errors_say_so():
    with pytest.raises(
        OpError, match=r"mul\(1e\+200, 1e\+200\): the value or a derivative overflows float64$"
    ):
        Value(1e200) * 1e200


def test_powv_keeps_full_precision_for_a_tiny_exponent():
    # d/da a**b = b * a**(b - 1); in floats b - 1 rounds to -1 for b = 5e-17, an error of
    # b * |log a| = 4e-14 relative. Computed as a**b * (b / a), it stays within a few ulps.
    a, b = Value(5e-324), Value(5e-17)
    (a**b).backward()
    exact = (5e-17 / 5e-324) * math.exp(5e-17 * math.log(5e-324))
    assert a.grad == pytest.approx(exact, rel=1e-15, abs=0)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_data_set_to_a_non_finite_number_by_hand_is_named_at_the_next_op(bad):
    w = Value(0.5)
    w.data = bad
    for op in (lambda: w * 2.0, lambda: w.tanh(), lambda: w.relu(), lambda: 1.0 - w):
        with pytest.raises(OpError, match="set to a non-finite number"):
            op()


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
@pytest.mark.parametrize("x", [[1.0, 0.0], [0.0, 0.0]])
def test_a_weight_set_to_a_non_finite_number_stops_the_next_forward(bad, x):
    # inf * 0 is nan: the dot node's value alone shows a non-finite input, even a zero-times one.
    layer = Layer(2, 3, rng=random.Random(0))
    layer.neurons[1].w[0].data = bad
    with pytest.raises(OpError, match="set to a non-finite number"):
        layer(x)


@pytest.mark.parametrize("bad", ["abc", None, 10**400, [1.0]], ids=repr)
@pytest.mark.parametrize(
    "op",
    [lambda v: v.relu(), lambda v: v * 2.0, lambda v: v + v, lambda v: v**2, lambda v: v.tanh()],
)
def test_data_set_to_a_non_number_by_hand_is_named_at_the_next_op(bad, op):
    v = Value(1.0)
    v.data = bad
    with pytest.raises(OpError, match="by hand"):
        op(v)


@pytest.mark.parametrize("bad", ["abc", None, 10**400, math.nan, math.inf])
def test_grad_set_by_hand_to_a_non_number_is_named_by_backward(bad):
    x = Value(1.0)
    y = x * 2
    x.grad = bad
    with pytest.raises(OpError, match=r"the grad of .* set by hand"):
        y.backward()
    y.grad = bad
    with pytest.raises(OpError, match=r"the grad of .* set by hand"):
        y._backward()


def _every_constructor(x: Value) -> list[Value]:
    """A node from each way the engine makes one."""
    from micrograd import OPS, apply

    layer = Layer(2, 2, rng=random.Random(0))
    return [
        x + 2.0,  # a binary op and a constant leaf
        2.0 - x,
        x.relu(),  # a unary op
        x**2,  # an op with a param
        x**x,
        apply(OPS["exp"], x),  # the generic path
        dot([x, 2.0], [3.0, x]),
        *layer([x, 1.0]),  # dot nodes made by a Layer, with their activation
        *layer([x, 1.0])[0]._prev,
        Value(3.0, label="c"),
    ]


@pytest.mark.parametrize("x", [0.0, -1.0, 0.5])  # 0: zero partials for the others; -1: relu off
def test_prev_is_the_set_of_inputs_whatever_their_partials(x):
    from micrograd import OPS, apply

    v, zero = Value(x), Value(0.0)
    cases = [
        (v * zero, {v, zero}),  # d/dv = 0
        (zero * v, {zero, v}),
        (v.relu(), {v}),  # off at -1 and at 0: its one partial is 0
        (v**0, {v}),  # an op with a param, partial 0
        (apply(OPS["mul"], v, zero), {v, zero}),  # the generic path
        (dot([v, zero], [zero, v]), {v, zero}),  # each input twice, partials zero and v
    ]
    for node, inputs in cases:
        assert node._prev == inputs, node._op
    assert len((v * 0.0)._prev) == 2, "a constant factor 0.0 is an input too"
    # A Layer's fused nodes: every weight, the bias, every input and the constant 1, on and off.
    layer = Layer(2, 2, activation="relu", rng=random.Random(0))
    layer.neurons[0].w[0].data, layer.neurons[0].w[1].data = 1.0, 1.0
    layer.neurons[1].w[0].data, layer.neurons[1].w[1].data = -1.0, -1.0  # off for x >= 0
    for neuron, out in zip(layer.neurons, layer([v, zero]), strict=True):
        known = {*neuron.w, neuron.b, v, zero}
        assert known <= out._prev, out
        [one] = out._prev - known
        assert one.data == 1.0


def test_every_new_node_starts_with_grad_zero_and_no_label():
    x = Value(0.5)
    for node in _every_constructor(x):
        nodes = [node, *node._prev]
        assert [v.grad for v in nodes] == [0.0] * len(nodes), node
        assert all(v.label in ("", "c") for v in nodes), node


def test_constants_get_gradients_like_any_leaf():
    x = Value(2.0)
    y = x * 3.0
    [three] = y._prev - {x}
    assert (three.data, three.grad) == (3.0, 0.0)
    y.backward()
    assert (x.grad, three.grad) == (3.0, 2.0)  # dy/dc = x


def test_a_nodes_backward_adds_to_the_grads_already_there():
    x = Value(2.0)
    y = x * 3.0
    x.grad, y.grad = 1.0, 2.0
    y._backward()
    assert x.grad == 1.0 + 3.0 * 2.0
    z = x * x  # one input twice: both partials are added
    z.grad = 1.0
    z._backward()
    assert x.grad == 7.0 + 2.0 + 2.0


class _Interrupting(Value):
    """A leaf whose inputs and partials cannot be read while armed: a Ctrl-C in the middle of
    a pass."""

    __slots__ = ()
    armed = False

    def _read(self):
        if _Interrupting.armed:
            _Interrupting.armed = False  # one Ctrl-C
            raise KeyboardInterrupt
        return ()

    def _ignore(self, value):
        pass

    _parents = _partials = property(_read, _ignore)


def _marks(root: Value) -> set:
    return {v._pass_grad for v in trace(root)[0]}


def test_an_interrupted_backward_leaves_the_graph_as_it_was():
    x, trap = Value(2.0), _Interrupting(3.0)
    y = ((x * x).tanh() + x * trap).relu() * x
    _Interrupting.armed = True
    try:
        with pytest.raises(KeyboardInterrupt):
            y.backward()
    finally:
        _Interrupting.armed = False
    assert _marks(y) == {None}  # no node left marked as reached
    assert (x.grad, trap.grad) == (0.0, 0.0)
    y.backward()  # and the next pass reaches every node
    t = math.tanh(4.0)
    assert x.grad == pytest.approx(y.data / 2.0 + 2.0 * ((1 - t * t) * 4.0 + 3.0), rel=1e-15, abs=0)
    assert trap.grad == pytest.approx(4.0, rel=1e-15, abs=0)


def test_grads_whose_sum_exceeds_float64_are_not_an_overflow():
    # Each grad is finite; only their total would not be: backward must not refuse the pass.
    a, b = Value(1.0), Value(2.0)
    a.grad = b.grad = 1e308
    (a + b).backward()
    assert (a.grad, b.grad) == (1e308 + 1.0, 1e308 + 1.0)


def _bytes_per_node(make, n=20_000):
    """Memory held per node made by make(x), as tracemalloc counts it. Many nodes, so that the
    interpreter's free lists of small tuples (a few thousand, not traced) weigh little."""
    import tracemalloc

    x = Value(0.5)
    make(x)
    tracemalloc.start()
    nodes = [make(x) for _ in range(n)]
    used = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del nodes
    return used / n


def test_a_node_pays_for_a_label_or_params_only_when_it_has_them():
    from micrograd import OPS, apply

    # A leaf: the object alone (80 B: six slots and the headers) and its list entry (8 B);
    # a tuple (op, params, label) would add 56 B.
    assert _bytes_per_node(lambda x: Value(0.5)) <= 96
    assert _bytes_per_node(lambda x: Value(0.5, label="a")) >= 88 + 48
    # An op node made by apply() holds what the method's node holds (within 16 B: free lists).
    by_apply = _bytes_per_node(lambda x: apply(OPS["exp"], x))
    assert by_apply <= _bytes_per_node(lambda x: x.exp()) + 16


def test_backward_through_an_op_of_three_inputs():
    fma = Op("fma", 3, lambda a, b, c: (a * b + c, (b, a, 1.0)), "fma({}, {}, {})")
    x, y, z = Value(2.0), Value(3.0), Value(4.0)
    out = apply(fma, x, y, z) * x
    out.backward()
    # d/dx (x y + z) x = 2 x y + z = 16, d/dy = x**2 = 4, d/dz = x = 2: exact in floats
    assert (x.grad, y.grad, z.grad) == (16.0, 4.0, 2.0)
