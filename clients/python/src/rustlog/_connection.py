"""One TCP connection to a broker, carrying frames (docs/PROTOCOL.md, "Framing").

Blocking sockets with deadlines: ``send()`` writes one whole frame,
``receive()`` returns one whole response payload. Every failure raises a
:class:`TransportError` (a :class:`RequestTimeout` for a deadline) and closes
the connection, since the stream can no longer be trusted: after a timeout a
late answer would be taken for the next request's.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Optional, Tuple

from ._wire import DEFAULT_MAX_FRAME_BYTES, frame_length
from .errors import InvalidArgument, RequestTimeout, TransportError

DEFAULT_BROKER = "127.0.0.1:9092"
BROKER_ENV_VAR = "RUSTLOG_BROKER"
DEFAULT_PORT = 9092

_READ_CHUNK = 64 * 1024


def default_broker_address() -> str:
    """``$RUSTLOG_BROKER`` when set and not empty, else ``"127.0.0.1:9092"``."""
    return os.environ.get(BROKER_ENV_VAR) or DEFAULT_BROKER


def parse_broker_address(text: str) -> Tuple[str, int]:
    """``"host:port"``, ``"[v6addr]:port"`` or ``"host"`` (port 9092) as
    ``(host, port)``; :class:`InvalidArgument` otherwise."""

    def bad(why: str) -> InvalidArgument:
        return InvalidArgument(f"bad broker address '{text}': {why} (expected HOST:PORT, e.g. 127.0.0.1:9092)")

    host, port = text, ""
    if text.startswith("["):
        close = text.find("]")
        if close < 0:
            raise bad("missing ']'")
        host, rest = text[1:close], text[close + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise bad("expected ':' after ']'")
            port = rest[1:]
            if not port:
                raise bad("empty port")
    elif ":" in text:
        if text.count(":") > 1:
            raise bad("an IPv6 address needs brackets: [::1]:9092")
        host, port = text.split(":")
        if not port:
            raise bad("empty port")
    if not host:
        raise bad("empty host")
    if not port:
        return host, DEFAULT_PORT
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise bad("port must be a number from 1 to 65535")
    return host, int(port)


def format_address(host: str, port: int) -> str:
    """``host:port``, with brackets around an IPv6 host."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Connection:
    """A connected socket plus a receive buffer. Not thread-safe."""

    def __init__(self, host: str, port: int, connect_timeout: Optional[float], max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> None:
        self.peer = format_address(host, port)
        self.max_frame_bytes = max_frame_bytes
        self._buf = bytearray()
        try:
            self._sock: Optional[socket.socket] = socket.create_connection((host, port), timeout=connect_timeout)
        except socket.timeout:
            raise RequestTimeout(f"cannot connect to {self.peer}: timed out after {connect_timeout} s") from None
        except socket.gaierror as e:
            raise TransportError(f"cannot resolve {self.peer}: {e.strerror}") from None
        except OSError as e:
            raise TransportError(f"cannot connect to {self.peer}: {e.strerror or e} (is the broker running there?)") from None
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    @property
    def is_open(self) -> bool:
        return self._sock is not None

    def fileno(self) -> int:
        """The socket's descriptor (for select())."""
        if self._sock is None:
            raise TransportError(f"not connected to {self.peer}")
        return self._sock.fileno()

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None
                self._buf.clear()

    def _fail(self, exc: TransportError) -> TransportError:
        self.close()
        return exc

    def _socket(self) -> socket.socket:
        if self._sock is None:
            raise TransportError(f"not connected to {self.peer} (call reconnect())")
        return self._sock

    def send(self, data: bytes, timeout: Optional[float]) -> None:
        """Writes ``data`` (one or more whole frames) within ``timeout`` seconds (None = forever)."""
        sock = self._socket()
        sock.settimeout(timeout)
        try:
            sock.sendall(data)
        except socket.timeout:
            raise self._fail(RequestTimeout(f"{self.peer}: send timed out after {timeout} s")) from None
        except OSError as e:
            raise self._fail(TransportError(f"{self.peer}: send failed: {e.strerror or e}")) from None

    def has_frame(self) -> bool:
        """True when a whole frame is already buffered."""
        if len(self._buf) < 4:
            return False
        return len(self._buf) - 4 >= frame_length(self._buf[:4])

    def read_available(self) -> None:
        """Reads what the socket has now (call when select() says readable)."""
        self._read_some(self._socket(), None, blocking=False)

    def _read_some(self, sock: socket.socket, deadline: Optional[float], blocking: bool = True) -> None:
        if blocking:
            if deadline is None:
                sock.settimeout(None)
            else:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise socket.timeout()
                sock.settimeout(left)
        else:
            sock.settimeout(0.0)
        try:
            chunk = sock.recv(_READ_CHUNK)
        except BlockingIOError:
            return
        except socket.timeout:
            raise
        except OSError as e:
            raise self._fail(TransportError(f"{self.peer}: receive failed: {e.strerror or e}")) from None
        if not chunk:
            raise self._fail(TransportError(f"{self.peer} closed the connection"))
        self._buf += chunk

    def receive(self, timeout: Optional[float]) -> bytes:
        """The next response payload, waiting up to ``timeout`` seconds (None = forever)."""
        sock = self._socket()
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                if len(self._buf) >= 4:
                    n = frame_length(self._buf[:4])
                    if n == 0 or n > self.max_frame_bytes:
                        raise self._fail(
                            TransportError(
                                f"{self.peer} sent a frame of length {n}, outside 1..{self.max_frame_bytes}"
                            )
                        )
                    if len(self._buf) - 4 >= n:
                        payload = bytes(self._buf[4 : 4 + n])
                        del self._buf[: 4 + n]
                        return payload
                self._read_some(sock, deadline)
        except socket.timeout:
            raise self._fail(RequestTimeout(f"{self.peer}: no answer within {timeout} s")) from None


def check_timeout(value: Optional[float], name: str) -> Optional[float]:
    """A timeout in seconds: None or 0 = forever, else a positive number."""
    if value is None or value == 0:
        return None
    if value < 0:
        raise InvalidArgument(f"{name} must be >= 0 seconds (0 or None = no limit), got {value}")
    return float(value)
