#include "metrics/http_server.h"

#include <httplib.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "metrics/exposition.h"
#include "metrics/status_page_html.h"

namespace rustlog::metrics {

namespace {

// Runs each accepted connection on the accepting thread itself: the server
// never has more than its one thread (httplib's default is a pool of 8+).
class InlineTaskQueue : public httplib::TaskQueue {
 public:
  void enqueue(std::function<void()> fn) override { fn(); }
  void shutdown() override {}
};

}  // namespace

struct HttpServer::Impl {
  httplib::Server server;
  std::atomic<bool> exited{false};
};

HttpServer::HttpServer(Handlers handlers) : handlers_(std::move(handlers)) {}

HttpServer::~HttpServer() { stop(); }

Status HttpServer::start(const std::string& host, uint16_t port) {
  if (running()) return Status(ErrorCode::kInternal, "the metrics endpoint is already running on " + bound_);
  impl_ = std::make_unique<Impl>();
  httplib::Server& s = impl_->server;
  s.new_task_queue = [] { return new InlineTaskQueue(); };
  // One request per connection: a client holding a keep-alive connection
  // open must not keep the next scraper waiting.
  s.set_keep_alive_max_count(1);
  s.set_read_timeout(2, 0);
  s.set_write_timeout(2, 0);
  s.set_payload_max_length(64 * 1024);
  // httplib's default sets SO_REUSEPORT, which lets a second broker bind the
  // same metrics port and the kernel split scrapes between the two. Only
  // SO_REUSEADDR (rebinding right after a restart) is wanted.
  s.set_socket_options([](int sock) {
    int one = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  });
  s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(handlers_.metrics(), kExpositionContentType);
  });
  s.Get("/api/status", [this](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    res.set_content(handlers_.status(), "application/json");
  });
  s.Get("/health", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain; charset=utf-8");
  });
  s.Get("/", [](const httplib::Request&, httplib::Response& res) {
    // The page must work offline: the policy lets it run its own inline
    // script and style and fetch this server, nothing else.
    res.set_header("Content-Security-Policy",
                   "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                   "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'");
    res.set_header("Cache-Control", "no-store");
    res.set_content(kStatusPageHtml, kStatusPageHtml_size, "text/html; charset=utf-8");
  });

  errno = 0;
  int bound_port = -1;
  if (port == 0) bound_port = s.bind_to_any_port(host);
  else if (s.bind_to_port(host, port)) bound_port = port;
  if (bound_port <= 0) {
    const int err = errno;
    impl_.reset();
    std::string msg = "cannot listen on " + host + ":" + std::to_string(port) + " for the metrics endpoint";
    if (err != 0) msg += std::string(": ") + std::strerror(err);
    if (err == EADDRINUSE) msg += " (another process uses the port; pick another with --metrics-listen)";
    return Status(ErrorCode::kInternal, msg);
  }
  port_ = static_cast<uint16_t>(bound_port);
  bound_ = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port_);

  Impl* impl = impl_.get();
  thread_ = std::thread([impl] {
    // Signals (SIGTERM/SIGINT) belong to the event loop's signalfd.
    sigset_t all;
    sigfillset(&all);
    ::pthread_sigmask(SIG_BLOCK, &all, nullptr);
    // Lowest CPU priority (nice 19, this thread only): when the machine is
    // busy, rendering a scrape yields to the event loop and the sync workers.
    // It holds nothing they wait for, so a slow scrape delays only itself.
    ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 19);
    impl->server.listen_after_bind();
    impl->exited.store(true, std::memory_order_release);
  });
  return Status::ok();
}

void HttpServer::stop() {
  if (!thread_.joinable()) return;
  // httplib's stop() only acts once the listen loop runs; it may not have
  // started yet when stop() follows start() at once.
  while (!impl_->exited.load(std::memory_order_acquire)) {
    if (impl_->server.is_running()) {
      impl_->server.stop();
      break;
    }
    std::this_thread::yield();
  }
  thread_.join();
  impl_.reset();
}

}  // namespace rustlog::metrics
