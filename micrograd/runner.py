"""Running a version of micrograd, or another engine, apart from this process.

One module for what compare, history and conformance share: a virtualenv built once per
content (``virtualenv``), a git ref's tree exported to import from (``export``), and a worker
process answering one JSON request per line over a pipe, with a timeout per request, restarted
after it crashes, hangs or exits (``Worker``). A failed request is an answer, never an
exception: ``{"ok": False, "error": "Crash" | "Timeout" | "Garbage", "message", "stderr"}``.

Standard library only: conformance uses it without its extra installed.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import venv
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

STDERR_TAIL = 2000  # characters of a dead worker's stderr kept in its answer


def say(message: str) -> None:
    """A progress line, on stderr."""
    print(message, file=sys.stderr, flush=True)


def run_with_progress(
    cmd: Sequence[str],
    what: str,
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    every: float = 15.0,
    quiet: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` to its end, saying every ``every`` s that ``what`` is still going; raise
    RuntimeError with the last lines of its output when it fails."""
    start = time.monotonic()
    done = threading.Event()

    def heartbeat() -> None:
        while not done.wait(every):
            say(f"  ... {what}: still going, {time.monotonic() - start:.0f} s")

    threading.Thread(target=heartbeat, daemon=True).start()
    try:
        result = subprocess.run(list(cmd), capture_output=True, text=True, env=env, cwd=cwd)
    finally:
        done.set()
    if result.returncode:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise RuntimeError(f"{what} failed (exit status {result.returncode}):\n{tail}")
    if not quiet:
        say(f"  {what}: done in {time.monotonic() - start:.0f} s")
    return result


def virtualenv(
    path: Path, requirements: Sequence[str], key: str, env: dict[str, str] | None = None
) -> Path:
    """A virtualenv at ``path`` with ``pip install *requirements`` done; returns its python.

    Reused as it is when it was made for the same ``key`` (say, the requirements, or a digest
    of the source they install); rebuilt from nothing otherwise, so a half-made one is never
    taken for a made one (the key is written last)."""
    python = path / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    stamp = path / "micrograd-runner.json"
    if stamp.exists() and json.loads(stamp.read_text()).get("key") == key and python.exists():
        return python
    say(f"creating a virtualenv in {path}")
    venv.create(path, with_pip=True, clear=True)
    if requirements:
        # What is installed, not pip's options and their values (--report FILE).
        valued = {"--report", "-r", "--requirement", "-c", "--constraint"}
        given = [r for i, r in enumerate(requirements) if not (i and requirements[i - 1] in valued)]
        shown = " ".join(r for r in given if not r.startswith("-"))
        pip = [str(python), "-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check"]
        run_with_progress([*pip, *requirements], f"pip install {shown}", env=env)
    stamp.write_text(json.dumps({"key": key}))
    return python


def git(root: Path, *args: str) -> str:
    """The output of ``git -C root ARGS``; RuntimeError with git's message when it fails."""
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


