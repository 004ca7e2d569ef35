"""An engine's MLP against a PyTorch twin (torch==2.13.0, float64) with its weights copied.

The twin is built from what the user declares, ``MLP(3, [4, 4, 2])``, as micrograd 0.1.0's API
defines it: layers of neurons, ``parameters()`` listing each layer's neurons in turn, each
neuron's weights then its bias. The engine's parameters are set to WEIGHTS (fixed numbers
under which every layer's pre-activations take both signs), so each candidate pair of
activations (0.1.0's ReLU hidden layers and linear output, the lecture's tanh everywhere, ...)
gives outputs at least 0.6 apart from every other's: the engine's outputs name its activations
for certain. The output layer must not be a ReLU (0.1.0's last layer is linear: a ReLU there
clips every negative prediction to 0). The match is then checked on the gradients and on three
SGD steps. Outputs that match no twin are tried with each neuron's bias first, to name an order
of ``parameters()`` that is not 0.1.0's. ``MLP(3, [4, 1])`` must return a Value, not a list.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

SIZES = [3, 4, 4, 2]
N_PARAMS = sum((a + 1) * b for a, b in itertools.pairwise(SIZES))
WEIGHTS = [round(math.sin(2.3 * k + 0.4), 2) for k in range(N_PARAMS)]
X = [[0.5, -1.0, 2.0], [-0.3, 0.8, 0.1], [1.5, 0.2, -0.7]]
LR, STEPS = 0.05, 3
CANDIDATES = [  # (hidden, output) activations
    ("relu", "linear"),
    ("tanh", "tanh"),
    ("tanh", "linear"),
    ("relu", "relu"),
    ("sigmoid", "sigmoid"),
    ("sigmoid", "linear"),
]
# NOTE: float64 on both sides; the engine and torch sum each neuron's <= 5 terms in different
# orders, a few ulps of the terms per layer, over 3 layers and 3 steps of lr 0.05 with values
# of order 1: far below 1e-9 relative, while a wrong rule moves results by order 1e-2 or more.
RTOL = 1e-9

ENGINE_CODE = f"""\
import random

random.seed(0)
model = MLP({SIZES[0]}, {SIZES[1:]})
params = model.parameters()
if len(params) == {N_PARAMS}:
    for p, w in zip(params, {WEIGHTS}):
        p.data = w
X = {X}
one = MLP({SIZES[0]}, [4, 1])([Value(a) for a in X[0]])
single = "list of %d" % len(one) if isinstance(one, (list, tuple)) else type(one).__name__

def forward():
    outs, loss = [], Value(0.0)
    for x in X:
        out = model([Value(a) for a in x])
        out = out if isinstance(out, list) else [out]
        outs.append([float(o.data) for o in out])
        for o in out:
            loss = loss + o * o
    return outs, loss

init = [float(p.data) for p in params]
outs, loss = forward()
loss.backward()
grads = [float(p.grad) for p in params]
trajectory = []
for _ in range({STEPS}):
    if hasattr(model, "zero_grad"):
        model.zero_grad()
    else:
        for p in params:
            p.grad = 0.0
    _, loss = forward()
    loss.backward()
    for p in params:
        p.data -= {LR} * p.grad
    trajectory.append([float(p.data) for p in params])
zeroed = None
if hasattr(model, "zero_grad"):
    model.zero_grad()
    zeroed = [float(p.grad) for p in params]
result = dict(
    init=init, outs=outs, grads=grads, trajectory=trajectory, zeroed=zeroed, single=single
)
"""


@dataclass
class Verdict:
    status: str
    detail: str


def _model(torch: Any, flat: list[float], bias_first: bool = False) -> list[tuple[Any, Any]]:
    """The twin's layers from ``flat`` in 0.1.0's order (or with each neuron's bias first)."""
    layers, k = [], 0
    for nin, nout in itertools.pairwise(SIZES):
        w, b = [], []
        for _ in range(nout):
            neuron = flat[k : k + nin + 1]
            w.append(neuron[1:] if bias_first else neuron[:nin])
            b.append(neuron[0] if bias_first else neuron[nin])
            k += nin + 1
        layers.append(
            (
                torch.tensor(w, dtype=torch.float64, requires_grad=True),
                torch.tensor(b, dtype=torch.float64, requires_grad=True),
            )
        )
    return layers


def _forward(torch: Any, layers: list[tuple[Any, Any]], acts: tuple[str, str]) -> Any:
    fns = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "linear": lambda t: t}
    h = torch.tensor(X, dtype=torch.float64)
    for i, (w, b) in enumerate(layers):
        h = fns[acts[1] if i == len(layers) - 1 else acts[0]](h @ w.T + b)
    return h


