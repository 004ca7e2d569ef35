"""Compare micrograd side by side with its past, its peers and two floors: ``nox -s compare``.

Versions: this checkout ("current"), every git REF given, micrograd 0.1.0 from the package
index, the peer engines PyTorch-scalar (torch==2.13.0, 0-d float64 tensors op by op) and
micrograd-cpp-engine (C++ core, built from source in Release mode; left out with a note when it
does not build), and the moons step by hand on plain floats: "floor" (straightforward) and
"sparse floor" (skipping every product that is provably zero). Each version runs in its own
virtualenv (under --venvs; pinned ones are reused) and worker process, on the same workloads
(micrograd/workloads.py, from this checkout; peers and floors in benchmarks/workloads.py).

Rounds are interleaved: each round runs every version once per workload, in a new random order,
so machine drift hits all alike. Each run is timed in CPU time (time.process_time: all threads
of the worker; robust to a loaded machine) and wall time. A ratio is the median over rounds of
the within-round ratio version / current (above 1: current is faster), with its interquartile
range as the spread (at least 5 rounds). The report lists which speed targets are met; the
exit status is 1 when current is slower than a git REF by more than --threshold (CPU time) on
any workload: in the median ratio, and in three rounds out of four when a spread is known.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import importlib.metadata
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import workloads  # noqa: E402

CURRENT, UPSTREAM = "current", "micrograd 0.1.0"
TORCH, CPP = "pytorch scalar", "micrograd-cpp-engine"
FLOOR, SPARSE_FLOOR = "floor", "sparse floor"
PAUSED = "current, gc paused"  # current's moons step inside gc.disable() / gc.enable()
MEMORY = "memory per node"
NAMES = [*workloads.WORKLOADS, MEMORY]
MIN_ROUNDS_FOR_SPREAD = 5  # an interquartile range from fewer samples says nothing
TORCH_SPEC = "torch==2.13.0"  # always pinned: an unpinned torch pulls a multi-GB CUDA build
CPP_SPEC = "micrograd-cpp-engine==0.1.1"
CPP_CONSTRAINT = "scikit-build-core<0.8"  # its build needs the scikit-build-core of its day
TARGETS = {"floor": 1.6, "memory": 160.0}  # moons step / floor at most; bytes per node at most


# The worker: one per version, answering timing requests on stdin/stdout.


def worker(kind: str) -> None:
    """Serve requests for one version: kind is "micrograd", a peer's name or a floor's name."""
    sys.setrecursionlimit(200_000)  # micrograd 0.1.0 sorts the graph recursively
    if kind == "micrograd":
        import micrograd
        import micrograd.engine
        import micrograd.nn

        mg = micrograd
    elif kind in workloads.PEERS:
        mg = workloads.peer(kind)
    else:
        mg = None
    collecting = [0.0, 0.0]  # CPU time in the collector; start of the current collection

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            collecting[1] = time.process_time()
        else:
            collecting[0] += time.process_time() - collecting[1]

    gc.callbacks.append(on_gc)
    made = {}
    for line in sys.stdin:
        request = json.loads(line)
        name, paused = request["workload"], request.get("gc paused", False)
        if mg is None:  # a floor: the moons step only
            reason = None if name == "moons step" else "plain-float floor of the moons step only"
        else:
            reason = workloads.unsupported(mg, name)
        if reason:
            reply = {"skip": reason}
        elif name == MEMORY:
            reply = {"value": workloads.bytes_per_node(mg)}
        else:
            if name not in made:
                made[name] = (
                    workloads.FLOORS[kind]() if mg is None else workloads.WORKLOADS[name](mg)
                )
                made[name]()  # warm up
            run = made[name]
            was_enabled = gc.isenabled()
            if paused:
                gc.disable()
            collecting[0] = 0.0
            wall, cpu = time.perf_counter(), time.process_time()
            run()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            if was_enabled:
                gc.enable()
            reply = {"cpu": cpu, "wall": wall, "gc": collecting[0]}
        print(json.dumps(reply), flush=True)


# Virtualenvs, with progress.


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_with_progress(
    cmd: list[str], what: str, short: str, env: dict[str, str] | None = None
) -> None:
    """Run ``cmd``, saying every 15 s that ``short`` is still going; raise with pip's last lines."""
    start = time.monotonic()
    done = threading.Event()

    def heartbeat() -> None:
        while not done.wait(15):
            say(f"  ... {short}: still installing, {time.monotonic() - start:.0f} s")

    threading.Thread(target=heartbeat, daemon=True).start()
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    finally:
        done.set()
    if result.returncode:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise RuntimeError(f"{what} failed:\n{tail}")
    say(f"  {short}: installed in {time.monotonic() - start:.0f} s")


