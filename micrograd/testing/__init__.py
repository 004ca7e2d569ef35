"""Tools to verify gradients, of our engine or of any engine with the micrograd API.

Needs the ``test`` extra (hypothesis, mpmath). One idea per module:

- ``programs``: random expression graphs as straight-line programs, and their Hypothesis
  strategies (``programs()``, ``points()``, ``op_params()``) and the edge inputs every op check tries
  (``edge_points()``), runnable on any engine.
- ``oracle``: the precise oracle (mpmath at ORACLE_DPS digits) and the error model
  (``error_bounds``, ULPS).
- ``gradcheck``: finite differences, ``gradcheck`` and ``check_program``.
- ``reference``: ``reference_backward``, the plain meaning of ``Value.backward``.
- ``floats``: the float64 numbers the error models name (LEAST_SUBNORMAL, SMALLEST_NORMAL, MAX).
- ``conformance``: the same checks driven through an adapter over another engine, giving a
  scorecard (``python -m micrograd.conformance --help``).
"""

try:  # the test extra: a clear message when it is missing
    import hypothesis  # noqa: F401
    import mpmath  # noqa: F401
except ImportError as e:
    from ..extras import missing

    raise missing("micrograd.testing", "test", e) from e

from ..engine import OpError
from ..ops import registered
from .gradcheck import (
    GradcheckError,
    central_difference,
    check_program,
    check_second_order,
    engine_gradients,
    gradcheck,
    one_sided_differences,
)
from .oracle import (
    EPS,
    ORACLE_ATOL,
    ORACLE_DPS,
    ULPS,
    error_bounds,
    mp_derivative,
    oracle_gradients,
    oracle_hessian,
    run_mp,
)
from .programs import (
    BOUND,
    EDGES,
    MARGIN,
    Instr,
    Program,
    edge_points,
    op_params,
    points,
    program_of,
    programs,
    run_engine,
    run_float,
    safe,
    spell,
)
from .reference import reference_backward

__all__ = [
    "BOUND",
    "EDGES",
    "EPS",
    "MARGIN",
    "ORACLE_ATOL",
    "ORACLE_DPS",
    "ULPS",
    "GradcheckError",
    "Instr",
    "OpError",
    "Program",
    "central_difference",
    "check_program",
    "check_second_order",
    "edge_points",
    "engine_gradients",
    "error_bounds",
    "gradcheck",
    "mp_derivative",
    "one_sided_differences",
    "op_params",
    "oracle_gradients",
    "oracle_hessian",
    "points",
    "program_of",
    "programs",
    "reference_backward",
    "registered",
    "run_engine",
    "run_float",
    "run_mp",
    "safe",
    "spell",
]
