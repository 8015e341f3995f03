"""``rustlog.Consumer``: reads one topic's partitions in order, optionally as a
consumer group with committed offsets.

Where reading starts, per partition: a position set with ``seek*()``; else the
group's committed offset; else ``auto_offset_reset``: ``"earliest"`` = the log
start, ``"latest"`` = the high watermark, ``"none"`` = OffsetOutOfRange. The
same rule applies when the broker answers a fetch with 416 (the position fell
out of range, e.g. retention deleted it).

Commits store, per partition, the offset after the last record handed out.
``commit()`` does it on request; with ``commit_every=N`` the consumer commits
whenever N or more records were handed out since the last commit, just before
it hands out the next one (a record counts as handled once you ask for the
next), and ``close()`` commits the rest. Either way a crash repeats at most
the records handed out after the last commit and skips none.

A broker restart does not end a consumer: after a transport failure it
reconnects and repeats the request (``reconnect_attempts``), since fetches
and commits are safe to repeat.

RustLog has no membership protocol: two consumers of one group on one
partition each read everything; split partitions between them with
``partitions=``. The semantics match the C++ ``client::Consumer``.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any, Callable, Deque, Dict, Iterator, List, Optional, Sequence, TypeVar

from .client import Client
from .errors import InvalidArgument, OffsetOutOfRange, TransportError
from .types import ConsumerRecord, Record

_RESETS = ("earliest", "latest", "none")

T = TypeVar("T")


class _Part:
    __slots__ = ("partition", "position", "committed", "high_watermark", "buffer", "fetch_next", "pending")

    def __init__(self, partition: int) -> None:
        self.partition = partition
        self.position: Optional[int] = None  # next offset to hand out
        self.committed: Optional[int] = None
        self.high_watermark: Optional[int] = None
        self.buffer: Deque[Record] = deque()  # fetched, not yet handed out
        self.fetch_next = 0
        self.pending = 0  # drained into Consumer._out, not yet handed out


class Consumer:
    """Reads ``topic``; iterate it (``for record in consumer``) or ``poll()``.

    Args:
        address: ``"host:port"``; default ``$RUSTLOG_BROKER``, else 127.0.0.1:9092.
        topic: the topic to read.
        group: consumer group id; None = no group (nothing committed or read
            from commits).
        partitions: the partitions to read; None = all of them.
        auto_offset_reset: ``"earliest"``, ``"latest"`` or ``"none"`` (see above).
        commit_every: commit after every N records handed out (0 = only on
            ``commit()``); needs a group.
        max_poll_records: most records one ``poll()`` returns.
        max_bytes: per fetch request (soft: at least one record).
        max_wait: seconds the broker may hold an idle fetch (long-poll).
        consumer_timeout: stop iteration after this many seconds without a
            record (None = iterate forever).
        reconnect_attempts: after a transport failure (broker restarted,
            connection reset, timeout) the consumer reconnects and repeats the
            request (fetches and commits are safe to repeat) up to this many
            times, waiting ``reconnect_backoff`` seconds, doubled each time;
            then it raises the TransportError. 0 = raise at once.
        request_timeout, connect_timeout, client_id: as for :class:`Client`.

    Usable as a context manager (``close()`` on exit). Not thread-safe: one
    Consumer per thread.
    """

    def __init__(
        self,
        address: Optional[str] = None,
        topic: Optional[str] = None,
        group: Optional[str] = None,
        partitions: Optional[Sequence[int]] = None,
        auto_offset_reset: str = "earliest",
        *,
        commit_every: int = 0,
        max_poll_records: int = 500,
        max_bytes: int = 1 << 20,
        max_wait: float = 0.5,
        min_bytes: int = 1,
        consumer_timeout: Optional[float] = None,
        reconnect_attempts: int = 5,
        reconnect_backoff: float = 0.1,
        request_timeout: Optional[float] = 30.0,
        connect_timeout: float = 5.0,
        client_id: Optional[str] = None,
    ) -> None:
        if not topic:
            raise InvalidArgument("Consumer: a topic is required")
        if auto_offset_reset not in _RESETS:
            raise InvalidArgument(f"auto_offset_reset must be earliest, latest or none, not {auto_offset_reset!r}")
        if commit_every < 0:
            raise InvalidArgument(f"commit_every must be >= 0, got {commit_every}")
        if commit_every and not group:
            raise InvalidArgument("commit_every needs a group: there is nowhere to commit without one")
        if max_poll_records < 1:
            raise InvalidArgument(f"max_poll_records must be >= 1, got {max_poll_records}")
        if max_wait < 0:
            raise InvalidArgument(f"max_wait must be >= 0 seconds, got {max_wait}")
        if reconnect_attempts < 0 or reconnect_backoff < 0:
            raise InvalidArgument("reconnect_attempts and reconnect_backoff must be >= 0")
        self.reconnect_attempts = reconnect_attempts
        self.reconnect_backoff = float(reconnect_backoff)
        self.topic = topic
        self.group = group or None
        self.auto_offset_reset = auto_offset_reset
        self.commit_every = commit_every
        self.max_poll_records = max_poll_records
        self.max_bytes = max_bytes
        self.max_wait = float(max_wait)
        self.min_bytes = min_bytes
        self.consumer_timeout = consumer_timeout
        kw: Dict[str, Any] = {"request_timeout": request_timeout, "connect_timeout": connect_timeout}
        if client_id is not None:
            kw["client_id"] = client_id
        self.client = Client(address, **kw)
        try:
            if partitions is None:
                chosen = list(range(self.client.partition_count(topic)))
            else:
                chosen = sorted(set(partitions))
                if not chosen:
                    raise InvalidArgument("Consumer: partitions is empty (None reads every partition)")
                for p in chosen:
                    if not isinstance(p, int) or p < 0:
                        raise InvalidArgument(f"partition must be an int >= 0, got {p!r}")
        except BaseException:
            self.client.close()
            raise
        self._parts: List[_Part] = [_Part(p) for p in chosen]
        self._by_id: Dict[int, _Part] = {p.partition: p for p in self._parts}
        self._next_part = 0
        self._since_commit = 0
        self._out: Deque[ConsumerRecord] = deque()  # fetched for iteration, not yet handed out
        self._closed = False

    def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args)`` on the client, reconnecting after transport failures
        (see ``reconnect_attempts``)."""
        attempt = 0
        while True:
            try:
                if not self.client.connected:
                    self.client.reconnect()
                return fn(*args, **kwargs)
            except TransportError:
                if attempt >= self.reconnect_attempts:
                    raise
                time.sleep(self.reconnect_backoff * (2 ** attempt))
                attempt += 1

    # ------------------------------------------------------------ positions

    @property
    def partitions(self) -> List[int]:
        """The partitions this consumer reads."""
        return [p.partition for p in self._parts]

    def _part(self, partition: int) -> _Part:
        p = self._by_id.get(partition)
        if p is None:
            raise InvalidArgument(f"partition {partition} of {self.topic} is not assigned to this consumer")
        return p

    def seek(self, partition: int, offset: int) -> None:
        """The next record handed out from ``partition`` is at ``offset``
        (overrides the committed offset)."""
        p = self._part(partition)
        p.position = p.fetch_next = offset
        p.buffer.clear()
        self._drop_pending(partition)

    def seek_to_beginning(self) -> None:
        """Every partition from its log start."""
        for p in self._parts:
            self.seek(p.partition, self._call(self.client.earliest_offset, self.topic, p.partition))

    def seek_to_end(self) -> None:
        """Every partition from its high watermark (only new records)."""
        for p in self._parts:
            self.seek(p.partition, self._call(self.client.latest_offset, self.topic, p.partition))

    def seek_to_time(self, timestamp: int) -> None:
        """Every partition from its first record with timestamp >= ``timestamp``
        (µs); the end of the log where there is none."""
        for p in self._parts:
            found = self._call(self.client.offset_for_time, self.topic, p.partition, timestamp)
            self.seek(p.partition, found.offset)

    def position(self, partition: int) -> Optional[int]:
        """The next offset handed out from ``partition`` (None before it is resolved)."""
        return self._part(partition).position

    def committed(self, partition: int) -> Optional[int]:
        """The group's committed offset for ``partition``, asked of the broker."""
        if not self.group:
            raise InvalidArgument("committed: the consumer has no group")
        self._part(partition)
        return self._call(self.client.committed_offset, self.group, self.topic, partition)

    def high_watermark(self, partition: int) -> Optional[int]:
        """The partition's high watermark as of the last fetch."""
        return self._part(partition).high_watermark

    @property
    def uncommitted(self) -> int:
        """Records handed out since the last commit."""
        return self._since_commit

    def _reset(self, p: _Part) -> None:
        if self.auto_offset_reset == "none":
            who = f" for group '{self.group}'" if self.group else ""
            raise OffsetOutOfRange(
                f"no valid position on {self.topic}/{p.partition}{who} and auto_offset_reset is none",
                source="client",
            )
        if self.auto_offset_reset == "earliest":
            offset = self._call(self.client.earliest_offset, self.topic, p.partition)
        else:
            offset = self._call(self.client.latest_offset, self.topic, p.partition)
        p.position = p.fetch_next = offset
        p.buffer.clear()

    def _resolve(self, p: _Part) -> None:
        if p.position is not None:
            return
        if self.group:
            c = self._call(self.client.committed_offset, self.group, self.topic, p.partition)
            if c is not None:
                p.committed = p.position = p.fetch_next = c
                return
        self._reset(p)

    def resolve_positions(self) -> None:
        """Resolves every partition's starting position now (poll does it when needed)."""
        for p in self._parts:
            self._resolve(p)

    # -------------------------------------------------------------- reading

    def _fetch_into(self, p: _Part, wait: float) -> None:
        assert p.position is not None  # resolved before any fetch
        if not p.buffer:
            p.fetch_next = p.position
        start = p.fetch_next
        try:
            r = self._call(self.client.fetch, self.topic, p.partition, start, max_bytes=self.max_bytes,
                           max_wait=wait, min_bytes=self.min_bytes)
        except OffsetOutOfRange as e:
            if e.source != "broker" or self.auto_offset_reset == "none":
                raise
            self._reset(p)
            return
        p.high_watermark = r.high_watermark
        p.buffer.extend(rec for rec in r.records if rec.offset >= start)
        p.fetch_next = max(start, r.next_offset)
        if not p.buffer:
            p.position = p.fetch_next

    def _drain(self, max_records: int) -> List[ConsumerRecord]:
        out: List[ConsumerRecord] = []
        n = len(self._parts)
        for i in range(n):
            if len(out) >= max_records:
                break
            p = self._parts[(self._next_part + i) % n]
            while p.buffer and len(out) < max_records:
                rec = p.buffer.popleft()
                p.pending += 1
                out.append(ConsumerRecord(rec.offset, rec.timestamp, rec.key, rec.value, rec.headers, self.topic,
                                          p.partition))
        if out:
            self._next_part = (self._next_part + 1) % n
        return out

    def _take(self) -> ConsumerRecord:
        """Hands out the next record of ``_out``: its partition's position moves past it."""
        rec = self._out.popleft()
        p = self._by_id[rec.partition]
        p.pending -= 1
        p.position = rec.offset + 1
        if not p.buffer and p.pending == 0:
            p.position = max(p.position, p.fetch_next)  # skip a gap the fetch reported
        self._since_commit += 1
        return rec

    def _drop_pending(self, partition: int) -> None:
        self._out = deque(r for r in self._out if r.partition != partition)
        self._by_id[partition].pending = 0

    def _maybe_commit(self) -> None:
        if self.commit_every and self._since_commit >= self.commit_every:
            self.commit()

    def _fetch(self, timeout: float, max_records: int) -> List[ConsumerRecord]:
        """Up to ``max_records`` fetched records, waiting up to ``timeout`` s for one."""
        deadline = time.monotonic() + max(timeout, 0.0)
        self.resolve_positions()
        out = self._drain(max_records)
        if out:
            return out
        n = len(self._parts)
        while True:
            for i in range(n):  # every partition once, without waiting
                p = self._parts[(self._next_part + i) % n]
                if not p.buffer:
                    self._fetch_into(p, 0.0)
            out = self._drain(max_records)
            if out:
                return out
            left = deadline - time.monotonic()
            if left <= 0:
                return out
            # Nothing anywhere: long-poll one partition (the wait is shared in turn).
            wait = min(self.max_wait, left)
            if n > 1:
                wait = min(wait, max(0.02, self.max_wait / n))
            p = self._parts[self._next_part % n]
            self._next_part = (self._next_part + 1) % n
            self._fetch_into(p, max(wait, 0.001))
            out = self._drain(max_records)
            if out:
                return out

    def poll(self, timeout: float = 1.0, max_records: Optional[int] = None) -> List[ConsumerRecord]:
        """Up to ``max_records`` (default ``max_poll_records``) records, waiting
        up to ``timeout`` seconds for at least one; [] when none arrived."""
        self._check_open()
        limit = max_records or self.max_poll_records
        self._maybe_commit()
        if not self._out:
            self._out.extend(self._fetch(timeout, limit))
        return [self._take() for _ in range(min(limit, len(self._out)))]

    def __iter__(self) -> Iterator[ConsumerRecord]:
        return self

    def __next__(self) -> ConsumerRecord:
        """The next record, waiting as long as ``consumer_timeout`` allows."""
        self._check_open()
        self._maybe_commit()
        deadline = None if self.consumer_timeout is None else time.monotonic() + self.consumer_timeout
        while not self._out:
            left = 1.0 if deadline is None else deadline - time.monotonic()
            if left <= 0:
                raise StopIteration
            self._out.extend(self._fetch(min(left, 1.0), self.max_poll_records))
        return self._take()

    # ------------------------------------------------------------ committing

    def commit(self) -> None:
        """Commits, per partition, the offset after the last record handed out."""
        if not self.group:
            raise InvalidArgument("commit: the consumer has no group")
        for p in self._parts:
            if p.position is None or p.position == p.committed:
                continue
            self._call(self.client.commit_offset, self.group, self.topic, p.partition, p.position)
            p.committed = p.position
        self._since_commit = 0

    def close(self) -> None:
        """Commits what ``commit_every`` left pending, then closes the connection. Idempotent."""
        if self._closed:
            return
        try:
            if self.commit_every and self._since_commit > 0:
                self.commit()
        finally:
            self._closed = True
            self.client.close()

    def _check_open(self) -> None:
        if self._closed:
            raise InvalidArgument("the consumer is closed")

    def __enter__(self) -> "Consumer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<rustlog.Consumer {self.client.address} {self.topic} {self.partitions} group={self.group!r}>"
