// End to end: how kafka-lite treats connections. Pipelining keeps order,
// hundreds of connections are served at once, a stalled or slow client does
// not hold up the others, garbage does not take the broker down, and
// --max-connections is enforced.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/broker_calls.h"
#include "support/broker_process.h"

namespace rustlog::test {
namespace {

using namespace protocol;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

int64_t us_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t).count();
}

// The test process needs a descriptor per client connection.
void raise_fd_limit(rlim_t want) {
  rlimit rl{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &rl), 0);
  if (rl.rlim_cur >= want) return;
  rl.rlim_cur = std::min(want, rl.rlim_max);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &rl), 0);
  ASSERT_GE(rl.rlim_cur, want) << "RLIMIT_NOFILE hard limit too low for this test";
}

std::vector<Record> fetch_all(client::Connection& c, const std::string& topic, uint32_t partition) {
  std::vector<Record> out;
  uint64_t next = 0;
  for (;;) {
    auto f = call<FetchExResponse>(c, FetchExRequest{topic, partition, next, 1 << 20, 0, 0});
    if (f.records.empty()) return out;
    for (auto& r : f.records) out.push_back(std::move(r));
    next = f.next_offset;
  }
}

// -------------------------------------------------------------- pipelining

TEST(BrokerConnectionsTest, ThousandPipelinedRequestsAreAnsweredInOrder) {
  BrokerProcess broker;
  ASSERT_TRUE(broker.start());
  auto c = broker.connect();
  EXPECT_TRUE(call<CreateTopicResponse>(c, CreateTopicRequest{"t", 1}).success);

  // Four kinds, interleaved: appends (whose acknowledgements wait for the
  // group commit), errors, immediate answers and reads.
  constexpr int kRequests = 1000;
  std::string wire;
  for (int i = 0; i < kRequests; ++i) {
    Request req;
    switch (i % 4) {
      case 0: req = ProduceRequest{"t", 0, {"m" + std::to_string(i)}}; break;
      case 1: req = DescribePartitionRequest{"missing", 0}; break;
      case 2: req = PingRequest{}; break;
      default: req = DescribePartitionRequest{"t", 0}; break;
    }
    ASSERT_TRUE(encode_request(req, wire));
  }
  ASSERT_TRUE(c.send_bytes(wire));  // all 1,000 in one write

  uint64_t produced = 0, last_hw = 0;
  for (int i = 0; i < kRequests; ++i) {
    auto r = c.receive();
    ASSERT_TRUE(r) << "response " << i << ": " << r.status().to_string();
    const std::string what = "response " + std::to_string(i) + " is " + describe(*r);
    switch (i % 4) {
      case 0: {
        auto* p = std::get_if<ProduceResponse>(&*r);
        ASSERT_NE(p, nullptr) << what;
        EXPECT_EQ(p->base_offset, produced) << what;
        ++produced;
        break;
      }
      case 1: {
        auto* e = std::get_if<ErrorResponse>(&*r);
        ASSERT_NE(e, nullptr) << what;
        EXPECT_EQ(e->code, v0(V0Code::kPartitionNotFound)) << what;  // DescribePartition, legacy connection
        break;
      }
      case 2: ASSERT_TRUE(std::holds_alternative<PongResponse>(*r)) << what; break;
      default: {
        auto* d = std::get_if<DescribePartitionResponse>(&*r);
        ASSERT_NE(d, nullptr) << what;
        // Exactly what was produced before it on this connection
        // (read-your-writes under the default flush = always).
        EXPECT_EQ(d->high_watermark, produced) << what;
        EXPECT_GE(d->high_watermark, last_hw) << what;
        last_hw = d->high_watermark;
      }
    }
  }
  EXPECT_EQ(c.buffered_bytes(), 0u);
  // The appends landed in request order.
  auto recs = fetch_all(c, "t", 0);
  ASSERT_EQ(recs.size(), static_cast<size_t>(kRequests / 4));
  for (size_t k = 0; k < recs.size(); ++k) {
    EXPECT_EQ(recs[k].offset, k);
    EXPECT_EQ(recs[k].value, "m" + std::to_string(4 * k));
  }
}

