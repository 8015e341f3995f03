#include "client/connection.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "common/byte_order.h"

namespace rustlog::client {

namespace {

constexpr size_t kReadChunk = 64 * 1024;

using Clock = std::chrono::steady_clock;

// poll() on one fd for `events`; -1 ms = forever. Returns >0 ready, 0 timeout,
// <0 error (errno set). Retries on EINTR with the remaining time.
int poll_one(int fd, short events, std::chrono::milliseconds timeout) {
  const bool forever = timeout.count() <= 0;
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int wait_ms = -1;
    if (!forever) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      wait_ms = static_cast<int>(std::max<int64_t>(left.count(), 0));
    }
    pollfd p{fd, events, 0};
    const int rc = ::poll(&p, 1, wait_ms);
    if (rc < 0 && errno == EINTR) continue;
    return rc;
  }
}

Status io_status(const std::string& message) {
  return Status(ErrorCode::kTransport, message);
}

}  // namespace

// ------------------------------------------------------------------- connect

Result<Connection> Connection::connect(const std::string& host, uint16_t port,
                                       const ConnectOptions& options) {
  const std::string peer = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                           std::to_string(port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string port_s = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), port_s.c_str(), &hints, &res); rc != 0)
    return Status(ErrorCode::kInvalidRequest, "cannot resolve " + peer + ": " + gai_strerror(rc));

  std::string last_error = "no address";
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last_error = std::string("socket: ") + std::strerror(errno);
      continue;
    }
    int err = 0;
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      err = errno;
      if (err == EINPROGRESS) {
        const int rc = poll_one(fd, POLLOUT, options.connect_timeout.count() > 0
                                                 ? options.connect_timeout
                                                 : std::chrono::milliseconds(5000));
        if (rc == 0) {
          err = ETIMEDOUT;
        } else if (rc < 0) {
          err = errno;
        } else {
          socklen_t len = sizeof err;
          if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
        }
      }
    }
    if (err != 0) {
      last_error = err == ETIMEDOUT ? "timed out after " + std::to_string(options.connect_timeout.count()) + " ms"
                                    : std::strerror(err);
      ::close(fd);
      continue;
    }
    if (options.tcp_nodelay) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    ::freeaddrinfo(res);
    return Connection(fd, peer, options);
  }
  ::freeaddrinfo(res);
  return io_status("cannot connect to " + peer + ": " + last_error);
}

Connection::Connection(int fd, std::string peer, const ConnectOptions& options)
    : fd_(fd), peer_(std::move(peer)), options_(options) {}

Connection::Connection(Connection&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      peer_(std::move(other.peer_)),
      options_(other.options_),
      rbuf_(std::move(other.rbuf_)),
      rpos_(std::exchange(other.rpos_, 0)),
      peer_closed_(other.peer_closed_),
      last_failure_(other.last_failure_) {}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    peer_ = std::move(other.peer_);
    options_ = other.options_;
    rbuf_ = std::move(other.rbuf_);
    rpos_ = std::exchange(other.rpos_, 0);
    peer_closed_ = other.peer_closed_;
    last_failure_ = other.last_failure_;
  }
  return *this;
}

Connection::~Connection() { close(); }

void Connection::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Status Connection::shutdown_write() {
  if (fd_ < 0) return not_open();
  if (::shutdown(fd_, SHUT_WR) != 0) return io_error("shutdown", errno);
  return Status::ok();
}

Status Connection::set_io_timeout(std::chrono::milliseconds timeout) {
  if (timeout.count() < 0) return Status(ErrorCode::kInvalidRequest, "io timeout must not be negative");
  options_.io_timeout = timeout;
  return Status::ok();
}

// -------------------------------------------------------------------- errors

Status Connection::fail(Failure kind, Status status) {
  last_failure_ = kind;
  close();
  return status;
}

Status Connection::io_error(const std::string& what, int err) {
  // ENOTCONN: the broker's reset arrived first (e.g. before shutdown()).
  if (err == ECONNRESET || err == EPIPE || err == ENOTCONN || err == ECONNABORTED) peer_closed_ = true;
  return fail(peer_closed_ ? Failure::kClosed : Failure::kIo,
              io_status("connection to " + peer_ + ": " + what + ": " + std::strerror(err)));
}

Status Connection::not_open() {
  last_failure_ = Failure::kClosed;
  return io_status("connection to " + peer_ + " is closed" +
                   (peer_closed_ ? " (the broker closed it)" : ""));
}

