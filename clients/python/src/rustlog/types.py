"""The values the client returns and takes.

Keys and values are ``bytes`` or ``None``; null and empty are different
values (a null key is "no key", a null value is a tombstone). Header names
are ``str``, header values ``bytes``. Timestamps are integers in microseconds
since the Unix epoch, as on the wire.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Mapping, Optional, Tuple, Union

Header = Tuple[str, bytes]

#: What may be given as a key or value: bytes-like, a str (sent as UTF-8) or None.
BytesLike = Union[bytes, bytearray, memoryview, str, None]

#: Headers as given when producing: a mapping or (name, value) pairs; names may repeat in pairs.
HeadersLike = Union[Mapping[str, BytesLike], Iterable[Tuple[str, BytesLike]], None]

#: ``ListOffsets`` specs (and ``Client.list_offsets(spec=...)``).
EARLIEST = -2
LATEST = -1

#: A producer timestamp of -1 lets the broker stamp the append time.
BROKER_TIME = -1


def to_datetime(timestamp_us: int) -> _dt.datetime:
    """A timestamp in microseconds as an aware UTC datetime."""
    epoch = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
    return epoch + _dt.timedelta(microseconds=timestamp_us)


@dataclass(frozen=True)
class Record:
    """A record as fetched: its offset, timestamp, key, value and headers."""

    offset: int
    timestamp: int  # µs since the epoch
    key: Optional[bytes]
    value: Optional[bytes]
    headers: List[Header] = field(default_factory=list)

    @property
    def datetime(self) -> _dt.datetime:
        """``timestamp`` as an aware UTC datetime."""
        return to_datetime(self.timestamp)


@dataclass(frozen=True)
class ConsumerRecord(Record):
    """A record with the topic and partition it came from (what a Consumer yields)."""

    topic: str = ""
    partition: int = 0


@dataclass
class ProducerRecord:
    """A record to produce. ``timestamp`` -1 uses the batch timestamp, or the
    broker's append time when that is -1 too."""

    value: BytesLike
    key: BytesLike = None
    headers: HeadersLike = None
    timestamp: int = BROKER_TIME


@dataclass(frozen=True)
class ProduceResult:
    """Where a batch landed: offsets ``base_offset`` .. ``next_offset - 1``."""

    topic: str
    partition: int
    base_offset: int
    record_count: int
    append_time: int  # µs since the epoch

    @property
    def next_offset(self) -> int:
        """The offset after the batch's last record."""
        return self.base_offset + self.record_count


@dataclass(frozen=True)
class FetchResult:
    """One fetch: the records (each with its own offset; there may be gaps
    after compaction) and where to fetch next."""

    high_watermark: int
    log_start_offset: int
    records: List[Record]
    next_offset: int


@dataclass(frozen=True)
class OffsetLookup:
    """A ListOffsets answer. ``found`` is False only for a timestamp past every
    record; ``offset`` is then the high watermark."""

    offset: int
    found: bool


@dataclass(frozen=True)
class TopicInfo:
    """A topic's name and partition count (``list_topics()``)."""

    name: str
    partitions: int


@dataclass(frozen=True)
class PartitionStats:
    """One partition of ``describe_topic()``."""

    partition: int
    log_start_offset: int
    high_watermark: int
    segment_count: int
    size_bytes: int


@dataclass(frozen=True)
class TopicDescription:
    """``describe_topic()``: partitions and the config the broker applies
    (defaults included)."""

    name: str
    partition_count: int
    partitions: List[PartitionStats]
    config: Dict[str, str]


@dataclass(frozen=True)
class GroupOffset:
    """One committed offset of a group (``describe_group()``)."""

    topic: str
    partition: int
    committed: int
    high_watermark: int
    lag: int


@dataclass(frozen=True)
class ServerInfo:
    """The broker's Handshake answer (empty version when handshake was off)."""

    version: str
    max_frame_bytes: int
    supported_types: Tuple[int, ...]
