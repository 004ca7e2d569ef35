"""Grading many engines: one child run per target, ``jobs`` at a time, one row per engine.

A child process per target (``python -m micrograd.conformance TARGET``) keeps one engine's
crash, hang or memory from touching the others; its scorecard lands in OUT/cards/NAME/, and
OUT/grades.{md,csv,json} are rewritten whole as each target ends, so an interrupted batch keeps
every grade it has.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any


def slug(target: str) -> str:
    """The file name of a target's scorecard (and of its virtualenv): a path by where it is
    (``.`` is its folder's name), never empty or hidden, and never another target's. A name
    is kept verbatim when nothing in it had to be replaced (``micrograd==0.1.0``); otherwise
    it is the readable name and a digest of the whole (``a/b`` and ``a_b`` differ), its end
    kept (where paths differ) when it is longer than 80 characters."""
    if target and Path(target).exists():
        target = Path(target).resolve().as_posix()
    name = re.sub(r"[^\w.=-]+", "_", target).strip("._")
    if name == target and 0 < len(name) <= 80:
        return name
    digest = hashlib.sha256(target.encode()).hexdigest()[:8]
    return f"{name[-71:].lstrip('._') or 'target'}-{digest}"


def batch_rows(source: Path) -> list[dict[str, str]]:
    """The targets of a --batch, each as a row: a folder's subfolders (sorted), or a CSV's rows
    with a 'target' (its other columns, a student's name say, are carried into the grades)."""
    if source.is_dir():
        return [
            {"target": str(p)}
            for p in sorted(source.iterdir())
            if p.is_dir() and not p.name.startswith(".")
        ]
    with source.open(newline="") as f:
        rows = list(csv.DictReader(f))
    if rows and "target" not in rows[0]:
        raise ValueError(f"{source}: a batch CSV needs a 'target' column, found {list(rows[0])}")
    # A row with no target (a short row's is None) stays, with target "": the caller says so.
    return [{**r, "target": _beside(source, (r["target"] or "").strip())} for r in rows]


def _beside(csv_file: Path, target: str) -> str:
    """A CSV's relative path, found beside the CSV when it is not found from here."""
    there = csv_file.parent / target
    if target and not Path(target).is_absolute() and not Path(target).exists() and there.exists():
        return str(there)
    return target


def grade(
    targets: list[str],
    out: Path,
    options: list[str],
    jobs: int = 1,
    report_only: bool = False,
    columns: dict[str, dict[str, str]] | None = None,
) -> int:
    """A batch: each target checked by a child ``python -m micrograd.conformance TARGET
    *options`` (``jobs`` at a time, its own OUT/cards/NAME), and one row per engine in
    OUT/grades.{md,csv,json}, rewritten as each one ends. Exit status as the CLI's: 2 when a
    target could not be checked, 1 when a card fails (unless ``report_only``), else 0.
    ``columns``: each target's own columns (a CSV's), put first in its row."""
    grades: dict[str, dict[str, Any]] = {}
    lock = threading.Lock()
    running: set[subprocess.Popen[str]] = set()
    stopping = threading.Event()  # set by an interrupt: no new child, and no grade from one

    def one(target: str) -> None:
        card_dir = out / "cards" / slug(target)
        cmd = [
            sys.executable,
            "-m",
            "micrograd.conformance",
            target,
            "--out",
            str(card_dir),
            *options,
        ]
        with lock:
            if stopping.is_set():
                return
            shutil.rmtree(card_dir, ignore_errors=True)  # an earlier run's card is not this one
            start = time.monotonic()
            child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            running.add(child)
        try:
            stdout, stderr = child.communicate()
        finally:
            with lock:
                running.discard(child)
        if stopping.is_set():
            return  # stopped by the interrupt: not a grade
        done = subprocess.CompletedProcess(cmd, child.returncode, stdout, stderr)
        card = card_dir / f"{slug(target)}.json"
        # The CSV's columns first; a grade's own fields (target among them) win over them.
        row = {
            **(columns or {}).get(target, {}),
            **grade_row(target, card, done, time.monotonic() - start),
        }
        with lock:
            grades[target] = row
            print(f"[{len(grades)}/{len(targets)}] {target}: {row['summary']}", file=sys.stderr)
            _write_grades(out, [grades[t] for t in targets if t in grades])

    pool = ThreadPoolExecutor(max_workers=jobs)
    try:
        list(pool.map(one, targets))
    except KeyboardInterrupt:
        # Each child is told as Ctrl-C tells it (it closes its engine's worker), then killed
        # if it has not ended within 5 s; the grades written so far are the batch's.
        with lock:
            stopping.set()
            children = list(running)
        for child in children:
            child.send_signal(signal.SIGINT)
        ends = time.monotonic() + 5
        for child in children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=max(0.0, ends - time.monotonic()))
        for child in children:
            if child.poll() is None:
                child.kill()
        pool.shutdown(wait=True, cancel_futures=True)
        kept = f"; their grades: {out}/grades.md" if grades else ""
        print(f"interrupted: {len(grades)} of {len(targets)} engines graded{kept}", file=sys.stderr)
        return 130
    pool.shutdown()
    rows = [grades[t] for t in targets]
    print(_grades_markdown(rows))
    print(f"grades: {out}/grades.md (.csv, .json); scorecards: {out}/cards/")
    if any(r["status"] == "not checked" for r in rows):
        return 2
    return 1 if any(r["fails"] for r in rows) and not report_only else 0


SEVERITIES = ["WRONG", "PRECISION", "CONVENTION", "HARDENING", "CRASH", "TIMEOUT"]
# A grade's own fields; a batch CSV's other columns come before them.
GRADED = ["target", "status", "score", *SEVERITIES, "first_wrong", "seconds", "fails", "summary"]


def _given(rows: list[dict[str, Any]]) -> list[str]:
    """The columns the batch's CSV gave, in its order."""
    return list(dict.fromkeys(k for r in rows for k in r if k not in GRADED))


def grade_row(
    target: str, card: Path, done: subprocess.CompletedProcess[str], seconds: float
) -> dict[str, Any]:
    """One engine's line of the grades: from its card, or, with no card, the reason its CLI
    gave for not checking it."""
    row: dict[str, Any] = {"target": target, "seconds": round(seconds, 1)}
    if not card.exists():
        said = (done.stderr or done.stdout).strip()
        marker = f"[{target}] not checked: "  # the CLI's reason, when it could give one
        why = said.rsplit(marker, 1)[1] if marker in said else "\n".join(said.splitlines()[-2:])
        why = " / ".join(line.strip() for line in why.splitlines() if line.strip())
        row.update(status="not checked", fails=True, summary=f"not checked: {why[:200]}")
        row.update(dict.fromkeys(SEVERITIES, 0), score="", first_wrong="")
        return row
    data = json.loads(card.read_text())
    rows = data["rows"]
    counts = {s: sum(1 for r in rows if r.get("severity") == s) for s in SEVERITIES}
    judged = [r for r in rows if r["status"] != "N/A"]
    passed = sum(1 for r in judged if r["status"] == "PASS")
    wrong = next((r for r in rows if r.get("severity") == "WRONG"), None)
    row.update(counts)
    row["score"] = f"{passed}/{len(judged)}"
    row["first_wrong"] = f"{wrong['check']}: {wrong['detail'][:120]}" if wrong else ""
    row["fails"] = done.returncode == 1
    row["status"] = "checked"
    found = ", ".join(f"{counts[s]} {s}" for s in SEVERITIES if counts[s]) or "no findings"
    row["summary"] = f"{row['score']} rows pass; {found}"
    return row


def _grades_markdown(rows: list[dict[str, Any]]) -> str:
    given = _given(rows)
    head = [*given, "target", "score", *SEVERITIES, "first WRONG finding"]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for r in rows:
        cells = [str(r.get(k, "")).replace("|", "\\|") for k in given]
        cells += [f"`{r['target']}`", r["score"] or r["status"], *(str(r[s]) for s in SEVERITIES)]
        cells.append(
            (r["first_wrong"] or ("" if r["status"] == "checked" else r["summary"])).replace(
                "|", "\\|"
            )
        )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _write_grades(out: Path, rows: list[dict[str, Any]]) -> None:
    """grades.md, grades.csv and grades.json, each written whole."""
    fields = [*_given(rows), "target", "status", "score", *SEVERITIES, "first_wrong", "seconds"]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fields, extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    for name, text in (
        ("grades.md", _grades_markdown(rows) + "\n"),
        ("grades.csv", buf.getvalue()),
        ("grades.json", json.dumps(rows, indent=2) + "\n"),
    ):
        partial = out / f".{name}.partial"
        partial.write_text(text)
        partial.replace(out / name)
