// rustlog-hostile: a well-behaved producer's throughput and p99 latency,
// alone and beside each hostile load, against one running kafka-lite, in
// one run. Each load phase is measured between two quiet phases and
// compared with their mean (the machine drifts over minutes).
//
//   rustlog-hostile --port P [--seconds S] [--loads idle,slowloris,...]
//
// The producer: one connection, one 100-byte record per Produce, waiting
// for each answer, to topic "quiet" (created with flush = never, so the
// figure is the broker's loop, not the disk's fsync latency). Loads:
//   idle         2,000 connected clients that send nothing
//   slowloris    200 clients each sending one byte of a frame every 100 ms
//   garbage      50 clients sending random bytes, reconnecting when closed
//   fetch-flood  4 clients each pipelining 500 FetchEx + 500 Fetch of up to
//                10 MiB of a partition of 30 x 1 MiB records, reading slowly
//   poll-flood   5 clients each sending 5,000 FetchEx that can never be
//                satisfied (max_wait_ms and min_bytes 0xFFFFFFFF)
//   non-reader   one client pipelining produces and never reading
//
// Output: one line per phase, and "RESULT load=... rps=... p99_us=...
// rps_ratio=... p99_ratio=..." lines for scripts.
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "client/connection.h"
#include "protocol/codec.h"

namespace {

using namespace rustlog;
using namespace rustlog::protocol;
using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "rustlog-hostile: %s\n", msg.c_str());
  std::exit(1);
}

uint16_t g_port = 0;

client::Connection connect_or_die(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  client::ConnectOptions o;
  o.io_timeout = timeout;
  auto c = client::Connection::connect("127.0.0.1", g_port, o);
  if (!c) die("connect: " + c.status().to_string());
  return std::move(*c);
}

std::string frame_of(const Request& r) {
  std::string s;
  if (!encode_request(r, s)) die("encode");
  return s;
}

struct Measure {
  double rps = 0;
  double p99_us = 0;
};

Measure produce_for(client::Connection& c, double seconds) {
  const std::string value(100, 'q');
  std::vector<int64_t> lat;
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  const auto t0 = Clock::now();
  while (Clock::now() < end) {
    const auto t = Clock::now();
    auto r = c.call(ProduceRequest{"quiet", 0, {value}});
    if (!r || !std::holds_alternative<ProduceResponse>(*r)) die("produce failed");
    lat.push_back(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t).count());
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::sort(lat.begin(), lat.end());
  Measure m;
  m.rps = static_cast<double>(lat.size()) / secs;
  m.p99_us = lat.empty() ? 0 : static_cast<double>(lat[lat.size() * 99 / 100]);
  return m;
}

