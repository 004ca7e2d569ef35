"""A class of 100 engines graded as a teacher grades one: ``nox -s grading -- [--help]``.

Writes OUT/class/: small engines made from the corpus of tests/engines (each typical bug
alone, pairs of them, the hostile engines) and the controls (the corpus template, the
lecture's engine, micrograd 0.1.0 from the package index), with class.csv naming them. Then
runs, from OUT/class, what a teacher runs:

    python -m micrograd.conformance --batch class.csv -j 2 --profile course --no-speed

and checks its grades against what each engine is known to be: every single bug fails the
row that names it with its severity (and a WRONG one the course profile), every pair has a
WRONG finding, each hostile engine gets a card whose relu row says what happened, and no
control fails under the course profile. Prints the batch's wall time beside the target (10
minutes on 2 cores), and exits 1 when a grade is not what it must be.
"""

from __future__ import annotations

import argparse
import csv
import inspect
import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the corpus: tests/engines

from micrograd.testing.conformance.batch import slug  # noqa: E402
from tests.engines import corpus, hostile, lecture  # noqa: E402

TARGET_SECONDS = 600.0
ZERO_ROUND = "micrograd==0.1.0"
ROWS = {  # the corpus's row names, as the scorecard names them
    "reflected": "a number on the left: 2 + x, 2 - x, 2 * x, 2 / x, 2 ** x, sum()",
    "reuse": "accumulation: a + a, a * a, diamond",
    "programs": "random programs vs oracle and finite differences",
    "basics": "Value, .data, .grad, backward()",
}


def row_name(which: str | tuple[str, str]) -> str:
    if isinstance(which, str):
        return ROWS[which]
    kind, op = which
    return (
        f"{op}: values and derivatives"
        if kind == "op"
        else f"{op}: derivative at its kinks (PyTorch's)"
    )


def engines(count: int) -> dict[str, tuple[str, dict]]:
    """name: (source, what its grade must show), ``count`` of them (controls, single bugs,
    hostile engines, then pairs of bugs that change different places)."""
    made: dict[str, tuple[str, dict]] = {
        "control_template": (corpus.TEMPLATE, {"control": True}),
        "control_lecture": (inspect.getsource(lecture), {"control": True}),
        "control_hostile_template": (hostile.engine(), {"control": True}),
    }
    for i, (bug, (old, new, which, severity)) in enumerate(corpus.BUGS.items()):
        made[f"bug{i:02d}"] = (
            corpus.TEMPLATE.replace(old, new),
            {"bugs": [bug], "rows": {row_name(which): severity}},
        )
    for i, (bug, (code, status)) in enumerate(hostile.BUGS.items()):
        made[f"hostile{i}"] = (
            hostile.engine(code),
            {"hostile": bug, "relu": status},
        )
    for a, b in itertools.combinations(corpus.BUGS, 2):
        if len(made) >= count:
            break
        (old_a, new_a, _, _), (old_b, new_b, _, _) = corpus.BUGS[a], corpus.BUGS[b]
        source = corpus.TEMPLATE.replace(old_a, new_a)
        if old_a in old_b or old_b in old_a or source.count(old_b) != 1:
            continue  # the two change one place
        # WRONG somewhere, not necessarily in both rows: two bugs can cancel in one (a swapped
        # __rsub__ and a reversed __sub__ give 2 - x right; sub's own row still fails).
        made[f"pair{len(made):03d}"] = (
            source.replace(old_b, new_b),
            {"bugs": [a, b], "wrong": True},
        )
    return made


