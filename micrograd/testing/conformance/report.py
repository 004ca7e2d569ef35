"""What a conformance run reports: rows, scorecards, and what each finding means (severity)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any

PASS, FAIL, NA = "PASS", "FAIL", "N/A"
# The engine's process crashed (or exited) or did not answer in time during the row: the row
# says so, with the tail of the engine's stderr, and the run goes on with a fresh process.
CRASH, TIMEOUT = "CRASH", "TIMEOUT"
FAILING = (FAIL, CRASH, TIMEOUT)
TARGET_TIMEOUT = 1800.0  # seconds for all of one target's rows; later rows are TIMEOUT at once

# What a failing row means (its severity). WRONG: a value or gradient off by far more than
# rounding, a bug. PRECISION: an op's result outside our 8-ulp model but within LOOSE_RTOL of
# the exact one (relative to its size and condition scale): a correct formula that rounds
# worse, as the lecture's tanh' = 1 - t**2 does where t is near 1. CONVENTION: the derivative
# at a kink differs from PyTorch's (another valid subgradient). HARDENING: our strictness
# (refusing bad input, depth, a repeated backward without zero_grad, an error on overflow).
# x ** n raising at x = 0, where its derivative is a limit (x ** 0), is CONVENTION too; an op
# raising (never a wrong number) at an extreme input (|x| >= 400, or below 1e-300) HARDENING.
# CRASH / TIMEOUT: the engine's process died or did not answer.
WRONG, PRECISION, CONVENTION, HARDENING = "WRONG", "PRECISION", "CONVENTION", "HARDENING"
# 1e-9 is 5e5 times the 8-ulp model (1.8e-15): every rounding difference between correct
# formulas of an op lies below it, and every bug of the corpus above it.
LOOSE_RTOL = 1e-9
# And 1e-15 absolute: what a cancellation such as 1 - t**2 leaves (a few ulps of 1) where the
# exact result is smaller still (tanh'(20) = 1.7e-17 computed as 0.0).
LOOSE_ATOL = 1e-15
# Rows whose failure is not a wrong number, by the start of their name.
SEVERITY_BY_ROW = {
    "accumulation: k backward() calls": HARDENING,
    "depth:": HARDENING,
    "bad input:": HARDENING,
}
RANK = {WRONG: 0, HARDENING: 1, PRECISION: 2, CONVENTION: 3}  # the worse finding first
# What fails a scorecard, per profile: strict (every finding) or course (bugs and crashes).
PROFILES = {
    "strict": (WRONG, PRECISION, CONVENTION, HARDENING, CRASH, TIMEOUT),
    "course": (WRONG, CRASH, TIMEOUT),
}


@dataclass
class Row:
    """One property of the scorecard."""

    check: str
    status: str
    detail: str = ""
    example: str = ""  # the counterexample as runnable Python for that engine
    severity: str = ""  # of a failing row: WRONG, PRECISION, CONVENTION, HARDENING, CRASH...
    also: list[Row] = field(default_factory=list)  # the row's other distinct failures

    @property
    def findings(self) -> list[Row]:
        """This row's failure and each other distinct one, each with its own counterexample."""
        return [self, *self.also] if self.status in FAILING else []

    @property
    def shown(self) -> str:
        """The status, with the severity of a FAIL: ``FAIL (HARDENING)``."""
        return f"{self.status} ({self.severity})" if self.status == FAIL else self.status


@dataclass
class Scorecard:
    """Every row for one target, the engine found, and the speed ratios against ours."""

    target: str
    engine: dict[str, Any]
    rows: list[Row] = field(default_factory=list)
    speed: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    profile: str = "strict"  # what fails the card: see PROFILES

    @property
    def failed(self) -> list[Row]:
        """The rows that fail this card under its profile."""
        counted = PROFILES[self.profile]
        return [r for r in self.rows if r.status in FAILING and r.severity in counted]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, default=str)

    def to_markdown(self) -> str:
        lines = [f"### `{self.target}`", ""]
        lines.append(f"Engine: `{self.engine.get('value')}`, MLP: `{self.engine.get('mlp')}`.")
        lines += ["", "| property | result | detail |", "|---|---|---|"]
        for r in self.rows:
            detail = r.detail.replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {r.check} | {r.shown} | {detail} |")
        if self.speed:
            lines += ["", "| workload | this engine / ours (CPU time) |", "|---|---|"]
            lines += [f"| {w} | {v} |" for w, v in self.speed.items()]
        for r in self.failed:
            for f in r.findings:
                if f.example:
                    lines += ["", f"{r.check} ({f.severity}): {f.detail}", ""]
                    lines += ["```python", f.example, "```"]
        return "\n".join(lines)

    def to_text(self) -> str:
        width = max(len(r.check) for r in self.rows) if self.rows else 10
        out = [f"{self.target}  ({self.engine.get('value')})"]
        for r in self.rows:
            detail = r.detail if len(r.detail) < 110 else r.detail[:107] + "..."
            out.append(f"  {r.check:<{width}}  {r.shown:<17}  {detail}")
            for f in r.also:
                also = f.detail if len(f.detail) < 100 else f.detail[:97] + "..."
                out.append(f"  {'':<{width}}  {'also ' + f.severity:<17}  {also}")
        for w, v in self.speed.items():
            out.append(f"  speed: {w:<{width - 7}}  {v}")
        return "\n".join(out)


def severity(row: Row) -> str:
    """A failing row's severity, when the row did not set it: CRASH / TIMEOUT as its status,
    CONVENTION at a kink, HARDENING for our strictness (SEVERITY_BY_ROW), else WRONG."""
    if row.status in (CRASH, TIMEOUT):
        return row.status
    if "derivative at its kinks" in row.check:
        return CONVENTION
    return next((v for k, v in SEVERITY_BY_ROW.items() if row.check.startswith(k)), WRONG)


def merged(cards: list[Scorecard]) -> Scorecard:
    """One card from several runs of the same checks on one engine (``--repeat``): each row as
    its worst run has it. A row whose verdict differs between runs says in how many it failed:
    the engine's results depend on the run (the order of a set, or of id())."""
    if len(cards) == 1:
        return cards[0]
    first = cards[0]
    card = replace(first, rows=[], seconds=sum(c.seconds for c in cards))
    for row in first.rows:
        runs = [next((r for r in c.rows if r.check == row.check), row) for c in cards]
        worst = min(runs, key=lambda r: (r.status not in FAILING, RANK.get(r.severity, 0)))
        verdicts = {(r.status, r.severity) for r in runs}
        if len(verdicts) > 1:
            failing = sum(r.status in FAILING for r in runs)
            note = f" (fails in {failing} of {len(runs)} runs: the results depend on the run)"
            worst = replace(worst, detail=worst.detail + note)
        card.rows.append(worst)
    return card
