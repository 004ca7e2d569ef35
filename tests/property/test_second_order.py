"""Second derivatives, generated from the registry and the random programs.

Every op's partials written with Values (its ``partials=``) against mpmath, with the tolerance
its ``f`` is held to (tests/property/test_ops.py); and the Hessian of every op and of random
programs against the 50-digit oracle and central differences of the engine's own gradients,
with the error model micrograd.testing.check_second_order states: a gradient built with
create_graph is a graph of registry ops, and error_bounds of that graph bounds its rounding.
"""

import itertools

import mpmath
from hypothesis import example, given
from hypothesis import strategies as st

from micrograd import OpError, Value, apply
from micrograd.autograd import graph_partials
from micrograd.ops import VARIADIC
from micrograd.testing import ORACLE_DPS, Instr, Program, check_second_order, op_params, points
from micrograd.testing.floats import LEAST_SUBNORMAL, MAX, SMALLEST_NORMAL
from micrograd.testing.programs import programs
from tests.helpers import each_op
from tests.property.test_ops import assert_close, exact, input_domains


@each_op
@given(data=st.data())
def test_partials_as_values_match_mpmath(op, data):
    params = data.draw(op_params(op))
    xs = [data.draw(points(d, op.kinks, scale=50.0)) for d in input_domains(op, params, data)]
    out = apply(op, *map(Value, xs), params=params)
    partials = graph_partials(out)
    assert len(partials) == len(xs), f"{op.name}: {len(partials)} partials for {len(xs)} inputs"
    with mpmath.workdps(ORACLE_DPS):
        _, want, scales = exact(op, xs, params)
        for i, (d, w, s) in enumerate(zip(partials, want, scales[1:], strict=True)):
            got = d.data if isinstance(d, Value) else float(d)
            assert_close(
                got, w, s, xs, f"{op.name}'s partials= at {tuple(xs) + params}, input {i + 1}"
            )


def one_op(op, xs, params):
    return Program(tuple(xs), (Instr(op.name, tuple(f"x{i}" for i in range(len(xs))), params),))


@each_op
@given(data=st.data())
def test_second_derivatives_match_the_oracle_and_finite_differences(op, data):
    # points(): within +-3 and MARGIN from every edge and kink, as the programs' inputs are
    # (the oracle's error statement, ORACLE_HESSIAN_ATOL, is made for those).
    params = data.draw(op_params(op))
    xs = [data.draw(points(d, op.kinks)) for d in input_domains(op, params, data)]
    check_second_order(one_op(op, xs, params))


DIAMOND = Program(  # one product feeding two ops that meet again: mixed terms through shared nodes
    (0.7, -1.3),
    (
        Instr("mul", ("x0", "x1")),
        Instr("tanh", ("v0",)),
        Instr("exp", ("v0",)),
        Instr("mul", ("v1", "v2")),
        Instr("div", ("v3", "x0")),
    ),
)
PRODUCT_AT_ZERO = Program(
    (0.0, 0.0), (Instr("mul", ("x0", "x1")),)
)  # a zero partial still carries d2
# A constant gradient is exact, and the oracle's is off by 2**-169 relative: ORACLE_RTOL.
CONSTANT_GRADIENT = Program((0.3,), (Instr("add", ("x0", 1.0)),))


@given(programs())
@example(DIAMOND)
@example(PRODUCT_AT_ZERO)
@example(CONSTANT_GRADIENT)
def test_second_derivatives_of_random_programs_match_the_oracle_and_finite_differences(program):
    check_second_order(program)


EXTREMES = (  # every sign and scale where formulas branch, underflow or overflow
    *(0.0, -0.0, LEAST_SUBNORMAL, -LEAST_SUBNORMAL, SMALLEST_NORMAL, 1e-200),
    *(0.5, -0.5, 2.0, -2.0, 30.0, -30.0, 380.0, -380.0, 1e300, -1e300, MAX, -MAX),
)


@each_op
def test_the_shipped_partials_compute_fs_floats_at_every_edge_and_extreme(op):
    # The shipped rows write partials= as f computes its partials (the same formulas, chosen by
    # the same branches), so the floats are equal: a gradient built with create_graph has the
    # numbers backward() gives. Where a partial cannot be built as Values (an infinite
    # derivative of it, an overflowing intermediate), OpError names the op.
    checked, refused = 0, []
    for params in itertools.product(*op.params.values()):
        domains = op.domains(*params) * (2 if op.arity == VARIADIC else 1)
        for xs in itertools.product(*([x for x in EXTREMES if x in d] for d in domains)):
            try:
                out = apply(op, *map(Value, xs), params=params)
            except OpError:
                continue  # outside what f computes: test_ops checks the error
            try:
                partials = graph_partials(out)
            except OpError as e:
                refused.append(str(e))
                continue
            got = [d.data if isinstance(d, Value) else float(d) for d in partials]
            assert got == list(out._partials), (
                f"{op.name}{xs + params}: {got} vs f's {out._partials}"
            )
            checked += 1
    assert checked, op.name
    assert all(e.startswith(f"{op.name}(") for e in refused), refused
