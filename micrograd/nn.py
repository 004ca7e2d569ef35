"""Neural networks on Values: Module, Neuron, Layer, MLP, the losses and SGD the demo needs.

A drop-in for micrograd 0.1.0's nn: ``Neuron(nin, nonlin=True)``, ``Layer(nin, nout,
**kwargs)``, ``MLP(nin, nouts)``, weights drawn from the global ``random`` module in 0.1.0's
order unless a ``seed`` is given. Inputs may be any sequence of numbers or Values, a 1-D NumPy
array included. ``state_dict()`` / ``load_state_dict()`` save and restore the parameters as
plain floats (JSON-able); a model also pickles.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from math import inf, isfinite
from numbers import Real
from types import ModuleType

from .engine import Value, constant, dot, dot_node, unary_node
from .fused import FusedOp, dot_then, unfit
from .ops import OPS, Op, on_change

Activation = str  # "linear", or the name of a one-input registry op: see activations()
Rng = random.Random | ModuleType  # a Random, or the random module itself (its global state)


def activations() -> tuple[str, ...]:
    """The activations a Neuron takes: "linear" and every one-input registry op without params
    defined on every real (relu, tanh, sigmoid, exp, neg ..., and any op registered since)."""
    return ("linear", *(n for n, op in OPS.items() if not unfit(op)))


# A Neuron's op by its activation's name: dot then the activation as one node (None for
# linear), fused and checked the first time a Neuron uses the name (_neuron_op), and forgotten
# when an op of that name is registered or unregistered, so the next use fuses the new one.
# Every neuron looks its op up on every call: one dict lookup.
_fused: dict[str, FusedOp | None] = {"linear": None}


def _forget(op: Op) -> None:
    _fused.pop(op.name, None)


on_change(_forget, _forget)


def _neuron_op(activation: str) -> FusedOp | None:
    """dot then ``activation`` as one op (None for linear); KeyError for an unknown name."""
    if activation in _fused:
        return _fused[activation]
    op = OPS.get(activation) if isinstance(activation, str) else None
    if op is None or unfit(op):
        raise KeyError(activation)
    fused = _fused[activation] = dot_then(op)
    return fused


class Module:
    """Something with parameters: zero_grad() resets their gradients."""

    def parameters(self) -> list[Value]:
        return []

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0

    def named_parameters(self) -> list[tuple[str, Value]]:
        """(name, parameter) in parameters() order: "layers.0.neurons.1.w.2", ... "b"."""
        return []

    def state_dict(self) -> dict[str, float]:
        """Every parameter's data by name (plain floats: ``json.dump`` takes it)."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, float]) -> None:
        """Set every parameter's data from ``state`` (as ``state_dict()`` gives it). The names
        must be exactly this model's and each value a finite number: ValueError or TypeError
        naming the first wrong one otherwise, and nothing is changed."""
        if not isinstance(state, Mapping):
            raise TypeError(
                f"load_state_dict takes a dict of name: number, got {type(state).__name__}"
            )
        named = dict(self.named_parameters())
        missing = [n for n in named if n not in state]
        unexpected = [n for n in state if n not in named]
        if missing or unexpected:
            raise ValueError(
                f"load_state_dict: the names differ from this model's ({self!r}): "
                f"missing {_few(missing)}, unexpected {_few(unexpected)}"
            )
        new = {n: _value(state[n], f"load_state_dict: state[{n!r}]").data for n in named}
        for n, p in named.items():
            p.data = new[n]


def _few(names: list[str]) -> str:
    return (
        ", ".join(map(repr, names[:3])) + (f" and {len(names) - 3} more" if names[3:] else "")
        or "none"
    )


