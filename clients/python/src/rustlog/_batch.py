"""What the Producer keeps per batch, and the future each send() returns."""

from __future__ import annotations

import time
from concurrent.futures import Future
from typing import List, Optional

# ProduceEx bytes besides the records: type, topic length, partition,
# timestamp, record count (the topic itself is added per batch).
REQUEST_OVERHEAD = 1 + 2 + 4 + 8 + 4


class SendFuture(Future[int]):
    """The outcome of one ``send()``: ``result()`` is the record's offset, or
    raises the error that kept it from being written.

    ``topic`` and ``partition`` are known at once; ``timestamp`` (µs, the
    record's own or the broker's append time) once the future is done.
    """

    def __init__(self, topic: str, partition: int) -> None:
        super().__init__()
        self.topic = topic
        self.partition = partition
        self.timestamp: Optional[int] = None

    def __repr__(self) -> str:
        state = "done" if self.done() else "running" if self.running() else "pending"
        return f"<SendFuture {self.topic}/{self.partition} {state}>"


class Batch:
    """One partition's records on their way: open (taking records), sealed
    (waiting for a slot), in flight, then finished (answered or failed)."""

    __slots__ = ("topic", "partition", "records", "timestamps", "futures", "size", "created", "sent_at", "finished",
                 "own_timestamps", "request_type")

    def __init__(self, topic: str, partition: int) -> None:
        self.topic = topic
        self.partition = partition
        self.records: List[bytes] = []
        self.timestamps: List[int] = []
        self.futures: List[SendFuture] = []
        self.size = REQUEST_OVERHEAD + len(topic.encode("utf-8"))
        self.created = time.monotonic()
        self.sent_at = 0.0
        self.finished = False
        self.own_timestamps = False  # its records carry their own timestamps (else the broker's)
        self.request_type = 0  # ProduceEx or ProduceBatch, once written
