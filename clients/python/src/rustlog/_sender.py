"""The Producer's record buffer and its I/O thread.

Batches move open (taking records) -> ready (sealed: full, lingered long
enough, or flushed) -> in flight (written, awaiting the broker's in-order
answer) -> finished (answered or failed). One thread owns the connection: it
writes ready batches while fewer than ``max_in_flight`` are unanswered, reads
answers, and reconnects (every ``reconnect_backoff`` seconds) when the
connection is gone. A batch is never written twice. When a batch fails, the
batches of the same partition not yet written fail with it, so a partition's
records are never stored out of send order; a ready batch that finds no
connection within ``delivery_timeout`` of its creation fails too.

With a codec (``compression``), a batch is rebuilt as one compressed record
batch (``_record_batch``) just before it is written, and sent as ProduceBatch
(0x1A) when the broker's Handshake lists it; a broker without it, or a batch
whose ProduceBatch frame would exceed the frame limit, gets the ProduceEx as
it is (as the C++ ProduceChannel). Such a batch never mixes records with and
without their own timestamp: a record of the other kind starts a new batch.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections import deque
from typing import Any, Callable, Deque, Dict, List, Optional, Set, Tuple

from . import _codec as codec
from ._batch import REQUEST_OVERHEAD, Batch, SendFuture
from ._compression import BytesView, Compression, Compressor
from ._record_batch import build_batch
from .client import Client
from .errors import BufferFull, InvalidArgument, RequestTimeout, RustLogError, TimedOut, TransportError
from .types import BROKER_TIME


def _later_error(batch: Batch, error: BaseException) -> BaseException:
    """The error for a batch that is not sent because an earlier one failed."""
    msg = f"not sent: an earlier batch of {batch.topic}/{batch.partition} failed: {error}"
    if isinstance(error, RustLogError):
        return type(error)(msg, code=error.code, source=error.source)
    return TransportError(msg)


class Sender:
    """Holds the batches and runs the I/O thread (see the module docstring)."""

    def __init__(self, io: Client, *, batch_size: int, linger: float, max_in_flight: int, buffer_memory: int,
                 delivery_timeout: float, reconnect_backoff: float, compression: Compression = Compression(),
                 compressor: Optional[Compressor] = None,
                 crc32c: Optional[Callable[[BytesView, int], int]] = None) -> None:
        self.io = io
        self.batch_size = batch_size
        self.linger = linger
        self.max_in_flight = max_in_flight
        self.buffer_memory = buffer_memory
        self.delivery_timeout = delivery_timeout
        self.reconnect_backoff = reconnect_backoff
        self.max_frame_bytes = io.server.max_frame_bytes
        self.compression = compression
        self._compress = compressor
        self._crc32c = crc32c
        self.one_timestamp_rule = compression.bits != 0  # a compressed batch has one timestamp rule
        self.cond = threading.Condition()
        self._open: Dict[Tuple[str, int], Batch] = {}
        self._ready: Deque[Batch] = deque()
        self._in_flight: Deque[Batch] = deque()
        self._unfinished: Set[Batch] = set()  # every batch from creation until answered or failed
        self._buffered = 0  # record bytes not yet answered
        self.unanswered = 0  # records not yet answered
        self._flushing = 0
        self._closing = False
        self._abort = False  # close() gave up waiting: stop without sending the rest
        self.closed = False
        self.fatal: Optional[BaseException] = None
        self.requests_sent = 0
        self.produce_batch_requests = 0
        self.max_in_flight_seen = 0
        self.reconnects = 0
        self._next_connect = 0.0
        self._connect_error: Optional[TransportError] = None
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._thread = threading.Thread(target=self._run, name=f"rustlog-producer {io.address}", daemon=True)
        self._thread.start()

    # ------------------------------------------------------- caller threads

    def append(self, topic: str, partition: int, encoded: bytes, timestamp: int, future: SendFuture,
               max_block: Optional[float]) -> None:
        """Adds one encoded record to its partition's open batch; waits up to
        ``max_block`` seconds (None = forever) while the buffer is full."""
        size = len(encoded)
        wake = False
        deadline = None if max_block is None else time.monotonic() + max_block
        with self.cond:
            while True:
                if self._closing or self.closed:
                    raise InvalidArgument("the producer is closed")
                if self.fatal is not None:
                    raise TransportError(f"the producer's sender thread died: {self.fatal!r}")
                if self._buffered == 0 or self._buffered + size <= self.buffer_memory:
                    break
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise BufferFull(f"the producer's buffer ({self.buffer_memory} bytes) stayed full for "
                                     f"{max_block} s: the broker is slow or unreachable; raise buffer_memory "
                                     "or max_block, or send less")
                self.cond.wait(left)
            batch = self._open.get((topic, partition))
            own_ts = timestamp >= 0
            if (batch is None or batch.size + size > self.max_frame_bytes
                    or (self.one_timestamp_rule and batch.own_timestamps != own_ts)):
                if batch is not None:
                    self._seal(batch)
                batch = self._open[(topic, partition)] = Batch(topic, partition)
                batch.own_timestamps = own_ts
                self._unfinished.add(batch)
                wake = True  # the sender must learn the new linger deadline
            batch.records.append(encoded)
            batch.timestamps.append(timestamp)
            batch.futures.append(future)
            batch.size += size
            self._buffered += size
            self.unanswered += 1
            if batch.size >= self.batch_size:
                self._seal(batch)
                wake = True
        if wake:
            self.wake()

    def flush(self, timeout: Optional[float]) -> None:
        """Waits until every batch that exists now is finished."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.cond:
            pending = list(self._unfinished)
            self._flushing += 1
            try:
                self.wake()
                while self.fatal is None:
                    pending = [b for b in pending if not b.finished]
                    if not pending:
                        return
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        waiting = sum(len(b.futures) for b in pending)
                        raise TimedOut(f"flush: {waiting} records still unanswered after {timeout} s")
                    self.cond.wait(left)
            finally:
                self._flushing -= 1

    def stop(self, abort: bool) -> None:
        """Ends the I/O thread (after sending what is left unless ``abort``)
        and fails whatever is still unanswered."""
        with self.cond:
            self._closing = True
            self._abort = abort
        self.wake()
        self._thread.join()
        with self.cond:
            self.closed = True
            self._fail_all(TransportError("the producer was closed before this record was answered"))
        self.io.close()
        self._wake_r.close()
        self._wake_w.close()

    def wake(self) -> None:
        try:
            self._wake_w.send(b"\0")
        except (BlockingIOError, OSError):
            pass  # already pending, or closed

    # ------------------------------------------------------------ bookkeeping

    def _seal(self, batch: Batch) -> None:
        del self._open[(batch.topic, batch.partition)]
        self._ready.append(batch)

    def _finish(self, batch: Batch) -> None:
        if batch.finished:
            return
        batch.finished = True
        self._unfinished.discard(batch)
        self._buffered -= batch.size - REQUEST_OVERHEAD - len(batch.topic.encode("utf-8"))
        self.unanswered -= len(batch.futures)
        self.cond.notify_all()

    def _fail(self, batch: Batch, error: BaseException) -> None:
        """Fails ``batch``, and the batches of its partition not yet written (lock held)."""
        for f in batch.futures:
            if not f.done():
                f.set_exception(error)
        self._finish(batch)
        key = (batch.topic, batch.partition)
        later = [b for b in self._ready if (b.topic, b.partition) == key]
        if key in self._open:
            later.append(self._open.pop(key))
        for b in later:
            if b in self._ready:
                self._ready.remove(b)
            for f in b.futures:
                if not f.done():
                    f.set_exception(_later_error(batch, error))
            self._finish(b)

    def _fail_all(self, error: BaseException) -> None:
        for batch in list(self._unfinished):  # also one the thread holds between queue and wire
            for f in batch.futures:
                if not f.done():
                    f.set_exception(error)
            self._finish(batch)
        self._in_flight.clear()
        self._ready.clear()
        self._open.clear()

    # ------------------------------------------------------------ I/O thread

    def _run(self) -> None:
        try:
            self._loop()
        except BaseException as e:  # never leave futures hanging
            with self.cond:
                self.fatal = e
                self._fail_all(TransportError(f"the producer's sender thread died: {e!r}"))

    def _loop(self) -> None:
        while True:
            with self.cond:
                if self._abort:
                    return
                linger_due = self._seal_due()
                if self._closing and not self._unfinished:
                    return
                waiting = bool(self._ready)
            if waiting and not self.io.connected:
                self._try_connect()
            with self.cond:
                expiry = self._expire_unconnected()
                to_send: List[Batch] = []
                while self.io.connected and self._ready and len(self._in_flight) + len(to_send) < self.max_in_flight:
                    to_send.append(self._ready.popleft())
            for batch in to_send:
                self._write(batch)
            self._wait(linger_due, expiry)

    def _seal_due(self) -> Optional[float]:
        """Seals the open batches whose time has come; the next linger deadline."""
        now = time.monotonic()
        deadline: Optional[float] = None
        for batch in list(self._open.values()):
            due = batch.created + self.linger
            if self._flushing or self._closing or due <= now:
                self._seal(batch)
            elif deadline is None or due < deadline:
                deadline = due
        return deadline

    def _try_connect(self) -> None:
        now = time.monotonic()
        if now < self._next_connect:
            return
        try:
            self.io.reconnect()
            self.reconnects += 1
            self._connect_error = None
        except TransportError as e:
            self._connect_error = e
            self._next_connect = now + self.reconnect_backoff

    def _expire_unconnected(self) -> Optional[float]:
        """Without a connection: fails ready batches past delivery_timeout;
        the next time to look again (a reconnect or an expiry)."""
        if self.io.connected or not self._ready:
            return None
        now = time.monotonic()
        for batch in list(self._ready):
            if batch in self._ready and now - batch.created >= self.delivery_timeout:
                self._ready.remove(batch)
                why = self._connect_error or TransportError(f"not connected to {self.io.address}")
                self._fail(batch, TransportError(f"not sent within delivery_timeout "
                                                 f"({self.delivery_timeout} s): {why.message}"))
        nxt = [b.created + self.delivery_timeout for b in self._ready] + [self._next_connect]
        return min(nxt) if self._ready else None

    def _produce_batch_payload(self, batch: Batch) -> Optional[bytes]:
        """The batch as a compressed ProduceBatch payload; None when it goes
        as ProduceEx (no codec, a broker without 0x1A, too large a frame)."""
        if (self._compress is None or self._crc32c is None
                or codec.PRODUCE_BATCH not in self.io.server.supported_types):
            return None
        try:
            built = build_batch(batch.records, self.compression, self._compress, self._crc32c)
        except Exception:  # never expected (one timestamp rule per batch): the ProduceEx as it is, as in C++
            return None
        payload = codec.encode_produce_batch(batch.topic, batch.partition, built)
        return payload if len(payload) <= self.io._connection().max_frame_bytes else None

    def _write(self, batch: Batch) -> None:
        payload = self._produce_batch_payload(batch)
        batch.request_type = codec.PRODUCE_EX if payload is None else codec.PRODUCE_BATCH
        if payload is None:
            payload = codec.encode_produce_ex_encoded(batch.topic, batch.partition, BROKER_TIME, batch.records)
        with self.cond:
            if batch.request_type == codec.PRODUCE_BATCH:
                self.produce_batch_requests += 1
            self._in_flight.append(batch)
            self.requests_sent += 1
            self.max_in_flight_seen = max(self.max_in_flight_seen, len(self._in_flight))
        batch.sent_at = time.monotonic()
        try:
            self.io.send_produce_payload(batch.topic, batch.partition, payload)
        except TransportError as e:
            self._connection_lost(e)  # some bytes may be on the wire: never resent

    def _wait(self, linger_due: Optional[float], expiry: Optional[float]) -> None:
        now = time.monotonic()
        dues = [d for d in (linger_due, expiry) if d is not None]
        watch: List[Any] = [self._wake_r]
        if self.io.connected:
            # Watched while idle too, so a connection the broker closed (e.g. a
            # restart) is noticed before the next batch goes out on it.
            watch.append(self.io._connection())
            if self._in_flight and self.io.request_timeout is not None:
                dues.append(self._in_flight[0].sent_at + self.io.request_timeout)
        timeout = max(0.0, min(dues) - now) if dues else None
        readable, _, _ = select.select(watch, [], [], timeout)
        if self._wake_r in readable:
            try:
                while self._wake_r.recv(4096):
                    pass
            except (BlockingIOError, OSError):
                pass
        if len(watch) > 1:
            self._read_answers(watch[1] in readable)

    def _read_answers(self, readable: bool) -> None:
        conn = self.io._connection()
        try:
            if readable:
                conn.read_available()
            while self._in_flight and conn.has_frame():
                payload = conn.receive(None)
                self.io._in_flight.popleft()
                with self.cond:
                    batch = self._in_flight.popleft()
                self._answered(batch, payload)
            if not self._in_flight and conn.has_frame():
                raise TransportError(f"{self.io.address} sent an answer to no request")
            if self._in_flight and self.io.request_timeout is not None:
                oldest = self._in_flight[0]
                if time.monotonic() - oldest.sent_at >= self.io.request_timeout:
                    raise RequestTimeout(f"{self.io.address}: no answer to a produce to {oldest.topic}/"
                                         f"{oldest.partition} within {self.io.request_timeout} s")
        except TransportError as e:
            self._connection_lost(e)

    def _answered(self, batch: Batch, payload: bytes) -> None:
        try:
            r = Client.decode_produce_answer(batch.topic, batch.partition, payload, batch.request_type)
        except RustLogError as e:
            with self.cond:
                self._fail(batch, e)
            return
        for i, f in enumerate(batch.futures):
            ts = batch.timestamps[i]
            f.timestamp = ts if ts >= 0 else r.append_time
            f.set_result(r.base_offset + i)
        with self.cond:
            self._finish(batch)

    def _connection_lost(self, error: TransportError) -> None:
        """Every batch in flight fails (it may or may not have been written)."""
        with self.cond:
            lost = list(self._in_flight)
            self._in_flight.clear()
            for batch in lost:
                self._fail(batch, error)
        self.io.close()
