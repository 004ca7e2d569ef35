"""The speed verdicts: the gate's decisions on synthetic samples, the counts' determinism, and an
engine made slower by a known amount flagged on the workload it slows (benchmarks/).

The callgrind tests need valgrind (nox installs it as root, as it does graphviz); without it
they skip, counted in the summary, with the reason.
"""

import re
import shutil
from pathlib import Path

import pytest

from benchmarks import compare, counts, verdict

ROOT = Path(__file__).resolve().parent.parent
needs_valgrind = pytest.mark.skipif(
    counts.valgrind() is None, reason="valgrind is not installed (nox installs it as root)"
)


# The gate's decisions, on numbers made up to sit on each side of each boundary.


def test_a_count_past_the_threshold_is_slower_or_faster_and_within_it_the_same():
    v = verdict.judge(
        {"a": 1000.0, "b": 1000.0, "c": 1000.0, "d": 1000.0, "e": 1000.0},
        {"a": 1009.9, "b": 1010.1, "c": 989.9, "d": 990.1, "e": 1000.0},
        threshold=0.01,
    )
    assert [x.status for x in v] == ["same", "slower", "faster", "same", "same"]
    assert v[1].change == pytest.approx(0.0101, rel=1e-9, abs=0)


def test_judge_takes_the_workloads_counted_in_both_and_refuses_a_threshold_of_zero():
    assert [v.workload for v in verdict.judge({"a": 1.0, "b": 1.0}, {"b": 2.0, "c": 1.0})] == ["b"]
    with pytest.raises(ValueError, match="threshold must be above 0, got 0"):
        verdict.judge({"a": 1.0}, {"a": 1.0}, threshold=0)


def test_steps_are_measured_from_the_last_commit_counted_before():
    # 100 -> 100.5 (+0.5%: no step) -> not counted -> 103 (+2.5% from 100.5: a step) -> 102
    assert verdict.steps([100.0, 100.5, None, 103.0, 102.0], 0.01) == [3]
    assert verdict.steps([100.0, 90.0, 90.0, 91.0], 0.01) == [1, 3]  # down counts too
    assert verdict.steps([None, None], 0.01) == []


def test_time_gate_needs_the_median_and_three_rounds_of_four_when_a_spread_is_known():
    # ratios REF / current: below 1/(1 + t) means current is slower
    assert verdict.time_regressed([0.8] * 5, 0.10)
    assert not verdict.time_regressed([0.95] * 5, 0.10)  # within the threshold
    # the median says slower but a quarter of the rounds say faster: not flagged
    assert not verdict.time_regressed([0.7, 0.8, 0.85, 1.05, 1.2], 0.10)
    assert verdict.time_regressed([0.8, 0.85], 0.10)  # no spread from 2 rounds: the median
    assert not verdict.time_regressed([], 0.10)


def test_a_peer_that_ran_nothing_is_not_measured_never_not_met():
    text = "faster than pytorch scalar on every workload"
    assert compare.peer_target(text, [("moons step", None, None), ("chain 10k", None, None)]) == (
        "not measured",
        f"{text}: the peer ran none of the workloads run",
    )
    status, line = compare.peer_target(
        text, [("moons step", 1.5, None), ("chain 1M", None, "overflows the stack")]
    )
    assert status == "met where run"
    assert "chain 1M not measured (overflows the stack)" in line
    assert compare.peer_target(text, [("moons step", 0.9, None)])[0] == "NOT MET"
    assert compare.peer_target(text, [("moons step", 1.1, None)])[0] == "met"


def test_cycles_follow_the_documented_formula():
    e = dict(zip(counts.EVENTS, [1000, 300, 200, 10, 20, 5, 1, 2, 3], strict=True))
    # L1 hits 1500 - 35 = 1465; LL hits 35 - 6 = 29; RAM 6
    assert counts.cycles(e) == 1465 + 5 * 29 + 35 * 6


def test_a_callgrind_summary_with_its_trailing_zeros_left_out_is_read(tmp_path):
    f = tmp_path / "cg.out.1"
    f.write_text("events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw\nsummary: 200496 65159 24229\n")
    assert counts.summary(f) == {
        **dict.fromkeys(counts.EVENTS, 0),
        "Ir": 200496,
        "Dr": 65159,
        "Dw": 24229,
    }


# Exact counts, under callgrind.


def slowed(tmp_path: Path, function: str) -> Path:
    """A copy of this engine whose ``function`` in engine.py does a known amount of extra work
    on every call: a loop of 10 empty turns before its body (instructions only; no result
    changes)."""
    tree = tmp_path / function
    shutil.copytree(ROOT / "micrograd", tree / "micrograd")
    engine = tree / "micrograd" / "engine.py"
    text = engine.read_text()
    head = re.search(
        rf"^def {function}\(.*?\) -> [^:]+:\n(    \"\"\".*?\"\"\"\n)?", text, re.S | re.M
    )
    assert head, function
    text = text[: head.end()] + "    for _ in range(10):\n        pass\n" + text[head.end() :]
    engine.write_text(text)
    return tree


@needs_valgrind
def test_two_counts_of_the_same_code_agree_and_a_slowed_neuron_is_flagged_on_the_moons_only(
    tmp_path,
):
    names = ["moons step", "chain 10k"]
    got = counts.count_many(
        {"one": ROOT, "two": ROOT, "slow": slowed(tmp_path, "dot_node")}, names, jobs=2
    )
    assert all(isinstance(g, dict) for g in got.values()), got
    for w in names:  # the same code, counted twice: within 0.1% (measured: within 0.001%)
        one, two = got["one"][w]["instructions"], got["two"][w]["instructions"]
        assert two == pytest.approx(one, rel=1e-3, abs=0), w
    base = {w: got["one"][w]["instructions"] for w in names}
    slow = {w: got["slow"][w]["instructions"] for w in names}
    # dot_node makes each neuron of the moons step's MLP; the chain has no neuron.
    assert {v.workload: v.status for v in verdict.judge(base, slow)} == {
        "moons step": "slower",
        "chain 10k": "same",
    }


def test_without_valgrind_the_verdict_falls_back_to_time_and_says_so(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(compare.counts, "valgrind", lambda: None)  # compare imports it by path
    args = ["HEAD", "--no-upstream", "--no-peers", "--workloads", "moons step", "--rounds", "1"]
    status = compare.main([*args, "--plot", str(tmp_path / "compare.png")])
    out, err = capsys.readouterr()
    assert "valgrind is not installed: the verdict falls back to CPU time (--gate time)" in err
    assert "Counts (callgrind" not in out
    assert "no regression past 10.0% in CPU time against HEAD" in out or status == 1
    with pytest.raises(SystemExit):  # counts only, and nothing to count them with
        compare.main(["--no-time"])
    assert "--gate time needs the timed rounds (drop --no-time)" in capsys.readouterr().err
