"""Exact counts of what a workload costs: instructions and estimated cycles, from callgrind.

A version's workloads run in one interpreter under valgrind's callgrind with its cache
simulation (fixed caches: 32 KiB 8-way L1 for instructions and for data, 8 MiB 16-way last
level, 64-byte lines, so the figure does not depend on the machine). Each workload is built,
run once to warm up (except the random graph: it builds a new graph on every run, the workloads
before it have warmed the engine, and a second run would double the cost of a history), the
collector emptied and what is alive frozen out of its sight (``gc.collect(); gc.freeze()``:
otherwise when its full passes fall depends on everything allocated and kept before, and chain
10k counted 199.6M instructions after the moons step and 306M alone), and then one run is
counted alone: the program calls ``os.getppid()`` just before and
just after it, and callgrind, told ``--dump-before=getppid``, writes a separate profile for
everything between the two calls. Interpreter start, imports and setup are never in it.
``PYTHONHASHSEED=0`` makes string hashing, and so every dict and set of strings, the same in
every run.

Estimated cycles, the formula iai-callgrind documents (after Brendan Gregg's):
    L1 hits + 5 x LL hits + 35 x RAM hits, where
    L1 hits = (Ir + Dr + Dw) - (I1mr + D1mr + D1mw),
    LL hits = (I1mr + D1mr + D1mw) - (ILmr + DLmr + DLmw),
    RAM hits = ILmr + DLmr + DLmw.

Two counts of the same code agree within 0.1% (tests/test_speed.py; measured: within 0.001%);
what is left is address-dependent work (sets of Values hash by id).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORKLOADS_FILE = ROOT / "micrograd" / "workloads.py"  # every version runs this checkout's
# Counted by default: the 1M chain costs minutes under valgrind and says what the 10k one says.
COUNTED = ["moons step", "chain 10k", "random graph 200k"]
COLD = {"random graph 200k"}  # counted on its first run (see the module docstring)
CACHES = ["--I1=32768,8,64", "--D1=32768,8,64", "--LL=8388608,16,64"]
EVENTS = ["Ir", "Dr", "Dw", "I1mr", "D1mr", "D1mw", "ILmr", "DLmr", "DLmw"]
MEASURES = {"instructions": "instructions (Ir)", "cycles": "estimated cycles"}

# Run under callgrind as ``python -s -c PROGRAM SPEC`` (not -I: it would ignore PYTHONHASHSEED).
PROGRAM = r"""
import gc, importlib.util, json, os, sys
spec = json.loads(sys.argv[1])
if spec["tree"]:
    sys.path.insert(0, spec["tree"])
sys.setrecursionlimit(200_000)
found = importlib.util.spec_from_file_location("micrograd_workloads", spec["workloads"])
workloads = importlib.util.module_from_spec(found)
found.loader.exec_module(workloads)
import micrograd, micrograd.engine, micrograd.nn
mark = os.getppid  # callgrind writes a profile before each call (--dump-before=getppid)
if spec["per_op"]:
    from micrograd import dot
    from micrograd.ops import OPS, VARIADIC
    n = spec["per_op"]
    for name, op in OPS.items():
        params = tuple(v[0] for v in op.params.values())
        k = 4 if op.arity == VARIADIC else op.arity
        names = [f"x{i}" for i in range(k)]
        text = op.syntax.format(*(names if op.arity != VARIADIC else [", ".join(names[:2]), ", ".join(names[2:])]), *params)
        make = eval(f"lambda {', '.join(names)}: {text}", {"dot": dot})
        Value = micrograd.engine.Value
        ins = [[Value(0.7 + 1e-6 * j) for _ in range(k)] for j in range(n)]
        make(*ins[0])  # warm up
        gc.collect(); mark()
        nodes = [make(*x) for x in ins]
        mark()  # the profile of creating n nodes
        root = dot(nodes, [1.0] * n)
        base = dot([x[0] for x in ins], [1.0] * n)
        gc.collect(); mark()
        root.backward()
        mark()  # backward through n op nodes
        gc.collect(); mark()
        base.backward()
        mark()  # backward straight to n leaves: subtracted
else:
    for name in spec["names"]:
        run = workloads.WORKLOADS[name](micrograd)
        if name not in spec["cold"]:
            run()
        gc.collect()
        gc.freeze()  # what earlier workloads left alive is out of the collector's sight
        mark()
        run()
        mark()
