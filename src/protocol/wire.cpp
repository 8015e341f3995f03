#include "protocol/wire.h"

#include <algorithm>
#include <bit>
#include <limits>

#include "common/byte_order.h"

namespace rustlog::protocol {

namespace {

// Length of the well-formed, non-NUL UTF-8 character at p[0..n), or 0 if there
// is none (overlong forms, surrogates and code points above U+10FFFF are invalid).
size_t char_length(const uint8_t* p, size_t n) {
  const uint8_t c = p[0];
  if (c == 0) return 0;
  if (c < 0x80) return 1;
  size_t len = 0;
  uint32_t min_cp = 0;
  if ((c & 0xE0) == 0xC0) {
    len = 2;
    min_cp = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    min_cp = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    min_cp = 0x10000;
  } else {
    return 0;  // stray continuation byte or 0xF8..0xFF
  }
  if (n < len) return 0;
  uint32_t cp = c & (0x7Fu >> len);  // payload bits of the lead byte
  for (size_t k = 1; k < len; ++k) {
    if ((p[k] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (p[k] & 0x3F);
  }
  if (cp < min_cp || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

}  // namespace

bool is_wire_string(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  for (size_t i = 0; i < s.size();) {
    const size_t len = char_length(p + i, s.size() - i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

std::string to_wire_string(std::string_view s, size_t max_bytes) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  std::string out;
  out.reserve(std::min(s.size(), max_bytes));
  for (size_t i = 0; i < s.size();) {
    size_t len = char_length(p + i, s.size() - i);
    const bool valid = len != 0;
    if (!valid) len = 1;
    if (out.size() + len > max_bytes) break;
    if (valid) {
      out.append(s.substr(i, len));
    } else {
      out.push_back('?');
    }
    i += len;
  }
  return out;
}

// ---------------------------------------------------------------- Reader

Reader::Reader(std::string_view data, std::string_view what) : data_(data), what_(what) {}

void Reader::set_error(std::string message) {
  if (!status_.is_ok()) return;
  status_ = Status(ErrorCode::kInvalidRequest,
                   "invalid " + std::string(what_) + ": " + std::move(message));
}

void Reader::fail(const char* field, std::string_view problem) {
  set_error("field '" + std::string(field) + "' " + std::string(problem));
}

const uint8_t* Reader::take(size_t n, const char* field) {
  if (!status_.is_ok()) return nullptr;
  if (remaining() < n) {
    set_error("field '" + std::string(field) + "' truncated at byte " + std::to_string(pos_) +
              ": needs " + std::to_string(n) + " bytes, " + std::to_string(remaining()) +
              " left");
    return nullptr;
  }
  const auto* p = reinterpret_cast<const uint8_t*>(data_.data()) + pos_;
  pos_ += n;
  return p;
}

uint8_t Reader::u8(const char* field) {
  const uint8_t* p = take(1, field);
  return p ? *p : 0;
}

uint16_t Reader::u16(const char* field) {
  const uint8_t* p = take(2, field);
  return p ? get_u16(p) : 0;
}

uint32_t Reader::u32(const char* field) {
  const uint8_t* p = take(4, field);
  return p ? get_u32(p) : 0;
}

uint64_t Reader::u64(const char* field) {
  const uint8_t* p = take(8, field);
  return p ? get_u64(p) : 0;
}

int32_t Reader::i32(const char* field) { return std::bit_cast<int32_t>(u32(field)); }

int64_t Reader::i64(const char* field) { return std::bit_cast<int64_t>(u64(field)); }

bool Reader::boolean(const char* field) {
  const size_t at = pos_;
  const uint8_t v = u8(field);
  if (v > 1) {
    set_error("field '" + std::string(field) + "' at byte " + std::to_string(at) +
              " must be 0 or 1, got " + std::to_string(v));
  }
  return v == 1;
}

std::string Reader::string(const char* field) { return std::string(string_ref(field)); }

std::string Reader::bytes(const char* field) { return std::string(bytes_ref(field)); }

std::optional<std::string> Reader::nullable_bytes(const char* field) {
  auto v = nullable_bytes_ref(field);
  if (!v) return std::nullopt;
  return std::string(*v);
}

std::string_view Reader::string_ref(const char* field) {
  const size_t at = pos_;
  const uint16_t len = u16(field);
  const uint8_t* p = take(len, field);
  if (p == nullptr) return {};
  std::string_view s(reinterpret_cast<const char*>(p), len);
  if (!is_wire_string(s)) {
    set_error("field '" + std::string(field) + "' at byte " + std::to_string(at) +
              " is not valid UTF-8 or contains a NUL byte");
    return {};
  }
  return s;
}

std::string_view Reader::bytes_ref(const char* field) {
  const uint32_t len = u32(field);
  const uint8_t* p = take(len, field);
  if (p == nullptr) return {};
  return std::string_view(reinterpret_cast<const char*>(p), len);
}

std::optional<std::string_view> Reader::nullable_bytes_ref(const char* field) {
  const size_t at = pos_;
  const int32_t len = i32(field);
  if (!status_.is_ok()) return std::nullopt;
  if (len == -1) return std::nullopt;
  if (len < 0) {
    set_error("field '" + std::string(field) + "' at byte " + std::to_string(at) +
              " has length " + std::to_string(len) + " (only -1 = null may be negative)");
    return std::nullopt;
  }
  const uint8_t* p = take(static_cast<size_t>(len), field);
  if (p == nullptr) return std::nullopt;
  return std::string_view(reinterpret_cast<const char*>(p), static_cast<size_t>(len));
}

uint32_t Reader::count(const char* field, size_t min_element_bytes) {
  const size_t at = pos_;
  const uint32_t n = u32(field);
  if (!status_.is_ok()) return 0;
  // Both factors are below 2^32, so the product cannot overflow 64 bits.
  const uint64_t need = static_cast<uint64_t>(n) * static_cast<uint64_t>(min_element_bytes);
  if (need > remaining()) {
    set_error("field '" + std::string(field) + "' at byte " + std::to_string(at) + " claims " +
              std::to_string(n) + " elements of at least " + std::to_string(min_element_bytes) +
              " bytes, but only " + std::to_string(remaining()) + " bytes remain");
    return 0;
  }
  return n;
}

Status Reader::finish() {
  if (status_.is_ok() && remaining() != 0) {
    set_error(std::to_string(remaining()) + " trailing bytes after the last field (at byte " +
              std::to_string(pos_) + ")");
  }
  return status_;
}

// ---------------------------------------------------------------- Writer

void Writer::set_error(std::string message) {
  if (status_.is_ok()) status_ = Status(ErrorCode::kInvalidRequest, std::move(message));
}

void Writer::fail(const char* field, std::string_view problem) {
  set_error("field '" + std::string(field) + "' " + std::string(problem));
}

void Writer::u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }

void Writer::u16(uint16_t v) {
  uint8_t b[2];
  put_u16(b, v);
  out_.append(reinterpret_cast<const char*>(b), 2);
}

void Writer::u32(uint32_t v) {
  uint8_t b[4];
  put_u32(b, v);
  out_.append(reinterpret_cast<const char*>(b), 4);
}

void Writer::u64(uint64_t v) {
  uint8_t b[8];
  put_u64(b, v);
  out_.append(reinterpret_cast<const char*>(b), 8);
}

void Writer::i32(int32_t v) { u32(std::bit_cast<uint32_t>(v)); }

void Writer::i64(int64_t v) { u64(std::bit_cast<uint64_t>(v)); }

void Writer::string(std::string_view s, const char* field) {
  if (s.size() > kMaxStringBytes) {
    set_error("string '" + std::string(field) + "' is " + std::to_string(s.size()) +
              " bytes; the wire limit is 65535");
    return;
  }
  if (!is_wire_string(s)) {
    set_error("string '" + std::string(field) + "' is not valid UTF-8 or contains a NUL byte");
    return;
  }
  u16(static_cast<uint16_t>(s.size()));
  out_.append(s);
}

void Writer::bytes(std::string_view b, const char* field) {
  if (b.size() > std::numeric_limits<uint32_t>::max()) {
    set_error("bytes '" + std::string(field) + "' exceed 4 GiB");
    return;
  }
  u32(static_cast<uint32_t>(b.size()));
  out_.append(b);
}

void Writer::nullable_bytes(const std::optional<std::string>& b, const char* field) {
  if (!b) {
    i32(-1);
    return;
  }
  if (b->size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    set_error("bytes '" + std::string(field) + "' exceed 2 GiB");
    return;
  }
  i32(static_cast<int32_t>(b->size()));
  out_.append(*b);
}

void Writer::count(size_t n, const char* field) {
  if (n > std::numeric_limits<uint32_t>::max()) {
    set_error("count '" + std::string(field) + "' exceeds 2^32-1");
    return;
  }
  u32(static_cast<uint32_t>(n));
}

}  // namespace rustlog::protocol
