"""Compare micrograd with its past, its peers and two floors: ``nox -s compare -- [REF ...]``.

The verdict comes from exact counts: this checkout ("current") and every git REF given are
counted under valgrind's callgrind (benchmarks/counts.py: instructions and estimated cycles of
one run of each workload alone, for moons step, chain 10k and random graph 200k; the 1M chain
and the memory are measured by the timed rounds only; the same code counts the same within
0.001%). The exit status
is 1 when current does more than --threshold (default 1%) more instructions than a REF on any
workload (--gate cycles: estimated cycles). Without valgrind, or with --gate time, CPU time
decides instead (default threshold 10%: in the median ratio, and in three rounds out of four
when a spread is known), and the output says so.

Beside the counts, the versions are timed, as information: current, the REFs (each run from
its exported tree), micrograd 0.1.0 from the package index, the peer engines PyTorch-scalar
(torch==2.13.0, 0-d float64 tensors op by op) and micrograd-cpp-engine (C++ core, built from
source in Release mode; left out with a note when it does not build), and the moons step by
hand on plain floats: "floor" (straightforward) and "sparse floor" (skipping every product that
is provably zero). 0.1.0 and the peers run in virtualenvs of their own (under --venvs, made once),
each version in its own worker process (benchmarks/timer.py), on the same workloads
(micrograd/workloads.py, from this checkout; peers and floors in benchmarks/workloads.py).
Rounds are interleaved: each round runs every version once per workload, in a new random order,
so machine drift hits all alike. Each run is timed in CPU time (time.process_time) and wall
time. A ratio is the median over rounds of the within-round ratio version / current (above 1:
current is faster), with its interquartile range as the spread (at least 5 rounds). The report
lists which speed targets are met, not met, or not measured.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import counts  # noqa: E402
import verdict  # noqa: E402
import workloads  # noqa: E402

from micrograd import runner  # noqa: E402

CURRENT, UPSTREAM = "current", "micrograd 0.1.0"
TORCH, CPP = "pytorch scalar", "micrograd-cpp-engine"
FLOOR, SPARSE_FLOOR = "floor", "sparse floor"
PAUSED = "current, gc paused"  # current's moons step inside gc.disable() / gc.enable()
MEMORY = "memory per node"
NAMES = [*workloads.WORKLOADS, MEMORY]
MIN_ROUNDS_FOR_SPREAD = verdict.MIN_ROUNDS_FOR_SPREAD
TREES = ROOT / ".benchmarks" / "trees"  # git refs' exported trees, one per commit
RUN_TIMEOUT = 600.0  # seconds one timed run may take before its worker is killed
TORCH_SPEC = "torch==2.13.0"  # always pinned: an unpinned torch pulls a multi-GB CUDA build
CPP_SPEC = "micrograd-cpp-engine==0.1.1"
CPP_CONSTRAINT = "scikit-build-core<0.8"  # its build needs the scikit-build-core of its day
TARGETS = {"floor": 1.6, "memory": 160.0}  # moons step / floor at most; bytes per node at most


# Versions: a tree to import from, or a virtualenv.


say = runner.say


def tree(version: str) -> Path:
    """Where current or a git ref's micrograd is imported from (a ref: its exported tree)."""
    return ROOT if version == CURRENT else runner.export(ROOT, version, TREES)


def environment(version: str, venvs: Path) -> Path:
    """The python that runs ``version``: this one for current, the git refs and the floors
    (a ref runs from its exported tree); a virtualenv for 0.1.0 and the peers, made once."""
    if version not in (UPSTREAM, TORCH, CPP):
        return Path(sys.executable)
    if version == TORCH and _has(TORCH_SPEC):  # nox's shared virtualenv: one PyTorch install
        say(f"{version}: using this interpreter's {TORCH_SPEC} ({sys.executable})")
        return Path(sys.executable)
    env = venvs / version.replace("/", "_").replace(" ", "_")
    spec = {
        UPSTREAM: ["micrograd==0.1.0"],
        TORCH: [TORCH_SPEC],
        CPP: [CPP_SPEC, "--config-settings=cmake.build-type=Release"],
    }[version]
    env_vars = None
    if version == CPP:
        env.mkdir(parents=True, exist_ok=True)
        constraints = venvs / "cpp-constraints.txt"
        constraints.write_text(CPP_CONSTRAINT + "\n")
        env_vars = {**os.environ, "PIP_CONSTRAINT": str(constraints)}
        say(f"{version}: a C++ build, Release, {CPP_CONSTRAINT}; a few minutes the first time")
    return runner.virtualenv(env, spec, " ".join([*spec, CPP_CONSTRAINT]), env_vars)


