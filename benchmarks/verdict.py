"""What compare and history conclude from their measurements, decided in one place.

Counts (benchmarks/counts.py) are exact: a change past ``THRESHOLD`` is a change of the code.
Times are not: a time verdict needs the within-round ratios of several rounds and their spread.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

# Two counts of the same code agree within 0.001% (measured; tests/test_speed.py holds them to
# 0.1%); between commits that do not touch a workload's code its count moved by up to 0.3% (the
# heap's layout follows every module's size): 1% is three times that (docs/speed.md).
THRESHOLD = 0.01
TIME_THRESHOLD = 0.10  # CPU time on a loaded machine: rounds spread by 10-20% (docs/speed.md)
MIN_ROUNDS_FOR_SPREAD = 5  # an interquartile range from fewer samples says nothing


@dataclass(frozen=True)
class Verdict:
    """One workload's count against a base: ``change`` is new / base - 1."""

    workload: str
    base: float
    new: float
    threshold: float

    @property
    def change(self) -> float:
        return self.new / self.base - 1

    @property
    def status(self) -> str:
        """ "slower" past the threshold, "faster" past it the other way, else "same"."""
        if self.change > self.threshold:
            return "slower"
        if self.change < -self.threshold:
            return "faster"
        return "same"


def judge(
    base: dict[str, float], new: dict[str, float], threshold: float = THRESHOLD
) -> list[Verdict]:
    """A verdict per workload counted in both (``base`` and ``new``: workload -> count)."""
    if not threshold > 0:
        raise ValueError(f"threshold must be above 0, got {threshold!r}")
    return [Verdict(w, base[w], new[w], threshold) for w in base if w in new and base[w] > 0]


def steps(series: Sequence[float | None], threshold: float = THRESHOLD) -> list[int]:
    """The indices where a series (one count per commit, oldest first; None where it was not
    measured) moves past ``threshold`` from the last value measured before it."""
    out, last = [], None
    for i, x in enumerate(series):
        if x is None:
            continue
        if last is not None and abs(x / last - 1) > threshold:
            out.append(i)
        last = x
    return out


def spread(xs: Sequence[float]) -> tuple[float, float] | None:
    """The interquartile range of ``xs``, or None with too few samples to estimate one."""
    if len(xs) < MIN_ROUNDS_FOR_SPREAD:
        return None
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return q[0], q[2]


def time_regressed(ratios: Sequence[float], threshold: float = TIME_THRESHOLD) -> bool:
    """Whether current is slower than a REF in CPU time (``ratios``: REF / current per round)
    by more than ``threshold``: in the median, and, when a spread is known, in three rounds out
    of four (the upper quartile below 1)."""
    if not ratios:
        return False
    s = spread(ratios)
    return statistics.median(ratios) < 1 / (1 + threshold) and (s is None or s[1] < 1)