// Produce and then reads of the same partition in one write: each read is
// answered after the acknowledgement, and sees it.
TEST(BrokerConnectionsTest, ReadsPipelinedBehindAProduceSeeItUnderFlushAlways) {
  BrokerProcess broker({"--flush", "always"});
  ASSERT_TRUE(broker.start());
  auto c = broker.connect();
  EXPECT_TRUE(call<CreateTopicResponse>(c, CreateTopicRequest{"t", 1}).success);
  for (uint64_t round = 0; round < 50; ++round) {
    std::string wire;
    ASSERT_TRUE(encode_request(ProduceRequest{"t", 0, {"v" + std::to_string(round)}}, wire));
    ASSERT_TRUE(encode_request(FetchRequest{"", "t", 0, round, 1 << 20}, wire));
    ASSERT_TRUE(encode_request(DescribePartitionRequest{"t", 0}, wire));
    ASSERT_TRUE(encode_request(FetchExRequest{"t", 0, round, 1 << 20, 0, 0}, wire));
    ASSERT_TRUE(encode_request(ListOffsetsRequest{"t", 0, kListOffsetsLatest}, wire));
    ASSERT_TRUE(encode_request(OffsetCommitRequest{"g", "t", 0, round + 1}, wire));
    ASSERT_TRUE(c.send_bytes(wire));
    EXPECT_EQ(as<ProduceResponse>(c.receive()).base_offset, round);
    EXPECT_EQ(as<FetchResponse>(c.receive()).records, std::vector<std::string>{"v" + std::to_string(round)});
    EXPECT_EQ(as<DescribePartitionResponse>(c.receive()).high_watermark, round + 1);
    EXPECT_EQ(as<FetchExResponse>(c.receive()).high_watermark, round + 1);
    EXPECT_EQ(as<ListOffsetsResponse>(c.receive()).offset, round + 1);
    EXPECT_TRUE(as<OffsetCommitResponse>(c.receive()).success);
  }
}

