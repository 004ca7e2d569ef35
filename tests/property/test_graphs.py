"""Random expression programs: gradients against the oracle and finite differences, and the
algebra gradients obey. Programs draw every registered op (see micrograd.testing.programs)."""

import math
from collections import defaultdict
from fractions import Fraction

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from micrograd import OPS, OpError, apply
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
from micrograd.testing.floats import MAX

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

CANCELLING_AT_STEP = Program(  # -x*x + (-x)(c - x) = -c x: exact at 0, EPS h**2 noise at x = h
    (0.0,),
    (
        Instr("neg", ("x0",)),
        Instr("sub", (3.179547614371529e-65, "x0")),
        Instr("dot", ("x0", "v0", "v0", "v1")),
    ),
)


@given(programs())
@example(LOG_NEAR_ONE)
@example(SUBNORMAL)
@example(TINY_SQUARE)
@example(CUBE_AT_ZERO)
@example(CANCELLING)
@example(CANCELLING_AT_STEP)
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
# Found by the thorough profile: sigmoid's derivative at 725.5 is subnormal (8.2e-316, 27 bits),
# and backward multiplies its rounding error by the partials below it (3 v0**2 ~ 129).
SUBNORMAL_CHAIN = Program(
    (2.5625,),
    (
        Instr("mul", ("x0", "x0")),
        Instr("pow", ("v0",), (3.0,)),
        Instr("dot", (0.0, 0.0, "x0", 0.0, 0.0, "v1")),
    ),
)
# Found by the thorough profile: a subnormal constant makes a subnormal partial, and the
# product seed * partial rounds differently for seed 1 and seed 2**-1.
SUBNORMAL_PARTIAL = Program(
    (1.0, 0.0),
    (
        Instr("exp", ("x0",)),
        Instr("add", (0.0, "v0")),
        Instr("dot", (0.0, 2.225073858507e-311, 0.0, "v1")),
    ),
)
# Found by the thorough profile: x0 * x0 lands near the least normal and seed 2**-5 pushes
# seed * x0 * x0 below it (2.973825800258407e-308 against 2**-5 * 9.5162425608269e-307).
NEAR_LEAST_NORMAL = Program(
    (5.6321229155700844e-154,), (Instr("mul", ("x0", "x0")), Instr("mul", ("v0", "x0")))
)

UNARY = sorted(
    (op for op in OPS.values() if op.arity == 1 and not op.params), key=lambda op: op.name
)

# The error model of backward() itself (tests below): every product d * g is rounded,
# fl(r) = r (1 + delta) + eta with |delta| <= U and |eta| <= HALF_TINY (eta only when r falls
# among the subnormals); a sum's rounding has no eta (a sum that lands among the subnormals is
# exact). Bounds are computed in exact rationals, so they neither round nor overflow.
U = Fraction(1, 2**53)
HALF_TINY = Fraction(1, 2**1075)
LEAST_NORMAL = Fraction(1, 2**1022)


def graph(out):
    """Every node out depends on, each after its inputs (no recursion)."""
    order, seen, stack = [], {id(out)}, [(out, iter(out._parents))]
    while stack:
        v, parents = stack[-1]
        for p in parents:
            if id(p) not in seen:
                seen.add(id(p))
                stack.append((p, iter(p._parents)))
                break
        else:
            stack.pop()
            order.append(v)
    return order


def edges(v):
    """(input, partial) for every input of v with a non-zero partial: backward() adds
    exactly 0 through a zero partial, in any run."""
    return [(p, d) for p, d in zip(v._parents, v._partials, strict=True) if d]


def gamma(k):
    """Higham's gamma_k = k U / (1 - k U): a sum of k + 1 terms errs by gamma_k sum |terms|."""
    return k * U / (1 - k * U)


@given(programs(), st.sampled_from(UNARY))
@example(SUBNORMAL_CHAIN, OPS["sigmoid"])
def test_chain_rule_composes_a_unary_op_on_the_output(program, op):
    check_chain_rule(program, op)


@pytest.mark.parametrize("op", UNARY, ids=lambda op: op.name)
def test_chain_rule_with_a_gradient_among_the_subnormals(op):
    check_chain_rule(SUBNORMAL_PRODUCT, op)  # found by the test above


