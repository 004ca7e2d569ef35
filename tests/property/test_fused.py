"""A Neuron's node: dot then its activation as one node (``fused.dot_then``), checked against the
two nodes it replaces, for every registry op that ``dot_then`` accepts (the id is the op's name).

Error model: the fused node's value is the activation's f at dot's value, as in the two nodes,
so it is the same float. Its partials are d * p_i (d the activation's derivative, p_i dot's
partial), and backward multiplies them by the upstream gradient g: fl(fl(d p_i) g). The two
nodes compute fl(p_i fl(d g)). Both are the exact d p_i g times two roundings, (1 + e1)(1 + e2)
with |e| <= u = 2**-53, so they differ by at most about 4u relative: we allow 2**-51 relative,
plus 4 subnormal units where a product underflows. Where d is 0 or 1 (relu) no product rounds
and the two agree exactly, which the bound contains.
"""

import math

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from micrograd import OPS, OpError, Value
from micrograd.engine import dot_node, unary_node
from micrograd.fused import dot_then
from micrograd.ops import REAL, VARIADIC, Op
from micrograd.testing import points
from micrograd.testing.floats import LEAST_SUBNORMAL
from tests.helpers import same_float

ACTIVATIONS = [
    op for op in OPS.values() if op.arity == 1 and not op.params and op.domains() == (REAL,)
]
each_activation = pytest.mark.parametrize("op", ACTIVATIONS, ids=lambda op: op.name)


def test_relu_and_tanh_are_among_the_activations():
    assert {"relu", "tanh"} <= {op.name for op in ACTIVATIONS}


def leaves(xs):
    return tuple(Value(x) for x in xs)


@st.composite
def dot_inputs(draw):
    n = draw(st.integers(1, 4))
    a = draw(st.lists(points(REAL, scale=3.0), min_size=n, max_size=n))
    b = draw(st.lists(points(REAL, scale=3.0), min_size=n, max_size=n))
    return a, b


@each_activation
@given(ab=dot_inputs(), gradient=points(REAL, scale=3.0))
@example(ab=([1.0, -1.0], [1.0, 1.0]), gradient=1.0)  # the dot exactly 0: relu's kink
def test_the_fused_node_is_the_activation_of_the_dot_node(op, ab, gradient):
    a, b = ab
    fa, fb, ua, ub = leaves(a), leaves(b), leaves(a), leaves(b)
    fused = dot_node(fa, fb, b, dot_then(op))
    unfused = unary_node(op, dot_node(ua, ub, b))
    assert same_float(fused.data, unfused.data)
    assert fused._op == f"{op.symbol_for()}(dot)"
    assert fused._entry.name == f"dot_{op.name}"
    assert fused._parents == (*fa, *fb)
    fused.backward(gradient)
    unfused.backward(gradient)
    for i, (f, u) in enumerate(zip((*fa, *fb), (*ua, *ub), strict=True)):
        # two roundings on each side (module docstring)
        assert abs(f.grad - u.grad) <= 2.0**-51 * abs(u.grad) + 4 * LEAST_SUBNORMAL, (
            f"{op.name}: input {i + 1}: fused {f.grad!r}, two nodes {u.grad!r}"
        )


@each_activation
def test_at_a_kink_of_the_activation_the_fused_node_takes_its_declared_derivative(op):
    for k, d in op.kinks.items():
        out = dot_node((Value(k),), (Value(1.0),), (1.0,), dot_then(op))  # the dot is k
        assert [same_float(p, d * x) for p, x in zip(out._partials, (1.0, k), strict=True)] == [
            True,
            True,
        ], (op.name, k, out._partials)


def test_a_relu_that_is_off_passes_no_gradient():
    a, b = leaves([2.0, 3.0]), leaves([-1.0, 0.5])
    out = dot_node(a, b, (-1.0, 0.5), dot_then(OPS["relu"]))
    out.backward()
    assert out.data == 0.0
    assert [v.grad for v in (*a, *b)] == [0.0] * 4
    # relu's own partial there is +0.0, and so is each of the node's (not 0.0 * -1.0)
    assert [same_float(d, 0.0) for d in out._partials] == [True] * 4


def test_a_fused_node_that_overflows_is_an_op_error_naming_it():
    with pytest.raises(OpError) as e:
        dot_node((Value(800.0),), (Value(1.0),), (1.0,), dot_then(OPS["exp"]))
    assert str(e.value) == "dot_exp(800.0, 1.0): the value or a derivative overflows float64"
    # exp(700) is finite, but 1e10 times it, a partial, is not
    with pytest.raises(OpError, match=r"^dot_exp\(7e-08, 10000000000.0\): .* overflows float64"):
        dot_node((Value(7e-8),), (Value(1e10),), (1e10,), dot_then(OPS["exp"]))


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("log", "is defined on 0 < x only"),
        ("pow", "has params (n)"),
        ("add", "takes 2 inputs"),
        ("two_params", "has params (a, b)"),
        ("dot", "takes an even number of inputs"),
    ],
)
def test_dot_then_takes_only_one_input_ops_without_params_on_every_real(name, why):
    op = OPS.get(name) or Op(name, 1, max, "{}", params={"a": (1.0,), "b": (2.0,)})
    with pytest.raises(ValueError, match=r"^dot_then takes") as e:
        dot_then(op)
    assert str(e.value) == (
        f"dot_then takes a one-input op without params defined on every real: {name!r} {why}"
    )


def custom(name, f):
    return Op(name, 1, f, "{}." + name + "()", symbol=name)


@pytest.mark.parametrize(
    "f",
    [
        lambda x: (math.inf, (1.0,)),  # an activation whose value is not finite
        lambda x: (1.0, (math.nan,)),  # or whose derivative is not
        lambda x: (x, (1.5,)),  # a derivative above 1 times a partial near the largest float
        lambda x: (x, (-1.5,)),
    ],
)
def test_a_fused_node_whose_value_or_partial_is_not_finite_is_an_op_error(f):
    big = 1.5e308
    with pytest.raises(OpError) as e:
        dot_node((Value(1.0),), (Value(big),), (big,), dot_then(custom("act", f)))
    assert str(e.value) == f"dot_act(1.0, {big!r}): the value or a derivative overflows float64"


@each_activation
@given(ab=dot_inputs())
def test_the_fused_ops_f_is_what_the_node_holds(op, ab):
    a, b = ab
    fused = dot_then(op)
    out = dot_node(leaves(a), leaves(b), b, fused)
    y, partials = fused.f(*a, *b)
    assert same_float(y, out.data)
    # the same floats, signs of zero included (both compute them with fused.activated)
    assert [same_float(p, d) for p, d in zip(partials, out._partials, strict=True)] == [True] * len(
        partials
    )


def test_the_fused_op_is_spelled_from_its_parts():
    fused = dot_then(OPS["tanh"])
    assert (fused.name, fused.arity, fused.syntax, fused.symbol, fused.activation) == (
        "dot_tanh",
        VARIADIC,
        "dot([{}], [{}]).tanh()",
        "tanh(dot)",
        OPS["tanh"],
    )


def test_dot_node_takes_dot_or_a_fused_op_only():
    a, b = (Value(1.0),), (Value(2.0),)
    assert dot_node(a, b, (2.0,), OPS["dot"]).data == 2.0
    with pytest.raises(TypeError) as e:
        dot_node(a, b, (2.0,), OPS["relu"])
    assert str(e.value) == "dot_node takes dot or an op made by fused.dot_then, got 'relu'"
