"""The precise oracle and the error model: what the exact answer is, and how far float64 may be.

The oracle evaluates a program (or one op) in mpmath at ORACLE_DPS digits and differentiates
that evaluation; ``error_bounds`` bounds the rounding error an engine whose every op is within
ULPS ulps may commit on a program's output and gradients.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from typing import Any

import mpmath

from ..ops import OPS, VARIADIC, Domain, Op
from .floats import EPS, LEAST_SUBNORMAL, MAX
from .programs import Program

OVERFLOW = mpmath.ldexp(1, 1024) - mpmath.ldexp(1, 970)  # the least exact value rounding to inf


def beyond_float64(exact: Any) -> bool:
    """Whether an exact result rounds to inf: an op must raise its overflow error there."""
    return bool(abs(exact) >= OVERFLOW)


def may_overflow(exact: Any) -> bool:
    """Whether an op may raise its overflow error for an exact result this large though it
    fits: a formula may overflow in an intermediate step within a factor 2**20 of MAX."""
    return bool(abs(exact) > MAX * 2.0**-20)


ORACLE_DPS = 50  # digits the precise oracle works with (mpmath.workdps)
ULPS = 8  # every op's f returns its value and partials within this many ulps (see tests)


def error_bounds(program: Program) -> tuple[float, list[float]]:
    """First-order bounds on the rounding error of the output and of each leaf's gradient.

    Forward, a value's error is ULPS ulps of itself plus its inputs' errors times |partial|;
    a partial's error is ULPS ulps of itself plus its inputs' errors times the partial's own
    sensitivity to them (by central differences of ``f``). Backward, a gradient's error
    collects |partial| x the consumer's error + the partial's error x |consumer's gradient|.
    """
    out, grads = node_error_bounds(program)
    return out, [grads[f"x{i}"] for i in range(len(program.leaves))]


def node_error_bounds(program: Program) -> tuple[float, dict[str, float]]:
    """The output's error bound and the gradient error bound of every node ("x0", "v3"), as
    error_bounds computes them."""
    val = {f"x{i}": x for i, x in enumerate(program.leaves)}
    err = dict.fromkeys(val, 0.0)
    edges: list[tuple[str, list[tuple[str | float, float, float]]]] = []
    for j, ins in enumerate(program.instrs):
        op, xs = OPS[ins.op], [val[a] if isinstance(a, str) else a for a in ins.args]
        es = [err[a] if isinstance(a, str) else 0.0 for a in ins.args]
        y, ds = op.f(*xs, *ins.params)
        derr = [ULPS * EPS * abs(d) for d in ds]
        for k, (x, e) in enumerate(zip(xs, es, strict=True)):
            if e:
                h = 1e-6 * max(1.0, abs(x))  # inputs are > MARGIN from any edge: f is smooth
                up = op.f(*xs[:k], x + h, *xs[k + 1 :], *ins.params)[1]
                down = op.f(*xs[:k], x - h, *xs[k + 1 :], *ins.params)[1]
                derr = [
                    de + e * abs(u - w) / (2 * h) for de, u, w in zip(derr, up, down, strict=True)
                ]
        val[f"v{j}"] = y
        err[f"v{j}"] = ULPS * EPS * abs(y) + sum(abs(d) * e for d, e in zip(ds, es, strict=True))
        edges.append((f"v{j}", list(zip(ins.args, ds, derr, strict=True))))
    grad = dict.fromkeys(val, 0.0)
    gerr = dict.fromkeys(val, 0.0)
    grad[edges[-1][0]] = 1.0
    for name, inputs in reversed(edges):
        for a, d, de in inputs:
            if isinstance(a, str):
                grad[a] += abs(d) * grad[name]
                gerr[a] += abs(d) * gerr[name] + de * grad[name]
    return err[edges[-1][0]], gerr


def mp_derivative(
    f: Callable[[Any], Any],
    x: float | Any,
    n: int = 1,
    domain: Domain | None = None,
    kinks: Collection[float] = (),
    direction: int = 0,
) -> Any:
    """The n-th derivative of f at x by mpmath, accurate to about the current precision.

    f is taken to vary on the scale s = max(1, |x|), or the distance to the nearest domain
    edge or kink where that is less. The step h = s 2**-(2 prec) keeps truncation, ~(h/s)**2
    relative, below 2**-(4 prec) (ORACLE_ATOL bounds it for the programs drawn here); one-sided
    (``direction`` +-1, and at a closed domain edge) h = s 2**-(8 prec), as the error is then
    O(h), or O(h**0.5) for x**1.5 at 0. The working precision holds x + h exactly.
    A second estimate, with a smaller step and more precision, must agree to 2**-prec
    (|f'| + |f| / s) + 2**-(4 prec); else f varies faster than s or cancels, and both shrink
    again.
    """
    x = mpmath.mpf(x)
    prec = mpmath.mp.prec
    scale = max(abs(x), 1)
    if domain is not None:
        edges = [domain.lo, domain.hi, *domain.holes, *kinks]
        dist = min((abs(x - e) for e in edges if mpmath.isfinite(e) and x != e), default=mpmath.inf)
        scale = min(scale, dist)
        if domain.closed and x == domain.lo:
            direction = 1
    h = scale * mpmath.ldexp(1, -8 * prec if direction else -2 * prec)
    extra = 20 + mpmath.mag(max(abs(x), 1)) - mpmath.mag(h)
    fx = f(x)
    tiny = mpmath.ldexp(1, -4 * prec)  # below the one-sided error, O(h**0.5); see ORACLE_ATOL
    d = mpmath.diff(f, x, n, h=h, direction=direction, addprec=extra)
    for k in range(8):
        shrink = 16 << k
        h, extra = h * mpmath.ldexp(1, -shrink), extra + shrink + 64
        again = mpmath.diff(f, x, n, h=h, direction=direction, addprec=extra)
        if abs(again - d) <= (abs(again) + abs(fx) / scale) * mpmath.ldexp(1, -prec) + tiny:
            return again
        d = again
    raise ArithmeticError(f"no stable derivative at {x}")


def oracle_gradients(program: Program, dps: int = ORACLE_DPS) -> list[Any]:
    """d output / d leaf at ``dps`` digits, by differentiating the mpmath evaluation."""
    with mpmath.workdps(dps):
        xs = [mpmath.mpf(x) for x in program.leaves]

        def along(i: int) -> Callable[[Any], Any]:
            return lambda t: run_mp(program, [*xs[:i], t, *xs[i + 1 :]])

        return [mp_derivative(along(i), x) for i, x in enumerate(xs)]


def oracle_hessian(program: Program, dps: int = ORACLE_DPS) -> list[list[Any]]:
    """d2 output / d leaf_i d leaf_j at ``dps`` digits, by mpmath.diff's central differences
    of the mpmath evaluation: a step h = 2**-(prec + 10) and 3 (prec + 20) bits of working
    precision, so truncation is ~h**2 |f^(4)| and rounding ~2**-(prec + 30) |f| (see
    ORACLE_HESSIAN_ATOL). For programs whose inputs are MARGIN from every edge and kink."""
    with mpmath.workdps(dps):
        xs = [mpmath.mpf(x) for x in program.leaves]
        n = len(xs)

        def f(*ys: Any) -> Any:
            return run_mp(program, ys)

        def entry(i: int, j: int) -> Any:
            orders = [0] * n
            orders[i] += 1
            orders[j] += 1
            return mpmath.diff(f, xs, orders)

        h = {(i, j): entry(i, j) for i in range(n) for j in range(i, n)}
        return [[h[min(i, j), max(i, j)] for j in range(n)] for i in range(n)]


# oracle_hessian (at 50 digits, prec = 169 bits) is off by about 2**-358 |f^(4)| + 2**-199 |f|:
# drawn programs have |f^(4)| far below 1e50 and |f| below 1e3 (BOUND), so below 1e-50.
ORACLE_HESSIAN_ATOL = 1e-50
# Relative to the result, both oracles agree with the exact derivative to about 2**-prec
# (mp_derivative's own agreement test; mpmath.diff's rounding above): an exact float result
# (a constant gradient) is then allowed that much.
ORACLE_RTOL = 2.0**-160


# The oracle (mp_derivative at 50 digits, prec = 169 bits) is off by at most
# 2**-676 |f'''| ~ 1e-203 |f'''|; drawn programs have |f'''| far below 1e50.
ORACLE_ATOL = 1e-150


def run_mp(program: Program, leaves: Sequence[Any] | None = None) -> Any:
    """The program's output in mpmath at the current precision, through each op's ``mp``."""

    def call(op: Op, args: list[Any], params: tuple[float, ...]) -> Any:
        if op.mp is None:
            raise TypeError(f"op {op.name!r} has no high-precision reference (mp=...)")
        return op.mp(mpmath, *args, *params)

    return program.run(mpmath.mpf, call, leaves=leaves)[1]


def op_exact(
    op: Op, xs: Sequence[float], params: Sequence[float] = ()
) -> tuple[Any, list[Any], list[Any]]:
    """(value, partials, scales) of ``op`` at ``xs`` in mpmath (at the current precision).

    ``scales[0]`` is sum_j |x_j d value / d x_j| and ``scales[1 + i]`` the same for partial i:
    how much perturbing the inputs by a relative eps moves each result (see op_tolerance).
    """
    domains = op.domains(*params) * (len(xs) if op.arity == VARIADIC else 1)
    ms = [mpmath.mpf(x) for x in xs]  # exact; float arithmetic would round or overflow

    def f(*ys: Any) -> Any:
        assert op.mp is not None, f"op {op.name!r} has no high-precision reference (mp=...)"
        return op.mp(mpmath, *ys, *params)

    def partial(i: int, ys: list[Any]) -> Any:
        def g(t: Any) -> Any:
            return f(*ys[:i], t, *ys[i + 1 :])

        return mp_derivative(g, ys[i], domain=domains[i], kinks=op.kinks)

    def moved(j: int, step: Any) -> list[Any]:
        return [*ms[:j], ms[j] + step, *ms[j + 1 :]]

    value = f(*ms)
    partials = [partial(i, ms) for i in range(len(ms))]
    scales = [sum(abs(x * p) for x, p in zip(ms, partials, strict=True))]
    with mpmath.workdps(15):  # a scale is a magnitude: a few digits are plenty
        for i in range(len(ms)):
            scale = mpmath.mpf(0)
            for j, x in enumerate(ms):
                edges = [
                    e for e in (domains[j].lo, *domains[j].holes, *op.kinks) if math.isfinite(e)
                ]
                step = min([abs(x), *(abs(x - e) for e in edges)]) * mpmath.ldexp(1, -20)
                if step:
                    up, down = partial(i, moved(j, step)), partial(i, moved(j, -step))
                    scale += abs(x * (up - down) / (2 * step))
            scales.append(scale)
    return value, partials, scales


def op_tolerance(want: Any, scale: Any, xs: Sequence[float]) -> Any:
    """How far an op's float result may be from ``want`` (op_exact's value or partial, with its
    scale): ULPS ulps of the exact result at inputs perturbed by ULPS ulps, which is what a
    backward-stable formula delivers; results that underflow may further carry ULPS subnormal
    units, scaled by the inputs that multiply them; plus the oracle's own ORACLE_ATOL."""
    atol = ULPS * LEAST_SUBNORMAL * (1 + sum(abs(x) for x in xs)) + ORACLE_ATOL
    return ULPS * EPS * (abs(want) + scale) + atol


