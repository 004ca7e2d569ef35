"""Finite differences and the checks built on them: ``gradcheck`` for any function of Values,
``check_program`` for a program against the precise oracle and central differences.

Both take the engine as an argument (our Value by default), so the same checks verify any
micrograd-API engine. A failure raises GradcheckError whose first line says what is wrong; the
detail (the program as Python, the numbers) follows it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import mpmath

from ..engine import Value
from .oracle import EPS, ORACLE_ATOL, ORACLE_DPS, error_bounds, oracle_gradients, run_mp
from .programs import Program, run_engine, run_float


class GradcheckError(AssertionError):
    """A gradient differs from its reference by more than the error model allows."""


def central_difference(
    f: Callable[[list[float]], float], xs: list[float], i: int, noise: float = 0.0
) -> tuple[float, float]:
    """d f / d xs[i] by central differences, with an estimate of its error.

    The step h = EPS**(1/3) * max(1, |x|) balances truncation (~h**2 |f'''|) and rounding
    (~EPS max|f| / h). The estimate compares steps h/2, h and 2h: for a smooth f the truncation
    error of D(h) is ~|D(2h) - D(h)| / 3; rounding noise shows up in the same differences.
    """

    fmax = abs(f(xs))

    def d(h: float) -> float:
        nonlocal fmax
        up, down = list(xs), list(xs)
        up[i] += h
        down[i] -= h
        fu, fd = f(up), f(down)
        fmax = max(fmax, abs(fu), abs(fd))
        return (fu - fd) / (up[i] - down[i])  # the steps actually taken, after rounding

    h = EPS ** (1 / 3) * max(1.0, abs(xs[i]))
    d1 = d(h)
    spread = max(abs(d(2 * h) - d1), abs(d(h / 2) - d1))
    return d1, spread + max(4 * EPS * fmax, noise, 2.0**-1074) / h  # no finer than subnormals


def one_sided_differences(
    f: Callable[[list[float]], float], xs: list[float], i: int
) -> tuple[float, float, float]:
    """(left, right, error): the one-sided differences of f along xs[i] and a bound on the
    error either carries where f is smooth on that side (O(h) truncation at h = EPS**(1/2)
    scale, estimated from steps h and 2h, plus rounding)."""
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


def gradcheck(
    fn: Callable[..., Any], *inputs: float, value: Callable[[float], Any] = Value
) -> list[float]:
    """Check backward() of ``fn(*Values)`` against central differences; return the gradients.

    ``value`` makes a leaf (any micrograd-API Value class; ours by default). Raises
    GradcheckError naming the input whose gradient is off by more than 10x the estimated error
    of the finite difference (see central_difference) plus 1e-8 relative. Where the input sits
    at a kink (the one-sided differences disagree), the error says so: finite differences
    cannot check a derivative there, and for a single registry op it names the op's convention.
    """
    xs = [float(x) for x in inputs]
    leaves = [value(x) for x in xs]
    out = fn(*leaves)
    out.backward()

    def f(point: list[float]) -> float:
        return float(fn(*map(value, point)).data)

    grads = [float(v.grad) for v in leaves]
    for i, g in enumerate(grads):
        estimate, error = central_difference(f, xs, i)
        if abs(g - estimate) <= 10 * error + 1e-8 * abs(estimate):
            continue
        left, right, side_error = one_sided_differences(f, xs, i)
        if abs(left - right) > side_error + 1e-8 * max(abs(left), abs(right)):
            raise GradcheckError(
                f"input {i} = {xs[i]!r} is at a kink of fn: the derivative from the left "
                f"({left:.6g}) and from the right ({right:.6g}) differ, so finite differences "
                f"cannot check backward's {g!r} there{_convention(out, leaves[i])}"
            )
        raise GradcheckError(
            f"d/d input {i}: backward gives {g!r}, finite differences {estimate!r} "
            f"(+- {error:.3g}) at inputs {xs!r}"
        )
    return grads


def _convention(out: Any, leaf: Any) -> str:
    """For a single registry op at one of its kinks: the derivative its entry declares there."""
    op = getattr(out, "_fn", None)
    parents = getattr(out, "_parents", ())
    if op is None or leaf not in parents or leaf.data not in op.kinks:
        return ""
    return (
        f"; {op.name}'s registry entry declares the derivative {op.kinks[leaf.data]:g} "
        f"at {leaf.data:g} (PyTorch's convention)"
    )


# What an engine gives for a program: (output value, d output / d leaf for each leaf) after one
# backward(); and its output's value at other leaves (for finite differences).
Gradients = Callable[[Program], tuple[float, Sequence[float]]]
Forward = Callable[[Program, list[float]], float]


def engine_gradients(program: Program) -> tuple[float, list[float]]:
    """Our engine's output value and leaf gradients for ``program`` (one backward)."""
    leaves, out = run_engine(program)
    out.backward()
    return out.data, [x.grad for x in leaves]


def check_program(
    program: Program,
    engine: Gradients | None = None,
    forward: Forward | None = None,
    show: Callable[[Program], str] = str,
) -> list[float]:
    """Check an engine's output value and gradients of ``program`` against the precise oracle,
    and the gradients against central differences of ``forward``; return the gradients.

    ``engine`` defaults to ours, ``forward`` to the registry's float functions, ``show`` (how
    the program prints) to our Value API. Raises GradcheckError: the first line names the leaf
    and the two numbers, then the program as Python. The output value may be off the oracle by 4x its first-order rounding bound and a
    gradient by 4x its own (see error_bounds: first order, so the 4 is headroom for second-order
    terms); against central differences by 10x their estimated error (see central_difference),
    with the rounding noise of the output taken from the same analysis.
    """
    data, got = (engine or engine_gradients)(program)
    got = [float(g) for g in got]
    noise, bounds = error_bounds(program)
    with mpmath.workdps(ORACLE_DPS):
        want_value = run_mp(program)
    if not abs(float(data) - want_value) <= 4 * noise + ORACLE_ATOL:
        raise GradcheckError(
            f"the output is {float(data)!r}, the oracle says {_digits(want_value)} "
            f"(allowed error {4 * noise:.3g})\n\n{show(program)}"
        )
    for i, (g, want, bound) in enumerate(zip(got, oracle_gradients(program), bounds, strict=True)):
        if not abs(g - want) <= 4 * bound + ORACLE_ATOL:
            raise GradcheckError(
                f"d/dx{i} = {g!r}, the oracle says {_digits(want)} "
                f"(allowed error {4 * bound:.3g})\n\n{show(program)}"
            )
        estimate, error = central_difference(
            lambda xs: (forward or run_float)(program, xs), list(program.leaves), i, noise
        )
        if not abs(g - estimate) <= 10 * error + 4 * bound:
            raise GradcheckError(
                f"d/dx{i} = {g!r}, finite differences say {estimate!r} +- {error:.3g}"
                f"\n\n{show(program)}"
            )
    return got


def _digits(x: Any) -> str:
    """An mpmath number to 20 significant digits: enough to compare with a float's 17."""
    return str(mpmath.nstr(x, 20))


__all__ = [
    "GradcheckError",
    "central_difference",
    "check_program",
    "engine_gradients",
    "gradcheck",
    "one_sided_differences",
]
