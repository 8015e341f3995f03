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

#include "protocol/codec.h"

namespace rustlog {

namespace {
constexpr uint64_t kListenerId = 0;
constexpr uint64_t kSignalId = ~0ull;
constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kMaxReadPerTurn = 4 * 1024 * 1024;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
int64_t mono_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
int64_t wall_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

EventLoop::EventLoop(Broker& broker)
    : broker_(broker), flusher_(broker.config().sync_workers, &broker.metrics()) {}

EventLoop::~EventLoop() {
  for (auto& [id, c] : conns_) ::close(c->fd);
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (signal_fd_ >= 0) ::close(signal_fd_);
  if (epfd_ >= 0) ::close(epfd_);
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
    return Status(ErrorCode::kInvalidRequest, "cannot resolve listen address " + host + ": " + gai_strerror(rc));
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd >= 0) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || ::bind(fd, res->ai_addr, res->ai_addrlen) != 0 || ::listen(fd, 1024) != 0) {
    int err = errno;
    ::freeaddrinfo(res);
    if (fd >= 0) ::close(fd);
    return Status(ErrorCode::kInternal, "cannot listen on " + broker_.config().listen + ": " + std::strerror(err) +
                                            (err == EADDRINUSE ? " (another process uses the port; pick another with --listen)" : ""));
  }
  ::freeaddrinfo(res);
  listen_fd_ = fd;
  sockaddr_storage ss{};
  socklen_t sl = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &sl);
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
  ::sigprocmask(SIG_BLOCK, &mask, nullptr);
  signal_fd_ = ::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  ::signal(SIGPIPE, SIG_IGN);

  epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListenerId;
  ::epoll_ctl(epfd_, EPOLL_CTL_ADD, listen_fd_, &ev);
  ev.data.u64 = kSignalId;
  ::epoll_ctl(epfd_, EPOLL_CTL_ADD, signal_fd_, &ev);
  last_checkpoint_ms_ = now_ms();
  return Status::ok();
}

void EventLoop::accept_all() {
  while (true) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE) spdlog::warn("accept: out of file descriptors");
      return;  // EAGAIN or a resource error: try again next turn
    }
    auto& m = broker_.metrics();
    if (conns_.size() >= broker_.config().max_connections) {
      ::close(fd);
      m.connections_rejected.inc();
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const uint64_t id = next_conn_id_++;
    auto c = std::make_unique<Connection>(id, fd, broker_.config().max_frame_bytes);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = id;
    ::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
    conns_[id] = std::move(c);
    m.connections_accepted.inc();
    m.connections_open.set(static_cast<int64_t>(conns_.size()));
  }
}

void EventLoop::on_readable(Connection& c) {
  char buf[kReadChunk];
  size_t total = 0;
  while (total < kMaxReadPerTurn) {
    ssize_t n = ::read(c.fd, buf, sizeof buf);
    if (n > 0) {
      c.decoder.feed(std::string_view(buf, static_cast<size_t>(n)));
      total += static_cast<size_t>(n);
      handle_frames(c);
      if (c.closing || !c.reading) break;
      continue;
    }
    if (n == 0) {  // peer closed its side: answer what it sent, then close
      c.closing = true;
      if (c.slots.empty() && c.pending_out() == 0) c.dead = true;
      else update_interest(c);  // stop polling for input, or EPOLLRDHUP fires every turn
      break;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) c.dead = true;
    break;
  }
}