Status Connection::wait_io(bool for_write) {
  const int rc = poll_one(fd_, for_write ? POLLOUT : POLLIN, options_.io_timeout);
  if (rc > 0) return Status::ok();
  if (rc < 0) return io_error("poll", errno);
  const std::string what = for_write ? "send" : "receive";
  Status st = io_status("connection to " + peer_ + ": " + what + " timed out after " +
                        std::to_string(options_.io_timeout.count()) + " ms");
  if (for_write) return fail(Failure::kTimeout, st);  // part of a frame may be out: unusable
  last_failure_ = Failure::kTimeout;                  // what was read stays buffered
  return st;
}

// ---------------------------------------------------------------------- send

Status Connection::send_bytes(std::string_view bytes) {
  if (fd_ < 0) return not_open();
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      RUSTLOG_RETURN_IF_ERROR(wait_io(true));
      continue;
    }
    return io_error("send", n < 0 ? errno : EPIPE);
  }
  last_failure_ = Failure::kNone;
  return Status::ok();
}

Status Connection::send(const protocol::Request& request) {
  if (fd_ < 0) return not_open();
  std::string frame;
  Status st = protocol::encode_request(request, frame, options_.max_frame_bytes);
  if (!st) {
    last_failure_ = Failure::kProtocol;  // nothing was sent: still usable
    return st;
  }
  return send_bytes(frame);
}

// ------------------------------------------------------------------- receive

Status Connection::fill(size_t n) {
  if (fd_ < 0) return not_open();
  if (rpos_ > 0 && (rpos_ == rbuf_.size() || rpos_ >= kReadChunk)) {
    rbuf_.erase(0, rpos_);
    rpos_ = 0;
  }
  char chunk[kReadChunk];
  while (rbuf_.size() - rpos_ < n) {
    const ssize_t got = ::recv(fd_, chunk, sizeof chunk, 0);
    if (got > 0) {
      rbuf_.append(chunk, static_cast<size_t>(got));
      continue;
    }
    if (got == 0) {
      peer_closed_ = true;
      const size_t have = rbuf_.size() - rpos_;
      return fail(Failure::kClosed,
                  io_status("connection to " + peer_ + " closed by the broker" +
                            (have > 0 ? " in the middle of a frame (" + std::to_string(have) + " of " +
                                            std::to_string(n) + " bytes received)"
                                      : "")));
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      RUSTLOG_RETURN_IF_ERROR(wait_io(false));
      continue;
    }
    return io_error("receive", errno);
  }
  return Status::ok();
}

Result<std::string> Connection::read_exact(size_t n) {
  RUSTLOG_RETURN_IF_ERROR(fill(n));
  std::string out = rbuf_.substr(rpos_, n);
  rpos_ += n;
  last_failure_ = Failure::kNone;
  return out;
}

Result<std::string> Connection::read_frame() {
  RUSTLOG_RETURN_IF_ERROR(fill(protocol::kFrameHeaderBytes));
  const uint32_t length = get_u32(reinterpret_cast<const uint8_t*>(rbuf_.data() + rpos_));
  Status st = protocol::check_frame_length(length, options_.max_frame_bytes);
  if (!st) return fail(Failure::kProtocol, Status(st.code(), "response from " + peer_ + ": " + st.message()));
  RUSTLOG_RETURN_IF_ERROR(fill(protocol::kFrameHeaderBytes + length));
  std::string payload = rbuf_.substr(rpos_ + protocol::kFrameHeaderBytes, length);
  rpos_ += protocol::kFrameHeaderBytes + length;
  last_failure_ = Failure::kNone;
  return payload;
}

Result<protocol::Response> Connection::receive() {
  auto payload = read_frame();
  if (!payload) return payload.status();
  auto resp = protocol::decode_response(*payload);
  if (!resp) {
    // The frame boundary is intact, but a broker that sends what we cannot
    // decode is not one this client understands: stop here.
    return fail(Failure::kProtocol, Status(resp.status().code(),
                                           "undecodable response from " + peer_ + ": " + resp.status().message()));
  }
  return resp;
}

Result<protocol::Response> Connection::call(const protocol::Request& request) {
  RUSTLOG_RETURN_IF_ERROR(send(request));
  return receive();
}

bool Connection::wait_for_close(std::chrono::milliseconds timeout) {
  if (fd_ < 0) return peer_closed_;
  rbuf_.clear();
  rpos_ = 0;
  const auto deadline = Clock::now() + timeout;
  size_t discarded = 0;
  char chunk[kReadChunk];
  for (;;) {
    const ssize_t got = ::recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
    if (got == 0 || (got < 0 && (errno == ECONNRESET || errno == EPIPE))) {
      peer_closed_ = true;
      (void)fail(Failure::kClosed, Status::ok());
      return true;
    }
    if (got > 0) {
      discarded += static_cast<size_t>(got);
      if (discarded > (1u << 20)) return false;
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    if (poll_one(fd_, POLLIN, left) < 0) return false;
  }
}

}  // namespace rustlog::client
