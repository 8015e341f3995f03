"""Request encoders and response decoders, one per message, in the byte order
of docs/PROTOCOL.md (the C++ layouts: src/protocol/codec_v0.cpp and
codec_ex.cpp). Each ``encode_*`` returns a payload (type byte first); each
``decode_*`` takes a whole response payload of its type and checks that no
byte is left over.
"""

from __future__ import annotations

from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple, TypeVar

from ._wire import Reader, Writer
from .errors import InvalidArgument, TransportError, broker_error
from .types import (
    FetchResult,
    GroupOffset,
    OffsetLookup,
    PartitionStats,
    ProduceResult,
    Record,
    ServerInfo,
    TopicInfo,
)

# Type codes (src/protocol/message_type.h).
PRODUCE = 0x01
FETCH = 0x02
OFFSET_COMMIT = 0x03
OFFSET_FETCH = 0x04
CREATE_TOPIC = 0x05
LIST_TOPICS = 0x06
DESCRIBE_TOPIC = 0x07
DESCRIBE_PARTITION = 0x08
METRICS_FETCH = 0x09
HANDSHAKE = 0x10
PRODUCE_EX = 0x11
FETCH_EX = 0x12
LIST_OFFSETS = 0x13
CREATE_TOPIC_EX = 0x14
DESCRIBE_TOPIC_CONFIG = 0x15
DELETE_TOPIC = 0x16
LIST_GROUPS = 0x17
DESCRIBE_GROUP = 0x18
DELETE_GROUP = 0x19
PRODUCE_BATCH = 0x1A
ERROR = 0xFE
PING = 0xFF

TYPE_NAMES: Dict[int, str] = {
    PRODUCE: "Produce",
    FETCH: "Fetch",
    OFFSET_COMMIT: "OffsetCommit",
    OFFSET_FETCH: "OffsetFetch",
    CREATE_TOPIC: "CreateTopic",
    LIST_TOPICS: "ListTopics",
    DESCRIBE_TOPIC: "DescribeTopic",
    DESCRIBE_PARTITION: "DescribePartition",
    METRICS_FETCH: "MetricsFetch",
    HANDSHAKE: "Handshake",
    PRODUCE_EX: "ProduceEx",
    FETCH_EX: "FetchEx",
    LIST_OFFSETS: "ListOffsets",
    CREATE_TOPIC_EX: "CreateTopicEx",
    DESCRIBE_TOPIC_CONFIG: "DescribeTopicConfig",
    DELETE_TOPIC: "DeleteTopic",
    LIST_GROUPS: "ListGroups",
    DESCRIBE_GROUP: "DescribeGroup",
    DELETE_GROUP: "DeleteGroup",
    PRODUCE_BATCH: "ProduceBatch",
    ERROR: "Error",
    PING: "Ping",
}

T = TypeVar("T")

# Minimum encoded sizes of repeated elements (for Reader.count()).
_MIN_HEADER = 2 + 4
_MIN_FETCHED_RECORD = 8 + 8 + 4 + 4 + 4
_MIN_CONFIG_ENTRY = 2 + 2
_MIN_PARTITION_STATS = 4 + 8 + 8 + 4 + 8
_MIN_GROUP_PARTITION = 2 + 4 + 8 + 8 + 8
_MIN_TOPIC_INFO = 2 + 4

# A ProducerRecord ready for the wire: timestamp, key, value, headers.
WireRecord = Tuple[int, Optional[bytes], Optional[bytes], Sequence[Tuple[str, bytes]]]


def type_name(code: int) -> str:
    """``"FetchEx"`` for 0x12; ``"Unknown(0x..)"`` for codes not in the table."""
    return TYPE_NAMES.get(code, f"Unknown(0x{code:02x})")


def _timestamp(w: Writer, ts: int, field: str) -> None:
    if ts < -1:
        raise InvalidArgument(f"{field} {ts} must be -1 (broker time) or >= 0 microseconds")
    w.i64(ts, field)


# ------------------------------------------------------------------ requests


def encode_ping() -> bytes:
    return bytes((PING,))


def encode_metrics_fetch() -> bytes:
    return bytes((METRICS_FETCH,))


def encode_handshake(client_version: str) -> bytes:
    w = Writer(HANDSHAKE)
    w.string(client_version, "client_version")
    return w.payload()


