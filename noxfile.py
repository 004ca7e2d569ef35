"""Every way to run micrograd's suites: `nox -l` lists them, plain `nox` runs all that verify.

The sessions that verify (lint, tests, property, reference, accumulation), and compare and
conformance, share one virtualenv, .nox/shared: each installs the extras it needs there once,
and again only when pyproject.toml changes, so PyTorch (most of it) is installed once. The
other optional sessions (mutants, bench, demo, docs) keep their own.
"""

import hashlib
import json
import logging
import os
import shutil
import sys
from pathlib import Path

import nox

nox.needs_version = ">=2025.02.09"
nox.options.default_venv_backend = "virtualenv"  # plain pip: it finds the local torch wheel
nox.options.error_on_external_run = True
nox.options.reuse_venv = "yes"
nox.options.error_on_missing_interpreters = False  # `nox -s pythons` skips one it cannot find

# nox looks for uv on every run and says so when it is absent; we use pip (see above) on purpose.
logging.getLogger("nox").addFilter(lambda record: "uv binary not found" not in record.getMessage())

TORCH = "torch==2.13.0"  # always pinned: an unpinned torch pulls a multi-GB CUDA build
SHARED = Path(__file__).parent / ".nox" / "shared"  # the verifying sessions' one virtualenv


@nox.session(venv_backend="none")
def lint(session: nox.Session) -> None:
    """Ruff (lint and format check) and mypy --strict on the package."""
    python = _shared(session, "lint", "reference")  # mypy reads the types of every import
    session.run(python, "-m", "ruff", "check", ".")
    session.run(python, "-m", "ruff", "format", "--check", ".")
    session.run(python, "-m", "mypy")


@nox.session(venv_backend="none")
def tests(session: nox.Session) -> None:
    """The everyday suite on every core, cheapest first: unit, accumulation, property; no torch."""
    _graphviz(session)
    _valgrind(session)  # the speed gate's own tests count with callgrind
    python = _shared(session, "test")
    # When the property session runs too (plain `nox`), it runs tests/property, at its profile.
    skip = ["--ignore=tests/property"] if _also_running(session, "property") else []
    session.run(
        python, "-m", "pytest", "-n", "auto", "--ignore=tests/reference", *skip, *session.posargs
    )


PYTHONS = ["3.10", "3.11", "3.12", "3.13"]  # requires-python >= 3.10; each one nox finds


def _pyenv_versions() -> None:
    """With pyenv, let its shims answer for each installed Python of PYTHONS, as `pyenv local`
    listing them would, after the versions already chosen (so `python` is unchanged; `pyenv
    exec` itself sets PYENV_VERSION): `nox -s pythons` then finds them without activating any."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    if not root.is_dir():
        return
    chosen = [v for v in os.environ.get("PYENV_VERSION", "").split(":") if v]
    if not chosen:
        here = "{}.{}.{}".format(*sys.version_info[:3])
        chosen = [here if (root / here).is_dir() else "system"]
    found = [sorted(root.glob(f"{v}.*"))[-1].name for v in PYTHONS if list(root.glob(f"{v}.*"))]
    os.environ["PYENV_VERSION"] = ":".join([*chosen, *(v for v in found if v not in chosen)])


_pyenv_versions()


@nox.session(python=PYTHONS, default=False)
def pythons(session: nox.Session) -> None:
    """The everyday suite (as `tests`, no property run) on each supported Python found, each in
    its own virtualenv; a Python that is not installed is skipped with a note."""
    session.install("-e", ".[test]")
    session.run("pytest", "-n", "auto", "--ignore=tests/reference", *session.posargs)


@nox.session(venv_backend="none")
def property(session: nox.Session) -> None:
    """The property suite at the thorough Hypothesis profile, on every core, a line per test."""
    python = _shared(session, "test")
    session.run(
        python,
        "-m",
        "pytest",
        "tests/property",
        "-n",
        "auto",
        "-v",
        "--hypothesis-profile=thorough",
        *session.posargs,
    )


@nox.session(venv_backend="none")
def reference(session: nox.Session) -> None:
    """The PyTorch reference suite (torch==2.13.0, float64); fails, never skips, without torch."""
    python = _shared(session, "reference")
    session.run(
        python,
        "-m",
        "pytest",
        "tests/reference",
        "-n",
        "auto",
        *session.posargs,
        env={"MICROGRAD_REQUIRE_TORCH": "1"},
    )


@nox.session(venv_backend="none", default=False)
def accumulation(session: nox.Session) -> None:
    """The gradient-accumulation regression tests alone (the tests session runs them too)."""
    python = _shared(session, "test")
    session.run(python, "-m", "pytest", "tests/test_accumulation.py", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """The docs site (MkDocs, Material theme) into site/, warnings as errors, after running the
    lecture notebook as a test (nbmake); open site/index.html."""
    _graphviz(session)  # the notebook draws its graphs
    session.install("-e", ".[docs]")
    session.run("pytest", "--nbmake", "docs/lecture.ipynb", "-p", "no:cacheprovider")
    session.run("mkdocs", "build", "--strict", *session.posargs, env={"NO_MKDOCS_2_WARNING": "1"})


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


@nox.session(venv_backend="none", default=False)
def compare(session: nox.Session) -> None:
    """Counts (callgrind) and times vs git refs, 0.1.0, PyTorch, a C++ engine: -- [REF] [--help]."""
    _valgrind(session)
    python = _shared(session, "reference", "demo")  # its PyTorch peer is the shared torch
    session.run(python, "benchmarks/compare.py", *session.posargs)


@nox.session(venv_backend="none", default=False)
def history(session: nox.Session) -> None:
    """Every commit's counts on one chart and page; bisect a step: -- [RANGE | --last N] [--help]."""
    _valgrind(session, required=True)
    python = _shared(session, "demo")  # matplotlib draws the chart
    session.run(python, "benchmarks/history.py", *session.posargs)


