"""nn: modules, initialisation, activations, losses and the SGD step."""

import math
import random

import pytest

from micrograd import Value
from micrograd.nn import MLP, SGD, Layer, Neuron, l2, max_margin_loss, mean, mse_loss
from micrograd.ops import Op, registered

# Each plausible mistake in nn, named by the test that catches it (before the demo trains).


def set_parameters(module, values):
    """Assign values in parameters() order: per layer, per neuron, its weights then its bias."""
    params = module.parameters()
    assert len(params) == len(values)
    for p, v in zip(params, values, strict=True):
        p.data = v


def test_layers_have_the_declared_sizes_in_order():
    model = MLP(2, [3, 5, 1], seed=0)
    assert len(model.parameters()) == (2 + 1) * 3 + (3 + 1) * 5 + (5 + 1) * 1
    assert [len(layer.neurons) for layer in model.layers] == [3, 5, 1]
    assert [len(layer.neurons[0].w) for layer in model.layers] == [2, 3, 5]
    assert isinstance(model([1.0, 2.0]), Value)  # the last layer has one neuron
    with pytest.raises(ValueError, match="takes 2 inputs"):
        model([1.0, 2.0, 3.0])


def test_parameters_are_each_neurons_weights_then_bias_layer_by_layer():
    model = MLP(2, [3, 2], seed=0)
    expected = [p for layer in model.layers for n in layer.neurons for p in [*n.w, n.b]]
    assert [id(p) for p in model.parameters()] == [id(p) for p in expected]


def test_neuron_uses_each_weight_on_its_own_input():
    n = Neuron(3, "linear")
    set_parameters(n, [1.0, 10.0, 100.0, 0.0])
    assert n([1.0, 2.0, 3.0]).data == 321.0  # weights shifted or reversed give 123, 312, ...


def test_neuron_adds_its_bias():
    n = Neuron(2, "linear")
    set_parameters(n, [0.0, 0.0, 0.5])
    assert n([3.0, -4.0]).data == 0.5
    r = Neuron(2, "relu")
    set_parameters(r, [1.0, 0.0, -2.0])
    assert r([1.5, 0.0]).data == 0.0  # relu(1.5 - 2): the bias comes before the activation


def test_each_neuron_of_a_layer_adds_its_bias():
    layer = Layer(1, 2, "linear")
    set_parameters(layer, [0.0, 0.5, 2.0, -1.0])
    assert [v.data for v in layer([7.0])] == [0.5, 13.0]


def test_the_output_layer_is_linear_by_default():
    model = MLP(1, [1], seed=0)  # one layer: the output layer
    set_parameters(model, [-1.0, 0.0])
    assert model([1.0]).data == -1.0  # relu would give 0, tanh -0.76


@pytest.mark.parametrize(
    ("output_activation", "out"),
    [("tanh", math.tanh(-1.0)), ("relu", 0.0), ("linear", -1.0)],
    ids=["tanh", "relu", "linear"],
)
def test_the_output_layer_applies_output_activation(output_activation, out):
    model = MLP(1, [1], seed=0, output_activation=output_activation)
    set_parameters(model, [-1.0, 0.0])
    assert model([1.0]).data == out


@pytest.mark.parametrize(
    ("activation", "hidden"),
    [("relu", 0.0), ("tanh", math.tanh(-1.5)), ("linear", -1.5)],
    ids=["relu", "tanh", "linear"],
)
def test_hidden_layers_apply_the_declared_activation(activation, hidden):
    model = MLP(1, [1, 1], activation=activation, seed=0)
    set_parameters(model, [1.0, -2.0, 1.0, 0.0])  # hidden: 0.5 - 2 = -1.5; output: hidden
    assert model([0.5]).data == hidden


def test_neuron_gradients_are_the_inputs_and_one_for_the_bias():
    n = Neuron(2, "linear")
    set_parameters(n, [0.3, -0.7, 0.1])
    n([2.0, -5.0]).backward()
    assert [p.grad for p in n.parameters()] == [2.0, -5.0, 1.0]


