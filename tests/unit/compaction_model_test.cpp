// Model-based test of compaction: seeded random sequences of keyed produce
// (with tombstones and a few keyless records), rolls, retention, cleaner
// passes with small maps and budgets, and reopens, against an in-memory
// model of every record produced. After each compaction a full read of the
// log (in random-sized pieces, across the gaps) must give:
//   - only records produced, each at the offset it was produced at, offsets
//     strictly increasing; the high watermark unchanged;
//   - for each key, as its last record exactly the model's latest (a key
//     whose latest is a tombstone may instead be gone: no value after it);
//   - below the first dirty offset each key at most once; every keyless
//     record and everything in the active segment still there.
#include <gtest/gtest.h>

#include <random>

#include "storage/cleaner_key_map.h"
#include "support/compaction_helpers.h"
#include "support/power_loss_workloads.h"

namespace rustlog {
namespace {

using test::KV;

struct Produced {
  std::optional<std::string> key, value;
};

class Model {
 public:
  std::map<uint64_t, Produced> records;  // offset -> record, at or above the log start
  void drop_below(uint64_t start) { records.erase(records.begin(), records.lower_bound(start)); }
  std::map<std::string, std::pair<uint64_t, Produced>> latest() const {
    std::map<std::string, std::pair<uint64_t, Produced>> m;
    for (const auto& [o, r] : records)
      if (r.key) m[*r.key] = {o, r};
    return m;
  }
};

void check(PartitionLog& log, const Model& model, const LogCleaner& cleaner, std::mt19937_64& rng,
           int64_t now_us) {
  const size_t max_bytes = std::uniform_int_distribution<size_t>(1, 3000)(rng);
  const auto recs = test::read_records(log, max_bytes);
  const uint64_t active_base = log.segments().back()->base_offset();
  for (const auto& r : recs) {
    auto it = model.records.find(r.offset);
    ASSERT_NE(it, model.records.end()) << "offset " << r.offset << " was never produced (or is below the log start)";
    ASSERT_EQ(r.key, it->second.key) << "at " << r.offset;
    ASSERT_EQ(r.value, it->second.value) << "at " << r.offset;
  }
  const auto got = test::last_per_key(recs);
  for (const auto& [k, lr] : model.latest()) {
    const auto& [off, p] = lr;
    auto g = got.find(k);
    if (!p.value) {
      if (g != got.end()) {
        EXPECT_EQ(g->second.offset, off) << k << ": a tombstone's key shows an older record";
      }
      continue;
    }
    ASSERT_NE(g, got.end()) << k << " lost its latest value (offset " << off << ")";
    EXPECT_EQ(g->second.offset, off) << k;
    EXPECT_EQ(g->second.value, p.value) << k;
  }
  for (const auto& [k, r] : got) EXPECT_TRUE(model.latest().count(k)) << k << " appeared from nowhere";
  size_t keyless = 0, model_keyless = 0, active = 0, model_active = 0;
  for (const auto& r : recs) keyless += !r.key, active += r.offset >= active_base;
  for (const auto& [o, p] : model.records) model_keyless += !p.key, model_active += o >= active_base;
  EXPECT_EQ(keyless, model_keyless);
  EXPECT_EQ(active, model_active) << "the active segment changed";
  const uint64_t first_dirty = cleaner.info("t-0", now_us)->first_dirty_offset;
  std::map<std::string, int> seen;
  for (const auto& r : recs) {
    if (r.key && r.offset < first_dirty) {
      EXPECT_EQ(++seen[*r.key], 1) << *r.key << " twice below " << first_dirty;
    }
  }
}

void run_seed(uint64_t seed, int ops) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(std::uniform_int_distribution<int>(0, n - 1)(rng)); };
  test::TempDir d;
  const std::string dir = d.sub("t-0");
  LogConfig cfg = test::compact_config(1024 + 512 * static_cast<uint64_t>(pick(4)), 128);
  cfg.segment_ms = 1000;
  cfg.compaction.delete_retention_ms = 2000;
  auto log = test::open_log(dir, cfg, 0);
  ASSERT_TRUE(log);
  const uint64_t buffer = CleanerKeyMap::kSlotBytes * (4 + static_cast<uint64_t>(pick(60)));
  LogCleaner cleaner({.buffer_bytes = buffer});
  ASSERT_TRUE(cleaner.add_log("t-0", log.get()).is_ok());
  Model model;
  int64_t now = test::kBaseTimestampUs;
  int compactions = 0;
  for (int op = 0; op < ops; ++op) {
    now += 1000;
    const int what = pick(100);
    if (what < 55) {
      std::vector<KV> kvs;
      const int n = 1 + pick(4);
      for (int i = 0; i < n; ++i) {
        KV kv;
        if (pick(100) >= 3) kv.key = "k" + std::to_string(pick(15));
        if (!kv.key || pick(100) >= 15) kv.value = "v" + std::to_string(op) + "." + std::to_string(i) + std::string(pick(60), 'x');
        kvs.push_back(kv);
      }
      const uint64_t base = log->high_watermark();
      test::append_batch(*log, test::keyed_batch(kvs, now), nullptr, now);
      for (size_t i = 0; i < kvs.size(); ++i) model.records[base + i] = {kvs[i].key, kvs[i].value};
    } else if (what < 63) {
      now += 2 * cfg.segment_ms * 1000;
      ASSERT_TRUE(log->roll_if_due(now).is_ok());
    } else if (what < 67) {
      if (log->segment_count() > 3) {
        ASSERT_TRUE(log->delete_oldest_segments(1).is_ok());
        model.drop_below(log->log_start_offset());
      }
    } else if (what < 85) {
      cleaner.run_until_idle(now, 64 + static_cast<uint64_t>(pick(4000)));
      ASSERT_EQ(cleaner.uncleanable_partitions(), 0u) << cleaner.info("t-0", now)->uncleanable_reason;
      ++compactions;
      check(*log, model, cleaner, rng, now);
      if (::testing::Test::HasFailure()) return;
      ASSERT_TRUE(log->purge_deleted().is_ok());
    } else if (what < 90) {
      cleaner.remove_log("t-0");
      ASSERT_TRUE(log->purge_deleted().is_ok());
      ASSERT_TRUE(log->close().is_ok());
      log.reset();
      log = test::open_log(dir, cfg, 0);
      ASSERT_TRUE(log);
      ASSERT_TRUE(cleaner.add_log("t-0", log.get()).is_ok());
    } else {
      now += std::uniform_int_distribution<int64_t>(0, 3'000'000)(rng);
    }
  }
  cleaner.run_until_idle(now);
  check(*log, model, cleaner, rng, now);
  EXPECT_GT(compactions, 0);
  EXPECT_GT(cleaner.counters().records_removed, 0u);
  cleaner.remove_log("t-0");
  ASSERT_TRUE(log->purge_deleted().is_ok());
  log.reset();
  test::expect_verify_clean(d.path(), 128);
}

TEST(CompactionModelTest, RandomSequencesAgainstAnInMemoryModel) {
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    run_seed(seed, 400);
    if (::testing::Test::HasFailure()) return;
  }
}

}  // namespace
}  // namespace rustlog