@nox.session(default=False)
def demo(session: nox.Session) -> None:
    """The moons demo (python -m micrograd.demo): pictures in demo-output/; -- --help for options."""
    _graphviz(session, required="--graph" in session.posargs)
    session.install(".[demo]")
    session.run("python", "-m", "micrograd.demo", *session.posargs)


@nox.session(venv_backend="none", default=False)
def conformance(session: nox.Session) -> None:
    """Our checks on other micrograd engines, a scorecard each: -- TARGET [TARGET ...] [--help]."""
    if not session.posargs:
        session.error("name a target: nox -s conformance -- micrograd==0.1.0 (or -- --help)")
    python = _shared(session, "conformance")  # the shared virtualenv: one PyTorch install
    session.run(python, "-m", "micrograd.conformance", *session.posargs)


@nox.session(venv_backend="none", default=False)
def grading(session: nox.Session) -> None:
    """A class of 100 engines from the corpus graded as a teacher would, every grade checked."""
    python = _shared(session, "conformance")
    session.run(python, "benchmarks/grading.py", *session.posargs)


# Helpers


def _shared(session: nox.Session, *extras: str) -> str:
    """The shared virtualenv's python, with this project (editable) and ``extras`` installed.

    An extra is installed once; all are forgotten, and installed again as sessions ask for
    them, when pyproject.toml changes.
    """
    bin_dir = SHARED / ("Scripts" if os.name == "nt" else "bin")
    python = str(bin_dir / ("python.exe" if os.name == "nt" else "python"))
    if not Path(python).exists():
        session.run(sys.executable, "-m", "virtualenv", "--quiet", str(SHARED))
    record = SHARED / "micrograd-extras.json"
    key = hashlib.sha256(Path("pyproject.toml").read_bytes()).hexdigest()
    done = json.loads(record.read_text()) if record.exists() else {}
    installed = done.get("extras", []) if done.get("pyproject") == key else []
    have = {x for e in installed for x in _extras_within(e)}
    missing = [e for e in extras if e not in have]
    if missing:
        session.log(f"installing micrograd-verified[{','.join(missing)}] into {SHARED}")
        session.run(
            python, "-m", "pip", "install", "--progress-bar", "on", "-e", f".[{','.join(missing)}]"
        )
        record.write_text(json.dumps({"pyproject": key, "extras": installed + missing}))
    session.env["PATH"] = str(bin_dir) + os.pathsep + os.environ.get("PATH", "")
    session.env["VIRTUAL_ENV"] = str(SHARED)
    return python


def _extras_within(extra: str) -> set[str]:
    """``extra`` and the extras it pulls in (``reference`` lists ``micrograd-verified[test]``)."""
    deps = nox.project.load_toml("pyproject.toml")["project"]["optional-dependencies"]
    found, todo = set(), [extra]
    while todo:
        e = todo.pop()
        if e not in found:
            found.add(e)
            for req in deps.get(e, []):
                if req.startswith("micrograd-verified["):
                    todo += req[len("micrograd-verified[") : req.index("]")].split(",")
    return found


def _also_running(session: nox.Session, name: str) -> bool:
    """Whether this nox run runs session ``name`` too. nox has no public way to ask; its
    manifest knows. (Under --parallel each session runs alone and this is False.)"""
    manifest = getattr(getattr(session, "_runner", None), "manifest", None)
    return manifest is not None and name in manifest


def _can_apt() -> bool:
    """Whether this runs as root with apt-get (a container, CI)."""
    return bool(shutil.which("apt-get")) and hasattr(os, "geteuid") and os.geteuid() == 0


def _apt_install(session: nox.Session, package: str) -> None:
    session.run("apt-get", "update", "-qq", external=True)
    session.run("apt-get", "install", "-y", "-qq", package, external=True)


def _debian_tool(
    session: nox.Session,
    command: str,
    package: str,
    what: str,
    without: str,
    hint: str,
    required: bool,
) -> None:
    """``command`` (``what``, from Debian's ``package``) on PATH: where it is missing and this
    runs as root with apt-get (a container, CI), say so and install it; otherwise fail when
    ``required``, else warn what happens ``without`` it."""
    if shutil.which(command):
        return
    if _can_apt():
        session.warn(f"{what} is missing: installing Debian's {package} package (apt-get)")
        _apt_install(session, package)
    elif required:
        session.error(f"{what} is needed: {hint}")
    else:
        session.warn(f"{what} is missing: {without} ({hint})")


def _valgrind(session: nox.Session, required: bool = False) -> None:
    """valgrind's callgrind makes the exact counts that decide speed verdicts; without it
    verdicts fall back to timing (compare says so) and its tests skip, unless ``required``."""
    hint = "install valgrind (Debian: apt-get install valgrind)"
    without = "speed verdicts fall back to timing"
    _debian_tool(session, "valgrind", "valgrind", "valgrind", without, hint, required)


def _graphviz(session: nox.Session, required: bool = False) -> None:
    """Graphviz's `dot` renders the drawings; without it the drawing tests skip, counted in
    the summary, unless ``required``."""
    hint = "install Graphviz (Debian: apt-get install graphviz; macOS: brew install graphviz)"
    without = "the drawing tests will skip"
    _debian_tool(session, "dot", "graphviz", "Graphviz's `dot`", without, hint, required)
