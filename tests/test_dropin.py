"""What a learner brings from micrograd 0.1.0 and the tutorials: NumPy arrays as inputs,
``.prev``, any one-input op as an activation, the lecture's unfused neuron, saving a model
(state_dict, pickle), and help() and messages that say what to do."""

import json
import math
import pickle
import pydoc
import random
import sys

import pytest

from micrograd import OPS, Value, grad, nn
from micrograd.ops import registered
from micrograd.viz import draw_dot, trace
from tests.helpers import SQUARE


class Array:
    """What nn reads of a NumPy array (``__array__``, ``tolist``, ``ndim``, ``shape``): the
    rule is tested without NumPy installed; with it, the real thing below."""

    def __init__(self, rows):
        self.rows = rows
        self.ndim = 1 if not isinstance(rows[0], list) else 2
        self.shape = (len(rows),) if self.ndim == 1 else (len(rows), len(rows[0]))

    def __array__(self):
        raise AssertionError("not called")

    def tolist(self):
        return list(self.rows)


def test_arrays_are_taken_wherever_0_1_0_takes_a_list():
    model = nn.MLP(2, [3, 1], seed=1)
    want = model([0.5, -1.0]).data
    assert model(Array([0.5, -1.0])).data == want
    layer = nn.Layer(2, 2, rng=random.Random(3))
    assert [v.data for v in layer(Array([0.5, -1.0]))] == [v.data for v in layer([0.5, -1.0])]
    assert nn.mse_loss(Array([1.0, 2.0]), Array([1.0, 0.0])).data == 2.0
    assert nn.max_margin_loss([model([0.5, -1.0])], Array([1])).data >= 0.0
    with pytest.raises(ValueError, match=r"1-D array of numbers, got one of shape \(2, 2\)"):
        model(Array([[0.5, -1.0], [1.0, 2.0]]))


def test_numpy_arrays_and_their_numbers():
    np = pytest.importorskip("numpy", reason="NumPy is not installed; the rule is tested above")
    model = nn.MLP(2, [3, 1], seed=1)
    X = np.array([[0.5, -1.0], [1.5, 0.25]])
    assert model(X[0]).data == model([0.5, -1.0]).data
    assert nn.max_margin_loss([model(x) for x in X], np.array([1, -1])).data >= 0.0
    assert Value(np.float64(2.5)).data == 2.5


def test_prev_is_the_tutorials_spelling_of_prev():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    assert c.prev == c._prev == {a, b}


def test_any_one_input_op_of_the_registry_is_an_activation():
    assert set(nn.activations()) == {"linear", "relu", "tanh", "sigmoid", "exp", "neg"}
    n = nn.Neuron(2, "sigmoid", rng=random.Random(0))
    out = n([0.5, -1.0])
    z = n.w[0].data * 0.5 + n.w[1].data * -1.0 + n.b.data
    assert out.data == pytest.approx(1 / (1 + math.exp(-z)), rel=4 * 2.0**-52, abs=0.0)
    with pytest.raises(ValueError, match=r"activation must be one of \('linear', .*'sigmoid'"):
        nn.MLP(2, [1], activation="log")  # one input, but not defined on every real
    with registered(SQUARE):  # an op registered later is an activation too
        n = nn.Neuron(1, "square", rng=random.Random(0))
        z = n.w[0].data * 3.0 + 0.0
        assert n([3.0]).data == z * z
    assert "square" not in nn.activations()


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
def test_an_unfused_neuron_has_the_fused_ones_numbers_and_draws_the_lectures_chain(activation):
    fused = nn.MLP(3, [4, 1], activation=activation, seed=2)
    chain = nn.MLP(3, [4, 1], activation=activation, seed=2, fused=False)
    assert "fused=False" in repr(chain)
    x = [0.5, -1.0, 2.0]
    a, b = fused(x), chain(x)
    # The same products and sums, but Python 3.12's sum() (dot's) compensates its rounding and
    # the chain's adds do not: each pre-activation differs by a few ulps of its largest term
    # (all of order 1 here), and the activations and the next layer carry that on with a gain
    # below ~4 at these points. 1e-14 relative and absolute holds that with room; on Python
    # 3.10 and 3.11 the two are the same floats.
    tol = {"rel": 1e-14, "abs": 1e-14}
    assert b.data == pytest.approx(a.data, **tol)
    if sys.version_info < (3, 12):
        assert a.data == b.data
    a.backward()
    b.backward()
    for p, q in zip(fused.parameters(), chain.parameters(), strict=True):
        assert q.grad == pytest.approx(p.grad, **tol)
    neuron = nn.Neuron(2, activation, fused=False)
    ops = [v._op for v in trace(neuron([1.0, 2.0]))[0] if v._op]
    assert ops.count("*") == 2
    assert ops.count("+") == 2
    assert "dot" not in ops
    assert "*" in draw_dot(neuron([1.0, 2.0])).source


