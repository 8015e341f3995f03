// Recovery (PartitionLog::open -> Segment::recover_from): a torn last batch
// cut at every byte, torn batches in earlier segments, bounded work on a
// clean reopen, and appends continuing at the right offset afterwards.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "common/byte_order.h"
#include "storage/partition_log.h"
#include "storage/record_batch.h"
#include "support/log_helpers.h"
#include "support/record_gen.h"
#include "support/temp_dir.h"

namespace rustlog {
namespace {

using test::LogModel;
using test::RecordGen;
using test::seed_trace;
using test::TempDir;
using test::ts_for;

test::GenOptions small_batches() {
  test::GenOptions o;
  o.max_records = 2;
  o.max_key = 8;
  o.max_value = 30;
  o.max_headers = 1;
  return o;
}

enum class TailKind { kIndexedBatch, kUnindexedBatch, kOnlyBatchOfSegment };

const char* kind_name(TailKind k) {
  switch (k) {
    case TailKind::kIndexedBatch:
      return "last batch has an index entry";
    case TailKind::kUnindexedBatch:
      return "last batch between index entries";
    case TailKind::kOnlyBatchOfSegment:
      return "last batch alone in a new segment";
  }
  return "";
}

// Appends until the last batch is of the wanted kind (with a few sealed
// segments before it). `before` is a copy of the directory taken just
// before that last append: what a correct recovery must reproduce.
void build_golden(const std::string& golden, const std::string& before, const LogConfig& cfg,
                  TailKind kind, RecordGen& g, LogModel& m) {
  auto log = test::open_log(golden, cfg, 0);
  ASSERT_NE(log, nullptr);
  for (int attempt = 0; attempt < 10000; ++attempt) {
    ASSERT_TRUE(log->flush().is_ok());
    test::copy_dir(golden, before);
    const size_t segs = log->segment_count();
    const uint64_t pos = log->segments().back()->size_bytes();
    test::append_batch(*log, test::build_batch(g.records(ts_for(m))), &m, ts_for(m));
    ASSERT_TRUE(log->flush().is_ok());
    const Segment& active = *log->segments().back();
    const OffsetIndex& oi = active.offset_index();
    const bool rolled = log->segment_count() > segs;
    const bool indexed = !rolled && !oi.empty() && oi.pos_at(oi.size() - 1) == pos;
    if (log->segment_count() < 2) continue;
    if ((kind == TailKind::kOnlyBatchOfSegment && rolled) ||
        (kind == TailKind::kIndexedBatch && indexed && oi.size() >= 2) ||
        (kind == TailKind::kUnindexedBatch && !rolled && !indexed && oi.size() >= 2))
      return;
  }
  FAIL() << "could not produce the wanted tail";
}

// The file's bytes without a zero tail (rule Z: 43 zeros or more at the end).
std::string without_zero_tail(std::string b) {
  const size_t last = b.find_last_not_of('\0');
  const size_t data = last == std::string::npos ? 0 : last + 1;
  if (b.size() - data >= kMinZeroTail) b.resize(data);
  return b;
}

// Without preallocation the torn batch is the end of the file, cut at every
// byte; with it, the file keeps its size and the torn batch's bytes from
// the cut on are the preallocated zeros (a torn write into written zeros).
TEST(RecoveryTest, TornLastBatchCutAtEveryByte) {
  for (uint64_t prealloc : {uint64_t{0}, LogConfig::kDefaultPreallocateBytes})
  for (TailKind kind :
       {TailKind::kIndexedBatch, TailKind::kUnindexedBatch, TailKind::kOnlyBatchOfSegment}) {
    LogConfig cfg = test::small_config(2048, 128);
    cfg.preallocate_bytes = prealloc;
    SCOPED_TRACE(prealloc ? "preallocated" : "not preallocated");
    const uint64_t seed = 300 + static_cast<uint64_t>(kind);
    SCOPED_TRACE(seed_trace(seed));
    SCOPED_TRACE(kind_name(kind));
    RecordGen g(seed, small_batches());
    TempDir tmp;
    const std::string golden = tmp.sub("golden"), before = tmp.sub("before"),
                      work = tmp.sub("work");
    LogModel m;
    build_golden(golden, before, cfg, kind, g, m);
    if (HasFatalFailure()) return;
    const test::ModelBatch last = m[m.size() - 1];
    LogModel kept = m;
    kept.truncate(m.size() - 1);
    const std::string whole_before = kept.bytes_between(0, kept.size());
    const uint64_t rp_before = m.end_offset();  // flushed: the recovery point included it
    // Position of the last batch in the active segment.
    std::string active_name;
    uint64_t start = 0;
    {
      auto log = test::open_log(golden, cfg, rp_before);
      ASSERT_NE(log, nullptr);
      active_name = log->segments().back()->log_path().substr(golden.size());
      start = log->segments().back()->size_bytes() - last.bytes.size();
    }
    const uint64_t end = start + last.bytes.size();
    if (prealloc)
      ASSERT_GE(test::file_size(golden + active_name), end + kMinZeroTail);
    else
      ASSERT_EQ(test::file_size(golden + active_name), end);
    const std::vector<std::string> before_files = test::list_files(before);
    for (uint64_t cut = start; cut < end; ++cut) {
      // A recovery point at or below the torn batch (it was never flushed, so
      // never acknowledged under flush = always). Above it, the batch would
      // be durable: damage there is corruption, never cut (CorruptionTest).
      for (uint64_t rp : {uint64_t{0}, last.base}) {
        SCOPED_TRACE("cut at " + std::to_string(cut) + " of [" + std::to_string(start) + ", " +
                     std::to_string(end) + "), recovery point " + std::to_string(rp));
        test::restore_dir(golden, work);
        uint64_t torn = cut - start;
        if (prealloc) {
          std::string b = test::read_bytes(work + active_name);
          // The batch's last bytes may be zeros already (its last record
          // has no headers): zeroing them tears nothing.
          if (b.find_first_not_of('\0', cut) >= end) continue;
          std::fill(b.begin() + static_cast<ptrdiff_t>(cut), b.begin() + static_cast<ptrdiff_t>(end), '\0');
          test::write_bytes(work + active_name, b);
          // Zeros the kept part ends with cannot be told from the zero tail.
          while (torn > 0 && b[start + torn - 1] == '\0') --torn;
        } else {
          test::truncate_file(work + active_name, cut);
        }
        auto log = test::open_log(work, cfg, rp);
        ASSERT_NE(log, nullptr);
        const RecoveryReport& rep = log->recovery_report();
        EXPECT_EQ(rep.bytes_truncated, torn);
        EXPECT_TRUE(rep.corruptions.empty())
            << "a torn tail is not corruption: " << rep.corruptions.front();
        EXPECT_EQ(rep.segments_deleted, 0u);
        ASSERT_EQ(log->high_watermark(), last.base);
        ASSERT_EQ(log->recovery_point(), last.base);
        ASSERT_TRUE(test::same_bytes(test::read_to_end(*log, 0), whole_before));
        // Every file equals the state before the torn append: the indexes
        // lose the torn batch's entries; a segment the torn batch opened
        // stays, empty, as the active one.
        std::vector<std::string> files = test::list_files(work);
        if (kind == TailKind::kOnlyBatchOfSegment) {
          const std::string empty_seg = active_name.substr(1, 20);
          for (const char* ext : {".index", ".log", ".timeindex"}) {
            auto it = std::find(files.begin(), files.end(), empty_seg + ext);
            ASSERT_NE(it, files.end()) << empty_seg << ext;
            EXPECT_EQ(without_zero_tail(test::read_bytes(work + "/" + *it)).size(), 0u) << *it;
            files.erase(it);
          }
        }
        ASSERT_EQ(files, before_files);
        // With preallocation a .log may end in zeros the other lacks (the
        // torn batch's place, cut or kept as the zero tail; its data's own
        // last zeros merge into them): equal up to the zeros at the end.
        auto trimmed = [&](const std::string& path) {
          std::string b = test::read_bytes(path);
          if (prealloc && path.size() > 4 && path.compare(path.size() - 4, 4, ".log") == 0) {
            const size_t nz = b.find_last_not_of('\0');
            b.resize(nz == std::string::npos ? 0 : nz + 1);
          }
          return b;
        };
        for (const auto& f : before_files)
          ASSERT_TRUE(test::same_bytes(trimmed(work + "/" + f), trimmed(before + "/" + f))) << f;
        // Appends continue at the torn batch's offset.
        std::string next = test::build_batch(g.records(ts_for(kept)));
        auto info = log->append(next, ts_for(kept));
        ASSERT_TRUE(info.is_ok()) << info.status().to_string();
        EXPECT_EQ(info->base_offset, last.base);
        EXPECT_TRUE(test::same_bytes(test::read_to_end(*log, 0), whole_before + next));
        if (cut % 7 == 0 || cut + 1 == end) {
          const uint64_t hw = log->high_watermark();
          log.reset();
          log = test::open_log(work, cfg, hw);  // clean restart: nothing to truncate
          ASSERT_NE(log, nullptr);
          EXPECT_EQ(log->recovery_report().bytes_truncated, 0u);
          EXPECT_TRUE(test::same_bytes(test::read_to_end(*log, 0), whole_before + next));
        }
      }
    }
  }
}

TEST(RecoveryTest, TornBatchInAnEarlierSegmentEndsTheLog) {
  const uint64_t seed = 310;
  SCOPED_TRACE(seed_trace(seed));
  RecordGen g(seed, small_batches());
  TempDir tmp;
  const LogConfig cfg = test::small_config(2048, 128);
  const std::string golden = tmp.sub("golden"), work = tmp.sub("work");
  LogModel m;
  std::vector<std::string> seg_logs;
  std::vector<uint64_t> seg_sizes;
  {
    auto log = test::open_log(golden, cfg, 0);
    ASSERT_NE(log, nullptr);
    while (log->segment_count() < 6)
      test::append_batch(*log, test::build_batch(g.records(ts_for(m))), &m, ts_for(m));
    ASSERT_TRUE(log->flush().is_ok());
    for (const auto& s : log->segments()) {
      seg_logs.push_back(s->log_path().substr(golden.size()));
      seg_sizes.push_back(s->size_bytes());
    }
  }
  // Tear the last batch of segment 2; recovery from a point at or below it
  // must drop it and every later segment (nothing after a tear was acknowledged).
  const size_t k = 2;
  size_t last_in_k = 0;
  {
    auto log = test::open_log(golden, cfg, m.end_offset());
    ASSERT_NE(log, nullptr);
    for (size_t i = 0; i < m.size(); ++i)
      if (m[i].base < log->segments()[k + 1]->base_offset()) last_in_k = i;
  }
  const uint64_t batch_start = seg_sizes[k] - m[last_in_k].bytes.size();
  uint64_t later = 0;
  for (size_t s = k + 1; s < seg_sizes.size(); ++s) later += seg_sizes[s];
  for (uint64_t rp : {uint64_t{0}, m[last_in_k - 1].base, m[last_in_k].base}) {
    for (uint64_t cut : {batch_start + 1, batch_start + 20, seg_sizes[k] - 1}) {
      SCOPED_TRACE("rp " + std::to_string(rp) + " cut " + std::to_string(cut));
      test::copy_dir(golden, work);
      test::truncate_file(work + seg_logs[k], cut);
      auto log = test::open_log(work, cfg, rp);
      ASSERT_NE(log, nullptr);
      const RecoveryReport& rep = log->recovery_report();
      EXPECT_EQ(rep.segments_deleted, seg_sizes.size() - k - 1);
      EXPECT_EQ(rep.bytes_truncated, (cut - batch_start) + later);
      EXPECT_EQ(log->segment_count(), k + 1);
      EXPECT_EQ(log->high_watermark(), m[last_in_k].base);
      EXPECT_TRUE(test::same_bytes(test::read_to_end(*log, 0), m.bytes_between(0, last_in_k)));
      for (size_t s = k + 1; s < seg_logs.size(); ++s)
        EXPECT_FALSE(test::exists(work + seg_logs[s]));
      std::string next = test::build_batch(g.records(1));
      auto info = log->append(next, 1);
      ASSERT_TRUE(info.is_ok());
      EXPECT_EQ(info->base_offset, m[last_in_k].base);
    }
  }
}

TEST(RecoveryTest, CleanReopenScansABoundedNumberOfBytes) {
  const uint64_t seed = 320;
  SCOPED_TRACE(seed_trace(seed));
  test::GenOptions opt;
  opt.max_records = 10;
  opt.max_value = 300;
  RecordGen g(seed, opt);
  TempDir tmp;
  const LogConfig cfg = test::small_config(64 * 1024, 4096);
  LogModel m;
  size_t max_batch = 0;
  for (uint64_t target : {uint64_t{512 * 1024}, uint64_t{2 * 1024 * 1024}}) {
    {
      auto log = test::open_log(tmp.path(), cfg, m.end_offset());
      ASSERT_NE(log, nullptr);
      while (log->size_bytes() < target) {
        test::append_batch(*log, test::build_batch(g.records(ts_for(m))), &m, ts_for(m));
        max_batch = std::max(max_batch, m[m.size() - 1].bytes.size());
      }
      ASSERT_TRUE(log->close().is_ok());
    }
    auto log = test::open_log(tmp.path(), cfg, m.end_offset());
    ASSERT_NE(log, nullptr);
    const RecoveryReport& rep = log->recovery_report();
    SCOPED_TRACE("log of " + std::to_string(log->size_bytes()) + " bytes");
    EXPECT_LE(rep.bytes_scanned, cfg.index_interval_bytes + max_batch);
    EXPECT_EQ(rep.bytes_truncated, 0u);
    EXPECT_EQ(rep.indexes_rebuilt, 0u);
    EXPECT_TRUE(rep.corruptions.empty());
    EXPECT_EQ(log->high_watermark(), m.end_offset());
    EXPECT_TRUE(test::same_bytes(test::read_to_end(*log, 0), m.bytes_between(0, m.size())));
  }
  // Without a recovery point, everything is rescanned.
  auto log = test::open_log(tmp.path(), cfg, 0);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->recovery_report().bytes_scanned, log->size_bytes());
  EXPECT_EQ(log->recovery_report().indexes_rebuilt, 0u);
}

TEST(RecoveryTest, AnyRecoveryPointRescansFromItsIndexEntryOnward) {
  const uint64_t seed = 330;
  SCOPED_TRACE(seed_trace(seed));
  RecordGen g(seed);
  TempDir tmp;
  const LogConfig cfg = test::small_config(8 * 1024, 512);
  LogModel m;
  {
    auto log = test::open_log(tmp.path(), cfg, 0);
    ASSERT_NE(log, nullptr);
    while (log->size_bytes() < 60 * 1024)
      test::append_batch(*log, test::build_batch(g.records(ts_for(m))), &m, ts_for(m));
    ASSERT_TRUE(log->flush().is_ok());
  }
  size_t max_batch = 0;
  for (size_t i = 0; i < m.size(); ++i) max_batch = std::max(max_batch, m[i].bytes.size());
  for (int q = 0; q < 25; ++q) {
    const uint64_t rp = g.uniform(0, m.end_offset());
    SCOPED_TRACE("recovery point " + std::to_string(rp));
    auto log = test::open_log(tmp.path(), cfg, rp);
    ASSERT_NE(log, nullptr);
    // At least the bytes from the batch holding rp to the end; at most one
    // index interval (and a batch) more, from the index entry before it.
    uint64_t from_rp = 0;
    for (size_t k = m.batch_index_of(rp); k < m.size(); ++k) from_rp += m[k].bytes.size();
    const RecoveryReport& rep = log->recovery_report();
    EXPECT_GE(rep.bytes_scanned, from_rp);
    EXPECT_LE(rep.bytes_scanned, from_rp + cfg.index_interval_bytes + max_batch);
    EXPECT_EQ(rep.bytes_truncated, 0u);
    EXPECT_EQ(rep.indexes_rebuilt, 0u);
    EXPECT_EQ(log->high_watermark(), m.end_offset());
    EXPECT_TRUE(test::same_bytes(test::read_to_end(*log, 0), m.bytes_between(0, m.size())));
  }
}

TEST(RecoveryTest, UnflushedAppendsOfACleanExitAreKept) {
  // The process exits without flush(): the page cache still holds the bytes
  // and recovery (scanning above the recovery point) keeps them.
  TempDir tmp;
  RecordGen g(340);
  const LogConfig cfg = test::small_config(4096, 256);
  LogModel m;
  uint64_t rp = 0;
  {
    auto log = test::open_log(tmp.path(), cfg, 0);
    ASSERT_NE(log, nullptr);
    for (int i = 0; i < 20; ++i)
      test::append_batch(*log, test::build_batch(g.records(ts_for(m))), &m, ts_for(m));
    ASSERT_TRUE(log->flush().is_ok());
    rp = log->recovery_point();
    for (int i = 0; i < 40; ++i)
      test::append_batch(*log, test::build_batch(g.records(ts_for(m))), &m, ts_for(m));
  }
  auto log = test::open_log(tmp.path(), cfg, rp);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->high_watermark(), m.end_offset());
  EXPECT_EQ(log->recovery_point(), m.end_offset());  // recovery synced what it validated
  EXPECT_FALSE(log->has_unflushed());
  EXPECT_TRUE(test::same_bytes(test::read_to_end(*log, 0), m.bytes_between(0, m.size())));
}

