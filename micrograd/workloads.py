"""The engine workloads, written against the API every micrograd version shares (Value with
+ - * ** relu, nn.MLP), so the same code times this package, a git ref, micrograd 0.1.0 or any
engine with that API: ``nox -s compare``, ``nox -s bench``, the conformance speed rows.

Each workload takes an engine ``mg`` (the micrograd package, or anything with ``mg.engine.Value``
and ``mg.nn.MLP``) and returns a function that runs the workload once.

This module imports only the standard library and nothing of micrograd: it is also loaded by its
file path inside other engines' virtualenvs (compare's and conformance's workers), where the
``micrograd`` that is installed, if any, is the engine under test.
"""

from __future__ import annotations

import random
import tracemalloc
from collections.abc import Callable
from typing import Any

# The names the speed page (docs/speed.md) uses; compare and bench use these.
WORKLOAD_NAMES = {
    "moons step": "one training step of MLP(2, [16, 16, 1]) on 100 points: max-margin loss "
    "+ L2, zero_grad, backward, SGD",
    "chain 10k": "a chain of 10,000 nodes (x * c + c, repeated), forward + backward",
    "chain 1M": "the same chain with 1,000,000 nodes",
    "random graph 200k": "a random graph of 200,000 nodes over 1,000 inputs (mul or add-scale, "
    "then relu; shared nodes everywhere), forward + backward",
    "memory per node": "memory held per node of a 100,000-node chain, as tracemalloc counts it",
}
ALPHA, LR = 1e-4, 0.01  # the moons step's L2 weight and learning rate


def moons_data(n: int = 100, seed: int = 1) -> tuple[list[list[float]], list[float]]:
    """``n`` points of two interleaved half-moons with noise 0.1, labels -1/+1 (as make_moons)."""
    import math

    rng = random.Random(seed)
    X: list[list[float]] = []
    y: list[float] = []
    for i in range(n):
        t = math.pi * (i % (n // 2)) / (n // 2 - 1)
        upper = i < n // 2
        a, b = (math.cos(t), math.sin(t)) if upper else (1 - math.cos(t), 0.5 - math.sin(t))
        X.append([a + rng.gauss(0, 0.1), b + rng.gauss(0, 0.1)])
        y.append(1.0 if upper else -1.0)
    return X, y


def moons_model(mg: Any) -> Any:
    """MLP(2, [16, 16, 1]) with the weights of ``random.seed(0)``, drawn in 0.1.0's order."""
    random.seed(0)  # micrograd 0.1.0 draws its weights from the random module
    return mg.nn.MLP(2, [16, 16, 1])


def moons_loss(
    mg: Any, model: Any, X: list[list[float]], y: list[float], alpha: float = ALPHA
) -> Any:
    """The moons step's loss as a graph: mean hinge loss + alpha * sum of squared parameters."""
    Value = mg.engine.Value
    scores = [model([Value(a), Value(b)]) for a, b in X]
    losses = [(1 + -yi * s).relu() for yi, s in zip(y, scores, strict=False)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg = alpha * sum(p * p for p in model.parameters())
    return data_loss + reg


def make_moons_step(mg: Any, alpha: float = ALPHA, lr: float = LR) -> Callable[[], Any]:
    """One training step of MLP(2, [16, 16, 1]) on 100 points: max-margin loss + L2,
    zero_grad, backward, SGD."""
    model = moons_model(mg)
    X, y = moons_data()
    sgd = getattr(mg, "sgd", _sgd)
    data = getattr(mg, "data", _data)

    def step() -> Any:
        model.zero_grad()
        loss = moons_loss(mg, model, X, y, alpha)
        loss.backward()
        sgd(model, lr)
        return data(loss)

    return step


def _sgd(model: Any, lr: float) -> None:
    for p in model.parameters():
        p.data -= lr * p.grad


def _data(v: Any) -> Any:
    return v.data


def make_chain(mg: Any, n: int) -> Callable[[], None]:
    """Forward and backward through a chain of ``n`` nodes (n/2 multiply-adds)."""
    Value = mg.engine.Value

    def run() -> None:
        x = Value(0.5)
        y = x
        for _ in range(n // 2):
            y = y * 0.999 + 0.0005
        y.backward()

    return run


def make_random_graph(
    mg: Any, n: int = 200_000, leaves: int = 1000, seed: int = 0
) -> Callable[[], None]:
    """Forward and backward through a random graph of ``n`` nodes over ``leaves`` inputs, each
    node combining two random earlier ones (shared nodes and diamonds everywhere)."""
    Value = mg.engine.Value
    rng = random.Random(seed)
    plan = [
        (rng.random() < 0.5, rng.randrange(leaves + i), rng.randrange(leaves + i))
        for i in range(n // 3)
    ]

    def run() -> None:
        nodes = [Value(rng.uniform(-1, 1)) for _ in range(leaves)]
        for is_mul, i, j in plan:  # three nodes each: op, scale, relu
            a, b = nodes[i], nodes[j]
            nodes.append(((a * b) if is_mul else (a + b) * 0.5).relu())
        nodes[-1].backward()

    return run


def bytes_per_node(mg: Any, n: int = 100_000) -> float:
    """Memory held by a chain of ``n`` nodes (x * c), per node, as tracemalloc counts it."""
    Value = mg.engine.Value
    x = Value(1.0)
    tracemalloc.start()
    start = tracemalloc.get_traced_memory()[0]
    y = x
    for _ in range(n // 2):
        y = y * 1.0  # two nodes: the constant and the product
    used = tracemalloc.get_traced_memory()[0] - start
    tracemalloc.stop()
    del y
    return used / n


WORKLOADS: dict[str, Callable[[Any], Callable[[], Any]]] = {
    "moons step": make_moons_step,
    "chain 10k": lambda mg: make_chain(mg, 10_000),
    "chain 1M": lambda mg: make_chain(mg, 1_000_000),
    "random graph 200k": make_random_graph,
}


def unsupported(mg: Any, workload: str) -> str | None:
    """Why ``mg`` cannot run ``workload`` (a short reason), or None when it can."""
    if hasattr(mg, "unsupported"):  # a peer's adapter says for itself
        reason: str | None = mg.unsupported.get(workload)
        return reason
    if workload == "chain 1M" and not hasattr(mg, "__version__"):
        return "0.1.0 sorts the graph recursively: a 1M-node chain overflows the stack"
    return None
