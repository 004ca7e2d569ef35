"""Random programs (the property suite's) translated to PyTorch: every leaf gradient agrees.

Both sides compute in float64 with each op accurate to a few ulps; programs keep every op's
condition number below ~1e4 (micrograd.testing MARGIN and BOUND) and have at most ~20 ops, so
two correct implementations agree to ~20 * 1e4 * 64 EPS ~ 3e-9 of the largest gradient or value
involved. 1e-8 of that scale leaves headroom and catches any wrong derivative.
"""

from hypothesis import given

from micrograd.testing import programs, run_engine
from tests.reference.common import run_torch


@given(programs())
def test_program_gradients_match_pytorch(program):
    leaves, out = run_engine(program)
    out.backward()
    tleaves, tout = run_torch(program)
    if tout.requires_grad:  # else the output depends on constants alone
        tout.backward()
    ours = [x.grad for x in leaves]
    theirs = [0.0 if t.grad is None else t.grad.item() for t in tleaves]
    scale = max(1.0, abs(out.data), *map(abs, theirs))
    assert abs(out.data - tout.item()) <= 1e-8 * scale
    for i, (g, t) in enumerate(zip(ours, theirs, strict=True)):
        assert abs(g - t) <= 1e-8 * scale, f"d/dx{i}: {g!r} vs PyTorch {t!r}\n{program}"
