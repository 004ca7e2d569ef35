"""The speed of every commit, from exact counts: ``nox -s history -- [RANGE | --last N]``.

Each commit's engine (its micrograd/ folder) is counted once under callgrind
(benchmarks/counts.py: instructions and estimated cycles of one run of each workload, the
workloads of this checkout for every commit). Counts are deterministic, so they are cached
(.benchmarks/counts/, keyed by the engine's content, the workloads, Python and valgrind): a
commit whose engine another commit already has, or a re-run, measures nothing again. The result
is one chart of every workload across the commits (PNG) and a page that opens from disk (HTML:
the chart and a table), each step past the threshold marked with its commit's short hash and
subject.

``--bisect GOOD BAD --workload W`` finds the first commit after GOOD where W's count moved
(up or down) past the threshold from GOOD's, in about log2(N) counts, and prints the step.
"""

from __future__ import annotations

import argparse
import base64
import html
import io
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import counts  # noqa: E402
import verdict  # noqa: E402

from micrograd import runner  # noqa: E402

OUT = ROOT / ".benchmarks" / "history"
CACHE = ROOT / ".benchmarks" / "counts"
TREES = ROOT / ".benchmarks" / "trees"


def commits(spec: list[str], last: int | None) -> list[dict[str, str]]:
    """The commits of RANGE (git rev-list syntax, oldest first, first parents) or the last N
    of HEAD: hash, short hash, date and subject of each."""
    args = ["-n", str(last), "HEAD"] if last else spec
    out = runner.git(
        ROOT, "log", "--first-parent", "--reverse", "--format=%H%x00%h%x00%cs%x00%s", *args
    )
    rows = [line.split("\0") for line in out.splitlines() if line]
    return [{"hash": h, "short": s, "date": d, "subject": subj} for h, s, d, subj in rows]


def measure(
    found: list[dict[str, str]], names: list[str], jobs: int
) -> dict[str, dict[str, Any] | str]:
    """Counts per commit hash (or the reason it has none), each distinct engine counted once,
    ``jobs`` at a time, with a line as each one finishes."""
    trees: dict[str, Path] = {}
    errors: dict[str, str] = {}
    for c in found:
        try:
            trees[c["hash"]] = runner.export(ROOT, c["hash"], TREES)
        except RuntimeError as e:  # noqa: PERF203 (once per commit, next to a minute's count)
            errors[c["hash"]] = str(e)
    by_engine: dict[str, list[str]] = {}
    for h, t in trees.items():
        by_engine.setdefault(counts.digest(t), []).append(h)
    todo = {hs[0]: trees[hs[0]] for hs in by_engine.values()}
    cached = sum(counts.is_cached(t, names, CACHE) for t in todo.values())
    runner.say(
        f"{len(found)} commits, {len(by_engine)} distinct engines: {cached} counted before, "
        f"{len(todo) - cached} to count, {jobs} at a time (about a minute each)"
    )
    start = time.monotonic()
    result = counts.count_many(todo, names, cache=CACHE, jobs=jobs, progress=runner.say)
    runner.say(f"  counts ready in {time.monotonic() - start:.0f} s")
    out: dict[str, dict[str, Any] | str] = dict(errors)
    for hs in by_engine.values():
        for h in hs:
            out[h] = result[hs[0]]
    return out


def series(found, measured, workload: str, measure: str) -> list[float | None]:
    return [
        m[workload][measure] if isinstance(m := measured.get(c["hash"]), dict) else None
        for c in found
    ]


