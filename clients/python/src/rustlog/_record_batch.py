"""One record batch in the storage format (docs/STORAGE.md, sections 2 and 3),
built by the Producer for a ProduceBatch (0x1A) request: the Python twin of
the C++ ``BatchBuilder`` and ``protocol::produce_batch_frame``.

The records come as the Producer holds them, encoded for ProduceEx
(``_codec.encode_produce_record``), and are rebuilt as batch records: base
offset 0 (the broker assigns the log's), offset deltas 0, 1, 2, ...; the
records section compressed as one block, its codec in attribute bits 0-2 (a
block that would not be smaller is stored plain, codec 0); the CRC-32C over
every byte but itself, i.e. over the stored (compressed) bytes.

Timestamps: a batch whose records carry no timestamp of their own is a
broker-time batch (``first_timestamp`` = ``max_timestamp`` = -1, every delta
0: the broker stamps the append time); otherwise every record has its own
(>= 0), its delta from the first record's taken modulo 2^64. One batch never
mixes the two (the Producer starts a new batch instead).
"""

from __future__ import annotations

import struct
from typing import Callable, Sequence

from ._compression import BytesView, Compression, Compressor
from .errors import InvalidArgument

# base_offset u64, batch_length u32, magic u8, crc u32, attributes u16,
# last_offset_delta u32, first_timestamp i64, max_timestamp i64, record_count u32.
_HEADER = struct.Struct(">QIBIHIqqI")
HEADER_SIZE = _HEADER.size  # 43
_MAGIC = 1
_CRC_AT = 13  # the CRC field: bytes [13, 17)
_AFTER_CRC = 17

_I64 = struct.Struct(">q")
_I32 = struct.Struct(">i")
_U32 = struct.Struct(">I")
_U16 = struct.Struct(">H")
_MASK64 = (1 << 64) - 1


def uvarint(n: int) -> bytes:
    """Unsigned LEB128 (docs/STORAGE.md, section 3): 300 -> ac 02."""
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def varint(n: int) -> bytes:
    """Zig-zag then uvarint: 0 -> 00, -1 -> 01, 1 -> 02."""
    return uvarint(((n << 1) ^ (n >> 63)) & _MASK64)


def _wrap_delta(ts: int, first: int) -> int:
    """``ts - first`` modulo 2^64 as a signed 64-bit value (as the C++ builder)."""
    d = (ts - first) & _MASK64
    return d - (1 << 64) if d >= 1 << 63 else d


def produce_ex_timestamp(encoded: bytes) -> int:
    """The timestamp of a record encoded by ``encode_produce_record``."""
    return int(_I64.unpack_from(encoded, 0)[0])


def _batch_record(encoded: bytes, ts_delta: int, offset_delta: int) -> bytes:
    """One ProduceEx-encoded record (i64 timestamp, nullable key, nullable
    value, headers) as a batch record."""
    pos = 8
    body = bytearray(b"\x00")  # attributes
    body += varint(ts_delta)
    body += uvarint(offset_delta)
    for _ in range(2):  # key, then value: -1 = null
        (n,) = _I32.unpack_from(encoded, pos)
        pos += 4
        body += varint(n)
        if n > 0:
            body += encoded[pos : pos + n]
            pos += n
    (count,) = _U32.unpack_from(encoded, pos)
    pos += 4
    body += uvarint(count)
    for _ in range(count):
        (n,) = _U16.unpack_from(encoded, pos)
        body += uvarint(n)
        body += encoded[pos + 2 : pos + 2 + n]
        pos += 2 + n
        (n,) = _U32.unpack_from(encoded, pos)
        body += uvarint(n)
        body += encoded[pos + 4 : pos + 4 + n]
        pos += 4 + n
    if pos != len(encoded):
        raise InvalidArgument(f"a ProduceEx record of {len(encoded)} bytes has {len(encoded) - pos} trailing bytes")
    return uvarint(len(body)) + bytes(body)


def build_batch(records: Sequence[bytes], compression: Compression, compress: Compressor,
                crc32c: Callable[[BytesView, int], int]) -> bytes:
    """The batch holding ``records`` (ProduceEx encodings, at least one),
    its records section compressed with ``compress`` (made by
    ``_compression.compressor(compression)``)."""
    if not records:
        raise InvalidArgument("a batch needs at least one record")
    stamps = [produce_ex_timestamp(r) for r in records]
    broker_time = stamps[0] < 0
    if any((ts < 0) != broker_time for ts in stamps):
        raise InvalidArgument("a batch mixes records with and without their own timestamp")
    first = -1 if broker_time else stamps[0]
    section = b"".join(_batch_record(r, 0 if broker_time else _wrap_delta(ts, first), i)
                       for i, (r, ts) in enumerate(zip(records, stamps)))
    attributes = 0
    if compression.bits != 0:
        block = compress(section)
        if len(block) < len(section):
            section = block
            attributes = compression.bits
    buf = bytearray(HEADER_SIZE)
    _HEADER.pack_into(buf, 0, 0, HEADER_SIZE - 12 + len(section), _MAGIC, 0, attributes, len(records) - 1, first,
                      max(stamps) if not broker_time else -1, len(records))
    buf += section
    view = memoryview(buf)
    crc = crc32c(view[_AFTER_CRC:], crc32c(view[:_CRC_AT], 0))
    view.release()
    _U32.pack_into(buf, _CRC_AT, crc)
    return bytes(buf)
