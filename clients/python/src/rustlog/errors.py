"""Exceptions of the RustLog client.

Every exception is a :class:`RustLogError` carrying a stable numeric ``code``
(the broker's wire code, see docs/PROTOCOL.md "Errors"), a human ``message``
and a ``source`` saying who failed:

* ``"broker"`` -- the broker answered with an Error frame: code and message
  are the broker's own (e.g. ``TopicNotFound``, 404).
* ``"transport"`` -- connecting, sending or receiving failed
  (:class:`TransportError`; :class:`RequestTimeout` when a deadline passed).
* ``"client"`` -- the call could not be made as asked (a bad argument, a
  consumer with nothing assigned): :class:`InvalidArgument`, code 400; or a
  wait of the client ran out: :class:`TimedOut` (408), :class:`BufferFull`
  (429), the client-side codes the C++ client uses too.

Each broker code has its own class (``TopicNotFound``, ``OffsetOutOfRange``,
...), so ``except rustlog.TopicNotFound`` works; a code this client does not
know still arrives as a :class:`BrokerError` with that ``code``.

A client made with ``handshake=False`` is a legacy client to the broker: its
v0 requests are answered with the v0 codes (docs/PROTOCOL.md, "Error codes of
legacy connections"), e.g. 13 for an unknown topic on ``partition_count``.
Those raise the class of the matching extended code (13 -> ``TopicNotFound``)
with ``code`` as the broker sent it.
"""

from __future__ import annotations

from typing import Dict, Type

# The broker's stable codes (src/common/status.h, ErrorCode). Their numbers
# are part of the wire protocol.
INVALID_REQUEST = 400
TOPIC_NOT_FOUND = 404
PARTITION_NOT_FOUND = 405
GROUP_NOT_FOUND = 406
TOPIC_EXISTS = 409
TOO_LARGE = 413
OFFSET_OUT_OF_RANGE = 416
# Client-side codes, never sent by the broker (the C++ client uses them too).
TIMED_OUT = 408
BUFFER_FULL = 429
INTERNAL = 500
CORRUPT_RECORD = 502
STORAGE_ERROR = 503
INSUFFICIENT_SPACE = 507

# Transport failures (refused, reset, timed out, undecodable answer) carry
# this code, as the C++ client's do; never sent by the broker.
TRANSPORT_ERROR = 520

# The v0 codes a legacy connection gets (src/protocol/error_codes_v0.h).
V0_STORAGE_ERROR = 4
V0_OFFSET_COMMIT_REFUSED = 5
V0_NOT_FOUND = 10
V0_TOPIC_EXISTS = 11
V0_INVALID_PARTITION_COUNT = 12
V0_TOPIC_NOT_FOUND = 13
V0_PARTITION_NOT_FOUND = 14
V0_FRAME_TOO_LARGE = 15
V0_MALFORMED_REQUEST = 16
V0_OFFSET_OUT_OF_RANGE = 17
V0_READ_ONLY = 18
V0_DISK_FULL = 19


