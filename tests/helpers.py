"""Small checks shared by the test files (one copy of each)."""

import math


def same_float(a: float, b: float) -> bool:
    """a and b are the same float, the sign of zero included (nan is never the same)."""
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