void EventLoop::handle_frames(Connection& c) {
  const int64_t now = wall_us();
  int64_t t = mono_ns();  // start of the next frame's handling
  while (!c.closing) {
    auto f = c.decoder.next();
    if (!f) {
      // Framing violation: the stream cannot be trusted. Answer, then close.
      ResponseSlot& s = c.add_slot();
      s.frame = protocol::encode_error(f.status());
      s.ready = true;
      c.closing = true;
      update_interest(c);
      broker_.metrics().connections_protocol_errors.inc();
      break;
    }
    if (!f->has_value()) break;
    const uint8_t type = (*f)->empty() ? 0 : static_cast<uint8_t>((**f)[0]);
    const int64_t start = t;
    Reply r = broker_.handle(**f, now);
    for (const PartitionLog* gone : r.destroyed_logs) {
      // DeleteTopic freed this log: stop flushing it, and release the
      // acknowledgements that waited for it (the delete is durable first).
      dirty_.erase(std::remove(dirty_.begin(), dirty_.end(), gone), dirty_.end());
      for (auto it = pending_.begin(); it != pending_.end();) {
        if (it->log != gone) {
          ++it;
          continue;
        }
        if (auto ci = conns_.find(it->conn); ci != conns_.end())
          if (ResponseSlot* ps = ci->second->slot(it->seq)) ps->ready = true;
        touched_.push_back(it->conn);
        it = pending_.erase(it);
      }
    }
    ResponseSlot& s = c.add_slot();
    if (r.park) {
      const int64_t deadline = now_ms() + static_cast<int64_t>(r.park->max_wait_ms);
      parked_.push_back({c.id, s.seq, std::move(*r.park), deadline, start});
      t = mono_ns();
    } else if (r.fetch_more) {
      fetching_.push_back({c.id, s.seq, std::move(r.fetch_more), type, start});
      t = mono_ns();
    } else {
      s.frame = std::move(r.frame);
      if (r.wait_flush) pending_.push_back({c.id, s.seq, r.wait_flush, type, start});
      else s.ready = true;
      t = mono_ns();
      if (!r.wait_flush) broker_.metrics().on_response(type, static_cast<uint64_t>(t - start));
    }
  }
  touched_.push_back(c.id);
  // Backpressure: a client that does not read its responses is not read.
  size_t queued = c.pending_out();
  for (const auto& s : c.slots) queued += s.frame.size();
  if (queued > broker_.config().max_connection_output_bytes && c.reading) {
    c.reading = false;
    update_interest(c);
  }
}

void EventLoop::group_commit(int64_t now) {
  // One flush per log that needs it, however many requests appended to it.
  for (PartitionLog* log : broker_.take_appended())
    if (std::find(dirty_.begin(), dirty_.end(), log) == dirty_.end()) dirty_.push_back(log);
  auto& m = broker_.metrics();
  std::vector<PartitionLog*> due;
  for (PartitionLog* log : dirty_)
    if (log->flush_due(now) || (stopping_ && log->has_unflushed())) due.push_back(log);
  flusher_.flush_all(due);  // concurrently: one journal commit covers them all
  uint64_t flushed_bytes = 0;
  for (PartitionLog* log : due)
    if (!log->read_only()) flushed_bytes += broker_.take_flushed_bytes(log);
  for (auto it = dirty_.begin(); it != dirty_.end();) {
    PartitionLog* log = *it;
    if (!log->has_unflushed() || log->read_only() ||
        log->config().flush.kind == FlushPolicy::Kind::kNever)
      it = dirty_.erase(it);
    else
      ++it;
  }
  // Release the responses whose data is now durable (or fail them).
  const int64_t done_ns = pending_.empty() ? 0 : mono_ns();
  uint64_t released = 0;
  for (auto it = pending_.begin(); it != pending_.end();) {
    PartitionLog* log = it->log;
    const bool failed = log->read_only();
    if (!failed && log->has_unflushed()) {
      ++it;
      continue;
    }
    auto c = conns_.find(it->conn);
    if (c != conns_.end()) {
      if (ResponseSlot* s = c->second->slot(it->seq)) {
        if (failed) {
          s->frame = protocol::encode_error(log->fatal_error());
          m.on_error(it->type, log->fatal_error().code());
        }
        s->ready = true;
        m.on_response(it->type, static_cast<uint64_t>(done_ns - it->start_ns));
        ++released;
        touched_.push_back(it->conn);
      }
    }
    it = pending_.erase(it);
  }
  if (!due.empty()) {
    m.group_commit_partitions.record(due.size());
    m.group_commit_requests.record(released);
    m.group_commit_bytes.record(flushed_bytes);
  }
}

