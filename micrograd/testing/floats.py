"""The float64 numbers the error models name, each under one name."""

import sys

EPS = sys.float_info.epsilon  # 2**-52: the gap between 1.0 and the next float
LEAST_SUBNORMAL = 2.0**-1074  # 5e-324: the least positive float
SMALLEST_NORMAL = sys.float_info.min  # 2**-1022: below it, floats lose precision
MAX = sys.float_info.max  # about 1.8e308: beyond it, inf

__all__ = ["EPS", "LEAST_SUBNORMAL", "MAX", "SMALLEST_NORMAL"]
