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
not have been (its answer was lost); a batch is never written twice, so
nothing is duplicated behind your back. When a batch fails, the batches of
its partition not yet written fail with it ("not sent: an earlier batch ...
failed"), so a partition never stores records out of send order. Batches not
yet written wait across reconnects (every ``reconnect_backoff`` seconds) for
up to ``delivery_timeout`` seconds. The same rules as the C++ ``Producer``.

Compression: ``compression="lz4"`` or ``"zstd"`` (a level as ``"zstd:9"``,
or ``Compression("zstd", 9)``) compresses each batch's records as one block,
sent as a ProduceBatch the broker stores as it is (docs/CLIENT.md,
"Compression"). It needs the Python modules of Debian's python3-lz4 or
python3-zstandard, and python3-crc32c; without them the Producer raises
InvalidArgument naming the package. A broker whose Handshake lacks
ProduceBatch gets uncompressed ProduceEx requests.
"""

from __future__ import annotations

import threading
from typing import Any, Dict, Optional

from . import _codec as codec
from ._batch import REQUEST_OVERHEAD, SendFuture
from ._compression import CompressionLike, compressor, crc32c_function, parse_compression
from ._sender import Sender
from ._wire import encode_string
from .client import Client, partition_for_key, to_wire_record
from .errors import InvalidArgument, TooLarge
from .types import BROKER_TIME, BytesLike, HeadersLike, ProducerRecord


class Producer:
    """Sends records in batches, several requests in flight.

    Args:
        address: ``"host:port"``; default ``$RUSTLOG_BROKER``, else 127.0.0.1:9092.
        batch_size: a partition's batch is sent once it holds this many bytes.
        linger: seconds a batch waits for more records before it is sent
            (0 = send as soon as the sender thread is free).
        max_in_flight: most requests sent and not yet answered.
        buffer_memory: most bytes of records waiting to be sent or answered.
        max_block: seconds ``send()`` waits while the buffer is full, then
            raises BufferFull (429); None = wait as long as it takes.
        delivery_timeout: seconds a batch may wait for a connection (the
            broker unreachable) before it fails.
        reconnect_backoff: seconds between reconnect attempts.
        request_timeout: seconds a request waits for its answer (None = forever).
        compression: ``"none"`` (default), ``"lz4"``, ``"zstd"``, with a level
            ``"lz4:LEVEL"`` (0-12) or ``"zstd:LEVEL"`` (-7-22), as
            ``rustlog produce --compression``; or a :class:`Compression`.
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
        max_block: Optional[float] = 60.0,
        delivery_timeout: float = 120.0,
        reconnect_backoff: float = 0.1,
        request_timeout: Optional[float] = 30.0,
        connect_timeout: float = 5.0,
        client_id: Optional[str] = None,
        compression: CompressionLike = "none",
    ) -> None:
        if batch_size < 1:
            raise InvalidArgument(f"batch_size must be >= 1 byte, got {batch_size}")
        if linger < 0:
            raise InvalidArgument(f"linger must be >= 0 seconds, got {linger}")
        if max_in_flight < 1:
            raise InvalidArgument(f"max_in_flight must be >= 1, got {max_in_flight}")
        if buffer_memory < 1:
            raise InvalidArgument(f"buffer_memory must be >= 1 byte, got {buffer_memory}")
        if max_block is not None and max_block < 0:
            raise InvalidArgument(f"max_block must be >= 0 seconds (None = no limit), got {max_block}")
        self.max_block = max_block
        if delivery_timeout < 0 or reconnect_backoff < 0:
            raise InvalidArgument("delivery_timeout and reconnect_backoff must be >= 0 seconds")
        self.compression = parse_compression(compression)
        compress = crc = None
        if self.compression.bits:
            compress = compressor(self.compression)  # InvalidArgument naming the package when missing
            crc = crc32c_function()
        kw: Dict[str, Any] = {"request_timeout": request_timeout, "connect_timeout": connect_timeout}
        if client_id is not None:
            kw["client_id"] = client_id
        self._client_kw = kw
        io = Client(address, **kw)
        self.address = io.address
        self._max_frame_bytes = io.server.max_frame_bytes
        self._meta: Optional[Client] = None
        self._meta_lock = threading.Lock()
        self._partitions: Dict[str, int] = {}
        self._sender = Sender(io, batch_size=batch_size, linger=float(linger), max_in_flight=max_in_flight,
                              buffer_memory=buffer_memory, delivery_timeout=float(delivery_timeout),
                              reconnect_backoff=float(reconnect_backoff), compression=self.compression,
                              compressor=compress, crc32c=crc)

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
        topic does not exist, BufferFull when ``buffer_memory`` stays full for
        ``max_block`` seconds.
        """
        topic_bytes = encode_string(topic, "topic")
        encoded = codec.encode_produce_record(to_wire_record(ProducerRecord(value, key, headers, timestamp)))
        if partition is None:
            partition = 0 if key is None else partition_for_key(key, self.partitions_of(topic))
        elif not isinstance(partition, int) or isinstance(partition, bool) or not 0 <= partition <= 0xFFFFFFFF:
            raise InvalidArgument(f"partition must be an int from 0 to 2^32-1, got {partition!r}")
        size = len(encoded)
        if size + REQUEST_OVERHEAD + len(topic_bytes) > self._max_frame_bytes:
            raise TooLarge(
                f"a record of {size} bytes does not fit a request (the broker's max_frame_bytes is "
                f"{self._max_frame_bytes})",
                source="client",
            )
        future = SendFuture(topic, partition)
        self._sender.append(topic, partition, encoded, timestamp, future, self.max_block)
        return future

    def flush(self, timeout: Optional[float] = None) -> None:
        """Sends every record queued so far now and waits until each is
        answered (its future done); records other threads send meanwhile do
        not hold it up. Raises TimedOut (408) when ``timeout`` seconds pass
        first."""
        self._sender.flush(timeout)

    def close(self, timeout: Optional[float] = None) -> None:
        """Flushes, stops the sender thread and closes the connections.
        With a ``timeout`` that passes first, the records still unanswered
        fail with TransportError and TimedOut is raised. Idempotent;
        ``send()`` raises afterwards."""
        with self._sender.cond:
            if self._sender.closed:
                return
        flushed = False
        try:
            self._sender.flush(timeout)
            flushed = True
        finally:
            self._sender.stop(abort=not flushed)
            with self._meta_lock:
                if self._meta is not None:
                    self._meta.close()

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
        when a batch is waiting)."""
        return self._sender.io.connected

    @property
    def stats(self) -> Dict[str, int]:
        """Counters: ``requests`` sent (``produce_batch_requests`` of them as
        compressed ProduceBatch), ``max_in_flight`` reached, records
        ``queued`` (not yet answered), ``reconnects``."""
        s = self._sender
        with s.cond:
            return {"requests": s.requests_sent, "produce_batch_requests": s.produce_batch_requests,
                    "max_in_flight": s.max_in_flight_seen, "queued": s.unanswered, "reconnects": s.reconnects}

    def __enter__(self) -> "Producer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<rustlog.Producer {self.address}>"
