#include "broker/event_loop.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

namespace rustlog {

namespace {
constexpr uint64_t kListenerId = 0;
constexpr uint64_t kSignalId = ~0ull;
constexpr uint64_t kCleanerWakeId = ~0ull - 1;  // a compaction swap's fsync returned (the tick goes on with it)
constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kMaxReadPerTurn = 1024 * 1024;  // per connection; requests are bounded separately
constexpr int kMaxSendBuffers = 128;              // answers per sendmsg (IOV_MAX is 1024)
// Per connection and turn: a client that reads as fast as the loop can send
// (a consumer of large fetches) would otherwise take the whole turn in one
// connection's sendmsg calls while the others wait.
constexpr size_t kMaxWritePerTurn = 256 * 1024;
// --max-turn-write-bytes bounds a turn's sends over all connections: several
// such readers would otherwise make a turn as long as kMaxWritePerTurn times
// their number, and a request that arrives meanwhile waits for all of it.
// Past it, a connection still sends kSmallWritePerTurn (a short answer is
// never held back by others' bulk), and the rest waits for the next turn.
constexpr size_t kSmallWritePerTurn = 16 * 1024;
constexpr int64_t kAcceptBackoffMs = 100;         // after running out of descriptors
constexpr int64_t kFdLogIntervalMs = 10000;

int64_t mono_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Status sys_error(const std::string& what) {
  return Status(ErrorCode::kInternal, what + ": " + std::strerror(errno));
}
}  // namespace

EventLoop::EventLoop(Broker& broker) : broker_(broker), dispatcher_(broker) {}

EventLoop::~EventLoop() {
  dispatcher_.for_each([](Connection& c) { ::close(c.fd); });
  for (int fd : {listen_fd_, signal_fd_, epfd_, reserve_fd_})
    if (fd >= 0) ::close(fd);
}

Status EventLoop::start() {
  std::string host;
  uint16_t port;
  RUSTLOG_RETURN_IF_ERROR(BrokerConfig::split_host_port("listen", broker_.config().listen, &host, &port));
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string port_s = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), port_s.c_str(), &hints, &res); rc != 0)
    return Status(ErrorCode::kListenFailed, "cannot resolve listen address " + host + ": " + gai_strerror(rc));
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd < 0 || ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      ::bind(fd, res->ai_addr, res->ai_addrlen) != 0 || ::listen(fd, 1024) != 0) {
    int err = errno;
    ::freeaddrinfo(res);
    if (fd >= 0) ::close(fd);
    return Status(ErrorCode::kListenFailed, "cannot listen on " + broker_.config().listen + ": " + std::strerror(err) +
                                            (err == EADDRINUSE ? " (another process uses the port; pick another with --listen)" : ""));
  }
  ::freeaddrinfo(res);
  listen_fd_ = fd;
  sockaddr_storage ss{};
  socklen_t sl = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &sl) != 0) return sys_error("getsockname on the listener");
  char buf[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    ::inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
    port_ = ntohs(a->sin6_port);
    bound_ = std::string("[") + buf + "]:" + std::to_string(port_);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    ::inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
    port_ = ntohs(a->sin_port);
    bound_ = std::string(buf) + ":" + std::to_string(port_);
  }

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  if (::sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) return sys_error("sigprocmask");
  signal_fd_ = ::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd_ < 0) return sys_error("signalfd");
  if (::signal(SIGPIPE, SIG_IGN) == SIG_ERR) return sys_error("ignoring SIGPIPE");

  epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) return sys_error("epoll_create1");
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLET;
  ev.data.u64 = kListenerId;
  if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, listen_fd_, &ev) != 0) return sys_error("epoll_ctl(listener)");
  ev.events = EPOLLIN;
  ev.data.u64 = kSignalId;
  if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, signal_fd_, &ev) != 0) return sys_error("epoll_ctl(signalfd)");
  if (broker_.cleaner_wake_fd() >= 0) {
    ev.events = EPOLLIN;
    ev.data.u64 = kCleanerWakeId;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, broker_.cleaner_wake_fd(), &ev) != 0)
      return sys_error("epoll_ctl(cleaner eventfd)");
  }
  // Kept for the moment no descriptor is left: closing it lets accept() take
  // the waiting client, which is then closed at once instead of hanging.
  reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (reserve_fd_ < 0) return sys_error("opening the reserve descriptor /dev/null");
  last_checkpoint_ms_ = TurnClock::now().steady_ms;
  return Status::ok();
}