void EventLoop::answer_late(Connection& c, uint64_t seq, std::string frame, uint8_t type,
                            int64_t start_ns) {
  ResponseSlot* s = c.slot(seq);
  if (!s) return;
  s->frame = std::move(frame);
  s->ready = true;
  touched_.push_back(c.id);
  broker_.metrics().on_response(type, static_cast<uint64_t>(mono_ns() - start_ns));
}

void EventLoop::advance_fetches() {
  // One slice of each unfinished legacy fetch per turn: the requests that
  // arrived meanwhile on other connections are handled between two slices.
  for (auto it = fetching_.begin(); it != fetching_.end();) {
    auto c = conns_.find(it->conn);
    if (c == conns_.end() || c->second->dead) {
      it = fetching_.erase(it);
      continue;
    }
    auto frame = broker_.continue_fetch(*it->state);
    if (!frame) {
      ++it;
      continue;
    }
    answer_late(*c->second, it->seq, std::move(*frame), it->type, it->start_ns);
    it = fetching_.erase(it);
  }
}

void EventLoop::check_parked(int64_t now, bool force) {
  for (auto it = parked_.begin(); it != parked_.end();) {
    auto c = conns_.find(it->conn);
    if (c == conns_.end()) {
      it = parked_.erase(it);
      continue;
    }
    const bool final = force || now >= it->deadline_ms;
    auto frame = broker_.retry_fetch(it->req, final);
    if (!frame) {
      ++it;
      continue;
    }
    answer_late(*c->second, it->seq, std::move(*frame),
                static_cast<uint8_t>(protocol::MessageType::kFetchEx), it->start_ns);
    it = parked_.erase(it);
  }
}

void EventLoop::flush_output(Connection& c) {
  while (!c.slots.empty() && c.slots.front().ready) {
    if (c.out_pos > 0 && c.out_pos == c.out.size()) {
      c.out.clear();
      c.out_pos = 0;
    }
    std::string& frame = c.slots.front().frame;
    if (c.out.empty()) c.out.swap(frame);  // a large answer (a 1 MiB fetch) is not copied again
    else c.out += frame;
    c.slots.pop_front();
  }
  while (c.pending_out() > 0) {
    ssize_t n = ::send(c.fd, c.out.data() + c.out_pos, c.pending_out(), MSG_NOSIGNAL);
    if (n > 0) {
      c.out_pos += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    c.dead = true;
    return;
  }
  if (c.pending_out() == 0) {
    c.out.clear();
    c.out_pos = 0;
  } else if (c.out_pos > (1u << 20)) {
    c.out.erase(0, c.out_pos);
    c.out_pos = 0;
  }
  const bool want_write = c.pending_out() > 0;
  bool resume = false;
  if (!c.reading && !c.closing) {
    size_t queued = c.pending_out();
    for (const auto& s : c.slots) queued += s.frame.size();
    resume = queued <= broker_.config().max_connection_output_bytes / 2;
  }
  if (want_write != c.want_write || resume) {
    c.want_write = want_write;
    if (resume) c.reading = true;
    update_interest(c);
  }
  if (c.closing && c.slots.empty() && c.pending_out() == 0) c.dead = true;
}

void EventLoop::update_interest(Connection& c) {
  epoll_event ev{};
  ev.events = (c.reading && !c.closing ? EPOLLIN | EPOLLRDHUP : 0u) | (c.want_write ? EPOLLOUT : 0u);
  ev.data.u64 = c.id;
  ::epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev);
}

void EventLoop::close_connection(Connection& c) {
  ::epoll_ctl(epfd_, EPOLL_CTL_DEL, c.fd, nullptr);
  // close() with unread input sends RST instead of FIN, and the peer's kernel
  // then drops our last answer (e.g. the 413 for a frame it is still
  // sending): read what has arrived first (bounded).
  char sink[16 * 1024];
  for (size_t drained = 0; drained < kMaxReadPerTurn;) {
    const ssize_t n = ::recv(c.fd, sink, sizeof sink, MSG_DONTWAIT);
    if (n <= 0) break;
    drained += static_cast<size_t>(n);
  }
  ::close(c.fd);
}

