"""micrograd.grad, hessian, hvp and backward(create_graph=True): exact cases worked by hand.

The generated checks (every op, random programs, against the oracle and finite differences)
are in tests/property/test_second_order.py; against PyTorch in tests/reference.
"""

import math

import pytest

import micrograd
from micrograd import OPS, Op, OpError, Value, apply, dot, grad, hessian, hvp, nn
from micrograd.autograd import graph_partials
from micrograd.engine import dot_node
from micrograd.fused import dot_then
from micrograd.ops import registered
from micrograd.testing import run_engine
from micrograd.viz import draw_dot, trace
from tests.helpers import SQUARE, same_float
from tests.property.test_second_order import DIAMOND


def test_the_issue_example():
    x = Value(2.0)
    y = x**4 - 2 * x**2
    (g,) = micrograd.grad(y, [x], create_graph=True)
    (h,) = micrograd.grad(g, [x])
    assert (g.data, h) == (24.0, 44.0)  # 4x**3 - 4x and 12x**2 - 4 at 2, exact in floats
    assert x.grad == 0.0
    assert y.grad == 0.0


def test_grad_gives_backwards_floats_bit_for_bit():
    leaves, out = run_engine(DIAMOND)
    got = grad(out, leaves)
    assert all(type(g) is float for g in got)
    assert all(x.grad == 0.0 for x in leaves)
    out.backward()
    assert [same_float(g, x.grad) for g, x in zip(got, leaves, strict=True)] == [True, True]


def test_create_graph_gives_the_same_first_derivatives():
    # Every op's partials= computes the floats its f does; with no zero partial the pass visits
    # the nodes in the same order, so the sums are the same too.
    leaves, out = run_engine(DIAMOND)
    plain = grad(out, leaves)
    graphs = grad(out, leaves, create_graph=True)
    assert [g.data for g in graphs] == list(plain)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_a_fused_node_has_the_second_derivatives_of_its_two_nodes(activation):
    op, x = OPS[activation], (0.3, -1.1, 0.8, 1.0)  # a Neuron's inputs and its constant 1
    w = [0.4, -0.7, 0.2, 0.1]  # its weights and bias: relu on, at a dot of -0.03
    xs = tuple(map(Value, x))

    def fused(*ws):
        return dot_node(ws, xs, x, dot_then(op))

    def two_nodes(*ws):
        return apply(op, dot(list(ws), list(xs)))

    # The fused node's partials are the two nodes' product rounded once more: a few ulps.
    # (relu is on here: its partials are the inputs, exact.)
    for r1, r2 in zip(hessian(fused, w), hessian(two_nodes, w), strict=True):
        assert r1 == pytest.approx(r2, rel=8 * 2.0**-52, abs=8 * 2.0**-1074)
    assert grad(fused(*map(Value, w)), list(xs), create_graph=True)  # builds through it


def test_unused_inputs_raise_or_give_none_or_zero():
    x, y, unused = Value(1.0), Value(-2.0), Value(5.0)
    out = x * y
    with pytest.raises(ValueError, match=r"inputs\[1\].*allow_unused=True.*materialize_grads"):
        grad(out, [x, unused])
    assert grad(out, [x, unused], allow_unused=True) == (-2.0, None)
    assert grad(out, [x, unused], materialize_grads=True) == (-2.0, 0.0)
    (zero,) = grad(out, [unused], create_graph=True, materialize_grads=True)
    assert isinstance(zero, Value)
    assert zero.data == 0.0


def test_an_input_reached_only_through_a_zero_partial_is_used_with_gradient_zero():
    x = Value(-1.0)
    assert grad(x.relu(), [x]) == (0.0,)  # as torch.autograd.grad: in the graph, gradient 0
    (g,) = grad(x.relu(), [x], create_graph=True)
    assert g.data == 0.0
    assert grad(g, [x], materialize_grads=True) == (0.0,)


