#pragma once
// Running built programs (rustlog, the examples, cmake, bash) from tests.
//
//   auto r = run_program({bin("rustlog"), "ping"}, {.env = {{"RUSTLOG_BROKER", addr}}});
//   EXPECT_EQ(r.exit_code, 0) << r.err;
//
// run_program() feeds `stdin_data` and captures stdout and stderr through
// temporary files (no pipe deadlocks, any size). SpawnedProgram keeps a child
// running with its stdout on a pipe, for tests that read as it writes and
// kill it midway. Children get PR_SET_PDEATHSIG = SIGKILL.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#ifndef RUSTLOG_BIN_DIR
#error "RUSTLOG_BIN_DIR must name the build directory"
#endif

namespace rustlog::test {

inline std::string bin(const std::string& name) { return std::string(RUSTLOG_BIN_DIR) + "/" + name; }

// A value from the build directory's CMakeCache.txt ("" when absent):
// CMAKE_HOME_DIRECTORY (the source tree), CMAKE_COMMAND, CMAKE_GENERATOR, ...
inline std::string cmake_cache_value(const std::string& key) {
  std::ifstream in(std::string(RUSTLOG_BIN_DIR) + "/CMakeCache.txt");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) != 0) continue;
    const size_t eq = line.find('=');
    if (eq != std::string::npos) return line.substr(eq + 1);
  }
  return "";
}

inline std::string source_dir() { return cmake_cache_value("CMAKE_HOME_DIRECTORY"); }

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

struct RunOptions {
  std::map<std::string, std::string> env;  // added to (or replacing in) the test's environment
  std::vector<std::string> unset_env;
  std::string stdin_data;
  std::string cwd;
  std::chrono::milliseconds timeout{std::chrono::seconds(120)};
};

struct RunResult {
  int exit_code = -1;  // 128 + signal when killed
  std::string out;
  std::string err;
  bool timed_out = false;
};

namespace detail {

inline std::string temp_path(const std::string& tag) {
  static int counter = 0;
  return (std::filesystem::temp_directory_path() /
          ("rustlog-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "." + tag))
      .string();
}

// Child side: env, cwd, exec. Only returns on failure (then _exit(127)).
[[noreturn]] inline void exec_child(const std::vector<std::string>& argv, const RunOptions& o, pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);
  for (const auto& k : o.unset_env) ::unsetenv(k.c_str());
  for (const auto& [k, v] : o.env) ::setenv(k.c_str(), v.c_str(), 1);
  if (!o.cwd.empty() && ::chdir(o.cwd.c_str()) != 0) ::_exit(127);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::signal(SIGPIPE, SIG_DFL);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execvp(args[0], args.data());
  const std::string msg = "exec of " + argv[0] + " failed: " + std::strerror(errno) + "\n";
  (void)!::write(2, msg.data(), msg.size());
  ::_exit(127);
}

inline int decode_status(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

}  // namespace detail

inline RunResult run_program(const std::vector<std::string>& argv, const RunOptions& o = {}) {
  const std::string in_path = detail::temp_path("in"), out_path = detail::temp_path("out"),
                    err_path = detail::temp_path("err");
  {
    std::ofstream in(in_path, std::ios::binary);
    in << o.stdin_data;
  }
  std::fflush(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    const int in_fd = ::open(in_path.c_str(), O_RDONLY);
    const int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err_fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in_fd < 0 || out_fd < 0 || err_fd < 0) ::_exit(127);
    ::dup2(in_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    detail::exec_child(argv, o, parent);
  }
  RunResult r;
  const auto deadline = std::chrono::steady_clock::now() + o.timeout;
  int status = 0;
  for (;;) {
    const pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      r.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  r.exit_code = detail::decode_status(status);
  r.out = read_file(out_path);
  r.err = read_file(err_path);
  std::filesystem::remove(in_path);
  std::filesystem::remove(out_path);
  std::filesystem::remove(err_path);
  return r;
}

// A child whose stdout is a pipe the test reads; stderr goes to a file.
class SpawnedProgram {
 public:
  SpawnedProgram(const std::vector<std::string>& argv, const RunOptions& o = {}) {
    err_path_ = detail::temp_path("err");
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    std::fflush(nullptr);
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      const int null_fd = ::open("/dev/null", O_RDONLY);
      const int err_fd = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(null_fd, 0);
      ::dup2(fds[1], 1);
      ::dup2(err_fd, 2);
      detail::exec_child(argv, o, parent);
    }
    ::close(fds[1]);
    fd_ = fds[0];
  }
  ~SpawnedProgram() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int st;
      ::waitpid(pid_, &st, 0);
    }
    if (fd_ >= 0) ::close(fd_);
    std::filesystem::remove(err_path_);
  }
  SpawnedProgram(const SpawnedProgram&) = delete;
  SpawnedProgram& operator=(const SpawnedProgram&) = delete;

  // Reads up to `max` bytes of its stdout (blocks until some arrive); "" at EOF.
  std::string read_some(size_t max = 4096) {
    std::string buf(max, '\0');
    ssize_t n;
    do {
      n = ::read(fd_, buf.data(), max);
    } while (n < 0 && errno == EINTR);
    buf.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return buf;
  }
  // Everything left on stdout until EOF.
  std::string read_rest() {
    std::string all;
    for (std::string s = read_some(65536); !s.empty(); s = read_some(65536)) all += s;
    return all;
  }
  void kill(int sig) { ::kill(pid_, sig); }
  // Waits for the exit; the exit code (128 + signal when killed).
  int wait() {
    int st = 0;
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
    return detail::decode_status(st);
  }
  std::string err() const { return read_file(err_path_); }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string err_path_;
};

inline std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> lines;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

}  // namespace rustlog::test