def encode_produce_record(record: WireRecord) -> bytes:
    """One ProduceEx record: i64 timestamp, nullable key, nullable value, headers."""
    ts, key, value, headers = record
    w = Writer(0)
    _timestamp(w, ts, "record timestamp")
    w.nullable_bytes(key, "key")
    w.nullable_bytes(value, "value")
    w.count(len(headers), "header_count")
    for name, hv in headers:
        w.string(name, "header name")
        w.bytes(hv, "header value")
    return w.payload()[1:]  # without the placeholder type byte


def encode_produce_ex_encoded(topic: str, partition: int, timestamp: int, records: Sequence[bytes]) -> bytes:
    """ProduceEx from records already made by ``encode_produce_record``."""
    w = Writer(PRODUCE_EX)
    w.string(topic, "topic")
    w.u32(partition, "partition")
    _timestamp(w, timestamp, "batch timestamp")
    w.count(len(records), "record_count")
    return w.payload() + b"".join(records)


def encode_produce_ex(topic: str, partition: int, timestamp: int, records: Sequence[WireRecord]) -> bytes:
    return encode_produce_ex_encoded(topic, partition, timestamp, [encode_produce_record(r) for r in records])


def encode_produce_batch(topic: str, partition: int, batch: bytes) -> bytes:
    """ProduceBatch: one record batch in the storage format (``_record_batch``)."""
    w = Writer(PRODUCE_BATCH)
    w.string(topic, "topic")
    w.u32(partition, "partition")
    w.bytes(batch, "batch")
    return w.payload()


def encode_fetch_ex(topic: str, partition: int, offset: int, max_bytes: int, max_wait_ms: int, min_bytes: int) -> bytes:
    w = Writer(FETCH_EX)
    w.string(topic, "topic")
    w.u32(partition, "partition")
    w.u64(offset, "offset")
    w.u32(max_bytes, "max_bytes")
    w.u32(max_wait_ms, "max_wait_ms")
    w.u32(min_bytes, "min_bytes")
    return w.payload()


def encode_list_offsets(topic: str, partition: int, spec: int) -> bytes:
    if spec < -2:
        raise InvalidArgument(f"spec {spec} must be -2 (earliest), -1 (latest) or a timestamp >= 0")
    w = Writer(LIST_OFFSETS)
    w.string(topic, "topic")
    w.u32(partition, "partition")
    w.i64(spec, "spec")
    return w.payload()


def encode_create_topic_ex(topic: str, partitions: int, config: Iterable[Tuple[str, str]]) -> bytes:
    entries = list(config)
    w = Writer(CREATE_TOPIC_EX)
    w.string(topic, "topic")
    w.u32(partitions, "partitions")
    w.count(len(entries), "config_count")
    for key, value in entries:
        w.string(key, "config key")
        w.string(value, "config value")
    return w.payload()


def _one_string(type_code: int, s: str, field: str) -> bytes:
    w = Writer(type_code)
    w.string(s, field)
    return w.payload()


def encode_describe_topic_config(topic: str) -> bytes:
    return _one_string(DESCRIBE_TOPIC_CONFIG, topic, "topic")


def encode_describe_topic(topic: str) -> bytes:
    return _one_string(DESCRIBE_TOPIC, topic, "topic")


def encode_delete_topic(topic: str) -> bytes:
    return _one_string(DELETE_TOPIC, topic, "topic")


def encode_list_topics() -> bytes:
    return bytes((LIST_TOPICS,))


def encode_list_groups() -> bytes:
    return bytes((LIST_GROUPS,))


def encode_describe_group(group: str) -> bytes:
    return _one_string(DESCRIBE_GROUP, group, "group")


def encode_delete_group(group: str) -> bytes:
    return _one_string(DELETE_GROUP, group, "group")


def encode_offset_commit(group: str, topic: str, partition: int, offset: int) -> bytes:
    w = Writer(OFFSET_COMMIT)
    w.string(group, "group")
    w.string(topic, "topic")
    w.u32(partition, "partition")
    w.u64(offset, "offset")
    return w.payload()


def encode_offset_fetch(group: str, topic: str, partition: int) -> bytes:
    w = Writer(OFFSET_FETCH)
    w.string(group, "group")
    w.string(topic, "topic")
    w.u32(partition, "partition")
    return w.payload()


# ----------------------------------------------------------------- responses


def _headers(r: Reader) -> List[Tuple[str, bytes]]:
    n = r.count("header_count", _MIN_HEADER)
    return [(r.string("header name"), r.bytes("header value")) for _ in range(n)]


