"""Every registered op against mpmath, generated from the registry (the id is the op's name).

Tolerances: an op's f must return its value and each partial within ULPS ulps of the exact
result at inputs perturbed by ULPS ulps, i.e. within ULPS * EPS * (|exact| + sum_j |x_j d/dx_j
exact|); that is what a backward-stable formula delivers. Results that underflow may further
carry an absolute error of ULPS subnormal units, scaled by the inputs that multiply them,
and the oracle's own truncation error is below ORACLE_ATOL (see micrograd.testing).
"""

import itertools
import math

import mpmath
import pytest
from hypothesis import given
from hypothesis import strategies as st

from micrograd import OpError, Value, apply
from micrograd.ops import VARIADIC
from micrograd.testing import ORACLE_DPS, edge_points, op_params, points
from micrograd.testing.oracle import (
    beyond_float64,
    may_overflow,
    op_exact,
    op_mismatches,
    op_tolerance,
)
from tests.helpers import each_op, same_float


def input_domains(op, params, data):
    domains = op.domains(*params)
    return domains * (2 * data.draw(st.integers(1, 3))) if op.arity == VARIADIC else domains


exact = op_exact  # (value, partials, scales) in mpmath: the conformance run uses it too


def assert_close(got, want, scale, xs, what):
    # op_tolerance: ULPS ulps of the exact result at inputs perturbed by ULPS ulps, plus
    # subnormal units and the oracle's own error (its docstring has the model).
    assert abs(got - want) <= op_tolerance(want, scale, xs), (
        f"{what}: got {got!r}, exact {mpmath.nstr(want, 20)}"
    )


@each_op
@given(data=st.data())
def test_value_and_partials_match_mpmath(op, data):
    params = data.draw(op_params(op))
    xs = [data.draw(points(d, op.kinks, scale=50.0)) for d in input_domains(op, params, data)]
    out = apply(op, *xs, params=params)
    with mpmath.workdps(ORACLE_DPS):
        # The per-op check the conformance run applies to any engine (op_mismatches).
        wrong = op_mismatches([out.data, *out._partials], exact(op, xs, params), xs)
        assert not wrong, f"{op.name}{tuple(xs) + params}: {'; '.join(wrong)}"


def any_float(domain, kinks):
    """Every finite float, with the edges, kinks and extremes drawn often."""
    return st.one_of(
        st.sampled_from(edge_points(domain, kinks)),
        st.floats(allow_nan=False, allow_infinity=False),
    )


@each_op
@given(data=st.data())
def test_any_finite_input_gives_the_right_answer_or_a_clear_error(op, data):
    params = data.draw(op_params(op))
    domains = input_domains(op, params, data)
    check_any_input(op, [data.draw(any_float(d, op.kinks)) for d in domains], params)


@each_op
def test_every_edge_and_extreme_input_gives_the_right_answer_or_a_clear_error(op):
    # The fuzz above, run exhaustively over the points where domains and formulas change.
    for params in itertools.product(*op.params.values()):
        domains = op.domains(*params) * (2 if op.arity == VARIADIC else 1)
        for xs in itertools.product(*(edge_points(d, op.kinks) for d in domains)):
            check_any_input(op, list(xs), params)


def check_any_input(op, xs, params):
    """The value and partials of ``op`` at ``xs`` are right, or it raises the documented error."""
    domains = op.domains(*params) * (len(xs) if op.arity == VARIADIC else 1)
    try:
        out = apply(op, *xs, params=params)
    except OpError as e:
        error = str(e)
    else:
        error = None
    if not all(x in d for x, d in zip(xs, domains, strict=True)):
        assert error is not None, (
            f"{op.name}{tuple(xs) + params} is outside the domain but gave a result"
        )
        assert "outside the domain" in error
        return
    with mpmath.workdps(ORACLE_DPS):
        mps = [mpmath.mpf(x) for x in xs]
        value = op.mp(mpmath, *mps, *params)
        at_kink = any(x in op.kinks for x in xs)
        skip = at_kink or beyond_float64(value)
        _, partials, scales = ([], [], [0.0]) if skip else exact(op, xs, params)
        biggest = max(abs(v) for v in [value, *partials])
        if beyond_float64(biggest):
            assert error is not None, f"{op.name}{tuple(xs) + params} overflows silently"
            assert "overflows" in error
            return
        assert error is None or may_overflow(biggest), f"{op.name}{tuple(xs) + params}: {error}"
        if error is not None:
            return
        assert math.isfinite(out.data)
        assert all(map(math.isfinite, out._partials))
        assert_close(out.data, value, scales[0], xs, f"{op.name}{tuple(xs) + params}")
        if not at_kink:
            wrong = op_mismatches([out.data, *out._partials], (value, partials, scales), xs)
            assert not wrong, f"{op.name}{tuple(xs) + params}: {'; '.join(wrong)}"
            return
        # At a kink (or its signed twin): exactly the derivative the registry declares there.
        (x,) = xs  # kinks belong to ops of one input (tests/test_registry.py)
        assert same_float(out._partials[0], op.kinks[x]), (
            f"d {op.name}({x!r}) = {out._partials[0]!r}, the registry declares {op.kinks[x]!r}"
        )


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_value_takes_exactly_the_finite_floats(x):
    if math.isfinite(x):
        assert Value(x).data == x
    else:
        with pytest.raises(ValueError, match="finite"):
            Value(x)