def op_mismatches(
    got: Sequence[float],
    exact: tuple[Any, list[Any], list[Any]],
    xs: Sequence[float],
    rtol: float = 0.0,
    atol: float = 0.0,
) -> list[str]:
    """Every result of an op that ``got`` (its value, then each partial, as floats) has
    outside op_tolerance of ``exact`` (op_exact's answer at ``xs``), widened by ``rtol``
    relative to each result's size and scale and by ``atol``: ``["d/dx1 0.5, exact
    0.49999999999999997224"]``, or [] when every one is within. The per-op check, one
    implementation for this package's ops (tests/property) and any engine's (conformance)."""
    value, partials, scales = exact
    wrong = []
    for k, (g, w, s) in enumerate(zip(got, [value, *partials], scales, strict=True)):
        tol = op_tolerance(w, s, xs) + rtol * (abs(w) + s) + atol
        if not (isinstance(g, float) and math.isfinite(g) and abs(g - w) <= tol):
            what = "value" if k == 0 else f"d/dx{k - 1}"
            wrong.append(f"{what} {g!r}, exact {mpmath.nstr(w, 20)}")
    return wrong


__all__ = [
    "EPS",
    "ORACLE_ATOL",
    "ORACLE_DPS",
    "ORACLE_HESSIAN_ATOL",
    "ORACLE_RTOL",
    "OVERFLOW",
    "ULPS",
    "beyond_float64",
    "error_bounds",
    "may_overflow",
    "mp_derivative",
    "node_error_bounds",
    "op_exact",
    "op_mismatches",
    "op_tolerance",
    "oracle_gradients",
    "oracle_hessian",
    "run_mp",
]