def decode_empty(r: Reader) -> None:
    """Responses without fields (Pong, CreateTopicEx, DeleteTopic, DeleteGroup)."""


def decode_handshake(r: Reader) -> ServerInfo:
    version = r.string("server_version")
    max_frame = r.u32("max_frame_bytes")
    n = r.count("type_count", 1)
    return ServerInfo(version, max_frame, tuple(r.u8("type") for _ in range(n)))


def decode_metrics(r: Reader) -> str:
    return r.bytes("text").decode("utf-8", errors="replace")


def decode_produce_ex(r: Reader) -> Tuple[int, int, int]:
    """(base_offset, record_count, append_time); ProduceBatch answers alike."""
    return r.u64("base_offset"), r.u32("record_count"), r.i64("append_time_us")


def decode_fetch_ex(r: Reader) -> FetchResult:
    hw = r.u64("high_watermark")
    log_start = r.u64("log_start_offset")
    n = r.count("record_count", _MIN_FETCHED_RECORD)
    records = []
    for _ in range(n):
        offset = r.u64("offset")
        ts = r.i64("timestamp_us")
        key = r.nullable_bytes("key")
        value = r.nullable_bytes("value")
        records.append(Record(offset, ts, key, value, _headers(r)))
    return FetchResult(hw, log_start, records, r.u64("next_offset"))


def decode_list_offsets(r: Reader) -> OffsetLookup:
    offset = r.u64("offset")
    return OffsetLookup(offset, r.boolean("found"))


def decode_describe_topic_config(r: Reader) -> Tuple[int, Dict[str, str], List[PartitionStats]]:
    count = r.u32("partition_count")
    n = r.count("config_count", _MIN_CONFIG_ENTRY)
    config = {}
    for _ in range(n):
        key = r.string("config key")
        config[key] = r.string("config value")
    n = r.count("partition_stats_count", _MIN_PARTITION_STATS)
    stats = [
        PartitionStats(r.u32("partition"), r.u64("log_start_offset"), r.u64("high_watermark"),
                       r.u32("segment_count"), r.u64("size_bytes"))
        for _ in range(n)
    ]
    return count, config, stats


def decode_describe_topic(r: Reader) -> int:
    """The partition count (the per-partition high watermarks are skipped)."""
    r.string("topic")
    count = r.u32("partition_count")
    n = r.count("partition_count", 12)
    for _ in range(n):
        r.u32("partition")
        r.u64("high_watermark")
    return count


def decode_list_topics(r: Reader) -> List[TopicInfo]:
    n = r.count("topic_count", _MIN_TOPIC_INFO)
    return [TopicInfo(r.string("name"), r.u32("partition_count")) for _ in range(n)]


def decode_list_groups(r: Reader) -> List[str]:
    n = r.count("group_count", 2)
    return [r.string("group") for _ in range(n)]


def decode_describe_group(r: Reader) -> List[GroupOffset]:
    n = r.count("partition_count", _MIN_GROUP_PARTITION)
    return [
        GroupOffset(r.string("topic"), r.u32("partition"), r.u64("committed"), r.u64("high_watermark"), r.u64("lag"))
        for _ in range(n)
    ]


def decode_offset_commit(r: Reader) -> bool:
    return r.boolean("success")


def decode_offset_fetch(r: Reader) -> Optional[int]:
    return r.u64("offset") if r.boolean("has_offset") else None


def raise_if_error(payload: bytes) -> None:
    """Raises the broker's exception when ``payload`` is an Error frame."""
    if payload[0] != ERROR:
        return
    r = Reader(payload, "Error response")
    code = r.u16("code")
    message = r.string("message")
    r.finish()
    raise broker_error(code, message)


def decode(payload: bytes, request_type: int, body: Callable[[Reader], T]) -> T:
    """Checks ``payload`` answers ``request_type`` (raising the broker's error
    for an Error frame) and decodes it with ``body``."""
    raise_if_error(payload)
    if payload[0] != request_type:
        raise TransportError(
            f"unexpected answer from the broker: {type_name(payload[0])} to a {type_name(request_type)} request"
        )
    r = Reader(payload, type_name(request_type) + " response")
    value = body(r)
    r.finish()
    return value


def produce_result(topic: str, partition: int, answer: Tuple[int, int, int]) -> ProduceResult:
    base, count, append_time = answer
    return ProduceResult(topic, partition, base, count, append_time)
