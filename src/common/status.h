#pragma once
// Errors as values. Every error that can reach a client carries a stable
// numeric code (ErrorCode) and a human message saying what to do.
#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace rustlog {

// Stable codes: these numbers are part of the wire protocol (docs/PROTOCOL.md).
enum class ErrorCode : uint16_t {
  kOk = 0,
  kInvalidRequest = 400,
  kTopicNotFound = 404,
  kPartitionNotFound = 405,
  kGroupNotFound = 406,  // the consumer group has no committed offsets (DescribeGroup, DeleteGroup)
  kTimedOut = 408,    // client library: a wait (flush, close) ran out; never on the wire from the broker
  kTopicExists = 409,
  kTooLarge = 413,
  kOffsetOutOfRange = 416,
  kInvalidConfig = 422,  // a configuration value (flag, TOML file, client option) is invalid; never on the wire
  kListenFailed = 423,   // a listen address cannot be parsed, resolved or bound; never on the wire
  kBufferFull = 429,  // client library: the Producer's buffer is full; never on the wire from the broker
  kInternal = 500,
  kCorruptRecord = 502,
  kStorageError = 503,  // I/O failure; partition read-only until restart
  kInsufficientSpace = 507,
  kTransport = 520,  // client library: connect refused, reset, timed out, undecodable answer; never on the wire
};

const char* error_code_name(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return {}; }
  bool is_ok() const { return code_ == ErrorCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string to_string() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

// Result<T>: a value or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT
  bool is_ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return is_ok(); }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &std::get<T>(v_); }
  const T* operator->() const { return &std::get<T>(v_); }
  T& operator*() { return std::get<T>(v_); }
  Status status() const { return is_ok() ? Status::ok() : std::get<Status>(v_); }

 private:
  std::variant<T, Status> v_;
};

#define RUSTLOG_RETURN_IF_ERROR(expr)        \
  do {                                       \
    ::rustlog::Status _st = (expr);          \
    if (!_st.is_ok()) return _st;            \
  } while (0)

}  // namespace rustlog