def check_chain_rule(program, op):
    """backward() through op(program) gives d * (the program's own gradient), d = op'.

    Error model: each run's gradients are within the program's error bound (error_bounds,
    which covers the rounding of every product and sum of backward), the composed one scaled
    by |d|; fl(d * g) adds 4 EPS |d g|. Products that land among the subnormals each add an
    absolute eta <= 2**-1075 that is not relative to anything, and backward multiplies it by
    the |partials| below it: amplified(x) = sum over products of eta times the sum over paths
    from the product's node to x of |partial products|, in both runs (the program's own run
    scaled by |d|).
    """
    leaves, out = run_engine(program)
    if out.data not in op.domains()[0] or out.data in op.kinks:
        return  # the composed program would be outside the op's domain: nothing to check
    try:
        top = apply(op, out)
    except OpError:
        return  # the op overflows on this output (tests/property/test_ops.py checks that)
    (d,) = top._partials
    _, bounds = error_bounds(program)
    assert all(map(math.isfinite, bounds)), f"error_bounds overflowed: {bounds}\n{program}"
    inner_leaves, inner_out = run_engine(program)
    inner_out.backward()
    order = graph(inner_out)
    magnitude, amplified = defaultdict(Fraction), defaultdict(Fraction)
    magnitude[id(inner_out)] = Fraction(1)
    for v in reversed(order):
        if magnitude[id(v)]:  # else backward does not reach v
            for p, dp in edges(v):
                magnitude[id(p)] += abs(Fraction(dp)) * magnitude[id(v)]
                amplified[id(p)] += abs(Fraction(dp)) * amplified[id(v)] + HALF_TINY
    d = Fraction(d)
    try:
        top.backward()
    except OpError:
        # Only a gradient of the composed graph beyond float64 may raise: some partial sum
        # of d * (the gradient of a node) reaches MAX.
        worst = max(abs(d) * magnitude[id(v)] for v in order)
        assert worst * (1 + gamma(len(order) + 2)) >= MAX, f"{op.name} of\n{program}"
        return
    for i, (x, inner, bound) in enumerate(zip(leaves, inner_leaves, bounds, strict=True)):
        if not d:
            assert x.grad == 0.0, f"d/dx{i}: {op.name}' is 0 here\n{program}"
            continue
        want = d * Fraction(inner.grad)
        amp = amplified[id(inner)]
        allowed = 2 * abs(d) * Fraction(bound) + 4 * Fraction(EPS) * abs(want)
        allowed += (1 + abs(d)) * amp + HALF_TINY  # + rounding of d * g itself
        assert abs(Fraction(x.grad) - want) <= allowed, (
            f"d/dx{i} of {op.name}(output): {x.grad!r}, {op.name}' * d output/dx{i} = "
            f"{float(want)!r} (allowed error {float(allowed):.3g})\n{program}"
        )


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


def scaling_bounds(out, seed):
    """For each node of a graph after out.backward(): a bound on |g_seed - seed * g|, where g
    is the node's gradient from that backward() and g_seed the one backward(gradient=seed)
    computes, for seed a power of two. Keyed by id(node).

    Error model: scaling by a power of two commutes with rounding while both the result and
    its scaled twin are normal (>= 2**-1022) or zero. So a product d * g is exactly scaled
    when g was and |d g| and seed |d g| are both normal, and a node's gradient, a sum of such
    products, is exactly scaled when every non-zero product has |d g| >= SAFE: all its
    partial sums are then multiples of a power of two that stays normal once scaled, or zero.
    Otherwise a product errs by U (seed |d g| + |d| e) + |d| e + seed U |d g| + (1 + seed)
    HALF_TINY, e the error of g, and a sum of k products by the sum of their errors plus
    gamma_{k-1} (2 seed sum |d g| + sum of their errors), rounding in both runs.
    """
    s = Fraction(seed)
    safe = Fraction(2) ** (52 - 1022) / min(1, s)  # ulp >= 2**-1022 / min(1, s)
    order = graph(out)
    terms = {id(v): [] for v in order}  # (|d g| exact, |fl(d g)|, error of the scaled run)
    error = {}
    for v in reversed(order):
        ts = terms[id(v)]
        if v is out:
            e = Fraction(0)
        else:
            e = sum(t[2] for t in ts)
            if len(ts) > 1 and (e or any(t[1] < safe for t in ts if t[1])):
                e += gamma(len(ts) - 1) * (2 * s * sum(t[1] for t in ts) + e)
        error[id(v)] = e
        g = Fraction(v.grad)
        for p, d in edges(v):
            if not g and not e:
                continue  # 0 in both runs
            dg = abs(Fraction(d) * g)
            pe = abs(Fraction(d)) * e
            if e or not (dg >= LEAST_NORMAL and s * dg >= LEAST_NORMAL):
                pe += U * (2 * s * dg + abs(Fraction(d)) * e) + (1 + s) * HALF_TINY
            terms[id(p)].append((dg, abs(Fraction(d * v.grad)), pe))
    return error


@given(programs(), st.integers(-8, 8))
@example(SUBNORMAL_PARTIAL, -1)
@example(NEAR_LEAST_NORMAL, -5)
def test_backward_seed_scales_every_gradient_exactly(program, k):
    """backward(gradient=2**k) gives 2**k times backward()'s gradients, exactly unless
    rounding met the subnormals; then within what that rounding allows (scaling_bounds)."""
    seed = math.ldexp(1.0, k)
    leaves, out = run_engine(program)
    out.backward()
    bounds = scaling_bounds(out, seed)
    plain = [(x.grad, bounds.get(id(x), Fraction(0))) for x in leaves]
    leaves, out = run_engine(program)
    out.backward(gradient=seed)
    for i, (x, (g, allowed)) in enumerate(zip(leaves, plain, strict=True)):
        assert abs(Fraction(x.grad) - seed * Fraction(g)) <= allowed, (
            f"d/dx{i}: seed {seed!r} gives {x.grad!r}, seed 1 gives {g!r} (allowed error "
            f"{float(allowed):.3g})\n{program}"
        )
