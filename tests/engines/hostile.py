"""Hostile engines: the correct small engine of tests/engines/tiny.py whose relu misbehaves on
a negative input: it hangs, calls exit(), raises BaseException, aborts, prints megabytes, or gives
a node whose data is not a number; with the relu row's status each must get."""

from pathlib import Path

from micrograd.testing.conformance import CRASH, FAIL, PASS, TIMEOUT

SOURCE = Path(__file__).with_name("tiny.py").read_text()
HOOK = "pass  # BUG"  # tiny.py's relu, for a negative input: what a hostile engine replaces


def engine(code: str = "pass") -> str:
    """tests/engines/tiny.py's source with relu's line for a negative input replaced by code."""
    if SOURCE.count(HOOK) != 1:
        raise ValueError(f"tests/engines/tiny.py must hold {HOOK!r} once")
    return SOURCE.replace(HOOK, code)


BUGS = {
    "hangs": ("import time; time.sleep(3600)", TIMEOUT),
    "exits": ("exit(3)", CRASH),
    "raises BaseException": ("raise BaseException('no')", None),
    "aborts": ("import os; os.abort()", CRASH),
    # Printing is not a wrong answer: the row passes, and the pipe never blocks.
    "floods": (
        "import sys; sys.stdout.write('x' * 2_000_000); sys.stderr.write('y' * 2_000_000)",
        PASS,
    ),
    "gives a non-number": ("r = self._node(0.0, (self,), (0.0,)); r.data = 'zero'; return r", FAIL),
}
