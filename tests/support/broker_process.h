#pragma once
// A real kafka-lite process for end-to-end tests.
//
//   BrokerProcess broker({"--flush", "always"});   // extra flags
//   ASSERT_TRUE(broker.start());                    // fork/exec, wait for the port
//   client::Connection c = broker.connect();        // throws on failure
//   ...
//   EXPECT_EQ(broker.stop(), 0);                    // SIGTERM, wait, exit code
//   ASSERT_TRUE(broker.start());                    // same data dir, new port
//
// Each BrokerProcess owns a temporary directory holding the data dir
// (data_dir()), the port file and the broker's combined stdout/stderr
// (log_path(); every start appends to it). The broker listens on
// 127.0.0.1:0 and writes its port to the port file (--port-file); start()
// waits for that file. Unless the flags name --metrics-listen, the metrics
// endpoint gets an ephemeral port too (127.0.0.1:0). Unless the flags name
// them, or use_production_segment_floors() was called, the segment floors are
// lowered (--min-segment-bytes 1024 --min-segment-ms 1) so tests can make
// topics with tiny segments. Failure messages carry the tail of the log.
//
// The child gets PR_SET_PDEATHSIG = SIGKILL, so a test process that dies
// (crash, ctest timeout) takes its brokers with it. That signal fires when the
// thread that forked exits: start brokers from the test's main thread.
//
// The destructor stops a running broker with SIGTERM and reports a non-zero
// exit code, and any sanitizer report in the log, as a test failure; then it
// removes the directory (kept when RUSTLOG_KEEP_TEST_DIRS is set).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "client/connection.h"

#ifndef RUSTLOG_BIN_DIR
#error "RUSTLOG_BIN_DIR must name the build directory holding kafka-lite"
#endif

namespace rustlog::test {

inline std::string kafka_lite_path() { return std::string(RUSTLOG_BIN_DIR) + "/kafka-lite"; }

// Sanitized builds are several times slower: scale the test timeouts.
inline std::chrono::milliseconds scaled(std::chrono::milliseconds ms) {
#if defined(__SANITIZE_ADDRESS__)
  return ms * 4;
#else
  return ms;
#endif
}

class BrokerProcess {
 public:
  using Clock = std::chrono::steady_clock;

  explicit BrokerProcess(std::vector<std::string> extra_args = {}) : args_(std::move(extra_args)) {
    std::string tmpl = "/tmp/kafka-lite-it-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed: " + std::string(std::strerror(errno)));
    root_ = tmpl;
    data_dir_ = root_ + "/data";
  }

  ~BrokerProcess() {
    if (running()) {
      const int code = stop();
      if (code != 0) ADD_FAILURE() << "kafka-lite exited with " << code << " when stopped at teardown\n" << log_tail();
    }
    check_sanitizers();
    if (const char* keep = std::getenv("RUSTLOG_KEEP_TEST_DIRS"); keep && *keep) {
      std::fprintf(stderr, "keeping broker test dir %s\n", root_.c_str());
      return;
    }
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }

  BrokerProcess(const BrokerProcess&) = delete;
  BrokerProcess& operator=(const BrokerProcess&) = delete;

  // Flags added after --data-dir/--listen/--port-file on the next start().
  void set_args(std::vector<std::string> extra_args) { args_ = std::move(extra_args); }
  // Runs on another data dir (e.g. another broker's) from the next start() on;
  // the temporary directory still holds the port file and the log.
  void set_data_dir(std::string dir) { data_dir_ = std::move(dir); }
  const std::vector<std::string>& args() const { return args_; }
  // From the next start() on, the broker keeps its default segment floors.
  void use_production_segment_floors() { low_segment_floors_ = false; }

