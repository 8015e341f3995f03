#pragma once
// Unsigned LEB128 varints and zig-zag signed varints, as in Kafka's v2
// record format. Decoders are bounds-checked and reject encodings longer
// than 10 bytes or whose value does not fit 64 bits. (Non-minimal
// encodings are accepted on read; the batch CRC guards against damage.)
#include <cstddef>
#include <cstdint>
#include <string>

namespace rustlog {

// Writes v at q (at most 10 bytes) and returns the byte after it.
inline uint8_t* put_uvarint(uint8_t* q, uint64_t v) {
  while (v >= 0x80) {
    *q++ = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  *q++ = static_cast<uint8_t>(v);
  return q;
}
inline void put_uvarint(std::string& out, uint64_t v) {
  uint8_t buf[10];
  out.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(put_uvarint(buf, v) - buf));
}

inline uint64_t zigzag_encode(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t zigzag_decode(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}
inline void put_varint(std::string& out, int64_t v) { put_uvarint(out, zigzag_encode(v)); }

inline size_t uvarint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) { v >>= 7; ++n; }
  return n;
}
inline size_t varint_size(int64_t v) { return uvarint_size(zigzag_encode(v)); }

// Reads from [*p, end); advances *p. Returns false on truncation/overlong.
inline bool get_uvarint(const uint8_t** p, const uint8_t* end, uint64_t* out) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63; shift += 7) {
    if (*p >= end) return false;
    uint8_t b = *(*p)++;
    if (shift == 63 && b > 1) return false;  // would not fit 64 bits
    result |= static_cast<uint64_t>(b & 0x7F) << shift;
    if (!(b & 0x80)) {
      *out = result;
      return true;
    }
  }
  return false;
}
inline bool get_varint(const uint8_t** p, const uint8_t* end, int64_t* out) {
  uint64_t u;
  if (!get_uvarint(p, end, &u)) return false;
  *out = zigzag_decode(u);
  return true;
}

}  // namespace rustlog
