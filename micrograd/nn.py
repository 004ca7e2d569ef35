"""Neural networks on Values: Module, Neuron, Layer, MLP, the losses and SGD the demo needs.

A drop-in for micrograd 0.1.0's nn: ``Neuron(nin, nonlin=True)``, ``Layer(nin, nout,
**kwargs)``, ``MLP(nin, nouts)``, weights drawn from the global ``random`` module in 0.1.0's
order unless a ``seed`` is given.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from math import inf, isfinite
from numbers import Real
from types import ModuleType
from typing import Literal

from .engine import Value, constant, dot, dot_node
from .fused import dot_then
from .ops import OPS

Activation = Literal["relu", "tanh", "linear"]
ACTIVATIONS: tuple[Activation, ...] = ("relu", "tanh", "linear")
# A Neuron's op by its activation's name: dot then the activation, as one node
_NEURON_OPS = {"relu": dot_then(OPS["relu"]), "tanh": dot_then(OPS["tanh"]), "linear": None}
Rng = random.Random | ModuleType  # a Random, or the random module itself (its global state)


class Module:
    """Something with parameters: zero_grad() resets their gradients."""

    def parameters(self) -> list[Value]:
        return []

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0


class Neuron(Module):
    """activation(w . x + b), weights uniform in [-1, 1] from ``rng`` (default: the global
    ``random`` module, as micrograd 0.1.0), bias 0.

    ``nonlin`` is micrograd 0.1.0's spelling: True is relu, False linear.
    """

    def __init__(
        self,
        nin: int,
        activation: Activation | None = None,
        rng: Rng | None = None,
        *,
        nonlin: bool | None = None,
    ):
        _check_size("nin", nin)
        self.activation = _activation(activation, nonlin)
        rng = random if rng is None else _check_rng(rng)
        self.w = [Value(rng.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0.0)

    def __call__(self, x: Sequence[Value | float]) -> Value:
        xs = (*_values(x, len(self.w), "Neuron"), constant(1.0))
        return self.forward(xs, tuple([v.data for v in xs]))

    def forward(self, inputs_and_one: tuple[Value, ...], data: Sequence[float]) -> Value:
        """activation(dot(w + [b], inputs_and_one)) as one node (``fused.dot_then``):
        ``inputs_and_one`` is the inputs followed by the constant 1 (which a Layer shares
        between its neurons), as Values of the right number, and ``data`` their data."""
        # Looked up by the activation's name: a Neuron holds no function, and pickles.
        try:
            op = _NEURON_OPS[self.activation]
        except (KeyError, TypeError):  # set by hand after __init__ checked it
            raise ValueError(
                f"Neuron.activation must be one of {ACTIVATIONS}, got {self.activation!r}"
            ) from None
        return dot_node((*self.w, self.b), inputs_and_one, data, op)

    @property
    def nonlin(self) -> bool:
        """micrograd 0.1.0's flag: whether the neuron has an activation."""
        return self.activation != "linear"

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]

    def __repr__(self) -> str:
        return f"Neuron({len(self.w)}, activation={self.activation!r})"