def chart(found, measured, names, measure: str, threshold: float) -> bytes:
    """One panel per workload: the count of every commit, each step past ``threshold`` marked
    with its commit's short hash and subject. PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        len(names), 1, figsize=(max(8, 0.32 * len(found) + 3), 3.2 * len(names)), sharex=True
    )
    axes = [axes] if len(names) == 1 else list(axes)
    xs = range(len(found))
    for ax, w in zip(axes, names, strict=True):
        ys = series(found, measured, w, measure)
        pts = [(x, y / 1e6) for x, y in zip(xs, ys, strict=True) if y is not None]
        if pts:
            ax.plot(*zip(*pts, strict=True), marker="o", markersize=3, linewidth=1)
        for i in verdict.steps(ys, threshold):
            prev = next(y for y in reversed(ys[:i]) if y is not None)
            change = ys[i] / prev - 1
            ax.annotate(
                f"{found[i]['short']} {change:+.1%}\n{found[i]['subject'][:40]}",
                (i, ys[i] / 1e6),
                textcoords="offset points",
                xytext=(4 if i < len(found) / 2 else -170, 8 if change > 0 else -22),
                fontsize=7,
                color="tab:red" if change > 0 else "tab:green",
            )
            ax.plot([i], [ys[i] / 1e6], "o", color="tab:red" if change > 0 else "tab:green")
        if pts:  # at least 4 thresholds tall: a change under the threshold looks flat
            mid = statistics.median(y for _, y in pts)
            lo, hi = min(y for _, y in pts), max(y for _, y in pts)
            half = max((hi - lo) * 0.65, 2 * threshold * mid)
            ax.set_ylim((lo + hi) / 2 - half, (lo + hi) / 2 + half)
        ax.set_title(f"{w}: {counts.MEASURES[measure]}, millions (lower is faster)", fontsize=9)
        ax.grid(alpha=0.3)
    axes[-1].set_xticks(list(xs), [c["short"] for c in found], rotation=90, fontsize=7)
    fig.suptitle(
        f"micrograd, {found[0]['short']}..{found[-1]['short']}: steps past {threshold:.1%} "
        "marked (red: more work, green: less)",
        fontsize=10,
    )
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def page(found, measured, names, measure: str, threshold: float, png: bytes) -> str:
    """A page that opens from disk: the chart inline, then a table of every commit."""
    head = "".join(f"<th>{html.escape(w)}</th>" for w in names)
    rows = []
    prev: dict[str, float] = {}
    for c in found:
        m = measured.get(c["hash"])
        cells = []
        for w in names:
            if not isinstance(m, dict):
                cells.append(f"<td class=na>{html.escape(str(m or 'not counted'))[:80]}</td>")
                continue
            x = m[w][measure]
            change = x / prev[w] - 1 if w in prev else 0.0
            cls = (
                ' class="up"'
                if change > threshold
                else ' class="down"'
                if change < -threshold
                else ""
            )
            shown = f"{x / 1e6:,.2f}M" + (f" ({change:+.2%})" if w in prev else "")
            cells.append(f"<td{cls}>{shown}</td>")
            prev[w] = x
        rows.append(
            f"<tr><td><code>{c['short']}</code></td><td>{c['date']}</td>"
            f"<td>{html.escape(c['subject'][:100])}</td>{''.join(cells)}</tr>"
        )
    image = base64.b64encode(png).decode()
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>micrograd: speed history</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; font-size: 13px; }}
td, th {{ border: 1px solid #ccc; padding: 3px 6px; text-align: right; }}
td:nth-child(3) {{ text-align: left; }}
.up {{ background: #fdd; }} .down {{ background: #dfd; }} .na {{ color: #888; }}
</style></head><body>
<h1>Speed history: {html.escape(counts.MEASURES[measure])}</h1>
<p>One run of each workload counted under callgrind (benchmarks/counts.py), per commit, oldest
first. A change past {threshold:.1%} from the commit before is shaded: red, more work; green,
less. Counts of the same code agree within 0.001%.</p>
<img alt="chart of every workload across the commits" src="data:image/png;base64,{image}">
<table><tr><th>commit</th><th>date</th><th>subject</th>{head}</tr>
{chr(10).join(rows)}
</table></body></html>
"""