def test_grad_outputs_weigh_and_sum_the_outputs():
    x = Value(3.0)
    a, b = x * x, x * 2.0
    assert grad([a, b], [x], grad_outputs=[1.0, 10.0]) == (6.0 + 20.0,)
    assert grad(a, x, grad_outputs=0.5) == (3.0,)
    (g,) = grad(a, [x], grad_outputs=[Value(2.0)], create_graph=True)
    assert g.data == 12.0
    assert grad(g, [x]) == (4.0,)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda x: grad(x * x, [x], grad_outputs=[1.0, 2.0]), r"one gradient per output \(1\)"),
        (
            lambda x: grad(x * x, [x], grad_outputs=[math.inf]),
            r"grad_outputs\[0\] must be a finite",
        ),
        (lambda x: grad(x * x, [x, 2.0]), r"inputs\[1\] must be a Value, got float"),
        (lambda x: grad([], [x]), "outputs must be a Value or a non-empty list"),
        (lambda x: grad(x * x, "x"), "inputs must be a Value or a non-empty list"),
    ],
)
def test_wrong_arguments_are_named(call, message):
    with pytest.raises((TypeError, ValueError), match=message):
        call(Value(1.5))


def test_an_overflowing_gradient_raises_in_both_modes():
    x = Value(1.0)
    y = x * 1e10  # its gradient, 1e10 times a gradient of 1e300, overflows
    with pytest.raises(OpError, match="overflows"):
        grad(y, [x], grad_outputs=[1e300])
    with pytest.raises(OpError, match="overflows"):
        grad(y, [x], grad_outputs=[1e300], create_graph=True)


def test_backward_with_create_graph_accumulates_k_times_and_stays_differentiable():
    x = Value(0.5)
    y = x.tanh()
    for k in (1, 2, 3):
        y.backward(create_graph=True)
        assert isinstance(x.grad, Value)
        d = 1 - math.tanh(0.5) ** 2
        assert x.grad.data == pytest.approx(k * d, rel=4 * 2.0**-52, abs=0.0)
        (h,) = grad(x.grad, [x])
        assert h == pytest.approx(k * -2 * math.tanh(0.5) * d, rel=16 * 2.0**-52, abs=0.0)


def test_a_plain_backward_adds_to_a_grad_that_is_a_value():
    x = Value(3.0)
    (x * x).backward(create_graph=True)  # x.grad = 0 + 2x, a node
    (x * 5.0).backward()  # adds 5: the grad stays a node, its history is 2x's
    assert isinstance(x.grad, Value)
    assert x.grad.data == 11.0
    assert grad(x.grad, [x]) == (2.0,)  # as PyTorch's grad after the same two calls
    x.zero_grad()
    assert x.grad == 0.0


def test_backward_with_create_graph_changes_every_grad_or_none():
    x = Value(1e200)
    y = x * 1e100
    with pytest.raises(OpError, match="overflows"):
        y.backward(1e300, create_graph=True)
    assert x.grad == 0.0
    assert y.grad == 0.0


def test_an_op_without_partials_names_itself():
    with registered(SQUARE):
        x = Value(3.0)
        y = x.square()
        assert grad(y, [x]) == (6.0,)  # first order needs only f
        with pytest.raises(
            OpError,
            match=r"^square\(3\.0\): create_graph needs its partials written with Values, and "
            r"its registry entry declares none \(Op\(\.\.\., partials=\.\.\.\); how: "
            r"help\(micrograd\.ops\)\)$",
        ):
            grad(y, [x], create_graph=True)
        with pytest.raises(OpError, match="square"):
            y.backward(create_graph=True)
        assert x.grad == 0.0


def test_an_infinite_second_derivative_raises_naming_the_op():
    x = Value(0.0)
    y = x**1.5  # d/dx = 1.5 x**0.5 is 0 at 0; its derivative, 0.75 x**-0.5, is infinite there
    assert grad(y, [x]) == (0.0,)
    with pytest.raises(
        OpError, match=r"pow\(0.0, 1.5\): its partials as Values.*outside the domain"
    ):
        grad(y, [x], create_graph=True)