"""


@functools.cache
def valgrind() -> str | None:
    """valgrind's version (``valgrind-3.19.0``), or None where it is not installed."""
    if not shutil.which("valgrind"):
        return None
    done = subprocess.run(["valgrind", "--version"], capture_output=True, text=True)
    return done.stdout.strip() or None


def cycles(e: dict[str, int]) -> int:
    """Estimated cycles from callgrind's events (the formula in the module docstring)."""
    l1_miss = e["I1mr"] + e["D1mr"] + e["D1mw"]
    ram = e["ILmr"] + e["DLmr"] + e["DLmw"]
    return (e["Ir"] + e["Dr"] + e["Dw"] - l1_miss) + 5 * (l1_miss - ram) + 35 * ram


def summary(path: Path) -> dict[str, int]:
    """The event totals of one callgrind profile (its ``events:`` and ``summary:`` lines)."""
    text = path.read_text()
    names = re.search(r"^events: (.*)$", text, re.M)
    totals = re.search(r"^summary: (.*)$", text, re.M)
    if not names or not totals:
        raise RuntimeError(f"{path}: not a callgrind profile with events and a summary")
    counts = [int(x) for x in totals[1].split()]  # callgrind leaves out trailing zeros
    values = dict(zip(names[1].split(), counts + [0] * len(names[1].split()), strict=False))
    return {e: values.get(e, 0) for e in EVENTS}


def figures(e: dict[str, int]) -> dict[str, Any]:
    return {"instructions": e["Ir"], "cycles": cycles(e), "events": e}


def digest(tree: Path) -> str:
    """A digest of the engine in ``tree``: every file under ``tree/micrograd`` but caches."""
    h = hashlib.sha256()
    package = tree / "micrograd"
    for f in sorted(package.rglob("*")):
        if f.is_file() and "__pycache__" not in f.parts:
            h.update(f.relative_to(tree).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def key(tree: Path, names: Iterable[str], python: str) -> str:
    """What a count depends on: the engine, the workloads, this program, Python, valgrind."""
    h = hashlib.sha256()
    for part in (digest(tree), WORKLOADS_FILE.read_bytes().decode(), PROGRAM, *CACHES):
        h.update(part.encode() + b"\0")
    h.update(json.dumps([sorted(names), python_version(python), valgrind()]).encode())
    return h.hexdigest()[:32]


@functools.cache
def python_version(python: str) -> str:
    done = subprocess.run([python, "-c", "import sys; print(sys.version)"], capture_output=True)
    return done.stdout.decode().strip()


def callgrind(tree: Path | None, spec: dict[str, Any], python: str) -> list[dict[str, int]]:
    """Run PROGRAM with ``spec`` under callgrind; the events of each profile it wrote, in
    order (the profile of what follows the last mark, interpreter exit, left out)."""
    out = Path(tempfile.mkdtemp(prefix="micrograd-callgrind-"))
    # Every version runs from a copy at a path of the same length, compiled afresh into its
    # own cache: the interpreter then does the same work before the workloads for each, and
    # lays out memory alike (sets of Values hash by address).
    if tree is not None:
        shutil.copytree(tree / "micrograd", out / "t" / "micrograd", ignore=_caches)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONHASHSEED"] = "0"
    env["PYTHONPYCACHEPREFIX"] = str(out / "pycache")
    spec = {**spec, "tree": str(out / "t") if tree else "", "workloads": str(WORKLOADS_FILE)}
    cmd = [
        "valgrind",
        "-q",
        "--tool=callgrind",
        "--cache-sim=yes",
        *CACHES,
        "--dump-before=getppid",
        "--dump-instr=no",
        f"--callgrind-out-file={out / 'cg.out'}",
        python,
        "-s",
        "-c",
        PROGRAM,
        json.dumps(spec),
    ]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=out)
        if done.returncode:
            tail = "\n".join(done.stderr.strip().splitlines()[-12:])
            raise RuntimeError(
                f"counting under callgrind failed (status {done.returncode}):\n{tail}"
            )
        parts = sorted(out.glob("cg.out.*"), key=lambda p: int(p.suffix[1:]))
        return [summary(p) for p in parts]
    finally:
        shutil.rmtree(out, ignore_errors=True)


