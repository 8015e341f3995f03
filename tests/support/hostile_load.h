#pragma once
// Hostile and careless clients against a real kafka-lite, each scenario a
// function taking its size, so the default suite runs it scaled down
// (tests/integration/broker_limits_test.cpp) and the `long` label at full
// size (tests/long/broker_limits_long_test.cpp). Each asserts that the
// broker's memory stays bounded (peak RSS from /proc/PID/status), that
// other clients are still served, and that SIGTERM ends it cleanly within
// its shutdown deadline.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/broker_calls.h"
#include "support/broker_process.h"

namespace rustlog::test {

using Clock = std::chrono::steady_clock;

// A field of /proc/PID/status in KiB (VmRSS, VmHWM), -1 if absent.
inline int64_t proc_status_kib(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) return std::stoll(line.substr(field.size() + 1));
  return -1;
}
// Sends all of `bytes` on socket `fd` (blocking or not), waiting for room:
// for a thread that sends while another reads the same connection's answers.
inline bool send_all(int fd, std::string_view bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, 100);
    } else {
      return false;
    }
  }
  return true;
}

inline int64_t rss_mib(pid_t pid) { return proc_status_kib(pid, "VmRSS") / 1024; }
inline int64_t peak_rss_mib(pid_t pid) { return proc_status_kib(pid, "VmHWM") / 1024; }

// A bare client socket for stalling clients: sends what the kernel takes
// without blocking, and watches for the broker's close.
class RawClient {
 public:
  explicit RawClient(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << std::strerror(errno);
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;
  // Sends as much of `bytes` as goes without blocking (retrying while the
  // broker reads, up to `patience`).
  size_t send_some(std::string_view bytes, std::chrono::milliseconds patience) {
    size_t sent = 0;
    const auto end = Clock::now() + patience;
    while (sent < bytes.size() && Clock::now() < end) {
      const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) sent += static_cast<size_t>(n);
      else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      else break;
    }
    return sent;
  }
  // True once the broker closed (EOF or reset) within `timeout`.
  bool closed_within(std::chrono::milliseconds timeout) {
    const auto end = Clock::now() + timeout;
    char buf[4096];
    while (Clock::now() < end) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return true;
    }
    return false;
  }

 private:
  int fd_;
};

// SIGTERM; the exit code (0 expected) and how long the stop took.
inline std::pair<int, int64_t> timed_stop(BrokerProcess& b) {
  const auto t = Clock::now();
  const int code = b.stop(scaled(std::chrono::seconds(60)));
  return {code, std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count()};
}

inline std::string frames(int n, const protocol::Request& r) {
  std::string one, all;
  EXPECT_TRUE(protocol::encode_request(r, one).is_ok());
  all.reserve(one.size() * static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) all += one;
  return all;
}

// A topic "big" of `records` records of 1 MiB each.
inline void fill_big_topic(client::Connection& c, int records) {
  EXPECT_TRUE(call<protocol::CreateTopicResponse>(c, protocol::CreateTopicRequest{"big", 1}).success);
  const std::string value(1 << 20, 'b');
  for (int i = 0; i < records; ++i) call<protocol::ProduceResponse>(c, protocol::ProduceRequest{"big", 0, {value}});
}

