// Compaction (storage/log_cleaner.h): Kafka's LogCleaner scenarios on real
// files. Each test builds a log, runs the cleaner in bounded steps and reads
// the log back through PartitionLog::read (across the gaps cleaning leaves).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "storage/cleaner_checkpoint.h"
#include "storage/cleaner_key_map.h"
#include "storage/cleaner_policy.h"
#include "support/compaction_helpers.h"
#include "support/power_loss_workloads.h"

namespace rustlog {
namespace {

namespace fs = std::filesystem;
using test::kBaseTimestampUs;
using test::KV;

constexpr int64_t kLater = kBaseTimestampUs + 3600ll * 1000 * 1000;  // an hour after the appends

std::string file_bytes(const std::string& path) { return test::read_bytes(path); }

TEST(LogCleanerTest, DuplicateKeysKeepTheLatest) {
  test::TempDir d;
  auto log = test::open_log(d.sub("t-0"), test::compact_config(), 0);
  ASSERT_TRUE(log);
  test::fill_keys(*log, 5, 8);
  const uint64_t end = log->high_watermark();
  const uint64_t size_before = log->size_bytes();
  const uint64_t active_base = log->segments().back()->base_offset();
  ASSERT_GE(log->segment_count(), 4u);
  LogCleaner cleaner;
  ASSERT_TRUE(cleaner.add_log("t-0", log.get()).is_ok());
  EXPECT_GE(cleaner.run_until_idle(kLater), 1u);
  EXPECT_EQ(log->high_watermark(), end);
  EXPECT_LT(log->size_bytes(), size_before);
  const auto recs = test::read_records(*log);
  // Below the active segment each key once, with its latest value; the
  // active segment is untouched.
  std::map<std::string, int> seen;
  for (const auto& r : recs)
    if (r.offset < active_base) {
      EXPECT_EQ(++seen[*r.key], 1) << *r.key << " twice below the active segment";
    }
  const auto latest = test::last_per_key(recs);
  ASSERT_EQ(latest.size(), 5u);
  for (int k = 0; k < 5; ++k) {
    const Record& r = latest.at("k" + std::to_string(k));
    EXPECT_EQ(r.value->substr(0, 2), "v7");
    EXPECT_EQ(r.offset, static_cast<uint64_t>(7 * 5 + k));  // the offset it was produced at
  }
  auto info = cleaner.info("t-0", kLater);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->first_dirty_offset, active_base);
  EXPECT_EQ(info->cleanable_bytes, 0u);
  EXPECT_EQ(info->state, CleanerState::kIdle);
  auto cp = read_cleaner_checkpoint(log->dir());
  ASSERT_TRUE(cp.is_ok());
  EXPECT_EQ(cp->value_or(0), active_base);
  EXPECT_GT(cleaner.counters().records_removed, 0u);
  EXPECT_GT(cleaner.counters().groups_swapped, 0u);
  ASSERT_TRUE(log->purge_deleted().is_ok());
  log.reset();
  test::expect_verify_clean(d.path(), 128);
  // Reopened: the same records, and the cleaner resumes from its checkpoint.
  log = test::open_log(d.sub("t-0"), test::compact_config(), 0);
  ASSERT_TRUE(log);
  const auto again = test::read_records(*log);
  ASSERT_EQ(again.size(), recs.size());
  for (size_t i = 0; i < recs.size(); ++i) EXPECT_EQ(again[i].offset, recs[i].offset);
  LogCleaner c2;
  ASSERT_TRUE(c2.add_log("t-0", log.get()).is_ok());
  EXPECT_EQ(c2.info("t-0", kLater)->first_dirty_offset, active_base);
  EXPECT_EQ(c2.run_until_idle(kLater), 0u);
}

TEST(LogCleanerTest, ATombstoneRemovesOlderValuesAndGoesOnceItsHorizonHasPassed) {
  test::TempDir d;
  LogConfig c = test::compact_config();
  c.compaction.delete_retention_ms = 60 * 1000;
  auto log = test::open_log(d.sub("t-0"), c, 0);
  test::fill_keys(*log, 4, 3);
  const uint64_t tomb = log->high_watermark();
  test::append_batch(*log, test::keyed_batch({{"k1", std::nullopt}}), nullptr);
  test::fill_keys(*log, 1, 12);  // k0 again and again: rolls the tombstone into a sealed segment
  LogCleaner cleaner;
  ASSERT_TRUE(cleaner.add_log("t-0", log.get()).is_ok());
  cleaner.run_until_idle(kLater);
  auto latest = test::last_per_key(test::read_records(*log));
  ASSERT_TRUE(latest.count("k1"));
  EXPECT_FALSE(latest.at("k1").value.has_value()) << "the tombstone stays until its horizon";
  EXPECT_EQ(latest.at("k1").offset, tomb);
  for (const auto& r : test::read_records(*log)) {
    if (r.key == "k1") {
      EXPECT_EQ(r.offset, tomb) << "an older value of a deleted key survived";
    }
  }
  // A later pass before the horizon (the clean + 60 s) keeps it; one after drops it.
  test::fill_keys(*log, 1, 12);
  cleaner.run_until_idle(kLater + 30ll * 1000 * 1000);
  EXPECT_TRUE(test::last_per_key(test::read_records(*log)).count("k1"));
  test::fill_keys(*log, 1, 12);
  cleaner.run_until_idle(kLater + 61ll * 1000 * 1000);
  EXPECT_FALSE(test::last_per_key(test::read_records(*log)).count("k1"));
  EXPECT_GE(cleaner.counters().tombstones_removed, 1u);
  ASSERT_TRUE(log->purge_deleted().is_ok());
  log.reset();
  test::expect_verify_clean(d.path(), 128);
}

TEST(LogCleanerTest, TheTombstoneHorizonIsCountedFromTheCleanNotTheRecordTimestamp) {
  test::TempDir d;
  LogConfig c = test::compact_config();
  c.compaction.delete_retention_ms = 60 * 1000;
  auto log = test::open_log(d.sub("t-0"), c, 0);
  // The tombstone's producer timestamp is ten days old: that must not count.
  test::append_batch(*log, test::keyed_batch({{"gone", "v"}}), nullptr);
  test::append_batch(*log, test::keyed_batch({{"gone", std::nullopt}}, kBaseTimestampUs - 240ll * 3600 * 1000000),
                     nullptr);
  test::fill_keys(*log, 1, 20);
  LogCleaner cleaner;
  ASSERT_TRUE(cleaner.add_log("t-0", log.get()).is_ok());
  cleaner.run_until_idle(kLater);
  // The first pass kept it and stamped its batch with the horizon.
  bool found = false;
  for (const auto& s : log->segments()) {
    Segment::Bytes src(*s);
    BatchScanner sc(src, ScanStart{.position = 0, .next_offset = s->base_offset(), .segment_base = s->base_offset()});
    ScanEvent ev;
    while (sc.next(&ev, OnFault::kStop)) {
      if (ev.kind != ScanKind::kBatch || !ev.header.has_delete_horizon()) continue;
      found = true;
      EXPECT_EQ(ev.header.first_timestamp, kLater + 60ll * 1000 * 1000);
    }
  }
  EXPECT_TRUE(found) << "no batch carries a delete horizon";
  test::fill_keys(*log, 1, 12);
  cleaner.run_until_idle(kLater + 59ll * 1000 * 1000);
  EXPECT_TRUE(test::last_per_key(test::read_records(*log)).count("gone"));
  // The record timestamps read back unchanged through the horizon batch.
  for (const auto& r : test::read_records(*log)) {
    if (r.key == "gone") {
      EXPECT_EQ(r.timestamp_us, kBaseTimestampUs - 240ll * 3600 * 1000000);
    }
  }
  test::fill_keys(*log, 1, 12);
  cleaner.run_until_idle(kLater + 60ll * 1000 * 1000);
  EXPECT_FALSE(test::last_per_key(test::read_records(*log)).count("gone"));
}

TEST(LogCleanerTest, APartialCleanWithATinyMapProgresses) {
  test::TempDir d;
  auto log = test::open_log(d.sub("t-0"), test::compact_config(4096), 0);
  test::fill_keys(*log, 40, 3);  // 40 keys a round, a map for 3
  const uint64_t active_base = log->segments().back()->base_offset();
  LogCleaner cleaner({.buffer_bytes = 4 * CleanerKeyMap::kSlotBytes});
  ASSERT_TRUE(cleaner.add_log("t-0", log.get()).is_ok());
  // The first pass covers a prefix of the first segment: the first dirty
  // offset ends mid-segment.
  uint64_t steps = 0;
  while (!cleaner.step(512, kLater).pass_done) ASSERT_LT(++steps, 10000u);
  const uint64_t first = cleaner.info("t-0", kLater)->first_dirty_offset;
  EXPECT_GT(first, 0u);
  EXPECT_LT(first, log->segments()[1]->base_offset()) << "a map of 3 keys covered more than a segment";
  EXPECT_NE(first, log->segments()[0]->base_offset());
  // More passes reach the active segment.
  uint64_t prev = first;
  for (int pass = 0; pass < 200 && cleaner.info("t-0", kLater)->first_dirty_offset < active_base; ++pass) {
    while (!cleaner.step(512, kLater).pass_done) {
    }
    const uint64_t now_first = cleaner.info("t-0", kLater)->first_dirty_offset;
    EXPECT_GT(now_first, prev) << "a pass made no progress";
    prev = now_first;
  }
  EXPECT_EQ(cleaner.info("t-0", kLater)->first_dirty_offset, active_base);
  const auto latest = test::last_per_key(test::read_records(*log));
  ASSERT_EQ(latest.size(), 40u);
  for (const auto& [k, r] : latest) EXPECT_EQ(r.value->substr(0, 2), "v2") << k;
  std::map<std::string, int> seen;
  for (const auto& r : test::read_records(*log))
    if (r.offset < active_base) {
      EXPECT_EQ(++seen[*r.key], 1) << *r.key;
    }
}

TEST(LogCleanerTest, AnUncleanableSectionStaysByteIdenticalAndIsRetriedWithBackoff) {
  test::TempDir d;
  auto bad = test::open_log(d.sub("bad-0"), test::compact_config(), 0);
  auto good = test::open_log(d.sub("good-0"), test::compact_config(), 0);
  test::fill_keys(*bad, 5, 8);
  test::fill_keys(*good, 5, 8);
  ASSERT_TRUE(bad->flush().is_ok());
  // One flipped byte in the second sealed segment of `bad`.
  const std::string victim = bad->segments()[1]->log_path();
  std::string bytes = file_bytes(victim);
  bytes[60] ^= 0x01;
  { std::ofstream(victim, std::ios::binary | std::ios::trunc) << bytes; }
  std::map<std::string, std::string> before;
  for (const auto& e : fs::directory_iterator(d.sub("bad-0"))) before[e.path().string()] = file_bytes(e.path().string());
  LogCleaner cleaner({.uncleanable_backoff_ms = 1000});
  ASSERT_TRUE(cleaner.add_log("bad-0", bad.get()).is_ok());
  ASSERT_TRUE(cleaner.add_log("good-0", good.get()).is_ok());
  cleaner.run_until_idle(kLater);
  auto bi = cleaner.info("bad-0", kLater);
  EXPECT_EQ(bi->state, CleanerState::kUncleanable);
  EXPECT_NE(bi->uncleanable_reason.find(victim), std::string::npos) << bi->uncleanable_reason;
  EXPECT_EQ(bi->retry_at_us, kLater + 1000 * 1000);
  EXPECT_EQ(cleaner.uncleanable_partitions(), 1u);
  EXPECT_EQ(cleaner.counters().uncleanable_events, 1u);
  // The other partition was cleaned all the same.
  EXPECT_EQ(cleaner.info("good-0", kLater)->passes, 1u);
  // Nothing of the damaged partition changed (no file added, removed or altered).
  std::map<std::string, std::string> after;
  for (const auto& e : fs::directory_iterator(d.sub("bad-0"))) after[e.path().string()] = file_bytes(e.path().string());
  EXPECT_TRUE(before == after);
  // Retried after the backoff, failing again: the next delay doubles.
  cleaner.run_until_idle(kLater + 999 * 1000);
  EXPECT_EQ(cleaner.counters().uncleanable_events, 1u);
  cleaner.run_until_idle(kLater + 1000 * 1000);
  EXPECT_EQ(cleaner.counters().uncleanable_events, 2u);
  EXPECT_EQ(cleaner.info("bad-0", kLater)->retry_at_us, kLater + 1000 * 1000 + 2000 * 1000);
}

TEST(LogCleanerTest, TheLastBatchOfACleanedRangeKeepsItsLastOffset) {
  test::TempDir d;
  auto log = test::open_log(d.sub("t-0"), test::compact_config(), 0);
  // Every record of the first sealed segment is superseded later.
  test::fill_keys(*log, 3, 1);
  while (log->segment_count() < 2) test::fill_keys(*log, 3, 1);
  const uint64_t seg0_next = log->segments()[0]->next_offset();
  test::fill_keys(*log, 3, 10);
  LogCleaner cleaner;
  ASSERT_TRUE(cleaner.add_log("t-0", log.get()).is_ok());
  cleaner.run_until_idle(kLater);
  // The first segment still ends at its original last offset: an empty batch holds it.
  const Segment& s0 = *log->segments()[0];
  EXPECT_EQ(s0.next_offset(), seg0_next);
  Segment::Bytes src(const_cast<Segment&>(s0));
  BatchScanner sc(src, ScanStart{.position = 0, .next_offset = s0.base_offset(), .segment_base = s0.base_offset()});
  ScanEvent ev, last;
  while (sc.next(&ev, OnFault::kStop)) last = ev;
  EXPECT_EQ(last.header.record_count, 0u);
  EXPECT_EQ(last.header.next_offset(), seg0_next);
  // Reads step over it; a read starting in it lands on the next record.
  auto r = log->read(seg0_next - 1, 4096);
  ASSERT_TRUE(r.is_ok());
  std::vector<Record> recs;
  ASSERT_TRUE(decode_batches(r->data, seg0_next - 1, &recs).is_ok());
  ASSERT_FALSE(recs.empty());
  EXPECT_GE(recs.front().offset, seg0_next);
  log.reset();
  test::expect_verify_clean(d.path(), 128);
}

TEST(LogCleanerTest, SegmentGroupsNeverExceedTheirBounds) {
  // Policy: by bytes, by the 32-bit relative offsets, an empty segment apart.
  const std::vector<SegmentShape> segs{{0, 400, 0},   {10, 400, 0},  {20, 400, 0}, {30, 0, 0},
                                       {40, 900, 0},  {50, 100, 0},  {60ull + UINT32_MAX, 100, 0},
                                       {70ull + UINT32_MAX, 10, 0}};
  const auto g = group_segments(segs, 70ull + UINT32_MAX, 1000);
  ASSERT_EQ(g.size(), 5u);
  EXPECT_EQ(g[0].bases, (std::vector<uint64_t>{0, 10}));
  EXPECT_EQ(g[1].bases, (std::vector<uint64_t>{20}));  // the empty segment 30 ends it
  EXPECT_EQ(g[2].bases, (std::vector<uint64_t>{40}));  // 50's offsets run past 40 + 2^32 - 1
  EXPECT_EQ(g[3].bases, (std::vector<uint64_t>{50}));  // alone: a segment always fits by itself
  EXPECT_EQ(g[4].bases, (std::vector<uint64_t>{60ull + UINT32_MAX}));
  // Real files: many small segments become few, none over segment.bytes.
  test::TempDir d;
  LogConfig c = test::compact_config(2048);
  auto log = test::open_log(d.sub("t-0"), c, 0);
  test::fill_keys(*log, 4, 60);
  const size_t before = log->segment_count();
  LogCleaner cleaner;
  ASSERT_TRUE(cleaner.add_log("t-0", log.get()).is_ok());
  cleaner.run_until_idle(kLater);
  // The first pass shrinks the full segments; the next one merges them
  // (groups are bounded by the sizes before cleaning).
  test::fill_keys(*log, 4, 20);
  cleaner.run_until_idle(kLater);
  EXPECT_LT(log->segment_count(), before);
  for (const auto& s : log->segments()) {
    EXPECT_LE(s->size_bytes(), c.segment_bytes);
    EXPECT_LE(s->next_offset() - s->base_offset(), uint64_t{UINT32_MAX});
  }
}

TEST(LogCleanerTest, CleaningPastOffsetHolesReachesTheActiveSegmentsBase) {
  test::TempDir d;
  auto log = test::open_log(d.sub("t-0"), test::compact_config(), 0);
  test::fill_keys(*log, 6, 10);
  LogCleaner cleaner;
  ASSERT_TRUE(cleaner.add_log("t-0", log.get()).is_ok());
  cleaner.run_until_idle(kLater);  // leaves holes
  test::fill_keys(*log, 6, 10);
  cleaner.run_until_idle(kLater);  // a second pass over a log with holes
  const uint64_t active_base = log->segments().back()->base_offset();
  EXPECT_EQ(cleaner.info("t-0", kLater)->first_dirty_offset, active_base);
  std::map<std::string, int> seen;
  for (const auto& r : test::read_records(*log))
    if (r.offset < active_base) {
      EXPECT_EQ(++seen[*r.key], 1) << *r.key;
    }
}

TEST(LogCleanerTest, NeitherTheActiveSegmentNorSegmentsWithinTheMinLag) {
  test::TempDir d;
  LogConfig c = test::compact_config();
  c.compaction.min_compaction_lag_ms = 10 * 60 * 1000;  // 10 minutes
  auto log = test::open_log(d.sub("t-0"), c, 0);
  test::fill_keys(*log, 3, 6, kBaseTimestampUs);                          // old
  test::fill_keys(*log, 3, 6, kLater - 60ll * 1000 * 1000);                // a minute before the clean
  size_t young = 0;
  while (young < log->segment_count() && log->segments()[young]->last_append_us() < kLater - 60ll * 1000 * 1000) ++young;
  const uint64_t young_base = log->segments()[young]->base_offset();
  std::map<uint64_t, std::string> young_files;
  for (size_t i = young; i < log->segment_count(); ++i)
    young_files[log->segments()[i]->base_offset()] = file_bytes(log->segments()[i]->log_path());
  LogCleaner cleaner;
  ASSERT_TRUE(cleaner.add_log("t-0", log.get()).is_ok());
  cleaner.run_until_idle(kLater);
  EXPECT_EQ(cleaner.info("t-0", kLater)->first_dirty_offset, young_base);
  for (const auto& [base, bytes] : young_files) {
    auto it = std::find_if(log->segments().begin(), log->segments().end(),
                           [&](const auto& s) { return s->base_offset() == base; });
    ASSERT_NE(it, log->segments().end());
    EXPECT_EQ(file_bytes((*it)->log_path()), bytes) << "segment " << base << " within the min lag changed";
  }
}

TEST(LogCleanerTest, RetentionDeletingASegmentWhileACleanIsInProgress) {
  test::TempDir d;
  auto log = test::open_log(d.sub("t-0"), test::compact_config(), 0);
  test::fill_keys(*log, 5, 12);
  LogCleaner cleaner;
  ASSERT_TRUE(cleaner.add_log("t-0", log.get()).is_ok());
  // A few small steps: the pass is in its map or recopy phase.
  for (int i = 0; i < 3; ++i) cleaner.step(200, kLater);
  ASSERT_EQ(cleaner.cleaning(), "t-0");
  ASSERT_TRUE(log->delete_oldest_segments(2).is_ok());
  const uint64_t start = log->log_start_offset();
  cleaner.run_until_idle(kLater);
  EXPECT_EQ(cleaner.counters().uncleanable_events, 0u);
  EXPECT_EQ(log->log_start_offset(), start);
  const auto latest = test::last_per_key(test::read_records(*log));
  for (int k = 0; k < 5; ++k) EXPECT_EQ(latest.at("k" + std::to_string(k)).value->substr(0, 3), "v11");
  ASSERT_TRUE(log->purge_deleted().is_ok());
  for (const auto& e : fs::directory_iterator(d.sub("t-0")))
    EXPECT_EQ(e.path().string().find(".cleaned"), std::string::npos) << e.path();
  log.reset();
  test::expect_verify_clean(d.path(), 128);
}

TEST(LogCleanerTest, EachStepStaysWithinItsBudget) {
  test::TempDir d;
  auto log = test::open_log(d.sub("t-0"), test::compact_config(8192, 512), 0);
  test::fill_keys(*log, 20, 20);
  LogCleaner cleaner({.buffer_bytes = 1 << 16});
  ASSERT_TRUE(cleaner.add_log("t-0", log.get()).is_ok());
  // One record per batch of ~100 bytes: a budget of 1000 bytes is a handful
  // of batches, read plus written.
  uint64_t steps = 0, passes = 0;
  for (;;) {
    const CleanerStep s = cleaner.step(1000, kLater);
    if (s.idle) break;
    EXPECT_LE(s.bytes, 1000u + 2 * 200) << "step " << steps;
    passes += s.pass_done;
    ASSERT_LT(++steps, 100000u);
  }
  EXPECT_GE(passes, 1u);
  EXPECT_GT(steps, 20u);
}

TEST(LogCleanerTest, ReadsFromEveryOffsetCrossTheGaps) {
  test::TempDir d;
  auto log = test::open_log(d.sub("t-0"), test::compact_config(), 0);
  test::fill_keys(*log, 4, 12);
  LogCleaner cleaner;
  ASSERT_TRUE(cleaner.add_log("t-0", log.get()).is_ok());
  cleaner.run_until_idle(kLater);
  std::map<uint64_t, std::string> survivors;
  for (const auto& r : test::read_records(*log, 1 << 20)) survivors[r.offset] = *r.value;
  ASSERT_LT(survivors.size(), log->high_watermark());
  // From any offset, in any read size: the first record returned is the
  // first survivor at or after it, and next_offset moves past the offset.
  for (size_t max_bytes : {size_t{1}, size_t{150}, size_t{1} << 20}) {
    for (uint64_t off = 0; off < log->high_watermark(); ++off) {
      auto r = log->read(off, max_bytes);
      ASSERT_TRUE(r.is_ok()) << off << ": " << r.status().to_string();
      EXPECT_GT(r->next_offset, off) << "a read at " << off << " made no progress";
      std::vector<Record> recs;
      ASSERT_TRUE(decode_batches(r->data, off, &recs).is_ok());
      auto want = survivors.lower_bound(off);
      if (recs.empty()) {
        // Only a header-only batch was read: nothing survives before its end.
        EXPECT_TRUE(want == survivors.end() || want->first >= r->next_offset) << off;
        continue;
      }
      ASSERT_NE(want, survivors.end());
      EXPECT_EQ(recs.front().offset, want->first) << off;
      EXPECT_EQ(*recs.front().value, want->second) << off;
    }
  }
}

}  // namespace
}  // namespace rustlog
