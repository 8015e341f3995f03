// `rustlog top`: the live status page in the terminal.
//
// Polls the broker's GET /api/status (the metrics endpoint, the same
// document the status page shows) and redraws the screen in place with plain
// ANSI sequences: the alternate screen, cursor home, each line cleared to its
// end. No curses: raw-mode stdin (termios) for the `q` key, ppoll with the
// signals unblocked only while waiting, so Ctrl-C, SIGTERM and a window
// resize are seen at once and the terminal is always restored.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <httplib.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "bin/commands/commands.h"
#include "bin/commands/net_common.h"
#include "bin/commands/top_view.h"

namespace rustlog::cli {
namespace {

constexpr const char* kMetricsEnvVar = "RUSTLOG_METRICS";
constexpr const char* kDefaultMetrics = "127.0.0.1:9464";

struct TopArgs {
  std::string address;
  double interval = 1.0;
  bool once = false;
};

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// GET /api/status as JSON, or a one-line reason.
struct Fetched {
  std::optional<nlohmann::json> doc;
  std::string error;
};
Fetched fetch_status(const client::BrokerAddress& a, std::chrono::milliseconds timeout) {
  httplib::Client http(a.host, a.port);
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  const auto usecs = std::chrono::duration_cast<std::chrono::microseconds>(timeout - secs);
  http.set_connection_timeout(secs.count(), usecs.count());
  http.set_read_timeout(secs.count(), usecs.count());
  auto r = http.Get("/api/status");
  if (!r) return {std::nullopt, "GET http://" + a.to_string() + "/api/status: " + httplib::to_string(r.error())};
  if (r->status != 200)
    return {std::nullopt, "GET http://" + a.to_string() + "/api/status: HTTP " + std::to_string(r->status) +
                              (r->status == 404 ? " (is this a kafka-lite metrics endpoint? it serves /api/status)" : "")};
  auto doc = nlohmann::json::parse(r->body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return {std::nullopt, "the answer of /api/status is not a JSON object"};
  return {std::move(doc), ""};
}

const char* sgr(Style s) {
  switch (s) {
    case Style::kPlain: return "";
    case Style::kBold: return "\x1b[1m";
    case Style::kDim: return "\x1b[2m";
    case Style::kHeader: return "\x1b[1;4m";
    case Style::kGrew: return "\x1b[1;30;43m";      // black on yellow
    case Style::kReadOnly: return "\x1b[1;37;41m";  // white on red
    case Style::kError: return "\x1b[1;31m";
  }
  return "";
}

// The first `width` code points of s.
std::string cut(const std::string& s, size_t width, size_t* used) {
  size_t n = 0, i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (n == width) break;
      ++n;
    }
  }
  *used = n;
  return s.substr(0, i);
}

std::string plain(const std::vector<Line>& lines) {
  std::string out;
  for (const auto& l : lines) {
    std::string text;
    for (const auto& s : l) text += s.text;
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + "\n";
  }
  return out;
}

volatile sig_atomic_t g_quit = 0;
volatile sig_atomic_t g_resized = 0;
extern "C" void on_quit_signal(int) { g_quit = 1; }
extern "C" void on_winch(int) { g_resized = 1; }

// The terminal while top runs: raw stdin, the alternate screen, the cursor
// hidden, the quit and resize signals caught (and blocked except in wait()).
// The destructor puts everything back.
class Terminal {
 public:
  Terminal() {
    raw_ = ::tcgetattr(STDIN_FILENO, &saved_) == 0;
    if (raw_) {
      termios t = saved_;
      t.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO));  // ISIG stays: Ctrl-C is SIGINT
      t.c_cc[VMIN] = 0;
      t.c_cc[VTIME] = 0;
      raw_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
    }
    struct sigaction sa {};
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_quit_signal;
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &sa, nullptr);
    sa.sa_handler = on_winch;
    ::sigaction(SIGWINCH, &sa, nullptr);
    sigset_t block;
    sigemptyset(&block);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGWINCH}) sigaddset(&block, sig);
    ::sigprocmask(SIG_BLOCK, &block, &wait_mask_);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGWINCH}) sigdelset(&wait_mask_, sig);
    write_all("\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J");  // alternate screen, hide cursor, clear
  }
  ~Terminal() {
    write_all("\x1b[0m\x1b[?25h\x1b[?1049l");  // reset style, show cursor, main screen
    if (raw_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  // Draws the lines from the top-left corner, each cut to the width and
  // cleared to its end, then clears what is below: the screen changes in
  // place, nothing scrolls.
  void draw(const std::vector<Line>& lines) {
    winsize ws{};
    const size_t cols = ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 120;
    const size_t rows = ws.ws_row > 0 ? ws.ws_row : 50;
    std::string frame = "\x1b[H";
    const size_t shown = lines.size() <= rows ? lines.size() : rows - 1;
    for (size_t i = 0; i < shown; ++i) {
      size_t left = cols;
      for (const auto& span : lines[i]) {
        if (left == 0) break;
        size_t used = 0;
        const std::string text = cut(span.text, left, &used);
        left -= used;
        const char* style = sgr(span.style);
        frame += *style ? std::string(style) + text + "\x1b[0m" : text;
      }
      frame += "\x1b[K";
      if (i + 1 < shown) frame += "\r\n";
    }
    if (shown < lines.size()) {
      size_t used = 0;
      frame += "\r\n" + std::string(sgr(Style::kDim)) +
               cut("(" + std::to_string(lines.size() - shown) + " more lines: enlarge the terminal)", cols, &used) +
               "\x1b[0m\x1b[K";
    }
    frame += "\x1b[J";
    write_all(frame);
  }

  enum class Event { kTimeout, kQuit, kResize };
  // Waits up to `ms` for q, a quit signal or a resize.
  Event wait(int64_t ms) {
    const int64_t deadline = now_ms() + ms;
    for (;;) {
      if (g_quit) return Event::kQuit;
      if (g_resized) {
        g_resized = 0;
        return Event::kResize;
      }
      const int64_t left = deadline - now_ms();
      if (left <= 0) return Event::kTimeout;
      pollfd pfd{STDIN_FILENO, POLLIN, 0};
      timespec ts{static_cast<time_t>(left / 1000), static_cast<long>(left % 1000) * 1000000L};
      const int n = ::ppoll(&pfd, raw_ ? 1 : 0, &ts, &wait_mask_);
      if (n < 0 && errno != EINTR) return Event::kQuit;
      if (n > 0) {
        if (pfd.revents & (POLLHUP | POLLERR | POLLNVAL)) return Event::kQuit;  // the terminal went away
        char buf[64];
        const ssize_t got = ::read(STDIN_FILENO, buf, sizeof buf);
        for (ssize_t i = 0; i < got; ++i)
          if (buf[i] == 'q' || buf[i] == 'Q' || buf[i] == 3) return Event::kQuit;
      }
    }
  }

 private:
  static void write_all(const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      const ssize_t n = ::write(STDOUT_FILENO, s.data() + off, s.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      off += static_cast<size_t>(n);
    }
  }
  termios saved_{};
  bool raw_ = false;
  sigset_t wait_mask_{};
};

int run_top(const TopArgs& a) {
  std::string text = a.address.empty() ? std::string(kDefaultMetrics) : a.address;
  auto addr = client::parse_broker_address(text);
  if (!addr) return fail("top: --metrics-address: " + addr.error().message());
  if (text.find(':') == std::string::npos) addr->port = 9464;
  const auto timeout = std::chrono::milliseconds(std::max<int64_t>(2000, static_cast<int64_t>(a.interval * 1000)));
  TopContext ctx{"http://" + addr->to_string() + "/api/status", a.interval, "", !a.once};
  LagTracker lags;

  if (a.once) {
    Fetched f = fetch_status(*addr, timeout);
    if (!f.doc) return fail("top: " + f.error + " (is kafka-lite running with --metrics-listen " + addr->to_string() + "?)");
    out(plain(top_view(*f.doc, ctx, lags, now_ms())));
    return 0;
  }
  if (!::isatty(STDOUT_FILENO))
    return fail("top: standard output is not a terminal; use 'rustlog top --once' to print the status once as plain text");

  Terminal term;
  nlohmann::json last = nlohmann::json::object();
  std::vector<Line> lines;
  for (;;) {
    Fetched f = fetch_status(*addr, timeout);
    if (f.doc) last = std::move(*f.doc);
    ctx.error = f.error;
    lines = top_view(last, ctx, lags, now_ms());
    term.draw(lines);
    const int64_t next = now_ms() + static_cast<int64_t>(a.interval * 1000);
    for (;;) {
      const auto ev = term.wait(next - now_ms());
      if (ev == Terminal::Event::kQuit) return 0;
      if (ev == Terminal::Event::kTimeout) break;
      term.draw(lines);  // resized: the same lines, cut to the new width
    }
  }
}

}  // namespace

