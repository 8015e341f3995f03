#pragma once
// Helpers for the metrics end-to-end tests: HTTP GETs against the broker's
// metrics endpoint, running promtool, and a real Prometheus server on
// 127.0.0.1 with a temporary config and data directory.
//
//   PrometheusProcess prom;
//   ASSERT_TRUE(prom.start("127.0.0.1:" + std::to_string(metrics_port)));
//   auto v = prom.query_value("rustlog_consumer_lag{group=\"g\"}");
//
// The prometheus and promtool binaries come from the Debian package
// `prometheus` (scripts/setup.sh installs it). When one is missing the test
// fails saying so: it is not skipped.
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/broker_process.h"

namespace rustlog::test {

struct HttpResult {
  int status = -1;  // -1: no HTTP response (see error)
  std::string body;
  std::string content_type;
  std::string error;
};

inline HttpResult http_get(uint16_t port, const std::string& path, const httplib::Params& params = {},
                           std::chrono::seconds timeout = std::chrono::seconds(10)) {
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(timeout);
  c.set_read_timeout(timeout);
  c.set_write_timeout(timeout);
  auto r = params.empty() ? c.Get(path) : c.Get(path, params, httplib::Headers{});
  HttpResult out;
  if (!r) {
    out.error = httplib::to_string(r.error());
    return out;
  }
  out.status = r->status;
  out.body = r->body;
  out.content_type = r->get_header_value("Content-Type");
  return out;
}

// A port that was free a moment ago (bind to 0, read it, close).
inline uint16_t free_tcp_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  uint16_t port = 0;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  if (fd >= 0) ::close(fd);
  return port;
}

