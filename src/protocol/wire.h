#pragma once
// Primitive wire encodings shared by every message (docs/PROTOCOL.md, "Primitives"):
// big-endian integers, string = u16 length + UTF-8 (no NUL), bytes = u32 length +
// bytes, nullable bytes = i32 length (-1 = null) + bytes, count = u32.
//
// Reader and Writer keep the first error ("sticky" errors; after it the Reader
// yields zeros and empty values), so a message codec reads like its byte table and
// checks once at the end. A Writer's output is meaningless once it has an error.
// The Reader never reads past its input and never allocates more than the input
// could hold: a length or count is checked against the remaining bytes first.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace rustlog::protocol {

inline constexpr size_t kMaxStringBytes = 0xFFFF;

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or code points above
// U+10FFFF) and contains no NUL byte: the rule for every wire string.
bool is_wire_string(std::string_view s);

// `s` made into a wire string: each invalid byte becomes '?', and the result is
// cut at a character boundary to at most max_bytes. For texts that must not fail
// to encode, such as error messages.
std::string to_wire_string(std::string_view s, size_t max_bytes = kMaxStringBytes);

class Reader {
 public:
  // `what` names the message in error texts, e.g. "Produce request".
  Reader(std::string_view data, std::string_view what);

  uint8_t u8(const char* field);
  uint16_t u16(const char* field);
  uint32_t u32(const char* field);
  uint64_t u64(const char* field);
  int32_t i32(const char* field);
  int64_t i64(const char* field);
  bool boolean(const char* field);  // u8 that must be 0 or 1
  std::string string(const char* field);
  std::string bytes(const char* field);
  std::optional<std::string> nullable_bytes(const char* field);
  // The same three as views of the input (no copy; valid while it is).
  std::string_view string_ref(const char* field);
  std::string_view bytes_ref(const char* field);
  std::optional<std::string_view> nullable_bytes_ref(const char* field);
  // A u32 element count, accepted only if count * min_element_bytes fits in the
  // remaining input, so callers may reserve() it. Returns 0 after an error.
  uint32_t count(const char* field, size_t min_element_bytes);

  // Records a semantic error (e.g. a value out of range) found by the caller.
  void fail(const char* field, std::string_view problem);

  // The outcome: the first error, else an error if bytes are left over, else ok.
  Status finish();

  bool ok() const { return status_.is_ok(); }
  size_t position() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }

 private:
  const uint8_t* take(size_t n, const char* field);
  void set_error(std::string message);

  std::string_view data_;
  std::string_view what_;
  size_t pos_ = 0;
  Status status_;
};

// Appends to a caller-owned string. Values that cannot be represented (a string
// over 65,535 bytes or not valid UTF-8, bytes over 4 GiB) record an error.
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  void u8(uint8_t v);
  void u16(uint16_t v);
  void u32(uint32_t v);
  void u64(uint64_t v);
  void i32(int32_t v);
  void i64(int64_t v);
  void boolean(bool v) { u8(v ? 1 : 0); }
  void string(std::string_view s, const char* field);
  void bytes(std::string_view b, const char* field);
  void nullable_bytes(const std::optional<std::string>& b, const char* field);
  void count(size_t n, const char* field);

  // Records a semantic error (e.g. a value out of range) found by the caller.
  void fail(const char* field, std::string_view problem);

  const Status& status() const { return status_; }

 private:
  void set_error(std::string message);

  std::string& out_;
  Status status_;
};

}  // namespace rustlog::protocol
