"""Batch compression codecs (docs/STORAGE.md, section 2, "Compressed
batches"): the records section of a batch compressed as one block, the codec
in the batch attributes' bits 0-2. The same codecs, levels and block formats
as the C++ side (src/common/compression.h):

    codec  bits  block                                  Python module (Debian)
    none   0     the records as they are                -
    lz4    1     one LZ4 frame, content size recorded   lz4.frame (python3-lz4)
    zstd   2     one Zstandard frame                    zstandard (python3-zstandard)

The modules are imported only when a codec is asked for, so the package works
uncompressed without them; asking for a codec whose module is missing raises
InvalidArgument naming the Debian package to install. The batch CRC-32C comes
from ``crc32c`` (python3-crc32c).
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from types import ModuleType
from typing import Callable, Dict, Tuple, Union

from .errors import InvalidArgument

NONE = "none"
LZ4 = "lz4"
ZSTD = "zstd"

#: Attribute bits 0-2 of each codec.
CODEC_BITS: Dict[str, int] = {NONE: 0, LZ4: 1, ZSTD: 2}

# Inclusive level ranges (0 = the codec's default: lz4 fast, zstd 3).
_LEVELS: Dict[str, Tuple[int, int]] = {LZ4: (0, 12), ZSTD: (-7, 22)}

# Module -> the Debian package that provides it.
_PACKAGES: Dict[str, str] = {"lz4.frame": "python3-lz4", "zstandard": "python3-zstandard", "crc32c": "python3-crc32c"}
_MODULE_OF: Dict[str, str] = {LZ4: "lz4.frame", ZSTD: "zstandard"}

_EXPECTED = "expected none, lz4, lz4:LEVEL (0-12), zstd or zstd:LEVEL (-7-22)"


@dataclass(frozen=True)
class Compression:
    """A codec with its level, as the C++ ``Compression{codec, level}``:
    ``Compression("zstd", 9)``; level 0 is the codec's default (lz4: fast,
    0-12 where 3 and up are LZ4 HC; zstd: -7 to 22, 0 = 3)."""

    codec: str = NONE
    level: int = 0

    def __post_init__(self) -> None:
        if self.codec not in CODEC_BITS:
            raise InvalidArgument(f"compression codec {self.codec!r}: {_EXPECTED}")
        if not isinstance(self.level, int) or isinstance(self.level, bool):
            raise InvalidArgument(f"compression level must be an int, not {type(self.level).__name__}")
        if self.codec == NONE:
            if self.level != 0:
                raise InvalidArgument("compression 'none' has no level")
            return
        lo, hi = _LEVELS[self.codec]
        if not lo <= self.level <= hi:
            raise InvalidArgument(f"compression level {self.level} is out of range for {self.codec} ({lo} to {hi})")

    @property
    def bits(self) -> int:
        """The codec's attribute bits."""
        return CODEC_BITS[self.codec]

    def __str__(self) -> str:
        """The CLI spelling: ``none``, ``lz4``, ``zstd:9`` (as ``compression_to_string``)."""
        return self.codec if self.codec == NONE or self.level == 0 else f"{self.codec}:{self.level}"


CompressionLike = Union[str, Compression, None]


def parse_compression(spec: CompressionLike) -> Compression:
    """``"none"``, ``"lz4"``, ``"lz4:LEVEL"``, ``"zstd"``, ``"zstd:LEVEL"``
    (``rustlog produce --compression``'s spelling), a :class:`Compression`,
    or None (= none). InvalidArgument naming the accepted values otherwise."""
    if spec is None:
        return Compression()
    if isinstance(spec, Compression):
        return spec
    if not isinstance(spec, str):
        raise InvalidArgument(f"compression must be a str or a Compression, not {type(spec).__name__}")
    name, colon, level = spec.partition(":")
    if name not in CODEC_BITS:
        raise InvalidArgument(f"compression {spec!r}: {_EXPECTED}")
    if not colon:
        return Compression(name)
    if name == NONE or not re.fullmatch(r"-?[0-9]{1,3}", level):
        raise InvalidArgument(f"compression {spec!r}: the level must be 0-12 for lz4, -7-22 for zstd; none has none")
    return Compression(name, int(level))


def load_module(name: str) -> ModuleType:
    """Imports ``name`` (lz4.frame, zstandard, crc32c); InvalidArgument naming
    the Debian package when it is not installed."""
    try:
        return importlib.import_module(name)
    except ImportError as e:
        pkg = _PACKAGES.get(name, name)
        raise InvalidArgument(
            f"compression needs the Python module '{name}', which is not installed ({e}): "
            f"install the Debian package {pkg} (apt-get install {pkg}), or use compression='none'"
        ) from None


Compressor = Callable[[bytes], bytes]


def compressor(c: Compression) -> Compressor:
    """A function compressing one block with ``c`` (raises InvalidArgument
    when the codec's module is missing). Not for sharing between threads."""
    if c.codec == NONE:
        return bytes
    mod = load_module(_MODULE_OF[c.codec])
    if c.codec == LZ4:
        level = c.level

        def lz4_block(data: bytes) -> bytes:
            # One frame, content size recorded, default block size (64 KiB) and
            # no checksums: LZ4F_compressFrame with the C++ side's preferences.
            return bytes(mod.compress(data, compression_level=level, store_size=True))

        return lz4_block
    z = mod.ZstdCompressor(level=c.level, write_content_size=True, write_checksum=False)

    def zstd_block(data: bytes) -> bytes:
        return bytes(z.compress(data))

    return zstd_block


BytesView = Union[bytes, bytearray, memoryview]


def crc32c_function() -> Callable[[BytesView, int], int]:
    """CRC-32C (Castagnoli), chainable: ``f(data, previous)``."""
    mod = load_module("crc32c")
    fn = mod.crc32c

    def crc(data: BytesView, value: int) -> int:
        return int(fn(data, value))

    return crc
