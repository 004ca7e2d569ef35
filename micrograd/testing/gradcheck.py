"""Finite differences and the checks built on them: ``gradcheck`` for any function of Values,
``check_program`` for a program against the precise oracle and central differences.

Both take the engine as an argument (our Value by default), so the same checks verify any
micrograd-API engine. A failure raises GradcheckError whose first line says what is wrong; the
detail (the program as Python, the numbers) follows it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from numbers import Real
from typing import Any

import mpmath

from ..autograd import grad
from ..engine import Value
from ..ops import Op
from .floats import LEAST_SUBNORMAL
from .oracle import (
    EPS,
    ORACLE_ATOL,
    ORACLE_DPS,
    ORACLE_HESSIAN_ATOL,
    ORACLE_RTOL,
    error_bounds,
    oracle_gradients,
    oracle_hessian,
    run_mp,
)
from .programs import Program, program_of, run_engine, run_float


class GradcheckError(AssertionError):
    """A gradient differs from its reference by more than the error model allows."""


def central_difference(
    f: Callable[[list[float]], float],
    xs: list[float],
    i: int,
    noise: float | Callable[[list[float]], float] = 0.0,
) -> tuple[float, float]:
    """d f / d xs[i] by central differences, with an estimate of its error.

    The step h = EPS**(1/3) * max(1, |x|) balances truncation (~h**2 |f'''|) and rounding
    (~EPS max|f| / h). The estimate compares steps h/2, h and 2h: for a smooth f the truncation
    error of D(h) is ~|D(2h) - D(h)| / 3; rounding noise shows up in the same differences.
    ``noise`` bounds the rounding error of f: a number, or f's bound at a point, then taken at
    every point f is evaluated at (intermediates that cancel in f may be far larger there than
    at xs: at x = 0, x*x - x*x is exact, at x = h its rounding is EPS h**2).
    """
    noise_at = noise if callable(noise) else (lambda _: noise)
    fmax, nmax = abs(f(xs)), noise_at(xs)

    def d(h: float) -> float:
        nonlocal fmax, nmax
        up, down = list(xs), list(xs)
        up[i] += h
        down[i] -= h
        fu, fd = f(up), f(down)
        fmax = max(fmax, abs(fu), abs(fd))
        nmax = max(nmax, noise_at(up), noise_at(down))
        return (fu - fd) / (up[i] - down[i])  # the steps actually taken, after rounding

    h = _central_step(xs[i])
    d1 = d(h)
    spread = max(abs(d(2 * h) - d1), abs(d(h / 2) - d1))
    return d1, spread + max(4 * EPS * fmax, nmax, LEAST_SUBNORMAL) / h  # no finer than subnormals


def _noise(program: Program, leaves: list[float]) -> float:
    """error_bounds' bound on the output's rounding error, the program's leaves set to leaves."""
    return error_bounds(dataclasses.replace(program, leaves=tuple(leaves)))[0]


def one_sided_differences(
    f: Callable[[list[float]], float], xs: list[float], i: int, h: float | None = None
) -> tuple[float, float, float]:
    """(left, right, error): the one-sided differences of f along xs[i] and a bound on the
    error either carries where f is smooth on that side (O(h) truncation, estimated from steps
    h and 2h, plus rounding). The step h defaults to EPS**(1/2) max(1, |x|), which balances
    the two; a larger h (central_difference's) sees a kink anywhere within 2h of x."""
    if h is None:
        h = EPS**0.5 * max(1.0, abs(xs[i]))
    f0 = f(xs)

    def side(s: float) -> tuple[float, float]:
        moved = list(xs)
        moved[i] += s
        d1 = (f(moved) - f0) / (moved[i] - xs[i])
        moved[i] = xs[i] + 2 * s
        d2 = (f(moved) - f0) / (moved[i] - xs[i])
        return d1, abs(d2 - d1)

    (left, el), (right, er) = side(-h), side(h)
    return left, right, 2 * (el + er) + 8 * EPS * max(1.0, abs(f0)) / h


def _central_step(x: float) -> float:
    """central_difference's step at x; its stencil reaches 2h either side."""
    return float(EPS ** (1 / 3)) * max(1.0, abs(x))


def gradcheck(
    fn: Callable[..., Any], *inputs: float, value: Callable[[float], Any] = Value
) -> list[float]:
    """Check backward() of ``fn(*Values)`` against central differences; return the gradients.

    ``inputs`` are real numbers (a Value stands for its data), finite in float64; ``value``
    makes a leaf (any micrograd-API Value class; ours by default); ``fn`` must return a Value.
    Otherwise TypeError or ValueError naming the argument. Raises GradcheckError naming the
    input whose gradient is off by more than 10x the estimated error of the finite difference
    (see central_difference) plus 1e-8 relative. Where the input sits at a kink, or so near one
    that the central difference straddles it (the one-sided differences disagree), the error
    says so: finite differences cannot check a derivative there, and for a single registry op
    it names the op's kink and the derivative its entry declares there.
    """
    if not callable(fn):
        raise TypeError(f"gradcheck: fn must be callable, got {type(fn).__name__}: {fn!r:.60}")
    if not callable(value):
        raise TypeError(f"gradcheck: value must be a Value class, got {type(value).__name__}")
    if not inputs:
        raise TypeError("gradcheck: give at least one input (the point where fn is checked)")
    xs = [_input(x, i, value) for i, x in enumerate(inputs)]
    leaves = [value(x) for x in xs]
    out = _output(fn(*leaves))
    out.backward()

    def f(point: list[float]) -> float:
        return float(_output(fn(*map(value, point))).data)

    grads = [float(v.grad) for v in leaves]
    for i, g in enumerate(grads):
        estimate, error = central_difference(f, xs, i)
        if abs(g - estimate) <= 10 * error + 1e-8 * abs(estimate):
            continue
        for h in (None, _central_step(xs[i])):  # at the kink, then within the central stencil
            left, right, side_error = one_sided_differences(f, xs, i, h)
            if abs(left - right) <= side_error + 1e-8 * max(abs(left), abs(right)):
                continue
            sides = (  # + 0.0: a -0.0 prints as 0
                f"the derivative from the left ({left + 0.0:.6g}) and from the right "
                f"({right + 0.0:.6g}) differ, so finite differences cannot check backward's "
                f"{g!r} there"
            )
            if h is None:
                raise GradcheckError(
                    f"input {i} = {xs[i]!r} is at a kink of fn: {sides}"
                    f"{_convention(out, leaves[i])}"
                )
            raise GradcheckError(
                f"input {i} = {xs[i]!r} is near a kink of fn: the central difference (steps "
                f"up to {2 * h:.3g}) straddles it ({estimate!r}), and over that reach {sides}"
                f"{_near(out, leaves[i], 2 * h)}"
            )
        raise GradcheckError(
            f"d/d input {i}: backward gives {g!r}, finite differences {estimate!r} "
            f"(+- {error:.3g}) at inputs {xs!r}"
        )
    return grads


def _input(x: Any, i: int, value: Any) -> float:
    """gradcheck's input i as a finite float; TypeError or ValueError naming it otherwise."""
    if isinstance(x, Value) or (isinstance(value, type) and isinstance(x, value)):
        x = getattr(x, "data", x)  # a Value stands for its number
    if isinstance(x, bool) or not isinstance(x, Real):
        raise TypeError(
            f"gradcheck: input {i} must be a real number, got {type(x).__name__}: {x!r:.60}"
        )
    try:
        y = float(x)
    except OverflowError:  # an int (or Fraction) beyond float64's range
        raise ValueError(
            f"gradcheck: input {i} must be a finite float64 number, got {type(x).__name__} "
            "beyond float64's range (about 1.8e308)"
        ) from None
    if not math.isfinite(y):
        raise ValueError(f"gradcheck: input {i} must be a finite float64 number, got {x!r}")
    return y


def _output(out: Any) -> Any:
    """fn's result, checked to be a Value (something with .data and backward())."""
    if not (hasattr(out, "data") and callable(getattr(out, "backward", None))):
        raise TypeError(
            "gradcheck: fn must return a Value (with .data and backward()), "
            f"got {type(out).__name__}: {out!r:.60}"
        )
    return out


def _convention(out: Any, leaf: Any) -> str:
    """For a single registry op at one of its kinks: the derivative its entry declares there."""
    op = getattr(out, "_entry", None)
    parents = getattr(out, "_parents", ())
    if op is None or leaf not in parents or leaf.data not in op.kinks:
        return ""
    return (
        f"; {op.name}'s registry entry declares the derivative {op.kinks[leaf.data]:g} "
        f"at {leaf.data:g} (PyTorch's convention)"
    )


def _near(out: Any, leaf: Any, reach: float) -> str:
    """For a single registry op with a kink within ``reach`` of the leaf: that kink."""
    op = getattr(out, "_entry", None)
    if op is None or leaf not in getattr(out, "_parents", ()):
        return ""
    near = [k for k in op.kinks if abs(leaf.data - k) <= reach]
    return "".join(
        f"; {op.name} has a kink at {k:g}, where its registry entry declares the derivative "
        f"{op.kinks[k]:g} (PyTorch's convention)"
        for k in near
    )


# What an engine gives for a program: (output value, d output / d leaf for each leaf) after one
# backward(); and its output's value at other leaves (for finite differences).
Gradients = Callable[[Program], tuple[float, Sequence[float]]]
Forward = Callable[[Program, list[float]], float]


def engine_gradients(program: Program) -> tuple[float, list[float]]:
    """Our engine's output value and leaf gradients for ``program`` (one backward)."""
    leaves, out = run_engine(program)
    out.backward()
    return out.data, [x.grad.data if isinstance(x.grad, Value) else x.grad for x in leaves]


def check_program(
    program: Program,
    engine: Gradients | None = None,
    forward: Forward | None = None,
    show: Callable[[Program], str] = str,
) -> list[float]:
    """Check an engine's output value and gradients of ``program`` against the precise oracle,
    and the gradients against central differences of ``forward``; return the gradients.

    ``engine`` defaults to ours, ``forward`` to the registry's float functions, ``show`` (how
    the program prints) to our Value API; a wrong type is a TypeError naming the argument.
    Raises GradcheckError: the first line names the leaf and the two numbers, then the program
    as Python. Where an op of the program is evaluated at one of its kinks, or so near one that
    the central difference straddles it, the first line says so and gives the derivative the
    registry declares there (neither the oracle nor finite differences can check a convention).
    The output value may be off the oracle by 4x its first-order rounding bound and a
    gradient by 4x its own (see error_bounds: first order, so the 4 is headroom for second-order
    terms); against central differences by 10x their estimated error (see central_difference),
    with the rounding noise of the output taken from the same analysis.
    """
    if not isinstance(program, Program):
        raise TypeError(
            f"check_program: program must be a Program, got {type(program).__name__}: "
            f"{program!r:.60}"
        )
    for name, arg in (("engine", engine), ("forward", forward), ("show", show)):
        if arg is not None and not callable(arg):
            raise TypeError(f"check_program: {name} must be callable, got {type(arg).__name__}")
    data, got = (engine or engine_gradients)(program)
    got = [float(g) for g in got]
    if len(got) != len(program.leaves):
        raise GradcheckError(
            f"the engine gives {len(got)} gradients for {len(program.leaves)} leaves"
            f"\n\n{show(program)}"
        )
    noise, bounds = error_bounds(program)
    with mpmath.workdps(ORACLE_DPS):
        want_value = run_mp(program)
    if not abs(float(data) - want_value) <= 4 * noise + ORACLE_ATOL:
        raise GradcheckError(
            f"the output is {float(data)!r}, the oracle says {_digits(want_value)} "
            f"(allowed error {4 * noise:.3g})\n\n{show(program)}"
        )
    run = forward or run_float
    for i, (g, want, bound) in enumerate(zip(got, oracle_gradients(program), bounds, strict=True)):
        if not abs(g - want) <= 4 * bound + ORACLE_ATOL:
            raise GradcheckError(
                f"d/dx{i} = {g!r}, the oracle says {_digits(want)} "
                f"(allowed error {4 * bound:.3g}){_kinks(program, i, run)}\n\n{show(program)}"
            )
        estimate, error = central_difference(
            lambda xs: run(program, xs), list(program.leaves), i, lambda xs: _noise(program, xs)
        )
        if not abs(g - estimate) <= 10 * error + 4 * bound:
            raise GradcheckError(
                f"d/dx{i} = {g!r}, finite differences say {estimate!r} +- {error:.3g}"
                f"{_kinks(program, i, run)}\n\n{show(program)}"
            )
    return got


def check_second_order(program: Program, show: Callable[[Program], str] = str) -> list[list[float]]:
    """Check our engine's second derivatives of ``program`` against the precise oracle and
    against central differences of its own first derivatives; return the Hessian.

    H[i][j] is the gradient, along leaf j, of g_i = d output / d leaf i built with
    ``create_graph``: a graph of registry ops, so ``program_of(g_i)`` is a program and
    ``error_bounds`` of it bounds the rounding error of g_i (its output) and of H[i] (its
    gradients). g_i may be off the oracle by 4x its bound and H[i][j] by 4x its own plus the
    oracle's ORACLE_HESSIAN_ATOL, each plus ORACLE_RTOL of the exact result (the headroom check_program gives); against central
    differences of the engine's plain backward, by 10x their estimated error (see
    central_difference, with g_i's own rounding bound as the noise) plus 4x the bound.
    Raises GradcheckError naming the entry, then the program as Python.
    """
    leaves, out = run_engine(program)
    gs = grad(out, leaves, create_graph=True, materialize_grads=True)
    want_g, want_h = oracle_gradients(program), oracle_hessian(program)
    _, noise = error_bounds(program)
    hessian = []
    for i, g in enumerate(gs):
        # A gradient that is a constant (the 1 of an add) is exact, and so is its zero row.
        g_bound, bounds = (
            error_bounds(program_of(g, leaves)) if g._parents else (0.0, [0.0] * len(leaves))
        )
        if not abs(g.data - want_g[i]) <= 4 * g_bound + ORACLE_ATOL + ORACLE_RTOL * abs(want_g[i]):
            raise GradcheckError(
                f"d/dx{i} with create_graph = {g.data!r}, the oracle says {_digits(want_g[i])} "
                f"(allowed error {4 * g_bound:.3g})\n\n{show(program)}"
            )
        row = [float(h) for h in grad(g, leaves, materialize_grads=True)]
        for j, (h, want, bound) in enumerate(zip(row, want_h[i], bounds, strict=True)):
            if not abs(h - want) <= 4 * bound + ORACLE_HESSIAN_ATOL + ORACLE_RTOL * abs(want):
                raise GradcheckError(
                    f"d2/dx{i}dx{j} = {h!r}, the oracle says {_digits(want)} "
                    f"(allowed error {4 * bound:.3g})\n\n{show(program)}"
                )

            def first(xs: list[float], i: int = i) -> float:
                return engine_gradients(Program(tuple(xs), program.instrs))[1][i]

            estimate, error = central_difference(first, list(program.leaves), j, 4 * noise[i])
            if not abs(h - estimate) <= 10 * error + 4 * bound:
                raise GradcheckError(
                    f"d2/dx{i}dx{j} = {h!r}, finite differences of d/dx{i} say {estimate!r} "
                    f"+- {error:.3g}\n\n{show(program)}"
                )
        hessian.append(row)
    return hessian


def _kinks(program: Program, i: int, forward: Forward) -> str:
    """Why leaf i's gradient cannot be checked, when a kink is the reason: each op of the
    program that leaf i feeds and that is evaluated exactly at one of its kinks (in floats),
    with the derivative its registry entry declares there; else, when the one-sided
    differences of ``forward`` along leaf i disagree within the central difference's reach,
    that a kink lies within it. "" when neither holds."""
    reached = {f"x{i}"}
    at: list[str] = []
    done: list[int] = []  # instructions evaluated so far
    lines = program.lines()

    def call(op: Op, args: list[float], params: tuple[float, ...]) -> float:
        j = len(done)
        ins = program.instrs[j]
        for k, (a, x) in enumerate(zip(ins.args, args, strict=True)):
            if a in reached and x in op.kinks:
                where = f"input {k + 1} = {x!r}" if len(args) > 1 else f"at {x!r}"
                at.append(
                    f"{lines[len(program.leaves) + j]} is {where}, "
                    f"a kink of {op.name}, where its registry entry declares the derivative "
                    f"{op.kinks[x]:g} (PyTorch's convention)"
                )
        if any(a in reached for a in ins.args):
            reached.add(f"v{j}")
        done.append(j)
        return op.f(*args, *params)[0]

    try:
        program.run(float, call)
    except (ArithmeticError, ValueError):
        return ""  # the float evaluation fails: no kink to report
    if at:
        return f", but {'; '.join(at)}: neither the oracle nor finite differences can check it"
    xs = list(program.leaves)
    h = _central_step(xs[i])
    try:
        left, right, error = one_sided_differences(lambda p: forward(program, p), xs, i, h)
    except (ArithmeticError, ValueError, AssertionError):  # forward failed: no note to add
        return ""
    if abs(left - right) <= error + 1e-8 * max(abs(left), abs(right)):
        return ""
    return (
        f", but x{i} is near a kink: the central difference (steps up to {2 * h:.3g}) straddles "
        f"it, the derivative from the left ({left + 0.0:.6g}) and from the right "
        f"({right + 0.0:.6g}) differ"
    )


def _digits(x: Any) -> str:
    """An mpmath number to 20 significant digits: enough to compare with a float's 17."""
    return str(mpmath.nstr(x, 20))


__all__ = [
    "GradcheckError",
    "central_difference",
    "check_program",
    "check_second_order",
    "engine_gradients",
    "gradcheck",
    "one_sided_differences",
]
