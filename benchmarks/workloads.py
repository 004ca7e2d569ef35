"""The peers and the floors of the benchmarks; the engine workloads are the package's
(micrograd/workloads.py), re-exported here.

``peer(name)`` is the adapter that puts another scalar engine behind the shared API. The two
floors are the moons step written by hand on plain floats: ``make_floor_moons_step`` as a
straightforward implementation would, ``make_sparse_floor_moons_step`` as fast as we can write
it, skipping every product that is provably zero.
"""

import importlib.util
import random
from operator import mul
from pathlib import Path
from types import SimpleNamespace


def _engine_workloads():
    """micrograd/workloads.py of this checkout, by its path: compare's workers import it in
    virtualenvs whose installed micrograd is another version (or none)."""
    path = Path(__file__).resolve().parent.parent / "micrograd" / "workloads.py"
    spec = importlib.util.spec_from_file_location("micrograd_workloads", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_engine = _engine_workloads()
ALPHA, LR = _engine.ALPHA, _engine.LR
WORKLOAD_NAMES, WORKLOADS = _engine.WORKLOAD_NAMES, _engine.WORKLOADS
bytes_per_node, unsupported = _engine.bytes_per_node, _engine.unsupported
make_chain, make_moons_step, make_random_graph = (
    _engine.make_chain,
    _engine.make_moons_step,
    _engine.make_random_graph,
)
moons_data, moons_loss, moons_model = _engine.moons_data, _engine.moons_loss, _engine.moons_model


# Peers: other scalar engines behind the shared API (engine.Value, nn.MLP, .backward(), relu).


class ScalarMLP:
    """MLP(nin, nouts) as micrograd 0.1.0 builds it, on another engine's scalars: the same
    weights from the global random module in the same order, each neuron
    ``sum(w_i * x_i) + b`` op by op, relu on every layer but the last."""

    def __init__(self, value, nin, nouts, zero):
        sizes = [nin, *nouts]
        self.layers = [
            [
                ([value(random.uniform(-1, 1)) for _ in range(sizes[i])], value(0.0))
                for _ in range(sizes[i + 1])
            ]
            for i in range(len(nouts))
        ]
        self._zero = zero

    def __call__(self, x):
        for i, layer in enumerate(self.layers):
            x = [sum((w * xi for w, xi in zip(ws, x, strict=True)), b) for ws, b in layer]
            if i < len(self.layers) - 1:
                x = [a.relu() for a in x]
        return x[0] if len(x) == 1 else x

    def parameters(self):
        return [p for layer in self.layers for ws, b in layer for p in (*ws, b)]

    def zero_grad(self):
        self._zero(self.parameters())


PEERS = {
    "pytorch scalar": "PyTorch (torch==2.13.0), every Value a 0-d float64 tensor, op by op",
    "micrograd-cpp-engine": "micrograd-cpp-engine 0.1.1 (C++ core, Release build; float32 only)",
}


def peer(name):
    """The adapter that runs the workloads on the peer engine ``name`` (a key of PEERS)."""
    if name == "pytorch scalar":
        return _torch_scalar()
    if name == "micrograd-cpp-engine":
        return _cpp_engine()
    raise ValueError(f"unknown peer {name!r}: one of {sorted(PEERS)}")


def _torch_scalar():
    import warnings

    warnings.filterwarnings("ignore", message="Failed to initialize NumPy")  # not needed
    import torch

    def value(x):
        return torch.tensor(x, dtype=torch.float64, requires_grad=True)

    def zero(params):
        for p in params:
            p.grad = None

    def mlp(nin, nouts):
        return ScalarMLP(value, nin, nouts, zero)

    return SimpleNamespace(
        engine=SimpleNamespace(Value=value),
        nn=SimpleNamespace(MLP=mlp),
        data=lambda v: v.item(),
        unsupported={"memory per node": "tensors live outside Python's heap (tracemalloc)"},
    )


def _cpp_engine():
    import micrograd  # micrograd-cpp-engine installs itself as "micrograd"

    Tensor = micrograd._C.Tensor

    def value(x):
        t = Tensor([x], [])  # a 0-d tensor
        t.requires_grad_(True)
        return t

    def zero(params):
        for p in params:
            p.zero_grad()

    optimisers = {}

    def sgd(model, lr):  # its tensors have no settable data: its own SGD updates them
        if id(model) not in optimisers:
            optimisers[id(model)] = micrograd._C.SGD(model.parameters(), lr)
        optimisers[id(model)].step()

    def mlp(nin, nouts):
        return ScalarMLP(value, nin, nouts, zero)

    return SimpleNamespace(
        engine=SimpleNamespace(Value=value),
        nn=SimpleNamespace(MLP=mlp),
        sgd=sgd,
        data=lambda v: v.tolist()[0],
        unsupported={
            "chain 1M": "crashes (segmentation fault in backward beyond about 300k chained nodes)",
            "memory per node": "tensors live outside Python's heap (tracemalloc)",
        },
    )


# The floors: the moons step by hand on plain floats, with the weights of moons_model.


def floor_model():
    """The weights W[layer][neuron][input] and biases B[layer][neuron] of moons_model."""
    random.seed(0)
    sizes = [2, 16, 16, 1]
    W = [
        [[random.uniform(-1, 1) for _ in range(sizes[i])] for _ in range(sizes[i + 1])]
        for i in range(3)
    ]
    B = [[0.0] * sizes[i + 1] for i in range(3)]
    return W, B


def floor_loss_and_grads(W, B, X, y, alpha=ALPHA):
    """The moons loss and its gradients gW, gB (shaped as W, B), the straightforward way."""
    gW = [[[0.0] * len(r) for r in layer] for layer in W]
    gB = [[0.0] * len(layer) for layer in B]
    n = len(X)
    loss = 0.0
    for x, yi in zip(X, y, strict=False):
        acts, pres, a = [x], [], x
        for li in range(3):
            z = [
                sum(w * ai for w, ai in zip(row, a, strict=False)) + b
                for row, b in zip(W[li], B[li], strict=False)
            ]
            pres.append(z)
            a = [v if v > 0.0 else 0.0 for v in z] if li < 2 else z
            acts.append(a)
        margin = 1 - yi * a[0]
        if margin > 0:
            loss += margin / n
            dz = [-yi / n]
            for li in (2, 1, 0):
                if li < 2:
                    dz = [d if z > 0 else 0.0 for d, z in zip(dz, pres[li], strict=False)]
                ain, da = acts[li], [0.0] * len(acts[li])
                for j, (row, d) in enumerate(zip(W[li], dz, strict=False)):
                    grow = gW[li][j]
                    gB[li][j] += d
                    for k in range(len(row)):
                        grow[k] += d * ain[k]
                        da[k] += d * row[k]
                dz = da
    for li in range(3):
        for j, row in enumerate(W[li]):
            for k in range(len(row)):
                gW[li][j][k] += 2 * alpha * row[k]
                loss += alpha * row[k] * row[k]
            gB[li][j] += 2 * alpha * B[li][j]
            loss += alpha * B[li][j] * B[li][j]
    return loss, gW, gB


def make_floor_moons_step(alpha=ALPHA, lr=LR):
    """The moons step by hand on plain floats, written straightforwardly: the floor for any
    scalar engine."""
    W, B = floor_model()
    X, y = moons_data()

    def step():
        loss, gW, gB = floor_loss_and_grads(W, B, X, y, alpha)
        for li in range(3):
            for j, row in enumerate(W[li]):
                grow = gW[li][j]
                for k in range(len(row)):
                    row[k] -= lr * grow[k]
                B[li][j] -= lr * gB[li][j]
        return loss

    return step


def sparse_floor_loss_and_grads(W, B, X, y, alpha=ALPHA):
    """What floor_loss_and_grads computes, as fast as plain Python can: C-level dot products
    (sum of map(mul)), examples whose hinge is inactive left out of the backward pass, and no
    work for a unit whose gradient is zero (dead relu) on every example that remains."""
    n = len(X)
    (W1, W2, (w3,)), (B1, B2, (b3,)) = W, B
    loss = 0.0
    A1, A2, D3, XA = [], [], [], []  # the examples whose hinge is active
    for x, yi in zip(X, y, strict=False):
        x0, x1 = x
        a1 = [
            z if (z := w0 * x0 + w1 * x1 + b) > 0.0 else 0.0
            for (w0, w1), b in zip(W1, B1, strict=False)
        ]
        a2 = [
            z if (z := sum(map(mul, row, a1), b)) > 0.0 else 0.0
            for row, b in zip(W2, B2, strict=False)
        ]
        margin = 1.0 - yi * sum(map(mul, w3, a2), b3)
        if margin > 0.0:
            loss += margin
            A1.append(a1)
            A2.append(a2)
            D3.append(-yi / n)
            XA.append(x)
    loss /= n
    gw3 = [sum(map(mul, D3, col)) for col in zip(*A2, strict=False)] if D3 else [0.0] * len(w3)
    gb3 = sum(D3)
    # d loss / d z2[j] for each active example: zero where unit j is dead.
    D2 = [
        [d * w if a else 0.0 for w, a in zip(w3, a2, strict=False)]
        for d, a2 in zip(D3, A2, strict=False)
    ]
    A1T = list(zip(*A1, strict=False))
    zeros1 = [0.0] * len(W1)
    gW2, gB2, live = [], [], []
    for j, col in enumerate(zip(*D2, strict=False) if D2 else [()] * len(W2)):
        if any(col):
            live.append(j)
            gW2.append([sum(map(mul, col, a)) if any(a) else 0.0 for a in A1T])
            gB2.append(sum(col))
        else:  # unit dead on every active example: no gradient
            gW2.append(zeros1.copy())
            gB2.append(0.0)
    W2T = list(
        zip(*[W2[j] for j in live], strict=False)
    )  # the weights out of layer 1 into live units
    D1, X1 = [], []
    for d2, a1, x in zip(D2, A1, XA, strict=False):
        d2 = [d2[j] for j in live]
        if any(d2):  # else no gradient flows below this example's layer 2
            D1.append(
                [sum(map(mul, d2, wcol)) if a else 0.0 for wcol, a in zip(W2T, a1, strict=False)]
            )
            X1.append(x)
    X0s, X1s = [x[0] for x in X1], [x[1] for x in X1]
    gW1, gB1 = [], []
    for col in zip(*D1, strict=False) if D1 else [()] * len(W1):
        gW1.append([sum(map(mul, col, X0s)), sum(map(mul, col, X1s))] if any(col) else [0.0, 0.0])
        gB1.append(sum(col))
    c = 2 * alpha
    gW = [gW1, gW2, [gw3]]
    gB = [gB1, gB2, [gb3]]
    for layer, glayer, blayer, gblayer in zip(W, gW, B, gB, strict=False):
        for row, grow in zip(layer, glayer, strict=False):
            loss += alpha * sum(map(mul, row, row))
            grow[:] = [g + c * w for g, w in zip(grow, row, strict=False)]
        loss += alpha * sum(map(mul, blayer, blayer))
        gblayer[:] = [g + c * b for g, b in zip(gblayer, blayer, strict=False)]
    return loss, gW, gB


def make_sparse_floor_moons_step(alpha=ALPHA, lr=LR):
    """The moons step on plain floats as fast as we can write it, skipping what is provably
    zero: the floor for an engine that skips zero gradients."""
    W, B = floor_model()
    X, y = moons_data()

    def step():
        loss, gW, gB = sparse_floor_loss_and_grads(W, B, X, y, alpha)
        for layer, glayer, blayer, gblayer in zip(W, gW, B, gB, strict=False):
            for row, grow in zip(layer, glayer, strict=False):
                row[:] = [w - lr * g for w, g in zip(row, grow, strict=False)]
            blayer[:] = [b - lr * g for b, g in zip(blayer, gblayer, strict=False)]
        return loss

    return step


FLOORS = {"floor": make_floor_moons_step, "sparse floor": make_sparse_floor_moons_step}