def test_state_dict_round_trips_through_json_and_checks_what_it_loads():
    model = nn.MLP(2, [3, 1], seed=1)
    state = model.state_dict()
    assert list(state)[:3] == [
        "layers.0.neurons.0.w.0",
        "layers.0.neurons.0.w.1",
        "layers.0.neurons.0.b",
    ]
    assert all(type(v) is float for v in state.values())
    other = nn.MLP(2, [3, 1], seed=99)
    other.load_state_dict(json.loads(json.dumps(state)))
    assert other([0.5, -1.0]).data == model([0.5, -1.0]).data
    before = other.state_dict()
    with pytest.raises(
        ValueError, match=r"missing 'layers.1.neurons.0.b', unexpected 'layers.1.neurons.0.bias'"
    ):
        other.load_state_dict(
            {
                **{k: v for k, v in state.items() if k != "layers.1.neurons.0.b"},
                "layers.1.neurons.0.bias": 0.0,
            }
        )
    with pytest.raises(
        ValueError, match=r"state\['layers.0.neurons.0.b'\] must be a finite number"
    ):
        other.load_state_dict({**state, "layers.0.neurons.0.b": math.nan})
    with pytest.raises(TypeError, match=r"state\['layers.0.neurons.0.b'\] must be a number"):
        other.load_state_dict({**state, "layers.0.neurons.0.b": "0.1"})
    with pytest.raises(TypeError, match="dict of name: number"):
        other.load_state_dict([1.0])
    assert other.state_dict() == before  # nothing changed by a failed load
    with pytest.raises(ValueError, match="missing"):
        nn.MLP(2, [4, 1]).load_state_dict(state)  # another shape


def test_a_model_and_a_graph_pickle():
    model = nn.MLP(2, [3, 1], activation="tanh", seed=1)
    loss = (model([0.5, -1.0]) - 1.0) ** 2
    loss.backward()
    copy = pickle.loads(pickle.dumps(loss))
    assert (copy.data, copy._op) == (loss.data, "**2")
    again = pickle.loads(pickle.dumps(model))
    assert again([0.5, -1.0]).data == model([0.5, -1.0]).data
    (g,) = grad(copy, [copy._parents[0]])  # the loaded graph still differentiates
    assert g == 2 * (loss._parents[0].data)


def test_a_graph_with_an_op_registered_at_run_time_needs_it_to_load():
    with registered(SQUARE):
        data = pickle.dumps(Value(3.0).square())
        assert pickle.loads(data).data == 9.0
    with pytest.raises(ValueError, match=r"unpickling needs the op 'square': register it first"):
        pickle.loads(data)


def test_help_shows_a_docstring_for_every_public_method_and_attribute():
    page = pydoc.render_doc(Value, renderer=pydoc.plaintext)
    for name in ["data", "grad"]:  # slots: pydoc reads their docs from __slots__
        assert f"{name}\n |      {Value.__slots__[name][:20]}" in page, name
    for name in ["label", "prev", "backward", "zero_grad", *OPS]:
        attr = getattr(Value, name, None)
        if attr is None:
            continue  # dot is a function, not a method
        assert (attr.__doc__ or "").strip(), name
    for dunder in [
        "__add__",
        "__radd__",
        "__sub__",
        "__rsub__",
        "__mul__",
        "__rmul__",
        "__truediv__",
        "__rtruediv__",
        "__neg__",
        "__pow__",
        "__rpow__",
    ]:
        assert getattr(Value, dunder).__doc__, dunder
    assert nn.MLP.__call__.__doc__


@pytest.mark.parametrize(
    "call", [lambda v: round(v, 2), lambda v: round(v), lambda v: math.tanh(v), lambda v: int(v)]
)
def test_a_value_used_as_a_number_says_how_to_get_one(call):
    with pytest.raises(TypeError, match=r"cut it out of the graph.*v\.data for the plain number"):
        call(Value(2.0))
