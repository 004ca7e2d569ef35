"""pytest-benchmark workloads (``nox -s bench``); not collected by a plain ``pytest``.

The per-op micro-benchmarks are generated from the registry. Ratios to micrograd 0.1.0, to the
peer engines and to the plain-float floors are measured side by side by ``nox -s compare``
(benchmarks/compare.py). Smoke-run with ``pytest benchmarks --benchmark-disable``.
"""

import pytest
from hypothesis import find

import micrograd
from micrograd import OPS, Value, apply, gc_paused
from micrograd.ops import VARIADIC
from micrograd.testing import op_params, points

from .workloads import FLOORS, WORKLOADS, bytes_per_node, make_moons_step


def inputs(op):
    """One fixed, valid input set for ``op``, drawn by the property suite's strategies."""
    params = find(op_params(op), lambda _: True)
    domains = op.domains(*params) * (32 if op.arity == VARIADIC else 1)
    xs = [find(points(d, op.kinks), lambda x: abs(x) > 0.2) for d in domains]
    return xs, params


@pytest.mark.benchmark(group="op: forward + backward")
@pytest.mark.parametrize("op", list(OPS.values()), ids=lambda op: op.name)
def test_op(benchmark, op):
    xs, params = inputs(op)

    def run():
        leaves = [Value(x) for x in xs]
        apply(op, *leaves, params=params).backward()
        return leaves

    leaves = benchmark(run)
    # The run did the backward pass: each leaf holds its partial (leaves are distinct).
    partials = op.f(*xs, *params)[1]
    assert [v.grad for v in leaves] == list(partials), op.name


@pytest.mark.benchmark(group="workloads")
@pytest.mark.parametrize("name", list(WORKLOADS))
def test_workload(benchmark, name):
    run = WORKLOADS[name](micrograd)
    if name in ("chain 1M", "random graph 200k"):
        benchmark.pedantic(run, rounds=3, iterations=1)
    else:
        benchmark(run)


@pytest.mark.benchmark(group="workloads")
def test_moons_step_gc_paused(benchmark):
    step = make_moons_step(micrograd)

    def run():
        with gc_paused():
            return step()

    assert benchmark(run) > 0


@pytest.mark.benchmark(group="workloads")
@pytest.mark.parametrize("name", list(FLOORS))
def test_floor_moons_step(benchmark, name):
    loss = benchmark(FLOORS[name]())
    assert loss > 0


def test_memory_per_node(benchmark):
    per_node = benchmark.pedantic(bytes_per_node, args=(micrograd,), rounds=1, iterations=1)
    benchmark.extra_info["bytes per node"] = per_node
    assert per_node > 0