void register_top_command(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<TopArgs>();
  CLI::App* cmd = app.add_subcommand("top", "Live status in the terminal: topics, partitions, rates, group lag, fsync");
  cmd->group(kBrokerGroup);
  cmd->add_option("--metrics-address", a->address,
                  "The broker's metrics endpoint HOST:PORT, as given to kafka-lite --metrics-listen "
                  "(environment: RUSTLOG_METRICS)")
      ->envname(kMetricsEnvVar)
      ->default_val(std::string(kDefaultMetrics))
      ->type_name("HOST:PORT");
  cmd->add_option("-i,--interval", a->interval, "Seconds between refreshes")
      ->default_val(1.0)
      ->check(CLI::Range(0.1, 3600.0));
  cmd->add_flag("--once", a->once, "Print the status once as plain text (no terminal needed) and exit");
  cmd->footer(
      "The status page (http://<metrics-listen>/) in the terminal: broker version and uptime,\n"
      "produce and fetch rates, fsync p50/p99, the recovery summary, every partition (log start,\n"
      "high watermark, size, segments, rates; read-only ones in red) and every consumer group's\n"
      "committed offset and lag (yellow with a triangle while it grows). It reads GET /api/status\n"
      "from the metrics endpoint, not the broker port, and redraws in place every --interval\n"
      "seconds. Press q or Ctrl-C to quit.\n"
      "\n"
      "Examples:\n"
      "  rustlog top\n"
      "  rustlog top --metrics-address 127.0.0.1:9464 --interval 2\n"
      "  rustlog top --once | grep -A20 GROUP");
  cmd->callback([&ctx, a] { ctx.exit_code = run_top(*a); });
}

}  // namespace rustlog::cli
