"""Verify any engine with the micrograd API: ``python -m micrograd.conformance TARGET ...``.

A TARGET is a pip requirement (``micrograd==0.1.0``), a path to a project, or a module path
(``mypkg.engine:Value``). A requirement or a path is installed into its own virtualenv under
OUTDIR/venvs, reused by later runs while the target is the same (a path: while its files are
unchanged; a path with no pyproject.toml, setup.py or setup.cfg, or any path with --no-install,
is imported as it is, from its folder, a notebook by its code cells); a module path is
imported by this interpreter from the current directory. The engine runs in a worker process
(micrograd/runner.py) that starts the adapter (micrograd/testing/adapter.py) from its source
and refuses to import anything from this package, so an engine called ``micrograd`` is always
its own code, never this one; a request that crashes it or gets no answer within 30 s (--timeout)
is answered as a failure, and the worker is started again. The worker finds the Value class
(and MLP) itself.

Each target gets a scorecard: one row per property, PASS / FAIL (with the shortest
counterexample, as runnable Python for that engine, and its severity: WRONG, PRECISION,
CONVENTION or HARDENING) / CRASH / TIMEOUT / N/A (the engine lacks it), then the CPU time of the
shared benchmark workloads against this package's engine. The scorecards are printed and
written to OUTDIR as Markdown and JSON (summary.md, summary.json and one pair per target; the
summary after every target). Exit status: 1 when a row fails under --profile (strict: any
finding; course: WRONG, CRASH or TIMEOUT), 0 with --report-only, 2 when a target cannot be
installed or no Value class is found in it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from . import runner, workloads
from .extras import missing

try:  # --help works without the conformance extra; a run says what to install
    from .testing.conformance import ConformanceError, Scorecard, Worker, run
    from .testing.conformance.batch import batch_rows, grade, slug
    from .testing.conformance.notebook import write_modules
    from .testing.conformance.report import merged

except ImportError as e:
    MISSING: ImportError | None = missing("python -m micrograd.conformance", "conformance", e)
else:
    MISSING = None

ROOT = Path(__file__).resolve().parent.parent
# The shared workloads: the adapter loads this file by its path inside each target's virtualenv.
WORKLOADS = Path(workloads.__file__)
# Top-level files of a project that are not its engine (--no-install).
NOT_ENGINES = {"setup", "conftest", "noxfile", "tasks", "manage", "main", "train", "run", "demo"}
# Folders that pip or a run makes inside a project: not part of its content.
MADE = {"__pycache__", "build", "dist"}
# A folder pip can install has one of these; any other path is imported as it is.
PROJECT_FILES = ("pyproject.toml", "setup.py", "setup.cfg")
MODULE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


def environment(
    target: str, venvs: Path, log: list[str], install: bool = True
) -> tuple[str, str, list[str]]:
    """(python, adapter spec, extra sys.path) for ``target``, installing it if it needs to be.

    A target's virtualenv (micrograd.runner.virtualenv) is reused while the target is the
    same: a requirement by its text, a path by the digest of its files. Without ``install``
    a path is imported as it is, from its folder (or its src/)."""
    if MODULE.match(target) and not Path(target).exists():
        return sys.executable, target, [str(Path.cwd())]
    is_path = Path(target).exists()
    installable = is_path and any((Path(target) / f).is_file() for f in PROJECT_FILES)
    if is_path and not (install and installable):
        # --no-install, or a submission with no build file (an engine.py, a micrograd/ folder,
        # a notebook), which pip cannot install: imported as it is.
        notebooks = (venvs.parent / "notebooks" / slug(target)).resolve()  # cells as modules
        found = importable(Path(target).resolve(), notebooks)
        if install:
            files = f"{', '.join(PROJECT_FILES[:-1])} or {PROJECT_FILES[-1]}"
            log.append(f"{target}: no {files}: imported as it is ({found[0]})")
        return (sys.executable, *found)
    source = str(Path(target).resolve()) if is_path else target
    env = (venvs / slug(target)).resolve()
    marker = env / "conformance-target.json"
    report = env / "pip-report.json"
    key = f"{source} {content_digest(Path(source))}" if is_path else target
    try:
        python = runner.virtualenv(env, ["--report", str(report), source], key)
    except RuntimeError as e:
        raise ConformanceError(str(e)) from None  # "pip install SOURCE failed (...): its tail"
    if marker.exists() and json.loads(marker.read_text()).get("key") == key:
        return str(python), json.loads(marker.read_text())["spec"], []
    names = [
        item["metadata"]["name"]
        for item in json.loads(report.read_text())["install"]
        if item.get("requested")
    ]
    tops = subprocess.run(
        [str(python), "-I", "-c", _TOPS, *names], capture_output=True, text=True, check=True
    ).stdout.split()
    if not tops:
        raise ConformanceError(f"{target}: the installed distribution has no Python package")
    spec = ",".join(tops)
    marker.write_text(json.dumps({"target": target, "spec": spec, "key": key}))
    log.append(f"{target}: installed {', '.join(names)} (packages {spec})")
    return str(python), spec, []


def importable(path: Path, notebooks: Path | None = None) -> tuple[str, list[str]]:
    """(adapter spec, sys.path) to import ``path`` as it is (--no-install): a module file or a
    package folder from its parent; a project folder (or its src/) by its packages, or, when
    it has none, by its modules (not setup.py, conftest.py, tests or scripts named in
    NOT_ENGINES, whose top-level code would run), or, when it has none, by its notebooks'
    code cells, written as modules into ``notebooks`` (notebook.write_modules)."""
    if path.suffix == ".ipynb" and path.is_file() and notebooks is not None:
        return ",".join(write_modules([path], notebooks)), [str(notebooks)]
    if path.is_file() or (path / "__init__.py").is_file():
        return path.stem if path.is_file() else path.name, [str(path.parent)]
    root = path / "src" if (path / "src").is_dir() else path
    packages = [d.name for d in root.iterdir() if (d / "__init__.py").is_file()]
    modules = [f.stem for f in root.glob("*.py") if f.stem not in NOT_ENGINES]
    tops = sorted(t for t in packages or modules if not t.startswith(("test", ".")))
    if tops:
        return ",".join(tops), [str(root)]
    found = sorted(p for p in root.glob("*.ipynb") if not p.name.startswith("."))
    if found and notebooks is not None:
        return ",".join(write_modules(found, notebooks)), [str(notebooks)]
    raise ConformanceError(f"{path}: no Python package or module to import in {root}")


def content_digest(path: Path) -> str:
    """A digest of the files of a project (or of one file): what pip or a run makes inside it
    (build/, dist/, *.egg-info, __pycache__) and hidden folders (.git, .venv, .conformance with
    its virtualenvs) are left out, so installing it or checking it leaves its digest as it was."""
    h = hashlib.sha256()
    files = [path] if path.is_file() else sorted(path.rglob("*"))
    for f in files:
        parts = f.relative_to(path).parts[:-1] if f != path else ()  # its folders in the project
        made = any(
            p.startswith(".") or p in MADE or p.endswith(".egg-info") for p in parts
        ) or f.name.endswith((".pyc", ".pyo"))
        if f.is_file() and not made:
            h.update(f.as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


_TOPS = """\
import sys
from importlib.metadata import distribution
tops = set()
for name in sys.argv[1:]:
    for f in distribution(name).files or ():
        parts = f.parts
        if parts[0].endswith(('.dist-info', '.data')) or parts[0] in ('..', '__pycache__'):
            continue
        if len(parts) > 1 or parts[0].endswith('.py'):
            tops.add(parts[0].removesuffix('.py'))