def bisect(good: str, bad: str, workload: str, measure: str, threshold: float) -> int:
    """Print the first commit of GOOD..BAD whose ``workload`` count moved past ``threshold``
    from GOOD's; 0 when found, 1 when GOOD and BAD do not differ past it."""
    found = commits(["-1", good], None) + commits([f"{good}..{bad}"], None)
    if len(found) < 2:
        runner.say(f"{good}..{bad}: no commits between them")
        return 1
    names = [workload]
    seen: dict[int, int] = {}  # index in found -> its count, each counted once

    def value(i: int) -> int:
        if i not in seen:
            c = found[i]
            got = counts.count(runner.export(ROOT, c["hash"], TREES), names, cache=CACHE)
            seen[i] = x = got[workload][measure]
            change = x / seen[0] - 1 if i else 0.0
            runner.say(f"  {c['short']} {c['subject'][:60]}: {x:,.0f} ({change:+.2%} from {good})")
        return seen[i]

    runner.say(
        f"bisect: {len(found) - 1} commits after {good}; about "
        f"{math.ceil(math.log2(len(found) - 1 or 1)) + 2} counts of {workload!r}"
    )
    base = value(0)
    lo, hi = 0, len(found) - 1
    if abs(value(hi) / base - 1) <= threshold:
        print(f"{workload}: {bad} is within {threshold:.1%} of {good}: no step to find")
        return 1
    while hi - lo > 1:  # found[lo] within the threshold of GOOD, found[hi] past it
        mid = (lo + hi) // 2
        if abs(value(mid) / base - 1) > threshold:
            hi = mid
        else:
            lo = mid
    before, after = value(lo), value(hi)
    c = found[hi]
    print(
        f"first commit past {threshold:.1%} on {workload!r} ({counts.MEASURES[measure]}): "
        f"{c['short']} {c['subject']}\n  {found[lo]['short']}: {before:,} -> {c['short']}: "
        f"{after:,} ({after / before - 1:+.2%})"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="nox -s history --",
        description=(__doc__ or "").split("\n\n")[0],
        epilog=(__doc__ or "").split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("range", nargs="*", metavar="RANGE", help="commits, as git rev-list takes")
    parser.add_argument(
        "--last", type=int, metavar="N", help="the last N commits of HEAD (without a RANGE: 30)"
    )
    parser.add_argument(
        "--bisect", nargs=2, metavar=("GOOD", "BAD"), help="find the commit of a step"
    )
    parser.add_argument("--workload", choices=counts.COUNTED, help="the workload to bisect")
    parser.add_argument(
        "--workloads",
        nargs="+",
        default=counts.COUNTED,
        choices=counts.COUNTED,
        metavar="NAME",
        help="workloads to chart (default: all counted; quote names with spaces)",
    )
    parser.add_argument(
        "--measure",
        choices=list(counts.MEASURES),
        default="instructions",
        help="what is charted and bisected (default instructions)",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=verdict.THRESHOLD,
        help=f"a step: a change past this fraction (default {verdict.THRESHOLD})",
    )
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="counts at once (default: cores)"
    )
    parser.add_argument(
        "--out", type=Path, default=OUT, help="where the chart and page go (.benchmarks/history)"
    )
    args = parser.parse_args(argv)
    if not args.threshold > 0:
        parser.error(f"--threshold must be above 0, got {args.threshold}")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if counts.valgrind() is None:
        parser.error(
            "valgrind is not installed: history and bisect count with callgrind "
            "(Debian: apt-get install valgrind; nox -s history installs it as root)"
        )
    if args.bisect:
        if not args.workload:
            parser.error("--bisect needs --workload W")
        if args.range or args.last:
            parser.error("--bisect takes GOOD BAD, not a RANGE or --last")
        return bisect(*args.bisect, args.workload, args.measure, args.threshold)
    if args.last is not None and args.last < 2:
        parser.error("--last must be at least 2")
    if args.last and args.range:
        parser.error("give a RANGE or --last N, not both")
    try:
        found = commits(args.range, args.last or (None if args.range else 30))
    except RuntimeError as e:
        parser.error(str(e))
    if len(found) < 2:
        parser.error("a history needs at least two commits")
    measured = measure(found, args.workloads, args.jobs)
    png = chart(found, measured, args.workloads, args.measure, args.threshold)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "history.png").write_bytes(png)
    (args.out / "index.html").write_text(
        page(found, measured, args.workloads, args.measure, args.threshold, png)
    )
    (args.out / "history.json").write_text(
        json.dumps({"commits": found, "counts": measured}, indent=1)
    )
    for w in args.workloads:
        ys = series(found, measured, w, args.measure)
        for i in verdict.steps(ys, args.threshold):
            prev = next(y for y in reversed(ys[:i]) if y is not None)
            print(
                f"step: {w}: {found[i]['short']} {ys[i] / prev - 1:+.2%} "
                f"({prev:,.0f} -> {ys[i]:,.0f}) {found[i]['subject'][:70]}"
            )
    failed = [c["short"] for c in found if not isinstance(measured.get(c["hash"]), dict)]
    if failed:
        print(f"not counted: {', '.join(failed)} (the page says why)")
    print(f"chart: {args.out / 'history.png'}\npage: {args.out / 'index.html'} (opens from disk)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
