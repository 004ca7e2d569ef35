"""Conformance: our checks, driven through the adapter over any engine with the micrograd API.

Each property becomes one row of a scorecard: PASS, FAIL (with the shortest counterexample, as
runnable Python for that engine) or N/A (the engine lacks the op or the part). The checks are
the package's own: random programs against the oracle and finite differences (check_program),
each op against op_exact within op_tolerance, accumulation within node_error_bounds, the MLP
against a PyTorch twin. ``python -m micrograd.conformance --help`` runs it on installed targets.

One idea per module: ``report`` (rows, scorecards, what each severity means, the profiles),
``transport`` (how the checks reach an engine: InProcess, Worker), ``checks`` (the rows),
``batch`` (many engines, one row each), ``notebook`` (a notebook submission's code cells as a
module). ``run`` here puts them together.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .checks import Checks
from .report import (
    CONVENTION,
    CRASH,
    FAIL,
    FAILING,
    HARDENING,
    NA,
    PASS,
    PRECISION,
    PROFILES,
    TARGET_TIMEOUT,
    TIMEOUT,
    WRONG,
    Row,
    Scorecard,
    severity,
)
from .transport import ConformanceError, InProcess, Target, Worker


def run(
    target: Target,
    label: str,
    examples: int = 100,
    max_depth: int = 1_000_000,
    depth_timeout: float = 120.0,
    progress: Callable[[str], None] | None = None,
    twin: bool = True,
    target_timeout: float = TARGET_TIMEOUT,
) -> Scorecard:
    """Every check on ``target``; ``progress(row name)`` after each row. ``twin`` (needs
    torch==2.13.0) compares the engine's MLP with a PyTorch twin. A row during which the
    engine crashed or did not answer is CRASH or TIMEOUT; after ``target_timeout`` seconds no
    request reaches the engine, and the rows left are TIMEOUT."""
    start = time.monotonic()
    checks = Checks(target, examples, max_depth, depth_timeout, twin)
    checks.deadline = start + target_timeout
    card = Scorecard(label, target.describe)
    for made in checks.rows():
        incident, checks.incident = checks.incident, None
        for row in made:  # every row of the check during which the engine crashed or hung
            _note(row, incident, checks)
            for finding in row.findings:
                finding.severity = finding.severity or severity(row)
            card.rows.append(row)
            if progress:
                progress(row.check)
    card.seconds = time.monotonic() - start
    return card


def _note(row: Row, incident: dict[str, Any] | None, checks: Checks) -> None:
    """A failing row during whose check the engine crashed or hung: CRASH or TIMEOUT when
    that is what the row reports (with the code it died on); a row that failed on a wrong
    number while the engine also crashed stays FAIL, the crash noted."""
    if incident is None or row.status != FAIL:
        return
    said = {"Crash": CRASH, "Timeout": TIMEOUT, "time ran out": TIMEOUT}
    row.status = next((v for k, v in said.items() if k in row.detail), FAIL)
    if row.status != FAIL:
        row.severity = row.status
        if "code" in incident:  # the code it died or hung on, not a shrunk example
            row.detail, row.also = incident["message"], []
            row.example = checks.show(incident["code"])
    tail = incident.get("stderr", "").strip().splitlines()[-3:]
    note = incident["message"] if incident["message"] not in row.detail else ""
    note = "; ".join(x for x in (note, "stderr: " + " / ".join(tail) if tail else "") if x)
    if note:
        row.detail += f" ({note})"


__all__ = [
    "CONVENTION",
    "CRASH",
    "FAIL",
    "FAILING",
    "HARDENING",
    "NA",
    "PASS",
    "PRECISION",
    "PROFILES",
    "TIMEOUT",
    "WRONG",
    "Checks",
    "ConformanceError",
    "InProcess",
    "Row",
    "Scorecard",
    "Target",
    "Worker",
    "run",
    "severity",
]