@pytest.mark.parametrize("x", [-1.0, -0.0, 0.0, 1.0])
def test_relus_second_derivative_is_zero_everywhere_the_kink_included(x):
    v = Value(x)
    (g,) = grad(v.relu(), [v], create_graph=True)
    assert g.data == (1.0 if x > 0 else 0.0)  # relu'(0) = 0, PyTorch's convention
    assert grad(g, [v], materialize_grads=True) == (0.0,)
    assert hessian(lambda a: a.relu() * a, [x]) == [[2.0 if x > 0 else 0.0]]


def test_a_deep_graph_needs_no_recursion():
    x = Value(0.5)
    y = x
    n = 100_000
    for _ in range(n):
        y = y + x * x  # y = x + n x**2: d2y/dx2 = 2n, every partial and sum exact in floats
    (g,) = grad(y, [x], create_graph=True)
    assert g.data == 1 + 2 * n * 0.5
    assert grad(g, [x]) == (2.0 * n,)


def test_hessian_and_hvp():
    def f(a, b):
        return a * a * b + b.tanh() * a

    h = hessian(f, [0.3, -1.2])
    sech2 = 1 - math.tanh(-1.2) ** 2
    want = [[2 * -1.2, 2 * 0.3 + sech2], [2 * 0.3 + sech2, -2 * math.tanh(-1.2) * sech2 * 0.3]]
    for row, wrow in zip(h, want, strict=True):
        assert row == pytest.approx(wrow, rel=8 * 2.0**-52, abs=8 * 2.0**-52)
    assert h[0][1] == h[1][0]
    v = [2.0, -0.5]
    hv = hvp(f, [0.3, -1.2], v)
    assert hv == pytest.approx(
        [sum(a * b for a, b in zip(r, v, strict=False)) for r in h],
        rel=4 * 2.0**-52,
        abs=4 * 2.0**-52,
    )
    with pytest.raises(ValueError, match="v has 1 entries for 2 inputs"):
        hvp(f, [0.3, -1.2], [1.0])
    with pytest.raises(TypeError, match="hessian: f must return a Value, got float"):
        hessian(lambda a: 1.0, [0.3])
    with pytest.raises(TypeError, match="hvp: f must return a Value, got float"):
        hvp(lambda a: 1.0, [0.3], [1.0])
    with pytest.raises(ValueError, match=r"hvp: v\[1\] must be a finite number"):
        hvp(f, [0.3, -1.2], [1.0, math.nan])


def test_the_lecture_view_works_on_the_graph_of_a_gradient():
    x = Value(0.5, label="x")
    y = (x * x).tanh()
    y.label = "y"
    (g,) = grad(y, [x], create_graph=True)
    g.label = "dy/dx"
    assert g.label == "dy/dx"
    assert g._op == "+"
    assert isinstance(g._prev, set)
    ops = {v._op for v in trace(g)[0]}
    assert {"*", "exp", "/", "**2"} <= ops
    y.backward(create_graph=True)
    source = draw_dot(x).source  # x's grad is a Value now: drawn by its data
    assert f"grad {x.grad.data:.4f}" in source
    assert "dy/dx" in draw_dot(g).source


def test_sgd_steps_with_a_grad_that_is_a_value():
    w = Value(1.0)
    (w * w).backward(create_graph=True)
    nn.SGD([w], lr=0.1).step()
    assert type(w.data) is float
    assert w.data == 1.0 - 0.1 * 2.0


def test_a_value_formats_as_its_data():
    v = Value(3.14159)
    assert f"{v:.2f}" == "3.14"
    assert f"{v}" == repr(v)


def test_a_gradients_graph_has_no_needless_nodes():
    x, y = Value(2.0), Value(5.0)
    (g,) = grad(x + y, [x], create_graph=True)
    assert trace(g)[0] == [g]  # the seed itself: no "1 *" node, no "0 +" node
    (g,) = grad(x * 3.0, [x], create_graph=True)
    assert g._op == "*"  # 3 * seed, not 0 + 3 * seed
    assert len(trace(g)[0]) == 3