TEST(RecoveryTest, ACrcValidBatchWithInconsistentRecordsIsCutFromTheTail) {
  // Found by the segment_recovery fuzz target: a batch whose CRC matches but
  // whose max timestamp no record has. Recovery used to keep it (header and
  // CRC passed) and every read of it then failed to decode. Above the
  // recovery point it is now cut like a torn tail, and what is kept decodes.
  TempDir tmp;
  RecordGen g(341);
  const LogConfig cfg = test::small_config(4096, 256);
  LogModel m;
  uint64_t rp = 0;
  std::string log_path;
  uint64_t data_bytes = 0;  // the active segment's data, before its preallocated zeros
  {
    auto log = test::open_log(tmp.path(), cfg, 0);
    ASSERT_NE(log, nullptr);
    for (int i = 0; i < 5; ++i)
      test::append_batch(*log, test::build_batch(g.records(ts_for(m))), &m, ts_for(m));
    ASSERT_TRUE(log->flush().is_ok());
    rp = log->recovery_point();
    log_path = log->segments().back()->log_path();
    data_bytes = log->segments().back()->size_bytes();
  }
  BatchBuilder b(m.end_offset());
  b.add(ts_for(m), std::nullopt, std::string("a"), {});
  b.add(ts_for(m) + 1, std::nullopt, std::string("b"), {});
  std::string bad = b.finish();
  put_u64(reinterpret_cast<uint8_t*>(bad.data()) + kBatchMaxTimestampOffset, 7);
  put_u32(reinterpret_cast<uint8_t*>(bad.data()) + kBatchCrcOffset,
          compute_batch_crc(reinterpret_cast<const uint8_t*>(bad.data()), bad.size()));
  // Written where the next append would go: right after the data.
  test::write_bytes(log_path, test::read_bytes(log_path).substr(0, data_bytes) + bad);

  auto log = test::open_log(tmp.path(), cfg, rp);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->high_watermark(), m.end_offset());
  EXPECT_EQ(log->recovery_report().bytes_truncated, bad.size());
  const std::string all = test::read_to_end(*log, 0);
  EXPECT_TRUE(test::same_bytes(all, m.bytes_between(0, m.size())));
  std::vector<Record> recs;
  EXPECT_TRUE(decode_batches(all, 0, &recs).is_ok());
}

TEST(RecoveryTest, EmptyLogsReopen) {
  TempDir tmp;
  const LogConfig cfg = test::small_config();
  for (int i = 0; i < 3; ++i) {
    auto log = test::open_log(tmp.path(), cfg, 0);
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(log->high_watermark(), 0u);
    EXPECT_EQ(log->segment_count(), 1u);
  }
  // An empty .log without index files (a crash right after creating it).
  ASSERT_TRUE(std::filesystem::remove(tmp.sub("00000000000000000000.index")));
  ASSERT_TRUE(std::filesystem::remove(tmp.sub("00000000000000000000.timeindex")));
  auto log = test::open_log(tmp.path(), cfg, 0);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->high_watermark(), 0u);
  std::string b = test::build_batch({Record{0, 1, std::nullopt, std::string("v"), {}}});
  EXPECT_TRUE(log->append(b, 1).is_ok());
}

}  // namespace
}  // namespace rustlog
