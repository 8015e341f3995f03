#pragma once
// kill -9 under load, for the crash tests (tests/integration/broker_crash_test
// and the longer tests/long/broker_crash_long_test).
//
// Each round: a few client threads produce (v0 Produce and ProduceEx with
// keys, headers and timestamps) to a flush=always topic with small segments,
// and after each acknowledged produce commit "the next offset" for their
// group. While that runs, the broker is killed with SIGKILL. Then it is
// restarted and every acknowledgement ever received is checked: each
// acknowledged record is at its offset, byte-identical, and each
// acknowledged commit is present with at least the acknowledged value.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/broker_calls.h"
#include "support/broker_process.h"

namespace rustlog::test {

class CrashWorkload {
 public:
  static constexpr const char* kTopic = "crash";
  static constexpr uint32_t kPartitions = 3;
  static constexpr int kThreads = 4;

  CrashWorkload(BrokerProcess& broker, uint32_t seed) : broker_(broker), seed_(seed) {}

  // Creates the topic (flush always, 256 KiB segments so recovery crosses
  // segment boundaries and rebuilds indexes).
  void setup() {
    auto c = broker_.connect();
    call<protocol::CreateTopicExResponse>(
        c, protocol::CreateTopicExRequest{kTopic, kPartitions, {{"segment.bytes", "262144"}, {"flush", "always"}}});
  }

  // Runs the load, kills the broker mid-way (kill -9, or SIGTERM when
  // `graceful`: then it must exit 0), and restarts it.
  void crash_round(int round, bool graceful = false) {
    std::atomic<int> acks_this_round{0};
    killed_ = false;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([this, t, round, &acks_this_round] { client_loop(t, round, acks_this_round); });

    // Kill while the load runs: after some acknowledgements, at a random moment.
    std::mt19937 rng(seed_ * 7919u + static_cast<uint32_t>(round));
    const auto deadline = std::chrono::steady_clock::now() + scaled(std::chrono::seconds(5));
    while (acks_this_round < 20 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 300));
    killed_ = true;
    if (graceful) {
      const int code = broker_.stop();
      EXPECT_EQ(code, 0) << "SIGTERM under load, round " << round << "\n" << broker_.log_tail();
    } else {
      broker_.kill9();
    }
    for (auto& th : threads) th.join();
    EXPECT_GE(acks_this_round.load(), 20) << "round " << round << ": the load did not get going\n" << broker_.log_tail();
    for (const auto& p : problems_) ADD_FAILURE() << "round " << round << ": " << p;
    problems_.clear();
    ASSERT_TRUE(broker_.start()) << "restart after " << (graceful ? "SIGTERM" : "kill -9") << " in round " << round;
  }

  // Checks every acknowledgement received so far against the restarted broker.
  void verify(int round) {
    auto c = broker_.connect();
    std::vector<std::map<uint64_t, Record>> stored(kPartitions);
    std::vector<uint64_t> hw(kPartitions);
    for (uint32_t p = 0; p < kPartitions; ++p) {
      uint64_t next = 0;
      for (;;) {
        auto f = call<protocol::FetchExResponse>(c, protocol::FetchExRequest{kTopic, p, next, 1 << 20, 0, 0});
        hw[p] = f.high_watermark;
        if (f.records.empty()) break;
        for (auto& r : f.records) stored[p].emplace(r.offset, std::move(r));
        next = f.next_offset;
      }
    }
    size_t records_checked = 0, bad = 0;
    for (const Ack& a : acks_) {
      for (size_t i = 0; i < a.records.size(); ++i) {
        const uint64_t off = a.base + i;
        auto it = stored[a.partition].find(off);
        if (it == stored[a.partition].end()) {
          if (++bad <= 10) ADD_FAILURE() << "round " << round << ": acknowledged record " << a.partition << "/" << off
                                         << " is missing (high watermark " << hw[a.partition] << ")";
          continue;
        }
        const Record& got = it->second;
        const protocol::ProducerRecord& want = a.records[i];
        bool same = got.value == want.value;
        if (!a.legacy) same = same && got.key == want.key && got.headers == want.headers && got.timestamp_us == want.timestamp_us;
        if (!same && ++bad <= 10)
          ADD_FAILURE() << "round " << round << ": acknowledged record " << a.partition << "/" << off
                        << " differs from what was produced";
        ++records_checked;
      }
      if (a.base + a.records.size() > hw[a.partition] && ++bad <= 10)
        ADD_FAILURE() << "round " << round << ": high watermark " << hw[a.partition] << " of partition " << a.partition
                      << " is below acknowledged offset " << a.base + a.records.size() - 1;
    }
    for (const auto& [key, offset] : commits_) {
      auto r = call<protocol::OffsetFetchResponse>(c, protocol::OffsetFetchRequest{key.first, kTopic, key.second});
      EXPECT_TRUE(r.offset.has_value() && *r.offset >= offset)
          << "round " << round << ": group " << key.first << " partition " << key.second << " acknowledged commit "
          << offset << ", after restart " << (r.offset ? std::to_string(*r.offset) : std::string("none"));
    }
    EXPECT_EQ(bad, 0u) << "round " << round << "\n" << broker_.log_tail();
    records_checked_ = records_checked;
  }