// A client that sends requests and closes at once, before any answer: the
// broker still applies and flushes every write it received (its answers have
// nowhere to go). Another connection then sees all of them.
TEST(BrokerConnectionsTest, RequestsOfAClientThatDisconnectsAtOnceAreStillApplied) {
  BrokerProcess broker;
  ASSERT_TRUE(broker.start());
  auto c = broker.connect();
  EXPECT_TRUE(call<CreateTopicResponse>(c, CreateTopicRequest{"t", 1}).success);
  call<ProduceResponse>(c, ProduceRequest{"t", 0, {"v0"}});
  // More than --max-requests-per-turn (128): the connection's later turns
  // still come after its close.
  constexpr int kProduces = 300;
  {
    auto gone = broker.connect();
    // The commit comes after a produce: it is held behind that produce's
    // flush (read-your-writes), and still applied after the close.
    std::string wire;
    ASSERT_TRUE(encode_request(ProduceRequest{"t", 0, {"v1"}}, wire));
    ASSERT_TRUE(encode_request(OffsetCommitRequest{"g", "t", 0, 2}, wire));
    for (int i = 2; i <= kProduces; ++i)
      ASSERT_TRUE(encode_request(ProduceRequest{"t", 0, {"v" + std::to_string(i)}}, wire));
    ASSERT_TRUE(gone.send_bytes(wire));
    gone.close();
  }
  // Poll: the broker handles the bytes in its next turns.
  const auto deadline = Clock::now() + scaled(30s);
  uint64_t hw = 0;
  std::optional<uint64_t> committed;
  while (Clock::now() < deadline) {
    hw = call<DescribePartitionResponse>(c, DescribePartitionRequest{"t", 0}).high_watermark;
    committed = call<OffsetFetchResponse>(c, OffsetFetchRequest{"g", "t", 0}).offset;
    if (hw == kProduces + 1 && committed) break;
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(hw, static_cast<uint64_t>(kProduces + 1));
  EXPECT_EQ(committed, std::optional<uint64_t>(2));
  auto recs = fetch_all(c, "t", 0);
  ASSERT_EQ(recs.size(), static_cast<size_t>(kProduces + 1));
  for (size_t k = 0; k < recs.size(); ++k) EXPECT_EQ(recs[k].value, "v" + std::to_string(k));
}

// ------------------------------------------------------------- many clients

TEST(BrokerConnectionsTest, FiveHundredConcurrentConnectionsAreAllServed) {
  constexpr int kConns = 500;
  raise_fd_limit(kConns + 200);
  BrokerProcess broker;
  ASSERT_TRUE(broker.start());
  auto admin = broker.connect();
  EXPECT_TRUE(call<CreateTopicResponse>(admin, CreateTopicRequest{"t", 4}).success);

  std::vector<client::Connection> conns;
  conns.reserve(kConns);
  for (int i = 0; i < kConns; ++i) conns.push_back(broker.connect());

  // Phase 1: every connection has a request in flight at the same time.
  for (int i = 0; i < kConns; ++i)
    ASSERT_TRUE(conns[i].send(ProduceRequest{"t", static_cast<uint32_t>(i % 4), {"c" + std::to_string(i)}}));
  std::map<std::pair<uint32_t, uint64_t>, int> owner;  // (partition, offset) -> connection
  for (int i = 0; i < kConns; ++i) {
    auto p = as<ProduceResponse>(conns[i].receive(), "connection " + std::to_string(i));
    EXPECT_TRUE(owner.emplace(std::make_pair(static_cast<uint32_t>(i % 4), p.base_offset), i).second)
        << "offset handed out twice";
  }
  for (uint32_t part = 0; part < 4; ++part) {
    auto recs = fetch_all(admin, "t", part);
    ASSERT_EQ(recs.size(), static_cast<size_t>(kConns / 4));
    for (const auto& r : recs) {
      auto it = owner.find({part, r.offset});
      ASSERT_NE(it, owner.end());
      EXPECT_EQ(r.value, "c" + std::to_string(it->second)) << "acknowledged offset holds another record";
    }
  }

  // Phase 2: ten threads drive fifty connections each with round trips.
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 10; ++t) {
    threads.emplace_back([&, t] {
      try {
        for (int round = 0; round < 4; ++round)
          for (int i = t * 50; i < (t + 1) * 50; ++i) {
            if (!pings(conns[i])) ++failures;
            call<DescribeTopicResponse>(conns[i], DescribeTopicRequest{"t"});
          }
      } catch (const std::exception& e) {
        ++failures;
        ADD_FAILURE() << e.what();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_TRUE(broker.running());
}

// ----------------------------------------------------- stalled/slow clients

TEST(BrokerConnectionsTest, StalledHalfFrameDoesNotDelayOtherClients) {
  BrokerProcess broker;
  ASSERT_TRUE(broker.start());
  auto c = broker.connect();
  EXPECT_TRUE(call<CreateTopicResponse>(c, CreateTopicRequest{"t", 1}).success);

  // A Produce of exactly 100 payload bytes: 16 bytes of fields + an 84-byte value.
  const std::string frame =
      raw_frame(from_hex("01 00 01 74 00 00 00 00 00 00 00 01") + be32(84) + std::string(84, 's'));
  ASSERT_EQ(frame.size(), 104u);
  auto staller = broker.connect();
  ASSERT_TRUE(staller.send_bytes(frame.substr(0, 14)));  // length + 10 payload bytes, then nothing
  auto header_staller = broker.connect();
  ASSERT_TRUE(header_staller.send_bytes(frame.substr(0, 2)));  // half of the length

  std::this_thread::sleep_for(50ms);
  // Round trips of another client meanwhile: pings are timed (produces also
  // wait for an fsync, whose latency is the disk's, not the broker's).
  int64_t worst_us = 0;
  const auto t0 = Clock::now();
  for (int i = 0; i < 200; ++i) {
    if (i % 10 == 0) {
      EXPECT_EQ(call<ProduceResponse>(c, ProduceRequest{"t", 0, {"x"}}).record_count, 1u);
      continue;
    }
    const auto t = Clock::now();
    ASSERT_TRUE(pings(c));
    worst_us = std::max(worst_us, us_since(t));
  }
  const int64_t total_ms = us_since(t0) / 1000;
  EXPECT_LT(worst_us, scaled(500ms).count() * 1000) << "slowest ping while others stall";
  EXPECT_LT(total_ms, scaled(5000ms).count()) << "200 round trips while others stall";

  // The stalled frames were waiting, not lost: finishing them gets answers.
  ASSERT_TRUE(staller.send_bytes(frame.substr(14)));
  EXPECT_EQ(as<ProduceResponse>(staller.receive()).base_offset, 20u);
  ASSERT_TRUE(header_staller.send_bytes(frame.substr(2)));
  EXPECT_EQ(as<ProduceResponse>(header_staller.receive()).base_offset, 21u);
}

TEST(BrokerConnectionsTest, ClientThatDoesNotReadItsResponsesDoesNotDelayOthers) {
  // A small output limit, so the broker stops reading the slow client early.
  BrokerProcess broker({"--max-connection-output-bytes", "4194304"});
  ASSERT_TRUE(broker.start());
  auto c = broker.connect();
  EXPECT_TRUE(call<CreateTopicResponse>(c, CreateTopicRequest{"big", 1}).success);
  const std::string value(512 * 1024, 'b');
  EXPECT_EQ(call<ProduceResponse>(c, ProduceRequest{"big", 0, {value}}).base_offset, 0u);

  // 40 fetches of 512 KiB = 20 MiB of answers nobody reads for a while.
  auto slow = broker.connect();
  std::string wire;
  constexpr int kFetches = 40;
  for (int i = 0; i < kFetches; ++i) ASSERT_TRUE(encode_request(FetchRequest{"", "big", 0, 0, 1 << 20}, wire));
  ASSERT_TRUE(slow.send_bytes(wire));
  std::this_thread::sleep_for(100ms);

  int64_t worst_us = 0;
  for (int i = 0; i < 100; ++i) {
    const auto t = Clock::now();
    ASSERT_TRUE(pings(c));
    worst_us = std::max(worst_us, us_since(t));
  }
  EXPECT_LT(worst_us, scaled(500ms).count() * 1000) << "slowest ping while a client does not read";
  // The slow client gets every answer, in order, once it reads.
  for (int i = 0; i < kFetches; ++i) {
    auto f = as<FetchResponse>(slow.receive(), "fetch " + std::to_string(i));
    ASSERT_EQ(f.records.size(), 1u);
    EXPECT_EQ(f.records[0].size(), value.size());
  }
  EXPECT_TRUE(pings(slow));
}

// ------------------------------------------------------------------ garbage

// Well-formed requests whose mutations are safe to send: nothing that parks,
// deletes or creates topics.
std::vector<std::string> mutation_seeds() {
  std::vector<Request> reqs = {
      ProduceRequest{"t", 0, {"hello", "world"}},
      FetchRequest{"g", "t", 0, 0, 4096},
      OffsetCommitRequest{"g", "t", 0, 1},
      OffsetFetchRequest{"g", "t", 0},
      DescribeTopicRequest{"t"},
      DescribePartitionRequest{"t", 0},
      ProduceExRequest{"t", 0, -1, {{-1, "k", "v", {{"h", "x"}}}, {5, std::nullopt, std::nullopt, {}}}},
      ListOffsetsRequest{"t", 0, 0},
      DescribeTopicConfigRequest{"t"},
      DescribeGroupRequest{"g"},
      HandshakeRequest{"fuzz"},
  };
  std::vector<std::string> out;
  for (const auto& r : reqs) {
    std::string f;
    EXPECT_TRUE(encode_request(r, f));
    out.push_back(f.substr(kFrameHeaderBytes));
  }
  return out;
}

// Drives one connection with seeded garbage; returns a description of what
// went wrong, or empty.
std::string garbage_session(BrokerProcess& broker, uint32_t seed, const std::vector<std::string>& seeds) {
  std::mt19937 rng(seed);
  auto rand = [&](uint32_t n) { return static_cast<uint32_t>(rng() % n); };
  auto random_bytes = [&](size_t n) {
    std::string s(n, '\0');
    for (auto& ch : s) ch = static_cast<char>(rng());
    return s;
  };
  client::Connection c = broker.connect(scaled(10s));
  const std::string tag = "seed " + std::to_string(seed);
  switch (seed % 4) {
    case 0: {  // raw noise in random chunks, then end of stream: the broker closes
      std::string noise = random_bytes(1 + rand(8192));
      std::string last_error;
      for (size_t pos = 0; pos < noise.size();) {
        const size_t n = std::min<size_t>(noise.size() - pos, 1 + rand(512));
        if (Status st = c.send_bytes(std::string_view(noise).substr(pos, n)); !st) {
          last_error = st.to_string();  // closed on a bad length: fine
          break;
        }
        pos += n;
      }
      if (Status st = c.shutdown_write(); !st && last_error.empty()) last_error = st.to_string();
      if (!c.wait_for_close(scaled(10s)))
        return tag + ": noise (" + std::to_string(noise.size()) + " bytes, length " + to_hex(noise.substr(0, 4)) +
               "): broker did not close the connection; last error: " + last_error;
      return {};
    }
    case 1:    // well-framed random payloads: one answer each, in order
    case 2: {  // well-framed mutations of valid requests
      const int frames = 1 + static_cast<int>(rand(20));
      std::string wire;
      for (int i = 0; i < frames; ++i) {
        std::string payload;
        if (seed % 4 == 1) {
          payload = random_bytes(1 + rand(200));
          if (rand(2)) payload[0] = static_cast<char>(1 + rand(0x19));  // mostly known types
        } else {
          payload = seeds[rand(static_cast<uint32_t>(seeds.size()))];
          const int flips = 1 + static_cast<int>(rand(4));
          for (int k = 0; k < flips; ++k) payload[1 + rand(static_cast<uint32_t>(payload.size() - 1))] = static_cast<char>(rng());
          if (rand(4) == 0) payload.resize(1 + rand(static_cast<uint32_t>(payload.size())));
        }
        wire += raw_frame(payload);
      }
      wire += raw_frame(std::string(1, '\xff'));  // Ping
      if (!c.send_bytes(wire)) return tag + ": send failed: " + std::to_string(static_cast<int>(c.last_failure()));
      for (int i = 0; i < frames; ++i) {
        auto r = c.receive();
        if (!r) return tag + ": answer " + std::to_string(i) + ": " + r.status().to_string();
      }
      auto pong = c.receive();
      if (!pong || !std::holds_alternative<PongResponse>(*pong))
        return tag + ": the Ping after " + std::to_string(frames) + " garbage frames was not answered with Pong";
      return {};
    }
    default: {  // a random length and a few bytes, then an abortive close (RST)
      std::string bytes = be32(rng()) + random_bytes(rand(64));
      (void)c.send_bytes(bytes);
      linger l{1, 0};
      ::setsockopt(c.fd(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
      c.close();
      return {};
    }
  }
}

TEST(BrokerConnectionsTest, SeededGarbageFromHundredConnectionsLeavesTheBrokerServing) {
  BrokerProcess broker;
  ASSERT_TRUE(broker.start());
  auto c = broker.connect();
  EXPECT_TRUE(call<CreateTopicResponse>(c, CreateTopicRequest{"t", 1}).success);
  EXPECT_EQ(call<ProduceResponse>(c, ProduceRequest{"t", 0, {"a", "b", "c"}}).base_offset, 0u);

  const auto seeds = mutation_seeds();
  constexpr uint32_t kBaseSeed = 20261126;
  constexpr int kThreads = 4, kPerThread = 25;
  std::atomic<bool> done{false};
  std::atomic<int64_t> bystander_worst_us{0};
  std::thread bystander([&] {
    try {
      auto b = broker.connect();
      while (!done) {
        const auto t = Clock::now();
        if (!pings(b)) {
          ADD_FAILURE() << "bystander ping failed";
          return;
        }
        bystander_worst_us = std::max<int64_t>(bystander_worst_us, us_since(t));
        std::this_thread::sleep_for(2ms);
      }
    } catch (const std::exception& e) {
      ADD_FAILURE() << "bystander: " << e.what();
    }
  });
  std::vector<std::thread> threads;
  std::vector<std::string> problems(kThreads * kPerThread);
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const int n = t * kPerThread + i;
        try {
          problems[n] = garbage_session(broker, kBaseSeed + n, seeds);
        } catch (const std::exception& e) {
          problems[n] = "seed " + std::to_string(kBaseSeed + n) + ": " + e.what();
        }
      }
    });
  for (auto& th : threads) th.join();
  done = true;
  bystander.join();
  for (const auto& p : problems) EXPECT_TRUE(p.empty()) << p;
  // Generous: garbage that decodes as a Produce makes the loop wait for an fsync.
  EXPECT_LT(bystander_worst_us.load(), scaled(2000ms).count() * 1000) << "slowest bystander ping";

  // Still alive and serving, old and new connections alike.
  ASSERT_TRUE(broker.running()) << broker.log_tail();
  EXPECT_TRUE(pings(c));
  auto fresh = broker.connect();
  EXPECT_TRUE(pings(fresh));
  auto p = call<ProduceResponse>(fresh, ProduceRequest{"t", 0, {"after"}});
  auto f = call<FetchResponse>(fresh, FetchRequest{"", "t", 0, p.base_offset, 1024});
  EXPECT_EQ(f.records, (std::vector<std::string>{"after"}));
  auto first = call<FetchResponse>(fresh, FetchRequest{"", "t", 0, 0, 1});
  EXPECT_EQ(first.records, (std::vector<std::string>{"a"}));
}

// ------------------------------------------------------- --max-connections

TEST(BrokerConnectionsTest, ConnectionsAboveMaxConnectionsAreClosed) {
  BrokerProcess broker({"--max-connections", "5"});
  ASSERT_TRUE(broker.start());
  std::vector<client::Connection> conns;
  for (int i = 0; i < 5; ++i) {
    conns.push_back(broker.connect());
    ASSERT_TRUE(pings(conns.back())) << "connection " << i;  // accepted and registered
  }
  // The 6th: TCP connects (the kernel accepts), then the broker closes it.
  auto sixth = broker.connect();
  (void)sixth.send(PingRequest{});
  EXPECT_TRUE(sixth.wait_for_close(scaled(5s))) << "connection 6 of 5 was kept open";
  auto again = broker.connect();
  auto r = again.call(PingRequest{});
  EXPECT_FALSE(r && std::holds_alternative<PongResponse>(*r)) << "connection over the limit was served";
  // The five are unaffected.
  for (auto& c : conns) EXPECT_TRUE(pings(c));
  // A freed slot can be taken again (once the broker has seen the close).
  conns.pop_back();
  bool served = false;
  for (auto deadline = Clock::now() + scaled(5s); !served && Clock::now() < deadline;) {
    auto c = broker.connect();
    auto pr = c.call(PingRequest{});
    served = pr && std::holds_alternative<PongResponse>(*pr);
    if (!served) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(served) << "no connection was accepted after one of the five closed";
}

}  // namespace
}  // namespace rustlog::test