class Neuron(Module):
    """activation(w . x + b), weights uniform in [-1, 1] from ``rng`` (default: the global
    ``random`` module, as micrograd 0.1.0), bias 0.

    ``nonlin`` is micrograd 0.1.0's spelling: True is relu, False linear. The activation is
    any of ``activations()``. A neuron is one node, the activation fused with the dot
    (``fused.dot_then``); ``fused=False`` builds the lecture's chain instead (``w0*x0 + w1*x1
    + ... + b``, then the activation), nodes ``draw_dot`` shows one by one, with the fused
    node's numbers (the same floats up to Python 3.11; from 3.12 on, dot's ``sum()``
    compensates its rounding, so they may differ in the last few ulps).
    """

    fused = True  # a Neuron pickled before the option was fused

    def __init__(
        self,
        nin: int,
        activation: Activation | None = None,
        rng: Rng | None = None,
        *,
        nonlin: bool | None = None,
        fused: bool = True,
    ):
        _check_size("nin", nin)
        self.activation = _activation(activation, nonlin)
        self.fused = _check_flag("fused", fused)
        rng = random if rng is None else _check_rng(rng)
        self.w = [Value(rng.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0.0)

    def __call__(self, x: Sequence[Value | float]) -> Value:
        xs = (*_values(x, len(self.w), "Neuron"), constant(1.0))
        return self.forward(xs, tuple([v.data for v in xs]))

    def forward(self, inputs_and_one: tuple[Value, ...], data: Sequence[float]) -> Value:
        """activation(dot(w + [b], inputs_and_one)) as one node (``fused.dot_then``), or as the
        lecture's chain when not ``fused``: ``inputs_and_one`` is the inputs followed by the
        constant 1 (which a Layer shares between its neurons), as Values of the right number,
        and ``data`` their data."""
        # Looked up by the activation's name: a Neuron holds no function, and pickles.
        try:
            op = _fused[self.activation]
        except (KeyError, TypeError):  # a name not fused yet, or set by hand after __init__
            try:
                op = _neuron_op(self.activation)
            except (KeyError, TypeError):
                raise ValueError(
                    f"Neuron.activation must be one of {activations()}, got {self.activation!r}"
                ) from None
        if self.fused:
            return dot_node((*self.w, self.b), inputs_and_one, data, op)
        # The sums dot's f adds, in its order (w0*x0 first, b * 1 last).
        z = self.w[0] * inputs_and_one[0]
        for w, x in zip(self.w[1:], inputs_and_one[1:-1], strict=True):
            z = z + w * x
        z = z + self.b
        return z if op is None else unary_node(op.activation, z)

    @property
    def nonlin(self) -> bool:
        """micrograd 0.1.0's flag: whether the neuron has an activation."""
        return self.activation != "linear"

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]

    def named_parameters(self) -> list[tuple[str, Value]]:
        return [*((f"w.{i}", w) for i, w in enumerate(self.w)), ("b", self.b)]

    def __repr__(self) -> str:
        fused = "" if self.fused else ", fused=False"
        return f"Neuron({len(self.w)}, activation={self.activation!r}{fused})"


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
        fused: bool = True,
    ):
        _check_size("nin", nin)
        _check_size("nout", nout)
        activation = _activation(activation, nonlin)
        rng = None if rng is None else _check_rng(rng)
        self.neurons = [Neuron(nin, activation, rng, fused=fused) for _ in range(nout)]

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        """The neurons' outputs on the inputs ``x``: a list, or one Value for one neuron."""
        xs = (*_values(x, len(self.neurons[0].w), "Layer"), constant(1.0))
        xs_data = tuple([v.data for v in xs])  # a tuple: fused.dot_parts need not copy it
        out = [n.forward(xs, xs_data) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def named_parameters(self) -> list[tuple[str, Value]]:
        return [
            (f"neurons.{j}.{name}", p)
            for j, n in enumerate(self.neurons)
            for name, p in n.named_parameters()
        ]

    def __repr__(self) -> str:
        n = self.neurons[0]
        fused = "" if n.fused else ", fused=False"
        return f"Layer({len(n.w)}, {len(self.neurons)}, activation={n.activation!r}{fused})"


class MLP(Module):
    """Layers of sizes ``nin -> nouts``: ``activation`` on every layer but the last, which has
    ``output_activation`` (linear by default, as in 0.1.0; the lecture's MLP is
    ``MLP(3, [4, 4, 1], activation="tanh", output_activation="tanh")``).

    Weights come from ``random.Random(seed)``, or without a seed from the global ``random``
    module in 0.1.0's order (so ``random.seed(1337)`` reproduces 0.1.0's models). With
    ``fused=False`` every neuron is the lecture's chain of nodes (see Neuron).
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: Activation = "relu",
        seed: int | None = None,
        output_activation: Activation = "linear",
        fused: bool = True,
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
        linear = "linear" if output_activation is None else output_activation  # 0.0 is no name
        last = _activation(linear, None, "output_activation")
        if seed is not None and (type(seed) is not int):
            raise TypeError(f"seed must be an int or None, got {type(seed).__name__}: {seed!r}")
        rng: Rng = random if seed is None else random.Random(seed)
        sizes = [nin, *nouts]
        _check_flag("fused", fused)
        self.layers = [
            Layer(sizes[i], sizes[i + 1], hidden if i < len(nouts) - 1 else last, rng, fused=fused)
            for i in range(len(nouts))
        ]

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        """The last layer's outputs on the inputs ``x``: a list, or one Value when the last
        layer has one neuron (``MLP(2, [16, 16, 1])([0.5, -1.0])`` is a Value)."""
        out: Value | list[Value] = _values(x, len(self.layers[0].neurons[0].w), "MLP")  # type: ignore[assignment]
        for layer in self.layers:
            out = layer(out if isinstance(out, list | tuple) else [out])
        return out

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def named_parameters(self) -> list[tuple[str, Value]]:
        return [
            (f"layers.{i}.{name}", p)
            for i, layer in enumerate(self.layers)
            for name, p in layer.named_parameters()
        ]

    def __repr__(self) -> str:
        first, last = self.layers[0].neurons[0], self.layers[-1].neurons[0]
        hidden = f", activation={first.activation!r}" if len(self.layers) > 1 else ""
        nouts = [len(layer.neurons) for layer in self.layers]
        fused = "" if first.fused else ", fused=False"
        return f"MLP({len(first.w)}, {nouts}{hidden}, output_activation={last.activation!r}{fused})"


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
    if not isinstance(activation, str) or activation not in activations():
        raise ValueError(f"{name} must be one of {activations()}, got {activation!r}")
    return activation


def _check_flag(name: str, flag: object) -> bool:
    if not isinstance(flag, bool):
        raise TypeError(f"{name} must be True or False, got {type(flag).__name__}: {_short(flag)}")
    return flag


def _as_list(x: object) -> object:
    """A 1-D NumPy array (anything with ``__array__`` and ``tolist``) as the list of its
    numbers; anything else as it is. NumPy is not needed for this: learners' data is often
    an array (scikit-learn's datasets), and 0.1.0 takes one."""
    if hasattr(x, "__array__") and hasattr(x, "tolist") and not isinstance(x, Value):
        if getattr(x, "ndim", 1) != 1:
            raise ValueError(
                f"expected a 1-D array of numbers, got one of shape {getattr(x, 'shape', '?')}"
            )
        return x.tolist()
    return x


def _check_size(name: str, n: object) -> None:
    if type(n) is not int:
        raise TypeError(f"{name} must be a positive int, got {type(n).__name__}: {n!r}")
    if n < 1:
        raise ValueError(f"{name} must be a positive int, got {n}")


def _values(x: Sequence[Value | float], n: int, who: str) -> tuple[Value, ...]:
    x = _as_list(x)  # type: ignore[assignment]
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
    xs = _as_list(xs)
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
    scores, ys = _as_list(scores), _as_list(ys)  # type: ignore[assignment]
    _same_length("max_margin_loss", "scores", scores, "ys", ys)
    for i, y in enumerate(ys):
        if isinstance(y, bool) or not isinstance(y, int | float) or y not in (-1, 1):
            raise ValueError(f"max_margin_loss needs labels -1 or +1, got ys[{i}] = {_short(y)}")
    values = _values_of("max_margin_loss", "scores", scores)
    return mean([(1 - y * s).relu() for s, y in zip(values, ys, strict=True)])


def mse_loss(preds: Sequence[Value], targets: Sequence[Value | float]) -> Value:
    """mean((pred - target) ** 2)."""
    preds, targets = _as_list(preds), _as_list(targets)  # type: ignore[assignment]
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