def test_an_output_given_twice_counts_twice():
    x = Value(3.0)
    y = x * x
    assert grad([y, y], [x]) == (12.0,)
    assert grad([y, y, x * 5.0], [x]) == (17.0,)  # a root after a repeated one still counts
    assert grad([y, y], [x], grad_outputs=[1.0, 2.0]) == (18.0,)
    assert grad(y, [x], grad_outputs=[Value(2.0)]) == (12.0,)  # a Value seed: its number


def test_hessian_and_hvp_of_a_function_that_ignores_an_input():
    assert hessian(lambda a, b: a * a, [1.0, 2.0]) == [[2.0, 0.0], [0.0, 0.0]]
    assert hvp(lambda a, b: a * a, [1.0, 2.0], [1.0, 1.0]) == [2.0, 0.0]
    assert hessian(lambda a: a + 1.0, [1.0]) == [[0.0]]


def test_the_roots_own_grad_becomes_a_value_with_create_graph():
    x = Value(1.5)
    x.backward(create_graph=True)
    assert isinstance(x.grad, Value)
    assert x.grad.data == 1.0


def test_grads_that_are_values_and_floats_overflow_or_are_set_by_hand_as_before():
    x, y = Value(1.0), Value(2.0)
    (x * y).backward(create_graph=True)  # x.grad and y.grad are Values now
    z = Value(0.5)
    z.grad = 1e308
    out = x * z
    with pytest.raises(OpError, match=r"adding to the grad of Value\(data=0.5"):
        out.backward(1e308)  # z's float grad would overflow; x's, a Value, would not
    assert z.grad == 1e308
    assert isinstance(x.grad, Value)
    assert x.grad.data == 2.0
    z.grad = "a"
    with pytest.raises(OpError, match=r"the grad of Value\(data=0.5, grad='a'\) is a str"):
        out.backward()
    assert x.grad.data == 2.0


def test_a_plain_backward_that_overflows_a_float_grad_is_refused():
    x = Value(2.0)
    x.grad = 1e308
    with pytest.raises(OpError, match="adding to the grad of Value"):
        (x * 1.0).backward(1e308)
    assert x.grad == 1e308
    assert x._pass_grad is None


def test_partials_written_wrong_are_named():
    for partials, message in [
        (lambda y, a: (a, a), r"its partials gave 2 for 1 inputs"),
        (
            lambda y, a: (math.nan,),
            r"its partials as Values \(create_graph\): a partial must be a finite",
        ),
        (
            lambda y, a: ("x",),
            r"its partials as Values \(create_graph\): a partial must be a real number, got str",
        ),
    ]:
        op = Op("odd", 1, lambda a: (a * a, (2 * a,)), "{}.odd()", symbol="odd", partials=partials)
        with registered(op):
            x = Value(3.0)
            with pytest.raises(OpError, match=r"^odd\(3.0\): " + message):
                grad(x.odd(), [x], create_graph=True)


def test_grad_names_the_node_whose_gradient_overflows():
    x = Value(1.0)
    with pytest.raises(
        OpError, match=r"^grad\(10000000000\.0\): the gradient at Value\(data=1\.0,"
    ):
        grad(x * 1e10, [x], grad_outputs=[1e300])


@pytest.mark.parametrize(
    ("activation", "z"), [("relu", 0.4), ("relu", -0.4), ("tanh", 0.4), ("sigmoid", -0.4)]
)
def test_a_fused_nodes_partials_as_values_are_its_floats(activation, z):
    a = [Value(z), Value(1.0)]  # weights: z * 1 + 1 * 0 = z
    b = [Value(1.0), Value(0.0)]
    node = dot_node(tuple(a), tuple(b), [1.0, 0.0], dot_then(OPS[activation]))
    got = [d.data if isinstance(d, Value) else d for d in graph_partials(node)]
    assert got == list(node._partials)


def test_a_fused_op_of_an_activation_without_partials_declares_none():
    plain = Op("cube", 1, lambda a: (a**3, (3 * a * a,)), "{}.cube()", symbol="cube")
    assert dot_then(plain).partials is None
    assert dot_then(OPS["tanh"]).partials is not None
