"""No engine can sink a conformance run: each hostile engine here runs in its own worker
process, and the run ends with a scorecard whose rows say what happened.

Each engine is a correct small engine (+ * ** relu) whose relu misbehaves on a negative input:
it hangs, calls exit(), raises BaseException, aborts the process, prints megabytes, or gives a
node whose data is not a number. Short timeouts keep the file quick: 2 s per request, 20 s per
target.
"""

import sys
import time

import pytest

from micrograd.testing.conformance import CRASH, FAIL, FAILING, PASS, Worker, run
from tests.engines.hostile import BUGS, ENGINE


@pytest.mark.parametrize("bug", list(BUGS))
def test_a_hostile_engine_gets_a_scorecard_and_the_relu_row_says_what_happened(tmp_path, bug):
    code, status = BUGS[bug]
    (tmp_path / "hostile.py").write_text(ENGINE.replace("BUG", code))
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