// Pipelined fetches, each asking for up to 10 MiB, written in one go by a
// client that then reads nothing for a while: the answers are reserved
// against the output budget before they are built, so the broker holds at
// most about one budget of them.
inline void fetch_flood(int records, int fetches, uint64_t budget_mib) {
  BrokerProcess broker({"--max-connection-output-bytes", std::to_string(budget_mib << 20)});
  ASSERT_TRUE(broker.start());
  auto c = broker.connect();
  fill_big_topic(c, records);
  const int64_t base = rss_mib(broker.pid());
  auto hostile = broker.connect();
  std::string wire = frames(fetches, protocol::FetchExRequest{"big", 0, 0, 10 << 20, 0, 0});
  wire += frames(fetches, protocol::FetchRequest{"", "big", 0, 0, 10 << 20});
  ASSERT_TRUE(hostile.send_bytes(wire));
  for (int i = 0; i < 50; ++i) {  // others are served meanwhile
    ASSERT_TRUE(pings(c));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const int64_t held = peak_rss_mib(broker.pid()) - base;
  // The budget, plus an answer being built or sent, plus the mapped
  // segments the fetches read (file pages count in RSS).
  const int64_t bound = static_cast<int64_t>(budget_mib) + 3 * 10 + records + 64;
  EXPECT_LT(held, bound) << "peak RSS grew by " << held << " MiB over " << base << " MiB";
  // Reading drains it: every answer arrives, in order.
  for (int i = 0; i < 2 * fetches; ++i) {
    auto r = hostile.receive();
    ASSERT_TRUE(r) << "answer " << i << ": " << r.status().to_string();
    if (i < fetches) ASSERT_TRUE(std::holds_alternative<protocol::FetchExResponse>(*r)) << describe(*r);
    else ASSERT_TRUE(std::holds_alternative<protocol::FetchResponse>(*r)) << describe(*r);
  }
  EXPECT_LT(peak_rss_mib(broker.pid()) - base, bound);
  auto [code, ms] = timed_stop(broker);
  EXPECT_EQ(code, 0);
  ::testing::Test::RecordProperty("peak_rss_growth_mib", static_cast<int>(held));
}

// The value of an unlabelled sample in Prometheus text, 0 if absent.
inline uint64_t sample_value(const std::string& text, const std::string& name) {
  const std::string key = "\n" + name + " ";
  const size_t at = text.find(key);
  return at == std::string::npos ? 0 : std::stoull(text.substr(at + key.size()));
}
// Pipelined FetchEx of up to 10 MiB each, from offsets all over a log of
// 1 MiB records, read by a client as fast as it can while another client
// pings: each answer holds exactly the records asked for, the pings are
// answered while the flood is still being read, the answers were read a
// slice per turn (rustlog_fetch_slices_total), and memory stays within the
// output budget.
inline void fetch_ex_flood(int records, int fetches, uint64_t budget_mib) {
  BrokerProcess broker({"--max-connection-output-bytes", std::to_string(budget_mib << 20)});
  ASSERT_TRUE(broker.start());
  auto c = broker.connect();
  EXPECT_TRUE(call<protocol::CreateTopicResponse>(c, protocol::CreateTopicRequest{"big", 1}).success);
  auto value_of = [](uint64_t offset) { return std::string(1 << 20, static_cast<char>('a' + offset % 26)); };
  for (int i = 0; i < records; ++i)
    call<protocol::ProduceResponse>(c, protocol::ProduceRequest{"big", 0, {value_of(static_cast<uint64_t>(i))}});
  const int64_t base = rss_mib(broker.pid());
  auto hostile = broker.connect();
  std::string wire;
  for (int i = 0; i < fetches; ++i)
    wire += frames(1, protocol::FetchExRequest{"big", 0, static_cast<uint64_t>(i % records), 10 << 20, 0, 0});
  ASSERT_TRUE(hostile.send_bytes(wire));
  std::atomic<bool> done{false};
  std::thread reader([&] {
    for (int i = 0; i < fetches; ++i) {
      auto r = hostile.receive();
      ASSERT_TRUE(r) << "answer " << i << ": " << r.status().to_string();
      ASSERT_TRUE(std::holds_alternative<protocol::FetchExResponse>(*r)) << describe(*r);
      const auto& f = std::get<protocol::FetchExResponse>(*r);
      const uint64_t from = static_cast<uint64_t>(i % records);
      ASSERT_FALSE(f.records.empty()) << "answer " << i;
      for (size_t k = 0; k < f.records.size(); ++k) {
        ASSERT_EQ(f.records[k].offset, from + k) << "answer " << i;
        ASSERT_TRUE(f.records[k].value == value_of(from + k)) << "answer " << i << ", record " << k;
      }
      EXPECT_EQ(f.next_offset, from + f.records.size());
      EXPECT_EQ(f.high_watermark, static_cast<uint64_t>(records));
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // a reader, if a slow one
    }
    done = true;
  });
  int during = 0;
  while (!done) {
    ASSERT_TRUE(pings(c));
    if (!done) ++during;
  }
  reader.join();
  EXPECT_GE(during, 3) << "another client was hardly answered while the flood was read";
  const int64_t held = peak_rss_mib(broker.pid()) - base;
  // The budget, plus an answer being built or sent, plus the mapped
  // segments the fetches read (file pages count in RSS).
  const int64_t bound = static_cast<int64_t>(budget_mib) + 3 * 10 + records + 64;
  EXPECT_LT(held, bound) << "peak RSS grew by " << held << " MiB over " << base << " MiB";
  const std::string m = call<protocol::MetricsResponse>(c, protocol::MetricsFetchRequest{}).text;
  const uint64_t slices = sample_value(m, "rustlog_fetch_slices_total");
  EXPECT_GE(slices, static_cast<uint64_t>(fetches)) << "each answer of two 1 MiB records takes two slices";
  auto [code, ms] = timed_stop(broker);
  EXPECT_EQ(code, 0);
  ::testing::Test::RecordProperty("peak_rss_growth_mib", static_cast<int>(held));
}

// Several clients draining large fetches as fast as they can read, beside a
// client waiting for one answer at a time. Each turn sends at most
// --max-turn-write-bytes over all of them (counted in
// rustlog_turn_write_budget_hits_total), they take turns at it, and every
// answer is still whole and right; the pings are answered meanwhile.
inline void parallel_drains(int readers, int records, int fetches) {
  BrokerProcess broker({"--max-turn-write-bytes", "65536"});
  ASSERT_TRUE(broker.start());
  auto c = broker.connect();
  EXPECT_TRUE(call<protocol::CreateTopicResponse>(c, protocol::CreateTopicRequest{"big", 1}).success);
  auto value_of = [](uint64_t offset) { return std::string(256 << 10, static_cast<char>('a' + offset % 26)); };
  for (int i = 0; i < records; ++i)
    call<protocol::ProduceResponse>(c, protocol::ProduceRequest{"big", 0, {value_of(static_cast<uint64_t>(i))}});
  std::vector<client::Connection> conns;
  for (int r = 0; r < readers; ++r) conns.push_back(broker.connect());
  std::vector<std::atomic<int>> answered(static_cast<size_t>(readers));
  std::atomic<int> first_done{-1};
  std::vector<int> others_at_first(static_cast<size_t>(readers), 0);
  std::vector<std::thread> threads;
  for (int r = 0; r < readers; ++r)
    threads.emplace_back([&, r] {
      auto& conn = conns[static_cast<size_t>(r)];
      std::string wire;
      for (int i = 0; i < fetches; ++i)
        wire += frames(1, protocol::FetchExRequest{"big", 0, static_cast<uint64_t>(i % records), 2 << 20, 0, 0});
      ASSERT_TRUE(conn.send_bytes(wire));
      for (int i = 0; i < fetches; ++i) {
        auto a = conn.receive();
        ASSERT_TRUE(a) << "reader " << r << ", answer " << i << ": " << a.status().to_string();
        ASSERT_TRUE(std::holds_alternative<protocol::FetchExResponse>(*a)) << describe(*a);
        const auto& f = std::get<protocol::FetchExResponse>(*a);
        const uint64_t from = static_cast<uint64_t>(i % records);
        ASSERT_FALSE(f.records.empty()) << "reader " << r << ", answer " << i;
        for (size_t k = 0; k < f.records.size(); ++k) {
          ASSERT_EQ(f.records[k].offset, from + k);
          ASSERT_TRUE(f.records[k].value == value_of(from + k)) << "reader " << r << ", answer " << i;
        }
        answered[static_cast<size_t>(r)] = i + 1;
      }
      int none = -1;
      if (first_done.compare_exchange_strong(none, r))
        for (int o = 0; o < readers; ++o) others_at_first[static_cast<size_t>(o)] = answered[static_cast<size_t>(o)];
    });
  int during = 0;
  while (first_done < 0) {
    ASSERT_TRUE(pings(c));
    ++during;
  }
  for (auto& t : threads) t.join();
  EXPECT_GE(during, 3) << "another client was hardly answered while the drains ran";
  // Taking turns: when the first reader had all its answers, each other had
  // a good part of its own (a fixed order would have left the last far behind).
  for (int o = 0; o < readers; ++o)
    EXPECT_GE(others_at_first[static_cast<size_t>(o)], fetches / 2) << "reader " << o << " fell behind";
  const std::string m = call<protocol::MetricsResponse>(c, protocol::MetricsFetchRequest{}).text;
  EXPECT_GT(sample_value(m, "rustlog_turn_write_budget_hits_total"), 0u);
  auto [code, ms] = timed_stop(broker);
  EXPECT_EQ(code, 0);
}

// Long polls that can never be satisfied, on several connections: at most
// the parked limits wait (the rest are answered at once), they cost the
// loop nothing while they wait, and SIGTERM answers them and exits.
inline void long_poll_flood(int connections, int polls_each) {
  BrokerProcess broker({"--shutdown-timeout-ms", "3000"});
  ASSERT_TRUE(broker.start());
  auto c = broker.connect();
  EXPECT_TRUE(call<protocol::CreateTopicResponse>(c, protocol::CreateTopicRequest{"t", 1}).success);
  const int64_t base = rss_mib(broker.pid());
  std::vector<client::Connection> hostile;
  const std::string wire = frames(polls_each, protocol::FetchExRequest{"t", 0, 0, 1 << 20, 0xFFFFFFFF, 0xFFFFFFFF});
  for (int i = 0; i < connections; ++i) {
    hostile.push_back(broker.connect());
    ASSERT_TRUE(hostile.back().send_bytes(wire));
  }
  // A producer and a pinger are still served, and the parked polls are not
  // retried on every append (each could only be answered at its deadline).
  const auto t = Clock::now();
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(call<protocol::ProduceResponse>(c, protocol::ProduceRequest{"t", 0, {"x"}}).base_offset,
              static_cast<uint64_t>(i));
    ASSERT_TRUE(pings(c));
  }
  const int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
  EXPECT_LT(ms, scaled(std::chrono::seconds(60)).count());
  const std::string m = call<protocol::MetricsResponse>(c, protocol::MetricsFetchRequest{}).text;
  EXPECT_TRUE(has_substr(m, "rustlog_fetch_parked " + std::to_string(std::min(connections * 64, 10000))));
  EXPECT_TRUE(has_substr(m, "rustlog_fetch_parked_refused_total"));
  EXPECT_LT(peak_rss_mib(broker.pid()) - base, 256);
  auto [code, stop_ms] = timed_stop(broker);
  EXPECT_EQ(code, 0);
  EXPECT_LT(stop_ms, scaled(std::chrono::seconds(20)).count()) << "stop took " << stop_ms << " ms";
  for (auto& h : hostile) {
    auto r = h.receive();  // the first parked poll was answered at stop
    ASSERT_TRUE(r) << r.status().to_string();
    EXPECT_TRUE(std::holds_alternative<protocol::FetchExResponse>(*r)) << describe(*r);
  }
}

