"""Compare micrograd versions side by side: ``nox -s compare -- REF [REF ...]``.

Each version runs in its own virtualenv and worker process: this checkout ("current"), every
git REF, ``upstream`` (micrograd 0.1.0 from the package index) and the plain-float ``floor``
(moons step only). All run the same workloads (benchmarks/workloads.py, from this checkout),
round by round, each round visiting every version in a new random order, so machine drift hits
all alike. Prints the median time of each, its spread (interquartile range / median) and its
ratio to current; writes a plot; exits 1 when current is slower than a git REF by more than
--threshold on any workload.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import workloads  # noqa: E402


def worker() -> None:
    """Serve timing requests on stdin/stdout for the micrograd importable here."""
    sys.setrecursionlimit(200_000)  # micrograd 0.1.0 sorts the graph recursively
    floor = len(sys.argv) > 2 and sys.argv[2] == "floor"
    mg = None
    if not floor:
        import micrograd
        import micrograd.engine
        import micrograd.nn

        mg = micrograd
    made = {}
    for line in sys.stdin:
        request = json.loads(line)
        name = request["workload"]
        if name == "bytes per node":
            reply = {"value": None if floor else workloads.bytes_per_node(mg)}
        elif (floor and name != "moons step") or (not floor and not workloads.supports(mg, name)):
            reply = {"value": None}
        else:
            if name not in made:
                made[name] = (
                    workloads.make_floor_moons_step() if floor else workloads.WORKLOADS[name](mg)
                )
                made[name]()  # warm up
            start = time.perf_counter()
            made[name]()
            reply = {"value": time.perf_counter() - start}
        print(json.dumps(reply), flush=True)


def environment(name: str, cache: Path) -> Path:
    """A virtualenv with the micrograd of ``name`` installed; returns its python."""
    env = cache / name.replace("/", "_")
    python = env / "bin" / "python"
    if name == "floor":
        return Path(sys.executable)
    venv.create(env, with_pip=True, clear=True)
    if name == "current":
        source = str(ROOT)
    elif name == "upstream":
        source = "micrograd==0.1.0"
    else:  # a git ref: its tree, exported
        tree = Path(tempfile.mkdtemp(prefix="micrograd-"))
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", name], capture_output=True, check=True
        )
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(tree, filter="data")
        source = str(tree)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-cache-dir", source], check=True
    )
    return python


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1]
    )
    parser.add_argument(
        "refs", nargs="*", metavar="REF", help="git refs to compare with this checkout"
    )
    parser.add_argument(
        "--rounds", type=int, default=15, help="samples per version and workload (default 15)"
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=0.10,
        help="allowed slowdown against a REF (default 0.10)",
    )
    parser.add_argument(
        "--workloads",
        nargs="+",
        default=[*workloads.WORKLOADS, "bytes per node"],
        choices=[*workloads.WORKLOADS, "bytes per node"],
        help="workloads to run (default: all)",
    )
    parser.add_argument("--no-upstream", action="store_true", help="leave out micrograd 0.1.0")
    parser.add_argument(
        "--plot",
        type=Path,
        default=ROOT / ".benchmarks" / "compare.png",
        help="where to write the plot",
    )
    args = parser.parse_args()

    versions = ["current", *args.refs, *([] if args.no_upstream else ["upstream"]), "floor"]
    cache = ROOT / ".benchmarks" / "venvs"
    cache.mkdir(parents=True, exist_ok=True)
    workers = {}
    for v in versions:
        python = environment(v, cache)
        cmd = [
            str(python),
            str(Path(__file__).resolve()),
            "--worker",
            *(["floor"] if v == "floor" else []),
        ]
        workers[v] = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=tempfile.gettempdir()
        )

    def ask(v: str, workload: str) -> float | None:
        workers[v].stdin.write(json.dumps({"workload": workload}) + "\n")
        workers[v].stdin.flush()
        return json.loads(workers[v].stdout.readline())["value"]

    samples: dict[str, dict[str, list[float]]] = {
        w: {v: [] for v in versions} for w in args.workloads
    }
    rng = random.Random(0)
    for w in args.workloads:
        rounds = 1 if w == "bytes per node" else args.rounds
        for _ in range(rounds):
            for v in rng.sample(versions, len(versions)):
                value = ask(v, w)
                if value is not None:
                    samples[w][v].append(value)
            print(".", end="", flush=True, file=sys.stderr)
    print(file=sys.stderr)
    for p in workers.values():
        p.stdin.close()
        p.wait()

    failed = report(samples, versions, args.refs, args.threshold)
    plot(samples, versions, args.plot)
    return 1 if failed else 0


def report(samples, versions, refs, threshold) -> list[str]:
    """Print the table; return the workloads where current regressed past ``threshold``."""
    print(f"{'workload':<16}" + "".join(f"{v:>26}" for v in versions))
    failed = []
    for w, by_version in samples.items():
        base = statistics.median(by_version["current"]) if by_version["current"] else None
        cells = []
        for v in versions:
            xs = by_version[v]
            if not xs:
                cells.append(f"{'n/a':>26}")
                continue
            med = statistics.median(xs)
            q = statistics.quantiles(xs, n=4) if len(xs) >= 4 else [med, med, med]
            unit = f"{med:9.0f} B" if w == "bytes per node" else f"{med * 1e3:9.2f} ms"
            ratio = f"x{med / base:6.2f}" if base else ""
            cells.append(f"{unit} ±{(q[2] - q[0]) / med * 100:3.0f}% {ratio:>7}")
            if v in refs and base and w != "bytes per node" and base > med * (1 + threshold):
                failed.append(w)
        print(f"{w:<16}" + "".join(f"{c:>26}" for c in cells))
    print("ratio = version / current (above 1: current is faster or smaller); ± = IQR / median")
    for w in failed:
        print(
            f"REGRESSION: current is slower than a baseline ref on {w!r} by more than {threshold:.0%}"
        )
    return failed


def plot(samples, versions, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [w for w in samples if samples[w]["current"]]
    fig, ax = plt.subplots(figsize=(2 + 1.6 * len(names), 4))
    width = 0.8 / len(versions)
    for k, v in enumerate(versions):
        ratios = [
            statistics.median(samples[w][v]) / statistics.median(samples[w]["current"])
            if samples[w][v]
            else 0
            for w in names
        ]
        ax.bar([i + k * width for i in range(len(names))], ratios, width, label=v)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(names))], names)
    ax.set_yscale("log")
    ax.axhline(1, color="black", linewidth=0.5)
    ax.set_ylabel("time (memory) / current")
    ax.legend()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, bbox_inches="tight")
    print(f"plot: {path}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker()
    else:
        sys.exit(main())
