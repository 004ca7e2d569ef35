"""python -m micrograd.demo: train MLP(2, [16, 16, 1]) on the moons, as the original demo does.

Needs the ``demo`` extra (``pip install -e '.[demo]'`` in a clone). Max-margin loss + L2, SGD with a
decaying learning rate, a progress bar; writes the decision boundary and the training curves
(and, with --graph, one neuron's graph) under an output directory.
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import sys
from pathlib import Path
from typing import Any, Literal

from . import nn
from .engine import Value
from .extras import install

# The demo's third-party modules, each with the package that provides it.
NEEDS = {"sklearn": "scikit-learn", "matplotlib": "matplotlib", "tqdm": "tqdm"}
GRAPH_NEEDS = {"graphviz": "graphviz"}
INSTALL = install("demo")

# One colour per class, for the points and (lighter) for the region the model gives that class.
COLOURS = {-1.0: "#2c7bb6", 1.0: "#d7191c"}


def train(
    steps: int = 100, seed: int = 1, alpha: float = 1e-4, progress: bool = True
) -> tuple[nn.MLP, list[list[float]], list[float], list[tuple[float, float]]]:
    """Train on 100 moons points (noise 0.1, ``seed``); return the model, the data, the labels
    (-1 or +1) and the (loss, training accuracy) of every step, measured before its update."""
    from sklearn.datasets import make_moons
    from tqdm import trange

    X, y01 = make_moons(n_samples=100, noise=0.1, random_state=seed)
    data, labels = X.tolist(), [2.0 * v - 1.0 for v in y01]
    model = nn.MLP(2, [16, 16, 1], seed=seed)
    opt = nn.SGD(model.parameters())
    history = []
    bar = trange(steps, disable=not progress, desc="training", unit="step")
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


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_boundary(
    model: nn.MLP,
    data: list[list[float]],
    labels: list[float],
    path: Path,
    progress: bool = False,
) -> None:
    """The data over the regions the model gives each class, and the boundary, as a PNG."""
    from tqdm import tqdm

    plt = _pyplot()
    from matplotlib.colors import ListedColormap
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    xs, ys = [p[0] for p in data], [p[1] for p in data]
    n = 100
    x0, x1, y0, y1 = min(xs) - 0.5, max(xs) + 0.5, min(ys) - 0.5, max(ys) + 0.5
    gx = [x0 + (x1 - x0) * i / (n - 1) for i in range(n)]
    gy = [y0 + (y1 - y0) * j / (n - 1) for j in range(n)]
    rows = tqdm(gy, disable=not progress, desc="decision boundary", unit="row", leave=False)
    z = [[_score(model, [a, b]).data for a in gx] for b in rows]
    big = max(abs(s) for row in z for s in row) + 1.0
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    regions = ListedColormap([COLOURS[-1.0], COLOURS[1.0]])
    ax.contourf(gx, gy, z, levels=[-big, 0.0, big], cmap=regions, alpha=0.25)
    ax.contour(gx, gy, z, levels=[0.0], colors="black", linewidths=1.2)
    for cls in (-1.0, 1.0):
        pts = [p for p, t in zip(data, labels, strict=True) if t == cls]
        ax.scatter(
            [p[0] for p in pts],
            [p[1] for p in pts],
            color=COLOURS[cls],
            edgecolors="black",
            linewidths=0.5,
            s=30,
        )
    accuracy = sum(
        (_score(model, p).data > 0) == (t > 0) for p, t in zip(data, labels, strict=True)
    )
    handles = [
        Line2D([], [], ls="", marker="o", color=COLOURS[c], mec="black", label=f"class {c:+.0f}")
        for c in (-1.0, 1.0)
    ] + [Patch(color=COLOURS[c], alpha=0.25, label=f"predicted {c:+.0f}") for c in (-1.0, 1.0)]
    handles.append(Line2D([], [], color="black", lw=1.2, label="boundary (score 0)"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_title(
        f"MLP(2, [16, 16, 1]) on {len(data)} moons points: "
        f"{accuracy / len(data):.0%} training accuracy",
        fontsize=10,
    )
    fig.savefig(path, bbox_inches="tight", dpi=100)
    plt.close(fig)


def plot_training(history: list[tuple[float, float]], path: Path) -> None:
    """The loss and the training accuracy at every step, side by side, as a PNG."""
    plt = _pyplot()
    steps = range(1, len(history) + 1)
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4))
    left.plot(steps, [loss for loss, _ in history], color="black")
    left.set_yscale("log")
    left.set_title("loss (max-margin + L2)", fontsize=10)
    left.set_ylabel("loss (log scale)")
    accuracy = [100 * acc for _, acc in history]
    right.plot(steps, accuracy, color="#1a9641")
    right.set_ylim(max(0, min(accuracy) - 5), 101)
    right.set_title("training accuracy", fontsize=10)
    right.set_ylabel("accuracy (%)")
    for ax in (left, right):
        ax.set_xlabel("SGD step")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def draw_neuron(
    model: nn.MLP, data: list[list[float]], fmt: Literal["svg", "png"]
) -> tuple[bytes, str]:
    """One neuron of the first layer on one training point, after its own forward and backward
    (the neuron's grads zeroed first, so each grad is d out / d node for that point alone);
    return the drawing and its caption. The neuron and point are the first where its ReLU is
    active (elsewhere every grad is 0)."""
    from .viz import draw_dot

    layer = model.layers[0]
    (i, neuron), (k, point) = next(
        ((i, n), (k, p))
        for k, p in enumerate(data)
        for i, n in enumerate(layer.neurons)
        if n([*p]).data > 0
    )
    for j, w in enumerate(neuron.w, 1):
        w.label = f"w{j}"
    neuron.b.label = "b"
    xs = (*[Value(x, label=f"x{j}") for j, x in enumerate(point, 1)], Value(1.0, label="1"))
    out = neuron.forward(xs, [v.data for v in xs])
    out.label = "out"
    neuron.zero_grad()
    out.backward()
    lines = [
        f"neuron {i + 1} of layer 1 after training, on training point {k + 1} "
        f"(x1 = {point[0]:.3f}, x2 = {point[1]:.3f})",
        f"out = {neuron.activation}(w1 x1 + w2 x2 + b): one node, the activation of the dot "
        "product of the weights w1, w2 and the bias b with the inputs x1, x2 and the constant 1",
        "grad = d out / d node for this point alone (the neuron's grads zeroed before its backward)",
    ]
    dot = draw_dot(out, format=fmt)
    dot.attr(label="\\n".join(lines), labelloc="t", fontsize="12")
    return dot.pipe(), lines[0]


def missing(modules: dict[str, str]) -> list[str]:
    """The packages, among ``modules`` (module name -> package name), that cannot be imported."""
    return [package for module, package in modules.items() if not _importable(module)]


def _importable(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m micrograd.demo",
        description="Train MLP(2, [16, 16, 1]) on the moons, as the original demo does.",
        epilog=f"Needs the demo extra: {INSTALL}. Writes OUT_DIR/moons.png (the decision "
        "boundary) and OUT_DIR/training.png (loss and accuracy per step).",
    )
    parser.add_argument("--steps", type=_positive, default=100, help="SGD steps (default 100)")
    parser.add_argument(
        "--seed", type=int, default=1, help="seed of the data and the weights (default 1)"
    )
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=Path("demo-output"),
        help="directory for the pictures, created if missing (default demo-output)",
    )
    parser.add_argument(
        "--graph",
        nargs="?",
        const="neuron.svg",
        default=None,
        metavar="FILE",
        help="also draw one trained neuron's graph on one training point, with that point's "
        "grads, to FILE (.svg or .png; default neuron.svg), inside OUT_DIR unless absolute; "
        "needs Graphviz's dot program",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be a positive int, got {text!r}")
    return n


def main(argv: list[str] | None = None) -> int:
    """Run the demo; return the exit status (1 when a dependency is missing)."""
    parser = _parser()
    args = parser.parse_args(argv)
    graph = None if args.graph is None else args.out_dir / args.graph
    if graph is not None and graph.suffix not in (".svg", ".png"):
        parser.error(f"--graph FILE must end in .svg or .png, got {args.graph!r}")
    absent = missing({**NEEDS, **(GRAPH_NEEDS if graph is not None else {})})
    if absent:
        print(
            f"python -m micrograd.demo needs {', '.join(absent)}, which "
            f"{'is' if len(absent) == 1 else 'are'} not installed: {INSTALL}",
            file=sys.stderr,
        )
        return 1
    if graph is not None and shutil.which("dot") is None:
        print(
            "--graph needs Graphviz's dot program, which is not on PATH "
            "(Debian: apt-get install graphviz; others: https://graphviz.org/download/)",
            file=sys.stderr,
        )
        return 1
    model, data, labels, history = train(args.steps, args.seed, progress=not args.quiet)
    loss, accuracy = history[-1]
    print(f"last step: loss {loss:.4f}, training accuracy {accuracy:.0%}")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    boundary, curves = args.out_dir / "moons.png", args.out_dir / "training.png"
    plot_boundary(model, data, labels, boundary, progress=not args.quiet)
    print(f"decision boundary: {boundary}")
    plot_training(history, curves)
    print(f"training curves: {curves}")
    if graph is not None:
        fmt: Literal["svg", "png"] = "png" if graph.suffix == ".png" else "svg"
        picture, caption = draw_neuron(model, data, fmt)
        graph.parent.mkdir(parents=True, exist_ok=True)
        graph.write_bytes(picture)
        print(f"graph of {caption.split(' (')[0]}: {graph}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
