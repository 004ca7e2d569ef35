"""No engine can sink a conformance run: each hostile engine here runs in its own worker
process, and the run ends with a scorecard whose rows say what happened.

Each engine is tests/engines/tiny.py (+ * ** relu) whose relu misbehaves on a negative input:
it hangs, calls exit(), raises BaseException, aborts the process, prints megabytes, or gives a
node whose data is not a number. Short timeouts keep the file quick: 2 s per request, 20 s per
target.
"""

import sys
import time

import pytest

from micrograd.testing.conformance import CRASH, FAIL, FAILING, PASS, TIMEOUT, Worker, run
from tests.engines.hostile import BUGS, engine


@pytest.mark.parametrize("bug", list(BUGS))
def test_a_hostile_engine_gets_a_scorecard_and_the_relu_row_says_what_happened(tmp_path, bug):
    code, status = BUGS[bug]
    (tmp_path / "hostile.py").write_text(engine(code))
    worker = Worker(sys.executable, "hostile:Value", [str(tmp_path)], timeout=2)
    start = time.monotonic()
    try:
        card = run(worker, bug, examples=5, max_depth=1000, depth_timeout=10, target_timeout=20)
    finally:
        worker.close()
    elapsed = time.monotonic() - start
    rows = {r.check: r for r in card.rows}
    assert elapsed < 20 + 60, elapsed  # the target's time, and each row's last request
    relu = rows["relu: values and derivatives"]
    if status is None:
        assert relu.status in FAILING, relu
    else:
        assert relu.status == status, relu
    assert rows["Value, .data, .grad, backward()"].status == PASS  # relu is not in it
    if status == CRASH:
        assert "exited with status 3" in relu.detail or "SIGABRT" in relu.detail, relu.detail
    if bug == "raises BaseException":
        assert relu.status in (FAIL, CRASH), relu


def card_of(tmp_path, source, timeout=2):
    (tmp_path / "hostile.py").write_text(source)
    worker = Worker(sys.executable, "hostile:Value", [str(tmp_path)], timeout=timeout)
    try:
        card = run(worker, "t", examples=3, max_depth=100, depth_timeout=10, target_timeout=60)
    finally:
        worker.close()
    return {r.check: r for r in card.rows}


def test_a_hang_or_crash_is_never_taken_for_a_refusal_or_a_wrong_number(tmp_path):
    # Value('abc') hangs: that row is TIMEOUT (it was PASS: a hang looked like a refusal), and
    # the nan row still asks the engine (it refuses nan: PASS).
    hangs = engine().replace(
        'raise TypeError(f"data must be a number, got {type(data).__name__}")',
        "import time; time.sleep(3600)",
    )
    rows = card_of(tmp_path, hangs)
    assert rows["bad input: Value() refuses non-numbers"].status == TIMEOUT
    assert rows["bad input: Value() refuses nan and inf"].status == PASS
    # backward(create_graph=True) aborts: the second-order row is CRASH (it was WRONG).
    aborts = engine().replace(
        "    def backward(self):",
        "    def backward(self, create_graph=False):\n        if create_graph:\n            import os; os.abort()",
    )
    second = card_of(tmp_path, aborts)[
        "second order: backward(create_graph=True), then the gradient's backward()"
    ]
    assert (second.status, second.severity) == (CRASH, CRASH), second