def check(name: str, want: dict, card: dict | None) -> list[str]:
    """What is wrong with one engine's grade (nothing: [])."""
    if card is None:
        return [f"{name}: no scorecard"]
    rows = {r["check"]: r for r in card["rows"]}
    course = [r for r in card["rows"] if r.get("severity") in ("WRONG", "CRASH", "TIMEOUT")]
    problems = []
    if want.get("control") and course:
        problems += [
            f"{name} (a control): {r['check']} {r['severity']}: {r['detail'][:90]}" for r in course
        ]
    for row, severity in want.get("rows", {}).items():
        got = rows.get(row, {})
        ok = (
            got.get("status") in ("FAIL", "CRASH", "TIMEOUT")
            if severity == "FAIL"
            else got.get("severity") == severity
        )
        if not ok:
            problems.append(
                f"{name} {want['bugs']}: {row} is {got.get('status')} {got.get('severity')}, must be {severity}"
            )
    if want.get("wrong") and not any(r["severity"] == "WRONG" for r in course):
        problems.append(f"{name} {want['bugs']}: no WRONG finding")
    if "hostile" in want:
        relu = rows.get("relu: values and derivatives", {})
        status = want["relu"]
        ok = (
            relu.get("status") in ("FAIL", "CRASH", "TIMEOUT")
            if status is None
            else relu.get("status") == status
        )
        if not ok:
            problems.append(
                f"{name} ({want['hostile']}): relu is {relu.get('status')}, must be {status or 'failing'}"
            )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="nox -s grading --",
        description=(__doc__ or "").split("\n\n")[0],
        epilog="Timing is information against the 10-minute target; grades decide the exit status.",
    )
    parser.add_argument(
        "--out", type=Path, default=ROOT / ".grading", help="OUT (default .grading)"
    )
    parser.add_argument("--count", type=int, default=100, help="engines in the class (default 100)")
    parser.add_argument(
        "-j", "--jobs", type=int, default=2, help="engines graded at once (default 2)"
    )
    parser.add_argument(
        "--no-index", action="store_true", help=f"leave out {ZERO_ROUND} (no pip install)"
    )
    args, passed = parser.parse_known_args(argv)
    if args.count < 10:
        parser.error(f"--count must be at least 10, got {args.count}")
    work = args.out / "class"
    work.mkdir(parents=True, exist_ok=True)
    made = engines(args.count - (0 if args.no_index else 1))
    for name, (source, _) in made.items():
        (work / f"{name}.py").write_text(source)
    targets = [f"{name}:Value" for name in made] + ([] if args.no_index else [ZERO_ROUND])
    with (work / "class.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["target"])
        w.writerows([t] for t in targets)
    cmd = [
        sys.executable,
        "-m",
        "micrograd.conformance",
        "--batch",
        "class.csv",
        "-j",
        str(args.jobs),
    ]
    cmd += ["--profile", "course", "--no-speed", "--report-only", *passed]
    print(f"grading {len(targets)} engines in {work}: {' '.join(cmd[1:])}", flush=True)
    start = time.monotonic()
    done = subprocess.run(cmd, cwd=work, stdout=subprocess.DEVNULL)
    seconds = time.monotonic() - start
    problems = (
        [] if done.returncode in (0, 1) else [f"the batch exited with status {done.returncode}"]
    )
    wants = {f"{n}:Value": want for n, (_, want) in made.items()}
    wants.update({} if args.no_index else {ZERO_ROUND: {"control": True}})
    for target, want in wants.items():
        card = work / ".conformance" / "cards" / slug(target) / f"{slug(target)}.json"
        problems += check(target, want, json.loads(card.read_text()) if card.exists() else None)
    grades = json.loads((work / ".conformance" / "grades.json").read_text())
    slowest = sorted(grades, key=lambda g: -g["seconds"])[:3]
    print(
        f"{len(targets)} engines graded in {seconds:.0f} s with -j {args.jobs} (target {TARGET_SECONDS:.0f} s)"
    )
    print("slowest: " + ", ".join(f"{g['target']} {g['seconds']:.0f} s" for g in slowest))
    print(f"grades: {work}/.conformance/grades.md")
    for p in problems:
        print(f"WRONG GRADE: {p}")
    print(
        "every grade is what it must be"
        if not problems
        else f"{len(problems)} grades are not what they must be"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