// A load runs in its own threads until `stop`.
class Load {
 public:
  virtual ~Load() { halt(); }
  void halt() {
    stop_ = true;
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

 protected:
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

class Idle : public Load {
 public:
  Idle() {
    for (int i = 0; i < 2000; ++i) conns_.push_back(connect_or_die());
  }
  std::vector<client::Connection> conns_;
};

class Slowloris : public Load {
 public:
  Slowloris() {
    for (int i = 0; i < 200; ++i) conns_.push_back(connect_or_die());
    threads_.emplace_back([this] {
      const std::string f = frame_of(ProduceRequest{"quiet", 0, {std::string(1000, 's')}});
      for (size_t pos = 0; !stop_; pos = (pos + 1) % f.size()) {
        for (auto& c : conns_) (void)c.send_bytes(std::string_view(f).substr(pos, 1));
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });
  }
  std::vector<client::Connection> conns_;
};

class Garbage : public Load {
 public:
  Garbage() {
    threads_.emplace_back([this] {
      std::mt19937_64 rng(42);
      std::vector<client::Connection> conns;
      for (int i = 0; i < 50; ++i) conns.push_back(connect_or_die(std::chrono::milliseconds(100)));
      std::string junk(4096, '\0');
      while (!stop_) {
        for (auto& c : conns) {
          for (auto& ch : junk) ch = static_cast<char>(rng());
          if (!c.send_bytes(junk) || c.peer_closed()) c = connect_or_die(std::chrono::milliseconds(100));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    });
  }
};

class FetchFlood : public Load {
 public:
  FetchFlood() {
    for (int t = 0; t < 4; ++t)
      threads_.emplace_back([this] {
        auto c = connect_or_die();
        std::string wire;
        for (int i = 0; i < 500; ++i) wire += frame_of(FetchExRequest{"big", 0, 0, 10 << 20, 0, 0});
        for (int i = 0; i < 500; ++i) wire += frame_of(FetchRequest{"", "big", 0, 0, 10 << 20});
        while (!stop_) {
          if (!c.send_bytes(wire)) die("fetch flood send");
          for (int i = 0; i < 1000 && !stop_; ++i) {
            if (!c.read_frame()) die("fetch flood read");
            if (i % 50 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));  // a slow reader
          }
        }
      });
  }
};

class PollFlood : public Load {
 public:
  PollFlood() {
    std::string wire;
    for (int i = 0; i < 5000; ++i) wire += frame_of(FetchExRequest{"idle", 0, 0, 1 << 20, 0xFFFFFFFF, 0xFFFFFFFF});
    for (int i = 0; i < 5; ++i) {
      conns_.push_back(connect_or_die());
      if (!conns_.back().send_bytes(wire)) die("poll flood send");
    }
  }
  std::vector<client::Connection> conns_;
};

class NonReader : public Load {
 public:
  NonReader() : c_(connect_or_die(std::chrono::milliseconds(200))) {
    threads_.emplace_back([this] {
      std::string wire;
      for (int i = 0; i < 1000; ++i) wire += frame_of(ProduceRequest{"flood", 0, {std::string(100, 'n')}});
      while (!stop_ && c_.send_bytes(wire)) {
      }
    });
  }
  client::Connection c_;
};

std::unique_ptr<Load> make_load(const std::string& name) {
  if (name == "idle") return std::make_unique<Idle>();
  if (name == "slowloris") return std::make_unique<Slowloris>();
  if (name == "garbage") return std::make_unique<Garbage>();
  if (name == "fetch-flood") return std::make_unique<FetchFlood>();
  if (name == "poll-flood") return std::make_unique<PollFlood>();
  if (name == "non-reader") return std::make_unique<NonReader>();
  die("unknown load " + name);
}

void create(client::Connection& c, const std::string& topic, std::vector<ConfigEntry> cfg) {
  auto r = c.call(CreateTopicExRequest{topic, 1, std::move(cfg)});
  if (!r) die("create " + topic + ": " + r.status().to_string());
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  double seconds = 5;
  std::string loads = "idle,slowloris,garbage,fetch-flood,poll-flood,non-reader";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--port") port = std::atoi(next().c_str());
    else if (a == "--seconds") seconds = std::atof(next().c_str());
    else if (a == "--loads") loads = next();
    else if (a == "--help" || a == "-h") {
      std::printf("rustlog-hostile --port P [--seconds S (5)] [--loads %s]\n", loads.c_str());
      return 0;
    } else die("unknown option " + a + " (see --help)");
  }
  if (port <= 0) die("--port is required");
  g_port = static_cast<uint16_t>(port);
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &rl);
  }
  auto admin = connect_or_die();
  create(admin, "quiet", {{"flush", "never"}});
  create(admin, "idle", {{"flush", "never"}});
  create(admin, "flood", {{"flush", "never"}});
  create(admin, "big", {{"flush", "never"}});
  const std::string mib(1 << 20, 'b');
  for (int i = 0; i < 30; ++i)
    if (!admin.call(ProduceRequest{"big", 0, {mib}})) die("filling big");

  auto producer = connect_or_die();
  produce_for(producer, 1);  // warm up
  Measure before = produce_for(producer, seconds);
  std::printf("%-12s %10s %10s %10s %10s\n", "load", "rec/s", "p99 us", "rec/s x", "p99 x");
  std::printf("%-12s %10.0f %10.0f %10s %10s\n", "quiet", before.rps, before.p99_us, "1.00", "1.00");
  size_t pos = 0;
  while (pos <= loads.size()) {
    size_t comma = loads.find(',', pos);
    if (comma == std::string::npos) comma = loads.size();
    const std::string name = loads.substr(pos, comma - pos);
    pos = comma + 1;
    if (name.empty()) continue;
    Measure under;
    {
      auto load = make_load(name);
      std::this_thread::sleep_for(std::chrono::seconds(1));
      under = produce_for(producer, seconds);
      load->halt();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const Measure after = produce_for(producer, seconds);
    const double rps = (before.rps + after.rps) / 2, p99 = (before.p99_us + after.p99_us) / 2;
    std::printf("%-12s %10.0f %10.0f %10.2f %10.2f\n", name.c_str(), under.rps, under.p99_us, under.rps / rps,
                under.p99_us / p99);
    std::printf("RESULT load=%s rps=%.0f p99_us=%.0f quiet_rps=%.0f quiet_p99_us=%.0f rps_ratio=%.3f p99_ratio=%.3f\n",
                name.c_str(), under.rps, under.p99_us, rps, p99, under.rps / rps, under.p99_us / p99);
    std::fflush(stdout);
    before = after;
  }
  return 0;
}