void EventLoop::accept_all() {
  auto& m = broker_.metrics();
  const int64_t now = TurnClock::now().steady_ms;
  if (listen_fd_ < 0 || now < accept_paused_until_) return;
  accept_paused_until_ = 0;
  while (true) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EMFILE || errno == ENFILE) {
        const int err = errno;
        m.accept_fd_exhausted.inc();
        // Refuse the waiting client (a close it sees at once) instead of
        // leaving it in the backlog, then stop accepting for a moment: the
        // listener is edge-triggered, so nothing spins meanwhile.
        if (reserve_fd_ >= 0) {
          ::close(reserve_fd_);
          reserve_fd_ = -1;
          if (int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC); c >= 0) ::close(c);
          reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        }
        accept_paused_until_ = now + kAcceptBackoffMs;
        if (now >= fd_log_next_ms_) {
          fd_log_next_ms_ = now + kFdLogIntervalMs;
          spdlog::warn("accept: {} ({} times so far): refusing new clients for now; raise the descriptor limit "
                       "(ulimit -n / LimitNOFILE) or lower --max-connections / --max-open-segment-files",
                       std::strerror(err), m.accept_fd_exhausted.value());
        }
        return;
      }
      spdlog::warn("accept: {}", std::strerror(errno));
      return;
    }
    if (stopping_ || dispatcher_.connections() >= broker_.config().max_connections) {
      ::close(fd);
      m.connections_rejected.inc();
      continue;
    }
    int one = 1;
    if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
      spdlog::debug("setsockopt(TCP_NODELAY): {}", std::strerror(errno));
    const uint64_t id = next_conn_id_++;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.u64 = id;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      spdlog::warn("epoll_ctl(add client): {}; connection refused", std::strerror(errno));
      ::close(fd);
      m.connections_rejected.inc();
      continue;
    }
    Connection& c = dispatcher_.open(id, fd);
    c.writable = true;
    m.connections_accepted.inc();
    m.connections_open.set(static_cast<int64_t>(dispatcher_.connections()));
  }
}

void EventLoop::make_ready(uint64_t id) {
  Connection* c = dispatcher_.find(id);
  if (!c || c->in_ready || c->dead) return;
  c->in_ready = true;
  ready_.push_back(id);
}

bool EventLoop::serve(Connection& c, const TurnClock& clock) {
  static char buf[kReadChunk];
  size_t budget = broker_.config().max_requests_per_turn;
  size_t read = 0;
  c.turn_deadline_ns = mono_ns() + static_cast<int64_t>(broker_.config().max_turn_us) * 1000;
  const uint64_t reserved_before = c.reserved;
  while (true) {
    bool turn_over = false;
    budget -= dispatcher_.serve(c, clock, budget, &turn_over);
    if (c.dead || c.blocked() || dispatcher_.stopping()) return false;
    if (budget == 0 || turn_over) return true;  // its next requests wait for the next turn
    if (c.reserved > reserved_before + Dispatcher::kTurnAnswerBytes) return true;
    if (!c.readable || c.input_closed) return false;
    if (read >= kMaxReadPerTurn || (c.awaiting == 0 && mono_ns() >= c.turn_deadline_ns)) return true;
    if (!dispatcher_.may_read(c)) return false;  // woken when buffered input drops
    const ssize_t n = ::read(c.fd, buf, sizeof buf);
    if (n > 0) {
      dispatcher_.feed(c, std::string_view(buf, static_cast<size_t>(n)), clock);
      read += static_cast<size_t>(n);
      continue;
    }
    if (n == 0) {  // the peer closed its side: answer what it sent, then close
      c.readable = false;
      dispatcher_.input_closed(c);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      c.readable = false;  // until the next edge
      return false;
    }
    // Reset: nothing more arrives and nothing can be sent; what arrived
    // before is still applied.
    c.readable = false;
    dispatcher_.output_failed(c);
    dispatcher_.input_closed(c);
  }
}