def _has(requirement: str) -> bool:
    """Whether this interpreter has ``name==version`` installed (a local build's suffix, as
    in 2.13.0+cpu, is the same version)."""
    name, want = requirement.split("==")
    try:
        return importlib.metadata.version(name).split("+")[0] == want
    except importlib.metadata.PackageNotFoundError:
        return False


def peer_environment(v: str, args: argparse.Namespace, notes: dict[str, str]) -> Path | None:
    """A peer's virtualenv, or None with a note saying why it could not be built."""
    try:
        return environment(v, args.venvs)
    except (RuntimeError, subprocess.CalledProcessError, OSError) as e:
        notes[v] = "not built: " + " / ".join(str(e).splitlines()[-3:])
        say(f"{v}: left out: {e}")
        return None


class Worker:
    """A version's timing worker (runner.Worker): a run that crashes or takes more than
    RUN_TIMEOUT seconds is skipped for that workload, with the reason."""

    def __init__(self, version: str, python: Path):
        self.version = version
        kind = version if version in (FLOOR, SPARSE_FLOOR, TORCH, CPP) else "micrograd"
        cmd = [str(python), str(HERE / "timer.py"), kind]
        if kind == "micrograd" and version != UPSTREAM:
            cmd.append(str(tree(version)))
        self.process = runner.Worker(cmd, timeout=RUN_TIMEOUT)
        self.crashed: dict[str, str] = {}

    def ask(self, workload: str, paused: bool = False) -> dict:
        if workload in self.crashed:
            return {"skip": self.crashed[workload]}
        reply = self.process.ask({"workload": workload, "gc paused": paused})
        if reply.get("ok", True):
            return reply
        why = f"the worker failed ({reply['error']}: {reply['message']})"
        self.crashed[workload] = why
        say(f"{self.version} on {workload}: {why}\n{reply.get('stderr', '')[-500:]}")
        return {"skip": why}

    def close(self) -> None:
        self.process.close()


# Measuring and reporting.


