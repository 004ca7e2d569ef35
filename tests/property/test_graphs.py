"""Random expression programs: gradients against the oracle and finite differences, and the
algebra gradients obey. Programs draw every registered op (see micrograd.testing.programs)."""

import math

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from micrograd import OPS, apply
from micrograd.testing import (
    EPS,
    Instr,
    Program,
    check_program,
    error_bounds,
    programs,
    run_engine,
    run_float,
)

# Bugs found by these tests, kept as examples so they stay fixed.
LOG_NEAR_ONE = Program(  # log of a value rounded near 1: the error bound must see its conditioning
    (0.0, 0.0, 1e-08),
    (Instr("powv", (1.75, "x2")), Instr("powv", ("v0", "x0")), Instr("add", ("v1", 1.0))),
)
SUBNORMAL = Program((0.0, 1.0, 5e-324), (Instr("div", ("x2", "x1")),))  # FD below a subnormal
TINY_SQUARE = Program((3.1450683110957585e-74,), (Instr("pow", ("x0",), (2.0,)),))
CUBE_AT_ZERO = Program((0.0,), (Instr("pow", ("x0",), (3.0,)),))  # oracle step at x = 0
CANCELLING = Program(  # 1 + exp(x) - exp(x): an exactly zero derivative
    (0.0,),
    (
        Instr("exp", ("x0",)),
        Instr("neg", ("v0",)),
        Instr("add", ("v0", "v1")),
        Instr("add", ("v2", 1.0)),
    ),
)


@given(programs())
@example(LOG_NEAR_ONE)
@example(SUBNORMAL)
@example(TINY_SQUARE)
@example(CUBE_AT_ZERO)
@example(CANCELLING)
def test_gradients_match_the_oracle_and_finite_differences(program):
    check_program(program)


@given(programs())
def test_programs_print_as_the_python_that_reproduces_them(program):
    leaves, out = run_engine(program)
    out.backward()
    env = {}
    exec(str(program), env)  # defines x0.., v0.. and calls backward() on the output
    assert [env[f"x{i}"].grad for i in range(len(leaves))] == [x.grad for x in leaves]
    assert env[f"v{len(program.instrs) - 1}"].data == out.data == run_float(program)


def grads(program):
    leaves, out = run_engine(program)
    out.backward()
    return [x.grad for x in leaves]


@given(programs(), st.floats(-4, 4), st.floats(-4, 4), st.data())
def test_gradients_are_linear_in_the_output(program, alpha, beta, data):
    # d(aF + bG) = a dF + b dG, with G another instruction of the same program (shared nodes).
    j = data.draw(st.integers(0, len(program.instrs) - 1))
    n = len(program.instrs)
    combined = grads(
        Program(
            program.leaves,
            (
                *program.instrs,
                Instr("mul", (f"v{n - 1}", alpha)),
                Instr("mul", (f"v{j}", beta)),
                Instr("add", (f"v{n}", f"v{n + 1}")),
            ),
        )
    )
    df = grads(program)
    dg = grads(Program(program.leaves, program.instrs[: j + 1]))
    # Same partials, summed in a different order and scaled at a different place: each path
    # product differs by a few roundings, so compare within ULPS-style bounds of the paths.
    _, bound_f = error_bounds(program)
    _, bound_g = error_bounds(Program(program.leaves, program.instrs[: j + 1]))
    for c, f, g, ef, eg in zip(combined, df, dg, bound_f, bound_g, strict=True):
        assert c == pytest.approx(
            alpha * f + beta * g, rel=1e-12, abs=8 * (abs(alpha) * ef + abs(beta) * eg) + 1e-300
        )


SUBNORMAL_PRODUCT = Program((2.2250738585e-313, 0.0), (Instr("mul", ("x0", "x0")),))


UNARY = sorted(
    (op for op in OPS.values() if op.arity == 1 and not op.params), key=lambda op: op.name
)


@given(programs(), st.sampled_from(UNARY))
def test_chain_rule_composes_a_unary_op_on_the_output(program, op):
    check_chain_rule(program, op)


@pytest.mark.parametrize("op", UNARY, ids=lambda op: op.name)
def test_chain_rule_with_a_gradient_among_the_subnormals(op):
    check_chain_rule(SUBNORMAL_PRODUCT, op)  # found by the test above


def check_chain_rule(program, op):
    leaves, out = run_engine(program)
    if out.data not in op.domains()[0] or out.data in op.kinks:
        return  # the composed program would be outside the op's domain: nothing to check
    try:
        top = apply(op, out)
    except ArithmeticError:
        return  # the op overflows on this output
    top.backward()
    inner = grads(program)
    (d,) = top._partials
    # d * (sum of path products) against the sum of (d * path product): the two roundings of
    # the same sum, each within the program's error bound, scaled by |d|.
    _, bounds = error_bounds(program)
    for x, g, bound in zip(leaves, inner, bounds, strict=True):
        # ... and products that land among the subnormals round to whole units of 2**-1074.
        subnormal = 2 * len(program.instrs) * 2.0**-1074
        assert abs(x.grad - d * g) <= 2 * abs(d) * bound + 4 * EPS * abs(d * g) + subnormal


def swapped(program):
    """Every commutative instruction with its inputs swapped (dot: its two vectors)."""

    def swap(ins):
        if not OPS[ins.op].commutative:
            return ins
        half = len(ins.args) // 2
        return Instr(ins.op, ins.args[half:] + ins.args[:half], ins.params)

    return Program(program.leaves, tuple(map(swap, program.instrs)))


@given(programs())
def test_commutative_ops_are_symmetric(program):
    leaves, out = run_engine(program)
    out.backward()
    leaves2, out2 = run_engine(swapped(program))
    out2.backward()
    assert out.data == out2.data  # each op's value is exactly symmetric
    # Gradients are the same sums of the same products, accumulated in another order.
    _, bounds = error_bounds(program)
    for x, x2, bound in zip(leaves, leaves2, bounds, strict=True):
        assert abs(x.grad - x2.grad) <= bound


@given(programs(), st.integers(-8, 8))
def test_backward_seed_scales_every_gradient_exactly(program, k):
    seed = math.ldexp(1.0, k)  # a power of two: scaling by it is exact
    leaves, out = run_engine(program)
    out.backward()
    plain = [x.grad for x in leaves]
    leaves, out = run_engine(program)
    out.backward(gradient=seed)
    assert [x.grad for x in leaves] == [g * seed for g in plain]
