"""nn: modules, initialisation, activations, losses and the SGD step."""

import math

import pytest

from micrograd import Value
from micrograd.nn import MLP, SGD, Layer, Neuron, l2, max_margin_loss, mean, mse_loss


def test_mlp_has_the_parameters_of_its_layers():
    model = MLP(2, [16, 16, 1])
    assert len(model.parameters()) == (2 + 1) * 16 + (16 + 1) * 16 + (16 + 1) * 1
    assert len({id(p) for p in model.parameters()}) == 337


def test_seed_makes_initialisation_reproducible():
    weights = lambda seed: [p.data for p in MLP(3, [4, 2], seed=seed).parameters()]  # noqa: E731
    assert weights(0) == weights(0)
    assert weights(0) != weights(1)
    assert all(-1 <= w <= 1 for w in weights(0))


def test_neuron_computes_activation_of_affine_map():
    x = [0.5, -2.0]
    for activation, fn in [
        ("relu", lambda z: max(z, 0.0)),
        ("tanh", math.tanh),
        ("linear", lambda z: z),
    ]:
        n = Neuron(2, activation)
        n.w[0].data, n.w[1].data, n.b.data = 0.3, 0.1, -0.05
        z = 0.3 * 0.5 + 0.1 * -2.0 - 0.05
        assert n(x).data == pytest.approx(fn(z), rel=1e-15), activation


def test_mlp_layers_use_the_activation_and_a_linear_output():
    model = MLP(2, [3, 3, 1], activation="tanh", seed=0)
    assert [n.activation for layer in model.layers for n in layer.neurons] == ["tanh"] * 6 + [
        "linear"
    ]
    assert isinstance(model([1.0, 2.0]), Value)
    assert len(MLP(2, [3, 2])([1.0, 2.0])) == 2


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="activation"):
        Neuron(2, "softplus")
    with pytest.raises(ValueError, match="takes 2 inputs, got 3"):
        Neuron(2)([1.0, 2.0, 3.0])


def test_gradients_flow_to_every_parameter_and_zero_grad_resets_them():
    model = MLP(2, [4, 1], activation="tanh", seed=3)
    model([0.3, -0.7]).backward()
    assert all(p.grad != 0.0 for layer in model.layers for n in layer.neurons for p in n.w)
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_layer_returns_a_value_for_one_neuron():
    assert isinstance(Layer(2, 1)([1.0, 1.0]), Value)
    assert len(Layer(2, 3)([1.0, 1.0])) == 3


def test_sgd_steps_against_the_gradient():
    p, q = Value(1.0), Value(-2.0)
    (p * q).backward()  # d/dp = q = -2, d/dq = p = 1
    opt = SGD([p, q], lr=0.1)
    opt.step()
    assert (p.data, q.data) == pytest.approx((1.2, -2.1), rel=1e-15)
    opt.zero_grad()
    assert (p.grad, q.grad) == (0.0, 0.0)


def test_losses_match_their_definitions():
    scores = [Value(0.5), Value(-2.0), Value(3.0)]
    ys = [1.0, 1.0, -1.0]
    assert max_margin_loss(scores, ys).data == pytest.approx((0.5 + 3.0 + 4.0) / 3, rel=1e-15)
    assert mse_loss(scores, [0.0, 0.0, 1.0]).data == pytest.approx((0.25 + 4 + 4) / 3, rel=1e-15)
    assert mean(scores).data == pytest.approx(1.5 / 3, rel=1e-15)
    params = [Value(1.0), Value(-3.0)]
    reg = l2(params, 0.5)
    reg.backward()
    assert reg.data == 5.0
    assert [p.grad for p in params] == [1.0, -3.0]  # d/dp of 0.5 p**2


def test_training_fits_xor():
    data = [([0.0, 0.0], -1.0), ([0.0, 1.0], 1.0), ([1.0, 0.0], 1.0), ([1.0, 1.0], -1.0)]
    model = MLP(2, [8, 1], activation="tanh", seed=1)
    opt = SGD(model.parameters(), lr=0.1)
    losses = []
    for _ in range(200):
        loss = mse_loss([model(x) for x, _ in data], [y for _, y in data])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.data)
    assert losses[-1] < 0.05 < losses[0]
    assert all(math.copysign(1, model(x).data) == y for x, y in data)
