"""Every way to run micrograd's suites: `nox -l` lists them, plain `nox` runs all that verify."""

import os
import shutil

import nox

nox.needs_version = ">=2025.02.09"
nox.options.default_venv_backend = "virtualenv"  # plain pip: it finds the local torch wheel
nox.options.error_on_external_run = True
nox.options.reuse_venv = "yes"

TORCH = "torch==2.13.0"  # always pinned: an unpinned torch pulls a multi-GB CUDA build


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff (lint and format check) and mypy --strict on the package."""
    session.install(".[lint,test]")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")


@nox.session
def tests(session: nox.Session) -> None:
    """The everyday suite: unit, property (quick profile) and accumulation tests; no torch."""
    _graphviz(session)
    session.install(".[test]")
    session.run("pytest", "--ignore=tests/reference", *session.posargs)


@nox.session
def property(session: nox.Session) -> None:
    """The property suite at the thorough Hypothesis profile."""
    session.install(".[test]")
    session.run("pytest", "tests/property", "--hypothesis-profile=thorough", *session.posargs)


@nox.session
def reference(session: nox.Session) -> None:
    """The PyTorch reference suite (torch==2.13.0, float64); fails, never skips, without torch."""
    session.install(".[reference]")
    session.run("pytest", "tests/reference", *session.posargs, env={"MICROGRAD_REQUIRE_TORCH": "1"})


@nox.session
def accumulation(session: nox.Session) -> None:
    """The gradient-accumulation regression suite."""
    session.install(".[test]")
    session.run("pytest", "tests/test_accumulation.py", *session.posargs)


@nox.session(default=False)
def mutants(session: nox.Session) -> None:
    """Mutation testing of engine.py and ops.py (mutmut): every surviving mutant is listed."""
    session.install("-e", ".[test]", "mutmut>=3.2")
    session.run("mutmut", "run", *session.posargs, env={"HYPOTHESIS_PROFILE": "mutants"})
    session.run("mutmut", "results")


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """pytest-benchmark workloads; results saved under .benchmarks/ for --benchmark-compare."""
    session.install(".[bench,test]")
    session.run(
        "pytest",
        "benchmarks",
        "--benchmark-autosave",
        "--benchmark-group-by=group",
        *session.posargs,
    )


@nox.session(default=False)
def compare(session: nox.Session) -> None:
    """CPU and wall time vs git refs, micrograd 0.1.0, PyTorch, a C++ engine, floats: -- [--help]."""
    session.install("matplotlib>=3.7")
    session.run("python", "benchmarks/compare.py", *session.posargs)


@nox.session(default=False)
def demo(session: nox.Session) -> None:
    """The moons demo (python -m micrograd.demo): pictures in demo-output/; -- --help for options."""
    _graphviz(session)
    session.install(".[demo]")
    session.run("python", "-m", "micrograd.demo", *session.posargs)


@nox.session(default=False)
def conformance(session: nox.Session) -> None:
    """Our checks on other micrograd engines, a scorecard each: -- TARGET [TARGET ...] [--help]."""
    if not session.posargs:
        session.error("name a target: nox -s conformance -- micrograd==0.1.0 (or -- --help)")
    session.install(".[conformance]")
    session.run("python", "-m", "micrograd.conformance", *session.posargs)


# Helpers


def _graphviz(session: nox.Session) -> None:
    """Graphviz's `dot` renders the drawings; install Debian's package where it is missing."""
    if shutil.which("dot"):
        return
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        session.run("apt-get", "update", "-qq", external=True)
        session.run("apt-get", "install", "-y", "-qq", "graphviz", external=True)
    else:
        session.error("Graphviz's `dot` is needed: install it (Debian: apt-get install graphviz)")