def main(argv: list[str] | None = None) -> int:
    doc = __doc__ or ""
    parser = argparse.ArgumentParser(
        prog="nox -s compare --",
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
        "--gate",
        choices=["instructions", "cycles", "time"],
        default="instructions",
        help="what decides the exit status (default instructions; time: CPU time, and the "
        "fallback where valgrind is missing)",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        help=f"allowed rise against a REF: default {verdict.THRESHOLD} for counts, "
        f"{verdict.TIME_THRESHOLD} for --gate time",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help=f"timed rounds per workload (default 5; at least {MIN_ROUNDS_FOR_SPREAD} for a "
        "spread)",
    )
    parser.add_argument(
        "--workloads",
        nargs="+",
        default=NAMES,
        choices=NAMES,
        metavar="NAME",
        help="workloads to run (default: all; quote names with spaces)",
    )
    parser.add_argument("--no-time", action="store_true", help="counts only: no timed rounds")
    parser.add_argument("--no-counts", action="store_true", help="leave out the callgrind counts")
    parser.add_argument(
        "--per-op",
        action="store_true",
        help="also count node creation and backward of each registry op (current only)",
    )
    parser.add_argument("--no-upstream", action="store_true", help="leave out micrograd 0.1.0")
    parser.add_argument(
        "--no-peers", action="store_true", help="leave out PyTorch and micrograd-cpp-engine"
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="counts run at once (default: one per core)",
    )
    parser.add_argument(
        "--venvs",
        type=Path,
        default=ROOT / ".benchmarks" / "venvs",
        help="where the virtualenvs live (default .benchmarks/venvs); they are reused",
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
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if args.threshold is not None and not args.threshold > 0:
        parser.error(f"--threshold must be above 0, got {args.threshold}")
    if args.no_time and args.no_counts:
        parser.error("--no-time and --no-counts leave nothing to measure")
    for ref in args.refs:
        try:
            runner.git(ROOT, "rev-parse", "--verify", f"{ref}^{{commit}}")
        except RuntimeError:  # noqa: PERF203 (once per REF)
            parser.error(f"REF {ref!r} is not a commit of this repository")

    gate = args.gate
    have_valgrind = counts.valgrind() is not None
    if gate != "time" and (args.no_counts or not have_valgrind):
        why = "--no-counts" if args.no_counts else "valgrind is not installed"
        say(f"{why}: the verdict falls back to CPU time (--gate time)")
        gate = "time"
    if gate == "time" and args.no_time:
        parser.error("--gate time needs the timed rounds (drop --no-time)")
    threshold = args.threshold or (verdict.TIME_THRESHOLD if gate == "time" else verdict.THRESHOLD)

    counted: dict[str, dict[str, dict] | str] = {}
    names = [w for w in counts.COUNTED if w in args.workloads]
    if have_valgrind and not args.no_counts and names:
        trees = {v: tree(v) for v in [CURRENT, *args.refs]}
        say(
            f"counting {', '.join(names)} under callgrind: {len(trees)} version(s), "
            f"{args.jobs} at a time (about a minute each)"
        )
        start = time.monotonic()
        counted = counts.count_many(trees, names, jobs=args.jobs)
        say(f"  counted in {time.monotonic() - start:.0f} s")
    per_op = counts.per_op() if args.per_op and have_valgrind else None

    samples: dict[str, list[dict[str, Sample]]] = {}
    columns: list[str] = []
    notes: dict[str, str] = {}
    if not args.no_time:
        peers = [] if args.no_peers else [TORCH, CPP]
        versions = [CURRENT, *args.refs, *([] if args.no_upstream else [UPSTREAM]), *peers]
        args.venvs.mkdir(parents=True, exist_ok=True)
        workers: dict[str, Worker] = {}
        for v in versions:
            python = (
                environment(v, args.venvs) if v not in peers else peer_environment(v, args, notes)
            )
            if python:
                workers[v] = Worker(v, python)
        if "moons step" in args.workloads:  # the floors and the paused collector: moons step only
            for floor in (FLOOR, SPARSE_FLOOR):
                workers[floor] = Worker(floor, environment(floor, args.venvs))
            workers[PAUSED] = workers[CURRENT]
        columns = [v for v in [*versions, FLOOR, SPARSE_FLOOR, PAUSED] if v in workers]
        try:
            samples = measure(workers, columns, args.workloads, args.rounds)
        finally:
            for w in workers.values():
                w.close()

    started = datetime.date.today().isoformat()
    failed = report_counts(counted, args.refs, gate, threshold) if counted else []
    if per_op:
        print_per_op(per_op)
    if samples:
        failed += report(
            samples, columns, args.refs, threshold if gate == "time" else None, args.rounds, notes
        )
    if args.markdown and samples:
        print()
        print(
            markdown(
                samples,
                columns,
                notes,
                " ".join(sys.argv[1:] if argv is None else argv),
                started,
                counted,
            )
        )
    if samples:
        plot(samples, columns, args.plot)
    print()
    if failed:
        for line in failed:
            print(f"REGRESSION: {line}")
    elif args.refs:
        what = {"time": "CPU time", "instructions": "instructions", "cycles": "estimated cycles"}
        print(f"no regression past {threshold:.1%} in {what[gate]} against {', '.join(args.refs)}")
    return 1 if failed else 0


def report_counts(
    counted: dict[str, dict[str, dict] | str], refs: list[str], gate: str, threshold: float
) -> list[str]:
    """Print the counts, each REF's change from it to current; return the regressions (lines)
    when the gate is a count."""
    print()
    print("Counts (callgrind, one run of each workload; exact: see benchmarks/counts.py):")
    failed = []
    current = counted.get(CURRENT)
    if isinstance(current, str):
        print(f"  current: not counted: {current}")
        return (
            [f"current could not be counted: {current.splitlines()[0]}"] if gate != "time" else []
        )
    assert current is not None
    for measure in ("instructions", "cycles"):
        print(f"  {counts.MEASURES[measure]}:")
        print(f"    {'workload':<20}{'current':>16}" + "".join(f"{r[:30]:>32}" for r in refs))
        for w, figs in current.items():
            cells = []
            for r in refs:
                theirs = counted.get(r)
                if isinstance(theirs, str) or theirs is None or w not in theirs:
                    cells.append("not counted")
                    continue
                v = verdict.Verdict(w, theirs[w][measure], figs[measure], threshold)
                mark = {"slower": " SLOWER", "faster": " faster", "same": ""}[v.status]
                cells.append(f"{theirs[w][measure]:,} ({v.change:+.2%}{mark})")
                if measure == gate and v.status == "slower":
                    failed.append(
                        f"current does {v.change:+.2%} {counts.MEASURES[measure]} on {w!r} "
                        f"against {r} (threshold {threshold:.1%})"
                    )
            print(f"    {w:<20}{figs[measure]:>16,}" + "".join(f"{c:>32}" for c in cells))
    for r in refs:
        if isinstance(counted.get(r), str):
            print(f"  {r}: not counted: {counted[r]}")
            if gate != "time":
                failed.append(f"{r} could not be counted: {counted[r].splitlines()[0]}")
    print(
        "  (change: current / REF - 1; SLOWER or faster past the threshold of "
        f"{threshold:.1%}; two counts of the same code agree within 0.001%)"
        if gate != "time"
        else "  (information: the verdict is CPU time's, --gate time)"
    )
    return failed


def print_per_op(per_op: dict[str, dict[str, float]]) -> None:
    print()
    print("Per op (callgrind instructions per node; current):")
    print(f"  {'op':<10}{'create':>10}{'backward':>10}")
    for name, c in per_op.items():
        print(f"  {name:<10}{c['create']:>10,.0f}{c['backward']:>10,.0f}")
    print("  (create: the op's Value spelling, the loop calling it included; backward: one")
    print("   node's gradients passed to its inputs, a backward straight to the leaves subtracted)")


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


def fmt_ratio(xs: list[float]) -> str:
    if not xs:
        return "-"
    s = verdict.spread(xs)
    med = statistics.median(xs)
    iqr = f"[{s[0]:.2f}-{s[1]:.2f}]" if s else "[n/a]"
    return f"{med:.2f}x {iqr}"


def skipped(rows: list[dict[str, Sample]], v: str) -> str | None:
    for row in rows:
        if "skip" in row.get(v, {}):
            return row[v]["skip"]
    return None


def report(samples, columns, refs, threshold, rounds, notes) -> list[str]:
    """Print the time tables and the targets; with a ``threshold`` (--gate time), return the
    regressions in CPU time (lines)."""
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
            if threshold is not None and v in refs and verdict.time_regressed(r, threshold):
                failed.append(
                    f"current is slower than {v} on {w!r} by more than {threshold:.0%} (CPU "
                    f"time: {fmt_ratio(r)})"
                )
    for v, note in notes.items():
        print(f"\n{v}: {note}")
    print()
    targets(samples, notes)
    return failed


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
        got = [
            (w, median_ratio(samples, w, peer), skipped(samples[w], peer))
            for w in workloads.WORKLOADS
            if w in samples
        ]
        line(*peer_target(text, got))
    mem = samples.get(MEMORY)
    value = mem[0].get(CURRENT, {}).get("value") if mem else None
    if value is None:
        line("not measured", "memory per node at most 160 B")
    else:
        ok = value <= TARGETS["memory"]
        line("met" if ok else "NOT MET", f"memory per node at most 160 B: {value:.0f} B")


def peer_target(text: str, got: list[tuple[str, float | None, str | None]]) -> tuple[str, str]:
    """(status, line) of "faster than a peer on every workload", from (workload, median ratio
    peer / current or None, why it was skipped or None) per workload run: "not measured" when
    the peer ran none, "met where run" when it ran some (the others named), else met or NOT
    MET."""
    measured = [(w, r) for w, r, _ in got if r is not None]
    if not measured:
        return "not measured", f"{text}: the peer ran none of the workloads run"
    cells = [
        f"{w} {r:.2f}x" if r is not None else f"{w} not measured ({why or 'not run'})"
        for w, r, why in got
    ]
    ok = all(r > 1 for _, r in measured)
    status = "NOT MET" if not ok else "met" if len(measured) == len(got) else "met where run"
    return status, f"{text}: {', '.join(cells)}"


def markdown(samples, columns, notes, command: str, date: str, counted=None) -> str:
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
    good = {v: c for v, c in (counted or {}).items() if isinstance(c, dict)}
    if good:
        out += [
            "",
            "callgrind counts of one run, millions of instructions / of estimated cycles:",
            "",
            "| workload | "
            + " | ".join("this checkout" if v == CURRENT else v for v in good)
            + " |",
            "|---" * (len(good) + 1) + "|",
        ]
        for w in next(iter(good.values())):
            cells = [
                f"{c[w]['instructions'] / 1e6:.2f}M / {c[w]['cycles'] / 1e6:.2f}M"
                if w in c
                else "-"
                for c in good.values()
            ]
            out.append(f"| {w} | " + " | ".join(cells) + " |")
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
            s = verdict.spread(r) or (m, m)
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
    sys.exit(main())
