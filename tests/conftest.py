"""Hypothesis profiles, the order tests run in, and how to replay a failure.

Profiles, chosen with HYPOTHESIS_PROFILE or --hypothesis-profile:
dev (default locally): quick, random seeds, failures saved to .hypothesis/ and replayed.
ci (default when $CI is set): fixed example count, derandomised, no database: every run of a
    commit draws the same examples.
thorough (nox -s property): many examples, for finding bugs rather than guarding them.
mutants (nox -s mutants): dev's size, derandomised, so every mutant meets the same examples.
debug: dev, printing every example.
Every profile has no deadline (tests assert behaviour, never time) and prints the blob that
reproduces a failure.

Order: the cheap exact tests run first, so a unit-level mistake fails within seconds; then
tests drawing examples with Hypothesis, then tests/property, then end-to-end and slow tests
(the demo last of all).
"""

import os

import pytest
from hypothesis import HealthCheck, Verbosity, settings

COMMON = {"deadline": None, "print_blob": True, "suppress_health_check": [HealthCheck.too_slow]}

settings.register_profile("dev", max_examples=60, **COMMON)
settings.register_profile("ci", max_examples=200, derandomize=True, database=None, **COMMON)
settings.register_profile("thorough", max_examples=3000, **COMMON)
settings.register_profile("mutants", max_examples=60, derandomize=True, database=None, **COMMON)
settings.register_profile("debug", max_examples=60, verbosity=Verbosity.verbose, **COMMON)
settings.load_profile(os.getenv("HYPOTHESIS_PROFILE", "ci" if os.getenv("CI") else "dev"))

# End to end or seconds each: after everything they build on has been tested on its own.
LAST = (
    "tests/test_engine.py::test_million_node_chain",
    "tests/test_conformance.py",  # runs engines in worker processes
    "tests/test_lecture.py::test_the_original_demo",
    "tests/test_demo.py",  # trains the demo network
)


# The building blocks, each before what is built on it: ops, the engine, nn.
FIRST = ("tests/test_registry.py", "tests/test_engine.py", "tests/test_nn.py")


def tier(item):
    """0: exact tests (FIRST's files first); 1: Hypothesis tests; 2: tests/property; 3: end to
    end and slow, in the order of LAST."""
    for i, prefix in enumerate(LAST):
        if item.nodeid.startswith(prefix):
            return (3, i)
    if item.nodeid.startswith("tests/property/"):
        return (2, 0)
    if getattr(item.obj, "is_hypothesis_test", False):
        return (1, 0)
    first = [i for i, prefix in enumerate(FIRST) if item.nodeid.startswith(prefix)]
    return (0, first[0] if first else len(FIRST))


def pytest_collection_modifyitems(items):
    items.sort(key=tier)  # stable: within a tier, files and tests keep their order


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed and "@reproduce_failure" in str(report.longrepr):
        # The blob replays this parametrisation only; the others of the same test would fail
        # with DidNotReproduce, so select this one alone.
        report.sections.append(
            (
                "Hypothesis replay",
                "add the @reproduce_failure(...) decorator printed above to the test, then run "
                f"this parametrisation alone:\n    python -m pytest '{item.nodeid}'\n"
                f"or with nox:\n    nox -s tests -- '{item.nodeid}'",
            )
        )
    return report
