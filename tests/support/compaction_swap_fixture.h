#pragma once
// A log for the crash tests of compaction's swap: written with 1 KiB
// segments and cleaned with segment.bytes 4 KiB, so one pass replaces a
// group of several segments by one (the swap deletes originals other than
// the first). `old_records` is the log before the pass, `new_records` after
// a pass without faults (the same pass, same clock: deterministic).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "support/compaction_helpers.h"

namespace rustlog::test {

inline constexpr int64_t kSwapCleanUs = kBaseTimestampUs + 3600ll * 1000 * 1000;
inline constexpr uint32_t kSwapIndexInterval = 128;

inline LogConfig swap_write_config() { return compact_config(1024, kSwapIndexInterval); }
inline LogConfig swap_clean_config() {
  LogConfig c = compact_config(4096, kSwapIndexInterval);
  c.flush = FlushPolicy{};
  return c;
}

// Writes the log into `dir` (flushed, closed).
inline void write_swap_log(const std::string& dir) {
  auto log = open_log(dir, swap_write_config(), 0);
  ASSERT_TRUE(log);
  fill_keys(*log, 3, 9);
  append_batch(*log, keyed_batch({{"k1", std::nullopt}}), nullptr);
  fill_keys(*log, 2, 2);
  ASSERT_TRUE(log->flush().is_ok());
  ASSERT_GE(log->segment_count(), 4u);
  ASSERT_TRUE(log->close().is_ok());
}

// One cleaner run over the log in `dir` (opened with the cleaning config).
// Returns false when the pass did not complete.
inline bool clean_swap_log(PartitionLog& log) {
  LogCleaner cleaner;
  EXPECT_TRUE(cleaner.add_log("t-0", &log).is_ok());
  cleaner.run_until_idle(kSwapCleanUs);
  auto info = cleaner.info("t-0", kSwapCleanUs);
  EXPECT_EQ(info->state, CleanerState::kIdle) << info->uncleanable_reason;
  return cleaner.counters().passes_completed == 1;
}

struct RecordKey {
  uint64_t offset;
  std::optional<std::string> key, value;
  bool operator==(const RecordKey&) const = default;
};
inline void PrintTo(const RecordKey& r, std::ostream* os) {
  *os << r.offset << ":" << r.key.value_or("(null)") << "=" << (r.value ? r.value->substr(0, 4) : "(tombstone)");
}
inline std::vector<RecordKey> keys_of(const std::vector<Record>& recs) {
  std::vector<RecordKey> v;
  for (const auto& r : recs) v.push_back({r.offset, r.key, r.value});
  return v;
}

struct SwapVersions {
  std::vector<RecordKey> old_records, new_records;
};

// Both versions, computed in scratch directories under `scratch`.
inline SwapVersions swap_versions(const std::string& scratch) {
  SwapVersions v;
  const std::string dir = scratch + "/t-0";
  std::filesystem::create_directories(dir);
  write_swap_log(dir);
  auto log = open_log(dir, swap_clean_config(), 0);
  if (!log) return v;
  v.old_records = keys_of(read_records(*log));
  EXPECT_TRUE(clean_swap_log(*log));
  v.new_records = keys_of(read_records(*log));
  EXPECT_NE(v.old_records, v.new_records);
  return v;
}

// The log in `dir` is entirely the old or entirely the new version, with no
// swap leftovers; returns which ("old" / "new" / "neither").
inline std::string which_version(const std::string& dir, const SwapVersions& v) {
  auto log = open_log(dir, swap_clean_config(), 0);
  if (!log) return "unopenable";
  const auto got = keys_of(read_records(*log));
  log.reset();
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    EXPECT_FALSE(n.ends_with(".cleaned") || n.ends_with(".swap") || n.ends_with(".deleted")) << n << " left";
  }
  if (got == v.old_records) return "old";
  if (got == v.new_records) return "new";
  return "neither";
}

}  // namespace rustlog::test