def _flat(layers: list[tuple[Any, Any]], grad: bool = False) -> list[float]:
    out: list[float] = []
    for w, b in layers:
        w, b = (w.grad, b.grad) if grad else (w, b)
        for j in range(w.shape[0]):
            out += [*w[j].detach().tolist(), float(b[j].detach())]
    return out


def _close(got: list[float], want: list[float]) -> int | None:
    """The first index where got and want differ beyond RTOL, else None."""
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        if not abs(g - w) <= RTOL * (1 + abs(w)):
            return i
    return None


def parameter_name(i: int, sizes: list[int] = SIZES) -> str:
    """The ``i``-th of ``parameters()`` in 0.1.0's order (per layer, per neuron, its weights
    then its bias): ``layer 0, neuron 1, weight 2`` or ``layer 2, neuron 0, bias``."""
    k = i
    for layer, (nin, nout) in enumerate(itertools.pairwise(sizes)):
        if k < (nin + 1) * nout:
            neuron, j = divmod(k, nin + 1)
            what = f"weight {j}" if j < nin else "bias"
            return f"layer {layer}, neuron {neuron}, {what}"
        k -= (nin + 1) * nout
    raise IndexError(f"parameter {i} of an MLP{sizes}")


def compare(result: dict[str, Any]) -> Verdict:
    """PASS, FAIL or N/A for the engine's answers to ENGINE_CODE."""
    import warnings

    warnings.filterwarnings("ignore", message="Failed to initialize NumPy")  # not needed here
    import torch

    init = result["init"]
    if len(init) != N_PARAMS:
        return Verdict(
            "FAIL",
            f"parameters() has {len(init)} values; MLP{SIZES} declares {N_PARAMS} "
            "(per layer, per neuron: its weights, then its bias)",
        )
    flat_outs = [o for row in result["outs"] for o in row]

    def matching(bias_first: bool) -> tuple[str, str] | None:
        for acts in CANDIDATES:
            out = _forward(torch, _model(torch, init, bias_first), acts)
            if len(flat_outs) == out.numel() and _close(flat_outs, out.flatten().tolist()) is None:
                return acts
        return None

    acts = matching(False)
    if acts is None:
        if matching(True) is not None:
            return Verdict(
                "FAIL",
                "parameters() lists each neuron's bias before its weights; 0.1.0's order is "
                "per layer, per neuron, its weights then its bias",
            )
        return Verdict(  # beyond what the checks know how to judge: not called wrong
            "N/A",
            "the outputs at the set weights match no twin (activations tried: "
            f"{', '.join('/'.join(c) for c in CANDIDATES)}; parameters() in 0.1.0's order or "
            f"bias first): first outputs {flat_outs[:2]!r}",
        )
    if acts[1] == "relu":
        return Verdict(
            "FAIL",
            "the output layer applies a ReLU: 0.1.0's last layer is linear (nonlin=False), "
            "so a negative prediction is not clipped to 0",
        )
    layers = _model(torch, init)
    out = _forward(torch, layers, acts)
    (out**2).sum().backward()
    bad = _close(result["grads"], _flat(layers, grad=True))
    if bad is not None:
        want = _flat(layers, grad=True)[bad]
        return Verdict(
            "FAIL",
            f"d loss / d parameter {bad} ({parameter_name(bad)}): {result['grads'][bad]!r}, "
            f"torch {want!r}",
        )
    layers = _model(torch, init)
    for step, params in enumerate(result["trajectory"]):
        for w, b in layers:
            w.grad = b.grad = None
        (_forward(torch, layers, acts) ** 2).sum().backward()
        with torch.no_grad():
            for w, b in layers:
                w -= LR * w.grad
                b -= LR * b.grad
        bad = _close(params, _flat(layers))
        if bad is not None:
            return Verdict(
                "FAIL",
                f"after SGD step {step + 1}: parameter {bad} ({parameter_name(bad)}) is "
                f"{params[bad]!r}, torch {_flat(layers)[bad]!r}",
            )
    return Verdict(
        "PASS",
        f"activations {acts[0]} hidden, {acts[1]} output (probed); grads and {STEPS} SGD steps",
    )


__all__ = ["ENGINE_CODE", "N_PARAMS", "WEIGHTS", "Verdict", "compare", "parameter_name"]
