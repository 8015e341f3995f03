"""RustLog's Python client: pure standard library, speaking the broker's
extended protocol (docs/PROTOCOL.md).

    import rustlog

    with rustlog.Producer("127.0.0.1:9092") as p:
        p.send("orders", b"order 1", key=b"customer-7").result()   # -> offset

    with rustlog.Consumer("127.0.0.1:9092", "orders", group="billing") as c:
        for record in c:
            print(record.partition, record.offset, record.key, record.value)

* :class:`Client` -- one connection; every protocol call (admin, produce,
  fetch, offsets, groups), blocking.
* :class:`Producer` -- batching per partition, linger, several requests in
  flight, futures of offsets, optional lz4/zstd compression; thread-safe.
* :class:`Consumer` -- one or more partitions of a topic, optionally as a
  consumer group with committed offsets; iterable.

Errors are exceptions carrying the broker's numeric codes
(:mod:`rustlog.errors`). Addresses default to ``$RUSTLOG_BROKER``, else
``127.0.0.1:9092``.
"""

from ._compression import Compression, parse_compression
from ._connection import default_broker_address, parse_broker_address
from .client import Client, partition_for_key
from .consumer import Consumer
from .errors import (
    BrokerError,
    BufferFull,
    CorruptRecord,
    InsufficientSpace,
    InternalError,
    InvalidArgument,
    InvalidRequest,
    OffsetOutOfRange,
    PartitionNotFound,
    RequestTimeout,
    RustLogError,
    StorageError,
    TimedOut,
    TooLarge,
    TopicExists,
    TopicNotFound,
    GroupNotFound,
    TransportError,
)
from ._batch import SendFuture
from .producer import Producer
from .types import (
    BROKER_TIME,
    EARLIEST,
    LATEST,
    ConsumerRecord,
    FetchResult,
    GroupOffset,
    OffsetLookup,
    PartitionStats,
    ProduceResult,
    ProducerRecord,
    Record,
    ServerInfo,
    TopicDescription,
    TopicInfo,
)
from .version import __version__

__all__ = [
    "BROKER_TIME",
    "EARLIEST",
    "LATEST",
    "BrokerError",
    "BufferFull",
    "Client",
    "Compression",
    "Consumer",
    "ConsumerRecord",
    "CorruptRecord",
    "FetchResult",
    "GroupOffset",
    "InsufficientSpace",
    "InternalError",
    "InvalidArgument",
    "InvalidRequest",
    "OffsetLookup",
    "OffsetOutOfRange",
    "PartitionNotFound",
    "PartitionStats",
    "ProduceResult",
    "Producer",
    "ProducerRecord",
    "Record",
    "RequestTimeout",
    "RustLogError",
    "SendFuture",
    "ServerInfo",
    "StorageError",
    "TimedOut",
    "TooLarge",
    "TopicDescription",
    "TopicExists",
    "TopicInfo",
    "TopicNotFound",
    "GroupNotFound",
    "TransportError",
    "__version__",
    "default_broker_address",
    "parse_broker_address",
    "parse_compression",
    "partition_for_key",
]