void EventLoop::sweep_closed() {
  for (auto it = conns_.begin(); it != conns_.end();) {
    if (it->second->dead) {
      close_connection(*it->second);
      it = conns_.erase(it);
    } else {
      ++it;
    }
  }
  broker_.metrics().connections_open.set(static_cast<int64_t>(conns_.size()));
}

int EventLoop::timeout_ms(int64_t now) const {
  if (!fetching_.empty()) return 0;  // a fetch has slices left: only look for new input
  int64_t t = std::min<int64_t>(1000, broker_.metrics_publish_due_in(now));
  for (const auto& p : parked_) t = std::min(t, p.deadline_ms - now);
  for (const PartitionLog* l : dirty_)
    if (l->config().flush.kind == FlushPolicy::Kind::kInterval) t = std::min<int64_t>(t, l->config().flush.interval_ms);
  return static_cast<int>(std::max<int64_t>(t, 0));
}

int EventLoop::run() {
  constexpr int kMaxEvents = 256;
  epoll_event events[kMaxEvents];
  while (!stopping_) {
    int n = ::epoll_wait(epfd_, events, kMaxEvents, timeout_ms(now_ms()));
    if (n < 0 && errno != EINTR) {
      spdlog::error("epoll_wait: {}", std::strerror(errno));
      break;
    }
    for (int i = 0; i < n; ++i) {
      const uint64_t id = events[i].data.u64;
      if (id == kListenerId) {
        accept_all();
      } else if (id == kSignalId) {
        signalfd_siginfo si;
        while (::read(signal_fd_, &si, sizeof si) == sizeof si) {
          spdlog::info("signal {} received: shutting down", si.ssi_signo);
          stopping_ = true;
        }
      } else {
        auto it = conns_.find(id);
        if (it == conns_.end()) continue;
        Connection& c = *it->second;
        const uint32_t ev = events[i].events;
        if ((ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) && c.reading && !c.closing) on_readable(c);
        // Both directions gone (reset, or closed after shutdown): nothing can
        // be delivered any more, and HUP would be reported every turn.
        if (ev & (EPOLLHUP | EPOLLERR)) c.dead = true;
        if (events[i].events & EPOLLOUT) touched_.push_back(id);
      }
    }
    const int64_t now = now_ms();
    group_commit(wall_us() / 1000);  // flush policy timing uses the append clock
    check_parked(now, false);
    advance_fetches();
    std::sort(touched_.begin(), touched_.end());
    touched_.erase(std::unique(touched_.begin(), touched_.end()), touched_.end());
    for (uint64_t id : touched_) {
      auto it = conns_.find(id);
      if (it != conns_.end() && !it->second->dead) flush_output(*it->second);
    }
    touched_.clear();
    sweep_closed();
    broker_.maybe_publish_metrics(now);
    if (now - last_checkpoint_ms_ >= static_cast<int64_t>(broker_.config().checkpoint_interval_ms)) {
      Status st = broker_.registry().checkpoint();
      if (!st) spdlog::warn("checkpoint failed: {}", st.message());
      last_checkpoint_ms_ = now;
    }
  }
  // Shutdown: stop accepting, finish what is in flight, make it durable.
  ::close(listen_fd_);
  listen_fd_ = -1;
  group_commit(wall_us() / 1000);
  check_parked(now_ms(), true);
  while (!fetching_.empty()) advance_fetches();
  for (auto& [id, c] : conns_) {
    int flags = ::fcntl(c->fd, F_GETFL);
    ::fcntl(c->fd, F_SETFL, flags & ~O_NONBLOCK);  // best effort: deliver final responses
    timeval tv{1, 0};
    ::setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    flush_output(*c);
  }
  Status st = broker_.shutdown();
  if (!st) {
    spdlog::error("shutdown: {}", st.message());
    return 1;
  }
  spdlog::info("shut down cleanly");
  return 0;
}

}  // namespace rustlog
