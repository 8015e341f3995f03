// End to end: the log cleaner running inside a real kafka-lite, driven by
// the loop's tick. A compacted topic written and read back with the rustlog
// CLI keeps each key's latest record at the offset it was produced at;
// __consumer_offsets shrinks from 50,000 commits of one key to a few records,
// and a restart (which replays it) still sees the latest commit.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/broker_calls.h"
#include "support/broker_process.h"
#include "support/child_process.h"

namespace rustlog::test {
namespace {

using namespace protocol;
using namespace std::chrono_literals;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Fast cleaning for tests: a quiet active segment rolls within a second
// (segment.ms, applied on the tick), the cleaner retries every 50 ms.
const std::vector<std::string> kFastCleaner = {"--metrics-listen", "off", "--cleaner-backoff-ms", "50",
                                               "--segment-ms", "300"};

class BrokerCompactionTest : public ::testing::Test {
 protected:
  RunResult rustlog(std::vector<std::string> args, std::string stdin_data = {}) {
    args.insert(args.begin(), bin("rustlog"));
    RunOptions o;
    o.env["RUSTLOG_BROKER"] = "127.0.0.1:" + std::to_string(broker_.port());
    o.stdin_data = std::move(stdin_data);
    return run_program(args, o);
  }
  std::string ok(std::vector<std::string> args, std::string stdin_data = {}) {
    RunResult r = rustlog(args, std::move(stdin_data));
    EXPECT_EQ(r.exit_code, 0) << args[0] << ": " << r.err << "\n" << broker_.log_tail();
    return r.out;
  }
  // Polls `rustlog topic describe --json` until `done` holds (30 s, scaled).
  json describe_until(const std::string& topic, const std::function<bool(const json&)>& done) {
    json d;
    const auto deadline = Clock::now() + scaled(30s);
    while (Clock::now() < deadline) {
      d = json::parse(ok({"topic", "describe", topic, "--json"}));
      if (done(d)) return d;
      std::this_thread::sleep_for(50ms);
    }
    ADD_FAILURE() << "condition never held; last describe: " << d.dump() << "\n" << broker_.log_tail();
    return d;
  }

