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
