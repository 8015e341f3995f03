#pragma once
// A detached tmux session running one command in a pseudo-terminal of a
// fixed size, on a tmux server of its own (-L socket, -f /dev/null), for
// tests of full-screen terminal programs: send keys, read the screen as a
// person sees it (capture-pane), with or without the colour escapes.
//
//   TmuxSession t;
//   ASSERT_TRUE(t.start("rustlog top --metrics-address ...", 140, 40));
//   t.send_keys({"q"});
//   std::string screen = t.screen();
//
// tmux is the Debian package `tmux` (scripts/packages/browser.txt); without
// it start() fails saying so. The destructor kills the session's server.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "support/metrics_helpers.h"

namespace rustlog::test {

class TmuxSession {
 public:
  TmuxSession() : socket_("rustlog-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter())) {}
  ~TmuxSession() {
    if (!bin_.empty()) run({"kill-server"});
  }
  TmuxSession(const TmuxSession&) = delete;
  TmuxSession& operator=(const TmuxSession&) = delete;

  ::testing::AssertionResult start(const std::string& shell_command, int width, int height) {
    bin_ = find_executable("tmux");
    if (bin_.empty())
      return ::testing::AssertionFailure() << "tmux was not found on PATH: install the Debian package 'tmux' "
                                              "(scripts/setup.sh does, from scripts/packages/browser.txt)";
    // tmux wants a terminal type even for a detached session.
    ::setenv("TERM", "xterm-256color", 0);
    auto r = run({"new-session", "-d", "-s", "t", "-x", std::to_string(width), "-y", std::to_string(height),
                  shell_command});
    if (r.exit_code != 0) return ::testing::AssertionFailure() << "tmux new-session failed: " << r.output;
    return ::testing::AssertionSuccess();
  }
  // tmux send-keys: each argument a key name ("q", "C-c", "Enter") or text.
  void send_keys(const std::vector<std::string>& keys) {
    std::vector<std::string> args = {"send-keys", "-t", "t"};
    args.insert(args.end(), keys.begin(), keys.end());
    run(args);
  }
  // The visible screen, one line per row; with_escapes keeps the SGR
  // (colour) sequences.
  std::string screen(bool with_escapes = false) {
    std::vector<std::string> args = {"capture-pane", "-p", "-t", "t"};
    if (with_escapes) args.insert(args.begin() + 1, "-e");
    return run(args).output;
  }

 private:
  static int& counter() {
    static int n = 0;
    return n;
  }
  CommandResult run(std::vector<std::string> args) {
    args.insert(args.begin(), {bin_, "-L", socket_, "-f", "/dev/null"});
    return run_command(args);
  }
  std::string socket_;
  std::string bin_;
};

}  // namespace rustlog::test
