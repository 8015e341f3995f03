#pragma once
// The compaction write path under the power-loss explorer
// (support/crash_explorer.h): LogCleaner passes (the `.cleaned` files, their
// fsync, the `.swap` renames, the originals renamed to `.deleted`, the final
// names, the directory fsync, the cleaner checkpoint) and purge_deleted,
// interleaved with flushed appends of keyed records and tombstones. Each
// reopen must find:
//   - every record the log holds byte-identical (key, value, timestamp) to
//     the one appended at that offset, offsets strictly increasing: a swap is
//     entirely old or entirely new, never a mix that invents or moves data;
//   - every key's latest acknowledged record (value or tombstone) present at
//     its offset, and everything at or above the first segment no pass may
//     clean (the active one) present in full;
//   - the high watermark past the last acknowledged append;
//   - `rustlog verify` clean, no `.cleaned` / `.swap` file left after reopen;
//   - the cleaner checkpoint one of the values written (or absent).
// A second cleaner over the reopened log finishes cleaning and the same
// checks hold again.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "storage/cleaner_checkpoint.h"
#include "support/compaction_helpers.h"
#include "support/power_loss_workloads.h"

namespace rustlog::test {

class CompactionWithAppendsWorkload : public PowerLossWorkload {
 public:
  explicit CompactionWithAppendsWorkload(int rounds) : rounds_(rounds) {}
  std::string name() const override { return "compaction passes with appends"; }
  static LogConfig config() {
    LogConfig c = compact_config(1024, kPowerLossIndexInterval);
    c.flush = FlushPolicy{};  // always
    return c;
  }
  void setup(const std::string& root) override {
    std::filesystem::create_directory(root + "/t-0");
    auto log = open_log(root + "/t-0", config(), 0);
    ASSERT_NE(log, nullptr);
    while (log->segment_count() < 5) ASSERT_NO_FATAL_FAILURE(append(*log));
    ASSERT_TRUE(log->close().is_ok());
    setup_appends_ = appended_.size();
  }
  void run(const std::string& root, const std::function<void()>& ack) override {
    auto log = open_log(root + "/t-0", config(), 0);
    ASSERT_NE(log, nullptr);
    LogCleaner cleaner(CleanerOptions{});
    ASSERT_TRUE(cleaner.add_log("t-0", log.get()).is_ok());
    for (int i = 0; i < rounds_; ++i) {
      // A pass over everything sealed, then appends that roll (so the next
      // pass has new dirty segments), each acknowledged once flushed.
      cleaner.run_until_idle(kLater, 512);
      checkpoints_.insert(checkpoint(root));
      ASSERT_TRUE(log->purge_deleted().is_ok());
      for (int a = 0; a < 3; ++a) {
        ASSERT_NO_FATAL_FAILURE(append(*log));
        acked_ = appended_.size();
        ack_counts_.push_back(acked_);
        ack();
      }
    }
    ASSERT_GT(cleaner.counters().groups_swapped, 0u) << "no pass swapped anything in";
    cleaner.remove_log("t-0");
  }
  void check(const std::string& root, size_t acked) override {
    const size_t appends = acked ? ack_counts_[acked - 1] : setup_appends_;
    ASSERT_TRUE(checkpoints_.count(checkpoint(root))) << "the cleaner checkpoint is none of the values written";
    auto log = open_log(root + "/t-0", config(), 0);
    ASSERT_NE(log, nullptr);
    ASSERT_NO_FATAL_FAILURE(expect_records(*log, appends));
    for (const auto& e : std::filesystem::directory_iterator(root + "/t-0")) {
      const std::string n = e.path().filename().string();
      EXPECT_EQ(n.find(".cleaned"), std::string::npos) << n << " left after reopen";
      EXPECT_EQ(n.find(".swap"), std::string::npos) << n << " left after reopen";
    }
    // Cleaning resumes on the reopened log and keeps the same guarantees.
    {
      LogCleaner again(CleanerOptions{});
      ASSERT_TRUE(again.add_log("t-0", log.get()).is_ok());
      again.run_until_idle(kLater, 1 << 20);
      again.remove_log("t-0");
      ASSERT_TRUE(log->purge_deleted().is_ok());
    }
    ASSERT_NO_FATAL_FAILURE(expect_records(*log, appends));
    log.reset();
    expect_verify_clean(root, kPowerLossIndexInterval);
  }

 private:
  static constexpr int64_t kLater = kBaseTimestampUs + 3600ll * 1000 * 1000;
  static constexpr int kKeys = 6;

  // One batch of one keyed record: every seventh a tombstone, values sized
  // so that a few batches fill a 1 KiB segment.
  void append(PartitionLog& log) {
    const size_t n = appended_.size();
    KV kv{"k" + std::to_string(n * 5 % kKeys), std::nullopt};
    if (n % 7 != 6) kv.value = "v" + std::to_string(n) + std::string(60 + n % 50, char('a' + n % 26));
    const int64_t ts = kBaseTimestampUs + static_cast<int64_t>(n) * 1000;
    const uint64_t base = log.high_watermark();
    append_batch(log, keyed_batch({kv}, ts), nullptr, ts);
    ASSERT_TRUE(log.flush().is_ok());
    ASSERT_EQ(base, n) << "one record per batch, offsets dense as appended";
    appended_.push_back(kv);
  }
  static std::optional<uint64_t> checkpoint(const std::string& root) {
    auto cp = read_cleaner_checkpoint(root + "/t-0");
    EXPECT_TRUE(cp.is_ok()) << cp.status().to_string();
    return cp.is_ok() ? *cp : std::nullopt;
  }
  // The log against the first `appends` records appended (all acknowledged
  // ones, perhaps more).
  void expect_records(PartitionLog& log, size_t appends) {
    ASSERT_GE(log.high_watermark(), appends) << "acknowledged records lost";
    const auto recs = read_records(log);
    std::set<uint64_t> present;
    for (const auto& r : recs) {
      ASSERT_LT(r.offset, appended_.size()) << "a record at " << r.offset << " was never appended";
      const KV& want = appended_[r.offset];
      EXPECT_EQ(r.key, want.key) << "key at " << r.offset;
      EXPECT_EQ(r.value, want.value) << "value at " << r.offset;
      EXPECT_EQ(r.timestamp_us, kBaseTimestampUs + static_cast<int64_t>(r.offset) * 1000) << "timestamp at " << r.offset;
      present.insert(r.offset);
    }
    // Each key's latest record among the first `appends` (a later one may
    // have replaced it when more reached the disk).
    std::map<std::string, uint64_t> latest;
    for (size_t o = 0; o < appends; ++o) latest[*appended_[o].key] = o;
    for (const auto& [key, off] : latest) {
      bool found = present.count(off) != 0;
      for (size_t o = off + 1; o < appended_.size() && !found; ++o)
        found = present.count(o) && *appended_[o].key == key;
      EXPECT_TRUE(found) << "key " << key << ": its latest acknowledged record (offset " << off << ") is gone";
    }
    // Nothing at or above the active segment's base was cleaned away.
    const uint64_t active = log.segments().back()->base_offset();
    for (uint64_t o = active; o < log.high_watermark(); ++o)
      EXPECT_TRUE(present.count(o)) << "offset " << o << " in the active segment missing";
  }

  int rounds_;
  size_t setup_appends_ = 0;
  size_t acked_ = 0;
  std::vector<KV> appended_;
  std::vector<size_t> ack_counts_;  // appends covered by each acknowledgement
  std::set<std::optional<uint64_t>> checkpoints_{std::nullopt};
};

}  // namespace rustlog::test