// Connections that each send most of a large frame and stall: buffered
// input is bounded broker-wide, and each is closed after the timeout.
inline void partial_frames(int connections, uint64_t input_budget_mib) {
  BrokerProcess broker({"--max-input-bytes", std::to_string(input_budget_mib << 20), "--partial-frame-timeout-ms",
                        "3000"});
  ASSERT_TRUE(broker.start());
  auto c = broker.connect();
  const int64_t base = rss_mib(broker.pid());
  const uint32_t frame_len = 9 << 20;
  std::string part = be32(frame_len) + std::string(1, '\x01') + std::string((8 << 20) - 1, 'p');
  std::vector<std::unique_ptr<RawClient>> stalled;
  size_t sent = 0;
  for (int i = 0; i < connections; ++i) {
    stalled.push_back(std::make_unique<RawClient>(broker.port()));
    sent += stalled.back()->send_some(part, std::chrono::milliseconds(200));
  }
  EXPECT_GT(sent, input_budget_mib << 20) << "the clients could not even send the budget";
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(pings(c));
  const int64_t held = peak_rss_mib(broker.pid()) - base;
  // The budget, plus up to one read chunk per connection, plus a margin.
  const int64_t bound = static_cast<int64_t>(input_budget_mib) + connections / 4 + 64;
  EXPECT_LT(held, bound) << "peak RSS grew by " << held << " MiB";
  for (auto& s : stalled) EXPECT_TRUE(s->closed_within(scaled(std::chrono::seconds(30))));
  const std::string m = call<protocol::MetricsResponse>(c, protocol::MetricsFetchRequest{}).text;
  EXPECT_FALSE(has_substr(m, "rustlog_connections_idle_closed_total 0\n"));
  ASSERT_TRUE(pings(c));
  auto [code, ms] = timed_stop(broker);
  EXPECT_EQ(code, 0);
  ::testing::Test::RecordProperty("peak_rss_growth_mib", static_cast<int>(held));
}