class Layer(Module):
    """``nout`` neurons on the same inputs; one output is returned as a Value, not a list.

    Keyword arguments go to each Neuron (``activation=``, ``nonlin=``), as in 0.1.0.
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: Activation | None = None,
        rng: Rng | None = None,
        *,
        nonlin: bool | None = None,
    ):
        _check_size("nin", nin)
        _check_size("nout", nout)
        activation = _activation(activation, nonlin)
        rng = None if rng is None else _check_rng(rng)
        self.neurons = [Neuron(nin, activation, rng) for _ in range(nout)]

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        xs = (*_values(x, len(self.neurons[0].w), "Layer"), constant(1.0))
        xs_data = tuple([v.data for v in xs])  # a tuple: fused.dot_parts need not copy it
        out = [n.forward(xs, xs_data) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        n = self.neurons[0]
        return f"Layer({len(n.w)}, {len(self.neurons)}, activation={n.activation!r})"


class MLP(Module):
    """Layers of sizes ``nin -> nouts``: ``activation`` on every layer but the last, which has
    ``output_activation`` (linear by default, as in 0.1.0; the lecture's MLP is
    ``MLP(3, [4, 4, 1], activation="tanh", output_activation="tanh")``).

    Weights come from ``random.Random(seed)``, or without a seed from the global ``random``
    module in 0.1.0's order (so ``random.seed(1337)`` reproduces 0.1.0's models).
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: Activation = "relu",
        seed: int | None = None,
        output_activation: Activation = "linear",
    ):
        _check_size("nin", nin)
        if isinstance(nouts, str | bytes) or not isinstance(nouts, Sequence):
            raise TypeError(
                f"nouts must be a list of layer sizes such as [16, 16, 1], got {type(nouts).__name__}"
            )
        if not nouts:
            raise ValueError("nouts must name at least one layer, such as [16, 16, 1], got []")
        for i, n in enumerate(nouts):
            _check_size(f"nouts[{i}]", n)
        hidden = _activation(activation, None, "activation")
        last = _activation(output_activation or "linear", None, "output_activation")
        if seed is not None and (type(seed) is not int):
            raise TypeError(f"seed must be an int or None, got {type(seed).__name__}: {seed!r}")
        rng: Rng = random if seed is None else random.Random(seed)
        sizes = [nin, *nouts]
        self.layers = [
            Layer(sizes[i], sizes[i + 1], hidden if i < len(nouts) - 1 else last, rng)
            for i in range(len(nouts))
        ]

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        out: Value | list[Value] = _values(x, len(self.layers[0].neurons[0].w), "MLP")  # type: ignore[assignment]
        for layer in self.layers:
            out = layer(out if isinstance(out, list | tuple) else [out])
        return out

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        first, last = self.layers[0].neurons[0], self.layers[-1].neurons[0]
        hidden = f", activation={first.activation!r}" if len(self.layers) > 1 else ""
        nouts = [len(layer.neurons) for layer in self.layers]
        return f"MLP({len(first.w)}, {nouts}{hidden}, output_activation={last.activation!r})"


def _activation(
    activation: str | None, nonlin: bool | None, name: str = "activation"
) -> Activation:
    if nonlin is not None:
        if not isinstance(nonlin, bool):
            raise TypeError(f"nonlin must be True or False, got {nonlin!r}")
        implied: Activation = "relu" if nonlin else "linear"
        if activation is not None and activation != implied:
            raise ValueError(f"nonlin={nonlin} contradicts activation={activation!r}")
        return implied
    if activation is None:
        return "relu"
    if activation not in ACTIVATIONS:
        raise ValueError(f"{name} must be one of {ACTIVATIONS}, got {activation!r}")
    return activation


def _check_size(name: str, n: object) -> None:
    if type(n) is not int:
        raise TypeError(f"{name} must be a positive int, got {type(n).__name__}: {n!r}")
    if n < 1:
        raise ValueError(f"{name} must be a positive int, got {n}")


def _values(x: Sequence[Value | float], n: int, who: str) -> tuple[Value, ...]:
    if isinstance(x, Value) or not isinstance(x, Sequence) or isinstance(x, str | bytes):
        raise TypeError(f"{who} takes a list of {n} inputs, got {type(x).__name__}")
    if len(x) != n:
        raise ValueError(f"{who} takes {n} inputs, got {len(x)}")
    try:
        return tuple([v if isinstance(v, Value) else Value(v) for v in x])
    except (TypeError, ValueError):
        return tuple(_value(v, f"{who} input x[{i}]") for i, v in enumerate(x))


def _value(x: object, name: str) -> Value:
    """``x`` as a Value (a number becomes a leaf); TypeError or ValueError naming ``name``."""
    if isinstance(x, Value):
        return x
    try:
        return Value(x)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(
            f"{name} must be a number or a Value, got {type(x).__name__}: {_short(x)}"
        ) from None
    except ValueError:
        raise ValueError(f"{name} must be a finite number (float64), got {_short(x)}") from None


def _values_of(who: str, name: str, xs: object) -> list[Value]:
    """The list ``xs`` as Values, each error naming ``who``, ``name`` and the element."""
    _check_list(who, name, xs)
    seq: Sequence[object] = xs  # type: ignore[assignment]
    try:
        return [x if isinstance(x, Value) else Value(x) for x in seq]  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return [_value(x, f"{who}: {name}[{i}]") for i, x in enumerate(seq)]


def _check_list(who: str, name: str, xs: object) -> None:
    if not isinstance(xs, Sequence) or isinstance(xs, str | bytes):
        raise TypeError(f"{who}: {name} must be a list, got {type(xs).__name__}")


