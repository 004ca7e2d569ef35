"""The conformance checks: each property of the micrograd API, as one row against one target."""

from __future__ import annotations

import functools
import itertools
import math
import re
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import mpmath
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ...ops import OPS, VARIADIC, Op
from ..gradcheck import GradcheckError, check_program
from ..oracle import (
    EPS,
    ORACLE_DPS,
    beyond_float64,
    error_bounds,
    may_overflow,
    node_error_bounds,
    op_exact,
    op_mismatches,
    oracle_gradients,
    run_mp,
)
from ..programs import INFIX, Program, edge_points, op_params, points, programs, spell
from .report import (
    CONVENTION,
    CRASH,
    FAIL,
    HARDENING,
    LOOSE_ATOL,
    LOOSE_RTOL,
    NA,
    PASS,
    PRECISION,
    RANK,
    TIMEOUT,
    WRONG,
    Row,
)
from .transport import Target

MOST_FINDINGS = 3  # distinct failures listed per row (each search for one more costs a row's run)
# The reflected row's / and **: far above any rounding (8 ulps is 1.8e-15), far below a bug.
REFLECTED_RTOL = 1e-12


def _program_code(
    program: Program, leaves: Sequence[float] | None = None, backward: int = 1
) -> str:
    if leaves is not None:
        program = Program(tuple(leaves), program.instrs)
    out = f"v{len(program.instrs) - 1}"
    # Numbers as a student writes them: on either side of an operator, and sum() of Values.
    return "\n".join([*program.lines(numbers=True), *[f"{out}.backward()"] * backward])


def _finite(x: Any) -> bool:
    return isinstance(x, float) and math.isfinite(x)