// One connection pipelines many tiny produces and reads their answers only
// while it sends (so past Dispatcher::kStallAnswers unread answers it is
// not stalled for good): another client is answered while that flood is
// still being worked through (the loop handles a bounded number of
// requests per connection per turn).
inline void produce_flood(int produces) {
  BrokerProcess broker;
  ASSERT_TRUE(broker.start());
  auto c = broker.connect();
  EXPECT_TRUE(call<protocol::CreateTopicResponse>(c, protocol::CreateTopicRequest{"t", 1}).success);
  auto flood = broker.connect(std::chrono::milliseconds(60000));
  const std::string wire = frames(produces, protocol::ProduceRequest{"t", 0, {"x"}});
  std::thread sender([&] { EXPECT_TRUE(send_all(flood.fd(), wire)); });
  // Wait until the flood has started, then look while it runs.
  uint64_t hw = 0;
  while (hw == 0) hw = call<protocol::DescribePartitionResponse>(c, protocol::DescribePartitionRequest{"t", 0}).high_watermark;
  const uint64_t seen = call<protocol::DescribePartitionResponse>(c, protocol::DescribePartitionRequest{"t", 0}).high_watermark;
  EXPECT_LT(seen, static_cast<uint64_t>(produces)) << "another client was answered only after the whole flood";
  for (int i = 0; i < produces; ++i) {
    auto r = flood.receive();
    if (!r) {
      ADD_FAILURE() << "answer " << i << ": " << r.status().to_string();
      flood.close();  // the sender's next send fails: it ends
      break;
    }
  }
  sender.join();
  auto [code, ms] = timed_stop(broker);
  EXPECT_EQ(code, 0);
}

