"""The benchmarks' floors compute what the engine computes, and gc_paused restores the collector.

The floors (benchmarks/workloads.py) are the moons step written by hand on plain floats; a
ratio to them means something only if they compute the same loss and gradients as the engine
on the same model.
"""

import gc
import math
import random
from pathlib import Path

import pytest

import micrograd
import micrograd.workloads
from benchmarks import workloads
from micrograd import gc_paused

FLOORS = [workloads.floor_loss_and_grads, workloads.sparse_floor_loss_and_grads]
U = 2.0**-53  # unit roundoff of float64
# An upper bound on the roundings along any path to one result: 3 layers of sums of at most 17
# terms forward and again backward, 100 examples accumulated, the loss's 337 squares.
K = 2 * 3 * 17 + 100 + 337


def flat(W, B):
    """Parameters in model.parameters() order: per layer, per neuron, its weights then bias."""
    return [
        v
        for layer, bs in zip(W, B, strict=True)
        for r, b in zip(layer, bs, strict=True)
        for v in (*r, b)
    ]


def magnitudes(W, B, X, y, alpha):
    """The floor's loss and gradients computed on absolute values, with the relu and hinge
    decisions of the real computation: by the standard bound for sums and products (Higham,
    Accuracy and Stability, ch. 3), a computation of K roundings errs by at most about K * U
    times this. Any two orders of the same sums differ by at most twice that."""
    n = len(X)
    gW = [[[0.0] * len(r) for r in layer] for layer in W]
    gB = [[0.0] * len(layer) for layer in B]
    loss = 0.0
    for x, yi in zip(X, y, strict=True):
        acts, absacts, masks, a, aa = [x], [[abs(v) for v in x]], [], x, [abs(v) for v in x]
        for li in range(3):
            z = [
                sum(w * v for w, v in zip(r, a, strict=True)) + b
                for r, b in zip(W[li], B[li], strict=True)
            ]
            za = [
                sum(abs(w) * v for w, v in zip(r, aa, strict=True)) + abs(b)
                for r, b in zip(W[li], B[li], strict=True)
            ]
            m = [v > 0 for v in z] if li < 2 else [True]
            a = [v if k else 0.0 for v, k in zip(z, m, strict=True)]
            aa = [v if k else 0.0 for v, k in zip(za, m, strict=True)]
            masks.append(m)
            acts.append(a)
            absacts.append(aa)
        if 1 - yi * a[0] > 0:
            loss += (1 + aa[0]) / n
            d = [1 / n]
            for li in (2, 1, 0):
                d = [v if k else 0.0 for v, k in zip(d, masks[li], strict=True)]
                below = [0.0] * len(acts[li])
                for j, (r, dj) in enumerate(zip(W[li], d, strict=True)):
                    gB[li][j] += dj
                    for k, w in enumerate(r):
                        gW[li][j][k] += dj * absacts[li][k]
                        below[k] += dj * abs(w)
                d = below
    for li in range(3):
        for j, r in enumerate(W[li]):
            for k, w in enumerate(r):
                gW[li][j][k] += 2 * alpha * abs(w)
                loss += alpha * w * w
            gB[li][j] += 2 * alpha * abs(B[li][j])
            loss += alpha * B[li][j] ** 2
    return loss, flat(gW, gB)


@pytest.mark.parametrize("floor", FLOORS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("moved", [False, True], ids=["initial", "moved"])
def test_floor_computes_the_engines_loss_and_gradients(floor, moved):
    W, B = workloads.floor_model()
    model = workloads.moons_model(micrograd)
    params = model.parameters()
    assert [p.data for p in params] == flat(W, B), "the floor's model is not the engine's"
    X, y = workloads.moons_data()
    rng = random.Random(1)
    for p in params if moved else []:  # another point: other dead units and closed hinges
        p.data += rng.uniform(-0.5, 0.5)
    W = [[[0.0] * len(r) for r in layer] for layer in W]
    it = iter(params)
    for layer, bs in zip(W, B, strict=True):
        for j, r in enumerate(layer):
            r[:] = [next(it).data for _ in r]
            bs[j] = next(it).data
    loss = workloads.moons_loss(micrograd, model, X, y, workloads.ALPHA)
    loss.backward()

    got_loss, gW, gB = floor(W, B, X, y, workloads.ALPHA)
    bound_loss, bounds = magnitudes(W, B, X, y, workloads.ALPHA)
    assert abs(got_loss - loss.data) <= 2 * K * U * bound_loss, (got_loss, loss.data)
    for i, (g, p, m) in enumerate(zip(flat(gW, gB), params, bounds, strict=True)):
        assert abs(g - p.grad) <= 2 * K * U * m, f"parameter {i}: floor {g!r}, engine {p.grad!r}"


def test_the_sparse_floor_has_zeros_to_skip():
    # The sparse floor measures something else than the floor only if, at the measured point,
    # some relu units are dead or some hinges closed.
    W, B = workloads.floor_model()
    X, y = workloads.moons_data()
    dead = closed = 0
    for x, yi in zip(X, y, strict=True):
        a = x
        for li in range(3):
            z = [
                sum(w * v for w, v in zip(r, a, strict=True)) + b
                for r, b in zip(W[li], B[li], strict=True)
            ]
            a = [max(0.0, v) for v in z] if li < 2 else z
            dead += a.count(0.0) if li < 2 else 0
        closed += 1 - yi * a[0] <= 0
    assert dead + closed > 0


def test_floor_steps_train_like_the_engine():
    engine = workloads.make_moons_step(micrograd)
    floors = [workloads.make_floor_moons_step(), workloads.make_sparse_floor_moons_step()]
    for _ in range(5):
        want = engine()
        for step in floors:
            got = step()
            # five steps of lr 0.01 move the weights by rounding-level differences only:
            # the losses agree to far better than 1e-9 relative (measured: about 1e-15).
            assert math.isclose(got, want, rel_tol=1e-9), (got, want)


def test_gc_paused_pauses_and_restores():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block restores the state it found: paused
    assert gc.isenabled()


def test_gc_paused_restores_after_an_exception():
    with pytest.raises(ZeroDivisionError), gc_paused():
        1 / 0  # noqa: B018
    assert gc.isenabled()


def test_gc_paused_leaves_a_disabled_collector_disabled():
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_training_inside_gc_paused_frees_every_graph():
    # The lever is safe because the engine's graphs have no cycles: with the collector paused,
    # a training step leaves nothing behind for it to collect.
    step = workloads.make_moons_step(micrograd)
    step()
    gc.collect()
    with gc_paused():
        for _ in range(3):
            step()
        assert gc.collect() == 0


def test_the_speed_page_names_the_workloads_as_compare_does():
    section = (Path(__file__).parents[1] / "docs" / "speed.md").read_text()
    rows = {line.split("|")[1].strip() for line in section.splitlines() if line.startswith("| ")}
    assert set(workloads.WORKLOAD_NAMES) <= rows, set(workloads.WORKLOAD_NAMES) - rows


def test_the_engine_workloads_load_by_path_with_the_standard_library_alone(tmp_path):
    # compare's and conformance's workers load micrograd/workloads.py by its path in other
    # engines' virtualenvs: it must not import micrograd (which there is another engine).
    import subprocess
    import sys

    path = Path(micrograd.workloads.__file__)
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('w', {str(path)!r})\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        "assert not [k for k in sys.modules if k.split('.')[0] == 'micrograd'], 'imported micrograd'\n"
        "print(sorted(m.WORKLOADS))\n"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == repr(sorted(workloads.WORKLOADS)), out.stderr
