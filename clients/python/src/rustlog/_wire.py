"""Wire primitives and framing (docs/PROTOCOL.md, "Framing" and "Primitives").

Big-endian integers; ``string`` = u16 length + UTF-8 without NUL; ``bytes`` =
u32 length + bytes; ``nullable bytes`` = i32 length, -1 = null; ``count`` =
u32. A frame is a u32 payload length followed by the payload (type byte
first). This mirrors src/protocol/wire.cpp and frame.cpp.
"""

from __future__ import annotations

import builtins
import struct
from typing import Optional

from .errors import InvalidArgument, TooLarge, TransportError

MAX_STRING_BYTES = 0xFFFF
DEFAULT_MAX_FRAME_BYTES = 10 * 1024 * 1024  # 10,485,760

_U8 = struct.Struct(">B")
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")
_I32 = struct.Struct(">i")
_I64 = struct.Struct(">q")


def encode_string(s: str, field: str) -> bytes:
    """``s`` as UTF-8 checked against the wire rules (no NUL, no lone surrogate)."""
    if not isinstance(s, str):
        raise InvalidArgument(f"{field} must be a str, not {type(s).__name__}")
    if "\x00" in s:
        raise InvalidArgument(f"{field} contains a NUL character, which the protocol does not allow")
    try:
        b = s.encode("utf-8")
    except UnicodeEncodeError as e:
        raise InvalidArgument(f"{field} is not valid UTF-8 ({e.reason})") from None
    if len(b) > MAX_STRING_BYTES:
        raise InvalidArgument(f"{field} is {len(b)} bytes of UTF-8; the wire limit is {MAX_STRING_BYTES}")
    return b


class Writer:
    """Builds one payload. Methods append and return nothing; ``payload()``
    gives the bytes."""

    __slots__ = ("_buf",)

    def __init__(self, type_code: int) -> None:
        self._buf = bytearray((type_code,))

    def u8(self, v: int) -> None:
        self._buf += _U8.pack(v)

    def u32(self, v: int, field: str = "value") -> None:
        if not 0 <= v <= 0xFFFFFFFF:
            raise InvalidArgument(f"{field} must be from 0 to 4294967295, got {v}")
        self._buf += _U32.pack(v)

    def u64(self, v: int, field: str = "value") -> None:
        if not 0 <= v <= 0xFFFFFFFFFFFFFFFF:
            raise InvalidArgument(f"{field} must be from 0 to 2^64-1, got {v}")
        self._buf += _U64.pack(v)

    def i64(self, v: int, field: str = "value") -> None:
        if not -(1 << 63) <= v < (1 << 63):
            raise InvalidArgument(f"{field} does not fit in 64 bits: {v}")
        self._buf += _I64.pack(v)

    def string(self, s: str, field: str) -> None:
        b = encode_string(s, field)
        self._buf += _U16.pack(len(b))
        self._buf += b

    def bytes(self, b: builtins.bytes, field: str) -> None:
        if len(b) > 0xFFFFFFFF:
            raise InvalidArgument(f"{field} exceeds 4 GiB")
        self._buf += _U32.pack(len(b))
        self._buf += b

    def nullable_bytes(self, b: Optional[builtins.bytes], field: str) -> None:
        if b is None:
            self._buf += _I32.pack(-1)
            return
        if len(b) > 0x7FFFFFFF:
            raise InvalidArgument(f"{field} exceeds 2 GiB")
        self._buf += _I32.pack(len(b))
        self._buf += b

    def count(self, n: int, field: str) -> None:
        self.u32(n, field)

    def payload(self) -> builtins.bytes:
        return builtins.bytes(self._buf)

    def __len__(self) -> int:
        return len(self._buf)


class Reader:
    """Reads one response payload field by field; any malformed field raises
    :class:`TransportError` naming the message, the field and the byte
    position (from the type byte = byte 0), as the C++ Reader does."""

    __slots__ = ("_data", "_pos", "_what")

    def __init__(self, data: bytes, what: str, pos: int = 1) -> None:
        self._data = memoryview(data)
        self._pos = pos  # byte 0 is the type byte
        self._what = what

    def _fail(self, problem: str) -> TransportError:
        return TransportError(f"malformed {self._what} from the broker: {problem}")

    def _take(self, n: int, field: str) -> memoryview:
        left = len(self._data) - self._pos
        if left < n:
            raise self._fail(f"field '{field}' truncated at byte {self._pos}: needs {n} bytes, {left} left")
        v = self._data[self._pos : self._pos + n]
        self._pos += n
        return v

    def u8(self, field: str) -> int:
        return self._take(1, field)[0]

    def u16(self, field: str) -> int:
        return int(_U16.unpack(self._take(2, field))[0])

    def u32(self, field: str) -> int:
        return int(_U32.unpack(self._take(4, field))[0])

    def u64(self, field: str) -> int:
        return int(_U64.unpack(self._take(8, field))[0])

    def i32(self, field: str) -> int:
        return int(_I32.unpack(self._take(4, field))[0])

    def i64(self, field: str) -> int:
        return int(_I64.unpack(self._take(8, field))[0])

    def boolean(self, field: str) -> bool:
        at = self._pos
        v = self.u8(field)
        if v > 1:
            raise self._fail(f"field '{field}' at byte {at} must be 0 or 1, got {v}")
        return v == 1

    def string(self, field: str) -> str:
        at = self._pos
        raw = self._take(self.u16(field), field)
        try:
            s = str(raw, "utf-8")
        except UnicodeDecodeError:
            s = "\x00"
        if "\x00" in s:
            raise self._fail(f"field '{field}' at byte {at} is not valid UTF-8 or contains a NUL byte")
        return s

    def bytes(self, field: str) -> builtins.bytes:
        return builtins.bytes(self._take(self.u32(field), field))

    def nullable_bytes(self, field: str) -> Optional[builtins.bytes]:
        at = self._pos
        n = self.i32(field)
        if n == -1:
            return None
        if n < 0:
            raise self._fail(f"field '{field}' at byte {at} has length {n} (only -1 = null may be negative)")
        return builtins.bytes(self._take(n, field))

    def count(self, field: str, min_element_bytes: int) -> int:
        """A u32 element count, checked against the bytes left first."""
        at = self._pos
        n = self.u32(field)
        left = len(self._data) - self._pos
        if n * min_element_bytes > left:
            raise self._fail(
                f"field '{field}' at byte {at} claims {n} elements of at least "
                f"{min_element_bytes} bytes, but only {left} bytes remain"
            )
        return n

    def finish(self) -> None:
        """Fails when bytes are left after the last field."""
        left = len(self._data) - self._pos
        if left:
            raise self._fail(f"{left} trailing bytes after the last field (at byte {self._pos})")


def frame(payload: bytes, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> bytes:
    """``payload`` with its u32 length prefix; 413 when it exceeds the limit."""
    if not payload:
        raise InvalidArgument("a frame needs at least a type byte")
    if len(payload) > max_frame_bytes:
        raise TooLarge(
            f"request of {len(payload)} bytes exceeds max_frame_bytes {max_frame_bytes}: "
            "send fewer or smaller records per request",
            source="client",
        )
    return _U32.pack(len(payload)) + payload


def frame_length(header: bytes) -> int:
    """The payload length in a 4-byte frame header."""
    return int(_U32.unpack(header)[0])
