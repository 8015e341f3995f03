#pragma once
// The HTTP metrics endpoint, built on cpp-httplib:
//   GET /metrics      Prometheus text
//   GET /api/status   the status document (JSON, metrics/status_json.h)
//   GET /             the live status page (metrics/status_page.html, compiled
//                     in; it polls /api/status and loads nothing else)
//   GET /health       200 "ok" while the process serves
//
// It runs on exactly one thread of its own, the only thread besides the
// event loop and the sync workers (docs/ARCHITECTURE.md). That thread accepts
// and answers one connection at a time (httplib's task queue is replaced by
// one that runs each connection inline, and keep-alive is off), so a scrape
// never adds threads. It reads nothing but what the handlers read, i.e.
// relaxed atomics and the published snapshot: it never waits for, and is never
// waited for by, the event loop.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "common/status.h"

namespace rustlog::metrics {

class HttpServer {
 public:
  using Render = std::function<std::string()>;
  struct Handlers {
    Render metrics;  // the body of GET /metrics
    Render status;   // the body of GET /api/status
  };
  explicit HttpServer(Handlers handlers);
  ~HttpServer();  // stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds HOST:PORT on the calling thread (port 0 picks a free port), then
  // starts the serving thread. Fails (nothing started) when the address
  // cannot be bound.
  Status start(const std::string& host, uint16_t port);
  // Stops serving and joins the thread (idempotent).
  void stop();

  bool running() const { return thread_.joinable(); }
  uint16_t port() const { return port_; }
  // "127.0.0.1:9464" / "[::1]:9464".
  const std::string& bound_address() const { return bound_; }

 private:
  struct Impl;
  Handlers handlers_;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  uint16_t port_ = 0;
  std::string bound_;
};

}  // namespace rustlog::metrics
