"""MLPs against the same network in PyTorch: forward, loss, every parameter gradient, and the
loss trajectory of SGD on the moons data.

Float64 on both sides, the same operations in a different order: each step agrees to ~1e-15
relative; over the steps differences grow no faster than the training dynamics amplify them
(a few-fold here), so 1e-10 relative is far from both rounding and any real discrepancy.
"""

import pytest
import torch
from sklearn.datasets import make_moons

from micrograd import Value
from micrograd.nn import MLP, SGD, l2, max_margin_loss

ALPHA = 1e-4  # L2 weight, as in the original demo


def moons():
    X, y = make_moons(n_samples=100, noise=0.1, random_state=1)
    return X.tolist(), [2.0 * v - 1.0 for v in y]


def torch_twin(model, nin, nouts, activation="relu", output_activation="linear"):
    """The network the user declared, MLP(nin, nouts, activation, output_activation=...), built
    in PyTorch from that declaration alone; only the weights are copied from ``model``, in the
    order micrograd documents (per layer, per neuron: its weights, then its bias)."""
    acts = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "linear": torch.nn.Identity}
    sizes = [nin, *nouts]
    modules = []
    for i in range(len(nouts)):
        modules.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        modules.append(acts[activation if i < len(nouts) - 1 else output_activation]())
    net = torch.nn.Sequential(*modules)
    weights = [p.data for p in model.parameters()]
    slots = torch_params(net)
    assert len(weights) == len(slots), (
        f"MLP({nin}, {nouts}) has {len(weights)} parameters, the declared network {len(slots)}"
    )
    with torch.no_grad():
        for w, (t, idx) in zip(weights, slots, strict=True):
            t[idx] = w
    return net


def our_loss(model, X, y):
    scores = [model([Value(a), Value(b)]) for a, b in X]
    return max_margin_loss(scores, y) + l2(model.parameters(), ALPHA)


def torch_loss(net, X, y):
    scores = net(torch.tensor(X)).squeeze(1)
    data_loss = torch.relu(1 - torch.tensor(y) * scores).mean()
    return data_loss + ALPHA * sum((p * p).sum() for p in net.parameters())


def torch_params(net):
    """The torch parameters in micrograd's order: per neuron, its weights then its bias."""
    out = []
    for linear in [m for m in net if isinstance(m, torch.nn.Linear)]:
        for j in range(linear.out_features):
            out += [(linear.weight, (j, k)) for k in range(linear.in_features)] + [
                (linear.bias, (j,))
            ]
    return out


@pytest.mark.parametrize(
    ("nouts", "activation", "output_activation"),
    [
        ([16, 16, 1], "relu", "linear"),
        ([16, 16, 1], "tanh", "linear"),
        ([4, 4, 1], "tanh", "tanh"),  # the lecture's MLP
        ([3, 5, 1], "relu", "relu"),  # layers of different sizes: a swapped size shows
    ],
    ids=["relu", "tanh", "tanh-tanh", "relu-3-5"],
)
def test_forward_loss_and_every_gradient_match(nouts, activation, output_activation):
    X, y = moons()
    model = MLP(2, nouts, activation=activation, seed=7, output_activation=output_activation)
    net = torch_twin(model, 2, nouts, activation, output_activation)
    for x in X[:5]:
        assert model(x).data == pytest.approx(net(torch.tensor(x)).item(), rel=1e-12, abs=1e-12)
    loss = our_loss(model, X, y)
    loss.backward()
    tloss = torch_loss(net, X, y)
    tloss.backward()
    assert loss.data == pytest.approx(tloss.item(), rel=1e-12, abs=0)
    ours = [p.grad for p in model.parameters()]
    theirs = [t.grad[idx].item() for t, idx in torch_params(net)]
    assert ours == pytest.approx(theirs, rel=1e-10, abs=1e-13)


def test_sgd_training_follows_the_pytorch_trajectory():
    X, y = moons()
    model = MLP(2, [16, 16, 1], seed=1)  # relu, then a linear output: the defaults
    net = torch_twin(model, 2, [16, 16, 1])
    opt = SGD(model.parameters())
    topt = torch.optim.SGD(net.parameters())
    for k in range(15):
        lr = 1.0 - 0.9 * k / 100  # the original demo's schedule
        opt.lr = lr
        for group in topt.param_groups:
            group["lr"] = lr
        loss = our_loss(model, X, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        tloss = torch_loss(net, X, y)
        topt.zero_grad()
        tloss.backward()
        topt.step()
        assert loss.data == pytest.approx(tloss.item(), rel=1e-10, abs=0), f"step {k}"
    ours = [p.data for p in model.parameters()]
    theirs = [t[idx].item() for t, idx in torch_params(net)]
    assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-12)