def export(root: Path, ref: str, into: Path, paths: Sequence[str] = ("micrograd",)) -> Path:
    """The files under ``paths`` at commit ``ref`` of the repository at ``root``, written once
    under ``into`` (one folder per commit hash, reused); returns the folder. micrograd is pure
    Python without dependencies, so a version runs from its tree on ``sys.path``, with nothing
    to install."""
    commit = git(root, "rev-parse", "--verify", f"{ref}^{{commit}}")
    tree = into / commit
    if (tree / ".exported").exists():
        return tree
    into.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{commit[:12]}-", dir=into))
    archive = subprocess.run(
        ["git", "-C", str(root), "archive", commit, "--", *paths], capture_output=True
    )
    if archive.returncode:
        shutil.rmtree(partial, ignore_errors=True)
        why = archive.stderr.decode(errors="replace").strip()
        raise RuntimeError(f"git archive {commit[:12]} {' '.join(paths)}: {why}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(partial, filter="data")
    (partial / ".exported").write_text(commit + "\n")
    shutil.rmtree(tree, ignore_errors=True)
    partial.rename(tree)
    return tree


class Worker:
    """A process that reads one JSON request per line on stdin and answers one JSON line on
    stdout (with ``hello``, it first says one line of its own: ``self.hello``).

    ``ask`` waits at most ``timeout`` seconds for an answer. A worker that exits, crashes,
    hangs or answers with something that is not JSON is killed (with everything it started)
    and that request's answer says so, with the tail of its stderr; the next request starts a
    new process. Its stderr goes to a file, so nothing it prints can block the pipe."""

    def __init__(
        self,
        cmd: Sequence[str],
        *,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        timeout: float | None = None,
        hello: bool = False,
    ) -> None:
        self.cmd, self.cwd, self.env = list(cmd), cwd or Path(tempfile.gettempdir()), env
        self.timeout, self.expect_hello = timeout, hello
        self.hello: dict[str, Any] = {}
        self.proc: subprocess.Popen[str] | None = None
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.stderr: IO[bytes] | None = None
        self.restarts = 0
        self.asking = False  # a request is out and unanswered (an interrupt left it so)

    def start(self) -> dict[str, Any]:
        """Start the process (when it is not running); return its hello (or ``{"ok": True}``),
        or the failure to start as an answer."""
        if self.proc is not None and self.proc.poll() is None:
            return self.hello or {"ok": True}
        if self.proc is not None:
            self.restarts += 1
        self._discard()
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close() or a restart)
        self.lines = queue.Queue()
        self.proc = subprocess.Popen(
            self.cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            cwd=self.cwd,
            env=self.env,
            start_new_session=True,  # its own process group: a kill takes its children too
        )
        threading.Thread(target=_pump, args=(self.proc.stdout, self.lines), daemon=True).start()
        if not self.expect_hello:
            return {"ok": True}
        self.hello = self._answer(self.timeout)
        return self.hello

    def ask(self, request: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
        """The answer to ``request``, or a failure answer (see the class docstring)."""
        hello = self.start()
        if not hello.get("ok", True):
            return hello
        assert self.proc is not None
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # it died: the answer below says how
        self.asking = True
        answer = self._answer(self.timeout if timeout is None else timeout)
        self.asking = False
        return answer

    def _answer(self, timeout: float | None) -> dict[str, Any]:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            return self._fail("Timeout", f"no answer within {timeout:g} s")
        if line is None:
            assert self.proc is not None
            try:
                code = self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                code = None
            return self._fail("Crash", _exit_status(code))
        try:
            answer = json.loads(line)
        except ValueError:
            return self._fail("Garbage", f"answered with a line that is not JSON: {line[:200]!r}")
        if not isinstance(answer, dict):
            return self._fail("Garbage", f"answered with {type(answer).__name__}, not an object")
        return answer

    def _fail(self, error: str, message: str) -> dict[str, Any]:
        self.kill()
        return {"ok": False, "error": error, "message": message, "stderr": self.stderr_tail()}

    def stderr_tail(self) -> str:
        """The last characters the process wrote to stderr."""
        if self.stderr is None or self.stderr.closed:
            return ""
        self.stderr.flush()
        size = self.stderr.seek(0, os.SEEK_END)
        self.stderr.seek(max(0, size - STDERR_TAIL))
        return self.stderr.read().decode(errors="replace").strip()

    def kill(self) -> None:
        """Kill the process and everything it started (it restarts on the next request)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, AttributeError):
            self.proc.kill()
        self.proc.wait()

    def close(self) -> None:
        """End the process: stdin closed, then killed if it has not exited within 10 s; killed
        at once when a request is still out (an interrupt while it worked: it would not read
        its stdin)."""
        if self.asking:
            self.kill()
            self.asking = False
        if self.proc is not None and self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.close()
                self.proc.wait(timeout=10)
            except (BrokenPipeError, OSError, subprocess.TimeoutExpired):
                self.kill()
        self._discard()

    def _discard(self) -> None:
        if self.proc is not None:
            for stream in (self.proc.stdin, self.proc.stdout):
                with contextlib.suppress(OSError):
                    if stream is not None:
                        stream.close()
        if self.stderr is not None:
            self.stderr.close()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _pump(stream: IO[str] | None, lines: queue.Queue[str | None]) -> None:
    """Move ``stream``'s lines into ``lines``; None once it ends."""
    try:
        if stream is not None:
            for line in stream:
                lines.put(line)
    except (OSError, ValueError):
        pass
    lines.put(None)


def _exit_status(code: int | None) -> str:
    if code is None:
        return "its output ended but it did not exit"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"killed by {name}"
    return f"exited with status {code}"


def once(
    cmd: Sequence[str],
    request: dict[str, Any],
    timeout: float,
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    hello: bool = False,
) -> dict[str, Any]:
    """``request`` answered by a process started for it alone: where a crash, a hang or a deep
    recursion cannot harm a longer-lived worker."""
    worker = Worker(cmd, cwd=cwd, env=env, timeout=timeout, hello=hello)
    try:
        return worker.ask(request)
    finally:
        worker.close()