class RustLogError(Exception):
    """Base class of every error this package raises.

    Attributes:
        code: the numeric code as on the wire (404, 416, 503, ...).
        message: what went wrong and, where known, what to do.
        source: ``"broker"``, ``"transport"`` or ``"client"``.
    """

    code: int = 0
    source: str = "client"

    def __init__(self, message: str, code: int | None = None, source: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if source is not None:
            self.source = source

    @property
    def name(self) -> str:
        """The code's name (``"TopicNotFound"``), or ``"Unknown"``; for a
        transport failure the class name (``"RequestTimeout"``)."""
        if isinstance(self, TransportError):
            return type(self).__name__
        cls = _BY_CODE.get(self.code) or _BY_V0_CODE.get(self.code)
        return cls.__name__ if cls is not None else "Unknown"

    def __str__(self) -> str:
        return f"{self.source} error {self.code} {self.name}: {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code}, message={self.message!r}, source={self.source!r})"


class BrokerError(RustLogError):
    """The broker answered with an Error frame (or the client refused a call
    for the same reason the broker would have, see ``source``)."""

    source = "broker"


class InvalidRequest(BrokerError):
    """400: a malformed request, an unknown type, or a bad argument or config value."""

    code = INVALID_REQUEST


class TopicNotFound(BrokerError):
    """404: the topic does not exist."""

    code = TOPIC_NOT_FOUND


class PartitionNotFound(BrokerError):
    """405: the partition does not exist in that topic."""

    code = PARTITION_NOT_FOUND


class GroupNotFound(BrokerError):
    """406: the consumer group has no committed offsets (describe_group, delete_group)."""

    code = GROUP_NOT_FOUND


class TopicExists(BrokerError):
    """409: create_topic() for a topic that already exists."""

    code = TOPIC_EXISTS


class TooLarge(BrokerError):
    """413: a record or frame is larger than the broker allows."""

    code = TOO_LARGE


class OffsetOutOfRange(BrokerError):
    """416: an offset below the log start or above the high watermark (also
    raised by a Consumer with ``auto_offset_reset="none"`` that has no valid
    position; its ``source`` is then ``"client"``)."""

    code = OFFSET_OUT_OF_RANGE


class InternalError(BrokerError):
    """500: a broker bug, e.g. a response it could not encode."""

    code = INTERNAL


class CorruptRecord(BrokerError):
    """502: stored data failed its checksum."""

    code = CORRUPT_RECORD


class StorageError(BrokerError):
    """503 from the broker: an I/O failure; the partition is read-only until restart."""

    code = STORAGE_ERROR


class InsufficientSpace(BrokerError):
    """507: the broker's disk is full."""

    code = INSUFFICIENT_SPACE


class TransportError(RustLogError):
    """Connecting, sending or receiving failed, or the broker's answer could
    not be decoded. The connection is closed; ``Client.reconnect()`` opens a
    new one. An answer to a request that was sent may have been lost: a
    produce may or may not have been appended."""

    code = TRANSPORT_ERROR
    source = "transport"


class RequestTimeout(TransportError, TimeoutError):
    """A connect or request deadline passed (the connection is closed, since a
    late answer would otherwise be taken for the next request's)."""


class TimedOut(RustLogError, TimeoutError):
    """408: a wait of the client ran out (``Producer.flush()`` / ``close()``
    with a timeout); nothing was lost by it, the records are still on their way."""

    code = TIMED_OUT
    source = "client"


class BufferFull(RustLogError):
    """429: ``Producer.send()`` found the buffer full for ``max_block`` seconds."""

    code = BUFFER_FULL
    source = "client"


class InvalidArgument(RustLogError, ValueError):
    """The call could not be made as asked (code 400, source ``"client"``)."""

    code = INVALID_REQUEST
    source = "client"


_BY_CODE: Dict[int, Type[RustLogError]] = {
    cls.code: cls
    for cls in (
        InvalidRequest,
        TopicNotFound,
        PartitionNotFound,
        GroupNotFound,
        TopicExists,
        TooLarge,
        OffsetOutOfRange,
        InternalError,
        CorruptRecord,
        StorageError,
        InsufficientSpace,
        TimedOut,
        BufferFull,
    )
}


# A v0 code's class: that of the extended code it stands for.
_BY_V0_CODE: Dict[int, Type[RustLogError]] = {
    V0_STORAGE_ERROR: StorageError,
    V0_NOT_FOUND: TopicNotFound,
    V0_TOPIC_EXISTS: TopicExists,
    V0_INVALID_PARTITION_COUNT: InvalidRequest,
    V0_TOPIC_NOT_FOUND: TopicNotFound,
    V0_PARTITION_NOT_FOUND: PartitionNotFound,
    V0_FRAME_TOO_LARGE: TooLarge,
    V0_MALFORMED_REQUEST: InvalidRequest,
    V0_OFFSET_OUT_OF_RANGE: OffsetOutOfRange,
    V0_READ_ONLY: StorageError,
    V0_DISK_FULL: InsufficientSpace,
}


def error_class(code: int) -> Type[RustLogError]:
    """The exception class for a code, extended or v0 (:class:`BrokerError`
    when unknown, and for v0 code 5, a refused OffsetCommit)."""
    cls = _BY_CODE.get(code)
    if cls is not None:
        return cls
    return _BY_V0_CODE.get(code, BrokerError)


def broker_error(code: int, message: str, source: str = "broker") -> RustLogError:
    """The exception for an Error frame with ``code`` and ``message``."""
    return error_class(code)(message, code=code, source=source)
