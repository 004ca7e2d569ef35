"""The optional extras and how to install one: the words every "missing package" error uses.

micrograd needs nothing to run; drawing, the demo and the verification tools need the extras
declared in pyproject.toml. This package is distributed as ``micrograd-verified`` (it imports
as ``micrograd``, the drop-in for 0.1.0); the package index's ``micrograd`` is 0.1.0 itself,
which has neither extras nor these modules.
"""

from __future__ import annotations

DISTRIBUTION = "micrograd-verified"


def install(extra: str) -> str:
    """The command that installs ``extra`` from a clone of this project."""
    return f"pip install -e '.[{extra}]' (in a clone of {DISTRIBUTION})"


def missing(what: str, extra: str, error: ImportError) -> ImportError:
    """The error for ``what`` needing ``extra`` when ``error`` (a failed import) says it is
    not installed: which package, which extra, and the command."""
    name = error.name or "a package"
    return ImportError(
        f"{what} needs the {extra!r} extra ({name} is not installed): {install(extra)}",
        name=error.name,
    )


__all__ = ["DISTRIBUTION", "install", "missing"]