def _has(requirement: str) -> bool:
    """Whether this interpreter has exactly ``name==version`` installed."""
    name, want = requirement.split("==")
    try:
        return importlib.metadata.version(name) == want
    except importlib.metadata.PackageNotFoundError:
        return False


def environment(version: str, venvs: Path) -> Path:
    """A virtualenv with ``version`` installed; returns its python. Pinned versions (0.1.0 and
    the peers) are reused when already installed; current and git refs are always reinstalled."""
    if version in (FLOOR, SPARSE_FLOOR):
        return Path(sys.executable)
    if version == TORCH and _has(TORCH_SPEC):  # nox's shared virtualenv: one PyTorch install
        say(f"{version}: using this interpreter's {TORCH_SPEC} ({sys.executable})")
        return Path(sys.executable)
    env = venvs / version.replace("/", "_").replace(" ", "_")
    python = env / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check"]
    if version == UPSTREAM:
        spec: list[str] = ["micrograd==0.1.0"]
    elif version == TORCH:
        spec = [TORCH_SPEC]
    elif version == CPP:
        spec = [CPP_SPEC, "--config-settings=cmake.build-type=Release"]
    else:
        spec = []
    stamp = env / "compare-installed.txt"
    if spec and stamp.exists() and stamp.read_text() == " ".join(spec):
        say(f"{version}: reusing {env}")
        return python
    if not python.exists() or spec:
        say(f"{version}: creating a virtualenv in {env}")
        venv.create(env, with_pip=True, clear=True)
    if version == CURRENT:
        spec = ["--force-reinstall", "--no-deps", str(ROOT)]
    elif not spec:  # a git ref: its tree, exported
        tree = Path(tempfile.mkdtemp(prefix="micrograd-"))
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", version], capture_output=True, check=True
        )
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(tree, filter="data")
        spec = ["--force-reinstall", "--no-deps", str(tree)]
    env_vars = None
    what = f"{version}: pip install {' '.join(s for s in spec if not s.startswith('-'))}"
    if version == CPP:
        constraints = env / "constraints.txt"
        constraints.write_text(CPP_CONSTRAINT + "\n")
        env_vars = {**os.environ, "PIP_CONSTRAINT": str(constraints)}
        what += f" (C++ build, Release, {CPP_CONSTRAINT}; a few minutes)"
    say(what)
    run_with_progress([*pip, *spec], what, version, env_vars)
    if version in (UPSTREAM, TORCH, CPP):
        stamp.write_text(" ".join(spec))
    return python


def peer_environment(v: str, args: argparse.Namespace, notes: dict[str, str]) -> Path | None:
    """A peer's virtualenv, or None with a note saying why it could not be built."""
    try:
        return environment(v, args.venvs)
    except (RuntimeError, subprocess.CalledProcessError, OSError) as e:
        notes[v] = "not built: " + " / ".join(str(e).splitlines()[-3:])
        say(f"{v}: left out: {e}")
        return None


class Worker:
    """A version's worker process; restarted after a crash."""

    def __init__(self, version: str, python: Path):
        self.version = version
        kind = version if version in (FLOOR, SPARSE_FLOOR, TORCH, CPP) else "micrograd"
        self.cmd = [str(python), str(Path(__file__).resolve()), "--worker", kind]
        self.process: subprocess.Popen[str] | None = None
        self.crashed: dict[str, str] = {}

    def ask(self, workload: str, paused: bool = False) -> dict:
        if workload in self.crashed:
            return {"skip": self.crashed[workload]}
        if self.process is None or self.process.poll() is not None:
            self.process = subprocess.Popen(
                self.cmd,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                cwd=tempfile.gettempdir(),  # never import this checkout's micrograd by accident
            )
        assert self.process.stdin
        assert self.process.stdout
        try:
            self.process.stdin.write(json.dumps({"workload": workload, "gc paused": paused}) + "\n")
            self.process.stdin.flush()
            line = self.process.stdout.readline()
        except BrokenPipeError:
            line = ""
        if line:
            return json.loads(line)
        code = self.process.wait()
        self.crashed[workload] = f"the worker crashed (exit status {code})"
        say(f"{self.version} on {workload}: {self.crashed[workload]}")
        return {"skip": self.crashed[workload]}

    def close(self) -> None:
        if self.process and self.process.poll() is None:
            assert self.process.stdin
            self.process.stdin.close()
            self.process.wait()