def test_backward_reaches_every_weight_and_bias():
    model = MLP(2, [4, 3, 1], activation="tanh", seed=3)
    model([0.3, -0.7]).backward()
    assert all(p.grad != 0.0 for p in model.parameters())


def test_without_a_seed_weights_come_from_the_global_random_in_0_1_0s_order():
    random.seed(1337)
    model = MLP(2, [3, 1])
    random.seed(1337)
    draws = [random.uniform(-1, 1) for _ in range(2 * 3 + 3 * 1)]
    weights = [p.data for layer in model.layers for n in layer.neurons for p in n.w]
    assert weights == draws  # per layer, per neuron, one draw per input


def test_a_seed_draws_from_its_own_random_and_leaves_the_global_one_alone():
    random.seed(5)
    before = random.getstate()
    model = MLP(2, [3, 1], seed=11)
    assert random.getstate() == before
    rng = random.Random(11)
    draws = [rng.uniform(-1, 1) for _ in range(2 * 3 + 3 * 1)]
    assert [p.data for layer in model.layers for n in layer.neurons for p in n.w] == draws


def test_initial_weights_are_uniform_on_minus_one_one_and_biases_zero():
    # 100 seeds of MLP(2, [16, 16, 1]): 30400 weights, against uniform(-1, 1): mean 0, variance
    # 1/3, a tenth of them in each of ten equal bins. Each statistic must lie within 5 standard
    # errors (mean: sqrt(1/3 / n); variance: sqrt((E x**4 - 1/9) / n), E x**4 = 1/5; a bin's
    # share: sqrt(0.09 / n)). The seeds are fixed, so the verdict is too; a correct
    # initialisation misses by 5 SE with probability below 1e-6 per statistic.
    weights, biases = [], []
    for seed in range(100):
        model = MLP(2, [16, 16, 1], seed=seed)
        for layer in model.layers:
            for n in layer.neurons:
                weights += [w.data for w in n.w]
                biases.append(n.b.data)
    n = len(weights)
    assert n == 100 * (2 * 16 + 16 * 16 + 16)
    assert all(b == 0.0 for b in biases)
    assert all(-1.0 <= w <= 1.0 for w in weights)
    mean = sum(weights) / n
    assert abs(mean) <= 5 * math.sqrt(1 / 3 / n), mean
    variance = sum((w - mean) ** 2 for w in weights) / (n - 1)
    assert abs(variance - 1 / 3) <= 5 * math.sqrt((1 / 5 - 1 / 9) / n), variance
    for k in range(10):
        lo, hi = -1 + 0.2 * k, -1 + 0.2 * (k + 1)
        share = sum(lo <= w < hi for w in weights) / n
        assert abs(share - 0.1) <= 5 * math.sqrt(0.09 / n), (lo, hi, share)


def test_sgd_uses_its_learning_rate():
    p = Value(1.0)
    p.grad = 4.0
    SGD([p], lr=0.25).step()
    assert p.data == 0.0


@pytest.mark.parametrize(
    "make",
    [lambda: MLP(2, [3, 2, 1], seed=0), lambda: Layer(2, 3), lambda: Neuron(3)],
    ids=["MLP", "Layer", "Neuron"],
)
def test_zero_grad_resets_every_parameter(make):
    module = make()
    for p in module.parameters():
        p.grad = 1.0
    module.zero_grad()
    assert [p.grad for p in module.parameters()] == [0.0] * len(module.parameters())
    for p in module.parameters():
        p.grad = 1.0
    SGD(module.parameters()).zero_grad()
    assert [p.grad for p in module.parameters()] == [0.0] * len(module.parameters())


# The whole modules.


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
        assert n(x).data == pytest.approx(fn(z), rel=1e-15, abs=0), activation


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


