"""A Neuron's node: dot then an activation, as one op derived from the two registry entries.

``dot_then(OPS["relu"])`` is the op ``relu(dot(xs, ys))``. Its partials are the chain rule's
product, activation'(dot) times dot's partials, computed by ``activated``; the engine's
``dot_node`` builds the node without packing its inputs into one tuple. Nothing here is in the
registry: the fused op is nn's, made from the table, and tested against the two nodes it
replaces (tests/property/test_fused.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import repeat
from math import isfinite
from numbers import Real
from operator import mul
from typing import Any

from .ops import OPS, REAL, VARIADIC, Op


@dataclass(frozen=True, slots=True)
class FusedOp(Op):
    """An op made by ``dot_then``: ``activation(dot(xs, ys))``."""

    activation: Op = field(kw_only=True)

    def __reduce__(self) -> Any:
        return (dot_then, (self.activation,))  # remade from its activation, which pickles by name


def dot_parts(a: Sequence[float], b: Sequence[float]) -> tuple[float, tuple[float, ...]]:
    """dot's value and partials for its two halves, ``a`` and ``b`` (what ``OPS["dot"].f``
    computes from ``*a, *b``)."""
    return sum(map(mul, a, b)), tuple(b) + tuple(a)  # tuple(t) is t: no copy for tuples


def activated(
    activation: Op, z: float, partials: tuple[float, ...]
) -> tuple[float, tuple[float, ...]]:
    """The value and partials of ``activation(node)``, for a node of value ``z`` and
    ``partials``: each partial times activation'(z), by the chain rule.

    Where activation'(z) is 1 (a relu that is on), the partials are kept as they are; where it
    is 0 (a relu that is off), they are +0.0, as relu's own partial. OverflowError when a
    result is not finite.
    """
    y, (d,) = activation.f(z)
    if y - y or d - d:  # not finite (see micrograd.kernel)
        raise OverflowError
    if d == 1.0:
        return y, partials
    if not d:
        return y, (0.0,) * len(partials)
    partials = tuple(map(mul, partials, repeat(d)))
    if not all(map(isfinite, partials)):
        raise OverflowError
    return y, partials


def unfit(activation: Op) -> str:
    """Why ``activation`` cannot follow a dot in one node, or "" when it can: it must take one
    input on the whole real line and no params (relu, tanh, sigmoid ...)."""
    if activation.arity != 1:
        n = "an even number of" if activation.arity == VARIADIC else activation.arity
        return f"takes {n} inputs"
    if activation.params:
        return f"has params ({', '.join(activation.params)})"
    if activation.domains() != (REAL,):
        return f"is defined on {activation.domains()[0]} only"
    return ""


def dot_then(activation: Op) -> FusedOp:
    """dot followed by ``activation`` as one op: a Neuron's node, ``activation(dot(xs, ys))``.

    ``activation`` must take one input on the whole real line and no params (relu, tanh,
    sigmoid ...); ValueError otherwise. The fused op declares no kinks: its kinks are where the
    dot equals a kink of the activation, which is not a point of any one input.
    """
    why = unfit(activation)
    if not why:
        dot = OPS["dot"]

        def f(*ab: float) -> tuple[float, tuple[float, ...]]:
            return activated(activation, *dot.f(*ab))

        def partials(y: Any, *ab: Any) -> tuple[Any, ...]:
            # activated() on Values: activation'(z) times dot's partials, the same floats.
            from .engine import apply  # the engine imports this module

            n = len(ab) // 2
            (d,) = activation.partials(y, apply(dot, *ab))  # type: ignore[misc]
            inputs = ab[n:] + ab[:n]
            if isinstance(d, Real) and d == 1.0:  # a constant 1 or 0, as activated() has it
                return inputs
            if isinstance(d, Real) and not d:
                return (0.0,) * len(ab)
            return tuple(v * d for v in inputs)

        return FusedOp(
            f"dot_{activation.name}",
            VARIADIC,
            f,
            activation.syntax.replace("{}", "dot([{}], [{}])"),
            symbol=f"{activation.symbol_for()}(dot)",
            activation=activation,
            partials=None if activation.partials is None else partials,
        )
    raise ValueError(
        f"dot_then takes a one-input op without params defined on every real: "
        f"{activation.name!r} {why}"
    )


__all__ = ["FusedOp", "activated", "dot_parts", "dot_then", "unfit"]
