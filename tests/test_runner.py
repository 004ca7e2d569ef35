"""micrograd.runner.Worker: no worker can hang, kill or flood the process that asks it.

Each worker here is a small hostile program: it hangs, exits, aborts, prints megabytes,
answers garbage. The answer must say what happened (Crash / Timeout / Garbage, with the tail
of its stderr), and the next request must find a fresh worker.
"""

import contextlib
import sys
import threading
import time

from micrograd import runner

ECHO = """
import json, os, sys, time
for line in sys.stdin:
    req = json.loads(line)
    what = req.get("do")
    if what == "hang":
        time.sleep(3600)
    elif what == "exit":
        print("leaving now", file=sys.stderr, flush=True)
        sys.exit(3)
    elif what == "abort":
        os.abort()
    elif what == "flood":
        sys.stderr.write("x" * 5_000_000)
        sys.stderr.flush()
        print(json.dumps({"ok": True, "flooded": True}), flush=True)
    elif what == "garbage":
        print("this is not json", flush=True)
    elif what == "list":
        print("[1, 2]", flush=True)
    else:
        print(json.dumps({"ok": True, "pid": os.getpid()}), flush=True)
"""


def worker(timeout: float = 5.0) -> runner.Worker:
    return runner.Worker([sys.executable, "-c", ECHO], timeout=timeout)


def test_a_hang_is_a_timeout_and_the_next_request_gets_a_new_worker():
    with worker(timeout=1.0) as w:
        first = w.ask({})["pid"]
        start = time.monotonic()
        answer = w.ask({"do": "hang"})
        assert time.monotonic() - start < 10
        assert answer["ok"] is False
        assert answer["error"] == "Timeout"
        assert answer["message"] == "no answer within 1 s"
        again = w.ask({})
        assert again["ok"] is True
        assert again["pid"] != first
        assert w.restarts == 1


def test_an_exit_is_a_crash_with_its_status_and_the_tail_of_its_stderr():
    with worker() as w:
        answer = w.ask({"do": "exit"})
        assert answer == {
            "ok": False,
            "error": "Crash",
            "message": "exited with status 3",
            "stderr": "leaving now",
        }
        assert w.ask({})["ok"] is True


def test_an_abort_is_a_crash_naming_the_signal():
    with worker() as w:
        answer = w.ask({"do": "abort"})
        assert answer["error"] == "Crash"
        assert answer["message"] == "killed by SIGABRT"


def test_megabytes_on_stderr_do_not_block_and_only_a_tail_is_kept():
    with worker() as w:
        assert w.ask({"do": "flood"}) == {"ok": True, "flooded": True}
        assert len(w.stderr_tail()) == runner.STDERR_TAIL


def test_an_answer_that_is_not_a_json_object_is_garbage():
    with worker() as w:
        answer = w.ask({"do": "garbage"})
        assert answer["error"] == "Garbage"
        assert "'this is not json" in answer["message"]
        assert w.ask({"do": "list"})["message"] == "answered with list, not an object"


def test_a_worker_that_cannot_start_answers_with_a_crash():
    w = runner.Worker([sys.executable, "-c", "import sys; sys.exit('no engine here')"], hello=True)
    answer = w.ask({})
    assert answer["error"] == "Crash"
    assert answer["stderr"] == "no engine here"
    w.close()


def test_once_answers_from_a_process_of_its_own():
    answer = runner.once([sys.executable, "-c", ECHO], {"do": "hang"}, timeout=0.5)
    assert answer["error"] == "Timeout"


def test_closing_a_worker_with_a_request_still_out_ends_it_at_once():
    # Ctrl-C while a request hangs: close() (from a finally) waited 10 s for a worker that
    # would never read its closed stdin, and the interrupted run sat still that long.
    w = worker(timeout=600)
    assert w.ask({"do": "echo"})["ok"]  # started

    def ask():  # an interrupt stops this in the asking thread itself; here another one waits
        with contextlib.suppress(Exception):  # its streams are closed under it: not the point
            w.ask({"do": "hang"})

    asking = threading.Thread(target=ask, daemon=True)
    asking.start()
    time.sleep(1.0)  # the request is out, and the worker sleeps in it
    start = time.monotonic()
    w.close()
    assert time.monotonic() - start < 5
    assert w.proc.poll() is not None  # killed, not left sleeping
    asking.join(timeout=30)