  size_t acked_batches() const { return acks_.size(); }
  size_t records_checked() const { return records_checked_; }
  size_t commits() const { return commits_.size(); }

 private:
  struct Ack {
    uint32_t partition = 0;
    uint64_t base = 0;
    bool legacy = true;
    std::vector<protocol::ProducerRecord> records;
  };

  void client_loop(int t, int round, std::atomic<int>& acks_this_round) {
    std::mt19937 rng(seed_ + 1000u * static_cast<uint32_t>(round) + static_cast<uint32_t>(t));
    const std::string group = "g" + std::to_string(t);
    std::vector<Ack> acks;
    std::map<std::pair<std::string, uint32_t>, uint64_t> commits;
    auto problem = [&](const std::string& what) {
      if (killed_) return;  // failures after the kill are expected
      std::lock_guard<std::mutex> lock(mu_);
      problems_.push_back("thread " + std::to_string(t) + ": " + what);
    };
    try {
      auto c = broker_.connect(scaled(std::chrono::seconds(10)));
      for (int seq = 0; !killed_; ++seq) {
        Ack a;
        a.partition = rng() % kPartitions;
        a.legacy = (t % 2 == 0);
        const int n = 1 + static_cast<int>(rng() % 5);
        for (int i = 0; i < n; ++i) {
          protocol::ProducerRecord r;
          std::string v = "r" + std::to_string(round) + "-t" + std::to_string(t) + "-s" + std::to_string(seq) + "-" +
                          std::to_string(i) + ":";
          const size_t len = rng() % 16 == 0 ? 10'000 + rng() % 30'000 : rng() % 600;  // batch < segment
          for (size_t k = 0; k < len; ++k) v.push_back(static_cast<char>(rng()));
          r.value = std::move(v);
          if (!a.legacy) {
            r.timestamp_us = 1'700'000'000'000'000 + static_cast<int64_t>(rng() % 1'000'000'000);
            if (rng() % 3) r.key = "key-" + std::to_string(rng() % 100);
            if (rng() % 2) r.headers = {{"round", std::to_string(round)}, {"bin", std::string(1, static_cast<char>(rng()))}};
            if (rng() % 10 == 0) r.value.reset();  // tombstone
          }
          a.records.push_back(std::move(r));
        }
        protocol::Request req;
        if (a.legacy) {
          protocol::ProduceRequest p{kTopic, a.partition, {}};
          for (const auto& r : a.records) p.records.push_back(*r.value);
          req = std::move(p);
        } else {
          req = protocol::ProduceExRequest{kTopic, a.partition, -1, a.records};
        }
        auto resp = c.call(req);
        if (!resp) {
          problem("produce failed: " + resp.status().to_string());
          break;
        }
        if (a.legacy) {
          auto* pr = std::get_if<protocol::ProduceResponse>(&*resp);
          if (!pr) {
            problem("produce answered with " + describe(*resp));
            break;
          }
          a.base = pr->base_offset;
        } else {
          auto* pr = std::get_if<protocol::ProduceExResponse>(&*resp);
          if (!pr) {
            problem("produce answered with " + describe(*resp));
            break;
          }
          a.base = pr->base_offset;
        }
        const uint64_t next = a.base + a.records.size();
        const uint32_t partition = a.partition;
        acks.push_back(std::move(a));
        ++acks_this_round;

        auto cr = c.call(protocol::OffsetCommitRequest{group, kTopic, partition, next});
        if (!cr) {
          problem("commit failed: " + cr.status().to_string());
          break;
        }
        auto* ok = std::get_if<protocol::OffsetCommitResponse>(&*cr);
        if (!ok || !ok->success) {
          problem("commit answered with " + describe(*cr));
          break;
        }
        uint64_t& best = commits[{group, partition}];
        best = std::max(best, next);
      }
    } catch (const std::exception& e) {
      problem(e.what());
    }
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& a : acks) acks_.push_back(std::move(a));
    for (const auto& [k, v] : commits) {
      uint64_t& best = commits_[k];
      best = std::max(best, v);
    }
  }

  BrokerProcess& broker_;
  uint32_t seed_;
  std::atomic<bool> killed_{false};
  std::mutex mu_;
  std::vector<std::string> problems_;
  std::vector<Ack> acks_;
  std::map<std::pair<std::string, uint32_t>, uint64_t> commits_;
  size_t records_checked_ = 0;
};

// `rounds` kill -9 (or SIGTERM) / restart / verify cycles on one data dir.
inline void run_crash_rounds(int rounds, uint32_t seed, bool graceful = false) {
  BrokerProcess broker;
  ASSERT_TRUE(broker.start());
  CrashWorkload w(broker, seed);
  ASSERT_NO_FATAL_FAILURE(w.setup());
  int round = 0;
  for (; round < rounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    ASSERT_NO_FATAL_FAILURE(w.crash_round(round, graceful));
    ASSERT_NO_FATAL_FAILURE(w.verify(round));
    if (::testing::Test::HasFailure()) break;  // later rounds only pile up the same failure
  }
  std::printf("crash rounds: %d, acknowledged batches: %zu, records checked: %zu, committed keys: %zu\n", round,
              w.acked_batches(), w.records_checked(), w.commits());
}

}  // namespace rustlog::test
