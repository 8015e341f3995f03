#pragma once
// A synchronous, blocking TCP connection to a RustLog broker.
//
// This is the transport the client library is built on: it frames, sends and
// receives whole protocol messages (docs/PROTOCOL.md) and nothing more. It
// does not retry, reconnect or interpret responses; an Error frame from the
// broker is an ordinary response (protocol::ErrorResponse), not a failure.
//
//   auto conn = client::Connection::connect("127.0.0.1", 9092);
//   if (!conn) return conn.status();
//   auto resp = conn->call(protocol::PingRequest{});
//
// Pipelining: any number of send() calls may precede the matching receive()
// calls; the broker answers in request order. (The broker keeps reading while
// it buffers less than its max_connection_output_bytes of unsent responses,
// so a client that sends megabytes without reading eventually blocks in
// send(): read responses in between when sending that much.)
//
// Errors are values, never exceptions. The Status codes are the protocol's
// ErrorCode, used as follows:
//   520 kTransport       I/O failure: connect refused, reset, timeout, or the
//                        broker closed the connection (see peer_closed())
//   413 kTooLarge        a request or response above max_frame_bytes
//   400 kInvalidRequest  a request that cannot be encoded, a malformed response,
//                        or a bad argument (e.g. an unresolvable host)
// After an I/O or framing failure the stream position is unknown, so the
// connection is closed and every later call fails with 520. Two failures leave
// it usable: a request that cannot be encoded (400/413 from encode_request;
// nothing is sent), and a receive that times out (the bytes read so far stay
// buffered and the next receive continues from them). last_failure() tells
// the kinds apart.
//
// Not thread-safe: use one Connection per thread (or lock around it).
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/codec.h"
#include "protocol/frame.h"
#include "protocol/messages.h"
#include "common/status.h"

namespace rustlog::client {

struct ConnectOptions {
  // Limit for establishing the TCP connection (per resolved address).
  std::chrono::milliseconds connect_timeout{5000};
  // The longest a send or receive waits without any byte moving; 0 = wait
  // forever. A long-poll FetchEx needs at least its max_wait_ms plus slack.
  std::chrono::milliseconds io_timeout{0};
  // Largest frame this side sends or accepts; the broker's own limit is in
  // its HandshakeResponse.
  uint32_t max_frame_bytes = protocol::kDefaultMaxFrameBytes;
  bool tcp_nodelay = true;  // requests are small; do not wait for Nagle
};

// What the most recent failed call ran into.
enum class Failure {
  kNone,      // the last call succeeded
  kTimeout,   // no progress within io_timeout (receive: connection still usable)
  kClosed,    // the broker ended the stream (EOF or reset), or close() was called
  kIo,        // any other socket error, or connect failed
  kProtocol,  // a bad frame length or undecodable response (connection closed),
              // or a request that could not be encoded (connection usable)
};

class Connection {
 public:
  // Resolves `host` (name or numeric, IPv4 or IPv6) and connects to the first
  // address that accepts within connect_timeout.
  static Result<Connection> connect(const std::string& host, uint16_t port,
                                    const ConnectOptions& options = {});

  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // ------------------------------------------------------------ messages

  // Encodes and writes one request frame (blocking until it is all written).
  Status send(const protocol::Request& request);
  // Reads and decodes the next response frame.
  Result<protocol::Response> receive();
  // send() then receive(). Only correct when no earlier response is still
  // unread (otherwise it returns that earlier response).
  Result<protocol::Response> call(const protocol::Request& request);

  // ---------------------------------------------------------- raw bytes
  // For byte-exact and malformed-input tests; they share the stream (and the
  // receive buffer) with the message calls.

  // Writes the bytes as they are (no framing added).
  Status send_bytes(std::string_view bytes);
  // Reads one frame and returns its payload (without the 4 length bytes).
  // A length of 0 or above max_frame_bytes fails (400/413) and closes.
  Result<std::string> read_frame();
  // Reads exactly n bytes of the stream, whatever they are.
  Result<std::string> read_exact(size_t n);

  // --------------------------------------------------------------- state

  // Waits up to `timeout` for the broker to close the connection (all
  // responses still in flight are read and discarded). True when it did
  // (end of stream or reset); false on timeout, or when it sent more bytes
  // than a closing broker would (1 MiB).
  bool wait_for_close(std::chrono::milliseconds timeout);

  // Half-closes: no more requests; responses can still be received.
  Status shutdown_write();
  // Closes the socket (idempotent). Later calls fail with 520.
  void close();

  bool is_open() const { return fd_ >= 0; }
  // True once a read saw the broker end the stream (EOF or reset).
  bool peer_closed() const { return peer_closed_; }
  Failure last_failure() const { return last_failure_; }
  Status set_io_timeout(std::chrono::milliseconds timeout);
  std::chrono::milliseconds io_timeout() const { return options_.io_timeout; }
  uint32_t max_frame_bytes() const { return options_.max_frame_bytes; }
  // Bytes received but not yet returned by receive()/read_frame()/read_exact().
  size_t buffered_bytes() const { return rbuf_.size() - rpos_; }
  // "host:port" as given to connect(), for messages.
  const std::string& peer() const { return peer_; }
  int fd() const { return fd_; }

 private:
  Connection(int fd, std::string peer, const ConnectOptions& options);

  // Makes at least n bytes available in rbuf_ (from rpos_ on).
  Status fill(size_t n);
  // Waits for the socket to be readable/writable within the io timeout.
  Status wait_io(bool for_write);
  // Record the failure kind; fail() also closes the connection.
  Status fail(Failure kind, Status status);
  Status io_error(const std::string& what, int err);
  Status not_open();

  int fd_ = -1;
  std::string peer_;
  ConnectOptions options_;
  std::string rbuf_;
  size_t rpos_ = 0;
  bool peer_closed_ = false;
  Failure last_failure_ = Failure::kNone;
};

}  // namespace rustlog::client