print(' '.join(sorted(tops)))
"""


def speed(target: Worker, ours: Worker, rounds: int) -> dict[str, str]:
    """Median CPU time of each shared workload on the target over ours."""
    result = {}
    for name in _workloads():
        req = {"cmd": "workload", "path": str(WORKLOADS), "name": name, "rounds": rounds}
        # A workload's rounds may take far longer than a check's request on a slow engine.
        mine, theirs = ours.request(req), target.request(req, timeout=600.0 * rounds)
        if not theirs["ok"] and not target.describe.get("mlp") and "NoneType" in theirs["message"]:
            result[name] = "n/a (no MLP)"
        elif not theirs["ok"]:
            result[name] = f"n/a ({theirs['error']}: {theirs['message'][:60]})"
        elif not mine["ok"]:
            result[name] = f"n/a (ours: {mine['message'][:60]})"
        else:
            t, m = statistics.median(theirs["times"]), statistics.median(mine["times"])
            result[name] = f"{t / m:.1f}x ({t * 1e3:.0f} ms vs {m * 1e3:.0f} ms)"
    return result


def _workloads() -> list[str]:
    """The shared workloads' names (micrograd/workloads.py), but the 1M chain: the depth row
    covers it."""
    return [w for w in workloads.WORKLOADS if "1M" not in w]


def summary(cards: list[Scorecard], errors: dict[str, str]) -> str:
    """All scorecards side by side, then each failure's one line."""
    checks = list(dict.fromkeys(r.check for c in cards for r in c.rows))
    head = "| property | " + " | ".join(f"`{c.target}`" for c in cards) + " |"
    lines = [head, "|---|" + "---|" * len(cards)]
    for check in checks:
        cells = []
        for c in cards:
            row = next((r for r in c.rows if r.check == check), None)
            cells.append(row.shown if row else "")
        lines.append(f"| {check} | " + " | ".join(cells) + " |")
    speeds = list(dict.fromkeys(w for c in cards for w in c.speed))
    lines += [
        f"| speed: {w} (CPU time / ours) | "
        + " | ".join(c.speed.get(w, "").split(" (")[0] for c in cards)
        + " |"
        for w in speeds
    ]
    lines += [
        f"\n- `{c.target}`, {r.check} ({r.severity}): {r.detail}" for c in cards for r in c.failed
    ]
    lines += [f"\n- `{target}`: not checked: {why}" for target, why in errors.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    doc = __doc__ or ""
    parser = argparse.ArgumentParser(
        prog="python -m micrograd.conformance",
        description=doc.split("\n\n")[0],
        epilog=doc.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("targets", nargs="*", metavar="TARGET", help="what to verify (see below)")
    parser.add_argument(
        "--batch",
        type=Path,
        action="append",
        default=[],
        metavar="DIR|CSV",
        help="grade many engines: every subfolder of DIR is a path target, or every row of a "
        "CSV file with a 'target' column; one row per engine in OUTDIR/grades.{md,csv,json}",
    )
    parser.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=1,
        help="targets checked at once in a batch, each in its own process (default 1)",
    )
    parser.add_argument(
        "--out", type=Path, default=Path(".conformance"), help="OUTDIR (default .conformance)"
    )
    parser.add_argument(
        "--venvs",
        type=Path,
        help="where each installed target's virtualenv is kept, and reused while the target is "
        "the same (default OUTDIR/venvs; a batch's engines share its OUTDIR/venvs)",
    )
    parser.add_argument(
        "--examples",
        type=int,
        default=100,
        help="Hypothesis examples per random check (default 100)",
    )
    parser.add_argument(
        "--max-depth",
        type=int,
        default=None,
        help="longest chain tried (default 1000000 under --profile strict, 100000 under course: "
        "depth is HARDENING, and the longest chain is most of an engine's time)",
    )
    parser.add_argument(
        "--depth-timeout", type=float, default=120.0, help="seconds allowed per chain (default 120)"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="timed rounds per speed workload (default 3)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        help="seconds an engine may take to answer one check's request (default 30; each "
        "takes well under a second on a working engine): then its process is killed and "
        "restarted, and the row is TIMEOUT (its later requests are answered so at once)",
    )
    parser.add_argument(
        "--target-timeout",
        type=float,
        default=1800.0,
        help="seconds for all of one target's rows (default 1800); the rows left are TIMEOUT",
    )
    parser.add_argument(
        "--profile",
        choices=["strict", "course"],
        default="strict",
        help="what fails a scorecard: strict, every finding (default); course, only WRONG "
        "(a bug), CRASH and TIMEOUT, not PRECISION, CONVENTION or HARDENING",
    )
    parser.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="OURS=THEIRS",
        help="an engine's own name for one the checks use, e.g. --map backward=backprop "
        "--map data=value (repeat for each)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="N",
        help="run the checks N times, each in a fresh process with its own hash seed (0, 1, "
        "...), and report each row as its worst run; a row that differs between runs says so "
        "(an engine whose results depend on the order of a set or of id()). Default 1 (seed 0)",
    )
    parser.add_argument(
        "--no-install",
        action="store_true",
        help="import each path target as it is, from its folder (or its src/), instead of "
        "pip-installing it into a virtualenv: for engines that need nothing installed (a path "
        "with no pyproject.toml, setup.py or setup.cfg is imported so without it)",
    )
    parser.add_argument("--no-speed", action="store_true", help="leave out the speed ratios")
    parser.add_argument("--report-only", action="store_true", help="exit 0 even when a row fails")
    args = parser.parse_args(argv)
    if MISSING is not None:
        print(f"error: {MISSING}", file=sys.stderr)
        return 2
    try:
        given = [{"target": t} for t in args.targets] + [
            r for b in args.batch for r in batch_rows(b)
        ]
    except (OSError, ValueError) as e:
        parser.error(str(e))
    for r in given:
        if not r["target"]:  # a CSV row without one: said, never dropped silently
            others = ", ".join(f"{k}={v}" for k, v in r.items() if k != "target" and v)
            print(f"warning: a batch row has no target, left out ({others})", file=sys.stderr)
    targets = [r["target"] for r in given if r["target"]]
    by_card: dict[str, str] = {}  # by card folder: a target named twice is checked once
    for t in targets:
        if slug(t) in by_card:
            print(f"warning: {t} is {by_card[slug(t)]} again: checked once", file=sys.stderr)
        else:
            by_card[slug(t)] = t
    targets = list(by_card.values())
    if not targets:
        parser.error("name a TARGET or a --batch DIR|CSV")
    bad = [m for m in args.map if not re.fullmatch(r"[A-Za-z_]\w*=[A-Za-z_]\w*", m)]
    if bad:
        parser.error(f"--map takes OURS=THEIRS (two names), got {bad[0]!r}")
    args.maps = dict(m.split("=", 1) for m in args.map)
    if args.max_depth is None:
        args.max_depth = 1_000_000 if args.profile == "strict" else 100_000
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    for name in ("repeat", "examples", "max_depth", "rounds"):
        if getattr(args, name) < 1:
            parser.error(
                f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}"
            )
    for name in ("timeout", "target_timeout", "depth_timeout"):
        if not getattr(args, name) > 0:
            parser.error(f"--{name.replace('_', '-')} must be above 0, got {getattr(args, name)}")

    args.out.mkdir(parents=True, exist_ok=True)
    args.venvs = args.venvs or args.out / "venvs"
    if args.batch or args.jobs > 1:
        columns = {r["target"]: r for r in given}
        return grade(targets, args.out, _child_options(args), args.jobs, args.report_only, columns)

    from tqdm import tqdm

    ours = None
    if not args.no_speed:
        ours = Worker(sys.executable, "micrograd.engine:Value", [str(ROOT)], foreign=False)
    cards: list[Scorecard] = []
    errors: dict[str, str] = {}
    log: list[str] = []
    try:
        for target in targets:
            card = check_target(target, args, ours, log, errors, tqdm)
            if card is not None:
                cards.append(card)
                print(card.to_text())
                (args.out / f"{slug(target)}.md").write_text(card.to_markdown() + "\n")
                (args.out / f"{slug(target)}.json").write_text(card.to_json() + "\n")
            write_summary(args.out, cards, errors)  # after every target: nothing is lost
    except KeyboardInterrupt:
        kept = f"; their scorecards: {args.out}/summary.md" if cards else ""
        print(
            f"\ninterrupted: {len(cards)} of {len(targets)} targets checked{kept}", file=sys.stderr
        )
        return 130
    finally:
        if ours is not None:
            ours.close()
    print(f"scorecards: {args.out}/summary.md (and one .md/.json per target)")
    if errors:
        return 2
    failed = any(c.failed for c in cards)
    return 1 if failed and not args.report_only else 0