void EventLoop::flush_output(Connection& c) {
  if (c.dead) return;
  dispatcher_.collect(c);
  if (c.write_turn != turn_) {
    c.write_turn = turn_;
    c.written_in_turn = 0;
  }
  while (c.pending_out() > 0 && c.writable && !c.output_closed) {
    const uint64_t turn_max = broker_.config().max_turn_write_bytes;
    const size_t turn_left = turn_written_ < turn_max ? static_cast<size_t>(turn_max - turn_written_) : 0;
    const size_t small_left = c.written_in_turn < kSmallWritePerTurn ? kSmallWritePerTurn - c.written_in_turn : 0;
    const size_t share = std::min(kMaxWritePerTurn - std::min(c.written_in_turn, kMaxWritePerTurn),
                                  std::max(turn_left, small_left));
    if (share == 0) {  // the rest next turn
      if (c.written_in_turn < kMaxWritePerTurn) broker_.metrics().turn_write_budget_hits.inc();
      if (!c.in_write_again) {
        c.in_write_again = true;
        write_again_.push_back(c.id);
      }
      break;
    }
    // Several answers in one call, each from its own buffer.
    struct iovec iov[kMaxSendBuffers];
    struct msghdr msg {};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(c.out.fill(iov, kMaxSendBuffers, share));
    const ssize_t n = ::sendmsg(c.fd, &msg, MSG_NOSIGNAL);
    if (n > 0) {
      c.written_in_turn += static_cast<size_t>(n);
      turn_written_ += static_cast<size_t>(n);
      dispatcher_.sent(c, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      c.writable = false;  // until EPOLLOUT
      break;
    }
    dispatcher_.output_failed(c);  // its requests still apply; their answers go nowhere
    return;
  }
  if (!c.writable && c.pending_out() > 0) dispatcher_.output_refused(c);
}

void EventLoop::close_finished() {
  for (uint64_t id : dispatcher_.take_closed()) {
    Connection* c = dispatcher_.find(id);
    if (!c) continue;
    if (::epoll_ctl(epfd_, EPOLL_CTL_DEL, c->fd, nullptr) != 0)
      spdlog::debug("epoll_ctl(del client): {}", std::strerror(errno));
    // close() with unread input sends RST instead of FIN, and the peer's
    // kernel then drops our last answer (e.g. the 413 for a frame it is
    // still sending): read what has arrived first (bounded).
    char sink[16 * 1024];
    for (size_t drained = 0; drained < kMaxReadPerTurn;) {
      const ssize_t n = ::recv(c->fd, sink, sizeof sink, MSG_DONTWAIT);
      if (n <= 0) break;
      drained += static_cast<size_t>(n);
    }
    ::close(c->fd);
    dispatcher_.drop(id);
  }
  broker_.metrics().connections_open.set(static_cast<int64_t>(dispatcher_.connections()));
}

void EventLoop::handle_events(int timeout) {
  constexpr int kMaxEvents = 256;
  epoll_event events[kMaxEvents];
  const int n = ::epoll_wait(epfd_, events, kMaxEvents, timeout);
  if (n < 0) {
    if (errno != EINTR) {
      spdlog::error("epoll_wait: {}; stopping", std::strerror(errno));
      stopping_ = true;
    }
    return;
  }
  for (int i = 0; i < n; ++i) {
    const uint64_t id = events[i].data.u64;
    if (id == kListenerId) {
      accept_all();
    } else if (id == kCleanerWakeId) {
      // Nothing here: this turn's tick takes the result (and drains the eventfd).
    } else if (id == kSignalId) {
      signalfd_siginfo si;
      while (::read(signal_fd_, &si, sizeof si) == sizeof si) {
        spdlog::info("signal {} received: shutting down", si.ssi_signo);
        stopping_ = true;
      }
    } else {
      Connection* c = dispatcher_.find(id);
      if (!c || c->dead) continue;
      const uint32_t ev = events[i].events;
      if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        c->readable = true;
        make_ready(id);
      }
      if (ev & EPOLLOUT) {
        c->writable = true;
        flush_output(*c);
      }
      // Both directions gone (reset): nothing can be delivered any more, but
      // what arrived before is still read and applied.
      if (ev & (EPOLLHUP | EPOLLERR)) dispatcher_.output_failed(*c);
    }
  }
}

