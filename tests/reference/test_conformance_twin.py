"""The conformance run's nn row against PyTorch, on our own engine: the twin is built from
the architecture the adapter discovers by probing, never from the model's attributes."""

from micrograd import Value
from micrograd.nn import MLP
from micrograd.testing.conformance import FAIL, PASS, InProcess, run


def nn_row(mlp_class):
    card = run(InProcess(Value, mlp_class), "ours", examples=1, max_depth=10, twin=True)
    return {r.check: r for r in card.rows}["nn: MLP vs PyTorch (copied weights)"]


def test_our_mlp_matches_its_pytorch_twin():
    row = nn_row(MLP)
    assert row.status == PASS, row.detail
    assert "relu hidden, linear output" in row.detail


class BiasTwice(MLP):
    """A wiring mistake: the output neuron's bias is added twice."""

    def __call__(self, x):
        out = super().__call__(x)
        return out + self.layers[-1].neurons[0].b


def test_a_wiring_mistake_fails_the_twin_row():
    assert nn_row(BiasTwice).status == FAIL


class ReluOutput(MLP):
    """The typical slip: the last layer keeps its ReLU (nonlin=True on every layer)."""

    def __init__(self, nin, nouts):
        super().__init__(nin, nouts, output_activation="relu")


class BiasFirst(MLP):
    """parameters() lists each neuron's bias before its weights."""

    def parameters(self):
        return [p for layer in self.layers for n in layer.neurons for p in [n.b, *n.w]]


def test_a_relu_on_the_output_layer_fails_whatever_the_initial_weights():
    # The weights are set by the check, so some output pre-activations are negative: a ReLU
    # there is seen for certain, not only when the initial weights happen to show it.
    row = nn_row(ReluOutput)
    assert row.status == FAIL, row.detail
    assert "output layer applies a ReLU" in row.detail


def test_parameters_in_another_order_are_named_as_such():
    row = nn_row(BiasFirst)
    assert row.status == FAIL, row.detail
    assert "bias before its weights" in row.detail


def test_the_lectures_tanh_mlp_matches_its_twin():
    class Lecture(MLP):
        def __init__(self, nin, nouts):
            super().__init__(nin, nouts, activation="tanh", output_activation="tanh")

    row = nn_row(Lecture)
    assert row.status == PASS, row.detail
    assert "tanh hidden, tanh output" in row.detail