  BrokerProcess broker_{kFastCleaner};
};

TEST_F(BrokerCompactionTest, ATopicWrittenWithTheCliReadsBackEachKeysLatestRecordAtItsOffset) {
  ASSERT_TRUE(broker_.start());
  ok({"topic", "create", "users", "--config", "cleanup.policy=compact", "--config", "segment.bytes=16384",
      "--config", "min.cleanable.dirty.ratio=0.01"});
  // 60 keys, 20 rounds each; every 7th key ends with a tombstone (-Z).
  // One partition, one producer: line i lands at offset i.
  constexpr int kKeys = 60, kRounds = 20;
  std::string input;
  std::map<std::string, std::pair<uint64_t, std::optional<std::string>>> latest;  // key -> (offset, value)
  std::vector<std::optional<std::string>> produced;                              // by offset
  for (int r = 0; r < kRounds; ++r)
    for (int k = 0; k < kKeys; ++k) {
      const std::string key = "user-" + std::to_string(k);
      std::optional<std::string> value = "v" + std::to_string(r) + "-" + std::string(40, 'x');
      if (r == kRounds - 1 && k % 7 == 0) value.reset();
      input += key + ":" + value.value_or("") + "\n";
      latest[key] = {produced.size(), value};
      produced.push_back(value);
    }
  ok({"produce", "users", "-k", ":", "-Z", "--batch-bytes", "4096"}, input);
  ASSERT_FALSE(HasFailure());

  // The tick rolls the quiet active segment, the cleaner compacts every sealed one.
  const json d = describe_until("users", [](const json& now) {
    const json& p = now["partitions"][0];
    return p["cleaner_state"] == "idle" && p["dirty_ratio"] == 0.0 && p["cleaner_lag_bytes"] == 0;
  });
  EXPECT_EQ(d["partitions"][0]["high_watermark"], kKeys * kRounds) << "the next offset never moves back";
  EXPECT_LT(d["partitions"][0]["size_bytes"], 2 * kKeys * 100) << d.dump();

  auto check_read_back = [&] {
    std::map<std::string, uint64_t> seen;
    int64_t last = -1;
    for (const std::string& line : split_lines(ok({"consume", "users", "--format", "json"}))) {
      const json r = json::parse(line);
      const std::string key = r["key"];
      const uint64_t off = r["offset"];
      EXPECT_GT(static_cast<int64_t>(off), last) << "offsets strictly increase";
      last = static_cast<int64_t>(off);
      ASSERT_LT(off, produced.size());
      EXPECT_EQ(r["value"].is_null(), !produced[off].has_value()) << line;
      if (produced[off]) {
        EXPECT_EQ(r["value"], *produced[off]) << "offset " << off << " keeps what was produced there";
      }
      EXPECT_TRUE(seen.emplace(key, off).second) << "key " << key << " read twice";
    }
    for (const auto& [key, lv] : latest) {
      auto it = seen.find(key);
      if (!lv.second) {
        // A tombstone is kept until delete.retention.ms after the clean: either it or nothing.
        if (it != seen.end()) {
          EXPECT_EQ(it->second, lv.first) << key;
        }
        continue;
      }
      ASSERT_NE(it, seen.end()) << "key " << key << " lost";
      EXPECT_EQ(it->second, lv.first) << "key " << key << " is not at its latest offset";
    }
  };
  check_read_back();
  // The cleaned segments are what a restart finds.
  EXPECT_EQ(broker_.stop(), 0);
  ASSERT_TRUE(broker_.start());
  check_read_back();
  EXPECT_TRUE(has_substr(broker_.log(), "cleaner: cleaned users-0: ")) << broker_.log_tail();
}

TEST_F(BrokerCompactionTest, ConsumerOffsetsAfter50000CommitsToOneKeyShrinkAndARestartSeesTheLatest) {
  broker_.set_args({"--metrics-listen", "off", "--cleaner-backoff-ms", "50", "--segment-ms", "300",
                    "--offsets-segment-bytes", "65536"});
  ASSERT_TRUE(broker_.start());
  auto c = broker_.connect();
  call<CreateTopicExResponse>(c, CreateTopicExRequest{"t", 1, {}});
  call<ProduceExResponse>(c, ProduceExRequest{"t", 0, kBrokerTimestamp, {ProducerRecord{-1, "k", "v", {}}}});
  // 50,000 commits to one key from 50 connections at once (one group-commit
  // fsync covers a commit of each), then one last commit of 0.
  constexpr int kCommits = 50000, kConnections = 50;
  std::vector<std::thread> committers;
  std::atomic<int> failures{0};
  for (int t = 0; t < kConnections; ++t)
    committers.emplace_back([&, t] {
      try {
        auto conn = broker_.connect();
        for (int i = 0; i < kCommits / kConnections - (t == 0 ? 1 : 0); ++i)
          if (!call<OffsetCommitResponse>(conn, OffsetCommitRequest{"g", "t", 0, 1}).success) ++failures;
      } catch (const std::exception&) {
        ++failures;
      }
    });
  for (auto& th : committers) th.join();
  ASSERT_EQ(failures.load(), 0);
  ASSERT_TRUE(call<OffsetCommitResponse>(c, OffsetCommitRequest{"g", "t", 0, 0}).success);
  const auto count_records = [&](client::Connection& conn) {
    size_t n = 0;
    uint64_t next = 0;
    for (;;) {
      auto f = call<FetchExResponse>(conn, FetchExRequest{"__consumer_offsets", 0, next, 1 << 20, 0, 0});
      if (f.records.empty()) return n;
      n += f.records.size();
      next = f.next_offset;
    }
  };

  // Compaction leaves the key's latest record in the cleaned segments and at
  // most two more in the segments it may not clean yet; every commit is two
  // records (its primary and its mirror copy, two keys to the cleaner), so
  // the bound is 2 x 3.
  constexpr size_t kMaxLeft = 2 * 3;
  size_t left = 2 * kCommits;
  const auto deadline = Clock::now() + scaled(60s);
  while (Clock::now() < deadline && (left = count_records(c)) > kMaxLeft) std::this_thread::sleep_for(100ms);
  EXPECT_LE(left, kMaxLeft) << "__consumer_offsets was not compacted\n" << broker_.log_tail();
  auto d = call<DescribeTopicConfigResponse>(c, DescribeTopicConfigRequest{"__consumer_offsets"});
  ASSERT_EQ(d.partitions.size(), 1u);
  EXPECT_EQ(d.partitions[0].high_watermark, static_cast<uint64_t>(2 * kCommits)) << "offsets are preserved";
  EXPECT_LT(d.partitions[0].size_bytes, 64u * 1024) << "50,000 commits take about 8 MB before cleaning";

  EXPECT_EQ(broker_.stop(), 0);
  ASSERT_TRUE(broker_.start());
  auto c2 = broker_.connect();
  EXPECT_EQ(call<OffsetFetchResponse>(c2, OffsetFetchRequest{"g", "t", 0}).offset, std::optional<uint64_t>(0));
  EXPECT_LE(count_records(c2), kMaxLeft);
}

std::string keyed_lines(int keys, int rounds, size_t value_bytes) {
  std::string input;
  for (int r = 0; r < rounds; ++r)
    for (int k = 0; k < keys; ++k) input += "k" + std::to_string(k) + ":" + std::string(value_bytes, 'a' + r % 26) + "\n";
  return input;
}

TEST_F(BrokerCompactionTest, TheIoCapBoundsTheCleanersBytesPerSecond) {
  constexpr double kCap = 400 * 1024, kStep = 16 * 1024;
  broker_.set_args({"--metrics-listen", "off", "--cleaner-backoff-ms", "50", "--segment-ms", "300",
                    "--cleaner-max-bytes-per-sec", "409600", "--cleaner-step-bytes", "16384"});
  ASSERT_TRUE(broker_.start());
  ok({"topic", "create", "capped", "--config", "cleanup.policy=compact", "--config", "segment.bytes=65536",
      "--config", "min.cleanable.dirty.ratio=0.01"});
  ok({"produce", "capped", "-k", ":", "--batch-bytes", "4096"}, keyed_lines(100, 60, 200));  // ~1.3 MB
  auto c = broker_.connect();
  auto cleaner_bytes = [&] {
    return metric(c, "rustlog_compaction_read_bytes_total") + metric(c, "rustlog_compaction_written_bytes_total");
  };
  // Wait for the cleaner to start, then watch it for a second or two.
  const auto deadline = Clock::now() + scaled(30s);
  while (Clock::now() < deadline && cleaner_bytes() == 0) std::this_thread::sleep_for(20ms);
  const double b0 = cleaner_bytes();
  const auto t0 = Clock::now();
  std::this_thread::sleep_for(1500ms);
  const double b1 = cleaner_bytes();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  ASSERT_GT(b0, 0) << "the cleaner never started\n" << broker_.log_tail();
  // Slowness can only lower the rate; the bound allows the step in flight at each end.
  EXPECT_LE(b1 - b0, kCap * secs + 2 * kStep + 8192) << "over " << secs << " s";
  EXPECT_GT(b1, b0) << "the capped cleaner still makes progress";
}

TEST_F(BrokerCompactionTest, ACorruptSegmentMakesItsPartitionUncleanableAndTheOthersAreStillCleaned) {
  broker_.set_args({"--metrics-listen", "off", "--cleaner-backoff-ms", "50"});
  ASSERT_TRUE(broker_.start());
  // "bad" waits 3 s before its segments are cleanable: time to damage one.
  ok({"topic", "create", "bad", "--config", "cleanup.policy=compact", "--config", "segment.bytes=8192",
      "--config", "min.cleanable.dirty.ratio=0.01", "--config", "min.compaction.lag.ms=3000"});
  ok({"topic", "create", "good", "--config", "cleanup.policy=compact", "--config", "segment.bytes=8192",
      "--config", "min.cleanable.dirty.ratio=0.01"});
  const std::string input = keyed_lines(20, 20, 100);  // ~50 KB: several sealed segments
  ok({"produce", "bad", "-k", ":", "--batch-bytes", "2048"}, input);
  ok({"produce", "good", "-k", ":", "--batch-bytes", "2048"}, input);
  const std::string seg = broker_.data_dir() + "/bad-0/00000000000000000000.log";
  std::string bytes;
  {
    std::ifstream in(seg, std::ios::binary);
    ASSERT_TRUE(in) << seg;
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_GT(bytes.size(), 1000u);
  bytes[bytes.size() / 2] ^= 0x10;  // inside some record: its batch's CRC no longer matches
  {
    std::fstream out(seg, std::ios::binary | std::ios::in | std::ios::out);
    out.seekp(static_cast<std::streamoff>(bytes.size() / 2));
    out.put(bytes[bytes.size() / 2]);
  }

  describe_until("bad", [](const json& d) { return d["partitions"][0]["cleaner_state"] == "uncleanable"; });
  const json good = describe_until("good", [](const json& d) {
    return d["partitions"][0]["dirty_ratio"] == 0.0 && d["partitions"][0]["cleaner_state"] == "idle";
  });
  EXPECT_LT(good["partitions"][0]["size_bytes"], 20000) << good.dump();
  // The cleaner retries "bad" after its backoff (50 ms, doubling), and a
  // retry is "cleaning" while it runs: the gauges are read from one scrape
  // taken while the partition is marked, so they must agree with each other.
  auto c = broker_.connect();
  const auto bad_uncleanable = [](const std::string& text) {
    return metric_in(text, "rustlog_partition_cleaner_state", {{"topic", "bad"}, {"state", "uncleanable"}});
  };
  std::string text = metrics_text(c);
  for (const auto deadline = Clock::now() + scaled(30s); bad_uncleanable(text) != 1 && Clock::now() < deadline;) {
    std::this_thread::sleep_for(10ms);
    text = metrics_text(c);
  }
  EXPECT_EQ(bad_uncleanable(text), 1) << text;
  EXPECT_EQ(metric_in(text, "rustlog_compaction_uncleanable_partitions"), 1);
  EXPECT_GE(metric_in(text, "rustlog_compaction_uncleanable_total"), 1);
  EXPECT_TRUE(has_substr(broker_.log(), "bad-0 is uncleanable")) << broker_.log_tail();
  // Its data is left as it was, damage included.
  std::ifstream in(seg, std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), bytes) << "the uncleanable segment was changed";
  EXPECT_EQ(broker_.stop(), 0);
}

TEST_F(BrokerCompactionTest, ACompactedTopicDeletedWhileItIsCleanedCanBeCreatedAgain) {
  ASSERT_TRUE(broker_.start());
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    ok({"topic", "create", "c", "--config", "cleanup.policy=compact", "--config", "segment.bytes=8192",
        "--config", "min.cleanable.dirty.ratio=0.01"});
    ok({"produce", "c", "-k", ":", "--batch-bytes", "2048"}, keyed_lines(20, 30, 100));
    ok({"topic", "delete", "c"});  // the cleaner may be in the middle of a pass over it
  }
  ok({"topic", "create", "c", "--config", "cleanup.policy=compact"});
  ok({"produce", "c", "-k", ":"}, "k:v\n");
  EXPECT_EQ(split_lines(ok({"consume", "c"})), std::vector<std::string>{"v"});
  EXPECT_EQ(broker_.stop(), 0);
}

// A swap's fsyncs run on the disk-wait worker: one that fails there leaves
// the partition uncleanable and the old log served, nothing left over.
TEST_F(BrokerCompactionTest, ASwapWhoseOffLoopFsyncFailsLeavesThePartitionUncleanableAndTheOldLogServed) {
  // A retry only 3 s after the failure: the directory is looked at in between.
  broker_.set_args({"--metrics-listen", "off", "--cleaner-backoff-ms", "3000", "--segment-ms", "300"});
  ::setenv("RUSTLOG_FAULT", "sync:EIO:path=.cleaned:times=1000000", 1);
  const bool started = broker_.start();
  ::unsetenv("RUSTLOG_FAULT");
  ASSERT_TRUE(started);
  ok({"topic", "create", "c", "--config", "cleanup.policy=compact", "--config", "segment.bytes=8192",
      "--config", "min.cleanable.dirty.ratio=0.01"});
  const std::string input = keyed_lines(20, 20, 100);  // ~50 KB: several sealed segments
  ok({"produce", "c", "-k", ":", "--batch-bytes", "2048"}, input);
  describe_until("c", [](const json& d) { return d["partitions"][0]["cleaner_state"] == "uncleanable"; });
  auto conn = broker_.connect();
  EXPECT_GE(metric(conn, "rustlog_compaction_disk_waits_total"), 1) << "the fsync ran off the loop";
  EXPECT_GE(metric(conn, "rustlog_compaction_uncleanable_total"), 1);
  EXPECT_EQ(metric(conn, "rustlog_compaction_runs_total"), 0);
  EXPECT_TRUE(has_substr(broker_.log(), "c-0 is uncleanable")) << broker_.log_tail();
  EXPECT_TRUE(has_substr(broker_.log(), "fsync failed on")) << broker_.log_tail();
  // The old log, every record of it, in order.
  std::vector<std::string> values;
  for (const std::string& line : split_lines(input)) values.push_back(line.substr(line.find(':') + 1));
  EXPECT_EQ(split_lines(ok({"consume", "c"})), values);
  for (const auto& e : std::filesystem::directory_iterator(broker_.data_dir() + "/c-0")) {
    const std::string name = e.path().filename().string();
    EXPECT_FALSE(has_substr(name, ".cleaned") || has_substr(name, ".swap")) << "left over: " << name;
  }
  EXPECT_EQ(broker_.stop(), 0);
}

// While a swap's fsync is under way (held by the fault seam until a file
// exists) the loop goes on answering other clients; the swap ends after it.
TEST_F(BrokerCompactionTest, TheLoopAnswersOtherClientsWhileASwapsFsyncIsPending) {
  const std::string release = broker_.root_dir() + "/release-fsync";
  ::setenv("RUSTLOG_FAULT", ("sync:HOLD:until=" + release + ":path=.cleaned:times=1000000").c_str(), 1);
  const bool started = broker_.start();
  ::unsetenv("RUSTLOG_FAULT");
  ASSERT_TRUE(started);
  ok({"topic", "create", "c", "--config", "cleanup.policy=compact", "--config", "segment.bytes=8192",
      "--config", "min.cleanable.dirty.ratio=0.01"});
  ok({"topic", "create", "other"});
  ok({"produce", "c", "-k", ":", "--batch-bytes", "2048"}, keyed_lines(20, 20, 100));
  auto conn = broker_.connect();
  const auto deadline = Clock::now() + scaled(30s);
  while (Clock::now() < deadline && metric(conn, "rustlog_compaction_disk_wait_pending") != 1)
    std::this_thread::sleep_for(20ms);
  ASSERT_EQ(metric(conn, "rustlog_compaction_disk_wait_pending"), 1) << broker_.log_tail();
  // Produce, fetch and describe on another partition are answered meanwhile.
  for (int i = 0; i < 50; ++i) {
    const auto r = call<ProduceExResponse>(
        conn, ProduceExRequest{"other", 0, kBrokerTimestamp, {ProducerRecord{-1, "k", "v" + std::to_string(i), {}}}});
    EXPECT_EQ(r.base_offset, static_cast<uint64_t>(i));
  }
  const auto f = call<FetchExResponse>(conn, FetchExRequest{"other", 0, 0, 1 << 20, 0, 0});
  EXPECT_EQ(f.records.size(), 50u);
  EXPECT_EQ(split_lines(ok({"consume", "other"})).size(), 50u);
  EXPECT_EQ(metric(conn, "rustlog_compaction_disk_wait_pending"), 1) << "the fsync is still held";
  EXPECT_EQ(metric(conn, "rustlog_compaction_runs_total"), 0);
  // Released: the swaps finish and the pass completes.
  { std::ofstream(release) << "go\n"; }
  describe_until("c", [](const json& d) {
    const json& p = d["partitions"][0];
    return p["cleaner_state"] == "idle" && p["dirty_ratio"] == 0.0 && p["cleaner_lag_bytes"] == 0;
  });
  EXPECT_GE(metric(conn, "rustlog_compaction_runs_total"), 1);
  EXPECT_EQ(metric(conn, "rustlog_compaction_disk_wait_pending"), 0);
  EXPECT_EQ(split_lines(ok({"consume", "c"})).size(), 20u) << "one record per key";
  EXPECT_EQ(broker_.stop(), 0);
}

}  // namespace
}  // namespace rustlog::test