def _short(x: object) -> str:
    text = repr(x)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_rng(rng: object) -> Rng:
    if rng is random or isinstance(rng, random.Random):
        return rng
    raise TypeError(
        f"rng must be a random.Random or the random module, got {type(rng).__name__}: {_short(rng)}"
    )


class SGD:
    """Plain gradient descent: ``p.data -= lr * p.grad`` for every parameter.

    A step that would make a parameter non-finite raises ValueError and changes nothing.
    """

    def __init__(self, params: Iterable[Value], lr: float = 0.1):
        if isinstance(params, Value | str | bytes) or not isinstance(params, Iterable):
            raise TypeError(
                f"SGD: params must be an iterable of Values (model.parameters()), got "
                f"{type(params).__name__}"
            )
        self.params = list(params)
        for i, p in enumerate(self.params):
            if not isinstance(p, Value):
                raise TypeError(
                    f"SGD optimises Values (model.parameters()), got {type(p).__name__} at "
                    f"params[{i}]"
                )
        self.lr = lr

    @property
    def lr(self) -> float:
        """The learning rate: a finite number."""
        return self._lr

    @lr.setter
    def lr(self, lr: float) -> None:
        if isinstance(lr, bool) or not isinstance(lr, int | float | Real):
            raise TypeError(f"lr must be a number, got {type(lr).__name__}: {_short(lr)}")
        try:
            rate = float(lr)
        except OverflowError:
            rate = inf
        if not isfinite(rate):
            raise ValueError(f"lr must be a finite number (float64), got {_short(lr)}")
        self._lr = rate

    def step(self) -> None:
        lr = self._lr
        # a grad left by backward(create_graph=True) is a Value: its number is its data
        new = [
            p.data - lr * (p.grad.data if isinstance(p.grad, Value) else p.grad)
            for p in self.params
        ]
        for i, (p, x) in enumerate(zip(self.params, new, strict=True)):
            if not isfinite(x):
                raise ValueError(
                    f"SGD step makes params[{i}] non-finite: data {p.data!r} - lr {lr!r} * "
                    f"grad {p.grad!r}; no parameter was changed"
                )
        for p, x in zip(self.params, new, strict=True):
            p.data = x

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = 0.0


def mean(xs: Sequence[Value]) -> Value:
    """The mean of Values (or numbers)."""
    values = _values_of("mean", "xs", xs)
    if not values:
        raise ValueError("mean: xs is empty (the mean of no values)")
    return sum(values, Value(0.0)) * (1.0 / len(values))


def max_margin_loss(scores: Sequence[Value], ys: Sequence[float]) -> Value:
    """SVM hinge loss mean(relu(1 - y * score)) for labels y in {-1, +1}."""
    _same_length("max_margin_loss", "scores", scores, "ys", ys)
    for i, y in enumerate(ys):
        if isinstance(y, bool) or not isinstance(y, int | float) or y not in (-1, 1):
            raise ValueError(f"max_margin_loss needs labels -1 or +1, got ys[{i}] = {_short(y)}")
    values = _values_of("max_margin_loss", "scores", scores)
    return mean([(1 - y * s).relu() for s, y in zip(values, ys, strict=True)])


def mse_loss(preds: Sequence[Value], targets: Sequence[Value | float]) -> Value:
    """mean((pred - target) ** 2)."""
    _same_length("mse_loss", "preds", preds, "targets", targets)
    ps = _values_of("mse_loss", "preds", preds)
    ts = _values_of("mse_loss", "targets", targets)
    return mean([(p - t) ** 2 for p, t in zip(ps, ts, strict=True)])


def l2(params: Sequence[Value], alpha: float) -> Value:
    """alpha * sum(p ** 2): weight decay as a loss term."""
    values = _values_of("l2", "params", params)
    if not values:
        raise ValueError("l2: params is empty")
    return _value(alpha, "l2: alpha") * dot(values, values)


def _same_length(who: str, a: str, xs: Sequence[object], b: str, ys: Sequence[object]) -> None:
    for name, seq in ((a, xs), (b, ys)):
        _check_list(who, name, seq)
    if len(xs) != len(ys):
        raise ValueError(f"{who}: {a} and {b} differ in length: {len(xs)} and {len(ys)}")
    if not xs:
        raise ValueError(f"{who}: {a} and {b} are empty")
