"""Tools to verify gradients: random expression programs, finite differences, a precise oracle.

Needs the ``test`` extra (hypothesis, mpmath). A *program* is a straight-line list of
instructions over leaves, so one program runs on the engine, on plain floats, on mpmath and on
PyTorch, and prints as the Python that reproduces it.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import mpmath
from hypothesis import strategies as st

from .engine import OpError, Value, apply, register
from .ops import OPS, VARIADIC, Domain, Op

EPS = sys.float_info.epsilon
BOUND = 1e3  # drawn programs keep every value and local partial within +-BOUND ...
MARGIN = 0.05  # ... and every op input this far from its domain's edges and its kinks


class GradcheckError(AssertionError):
    """A gradient differs from its reference by more than the error model allows."""


# ---------------------------------------------------------------------------- programs


@dataclass(frozen=True)
class Instr:
    """``op`` applied to earlier names ("x0" a leaf, "v3" an instruction) or float constants."""

    op: str
    args: tuple[str | float, ...]
    params: tuple[float, ...] = ()


@dataclass(frozen=True)
class Program:
    """Leaves, then instructions; the last instruction is the output."""

    leaves: tuple[float, ...]
    instrs: tuple[Instr, ...]

    def run(
        self,
        leaf: Callable[[float], Any],
        call: Callable[[Op, list[Any], tuple[float, ...]], Any],
        const: Callable[[float], Any] | None = None,
        leaves: Sequence[Any] | None = None,
    ) -> tuple[list[Any], Any]:
        """Evaluate with ``leaf(x)`` for leaves, ``const(c)`` for constants and
        ``call(op, args, params)`` for instructions; return (leaves, output)."""
        const = const or leaf
        env = {f"x{i}": leaf(x) for i, x in enumerate(self.leaves if leaves is None else leaves)}
        for j, ins in enumerate(self.instrs):
            args = [env[a] if isinstance(a, str) else const(a) for a in ins.args]
            env[f"v{j}"] = call(OPS[ins.op], args, ins.params)
        return [env[f"x{i}"] for i in range(len(self.leaves))], env[f"v{len(self.instrs) - 1}"]

    def __str__(self) -> str:
        lines = ["from micrograd import Value, dot"]
        lines += [f"x{i} = Value({x!r})" for i, x in enumerate(self.leaves)]
        for j, ins in enumerate(self.instrs):
            lines.append(
                f"v{j} = {spell(OPS[ins.op], [a if isinstance(a, str) else f'Value({a!r})' for a in ins.args], ins.params)}"
            )
        lines.append(f"v{len(self.instrs) - 1}.backward()")
        return "\n".join(lines)


def spell(op: Op, args: Sequence[str], params: Sequence[float] = ()) -> str:
    """The Python that applies ``op`` to the expressions ``args`` through the Value API."""
    if op.arity == VARIADIC:
        half = len(args) // 2
        return op.syntax.format(", ".join(args[:half]), ", ".join(args[half:]))
    return op.syntax.format(*args, *params)


def run_engine(program: Program) -> tuple[list[Value], Value]:
    """The program on micrograd Values."""
    return program.run(Value, lambda op, args, params: apply(op, *args, params=params), const=float)


def run_float(program: Program, leaves: Sequence[float] | None = None) -> float:
    """The program's output on plain floats, through each op's ``f``."""
    return program.run(float, lambda op, args, params: op.f(*args, *params)[0], leaves=leaves)[1]  # type: ignore[no-any-return]


def run_mp(program: Program, leaves: Sequence[Any] | None = None) -> Any:
    """The program's output in mpmath at the current precision, through each op's ``mp``."""

    def call(op: Op, args: list[Any], params: tuple[float, ...]) -> Any:
        if op.mp is None:
            raise TypeError(f"op {op.name!r} has no high-precision reference (mp=...)")
        return op.mp(mpmath, *args, *params)

    return program.run(mpmath.mpf, call, leaves=leaves)[1]


# ------------------------------------------------------------------------- strategies


def safe(x: float, domain: Domain, kinks: Sequence[float] = ()) -> bool:
    """x lies in ``domain``, at least MARGIN from its edges, holes and ``kinks``."""
    edges = [e for e in (domain.lo, domain.hi) if math.isfinite(e)] + [*domain.holes, *kinks]
    return x in domain and all(abs(x - e) >= MARGIN for e in edges)


@st.composite
def points(
    draw: st.DrawFn, domain: Domain, kinks: Sequence[float] = (), scale: float = 3.0
) -> float:
    """A float in ``domain`` within +-scale, safe from edges and kinks."""
    lo, hi = max(domain.lo + MARGIN, -scale), min(domain.hi - MARGIN, scale)
    x = draw(st.floats(lo, hi))
    for e in sorted({*domain.holes, *kinks}):
        if abs(x - e) < MARGIN:  # step over the hole or kink, inwards
            x = e + 2 * MARGIN if e + 2 * MARGIN <= hi else e - 2 * MARGIN
    return x


def op_params(op: Op) -> st.SearchStrategy[tuple[float, ...]]:
    """Constant parameters for ``op``, from the values its registry entry lists."""
    return st.tuples(*(st.sampled_from(values) for values in op.params.values()))


@st.composite
def programs(
    draw: st.DrawFn, ops: Sequence[Op] | None = None, max_leaves: int = 3, max_instrs: int = 8
) -> Program:
    """Random programs over ``ops`` (default: the whole registry, read at draw time).

    Values are computed while drawing, so every op gets safe inputs: no filtering, and any op
    added to the registry is drawn too. Results nothing reads are summed into the output.
    """
    ops = sorted(OPS.values(), key=lambda op: op.name) if ops is None else list(ops)
    leaves = draw(st.lists(points(Domain()), min_size=1, max_size=max_leaves))
    values = {f"x{i}": x for i, x in enumerate(leaves)}
    instrs: list[Instr] = []
    used: set[str] = set()

    def emit(ins: Instr, y: float) -> None:
        values[f"v{len(instrs)}"] = y
        instrs.append(ins)
        used.update(a for a in ins.args if isinstance(a, str))

    for _ in range(draw(st.integers(1, max_instrs))):
        op = draw(st.sampled_from(ops))
        params = draw(op_params(op))
        domains = op.domains(*params)
        if op.arity == VARIADIC:
            domains = domains[:1] * (2 * draw(st.integers(1, 3)))
        args: list[str | float] = []
        for d in domains:
            names = [k for k, v in values.items() if safe(v, d, op.kinks)]
            if names and draw(st.integers(0, 3)) > 0:
                args.append(draw(st.sampled_from(names)))
            else:
                args.append(draw(points(d, op.kinks)))
        try:
            y, partials = op.f(*[values[a] if isinstance(a, str) else a for a in args], *params)
        except (ArithmeticError, ValueError):
            continue  # cannot happen for safe inputs unless the entry is wrong; drop it
        if max(abs(y), *map(abs, partials)) <= BOUND:
            emit(Instr(op.name, tuple(args), params), y)
    if not instrs:
        emit(Instr("add", ("x0", 0.0)), leaves[0])
    unread = [f"v{j}" for j in range(len(instrs) - 1) if f"v{j}" not in used]
    for name in unread:
        last = f"v{len(instrs) - 1}"
        emit(Instr("add", (last, name)), values[last] + values[name])
    return Program(tuple(leaves), tuple(instrs))


@contextmanager
def registered(op: Op) -> Iterator[Op]:
    """Register ``op`` for the duration of a ``with`` block (and its Value method, if any)."""
    had_method = hasattr(Value, op.name)
    register(op)
    try:
        yield op
    finally:
        del OPS[op.name]
        if not had_method and hasattr(Value, op.name):
            delattr(Value, op.name)


# ------------------------------------------------------------------------- references


ORACLE_DPS = 50  # digits the precise oracle works with (mpmath.workdps)
ULPS = 8  # every op's f returns its value and partials within this many ulps (see tests)


def error_bounds(program: Program) -> tuple[float, list[float]]:
    """First-order bounds on the rounding error of the output and of each leaf's gradient.

    Forward, a value's error is ULPS ulps of itself plus its inputs' errors times |partial|;
    a partial's error is ULPS ulps of itself plus its inputs' errors times the partial's own
    sensitivity to them (by central differences of ``f``). Backward, a gradient's error
    collects |partial| x the consumer's error + the partial's error x |consumer's gradient|.
    """
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
    return err[edges[-1][0]], [gerr[f"x{i}"] for i in range(len(program.leaves))]


def mp_derivative(
    f: Callable[[Any], Any],
    x: float | Any,
    n: int = 1,
    domain: Domain | None = None,
    kinks: Sequence[float] = (),
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


def gradcheck(fn: Callable[..., Value], *inputs: float) -> list[float]:
    """Check backward() of ``fn(*Values)`` against central differences; return the gradients.

    Raises GradcheckError naming the input whose gradient is off by more than 10x the
    estimated error of the finite difference (see central_difference) plus 1e-8 relative.
    """
    xs = [float(x) for x in inputs]
    leaves = [Value(x) for x in xs]
    fn(*leaves).backward()

    def f(point: list[float]) -> float:
        return fn(*map(Value, point)).data

    for i, v in enumerate(leaves):
        estimate, error = central_difference(f, xs, i)
        if not abs(v.grad - estimate) <= 10 * error + 1e-8 * abs(estimate):
            raise GradcheckError(
                f"d/d input {i}: backward gives {v.grad!r}, finite differences {estimate!r} +- {error:.3g}"
            )
    return [v.grad for v in leaves]


# The oracle (mp_derivative at 50 digits, prec = 169 bits) is off by at most
# 2**-676 |f'''| ~ 1e-203 |f'''|; drawn programs have |f'''| far below 1e50.
ORACLE_ATOL = 1e-150


def check_program(program: Program) -> list[float]:
    """Check the engine's gradients of ``program`` against the precise oracle and central
    differences. Raises GradcheckError with the program as Python.

    Against the oracle a gradient may be off by 4x its first-order rounding bound (see
    error_bounds: first order, so the 4 is headroom for second-order terms); against central
    differences by 10x their estimated error (see central_difference), with the rounding noise
    of the output taken from the same analysis.
    """
    leaves, out = run_engine(program)
    out.backward()
    got = [x.grad for x in leaves]
    noise, bounds = error_bounds(program)
    for i, (g, want, bound) in enumerate(zip(got, oracle_gradients(program), bounds, strict=True)):
        if not abs(g - want) <= 4 * bound + ORACLE_ATOL:
            raise GradcheckError(
                f"d/dx{i} = {g!r}, the oracle says {mpmath.nstr(want, 20)} "
                f"(allowed error {4 * bound:.3g})\n{program}"
            )
        estimate, error = central_difference(
            lambda xs: run_float(program, xs), list(program.leaves), i, noise
        )
        if not abs(g - estimate) <= 10 * error + 4 * bound:
            raise GradcheckError(
                f"d/dx{i} = {g!r}, finite differences say {estimate!r} +- {error:.3g}\n{program}"
            )
    return got


__all__ = [
    "BOUND",
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
    "error_bounds",
    "gradcheck",
    "mp_derivative",
    "op_params",
    "oracle_gradients",
    "points",
    "programs",
    "registered",
    "run_engine",
    "run_float",
    "run_mp",
    "safe",
    "spell",
]