void EventLoop::finish_turn(const TurnClock& clock) {
  // Those that wrote their share in an earlier turn go on (a connection
  // capped in this turn is listed again by its flush).
  std::vector<uint64_t> again;
  again.swap(write_again_);
  // The first of them gets the most of --max-turn-write-bytes: they take turns at it
  // (those capped again are listed again in this order).
  if (again.size() > 1) std::rotate(again.begin(), again.begin() + 1, again.end());
  for (uint64_t id : again)
    if (Connection* c = dispatcher_.find(id)) {
      c->in_write_again = false;
      if (c->write_turn == turn_) {  // capped in this very turn
        c->in_write_again = true;
        write_again_.push_back(id);
      } else {
        flush_output(*c);
      }
    }
  dispatcher_.end_turn(clock);
  for (uint64_t id : dispatcher_.take_runnable()) make_ready(id);
  for (uint64_t id : dispatcher_.take_touched())
    if (Connection* c = dispatcher_.find(id)) flush_output(*c);
  close_finished();
}

int EventLoop::timeout_ms(const TurnClock& clock) const {
  if (!ready_.empty() || !again_.empty() || !write_again_.empty()) return 0;
  int64_t t = std::min<int64_t>(1000, broker_.metrics_publish_due_in(clock.steady_ms));
  t = std::min(t, broker_.cleaner_due_in_ms(clock.wall_us));  // 0 while a clean is under way
  t = dispatcher_.due_in_ms(clock, t);
  if (accept_paused_until_ > 0) t = std::min(t, accept_paused_until_ - clock.steady_ms);
  return static_cast<int>(std::max<int64_t>(t, 0));
}

int EventLoop::run() {
  while (!stopping_) {
    ++turn_;
    turn_written_ = 0;
    handle_events(timeout_ms(TurnClock::now()));
    const TurnClock clock = TurnClock::now();  // the turn's one clock
    if (accept_paused_until_ > 0 && clock.steady_ms >= accept_paused_until_) accept_all();
    for (uint64_t id : dispatcher_.take_runnable()) make_ready(id);
    // Connections that used their whole last turn go behind those that
    // woke up since (a client waiting for one answer is served first).
    for (uint64_t id : again_) make_ready(id);
    again_.clear();
    const bool served = !ready_.empty();
    // Each connection with work gets one bounded turn; those with more go
    // to the back, so the first to be served rotates.
    while (!ready_.empty()) {
      const uint64_t id = ready_.front();
      ready_.pop_front();
      Connection* c = dispatcher_.find(id);
      if (!c) continue;
      c->in_ready = false;
      if (serve(*c, clock)) again_.push_back(id);
    }
    finish_turn(clock);
    broker_.tick(clock.wall_us, served);  // time-based rolls, retention, offset expiry, a cleaner step
    broker_.maybe_publish_metrics(clock.steady_ms);
    if (clock.steady_ms - last_checkpoint_ms_ >= static_cast<int64_t>(broker_.config().checkpoint_interval_ms)) {
      Status st = broker_.registry().checkpoint();
      if (!st) spdlog::warn("checkpoint failed: {}", st.message());
      last_checkpoint_ms_ = clock.steady_ms;
    }
  }
  // Stop: accept and read nothing more; make everything appended durable and
  // answer what waits (within the budgets); deliver with non-blocking writes
  // until the deadline; then flush, checkpoint and exit whatever clients do.
  if (::epoll_ctl(epfd_, EPOLL_CTL_DEL, listen_fd_, nullptr) != 0)
    spdlog::debug("epoll_ctl(del listener): {}", std::strerror(errno));
  ::close(listen_fd_);
  listen_fd_ = -1;
  dispatcher_.stop();
  TurnClock clock = TurnClock::now();
  const int64_t deadline = clock.steady_ms + static_cast<int64_t>(broker_.config().shutdown_timeout_ms);
  finish_turn(clock);
  while (dispatcher_.output_bytes() > 0 && clock.steady_ms < deadline) {
    ++turn_;
    turn_written_ = 0;
    const int64_t wait = write_again_.empty() ? dispatcher_.due_in_ms(clock, deadline - clock.steady_ms) : 0;
    handle_events(static_cast<int>(std::clamp<int64_t>(wait, 0, deadline - clock.steady_ms)));
    clock = TurnClock::now();
    finish_turn(clock);
  }
  if (dispatcher_.output_bytes() > 0)
    spdlog::warn("shutdown: {} answer bytes not delivered within --shutdown-timeout-ms {} (clients not reading)",
                 dispatcher_.output_bytes(), broker_.config().shutdown_timeout_ms);
  Status st = broker_.shutdown();
  if (!st) {
    spdlog::error("shutdown: {}", st.message());
    return 1;
  }
  spdlog::info("shut down cleanly");
  return 0;
}

}  // namespace rustlog
