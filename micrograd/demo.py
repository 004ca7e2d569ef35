"""python -m micrograd.demo: train MLP(2, [16, 16, 1]) on the moons, as the original demo does.

Needs the ``demo`` extra. Max-margin loss + L2, SGD with a decaying learning rate, a progress
bar; writes the decision boundary (and, with --graph, one neuron's graph) as pictures.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Literal

from . import nn
from .engine import Value


def train(
    steps: int = 100, seed: int = 1, alpha: float = 1e-4, progress: bool = True
) -> tuple[nn.MLP, list[list[float]], list[float], list[tuple[float, float]]]:
    """Train on 100 moons points (noise 0.1, ``seed``); return the model, the data and
    the (loss, accuracy) of every step."""
    from sklearn.datasets import make_moons
    from tqdm import trange

    X, y01 = make_moons(n_samples=100, noise=0.1, random_state=seed)
    data, labels = X.tolist(), [2.0 * v - 1.0 for v in y01]
    model = nn.MLP(2, [16, 16, 1], seed=seed)
    opt = nn.SGD(model.parameters())
    history = []
    bar = trange(steps, disable=not progress, desc="training")
    for k in bar:
        scores = [_score(model, [a, b]) for a, b in data]
        loss = nn.max_margin_loss(scores, labels) + nn.l2(model.parameters(), alpha)
        right = sum((s.data > 0) == (t > 0) for s, t in zip(scores, labels, strict=True))
        accuracy = right / len(labels)
        opt.zero_grad()
        loss.backward()
        opt.lr = 1.0 - 0.9 * k / steps  # the original demo's schedule
        opt.step()
        history.append((loss.data, accuracy))
        bar.set_postfix(loss=f"{loss.data:.4f}", accuracy=f"{accuracy:.0%}")
    return model, data, labels, history


def _score(model: nn.MLP, point: list[float]) -> Value:
    out = model([Value(x) for x in point])
    assert isinstance(out, Value), "the demo's model has one output"
    return out


def plot_boundary(model: nn.MLP, data: list[list[float]], labels: list[float], path: Path) -> None:
    """The decision boundary over the data, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [p[0] for p in data]
    ys = [p[1] for p in data]
    n = 60
    x0, x1, y0, y1 = min(xs) - 0.5, max(xs) + 0.5, min(ys) - 0.5, max(ys) + 0.5
    gx = [x0 + (x1 - x0) * i / (n - 1) for i in range(n)]
    gy = [y0 + (y1 - y0) * j / (n - 1) for j in range(n)]
    z = [[1.0 if _score(model, [a, b]).data > 0 else 0.0 for a in gx] for b in gy]
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.contourf(gx, gy, z, levels=[-0.5, 0.5, 1.5], cmap="Spectral", alpha=0.8)
    ax.scatter(xs, ys, c=labels, cmap="Spectral", edgecolors="black", s=30)
    ax.set_title("micrograd MLP(2, [16, 16, 1]) on the moons")
    fig.savefig(path, bbox_inches="tight", dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m micrograd.demo", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--steps", type=int, default=100, help="SGD steps (default 100)")
    parser.add_argument(
        "--seed", type=int, default=1, help="seed of the data and the weights (default 1)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("moons.png"),
        help="decision boundary PNG (default moons.png)",
    )
    parser.add_argument(
        "--graph",
        type=Path,
        default=None,
        help="also draw one neuron's graph to this file (.svg or .png)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    model, data, labels, history = train(args.steps, args.seed, progress=not args.quiet)
    loss, accuracy = history[-1]
    print(f"final loss {loss:.4f}, training accuracy {accuracy:.0%}")
    plot_boundary(model, data, labels, args.out)
    print(f"decision boundary: {args.out}")
    if args.graph is not None:
        from .viz import draw_dot

        neuron = model.layers[0].neurons[0]
        fmt: Literal["svg", "png"] = "png" if args.graph.suffix == ".png" else "svg"
        dot = draw_dot(neuron([Value(a) for a in data[0]]), format=fmt)
        args.graph.write_bytes(dot.pipe())
        print(f"graph of one neuron: {args.graph}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