  // Starts kafka-lite on data_dir() and waits until it listens. Fails when
  // it exits first (exit_code() then says how) or does not listen in time.
  ::testing::AssertionResult start(std::chrono::milliseconds timeout = scaled(std::chrono::seconds(30))) {
    if (running()) return ::testing::AssertionFailure() << "kafka-lite is already running (pid " << pid_ << ")";
    exit_code_.reset();
    port_ = 0;
    const std::string port_file = root_ + "/port";
    ::unlink(port_file.c_str());

    std::vector<std::string> argv_s = {kafka_lite_path(), "--data-dir", data_dir_, "--listen", "127.0.0.1:0",
                                       "--port-file", port_file};
    // An ephemeral metrics port unless the test chose one: brokers running
    // side by side must not compete for the default 9464.
    bool metrics_chosen = false;
    for (const auto& a : args_) metrics_chosen = metrics_chosen || a.rfind("--metrics-listen", 0) == 0;
    if (!metrics_chosen) argv_s.insert(argv_s.end(), {"--metrics-listen", "127.0.0.1:0"});
    for (const char* floor : {"--min-segment-bytes", "--min-segment-ms"}) {
      bool chosen = false;
      for (const auto& a : args_) chosen = chosen || a.rfind(floor, 0) == 0;
      if (low_segment_floors_ && !chosen)
        argv_s.insert(argv_s.end(), {floor, std::string(floor) == "--min-segment-bytes" ? "1024" : "1"});
    }
    argv_s.insert(argv_s.end(), args_.begin(), args_.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);

    const int log_fd = ::open(log_path().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) return ::testing::AssertionFailure() << "cannot open " << log_path() << ": " << std::strerror(errno);
    std::string banner = "==== start #" + std::to_string(++starts_) + ":";
    for (const auto& a : argv_s) banner += " " + a;
    banner += "\n";
    (void)!::write(log_fd, banner.data(), banner.size());
    const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);

    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
      ::close(log_fd);
      if (null_fd >= 0) ::close(null_fd);
      return ::testing::AssertionFailure() << "fork failed: " << std::strerror(errno);
    }
    if (pid == 0) {
      // Child: async-signal-safe calls only until exec.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      if (null_fd >= 0) ::dup2(null_fd, 0);
      ::dup2(log_fd, 1);
      ::dup2(log_fd, 2);
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      ::signal(SIGPIPE, SIG_DFL);
      ::execv(argv[0], argv.data());
      static const char kMsg[] = "exec of kafka-lite failed\n";
      (void)!::write(2, kMsg, sizeof kMsg - 1);
      ::_exit(127);
    }
    ::close(log_fd);
    if (null_fd >= 0) ::close(null_fd);
    pid_ = pid;

    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      if (!running())
        return ::testing::AssertionFailure() << "kafka-lite exited with " << *exit_code_ << " before listening\n"
                                             << log_tail();
      if (auto p = read_port(port_file)) {
        port_ = *p;
        return ::testing::AssertionSuccess();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    kill9();
    return ::testing::AssertionFailure() << "kafka-lite did not write its port file within " << timeout.count()
                                         << " ms\n"
                                         << log_tail();
  }

  // SIGTERM, then waits for the exit. Returns the exit code (128 + signal
  // when killed by a signal; -1 when it was not running). A broker that does
  // not exit within `timeout` is killed with SIGKILL (exit code 128 + 9).
  int stop(std::chrono::milliseconds timeout = scaled(std::chrono::seconds(30))) {
    if (!running()) return -1;
    ::kill(pid_, SIGTERM);
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      if (!running()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    if (running()) {
      ADD_FAILURE() << "kafka-lite did not exit within " << timeout.count() << " ms of SIGTERM\n" << log_tail();
      kill9();
    }
    check_sanitizers();
    return *exit_code_;
  }

  // kill -9: no shutdown code runs.
  void kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    reap(/*block=*/true);
  }

  // Clean stop (must exit 0), then start on the same data dir.
  ::testing::AssertionResult restart() {
    if (running()) {
      const int code = stop();
      if (code != 0) return ::testing::AssertionFailure() << "kafka-lite exited with " << code << " on SIGTERM\n" << log_tail();
    }
    return start();
  }

  // Waits for the process to exit on its own (e.g. refused config); the exit
  // code, or nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout = scaled(std::chrono::seconds(30))) {
    const auto deadline = Clock::now() + timeout;
    while (running() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return exit_code_;
  }

  // True while the process has not exited (reaps it when it has).
  bool running() {
    if (pid_ > 0) reap(/*block=*/false);
    return pid_ > 0;
  }

  // A connection to the broker. Throws std::runtime_error (which gtest
  // reports as a failure of the test) when the broker cannot be reached.
  client::Connection connect(std::chrono::milliseconds io_timeout = scaled(std::chrono::seconds(20))) {
    client::ConnectOptions o;
    o.io_timeout = io_timeout;
    auto c = client::Connection::connect("127.0.0.1", port_, o);
    if (!c) throw std::runtime_error(c.status().to_string() + "\n" + log_tail());
    return std::move(*c);
  }

  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::optional<int> exit_code() const { return exit_code_; }
  const std::string& data_dir() const { return data_dir_; }
  const std::string& root_dir() const { return root_; }
  std::string log_path() const { return root_ + "/broker.log"; }

  std::string log() const {
    std::ifstream in(log_path(), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::string log_tail(size_t bytes = 6000) const {
    std::string l = log();
    if (l.size() > bytes) l = "...\n" + l.substr(l.size() - bytes);
    return "---- kafka-lite log (" + log_path() + ") ----\n" + l + "---- end of log ----";
  }

  // True when the log holds an ASan/LSan/UBSan report.
  bool has_sanitizer_report() const {
    const std::string l = log();
    return l.find("ERROR: AddressSanitizer") != std::string::npos ||
           l.find("ERROR: LeakSanitizer") != std::string::npos || l.find("runtime error:") != std::string::npos;
  }

 private:
  static std::optional<uint16_t> read_port(const std::string& path) {
    std::ifstream in(path);
    unsigned long p = 0;
    if (!(in >> p) || p == 0 || p > 65535) return std::nullopt;
    return static_cast<uint16_t>(p);
  }

  void reap(bool block) {
    int status = 0;
    pid_t r;
    do {
      r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == pid_ || (r < 0 && errno == ECHILD)) {
      if (r == pid_) exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      else exit_code_ = -1;
      pid_ = -1;
    }
  }

  void check_sanitizers() {
    if (has_sanitizer_report() && !sanitizer_reported_) {
      sanitizer_reported_ = true;
      ADD_FAILURE() << "kafka-lite printed a sanitizer report\n" << log_tail(20000);
    }
  }

  std::vector<std::string> args_;
  bool low_segment_floors_ = true;
  std::string root_;
  std::string data_dir_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  int starts_ = 0;
  std::optional<int> exit_code_;
  bool sanitizer_reported_ = false;
};

}  // namespace rustlog::test