_caches = shutil.ignore_patterns("__pycache__")


def count(
    tree: Path | None,
    names: Iterable[str] = COUNTED,
    python: str = sys.executable,
    cache: Path | None = None,
) -> dict[str, dict[str, Any]]:
    """Instructions and estimated cycles of one run of each workload, for the micrograd in
    ``tree`` (None: whichever ``python`` imports). With ``cache``, a count already made for
    the same key (see ``key``) is read back instead of measured again."""
    names = list(names)
    where = None
    if cache is not None and tree is not None:
        where = cache / f"{key(tree, names, python)}.json"
        if where.exists():
            result: dict[str, dict[str, Any]] = json.loads(where.read_text())
            return result
    spec = {"names": names, "cold": sorted(COLD), "per_op": 0}
    profiles = callgrind(tree, spec, python)
    if len(profiles) != 2 * len(names):
        raise RuntimeError(
            f"callgrind wrote {len(profiles)} profiles for {len(names)} workloads (2 each): "
            "did the program's marks (os.getppid) reach getppid?"
        )
    result = {name: figures(profiles[2 * i + 1]) for i, name in enumerate(names)}
    if where is not None:
        where.parent.mkdir(parents=True, exist_ok=True)
        partial = where.with_suffix(".partial")
        partial.write_text(json.dumps(result, indent=1))
        partial.replace(where)  # all or nothing: an interrupted count leaves no cache entry
    return result


def is_cached(tree: Path, names: Iterable[str], cache: Path, python: str = sys.executable) -> bool:
    """Whether ``count`` would read this count from ``cache`` instead of measuring it."""
    return (cache / f"{key(tree, list(names), python)}.json").exists()


def count_many(
    trees: dict[str, Path | None],
    names: Iterable[str] = COUNTED,
    python: str = sys.executable,
    cache: Path | None = None,
    jobs: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, dict[str, dict[str, Any]] | str]:
    """``count`` for each labelled tree, ``jobs`` at a time (default: one per core), calling
    ``progress`` with a line as each one ends; a count that fails gives its error message
    instead of figures."""
    names = list(names)
    jobs = jobs or os.cpu_count() or 1
    done: list[str] = []
    lock = threading.Lock()

    def one(label: str) -> dict[str, dict[str, Any]] | str:
        start = time.monotonic()
        tree = trees[label]
        hit = cache is not None and tree is not None and is_cached(tree, names, cache, python)
        try:
            result: dict[str, dict[str, Any]] | str = count(trees[label], names, python, cache)
        except RuntimeError as e:
            result = str(e)
        with lock:
            done.append(label)
            if progress:
                how = "failed" if isinstance(result, str) else "cached" if hit else "counted"
                progress(
                    f"  [{len(done)}/{len(trees)}] {label[:12]}: {how} in "
                    f"{time.monotonic() - start:.0f} s"
                )
        return result

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return dict(zip(trees, pool.map(one, trees), strict=True))


def per_op(tree: Path | None = ROOT, n: int = 2000, python: str = sys.executable) -> dict[str, Any]:
    """Per registry op: instructions to create one node (through the op's Value spelling, the
    loop that calls it included) and to pass one node's gradients back (the same backward
    straight to the leaves subtracted)."""
    profiles = callgrind(tree, {"names": [], "cold": [], "per_op": n}, python)
    ops = _op_names(tree, python)
    if len(profiles) != 6 * len(ops):
        raise RuntimeError(f"callgrind wrote {len(profiles)} profiles for {len(ops)} ops (6 each)")
    result = {}
    for i, name in enumerate(ops):
        p = profiles[6 * i : 6 * i + 6]  # setup, create, setup, backward, setup, base backward
        result[name] = {"create": p[1]["Ir"] / n, "backward": (p[3]["Ir"] - p[5]["Ir"]) / n}
    return result


def _op_names(tree: Path | None, python: str) -> list[str]:
    code = "import sys; sys.path.insert(0, sys.argv[1]); from micrograd.ops import OPS; print(*OPS)"
    done = subprocess.run(
        [python, "-s", "-c", code, str(tree or "")], capture_output=True, text=True, check=True
    )
    return done.stdout.split()
