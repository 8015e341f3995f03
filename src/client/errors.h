#pragma once
// Typed errors of the client library.
//
// Every call of Client and Consumer returns a ClientResult<T>: the value, or
// a ClientError saying who failed (the broker, the transport, or the caller)
// with the protocol's numeric code and a human message. A broker's Error
// frame keeps the broker's own code and message, e.g. 404 "topic 'x' does
// not exist". Nothing throws unless you ask for it with value_or_throw() /
// throw_if_error(), which raise ClientException (a std::runtime_error that
// carries the ClientError).
//
//   auto topics = client.list_topics();
//   if (!topics) {
//     if (topics.error().code() == rustlog::ErrorCode::kTopicNotFound) ...
//     std::cerr << topics.error().to_string() << "\n";
//   }
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

#include "common/status.h"

namespace rustlog::client {

// Where an error came from.
enum class ErrorSource {
  kBroker,     // the broker answered with an Error frame: code and message are its own
  kTransport,  // connect, send or receive failed (code 520 Transport for I/O, 413/400 for framing)
  kClient,     // the call could not be made as asked (bad argument, wrong state): code 400
};

const char* error_source_name(ErrorSource source);

class ClientError {
 public:
  ClientError(ErrorSource source, ErrorCode code, std::string message)
      : source_(source), code_(code), message_(std::move(message)) {}
  // A transport-level Status (from client::Connection) as a ClientError.
  static ClientError transport(const Status& status) {
    return ClientError(ErrorSource::kTransport, status.code(), status.message());
  }
  static ClientError invalid_argument(std::string message) {
    return ClientError(ErrorSource::kClient, ErrorCode::kInvalidRequest, std::move(message));
  }

  ErrorSource source() const { return source_; }
  ErrorCode code() const { return code_; }
  // The numeric code as on the wire (404, 503, ...), or a client-side one (408, 429, 422, 520).
  unsigned code_number() const { return static_cast<unsigned>(code_); }
  const std::string& message() const { return message_; }
  bool from_broker() const { return source_ == ErrorSource::kBroker; }
  // "broker error 404 TopicNotFound: topic 'x' does not exist"
  std::string to_string() const;
  Status to_status() const { return Status(code_, message_); }

  bool operator==(const ClientError&) const = default;

 private:
  ErrorSource source_;
  ErrorCode code_;
  std::string message_;
};

class ClientException : public std::runtime_error {
 public:
  explicit ClientException(ClientError error) : std::runtime_error(error.message()), error_(std::move(error)) {}
  const ClientError& error() const { return error_; }

 private:
  ClientError error_;
};

// A value of type T or a ClientError.
template <typename T>
class [[nodiscard]] ClientResult {
 public:
  ClientResult(T value) : v_(std::move(value)) {}          // NOLINT: implicit by design
  ClientResult(ClientError error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &std::get<T>(v_); }
  const T* operator->() const { return &std::get<T>(v_); }
  T& operator*() & { return std::get<T>(v_); }
  const T& operator*() const& { return std::get<T>(v_); }
  T&& operator*() && { return std::get<T>(std::move(v_)); }

  const ClientError& error() const { return std::get<ClientError>(v_); }

  // The value, or throws ClientException.
  T value_or_throw() && {
    if (!ok()) throw ClientException(error());
    return std::get<T>(std::move(v_));
  }

 private:
  std::variant<T, ClientError> v_;
};

// Success without a value, or a ClientError.
template <>
class [[nodiscard]] ClientResult<void> {
 public:
  ClientResult() = default;
  ClientResult(ClientError error) : error_(std::move(error)) {}  // NOLINT

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const ClientError& error() const { return *error_; }

  void throw_if_error() const {
    if (error_) throw ClientException(*error_);
  }

 private:
  std::optional<ClientError> error_;
};

using ClientStatus = ClientResult<void>;

}  // namespace rustlog::client
