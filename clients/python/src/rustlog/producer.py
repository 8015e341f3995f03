"""``rustlog.Producer``: batching, pipelined, thread-safe.

``send()`` adds a record to its partition's open batch and returns a
:class:`SendFuture` at once. One background thread owns the connection: it
sends a batch when it reaches ``batch_size`` bytes, when it has waited
``linger`` seconds, or on ``flush()`` / ``close()``; it keeps up to
``max_in_flight`` requests on the wire (the broker answers them in order) and
resolves each record's future with its offset.

Partition: ``partition=`` when given; else a record with a key goes to
``partition_for_key(key, partitions)`` (FNV-1a, as the C++ client and
``rustlog produce``), and a record without a key to partition 0, so unkeyed
records keep their order.

Delivery: a future that raises :class:`~rustlog.errors.BrokerError` was not
appended. One that raises :class:`~rustlog.errors.TransportError` may or may
not have been (its answer was lost); the producer does not resend it, so
nothing is duplicated behind your back. The next batch opens a new connection.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections import deque
from typing import Any, Deque, Dict, List, Optional, Set, Tuple

from . import _codec as codec
from ._batch import REQUEST_OVERHEAD, Batch, SendFuture
from .client import Client, partition_for_key, to_wire_record
from .errors import InvalidArgument, RequestTimeout, RustLogError, TooLarge, TransportError
from .types import BROKER_TIME, BytesLike, HeadersLike, ProducerRecord

class Producer:
    """Sends records in batches, several requests in flight.

    Args:
        address: ``"host:port"``; default ``$RUSTLOG_BROKER``, else 127.0.0.1:9092.
        batch_size: a partition's batch is sent once it holds this many bytes.
        linger: seconds a batch waits for more records before it is sent
            (0 = send as soon as the sender thread is free).
        max_in_flight: most requests sent and not yet answered.
        buffer_memory: most bytes of records waiting to be sent or answered;
            ``send()`` blocks while the buffer is full.
        request_timeout: seconds a request waits for its answer (None = forever).
        connect_timeout, client_id: as for :class:`Client`.

    Usable as a context manager: ``close()`` (which flushes) on exit.
    """

    def __init__(
        self,
        address: Optional[str] = None,
        *,
        batch_size: int = 16384,
        linger: float = 0.005,
        max_in_flight: int = 5,
        buffer_memory: int = 32 * 1024 * 1024,
        request_timeout: Optional[float] = 30.0,
        connect_timeout: float = 5.0,
        client_id: Optional[str] = None,
    ) -> None:
        if batch_size < 1:
            raise InvalidArgument(f"batch_size must be >= 1 byte, got {batch_size}")
        if linger < 0:
            raise InvalidArgument(f"linger must be >= 0 seconds, got {linger}")
        if max_in_flight < 1:
            raise InvalidArgument(f"max_in_flight must be >= 1, got {max_in_flight}")
        if buffer_memory < 1:
            raise InvalidArgument(f"buffer_memory must be >= 1 byte, got {buffer_memory}")
        self.batch_size = batch_size
        self.linger = float(linger)
        self.max_in_flight = max_in_flight
        self.buffer_memory = buffer_memory
        kw: Dict[str, Any] = {"request_timeout": request_timeout, "connect_timeout": connect_timeout}
        if client_id is not None:
            kw["client_id"] = client_id
        self._client_kw = kw
        self._io = Client(address, **kw)
        self.address = self._io.address
        self._request_timeout = self._io.request_timeout
        self._max_frame_bytes = self._io.server.max_frame_bytes

        self._meta: Optional[Client] = None
        self._meta_lock = threading.Lock()
        self._partitions: Dict[str, int] = {}

        self._cond = threading.Condition()
        self._open: Dict[Tuple[str, int], Batch] = {}
        self._ready: Deque[Batch] = deque()
        self._in_flight: Deque[Batch] = deque()
        self._unfinished: Set[Batch] = set()  # every batch from creation until answered or failed
        self._buffered = 0  # record bytes not yet answered
        self._unanswered = 0  # records not yet answered
        self._flushing = 0
        self._closing = False
        self._abort = False  # close() gave up waiting: stop without sending the rest
        self._closed = False
        self._fatal: Optional[BaseException] = None
        self._requests_sent = 0
        self._max_in_flight_seen = 0
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._thread = threading.Thread(target=self._run, name=f"rustlog-producer {self.address}", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ API

    def send(
        self,
        topic: str,
        value: BytesLike,
        key: BytesLike = None,
        headers: HeadersLike = None,
        partition: Optional[int] = None,
        timestamp: int = BROKER_TIME,
    ) -> SendFuture:
        """Queues one record; returns a future of its offset.

        ``value`` and ``key`` are bytes, str (sent as UTF-8) or None (a null
        value is a tombstone; null and empty differ). ``headers`` is a dict or
        a list of (name, value) pairs. ``timestamp`` in µs, -1 = broker time.
        Raises InvalidArgument for a record that cannot be encoded, TooLarge
        for one that cannot fit a request, TopicNotFound when a keyed record's
        topic does not exist.
        """
        encoded = codec.encode_produce_record(to_wire_record(ProducerRecord(value, key, headers, timestamp)))
        if partition is None:
            partition = 0 if key is None else partition_for_key(key, self.partitions_of(topic))
        elif not isinstance(partition, int) or partition < 0:
            raise InvalidArgument(f"partition must be an int >= 0, got {partition!r}")
        size = len(encoded)
        overhead = REQUEST_OVERHEAD + len(topic.encode("utf-8"))
        if size + overhead > self._max_frame_bytes:
            raise TooLarge(
                f"a record of {size} bytes does not fit a request (the broker's max_frame_bytes is "
                f"{self._max_frame_bytes})",
                source="client",
            )
        future = SendFuture(topic, partition)
        wake = False
        with self._cond:
            while True:
                self._check_usable()
                if self._buffered == 0 or self._buffered + size <= self.buffer_memory:
                    break
                self._cond.wait()
            batch = self._open.get((topic, partition))
            if batch is None or batch.size + size > self._max_frame_bytes:
                if batch is not None:
                    self._seal(batch)
                batch = self._open[(topic, partition)] = Batch(topic, partition)
                self._unfinished.add(batch)
                wake = True  # the sender must learn the new linger deadline
            batch.records.append(encoded)
            batch.timestamps.append(timestamp)
            batch.futures.append(future)
            batch.size += size
            self._buffered += size
            self._unanswered += 1
            if batch.size >= self.batch_size:
                self._seal(batch)
                wake = True
        if wake:
            self._wake()
        return future

    def flush(self, timeout: Optional[float] = None) -> None:
        """Sends every record queued so far now and waits until each is
        answered (its future done); records other threads send meanwhile do
        not hold it up. Raises RequestTimeout when ``timeout`` seconds pass
        first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            pending = list(self._unfinished)
            self._flushing += 1
            try:
                self._wake()
                while self._fatal is None:
                    pending = [b for b in pending if not b.finished]
                    if not pending:
                        return
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        waiting = sum(len(b.futures) for b in pending)
                        raise RequestTimeout(f"flush: {waiting} records still unanswered after {timeout} s")
                    self._cond.wait(left)
            finally:
                self._flushing -= 1

    def close(self, timeout: Optional[float] = None) -> None:
        """Flushes, stops the sender thread and closes the connections.
        With a ``timeout`` that passes first, the records still unanswered
        fail with TransportError and RequestTimeout is raised. Idempotent;
        ``send()`` raises afterwards."""
        with self._cond:
            if self._closed:
                return
        flushed = False
        try:
            self.flush(timeout)
            flushed = True
        finally:
            with self._cond:
                self._closing = True
                self._abort = not flushed
            self._wake()
            self._thread.join()
            with self._cond:
                self._closed = True
                self._fail_all(TransportError("the producer was closed before this record was answered"))
            self._io.close()
            with self._meta_lock:
                if self._meta is not None:
                    self._meta.close()
            self._wake_r.close()
            self._wake_w.close()

    def partitions_of(self, topic: str) -> int:
        """The topic's partition count (asked once, then cached)."""
        with self._meta_lock:
            n = self._partitions.get(topic)
            if n is not None:
                return n
            if self._meta is None or not self._meta.connected:
                self._meta = Client(self.address, **self._client_kw)
            n = self._meta.partition_count(topic)
            self._partitions[topic] = n
            return n

    @property
    def connected(self) -> bool:
        """True while the sender thread's connection is open (it reconnects
        for the next batch after a failure)."""
        return self._io.connected

    @property
    def stats(self) -> Dict[str, int]:
        """Counters: ``requests`` sent, ``max_in_flight`` reached, records
        ``queued`` (sent or not, not yet answered)."""
        with self._cond:
            return {"requests": self._requests_sent, "max_in_flight": self._max_in_flight_seen,
                    "queued": self._unanswered}

    def __enter__(self) -> "Producer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<rustlog.Producer {self.address}>"

    # ------------------------------------------------------------ internals

    def _check_usable(self) -> None:
        if self._closing or self._closed:
            raise InvalidArgument("the producer is closed")
        if self._fatal is not None:
            raise TransportError(f"the producer's sender thread died: {self._fatal!r}")

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"\0")
        except (BlockingIOError, OSError):
            pass  # already pending, or closed

    def _seal(self, batch: Batch) -> None:
        del self._open[(batch.topic, batch.partition)]
        self._ready.append(batch)

    def _finish(self, batch: Batch) -> None:
        """Bookkeeping once a batch is answered or failed (lock held)."""
        if batch.finished:
            return
        batch.finished = True
        self._unfinished.discard(batch)
        self._buffered -= batch.size - REQUEST_OVERHEAD - len(batch.topic.encode("utf-8"))
        self._unanswered -= len(batch.futures)
        self._cond.notify_all()

    def _fail_batch(self, batch: Batch, error: BaseException) -> None:
        for f in batch.futures:
            if not f.done():
                f.set_exception(error)
        self._finish(batch)

    def _fail_all(self, error: BaseException) -> None:
        for batch in list(self._unfinished):  # also one the sender holds between queue and wire
            self._fail_batch(batch, error)
        self._in_flight.clear()
        self._ready.clear()
        self._open.clear()

    def _answered(self, batch: Batch, payload: bytes) -> None:
        try:
            r = Client.decode_produce_answer(batch.topic, batch.partition, payload)
        except RustLogError as e:
            with self._cond:
                self._fail_batch(batch, e)
            return
        for i, f in enumerate(batch.futures):
            ts = batch.timestamps[i]
            f.timestamp = ts if ts >= 0 else r.append_time
            f.set_result(r.base_offset + i)
        with self._cond:
            self._finish(batch)

    def _run(self) -> None:
        try:
            self._loop()
        except BaseException as e:  # never leave futures hanging
            with self._cond:
                self._fatal = e
                self._fail_all(TransportError(f"the producer's sender thread died: {e!r}"))

    def _take_sendable(self) -> Tuple[List[Batch], Optional[float], bool]:
        """Under the lock: batches to send now, the next wake-up deadline, and
        whether the loop is done."""
        if self._abort:
            return [], None, True
        now = time.monotonic()
        deadline: Optional[float] = None
        for batch in list(self._open.values()):
            due = batch.created + self.linger
            if self._flushing or self._closing or due <= now:
                self._seal(batch)
            elif deadline is None or due < deadline:
                deadline = due
        out: List[Batch] = []
        while self._ready and len(self._in_flight) + len(out) < self.max_in_flight:
            out.append(self._ready.popleft())
        done = self._closing and not self._open and not self._ready and not self._in_flight and not out
        return out, deadline, done

    def _connection_lost(self, error: TransportError) -> None:
        with self._cond:
            for batch in self._in_flight:
                self._fail_batch(batch, error)
            self._in_flight.clear()
        self._io.close()

    def _loop(self) -> None:
        while True:
            with self._cond:
                to_send, deadline, done = self._take_sendable()
            if done:
                return
            for batch in to_send:
                self._send_batch(batch)
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            watch: List[Any] = [self._wake_r]
            if self._io.connected:
                # Watched while idle too, so a connection the broker closed
                # (e.g. a restart) is noticed before the next batch goes out on it.
                watch.append(self._io._connection())
                if self._in_flight and self._request_timeout is not None:
                    due = self._in_flight[0].sent_at + self._request_timeout - time.monotonic()
                    timeout = max(0.0, due) if timeout is None else min(timeout, max(0.0, due))
            readable, _, _ = select.select(watch, [], [], timeout)
            if self._wake_r in readable:
                try:
                    while self._wake_r.recv(4096):
                        pass
                except (BlockingIOError, OSError):
                    pass
            if len(watch) > 1:
                self._read_answers(watch[1] in readable)

    def _send_batch(self, batch: Batch) -> None:
        try:
            if not self._io.connected:
                self._io.reconnect()
            payload = codec.encode_produce_ex_encoded(batch.topic, batch.partition, BROKER_TIME, batch.records)
            with self._cond:
                self._in_flight.append(batch)
                self._requests_sent += 1
                self._max_in_flight_seen = max(self._max_in_flight_seen, len(self._in_flight))
            batch.sent_at = time.monotonic()
            self._io.send_produce_payload(batch.topic, batch.partition, payload)
        except TransportError as e:
            if batch in self._in_flight:
                self._connection_lost(e)
            else:
                with self._cond:
                    self._fail_batch(batch, e)
        except RustLogError as e:  # e.g. a topic name the wire cannot carry
            with self._cond:
                if batch in self._in_flight:
                    self._in_flight.remove(batch)
                self._fail_batch(batch, e)

    def _read_answers(self, readable: bool) -> None:
        conn = self._io._connection()
        try:
            if readable:
                conn.read_available()
            while self._in_flight and conn.has_frame():
                payload = conn.receive(None)
                self._io._in_flight.popleft()
                with self._cond:
                    batch = self._in_flight.popleft()
                self._answered(batch, payload)
            if not self._in_flight and conn.has_frame():
                raise TransportError(f"{self.address} sent an answer to no request")
            if self._in_flight and self._request_timeout is not None:
                if time.monotonic() - self._in_flight[0].sent_at >= self._request_timeout:
                    raise RequestTimeout(
                        f"{self.address}: no answer to a produce to {self._in_flight[0].topic}/"
                        f"{self._in_flight[0].partition} within {self._request_timeout} s"
                    )
        except TransportError as e:
            self._connection_lost(e)