// Clients that stop reading with answers queued: SIGTERM still ends the
// broker within its shutdown deadline, exit 0, and acknowledged records
// survive.
inline void non_readers_at_stop(int clients) {
  BrokerProcess broker({"--shutdown-timeout-ms", "2000", "--max-connection-output-bytes", "8388608"});
  ASSERT_TRUE(broker.start());
  auto c = broker.connect();
  fill_big_topic(c, 4);
  std::vector<client::Connection> readers;
  const std::string wire = frames(64, protocol::FetchRequest{"", "big", 0, 0, 4 << 20});
  for (int i = 0; i < clients; ++i) {
    readers.push_back(broker.connect());
    ASSERT_TRUE(readers.back().send_bytes(wire));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(call<protocol::ProduceResponse>(c, protocol::ProduceRequest{"big", 0, {"last"}}).base_offset, 4u);
  auto [code, ms] = timed_stop(broker);
  EXPECT_EQ(code, 0);
  EXPECT_LT(ms, scaled(std::chrono::seconds(15)).count()) << "stop took " << ms << " ms";
  ::testing::Test::RecordProperty("stop_ms", static_cast<int>(ms));
  ASSERT_TRUE(broker.start());
  auto d = broker.connect();
  EXPECT_EQ(call<protocol::DescribePartitionResponse>(d, protocol::DescribePartitionRequest{"big", 0}).high_watermark, 5u);
}

}  // namespace rustlog::test