@pytest.mark.parametrize("bad", ["log", ["relu"], None])  # log: not defined on every real
def test_an_activation_set_by_hand_is_checked_when_the_neuron_runs(bad):
    # __init__ checks the activation; one assigned afterwards is named when it is used, by a
    # Neuron and by the Layer holding it.
    layer = Layer(2, 2)
    layer.neurons[1].activation = bad
    allowed = "('linear', 'neg', 'exp', 'tanh', 'sigmoid', 'relu')"
    message = f"Neuron.activation must be one of {allowed}, got {bad!r}"
    for run in (layer.neurons[1], layer):
        with pytest.raises(ValueError, match="must be one of") as raised:
            run([1.0, 2.0])
        assert str(raised.value) == message


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
    assert (p.data, q.data) == pytest.approx((1.2, -2.1), rel=1e-15, abs=0)
    opt.zero_grad()
    assert (p.grad, q.grad) == (0.0, 0.0)


def test_losses_match_their_definitions():
    scores = [Value(0.5), Value(-2.0), Value(3.0)]
    ys = [1.0, 1.0, -1.0]
    assert max_margin_loss(scores, ys).data == pytest.approx(
        (0.5 + 3.0 + 4.0) / 3, rel=1e-15, abs=0
    )
    assert mse_loss(scores, [0.0, 0.0, 1.0]).data == pytest.approx(
        (0.25 + 4 + 4) / 3, rel=1e-15, abs=0
    )
    assert mean(scores).data == pytest.approx(1.5 / 3, rel=1e-15, abs=0)
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


X = [0.5, -1.5]


def test_a_model_pickles_and_computes_the_same_after():
    import pickle

    model = MLP(2, [3, 3, 1], activation="tanh", seed=0)
    copy = pickle.loads(pickle.dumps(model))
    assert copy(X).data == model(X).data


class _Halve:
    """A layer written by hand: plain floats out, whatever comes in."""

    def __init__(self):
        self.seen = []

    def __call__(self, x):
        self.seen.append(x)
        return [x[0].data / 2, x[0].data / 2]  # one input in, two numbers out

    def parameters(self):
        return []


def test_a_layer_replaced_by_hand_gets_a_list_and_may_return_numbers():
    model = MLP(2, [1, 2, 1], seed=0)
    model.layers[1] = halve = _Halve()
    out = model(X)  # 1 -> halve -> 2 floats -> Layer(2, 1), which turns them into Values
    assert isinstance(halve.seen[0], list)  # as a Layer's one output reaches the next layer
    hidden = max(model.layers[0](X).data, 0.0)  # relu
    w, b = model.layers[2].neurons[0].w, model.layers[2].neurons[0].b
    # The dot node sums the same products in the same order; hidden / 2 is exact: one rounding
    # of slack per sum at most.
    want = w[0].data * (hidden / 2) + w[1].data * (hidden / 2) + b.data
    assert out.data == pytest.approx(want, rel=2**-51, abs=0)


def test_a_neuron_of_another_size_in_a_layer_is_refused():
    layer = Layer(2, 2, rng=random.Random(0))
    layer.neurons[1] = Neuron(3, rng=random.Random(0))  # 3 weights on 2 inputs
    with pytest.raises(ValueError, match="equal, non-zero length: 4, 3"):
        layer(X)


def test_a_neuron_uses_the_op_registered_under_its_activation_now():
    # The fused op is made once per name and forgotten when the name is registered anew.
    twice = Op("twice", 1, lambda a: (2 * a, (2.0,)), "{}.twice()", symbol="2*")
    thrice = Op("twice", 1, lambda a: (3 * a, (3.0,)), "{}.twice()", symbol="3*")
    with registered(twice):
        n = Neuron(1, "twice")
        n.w[0].data = 1.0
        assert n([Value(0.5)]).data == 1.0
    with registered(thrice):
        assert n([Value(0.5)]).data == 1.5
    with pytest.raises(ValueError, match=r"Neuron\.activation must be one of "):
        n([Value(0.5)])
