"""A corpus of engines with one typical student bug each: every one is caught by the row that
names the defect, with the severity it deserves; the correct engine they all come from passes.

The engines are one template (the lecture's engine with + - * / ** neg exp tanh relu and an
iterative backward), each bug a single textual change to it, written from what students get
wrong when they type the lecture. They run in this process (InProcess), row by row.
"""

import re

import pytest

from micrograd.testing.conformance import (
    FAIL,
    HARDENING,
    PASS,
    PRECISION,
    WRONG,
    Checks,
    InProcess,
    severity,
)
from tests.engines.corpus import BUGS, TEMPLATE


def engine(source: str) -> type:
    namespace: dict = {}
    exec(compile(source, "<engine>", "exec"), namespace)
    return namespace["Value"]


def row(value: type, which, examples: int = 12) -> object:
    checks = Checks(InProcess(value), examples=examples)
    checks.discover_ops()
    ops = {op.name: op for op in checks.ops}
    kind, op = (which, None) if isinstance(which, str) else which
    found = {
        "reflected": checks.reflected_row,
        "reuse": checks.reuse_row,
        "programs": checks.random_programs,
        "basics": checks.basics,
        "op": lambda: checks.op_row(ops[op]),
        "kink": lambda: checks.kink_row(ops[op]),
    }[kind]()
    if found.status == FAIL and not found.severity:
        found.severity = severity(found)
    return found


def test_the_template_passes_every_row_the_corpus_uses():
    value = engine(TEMPLATE)
    rows = ["reflected", "reuse", "programs", "basics"]
    ops = ["add", "sub", "mul", "div", "neg", "pow", "exp", "tanh", "relu"]
    for which in [*rows, *(("op", op) for op in ops), ("kink", "relu")]:
        r = row(value, which)
        assert r.status == PASS, (which, r)


@pytest.mark.parametrize("bug", list(BUGS))
def test_each_typical_bug_fails_its_row_with_its_severity(bug):
    old, new, which, want = BUGS[bug]
    assert TEMPLATE.count(old) == 1, f"the bug {bug!r} must change one place"
    r = row(engine(TEMPLATE.replace(old, new)), which)
    assert r.status == FAIL, (bug, r)
    assert r.severity == want, (bug, r.severity, r.detail)


def test_a_second_failure_of_a_row_is_listed_with_its_own_counterexample():
    # The lecture's tanh twice over: its exp formula (an error above x = 355) and 1 - t**2.
    lecture = TEMPLATE.replace(*BUGS["tanh' = 1 - t**2 (the lecture's)"][:2]).replace(
        *BUGS["tanh overflows (the lecture's formula: raises above x = 355)"][:2]
    )
    # Three distinct findings: the error at 400, d/dx0 by 1 - t**2 near t = 1, and the value
    # by exp(2x) - 1 near 0 (a cancellation): the worst (HARDENING) first.
    r = row(engine(lecture), ("op", "tanh"))
    assert [f.severity for f in r.findings] == [HARDENING, PRECISION, PRECISION], r
    assert [" raises " in r.detail, "d/dx0" in r.also[0].detail, "value" in r.also[1].detail] == [
        True,
        True,
        True,
    ], r
    # Both partials of mul wrong, each in its own way: the second is not hidden by the first.
    both = TEMPLATE.replace(
        "            self.grad += other.data * out.grad\n            other.grad += self.data * out.grad",
        "            self.grad += out.grad\n            other.grad += other.data * out.grad",
    )
    value = engine(both)
    r = row(value, ("op", "mul"))
    assert len(r.findings) >= 2, r
    assert {"d/dx0", "d/dx1"} <= set(re.findall(r"d/dx\d", " ".join(f.detail for f in r.findings)))
    for f in r.findings:  # each counterexample runs as printed and reproduces its finding
        assert f.example.count("v0 = x0 * x1") == 1, f.example
        ns: dict = {"Value": value}
        exec(f.example.replace("from builtins import Value", ""), ns)  # InProcess: exec()ed
        want = {"x0": ns["x1"].data, "x1": ns["x0"].data}
        assert any(ns[x].grad != g for x, g in want.items()), f.example


@pytest.mark.parametrize("bug", ["rsub swapped", "rtruediv swapped", "no radd", "no rmul"])
def test_random_programs_put_numbers_on_the_left_and_sum_values(bug):
    # A number on either side of an operator and sum() of Values, as students write them:
    # the reflected methods are exercised inside programs too, not only by their own row.
    old, new, _, _ = BUGS[bug]
    r = row(engine(TEMPLATE.replace(old, new)), "programs", examples=100)  # the CLI's default
    assert (r.status, r.severity) == (FAIL, WRONG), (bug, r)
