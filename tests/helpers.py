"""Small checks shared by the test files (one copy of each)."""

import math
import shutil

import pytest

from micrograd import OPS, Op


def same_float(a: float, b: float) -> bool:
    """a and b are the same float, the sign of zero included (nan is never the same)."""
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def each_op(test):
    """Run ``test(op)`` once per registry op, read at collection (the id is the op's name)."""
    return pytest.mark.parametrize("op", list(OPS.values()), ids=lambda op: op.name)(test)


# The tests that render a drawing need Graphviz's dot program; without it they alone skip, and
# pytest's summary (-ra) counts them with this reason.
needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None,
    reason="Graphviz's dot is not installed, so drawings are not rendered (Debian: apt-get "
    "install graphviz; macOS: brew install graphviz; conda: conda install graphviz)",
)


# An op for the tests that register one at run time: a method op with f, torch and mp only (no
# symbol, no partials=), as a user's first row often is.
SQUARE = Op(
    "square", 1, lambda a: (a * a, (2 * a,)), "{}.square()", torch="square", mp=lambda mp, a: a * a
)
