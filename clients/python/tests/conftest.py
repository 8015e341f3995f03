"""Fixtures: one real kafka-lite per test session, on 127.0.0.1 with an
ephemeral port and a temporary data dir.

The broker binaries come from ``$RUSTLOG_BIN_DIR`` (default: the repository's
build/release). kafka-lite writes its bound port to ``--port-file`` once it
listens; the fixture waits for that file, as tests/support/broker_process.h
does. A broker that dies during the session fails the tests that follow
with its log.
"""

from __future__ import annotations

import contextlib
import faulthandler
import itertools
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Iterator, List, Optional

import pytest

REPO = Path(__file__).resolve().parents[3]


def bin_dir() -> Path:
    return Path(os.environ.get("RUSTLOG_BIN_DIR") or REPO / "build" / "release")


class Broker:
    """A kafka-lite process owned by the test session."""

    def __init__(self, extra_args: Optional[List[str]] = None) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="rustlog-pytest-"))
        self.data_dir = self.root / "data"
        self.log_path = self.root / "broker.log"
        self.extra_args = extra_args or []
        self.proc: Optional[subprocess.Popen] = None  # type: ignore[type-arg]
        self.port = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0, port: int = 0) -> None:
        """Starts kafka-lite on the data dir; ``port`` 0 = an ephemeral one."""
        exe = bin_dir() / "kafka-lite"
        if not exe.exists():
            raise RuntimeError(f"{exe} does not exist: build it (cmake --build --preset release) or set RUSTLOG_BIN_DIR")
        port_file = self.root / "port"
        if port_file.exists():
            port_file.unlink()
        args = [str(exe), "--data-dir", str(self.data_dir), "--listen", f"127.0.0.1:{port}", "--port-file", str(port_file),
                "--metrics-listen", "127.0.0.1:0", *self.extra_args]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"kafka-lite exited with {self.proc.returncode} before listening\n{self.log_tail()}")
            try:
                text = port_file.read_text().strip()
            except FileNotFoundError:
                text = ""
            if text.isdigit() and 0 < int(text) < 65536:
                self.port = int(text)
                return
            time.sleep(0.005)
        self.kill9()
        raise RuntimeError(f"kafka-lite did not write its port file within {timeout} s\n{self.log_tail()}")

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM and wait; the exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill9()
        return self.proc.returncode

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def log_tail(self, n: int = 6000) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            text = ""
        return f"---- kafka-lite log ({self.log_path}) ----\n{text[-n:]}---- end of log ----"

    def cleanup(self) -> None:
        if os.environ.get("RUSTLOG_KEEP_TEST_DIRS"):
            print(f"keeping broker test dir {self.root}")
            return
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def broker() -> Iterator[Broker]:
    """The session's broker (flush=always: every acknowledged record is durable)."""
    b = Broker()
    b.start()
    try:
        yield b
    finally:
        code = b.stop()
        tail = b.log_tail()
        b.cleanup()
        if code != 0:
            pytest.fail(f"kafka-lite exited with {code} on SIGTERM at the end of the session\n{tail}")


@pytest.fixture
def make_broker() -> Iterator[Callable[..., Broker]]:
    """Starts brokers of the test's own (``make_broker(["--flag", "value"])``),
    to stop, kill -9 or restart; each is killed and removed at the end."""
    made: List[Broker] = []

    def make(extra_args: Optional[List[str]] = None) -> Broker:
        b = Broker(extra_args)
        made.append(b)
        b.start()
        return b

    yield make
    for b in made:
        b.kill9()
        b.cleanup()


@pytest.fixture
def own_broker(make_broker: Callable[..., Broker]) -> Broker:
    """A broker of the test's own with the default flags."""
    return make_broker()


TEST_TIMEOUT = float(os.environ.get("RUSTLOG_PY_TEST_TIMEOUT", "300"))


@pytest.fixture(autouse=True)
def _broker_alive(request: pytest.FixtureRequest) -> Iterator[None]:
    # A hung test must not hang CI: past TEST_TIMEOUT seconds SIGALRM raises
    # in the test (a normal failure with its traceback); should that not get
    # through, the whole run exits a minute later.
    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"the test took longer than {TEST_TIMEOUT:.0f} s (RUSTLOG_PY_TEST_TIMEOUT)")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, TEST_TIMEOUT)
    faulthandler.dump_traceback_later(TEST_TIMEOUT + 60, exit=True)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        faulthandler.cancel_dump_traceback_later()
    if "broker" in request.fixturenames:
        b = request.getfixturevalue("broker")
        if not b.running():
            pytest.fail(f"kafka-lite died during this test\n{b.log_tail()}")


_names = itertools.count()


@pytest.fixture
def topic_name(request: pytest.FixtureRequest) -> str:
    """A topic name unique in the session, derived from the test's name."""
    base = "".join(c if c.isalnum() or c in "-_" else "-" for c in request.node.name)[:120]
    return f"{base}-{next(_names)}"


@pytest.fixture
def client(broker: Broker) -> Iterator["object"]:
    import rustlog

    with rustlog.Client(broker.address) as c:
        yield c


def run_cli(broker: Broker, *args: str, input: Optional[bytes] = None, check: bool = True,
            timeout: float = 60.0) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    """Runs ``build/release/rustlog ARGS --broker ADDRESS``."""
    exe = bin_dir() / "rustlog"
    r = subprocess.run([str(exe), *args, "--broker", broker.address], input=input, capture_output=True,
                       timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"rustlog {' '.join(args)} exited with {r.returncode}:\n{r.stderr.decode(errors='replace')}")
    return r


@contextlib.contextmanager
def produced_later(broker: Broker, topic: str, partition: int, value: bytes, delay: float = 0.3) -> Iterator[None]:
    """Produces ``value`` from another connection ``delay`` seconds into the block
    (for long-poll tests); the block waits for it at exit."""
    import rustlog

    def later() -> None:
        time.sleep(delay)
        with rustlog.Client(broker.address) as other:
            other.produce(topic, partition, [value])

    t = threading.Thread(target=later)
    t.start()
    try:
        yield
    finally:
        t.join()
