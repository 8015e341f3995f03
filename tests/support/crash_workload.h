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
// acknowledged commit is present with at least the acknowledged value --
// twice: through the broker (FetchEx, OffsetFetch) and by an independent
// verifier that decodes the partitions' segment files itself
// (read_log_files), so a broker that served what is not on disk is caught.
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

#include <algorithm>
#include <filesystem>

#include "offsets/offset_store.h"
#include "storage/record_batch.h"
#include "storage/segment.h"
#include "support/broker_calls.h"
#include "support/broker_process.h"
#include "support/temp_dir.h"

namespace rustlog::test {

// The records of a partition directory, decoded straight from its .log files
// (in base-offset order, each up to its first invalid batch), by offset.
inline std::map<uint64_t, Record> read_log_files(const std::string& dir) {
  std::vector<std::pair<uint64_t, std::string>> logs;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (auto base = Segment::parse_log_file_name(e.path().filename().string())) logs.emplace_back(*base, e.path());
  std::sort(logs.begin(), logs.end());
  std::map<uint64_t, Record> out;
  for (const auto& [base, path] : logs) {
    const std::string bytes = read_bytes(path);
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
    size_t pos = 0;
    while (pos < bytes.size()) {
      BatchHeader h;
      if (parse_batch_header(p + pos, bytes.size() - pos, &h) != BatchError::kOk || h.total_size() > bytes.size() - pos)
        break;
      std::vector<Record> recs;
      if (!decode_batch(p + pos, h.total_size(), nullptr, &recs).is_ok()) break;
      for (auto& r : recs) out[r.offset] = std::move(r);
      pos += h.total_size();
    }
  }
  return out;
}

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
    verify_files(round);
  }

  // The independent verifier: the acknowledgements against the files.
  void verify_files(int round) {
    size_t bad = 0;
    for (uint32_t p = 0; p < kPartitions; ++p) {
      const auto on_disk = read_log_files(broker_.data_dir() + "/" + kTopic + "-" + std::to_string(p));
      for (const Ack& a : acks_) {
        if (a.partition != p) continue;
        for (size_t i = 0; i < a.records.size(); ++i) {
          auto it = on_disk.find(a.base + i);
          const protocol::ProducerRecord& want = a.records[i];
          bool same = it != on_disk.end() && it->second.value == want.value;
          if (same && !a.legacy)
            same = it->second.key == want.key && it->second.headers == want.headers &&
                   it->second.timestamp_us == want.timestamp_us;
          if (!same && ++bad <= 10)
            ADD_FAILURE() << "round " << round << ": the segment files of partition " << p
                          << (it == on_disk.end() ? " lack" : " hold another") << " acknowledged record " << a.base + i;
        }
      }
    }
    // Commits: the latest record per key in __consumer_offsets' files.
    std::map<std::pair<std::string, uint32_t>, uint64_t> committed;
    for (const auto& [off, r] : read_log_files(broker_.data_dir() + "/" + kOffsetsTopic + "-0")) {
      auto k = r.key ? decode_group_key(*r.key) : std::nullopt;
      if (!k || k->topic != kTopic) continue;
      if (auto v = r.value ? decode_offset_value(*r.value) : std::nullopt) committed[{k->group, k->partition}] = *v;
      else committed.erase({k->group, k->partition});
    }
    for (const auto& [key, offset] : commits_) {
      auto it = committed.find(key);
      if ((it == committed.end() || it->second < offset) && ++bad <= 10)
        ADD_FAILURE() << "round " << round << ": __consumer_offsets' files lack the acknowledged commit " << offset
                      << " of group " << key.first << " partition " << key.second;
    }
    EXPECT_EQ(bad, 0u) << "round " << round << " (segment files)";
    ++file_checks_;
  }

  size_t acked_batches() const { return acks_.size(); }
  size_t records_checked() const { return records_checked_; }
  size_t commits() const { return commits_.size(); }
  size_t file_checks() const { return file_checks_; }

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
  size_t file_checks_ = 0;
};

// `rounds` kill -9 (or SIGTERM) / restart / verify cycles, on a fresh data
// dir every `rounds_per_dir` rounds (so long runs stay bounded in disk use
// and verification time).
inline void run_crash_rounds(int rounds, uint32_t seed, bool graceful = false, int rounds_per_dir = 50) {
  int round = 0;
  size_t batches = 0, records = 0, commits = 0, file_checks = 0;
  while (round < rounds && !::testing::Test::HasFailure()) {
    BrokerProcess broker;
    ASSERT_TRUE(broker.start());
    CrashWorkload w(broker, seed + static_cast<uint32_t>(round));
    ASSERT_NO_FATAL_FAILURE(w.setup());
    for (int in_dir = 0; in_dir < rounds_per_dir && round < rounds; ++in_dir, ++round) {
      SCOPED_TRACE("round " + std::to_string(round));
      ASSERT_NO_FATAL_FAILURE(w.crash_round(round, graceful));
      ASSERT_NO_FATAL_FAILURE(w.verify(round));
      if (::testing::Test::HasFailure()) break;  // later rounds only pile up the same failure
    }
    batches += w.acked_batches();
    records += w.records_checked();
    commits += w.commits();
    file_checks += w.file_checks();
  }
  std::printf("crash rounds: %d, acknowledged batches: %zu, records checked (last check per data dir): %zu, "
              "committed keys: %zu, independent file checks: %zu\n",
              round, batches, records, commits, file_checks);
}

}  // namespace rustlog::test
