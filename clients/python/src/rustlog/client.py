"""``rustlog.Client``: a synchronous client over one TCP connection.

Every call blocks until the broker answers and returns the value, or raises a
:class:`~rustlog.errors.RustLogError` (the broker's own code and message for
an Error frame; :class:`~rustlog.errors.TransportError` when the connection
failed, after which the client is closed until ``reconnect()``). One Client is
not safe to share between threads: use one per thread, or the
:class:`~rustlog.Producer`, which is.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any, Callable, Deque, Iterable, List, Mapping, Optional, Tuple, TypeVar, Union

from . import _codec as codec
from ._connection import Connection, check_timeout, default_broker_address, format_address, parse_broker_address
from ._wire import DEFAULT_MAX_FRAME_BYTES, Reader, frame
from .errors import InternalError, InvalidArgument, RustLogError, TransportError
from .types import (
    BROKER_TIME,
    EARLIEST,
    LATEST,
    BytesLike,
    FetchResult,
    HeadersLike,
    GroupOffset,
    OffsetLookup,
    ProduceResult,
    ProducerRecord,
    ServerInfo,
    TopicDescription,
    TopicInfo,
)
from .version import __version__

T = TypeVar("T")

CLIENT_VERSION = f"rustlog-python/{__version__}"

#: What ``produce()`` takes per record: a ProducerRecord, or just a value.
RecordLike = Union[ProducerRecord, bytes, bytearray, memoryview, str, None]
ConfigLike = Union[Mapping[str, Any], Iterable[Tuple[str, Any]], None]


def to_bytes(v: BytesLike, field: str) -> Optional[bytes]:
    """``v`` as bytes: bytes-likes as they are, str as UTF-8, None stays None."""
    if v is None:
        return None
    if isinstance(v, bytes):
        return v
    if isinstance(v, (bytearray, memoryview)):
        return bytes(v)
    if isinstance(v, str):
        return v.encode("utf-8")
    raise InvalidArgument(f"{field} must be bytes, str or None, not {type(v).__name__}")


def to_headers(headers: HeadersLike) -> List[Tuple[str, bytes]]:
    """Headers as a list of (str name, bytes value); names may repeat."""
    if headers is None:
        return []
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    out = []
    for item in pairs:
        try:
            name, value = item
        except (TypeError, ValueError):
            raise InvalidArgument(f"a header must be a (name, value) pair, not {item!r}") from None
        if not isinstance(name, str):
            raise InvalidArgument(f"header name must be a str, not {type(name).__name__}")
        b = to_bytes(value, f"header '{name}' value")
        if b is None:
            raise InvalidArgument(f"header '{name}' has no value: header values are bytes (may be empty), never None")
        out.append((name, b))
    return out


def to_wire_record(r: RecordLike) -> codec.WireRecord:
    """One record for ProduceEx: (timestamp, key, value, headers)."""
    if not isinstance(r, ProducerRecord):
        return (BROKER_TIME, None, to_bytes(r, "value"), ())
    if not isinstance(r.timestamp, int) or r.timestamp < -1:
        raise InvalidArgument(f"record timestamp {r.timestamp!r} must be -1 (broker time) or >= 0 microseconds")
    return (r.timestamp, to_bytes(r.key, "key"), to_bytes(r.value, "value"), to_headers(r.headers))


def to_config(config: ConfigLike) -> List[Tuple[str, str]]:
    """Topic settings as (key, value) strings, like ``rustlog topic create --config``."""
    if config is None:
        return []
    pairs = config.items() if isinstance(config, Mapping) else config
    out = []
    for key, value in pairs:
        if isinstance(value, bool):
            value = "true" if value else "false"
        out.append((str(key), str(value)))
    return out


def partition_for_key(key: BytesLike, partition_count: int) -> int:
    """The partition a key maps to: FNV-1a (32-bit) of the key bytes, modulo
    the partition count. The C++ client (``client::partition_for_key``) and
    ``rustlog produce`` use the same function, so a key lands on the same
    partition whichever of them wrote it."""
    if partition_count <= 0:
        return 0
    data = to_bytes(key, "key") or b""
    h = 2166136261
    for byte in data:
        h ^= byte
        h = (h * 16777619) & 0xFFFFFFFF
    return h % partition_count


class Client:
    """A connection to one broker.

    Args:
        address: ``"host:port"`` (``"[::1]:9092"`` for IPv6); default
            ``$RUSTLOG_BROKER``, else ``"127.0.0.1:9092"``.
        client_id: sent in the Handshake.
        connect_timeout: seconds to wait for the TCP connection.
        request_timeout: seconds one request waits for its answer (a long-poll
            fetch gets its ``max_wait`` on top); None or 0 = forever.
        handshake: send a Handshake on connect (learns the broker's version
            and frame limit, see ``server``).
        max_frame_bytes: the largest frame sent or accepted before the
            Handshake says otherwise.

    Raises TransportError when the broker cannot be reached. Usable as a
    context manager (``close()`` on exit).
    """

    def __init__(
        self,
        address: Optional[str] = None,
        *,
        client_id: str = CLIENT_VERSION,
        connect_timeout: float = 5.0,
        request_timeout: Optional[float] = 30.0,
        handshake: bool = True,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
    ) -> None:
        self._host, self._port = parse_broker_address(address or default_broker_address())
        self.address = format_address(self._host, self._port)
        self._client_id = client_id
        self._connect_timeout = check_timeout(connect_timeout, "connect_timeout")
        self.request_timeout = check_timeout(request_timeout, "request_timeout")
        self._handshake = handshake
        self._max_frame_bytes = max_frame_bytes
        self._conn: Optional[Connection] = None
        self._in_flight: Deque[Tuple[str, int]] = deque()
        self.server = ServerInfo("", max_frame_bytes, ())
        self._open()

    # ------------------------------------------------------------ lifecycle

    def _open(self) -> None:
        self._conn = Connection(self._host, self._port, self._connect_timeout, self._max_frame_bytes)
        self._in_flight.clear()
        self.server = ServerInfo("", self._max_frame_bytes, ())
        if self._handshake:
            try:
                info = self._call(codec.encode_handshake(self._client_id), codec.HANDSHAKE, codec.decode_handshake)
            except TransportError:
                self.close()
                raise
            except RustLogError:
                return  # a broker that predates Handshake answers with an Error: carry on
            self.server = info
            if info.max_frame_bytes > 0:
                self._conn.max_frame_bytes = info.max_frame_bytes

    @property
    def connected(self) -> bool:
        """True while the connection is open."""
        return self._conn is not None and self._conn.is_open

    def reconnect(self) -> None:
        """Closes the connection (dropping unread pipelined answers) and opens a new one."""
        self.close()
        self._open()

    def close(self) -> None:
        """Closes the connection. Calls after it raise TransportError until ``reconnect()``."""
        if self._conn is not None:
            self._conn.close()
        self._in_flight.clear()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "connected" if self.connected else "closed"
        return f"<rustlog.Client {self.address} {state}>"

    # -------------------------------------------------------------- calling

    def _connection(self) -> Connection:
        if self._conn is None or not self._conn.is_open:
            raise TransportError(f"not connected to {self.address} (call reconnect())")
        return self._conn

    def _call(self, payload: bytes, request_type: int, body: Callable[[Reader], T], timeout: Optional[float] = None,
              extra_wait: float = 0.0) -> T:
        conn = self._connection()
        if self._in_flight:
            raise InvalidArgument(
                f"{len(self._in_flight)} pipelined produce answers are still unread: call receive_produce() first"
            )
        data = frame(payload, conn.max_frame_bytes)
        t = self.request_timeout if timeout is None else timeout
        if t is not None:
            t += extra_wait
        conn.send(data, t)
        return codec.decode(conn.receive(t), request_type, body)

    # -------------------------------------------------------------- general

    def ping(self) -> float:
        """A Ping round trip; returns the seconds it took."""
        t0 = time.monotonic()
        self._call(codec.encode_ping(), codec.PING, codec.decode_empty)
        return time.monotonic() - t0

    def metrics_text(self) -> str:
        """The broker's metrics in the Prometheus text format (as HTTP /metrics)."""
        return self._call(codec.encode_metrics_fetch(), codec.METRICS_FETCH, codec.decode_metrics)

    # -------------------------------------------------------------- produce

    def produce(self, topic: str, partition: int, records: Iterable[RecordLike], timestamp: int = BROKER_TIME) -> ProduceResult:
        """Appends one batch to one partition and returns where it landed.

        ``records`` holds :class:`ProducerRecord` objects, or plain values
        (bytes, str as UTF-8, or None for a tombstone). ``timestamp`` is the
        batch default in µs (-1 = the broker's append time); a record's own
        timestamp, when >= 0, wins.
        """
        payload = self._produce_payload(topic, partition, records, timestamp)
        answer = self._call(payload, codec.PRODUCE_EX, codec.decode_produce_ex)
        return codec.produce_result(topic, partition, answer)

    @staticmethod
    def _produce_payload(topic: str, partition: int, records: Iterable[RecordLike], timestamp: int) -> bytes:
        wire = [to_wire_record(r) for r in records]
        if not wire:
            raise InvalidArgument("produce: no records")
        return codec.encode_produce_ex(topic, partition, timestamp, wire)

    def send_produce(self, topic: str, partition: int, records: Iterable[RecordLike], timestamp: int = BROKER_TIME) -> None:
        """Writes a ProduceEx without waiting for its answer (pipelining);
        ``receive_produce()`` reads the answers in the same order. While
        answers are unread, other calls raise InvalidArgument."""
        self.send_produce_payload(topic, partition, self._produce_payload(topic, partition, records, timestamp))

    def send_produce_payload(self, topic: str, partition: int, payload: bytes) -> None:
        """``send_produce()`` for a payload made by ``encode_produce_ex``."""
        conn = self._connection()
        conn.send(frame(payload, conn.max_frame_bytes), self.request_timeout)
        self._in_flight.append((topic, partition))

    @property
    def in_flight(self) -> int:
        """Pipelined produce requests whose answers are unread."""
        return len(self._in_flight)

    def receive_produce(self) -> ProduceResult:
        """The answer to the oldest pipelined produce (raises its error)."""
        if not self._in_flight:
            raise InvalidArgument("receive_produce: nothing in flight")
        conn = self._connection()
        topic, partition = self._in_flight.popleft()
        try:
            payload = conn.receive(self.request_timeout)
        except TransportError:
            self._in_flight.clear()
            raise
        return self.decode_produce_answer(topic, partition, payload)

    @staticmethod
    def decode_produce_answer(topic: str, partition: int, payload: bytes,
                              request_type: int = codec.PRODUCE_EX) -> ProduceResult:
        """A ProduceEx (or ProduceBatch) answer payload as a ProduceResult
        (raises the broker's error, with the topic and partition in its message)."""
        try:
            answer = codec.decode(payload, request_type, codec.decode_produce_ex)
        except RustLogError as e:
            if e.source == "broker":
                e.message = f"produce to {topic}/{partition}: {e.message}"
                e.args = (e.message,)
            raise
        return codec.produce_result(topic, partition, answer)

    # -------------------------------------------------------------- consume

    def fetch(self, topic: str, partition: int, offset: int, *, max_bytes: int = 1 << 20, max_wait: float = 0.0,
              min_bytes: int = 1) -> FetchResult:
        """Records from ``offset`` on (each with its own offset; there may be gaps).

        ``max_bytes`` is soft: at least one record comes back when one exists.
        Long-poll: the broker holds the request up to ``max_wait`` seconds
        until ``min_bytes`` are available. Raises OffsetOutOfRange (416) below
        the log start or above the high watermark.
        """
        if max_wait < 0:
            raise InvalidArgument(f"max_wait must be >= 0 seconds, got {max_wait}")
        wait_ms = min(int(round(max_wait * 1000)), 0xFFFFFFFF)
        payload = codec.encode_fetch_ex(topic, partition, offset, max_bytes, wait_ms, min_bytes)
        return self._call(payload, codec.FETCH_EX, codec.decode_fetch_ex, extra_wait=wait_ms / 1000.0)

    def list_offsets(self, topic: str, partition: int, spec: int) -> OffsetLookup:
        """``spec``: EARLIEST (-2), LATEST (-1), or a timestamp in µs (the first
        offset whose record timestamp is >= it)."""
        return self._call(codec.encode_list_offsets(topic, partition, spec), codec.LIST_OFFSETS, codec.decode_list_offsets)

    def earliest_offset(self, topic: str, partition: int) -> int:
        """The log start offset."""
        return self.list_offsets(topic, partition, EARLIEST).offset

    def latest_offset(self, topic: str, partition: int) -> int:
        """The high watermark: the offset the next record will get."""
        return self.list_offsets(topic, partition, LATEST).offset

    def offset_for_time(self, topic: str, partition: int, timestamp: int) -> OffsetLookup:
        """The first offset whose record timestamp (µs) is >= ``timestamp``."""
        if timestamp < 0:
            raise InvalidArgument(f"offset_for_time: timestamp must be >= 0 microseconds, got {timestamp}")
        return self.list_offsets(topic, partition, timestamp)

    # -------------------------------------------------------------- offsets

    def commit_offset(self, group: str, topic: str, partition: int, offset: int) -> None:
        """Stores ``offset`` (the next record the group will read) for the
        group. Beyond the high watermark the broker answers 416."""
        if not group:
            raise InvalidArgument("commit_offset: empty group id")
        ok = self._call(codec.encode_offset_commit(group, topic, partition, offset), codec.OFFSET_COMMIT,
                        codec.decode_offset_commit)
        if not ok:
            raise InternalError(f"the broker refused to commit offset {offset} for group {group}")

    def committed_offset(self, group: str, topic: str, partition: int) -> Optional[int]:
        """The group's committed offset, or None when it has committed nothing there."""
        if not group:
            raise InvalidArgument("committed_offset: empty group id")
        return self._call(codec.encode_offset_fetch(group, topic, partition), codec.OFFSET_FETCH, codec.decode_offset_fetch)

    # ---------------------------------------------------------------- admin

    def create_topic(self, name: str, partitions: int = 1, config: ConfigLike = None) -> None:
        """Creates a topic. ``config`` (a dict or pairs) takes segment.bytes,
        segment.ms, retention.ms, retention.bytes, cleanup.policy,
        index.interval.bytes and flush; the broker answers 400 for an unknown
        key or a bad value and 409 (TopicExists) when the topic exists."""
        payload = codec.encode_create_topic_ex(name, partitions, to_config(config))
        self._call(payload, codec.CREATE_TOPIC_EX, codec.decode_empty)

    def list_topics(self) -> List[TopicInfo]:
        """Every topic with its partition count."""
        return self._call(codec.encode_list_topics(), codec.LIST_TOPICS, codec.decode_list_topics)

    def describe_topic(self, name: str) -> TopicDescription:
        """Per partition: log start, high watermark, segments, bytes on disk;
        and the config the broker applies, defaults included."""
        count, config, stats = self._call(codec.encode_describe_topic_config(name), codec.DESCRIBE_TOPIC_CONFIG,
                                          codec.decode_describe_topic_config)
        return TopicDescription(name, count, stats, config)

    def partition_count(self, topic: str) -> int:
        """How many partitions ``topic`` has (TopicNotFound when it does not exist)."""
        return self._call(codec.encode_describe_topic(topic), codec.DESCRIBE_TOPIC, codec.decode_describe_topic)

    def delete_topic(self, name: str) -> None:
        """Deletes a topic and its data."""
        self._call(codec.encode_delete_topic(name), codec.DELETE_TOPIC, codec.decode_empty)

    def list_groups(self) -> List[str]:
        """Every consumer group with committed offsets."""
        return self._call(codec.encode_list_groups(), codec.LIST_GROUPS, codec.decode_list_groups)

    def describe_group(self, group: str) -> List[GroupOffset]:
        """The group's committed offsets with high watermark and lag."""
        return self._call(codec.encode_describe_group(group), codec.DESCRIBE_GROUP, codec.decode_describe_group)

    def delete_group(self, group: str) -> None:
        """Deletes the group's committed offsets."""
        self._call(codec.encode_delete_group(group), codec.DELETE_GROUP, codec.decode_empty)


__all__ = ["Client", "partition_for_key", "to_bytes", "to_headers", "CLIENT_VERSION"]
