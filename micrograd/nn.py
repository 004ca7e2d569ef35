"""Neural networks on Values: Module, Neuron, Layer, MLP, the losses and SGD the demo needs."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from typing import Literal

from .engine import Value, _node, dot
from .ops import OPS

Activation = Literal["relu", "tanh", "linear"]
ACTIVATIONS: tuple[Activation, ...] = ("relu", "tanh", "linear")


class Module:
    """Something with parameters: zero_grad() resets their gradients."""

    def parameters(self) -> list[Value]:
        return []

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0


class Neuron(Module):
    """activation(w . x + b), weights uniform in [-1, 1] from ``rng``, bias 0."""

    def __init__(self, nin: int, activation: Activation = "relu", rng: random.Random | None = None):
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
        rng = rng or random.Random()
        self.w = [Value(rng.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0.0)
        self.activation = activation
        self._act = None if activation == "linear" else getattr(Value, activation)

    def __call__(self, x: Sequence[Value | float]) -> Value:
        return self.forward(_values(x, len(self.w)), Value(1.0))

    def forward(self, x: tuple[Value, ...], one: Value) -> Value:
        """activation(dot(w + [b], x + [one])): one node and its activation; x must be Values
        of the right number and ``one`` the constant 1 (Layer shares it between its neurons)."""
        act = _node(OPS["dot"], (*self.w, self.b, *x, one))
        return act if self._act is None else self._act(act)

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]

    def __repr__(self) -> str:
        return f"Neuron({len(self.w)}, activation={self.activation!r})"


class Layer(Module):
    """``nout`` neurons on the same inputs; one output is returned as a Value, not a list."""

    def __init__(
        self, nin: int, nout: int, activation: Activation = "relu", rng: random.Random | None = None
    ):
        rng = rng or random.Random()
        self.neurons = [Neuron(nin, activation, rng) for _ in range(nout)]

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        xs, one = _values(x, len(self.neurons[0].w)), Value(1.0)
        out = [n.forward(xs, one) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return f"Layer({len(self.neurons[0].w)}, {len(self.neurons)}, activation={self.neurons[0].activation!r})"


class MLP(Module):
    """Layers of sizes ``nin -> nouts``: ``activation`` between them, the last one linear.

    ``seed`` makes the initial weights reproducible.
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: Activation = "relu",
        seed: int | None = None,
    ):
        rng = random.Random(seed)
        sizes = [nin, *nouts]
        self.layers = [
            Layer(sizes[i], sizes[i + 1], activation if i < len(nouts) - 1 else "linear", rng)
            for i in range(len(nouts))
        ]

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        out: Value | list[Value] = list(x)  # type: ignore[arg-type]
        for layer in self.layers:
            out = layer(out if isinstance(out, list) else [out])
        return out

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return f"MLP([{', '.join(map(repr, self.layers))}])"


def _values(x: Sequence[Value | float], n: int) -> tuple[Value, ...]:
    if len(x) != n:
        raise ValueError(f"takes {n} inputs, got {len(x)}")
    return tuple([v if isinstance(v, Value) else Value(v) for v in x])


class SGD:
    """Plain gradient descent: ``p.data -= lr * p.grad`` for every parameter."""

    def __init__(self, params: Iterable[Value], lr: float = 0.1):
        self.params = list(params)
        self.lr = lr

    def step(self) -> None:
        for p in self.params:
            p.data -= self.lr * p.grad

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = 0.0


def mean(xs: Sequence[Value]) -> Value:
    """The mean of Values."""
    return sum(xs, Value(0.0)) * (1.0 / len(xs))


def max_margin_loss(scores: Sequence[Value], ys: Sequence[float]) -> Value:
    """SVM hinge loss mean(relu(1 - y * score)) for labels y in {-1, +1}."""
    return mean([(1 - y * s).relu() for s, y in zip(scores, ys, strict=True)])


def mse_loss(preds: Sequence[Value], targets: Sequence[Value | float]) -> Value:
    """mean((pred - target) ** 2)."""
    return mean([(p - t) ** 2 for p, t in zip(preds, targets, strict=True)])


def l2(params: Sequence[Value], alpha: float) -> Value:
    """alpha * sum(p ** 2): weight decay as a loss term."""
    return alpha * dot(params, params)