// The full path of an executable found on PATH (or in /usr/bin), or "".
inline std::string find_executable(const std::string& name) {
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  path += ":/usr/bin:/usr/local/bin";
  std::stringstream ss(path);
  for (std::string dir; std::getline(ss, dir, ':');) {
    if (dir.empty()) continue;
    const std::string p = dir + "/" + name;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return "";
}

inline std::string missing_tool_message(const std::string& name) {
  return name + " was not found on PATH: install the Debian package 'prometheus' (scripts/setup.sh does), "
                "which provides /usr/bin/prometheus and /usr/bin/promtool";
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Starts `broker` with `args` and the metrics endpoint on an ephemeral port,
// whose number it reads from the broker's --metrics-port-file into *mport.
inline ::testing::AssertionResult start_with_metrics(BrokerProcess& broker, std::vector<std::string> args,
                                                     uint16_t* mport) {
  const std::string port_file = broker.root_dir() + "/metrics-port";
  args.insert(args.begin(), {"--metrics-listen", "127.0.0.1:0", "--metrics-port-file", port_file});
  broker.set_args(args);
  auto ok = broker.start();
  if (!ok) return ok;
  std::ifstream in(port_file);
  unsigned p = 0;
  if (!(in >> p) || p == 0 || p > 65535)
    return ::testing::AssertionFailure() << "no metrics port in " << port_file << "\n" << broker.log_tail();
  *mport = static_cast<uint16_t>(p);
  return ::testing::AssertionSuccess();
}

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs argv with stdin from `stdin_file` (may be empty: /dev/null).
inline CommandResult run_command(const std::vector<std::string>& argv, const std::string& stdin_file = "") {
  CommandResult res;
  char tmpl[] = "/tmp/rustlog-cmd-XXXXXX";
  const int out_fd = ::mkstemp(tmpl);
  if (out_fd < 0) return res;
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int in_fd = ::open(stdin_file.empty() ? "/dev/null" : stdin_file.c_str(), O_RDONLY);
    if (in_fd >= 0) ::dup2(in_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(out_fd, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  if (pid > 0) ::waitpid(pid, &status, 0);
  ::close(out_fd);
  res.output = read_file(tmpl);
  ::unlink(tmpl);
  res.exit_code = pid > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return res;
}

// A Prometheus server scraping one target every second, with its own
// temporary config and TSDB directory, listening on a free 127.0.0.1 port.
class PrometheusProcess {
 public:
  PrometheusProcess() {
    std::string tmpl = "/tmp/rustlog-prometheus-XXXXXX";
    if (::mkdtemp(tmpl.data()) != nullptr) dir_ = tmpl;
  }
  ~PrometheusProcess() {
    stop();
    if (!dir_.empty() && !std::getenv("RUSTLOG_KEEP_TEST_DIRS")) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }
  PrometheusProcess(const PrometheusProcess&) = delete;
  PrometheusProcess& operator=(const PrometheusProcess&) = delete;

  // Starts Prometheus scraping `target` ("127.0.0.1:PORT", path /metrics)
  // and waits until it is ready.
  ::testing::AssertionResult start(const std::string& target,
                                   std::chrono::seconds timeout = std::chrono::seconds(60)) {
    const std::string bin = find_executable("prometheus");
    if (bin.empty()) return ::testing::AssertionFailure() << missing_tool_message("prometheus");
    if (dir_.empty()) return ::testing::AssertionFailure() << "mkdtemp failed";
    const std::string cfg = dir_ + "/prometheus.yml";
    {
      std::ofstream f(cfg);
      f << "global:\n"
           "  scrape_interval: 1s\n"
           "  scrape_timeout: 900ms\n"
           "  evaluation_interval: 1s\n"
           "scrape_configs:\n"
           "  - job_name: rustlog\n"
           "    metrics_path: /metrics\n"
           "    static_configs:\n"
           "      - targets: ['"
        << target << "']\n";
    }
    for (int attempt = 0; attempt < 3; ++attempt) {
      port_ = free_tcp_port();
      std::vector<std::string> argv = {bin,
                                       "--config.file=" + cfg,
                                       "--storage.tsdb.path=" + dir_ + "/data",
                                       "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                                       "--log.level=warn"};
      const int log_fd = ::open(log_path().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      const pid_t parent = ::getpid();
      pid_ = ::fork();
      if (pid_ == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(127);
        ::dup2(log_fd, 1);
        ::dup2(log_fd, 2);
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
      }
      if (log_fd >= 0) ::close(log_fd);
      const auto deadline = std::chrono::steady_clock::now() + timeout;
      while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
          pid_ = -1;
          break;  // exited: maybe the port was taken; try another
        }
        if (http_get(port_, "/-/ready", {}, std::chrono::seconds(2)).status == 200)
          return ::testing::AssertionSuccess();
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      if (pid_ > 0) {
        stop();
        return ::testing::AssertionFailure() << "prometheus did not become ready within " << timeout.count()
                                             << " s\n" << log();
      }
    }
    return ::testing::AssertionFailure() << "prometheus exited at start\n" << log();
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 200; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  // The value of an instant query's only series; nullopt when the result is
  // empty (e.g. not scraped yet). Throws std::runtime_error on API errors.
  std::optional<double> query_value(const std::string& promql) {
    auto r = http_get(port_, "/api/v1/query", {{"query", promql}});
    if (r.status != 200) throw std::runtime_error("query " + promql + " failed: HTTP " + std::to_string(r.status) + " " + r.error + " " + r.body);
    const auto j = nlohmann::json::parse(r.body);
    if (j.at("status") != "success") throw std::runtime_error("query " + promql + ": " + r.body);
    const auto& result = j.at("data").at("result");
    if (result.empty()) return std::nullopt;
    if (result.size() != 1) throw std::runtime_error("query " + promql + " returned " + std::to_string(result.size()) + " series: " + r.body);
    return std::stod(result[0].at("value")[1].get<std::string>());
  }

  // The target's scrape health and last error, for failure messages.
  std::string targets() { return http_get(port_, "/api/v1/targets").body; }

  uint16_t port() const { return port_; }
  std::string log_path() const { return dir_ + "/prometheus.log"; }
  std::string log() const { return "---- prometheus log ----\n" + read_file(log_path()) + "---- end ----"; }

 private:
  std::string dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace rustlog::test