# Measuring and reporting.


def main() -> int:
    doc = __doc__ or ""
    parser = argparse.ArgumentParser(
        description=doc.split("\n\n")[0],
        epilog=doc.split("\n\n", 1)[1]
        + "\nworkloads:\n"
        + "".join(f"  {k}: {v}\n" for k, v in workloads.WORKLOAD_NAMES.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "refs", nargs="*", metavar="REF", help="git refs to compare with this checkout"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=7,
        help=f"rounds per workload (default 7; at least {MIN_ROUNDS_FOR_SPREAD} for a spread)",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=0.10,
        help="allowed slowdown against a REF, CPU time (default 0.10)",
    )
    parser.add_argument(
        "--workloads",
        nargs="+",
        default=NAMES,
        choices=NAMES,
        metavar="NAME",
        help="workloads to run (default: all; quote names with spaces)",
    )
    parser.add_argument("--no-upstream", action="store_true", help="leave out micrograd 0.1.0")
    parser.add_argument(
        "--no-peers", action="store_true", help="leave out PyTorch and micrograd-cpp-engine"
    )
    parser.add_argument(
        "--venvs",
        type=Path,
        default=ROOT / ".benchmarks" / "venvs",
        help="where the virtualenvs live (default .benchmarks/venvs); pinned ones are reused",
    )
    parser.add_argument(
        "--plot",
        type=Path,
        default=ROOT / ".benchmarks" / "compare.png",
        help="where to write the plot (default .benchmarks/compare.png)",
    )
    parser.add_argument(
        "--markdown",
        action="store_true",
        help="also print the speed page's table (Markdown, docs/speed.md)",
    )
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")

    peers = [] if args.no_peers else [TORCH, CPP]
    versions = [CURRENT, *args.refs, *([] if args.no_upstream else [UPSTREAM]), *peers]
    args.venvs.mkdir(parents=True, exist_ok=True)
    notes: dict[str, str] = {}
    workers: dict[str, Worker] = {}
    for v in versions:
        python = environment(v, args.venvs) if v not in peers else peer_environment(v, args, notes)
        if python:
            workers[v] = Worker(v, python)
    if "moons step" in args.workloads:  # the floors and the paused collector: moons step only
        for floor in (FLOOR, SPARSE_FLOOR):
            workers[floor] = Worker(floor, environment(floor, args.venvs))
        workers[PAUSED] = workers[CURRENT]
    columns = [v for v in [*versions, FLOOR, SPARSE_FLOOR, PAUSED] if v in workers]

    samples = measure(workers, columns, args.workloads, args.rounds)
    for w in workers.values():
        w.close()
    started = datetime.date.today().isoformat()
    failed = report(samples, columns, args.refs, args.threshold, args.rounds, notes)
    if args.markdown:
        print()
        print(markdown(samples, columns, notes, " ".join(sys.argv[1:]), started))
    plot(samples, columns, args.plot)
    return 1 if failed else 0


Sample = dict  # a worker's reply: {"cpu", "wall", "gc"} or {"value"} or {"skip"}


def measure(
    workers: dict[str, Worker], columns: list[str], names: list[str], rounds: int
) -> dict[str, list[dict[str, Sample]]]:
    """samples[workload][round][version], rounds interleaved, each in a new random order."""
    rng = random.Random(0)
    samples: dict[str, list[dict[str, Sample]]] = {}
    for w in names:
        n = 1 if w == MEMORY else rounds
        samples[w] = []
        say(f"{w}: {n} round{'s' * (n > 1)} of {len(columns)} versions")
        start = time.monotonic()
        for r in range(n):
            row: dict[str, Sample] = {}
            for v in rng.sample(columns, len(columns)):
                if v == PAUSED and w != "moons step":
                    continue
                row[v] = workers[v].ask(w, paused=v == PAUSED)
            samples[w].append(row)
            say(f"  round {r + 1}/{n} ({time.monotonic() - start:.0f} s)")
    return samples


def ratios(rows: list[dict[str, Sample]], v: str, key: str) -> list[float]:
    """Within-round ratios version / current, over the rounds where both ran."""
    return [
        row[v][key] / row[CURRENT][key]
        for row in rows
        if key in row.get(v, {}) and key in row.get(CURRENT, {}) and row[CURRENT][key] > 0
    ]


def spread(xs: list[float]) -> tuple[float, float] | None:
    """The interquartile range of ``xs``, or None with too few samples to estimate one."""
    if len(xs) < MIN_ROUNDS_FOR_SPREAD:
        return None
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return q[0], q[2]


def fmt_ratio(xs: list[float]) -> str:
    if not xs:
        return "-"
    s = spread(xs)
    med = statistics.median(xs)
    iqr = f"[{s[0]:.2f}-{s[1]:.2f}]" if s else "[n/a]"
    return f"{med:.2f}x {iqr}"


def skipped(rows: list[dict[str, Sample]], v: str) -> str | None:
    for row in rows:
        if "skip" in row.get(v, {}):
            return row[v]["skip"]
    return None


def report(samples, columns, refs, threshold, rounds, notes) -> list[str]:
    """Print the tables and the targets; return the workloads where current regressed."""
    print()
    print(
        "ratio = version / current, median over rounds of the within-round ratio, "
        "[interquartile range]; above 1: current is faster (or smaller)"
    )
    if rounds < MIN_ROUNDS_FOR_SPREAD:
        print(
            f"spread n/a: an interquartile range needs at least {MIN_ROUNDS_FOR_SPREAD} rounds "
            f"(--rounds {MIN_ROUNDS_FOR_SPREAD}); this run had {rounds}"
        )
    failed = []
    for w, rows in samples.items():
        print()
        if w == MEMORY:
            print(f"{w} (tracemalloc)")
            print(f"  {'version':<22}{'bytes':>10}  ratio")
            base = rows[0].get(CURRENT, {}).get("value")
            for v in columns:
                if v not in rows[0]:
                    continue
                s = rows[0][v]
                if "value" in s:
                    r = f"{s['value'] / base:.2f}x" if base else "-"
                    print(f"  {v:<22}{s['value']:>10.0f}  {r}")
                else:
                    print(f"  {v:<22}{'-':>10}  {s.get('skip', '')}")
            continue
        print(f"{w} ({len(rows)} rounds)")
        print(
            f"  {'version':<22}{'CPU ms':>10}{'wall ms':>10}  {'ratio, CPU':<22}"
            f"{'ratio, wall':<22}gc share"
        )
        for v in columns:
            if not any(v in row for row in rows):
                continue
            why = skipped(rows, v)
            if why:
                print(f"  {v:<22}{'-':>10}{'-':>10}  {why}")
                continue
            cpu = statistics.median(row[v]["cpu"] for row in rows if "cpu" in row[v])
            wall = statistics.median(row[v]["wall"] for row in rows if "wall" in row[v])
            share = statistics.median(row[v]["gc"] / row[v]["cpu"] for row in rows if row[v]["cpu"])
            print(
                f"  {v:<22}{cpu * 1e3:>10.2f}{wall * 1e3:>10.2f}  "
                f"{fmt_ratio(ratios(rows, v, 'cpu')):<22}{fmt_ratio(ratios(rows, v, 'wall')):<22}"
                f"{share:.0%}"
            )
            r = ratios(rows, v, "cpu")
            if v in refs and r and regressed(r, threshold):
                failed.append(w)
    for v, note in notes.items():
        print(f"\n{v}: {note}")
    print()
    targets(samples, notes)
    for w in failed:
        print(
            f"REGRESSION: current is slower than a REF on {w!r} by more than {threshold:.0%} "
            "(CPU time)"
        )
    return failed


def regressed(r: list[float], threshold: float) -> bool:
    """Whether current is slower than a REF (r: REF / current per round) by more than
    ``threshold``: in the median, and, when a spread is known, in three rounds out of four."""
    s = spread(r)
    return statistics.median(r) < 1 / (1 + threshold) and (s is None or s[1] < 1)


def median_ratio(samples, w: str, v: str) -> float | None:
    rows = samples.get(w)
    r = ratios(rows, v, "cpu") if rows else []
    return statistics.median(r) if r else None


def targets(samples, notes) -> None:
    """Print each speed and memory target with its measurement: met, NOT MET or not measured."""
    print("Targets (CPU time):")

    def line(status: str, text: str) -> None:
        print(f"  {status:<14}{text}")

    r = median_ratio(samples, "moons step", FLOOR)
    if r is None:
        line("not measured", "moons step at most 1.6x the plain-float floor")
    else:
        ok = 1 / r <= TARGETS["floor"]
        line("met" if ok else "NOT MET", f"moons step at most 1.6x the floor: {1 / r:.2f}x")
    r = median_ratio(samples, "moons step", SPARSE_FLOOR)
    if r is not None:
        line("(reported)", f"moons step vs the sparse floor: {1 / r:.2f}x")
    r = median_ratio(samples, "moons step", PAUSED)
    if r is not None:
        line("(reported)", f"moons step with the collector paused: {r:.2f}x the time")
    for peer in (TORCH, CPP):
        text = f"faster than {peer} on every workload"
        if peer in notes:
            line("not measured", f"{text}: {notes[peer]}")
            continue
        got = []
        for w in workloads.WORKLOADS:
            if w not in samples:
                continue
            why = skipped(samples[w], peer)
            r = median_ratio(samples, w, peer)
            got.append((w, r, why))
        if not got:
            line("not measured", text)
            continue
        measured = [(w, r) for w, r, _ in got if r is not None]
        ok = measured and all(r > 1 for _, r in measured)
        detail = ", ".join(f"{w} {r:.2f}x" if r is not None else f"{w} -" for w, r, _ in got)
        status = "met" if ok else "NOT MET"
        if ok and len(measured) < len(workloads.WORKLOADS):
            status = "met where run"
        line(status, f"{text}: {detail}")
    mem = samples.get(MEMORY)
    value = mem[0].get(CURRENT, {}).get("value") if mem else None
    if value is None:
        line("not measured", "memory per node at most 160 B")
    else:
        ok = value <= TARGETS["memory"]
        line("met" if ok else "NOT MET", f"memory per node at most 160 B: {value:.0f} B")


def markdown(samples, columns, notes, command: str, date: str) -> str:
    """The speed page's table: one row per workload, CPU time and ratio [spread] per version."""
    cols = [v for v in columns if v != PAUSED]
    out = [
        f"`nox -s compare -- {command}` ({date}); CPU time, ratio to this checkout "
        "(median of within-round ratios, [interquartile range]):",
        "",
        "| workload | " + " | ".join("this checkout" if v == CURRENT else v for v in cols) + " |",
        "|---" * (len(cols) + 1) + "|",
    ]
    for w, rows in samples.items():
        cells = []
        for v in cols:
            if w == MEMORY:
                s = rows[0].get(v, {})
                base = rows[0].get(CURRENT, {}).get("value")
                if "value" not in s:
                    cells.append("-")
                elif v == CURRENT:
                    cells.append(f"{s['value']:.0f} B")
                else:
                    cells.append(f"{s['value']:.0f} B ({s['value'] / base:.1f}x)")
                continue
            if skipped(rows, v) or not any("cpu" in row.get(v, {}) for row in rows):
                cells.append("-")
                continue
            cpu = statistics.median(row[v]["cpu"] for row in rows if "cpu" in row.get(v, {}))
            t = seconds(cpu)
            cells.append(t if v == CURRENT else f"{t} ({fmt_ratio(ratios(rows, v, 'cpu'))})")
        out.append(f"| {w} | " + " | ".join(cells) + " |")
    for v, note in notes.items():
        out.append(f"\n{v}: {note}")
    return "\n".join(out)


def seconds(t: float) -> str:
    """A duration with three significant digits or so: 6.73 ms, 233 ms, 1.44 s."""
    ms = t * 1e3
    return f"{ms:.2f} ms" if ms < 10 else f"{ms:.0f} ms" if ms < 1000 else f"{t:.2f} s"


def plot(samples, columns, path: Path) -> None:
    """Bars: median CPU-time ratio to current per workload and version, IQR as error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [w for w in samples if w != MEMORY]
    fig, ax = plt.subplots(figsize=(2 + 2 * len(names), 4.5))
    width = 0.8 / len(columns)
    for k, v in enumerate(columns):
        meds, lo, hi, xs = [], [], [], []
        for i, w in enumerate(names):
            r = ratios(samples[w], v, "cpu")
            if not r:
                continue
            m = statistics.median(r)
            s = spread(r) or (m, m)
            xs.append(i + k * width)
            meds.append(m)
            lo.append(m - s[0])
            hi.append(s[1] - m)
        if xs:
            ax.bar(xs, meds, width, yerr=[lo, hi], label=v)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(names))], names)
    ax.set_yscale("log")
    ax.axhline(1, color="black", linewidth=0.5)
    ax.set_ylabel("CPU time / current's (log scale)")
    ax.set_title("above 1: current is faster")
    ax.legend(fontsize="small")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, bbox_inches="tight")
    print(f"plot: {path}")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        worker(sys.argv[2])
    else:
        sys.exit(main())