class Checks:
    """The conformance checks against one target."""

    def __init__(
        self,
        target: Target,
        examples: int = 100,
        max_depth: int = 1_000_000,
        depth_timeout: float = 120.0,
        twin: bool = True,
    ) -> None:
        self.target, self.examples, self.twin = target, examples, twin
        self.max_depth, self.depth_timeout = max_depth, depth_timeout
        self.imports: list[str] = target.describe.get("imports", ["from micrograd import Value"])
        self.absent: dict[str, str] = {}
        self.ops: list[Op] = []
        self.deadline = math.inf  # time.monotonic() after which no request reaches the engine
        self.incident: dict[str, Any] | None = None  # the row's first crash or timeout

    # -- helpers

    def show(self, code: str) -> str:
        """``code`` as a runnable script for this engine."""
        imports = [i for i in self.imports if "MLP" not in i or "MLP(" in code]
        return "\n".join([*imports, code])

    def show_program(self, program: Program) -> str:
        return self.show(_program_code(program))

    def exec(self, code: str, read: Sequence[str] = ()) -> dict[str, Any]:
        """The engine's answer to ``code``. After a request of this row timed out, the row's
        later requests get that answer at once: an engine that hangs costs one timeout per
        row, not one per example Hypothesis draws and shrinks."""
        if time.monotonic() > self.deadline:
            answer = {"ok": False, "error": "Timeout", "message": "the target's time ran out"}
        elif self.incident is not None and self.incident.get("error") == "Timeout":
            answer = self.incident
        else:
            answer = self.target.request({"cmd": "exec", "code": code, "read": list(read)})
        if not answer.get("ok", True) and answer.get("error") in ("Crash", "Timeout"):
            self.incident = self.incident or {**answer, "code": code}
        return answer

    def died_row(self, name: str, answer: dict[str, Any], code: str) -> Row:
        """The row ``name`` as CRASH or TIMEOUT: the engine died or hung on ``code``."""
        status = CRASH if answer["error"] == "Crash" else TIMEOUT
        tail = answer.get("stderr", "").strip().splitlines()[-3:]
        detail = answer["message"] + (f" (stderr: {' / '.join(tail)})" if tail else "")
        return Row(name, status, detail, self.show(code), severity=status)

    def settings(self, examples: int | None = None) -> settings:
        # Derandomised: a scorecard is reproducible; no database: nothing left behind; no
        # explain phase (its report goes to a terminal nobody reads; it re-runs the shrunk
        # example's variations: a failing row took 17.6 s with it, 6.0 s without).
        return settings(
            max_examples=examples or self.examples,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
        )

    def minimal(
        self,
        strategy: st.SearchStrategy[Any],
        check: Callable[[Any], None],
        examples: int | None = None,
    ) -> list[tuple[Any, str]]:
        """Run ``check`` on drawn examples; return each distinct failure Hypothesis found
        (several come as an ExceptionGroup), shrunk, with its message: [] when none fails.

        Never raises for the engine: an error ``check`` raises other than GradcheckError (an
        answer of the wrong shape, say) is a failure like any other."""
        last: list[tuple[Any, str]] = []
        check = _guarded(check)
        # NOTE: run's source is the seed of its derandomized examples (Hypothesis digests
        # it): an edit to it changes which examples every scorecard draws.

        @self.settings(examples)
        @given(strategy)
        def run(example: Any) -> None:
            try:
                check(example)
            except GradcheckError as e:
                last.append((example, str(e)))
                raise

        try:
            run()
        except GradcheckError:
            return [last[-1]]
        except Exception as e:
            group = getattr(e, "exceptions", None)  # ExceptionGroup (exceptiongroup on 3.10)
            if not group or not all(isinstance(x, GradcheckError) for x in group):
                raise
            # Hypothesis replays each shrunk failure last: its example is the last with its message.
            return [
                (next((ex for ex, m in reversed(last) if m == message), last[-1][0]), message)
                for message in dict.fromkeys(str(x) for x in group)
            ]
        return []

    def failures(
        self,
        strategy: st.SearchStrategy[Any],
        check: Callable[[Any], None],
        kind: Callable[[Any, str], frozenset[str]],
        examples: int | None = None,
    ) -> list[tuple[Any, str]]:
        """Every distinct failure of ``check`` (at most MOST_FINDINGS), each shrunk.

        ``kind(example, message)`` names what a failure involves (the ops of a program, the
        outputs an op gets wrong). After each search, the next one passes every failure whose
        kind is within or around one already found (_known), so it finds another bug or none:
        a second bug of a row is never hidden behind its first. A row that passes costs one
        search."""
        found: list[tuple[Any, str]] = []
        kinds: list[frozenset[str]] = []
        check = _guarded(check)  # an error on a malformed answer has a kind too

        def unseen(example: Any) -> None:
            try:
                check(example)
            except GradcheckError as e:
                if not _known(kind(example, str(e)), kinds):
                    raise

        while len(found) < MOST_FINDINGS:
            more = self.minimal(strategy, unseen, examples)
            new = [(ex, m) for ex, m in more if not _known(kind(ex, m), kinds)]
            if not new:
                break
            for ex, m in new[: MOST_FINDINGS - len(found)]:
                kinds.append(kind(ex, m))
                found.append((ex, m))
        return found

    # -- discovery

    def discover_ops(self) -> Row:
        """Which registry ops the engine's API offers: each op's spelling at a point inside its
        domain; a refusal there (AttributeError, TypeError, AssertionError, NotImplementedError)
        marks the op absent."""
        for op in OPS.values():
            params = tuple(values[0] for values in op.params.values())
            n = 2 if op.arity == VARIADIC else op.arity
            names = [f"x{i}" for i in range(n)]
            code = "\n".join([f"x{i} = Value(0.7)" for i in range(n)]) + (
                f"\nv0 = {spell(op, names, params)}"
            )
            self.incident = None  # each op asks the engine, whatever the last one did
            answer = self.exec(code, ["v0"])
            if answer["ok"]:
                self.ops.append(op)
            elif _died(answer):
                self.ops.append(op)  # its own row asks again, and says CRASH or TIMEOUT
            elif answer["error"] in (
                "AttributeError",
                "TypeError",
                "AssertionError",
                "NotImplementedError",
                "NameError",
            ):
                self.absent[op.name] = f"{spell(op, names, params)}: {answer['error']}"
            else:
                self.ops.append(op)  # present but failing: the op's own row says how
        return Row(
            "ops found",
            PASS,
            ", ".join(op.name for op in self.ops)
            + (f" (absent: {', '.join(self.absent)})" if self.absent else ""),
        )

    def basics(self) -> Row:
        """Value(x).data is x, grad starts at 0, backward() of a product fills both grads."""
        code = "a = Value(1.5)\nb = Value(-2.0)\nc = a * b\nfresh = a.grad\nc.backward()\nresult = [float(fresh)]"
        answer = self.exec(code, ["a", "b", "c"])
        if not answer["ok"]:
            return Row(
                "Value, .data, .grad, backward()",
                FAIL,
                f"{answer['error']}: {answer['message']}",
                self.show(code),
            )
        a, b, c = (answer["nodes"][k] for k in "abc")
        if [a[0], b[0], c[0], answer["result"][0], a[1], b[1]] != [1.5, -2.0, -3.0, 0.0, -2.0, 1.5]:
            return Row("Value, .data, .grad, backward()", FAIL, f"got {answer}", self.show(code))
        return Row("Value, .data, .grad, backward()", PASS)

    # -- random programs

    def engine_gradients(self, program: Program) -> tuple[float, list[float]]:
        names = [f"x{i}" for i in range(len(program.leaves))]
        out = f"v{len(program.instrs) - 1}"
        answer = self.exec(_program_code(program), [*names, out])
        if not answer["ok"]:
            raise GradcheckError(
                f"raises {answer['error']}: {answer['message']}\n\n{self.show_program(program)}"
            )
        nodes = answer["nodes"]
        data, grads = nodes[out][0], [nodes[n][1] for n in names]
        if not all(map(_finite, [data, *grads])):
            raise GradcheckError(
                f"gives data {data!r}, grads {grads!r}\n\n{self.show_program(program)}"
            )
        return data, grads

    def engine_forward(self, program: Program, leaves: list[float]) -> float:
        out = f"v{len(program.instrs) - 1}"
        answer = self.exec(_program_code(program, leaves, backward=0), [out])
        if not answer["ok"] or not _finite(answer["nodes"][out][0]):
            raise GradcheckError(
                f"forward at {leaves!r} fails: {answer}\n\n{self.show_program(program)}"
            )
        return answer["nodes"][out][0]  # type: ignore[no-any-return]

    def random_programs(self) -> Row:
        """Random programs over the engine's ops: the output value and every leaf's gradient
        against the 50-digit oracle and central differences of the engine's own forward."""
        name = "random programs vs oracle and finite differences"
        if not self.ops:
            return Row(name, NA, "no op found")

        def check(program: Program) -> None:
            check_program(program, self.engine_gradients, self.engine_forward, self.show_program)

        found = self.failures(programs(ops=self.ops, max_instrs=6), check, _ops_of)
        if not found:
            return Row(name, PASS, f"{self.examples} programs")
        rows = []
        for p, m in found:
            row = Row(name, FAIL, m.split("\n")[0], self.show_program(p) + _prints(p, m))
            # Only a disagreement with the oracle can be rounding; one with finite
            # differences of the engine's own forward (its gradients right at the point,
            # its forward wrong beside it) is not.
            if "the oracle says" in m.split("\n")[0] and self.near_oracle(p):
                row.severity = PRECISION
                row.detail += f" (within {LOOSE_RTOL:g} relative or {LOOSE_ATOL:g}: PRECISION)"
            rows.append(row)
        return _listed(rows)

    def near_oracle(self, program: Program) -> bool:
        """Whether the engine's output and gradients of ``program`` are all within LOOSE_RTOL
        of the oracle, relative to each one's size and condition scale (its error bound over
        EPS: the sum of the magnitudes that meet in it), or LOOSE_ATOL: a formula that rounds
        worse (PRECISION), not a wrong one."""
        try:
            data, grads = self.engine_gradients(program)
        except GradcheckError:
            return False
        noise, bounds = error_bounds(program)
        with mpmath.workdps(ORACLE_DPS):
            wants = [run_mp(program), *oracle_gradients(program)]
            return all(
                abs(g - w) <= 4 * b + LOOSE_RTOL * (abs(w) + b / EPS) + LOOSE_ATOL
                for g, w, b in zip([data, *grads], wants, [noise, *bounds], strict=True)
            )

    # -- per op

    def op_case(
        self, op: Op, xs: Sequence[float], params: tuple[float, ...]
    ) -> tuple[str, dict[str, Any]]:
        names = [f"x{i}" for i in range(len(xs))]
        lines = [f"x{i} = Value({x!r})" for i, x in enumerate(xs)]
        code = "\n".join([*lines, f"v0 = {spell(op, names, params)}", "v0.backward()"])
        return code, self.exec(code, [*names, "v0"])

    def op_verdict(
        self, op: Op, xs: Sequence[float], params: tuple[float, ...], loose: bool = False
    ) -> str | None:
        """None if the engine gets op at xs right (value and partials within op_tolerance, or
        an error where the exact result is beyond float64); else what is wrong. ``loose``:
        within LOOSE_RTOL instead of op_tolerance (PRECISION, not WRONG)."""
        _code, answer = self.op_case(op, xs, params)
        call = f"{op.name}{tuple(xs) + params}"
        exact = _exact(op.name, tuple(xs), params)
        if exact is None:
            return None  # beyond float64: the overflow row judges it
        with mpmath.workdps(ORACLE_DPS):
            value, partials, _ = exact
            biggest = max(abs(v) for v in [value, *partials])
            if beyond_float64(biggest):
                return None  # beyond float64: the overflow row judges it
            if not answer["ok"]:
                if may_overflow(biggest):
                    return None
                return f"{call} raises {answer['error']}: {answer['message']} (exact value {mpmath.nstr(value, 17)})"
            got = [answer["nodes"]["v0"][0], *(answer["nodes"][f"x{i}"][1] for i in range(len(xs)))]
            # Every output it gets wrong, so that a second is never hidden behind the first.
            slack = (LOOSE_RTOL, LOOSE_ATOL) if loose else (0.0, 0.0)
            wrong = op_mismatches(got, exact, xs, *slack)
        return f"{call}: {'; '.join(wrong)}" if wrong else None

    def op_row(self, op: Op) -> Row:
        """Values and derivatives over the domain (|x| <= 50), then at its edges and extremes."""
        name = f"{op.name}: values and derivatives"
        if op.name in self.absent:
            return Row(name, NA, f"absent ({self.absent[op.name]})")

        def check(case: tuple[list[float], tuple[float, ...]]) -> None:
            wrong = self.op_verdict(op, *case)
            if wrong:
                raise GradcheckError(wrong)

        def failed(xs: list[float], params: tuple[float, ...], message: str) -> Row:
            close = self.op_verdict(op, xs, params, loose=True) is None
            code = self.op_case(op, xs, params)[0] + _exact_prints(op, xs, params)
            row = Row(name, FAIL, message, self.show(code))
            row.severity = PRECISION if close else WRONG
            if close:
                row.detail += f" (within {LOOSE_RTOL:g} relative or {LOOSE_ATOL:g}: PRECISION)"
            elif _loud(message) and any(abs(x) >= 400 or 0 < abs(x) < 1e-300 for x in xs):
                # An error or a nan/inf, never a wrong number, at an extreme input where the
                # exact result is finite: a formula that overflows there (the lecture's tanh,
                # whose exp(2x) overflows above x = 355: an error, then nan at the largest
                # float) stops a run loudly. Our strictness: HARDENING.
                row.severity = HARDENING
                row.detail += " (an error or nan/inf at an extreme input: HARDENING)"
            elif op.name == "pow" and " raises " in message and xs[0] == 0.0:
                # x ** n at x = 0: n * x**(n - 1) is a limit there (0 * inf for x ** 0); the
                # textbook formula raises, PyTorch takes the limit.
                row.severity = CONVENTION
                row.detail += " (at 0 the derivative is a limit the formula does not take)"
            return row

        findings = [
            failed(xs, params, message)
            for (xs, params), message in self.failures(
                _inputs(op), check, _output_of, examples=max(20, self.examples // 2)
            )
        ]
        # Then the edges and extremes, whatever the drawn inputs found: a formula that rounds
        # worse, or is wrong, can also overflow at 400, which the first finding would hide.
        seen: dict[str, list[frozenset[str]]] = {}  # the kinds found, by severity
        for f in findings:
            seen.setdefault(f.severity, []).append(_output_of(None, f.detail))
        for xs, params in _edges(op):
            if len(findings) >= MOST_FINDINGS:
                break
            if all(
                x in d for x, d in zip(xs, _domains(op, params, len(xs)), strict=True)
            ) and not any(x in op.kinks for x in xs):
                wrong = self.op_verdict(op, xs, params)
                if wrong:
                    finding = failed(list(xs), params, wrong)
                    kinds = seen.setdefault(finding.severity, [])
                    if not _known(_output_of(None, wrong), kinds):
                        kinds.append(_output_of(None, wrong))
                        findings.append(finding)
        if not findings:
            return Row(name, PASS)
        return _listed(findings)

    def kink_row(self, op: Op) -> Row:
        """At each kink the derivative the registry declares (PyTorch's convention)."""
        name = f"{op.name}: derivative at its kinks (PyTorch's)"
        if op.name in self.absent:
            return Row(name, NA, f"absent ({self.absent[op.name]})")
        for kink, want in op.kinks.items():
            for x in (kink, -kink):
                code, answer = self.op_case(op, [x], ())
                if not answer["ok"]:
                    return Row(
                        name,
                        FAIL,
                        f"{op.name}({x!r}) raises {answer['error']}: {answer['message']}",
                        self.show(code),
                    )
                got = answer["nodes"]["x0"][1]
                if got != want:  # a convention: exactly this number
                    return Row(
                        name,
                        FAIL,
                        f"d {op.name}({x!r}) = {got!r}; PyTorch's convention is {want!r}",
                        self.show(code),
                    )
        return Row(name, PASS, ", ".join(f"x = {k:g}: {d:g}" for k, d in op.kinks.items()))

    # -- accumulation

    def reflected_row(self) -> Row:
        """A number on the left (2 + x, 2 - x, 2 * x, 2 / x, 2 ** x) and sum() of Values:
        value and gradient. What a missing or swapped __radd__, __rsub__, __rmul__,
        __rtruediv__ or __rpow__ gets wrong, which programs of Values never call."""
        name = "a number on the left: 2 + x, 2 - x, 2 * x, 2 / x, 2 ** x, sum()"
        have = {op.name for op in self.ops}
        x = 0.75
        # (op the expression needs, expression, value, dy/dx). + - * and sum are exact in
        # float64; / and ** are within REFLECTED_RTOL of the correctly rounded number: a
        # correct engine may round differently (2 * x**-1 for 2 / x: a few ulps), a wrong one
        # is off by O(1).
        cases = [
            ("add", "2.0 + x", 2.0 + x, 1.0),
            ("sub", "2.0 - x", 2.0 - x, -1.0),
            ("mul", "2.0 * x", 2.0 * x, 2.0),
            ("div", "2.0 / x", 2.0 / x, -2.0 / x / x),
            ("powv", "2.0 ** x", 2.0**x, math.log(2.0) * 2.0**x),
            ("add", "sum([x, x, x])", 3 * x, 3.0),
        ]
        run, absent = [], []
        for op, expr, value, slope in cases:
            if op not in have:
                absent.append(expr)
                continue
            script = f"x = Value({x!r})\ny = {expr}\ny.backward()"
            run.append(expr)
            answer = self.exec(script, ["x", "y"])
            if not answer["ok"]:
                return Row(
                    name,
                    FAIL,
                    f"{expr} raises {answer['error']}: {answer['message']}",
                    self.show(script),
                )
            (_, grad), (data, _) = answer["nodes"]["x"], answer["nodes"]["y"]
            ok = all(
                _finite(got) and abs(got - want) <= REFLECTED_RTOL * abs(want)
                for got, want in ((data, value), (grad, slope))
            )
            if not ok:
                return Row(
                    name,
                    FAIL,
                    f"{expr} at x = {x}: value {data!r}, d/dx {grad!r}; exact {value!r}, {slope!r}",
                    self.show(script),
                )
        if not run:
            return Row(name, NA, "needs add, sub, mul, div or powv")
        return Row(
            name, PASS, ", ".join(run) + (f" (absent: {', '.join(absent)})" if absent else "")
        )

    def reuse_row(self) -> Row:
        """a + a and a * a count both uses; a diamond adds its two paths (exact numbers)."""
        name = "accumulation: a + a, a * a, diamond"
        need = {"add", "mul"} - {op.name for op in self.ops}
        if need:
            return Row(name, NA, f"needs {', '.join(sorted(need))}")
        # d = b * c, b = a * a, c = a + b: d = a**3 + a**4, dd/da = 3a**2 + 4a**3, dd/db = a + 2b.
        cases = [
            ("a = Value(3.0)\nv = a + a\nv.backward()", {"a": 2.0}),
            ("a = Value(3.0)\nv = a * a\nv.backward()", {"a": 6.0}),
            (
                "a = Value(1.5)\nb = a * a\nc = a + b\nd = b * c\nd.backward()",
                {"a": 20.25, "b": 6.0, "c": 2.25},
            ),
        ]
        for code, want in cases:
            answer = self.exec(code, list(want))
            got = {k: answer["nodes"][k][1] for k in want} if answer["ok"] else answer
            if got != want:
                return Row(name, FAIL, f"grads {got}, exact {want}", self.show(code))
        return Row(name, PASS)

    def repeat_row(self) -> Row:
        """k backward() calls add exactly k times the gradient to every node (PyTorch's rule),
        within the rounding of the same sums accumulated in another order (node_error_bounds)."""
        name = "accumulation: k backward() calls add k times, every node"
        if not self.ops:
            return Row(name, NA, "no op found")

        def check(case: tuple[Program, int]) -> None:
            program, k = case
            # Every node but the output (whose own grad is the seed, which PyTorch keeps only
            # with retain_grad).
            names = [f"x{i}" for i in range(len(program.leaves))] + [
                f"v{j}" for j in range(len(program.instrs) - 1)
            ]
            once = self.exec(_program_code(program), names)
            many = self.exec(_program_code(program, backward=k), names)
            if not (once["ok"] and many["ok"]):
                bad = many if once["ok"] else once
                raise GradcheckError(f"raises {bad['error']}: {bad['message']}")
            _, bounds = node_error_bounds(program)
            for n in names:
                g1, gk = once["nodes"][n][1], many["nodes"][n][1]
                bound = k * 4 * bounds.get(n, 0.0) + k * 4 * EPS * abs(g1)
                if not (_finite(gk) and _finite(g1) and abs(gk - k * g1) <= bound):
                    raise GradcheckError(
                        f"after {k} backward() calls {n}.grad = {gk!r}; {k} x {g1!r} expected"
                    )

        found = self.failures(
            st.tuples(programs(ops=self.ops, max_instrs=6), st.integers(2, 3)),
            check,
            lambda case, message: _ops_of(case[0], message),
            examples=max(20, self.examples // 2),
        )
        if not found:
            return Row(name, PASS)
        return _listed(
            [
                Row(
                    name,
                    FAIL,
                    message,
                    self.show(_program_code(program, backward=k)) + _prints(program, message),
                )
                for (program, k), message in found
            ]
        )

    # -- second order

    def second_order_row(self) -> Row:
        """backward(create_graph=True) gives gradients that backward() differentiates again
        (PyTorch's API), on a product where every number is exact: N/A where backward() takes
        no create_graph."""
        name = "second order: backward(create_graph=True), then the gradient's backward()"
        if "mul" not in {op.name for op in self.ops}:
            return Row(name, NA, "needs mul")
        # y = a**2 b: dy/da = 2ab = -6; its gradient: d/da = 2b = -4, d/db = 2a = 3.
        code = (
            "a = Value(1.5)\nb = Value(-2.0)\ny = a * a * b\ny.backward(create_graph=True)\n"
            "ga = a.grad\na.grad = 0.0\nb.grad = 0.0\nga.backward()"
        )
        answer = self.exec(code, ["ga", "a", "b"])
        if not answer["ok"]:
            if answer["error"] == "TypeError" and "create_graph" in answer["message"]:
                return Row(name, NA, "backward() takes no create_graph")
            return Row(
                name, FAIL, f"raises {answer['error']}: {answer['message']}", self.show(code)
            )
        got = [answer["nodes"]["ga"][0], answer["nodes"]["a"][1], answer["nodes"]["b"][1]]
        if got != [-6.0, -4.0, 3.0]:
            return Row(
                name,
                FAIL,
                f"d(a**2 b)/da = {got[0]!r} (exact -6.0), its d/da {got[1]!r} (-4.0) and "
                f"d/db {got[2]!r} (3.0)",
                self.show(code),
            )
        return Row(name, PASS, "exact at a = 1.5, b = -2")

    # -- depth

    def depth_row(self) -> Row:
        """The deepest chain backward() survives, searched up to max_depth nodes, each size in
        a fresh process with a time limit."""
        name = f"depth: backward through a chain of {self.max_depth:,} nodes"
        need = {"add", "mul"} - {op.name for op in self.ops}
        if need:
            return Row(name, NA, f"needs {', '.join(sorted(need))}")

        def chain(n: int) -> str:
            return (
                "x = Value(0.5)\ny = x\n"
                f"for _ in range({n // 2}):\n    y = y * 0.999 + 0.0005\n"
                "y.backward()\nresult = float(x.grad)"
            )

        def survives(n: int) -> str | None:
            if time.monotonic() > self.deadline:
                late = {"ok": False, "error": "Timeout", "message": "the target's time ran out"}
                self.incident = self.incident or late
                return "Timeout: the target's time ran out"
            answer = self.target.probe(
                {"cmd": "exec", "code": chain(n), "read": []}, self.depth_timeout
            )
            if not answer["ok"]:
                return f"{answer['error']}: {answer['message'][:80]}"
            # 0.999**(n/2) by n/2 roundings of a product: relative error <= n EPS.
            want = 0.999 ** (n // 2)
            got = answer["result"]
            if not (_finite(got) and abs(got - want) <= n * EPS * want):
                return f"x.grad = {got!r}, exact {want!r}"
            return None

        sizes = [n for n in (1_000, 10_000, 100_000, 1_000_000) if n < self.max_depth] + [
            self.max_depth
        ]
        ok = 0
        for n in sizes:
            why = survives(n)
            if why is None:
                ok = n
                continue
            lo, hi = ok, n
            while hi - lo > max(lo // 8, 10):  # to within an eighth
                mid = (lo + hi) // 2
                if survives(mid) is None:
                    lo = mid
                else:
                    hi = mid
            return Row(
                name, FAIL, f"fails at {hi:,} nodes ({why}); survives {lo:,}", self.show(chain(hi))
            )
        return Row(name, PASS, f"{ok:,} nodes")

    # -- bad input

    def bad_value_rows(self) -> list[Row]:
        """Value() of a non-number or a non-finite number: an error, not a silent result."""
        rows = []
        for title, cases in (
            ("bad input: Value() refuses non-numbers", ["'abc'", "None", "[1.0]"]),
            ("bad input: Value() refuses nan and inf", ["float('nan')", "float('inf')"]),
        ):
            self.incident = None  # each title asks the engine, whatever the last one did
            for bad in cases:
                code = f"v = Value({bad})"
                answer = self.exec(code)
                if _died(answer):
                    rows.append(self.died_row(title, answer, code))
                    break
                if answer["ok"]:
                    then = self.exec(f"v = Value({bad})\nw = v * 2\nw.backward()", ["w"])
                    after = (
                        f"then v * 2 gives data {then['nodes']['w'][0]!r}"
                        if then["ok"]
                        else f"then v * 2 raises {then['error']}: {then['message'][:60]}"
                    )
                    rows.append(
                        Row(
                            title,
                            FAIL,
                            f"Value({bad}) is accepted; {after}",
                            self.show(code + "\nprint(v * 2)"),
                        )
                    )
                    break
            else:
                rows.append(Row(title, PASS))
        return rows

    def domain_row(self) -> Row:
        """Each op just outside its domain: an error, never nan, inf or a complex number."""
        name = "bad input: outside an op's domain is an error"
        tried = 0
        for op in self.ops:
            for params in itertools.product(*op.params.values()):
                for xs in _outside(op, params):
                    tried += 1
                    code, answer = self.op_case(op, xs, params)
                    if _died(answer):
                        return self.died_row(name, answer, code)
                    if answer["ok"]:
                        return Row(
                            name,
                            FAIL,
                            f"{op.name}{tuple(xs) + params} gives {answer['nodes']['v0'][0]!r}",
                            self.show(code + "\nprint(v0)"),
                        )
        return Row(
            name,
            PASS if tried else NA,
            f"{tried} cases" if tried else "no op with a restricted domain",
        )

    def overflow_row(self) -> Row:
        """An op whose exact value is beyond float64 (at the edge inputs): an error, never inf."""
        name = "bad input: overflow is an error"
        tried = 0
        for op in self.ops:
            for xs, params in _edges(op, big=True):
                if not all(x in d for x, d in zip(xs, _domains(op, params, len(xs)), strict=True)):
                    continue
                if not _overflows(op.name, tuple(xs), params):
                    continue
                tried += 1
                code, answer = self.op_case(op, xs, params)
                if _died(answer):
                    return self.died_row(name, answer, code)
                if answer["ok"]:
                    got = [
                        answer["nodes"]["v0"][0],
                        *(n[1] for k, n in answer["nodes"].items() if k != "v0"),
                    ]
                    return Row(
                        name,
                        FAIL,
                        f"{op.name}{tuple(xs) + params} gives {got[0]!r} (grads {got[1:]!r}), no error",
                        self.show(code + "\nprint(v0)"),
                    )
        return Row(name, PASS if tried else NA, f"{tried} cases")

    # -- nn

    def nn_rows(self) -> list[Row]:
        """MLP(3, [4, 4, 2]) against a PyTorch twin with the engine's weights copied (see
        twin; left out when ``twin`` is off), and Module.zero_grad()."""
        from .. import twin

        name, zero_name = "nn: MLP vs PyTorch (copied weights)", "nn: Module.zero_grad() resets"
        one = "nn: MLP(3, [4, 1]) returns one Value, not a list"
        names = [name, one, zero_name] if self.twin else [one, zero_name]
        if not self.target.describe.get("mlp"):
            return [Row(n, NA, "no MLP") for n in names]
        code = self.show(twin.ENGINE_CODE)
        answer = self.exec(twin.ENGINE_CODE)
        if not answer["ok"]:
            why = f"MLP(3, [4, 4, 2]) and its training raise {answer['error']}: {answer['message']}"
            return [Row(n, FAIL, why, code) for n in names]
        rows = []
        if self.twin:
            verdict = twin.compare(answer["result"])
            rows.append(
                Row(name, verdict.status, verdict.detail, code if verdict.status == FAIL else "")
            )
        single = answer["result"]["single"]
        if single.startswith("list"):
            why = f"returns a {single}: 0.1.0's Layer returns out[0] when it has one neuron"
            script = "out = MLP(3, [4, 1])([Value(0.5), Value(-1.0), Value(2.0)])\nprint(out)"
            rows.append(Row(one, FAIL, why, self.show(script)))
        else:
            rows.append(Row(one, PASS, f"a {single}"))
        zero = answer["result"].get("zeroed")
        if zero is None:
            rows.append(Row(zero_name, NA, "no zero_grad()"))
        elif any(g != 0 for g in zero):
            rows.append(Row(zero_name, FAIL, f"grads after zero_grad(): {zero[:4]}...", code))
        else:
            rows.append(Row(zero_name, PASS))
        return rows

    # -- all

    def rows(self) -> Iterator[list[Row]]:
        """Every check's rows, in scorecard order: one list per check, so that a crash or hang
        during a check marks each row it made (a generator: the caller shows progress)."""
        yield [self.basics()]
        yield [self.discover_ops()]
        yield [self.random_programs()]
        for op in OPS.values():
            yield [self.op_row(op)]
            if op.kinks:
                yield [self.kink_row(op)]
        yield [self.reflected_row()]
        yield [self.reuse_row()]
        yield [self.repeat_row()]
        yield [self.second_order_row()]
        yield [self.depth_row()]
        yield self.bad_value_rows()
        yield [self.domain_row()]
        yield [self.overflow_row()]
        yield self.nn_rows()


def _died(answer: dict[str, Any]) -> bool:
    """Whether the engine's process crashed or hung on a request (never a refusal)."""
    return not answer.get("ok", True) and answer.get("error") in ("Crash", "Timeout")


def _prints(program: Program, message: str) -> str:
    """Lines that print what a program's check looked at, and what it found."""
    out = f"v{len(program.instrs) - 1}"
    leaves = [f"x{i}" for i in range(len(program.leaves))]
    said = message.split("\n")[0]
    return "\n" + "\n".join(
        [
            f'print("{out}.data =", {out}.data)',
            *(f'print("{x}.grad =", {x}.grad)' for x in leaves),
            f'print("the check:", {said!r})',  # a literal whatever the message holds
        ]
    )


def _exact_prints(op: Op, xs: Sequence[float], params: tuple[float, ...]) -> str:
    """Lines that print the engine's value and gradients at an op's case beside the exact ones."""
    exact = _exact(op.name, tuple(xs), params)
    if exact is None:
        return ""
    with mpmath.workdps(ORACLE_DPS):
        value, partials, _ = exact
        wants = [mpmath.nstr(w, 17) for w in (value, *partials)]
    lines = [f'print("v0.data =", v0.data, "exact {wants[0]}")']
    lines += [f'print("x{i}.grad =", x{i}.grad, "exact {w}")' for i, w in enumerate(wants[1:])]
    return "\n" + "\n".join(lines)


def _ops_of(program: Program, message: str) -> frozenset[str]:
    """What a failing program involves: its ops, an operator with a number on its left named
    apart (``sub, number on the left``: the engine's reflected method, not ``Value - Value``)."""
    kinds = set()
    for ins in program.instrs:
        left = OPS[ins.op].syntax in INFIX and not isinstance(ins.args[0], str)
        kinds.add(f"{ins.op}, number on the left" if left else ins.op)
    return frozenset(kinds)


def _output_of(case: Any, message: str) -> frozenset[str]:
    """What an op row's finding is about: the outputs it gets wrong (value, d/dx1), or an error."""
    if " raises " in message:
        return frozenset({"raises"})
    return frozenset(re.findall(r"(?:: |; )(value|d/dx\d+) ", message)) or frozenset({message})


def _known(kind: frozenset[str], kinds: list[frozenset[str]]) -> bool:
    """Whether a failure of ``kind`` is one already found: within one (a program with the
    ops of a known failure and more) or around one (an op's d/dx0 alone, after d/dx0 and
    d/dx1 were found wrong together)."""
    return any(k <= kind or kind <= k for k in kinds)


def _listed(findings: list[Row]) -> Row:
    """One row for a check's findings: the worst first (WRONG, HARDENING, PRECISION,
    CONVENTION; the first found among equals), the others listed under it."""
    ordered = sorted(findings, key=lambda r: RANK.get(r.severity, 0))
    row, row.also = ordered[0], ordered[1:]
    if row.also:
        row.detail += f" (+{len(row.also)} more distinct: see below)"
    return row


def _loud(message: str) -> bool:
    """Whether an op row's finding is an error or a nan/inf result (not a finite number)."""
    return " raises " in message or bool(re.search(r" (-?inf|nan), exact ", message))


def _guarded(check: Callable[[Any], None]) -> Callable[[Any], None]:
    """``check``, with any error it raises on an engine's answer (an answer of the wrong
    shape, say) turned into a GradcheckError naming it."""

    def guarded(example: Any) -> None:
        try:
            check(example)
        except GradcheckError:
            raise
        except Exception as e:
            raise GradcheckError(
                f"the check failed on the engine's answer: {type(e).__name__}: {e}"
            ) from None

    return guarded


def _inputs(op: Op) -> st.SearchStrategy[tuple[list[float], tuple[float, ...]]]:
    @st.composite
    def draw(d: st.DrawFn) -> tuple[list[float], tuple[float, ...]]:
        params = d(op_params(op))
        domains = op.domains(*params)
        if op.arity == VARIADIC:
            domains = domains * (2 * d(st.integers(1, 2)))
        return [d(points(dm, op.kinks, scale=50.0)) for dm in domains], params

    return draw()


def _domains(op: Op, params: tuple[float, ...], n: int) -> tuple[Any, ...]:
    return op.domains(*params) * (n if op.arity == VARIADIC else 1)


def _edges(op: Op, big: bool = False) -> Iterator[tuple[list[float], tuple[float, ...]]]:
    """Edge and extreme inputs for op, simplest first: edge_points for each input, for each
    param (beyond +-400 only for one-input ops, or with ``big``)."""
    n = 2 if op.arity == VARIADIC else op.arity
    for params in itertools.product(*op.params.values()):
        inputs = [edge_points(d, op.kinks) for d in _domains(op, params, n)]
        for xs in itertools.product(*inputs):
            if big or n == 1 or max(map(abs, xs)) <= 400:
                yield list(xs), params


@functools.cache
def _exact(name: str, xs: tuple[float, ...], params: tuple[float, ...]) -> Any:
    """op_exact at ORACLE_DPS digits, or None where the exact value is beyond float64
    (cached: every target meets the same inputs)."""
    if _overflows(name, xs, params):
        return None
    with mpmath.workdps(ORACLE_DPS):
        return op_exact(OPS[name], xs, params)


@functools.cache
def _overflows(name: str, xs: tuple[float, ...], params: tuple[float, ...]) -> bool:
    op = OPS[name]
    assert op.mp is not None
    with mpmath.workdps(ORACLE_DPS):
        return beyond_float64(op.mp(mpmath, *map(mpmath.mpf, xs), *params))


def _outside(op: Op, params: tuple[float, ...]) -> Iterator[list[float]]:
    """Inputs with one input just outside its domain (the edge itself where it is open, a
    hole, a point below), the others at 0.7."""
    domains = _domains(op, params, 2 if op.arity == VARIADIC else op.arity)
    for i, d in enumerate(domains):
        bad = [*d.holes]
        if math.isfinite(d.lo):
            bad += [d.lo - 1.0] + ([] if d.closed else [d.lo])
        for x in bad:
            xs = [0.7] * len(domains)
            xs[i] = x
            yield xs