def _child_options(args: argparse.Namespace) -> list[str]:
    """The options each target's own run gets from the batch's."""
    opts = [
        *("--examples", str(args.examples), "--max-depth", str(args.max_depth)),
        *("--depth-timeout", str(args.depth_timeout), "--rounds", str(args.rounds)),
        *("--timeout", str(args.timeout), "--target-timeout", str(args.target_timeout)),
        *("--profile", args.profile, "--repeat", str(args.repeat)),
    ]
    opts += [f"--map={m}" for m in args.map]
    opts += ["--no-install"] if args.no_install else []
    opts += ["--venvs", str(args.venvs.resolve())]  # one folder for the batch: reused next run
    return [*opts, "--no-speed"] if args.no_speed else opts


def check_target(
    target: str,
    args: argparse.Namespace,
    ours: Worker | None,
    log: list[str],
    errors: dict[str, str],
    tqdm: Any,
) -> Scorecard | None:
    """One target's scorecard, or None with the reason in ``errors``: no target can stop the
    run (a crash or hang of its engine is a row's CRASH or TIMEOUT; anything else is the
    target's error). With ``--repeat N`` the checks run N times, each in a fresh process with
    its own hash seed (0, 1, ...), and the card is their merge (report.merged)."""
    try:
        python, spec, paths = environment(target, args.venvs, log, install=not args.no_install)
    except (ConformanceError, subprocess.CalledProcessError, OSError) as e:
        errors[target] = str(e)
        print(f"[{target}] not checked: {e}", file=sys.stderr)
        return None
    cards = []
    for seed in range(args.repeat):
        desc = target if args.repeat == 1 else f"{target} (run {seed + 1} of {args.repeat})"
        try:
            worker = Worker(python, spec, paths, timeout=args.timeout, maps=args.maps, seed=seed)
        except (ConformanceError, OSError) as e:
            errors[target] = str(e)
            print(f"[{target}] not checked: {e}", file=sys.stderr)
            return None
        with tqdm(desc=desc, unit=" rows", file=sys.stderr, leave=True) as bar:

            def step(name: str) -> None:
                bar.set_postfix_str(name[:40])
                bar.update()

            try:
                card = run(
                    worker,
                    target,
                    args.examples,
                    args.max_depth,
                    args.depth_timeout,
                    step,
                    target_timeout=args.target_timeout,
                )
                card.profile = args.profile
                if ours is not None and seed == 0:
                    bar.set_postfix_str("speed")
                    card.speed = speed(worker, ours, args.rounds)
            except Exception as e:  # a defect of ours meeting this engine: its error, not the run's
                errors[target] = f"the checks stopped: {type(e).__name__}: {e}"
                print(f"[{target}] {errors[target]}", file=sys.stderr)
                return None
            finally:
                worker.close()
        cards.append(card)
    return merged(cards)


def write_summary(out: Path, cards: list[Scorecard], errors: dict[str, str]) -> None:
    """summary.md and summary.json of the targets so far, each written whole or not at all."""
    body = json.dumps(
        {"scorecards": [json.loads(c.to_json()) for c in cards], "errors": errors}, indent=2
    )
    for name, text in (("summary.md", summary(cards, errors)), ("summary.json", body)):
        partial = out / f".{name}.partial"
        partial.write_text(text + "\n")
        partial.replace(out / name)


if __name__ == "__main__":
    sys.exit(main())
