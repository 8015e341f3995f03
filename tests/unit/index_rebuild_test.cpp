// Index files are derived data: whatever happened to them (missing, cut
// mid-entry or at an entry boundary, garbage), a reopen must rebuild them
// byte-identical to the ones written live, count them in the report, and
// answer lookups and offset_for_time correctly. Leftover *.tmp files of
// interrupted atomic writes are removed on open.
#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "storage/partition_log.h"
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

test::GenOptions jittery() {
  test::GenOptions o;
  o.max_records = 4;
  o.max_value = 80;
  o.ts_jitter_us = 40'000;  // non-monotonic (40 offsets worth): the time index skips entries
  return o;
}

struct Golden {
  std::string dir;
  LogConfig cfg = test::small_config(8192, 256);
  LogModel m;
  std::vector<std::string> seg_names;  // "<20 digits>" per segment
};

void build(Golden& gd, uint64_t seed) {
  RecordGen g(seed, jittery());
  auto log = test::open_log(gd.dir, gd.cfg, 0);
  ASSERT_NE(log, nullptr);
  while (log->segment_count() < 4 || log->segments().back()->offset_index().size() < 8)
    test::append_batch(*log, test::build_batch(g.records(ts_for(gd.m))), &gd.m, ts_for(gd.m));
  ASSERT_TRUE(log->flush().is_ok());
  for (const auto& s : log->segments()) {
    gd.seg_names.push_back(Segment::file_name(s->base_offset(), ""));
    ASSERT_GE(s->offset_index().size(), 4u);
    ASSERT_GE(s->time_index().size(), 2u);
  }
}

// Every index file equals the golden one, and lookups agree with the model.
void check_log(PartitionLog& log, const Golden& gd, const std::string& work, RecordGen& g) {
  for (const auto& f : test::list_files(gd.dir))
    EXPECT_TRUE(
        test::same_bytes(test::read_bytes(work + "/" + f), test::read_bytes(gd.dir + "/" + f)))
        << f;
  EXPECT_EQ(test::list_files(work), test::list_files(gd.dir));
  const LogModel& m = gd.m;
  ASSERT_EQ(log.high_watermark(), m.end_offset());
  for (int q = 0; q < 60; ++q) {
    const uint64_t o = g.uniform(0, m.end_offset() - 1);
    auto r = log.read(o, 1);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    ASSERT_TRUE(test::same_bytes(r->data, m[m.batch_index_of(o)].bytes)) << o;
  }
  const auto recs = m.all_records();
  for (int q = 0; q < 60; ++q) {
    const int64_t ts = recs[g.uniform(0, recs.size() - 1)].timestamp_us + g.uniform_i(-2, 2);
    auto r = log.offset_for_time(ts);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    ASSERT_EQ(*r, m.offset_for_time(ts)) << "ts " << ts;
  }
}

struct Damage {
  const char* name;
  // Returns the damaged contents (nullopt: delete the file).
  std::optional<std::string> (*apply)(const std::string& bytes, size_t entry, RecordGen& g);
};

const Damage kDamages[] = {
    {"missing",
     [](const std::string&, size_t, RecordGen&) -> std::optional<std::string> {
       return std::nullopt;
     }},
    {"empty",
     [](const std::string&, size_t, RecordGen&) -> std::optional<std::string> {
       return std::string();
     }},
    {"cut mid-entry",
     [](const std::string& b, size_t e, RecordGen& g) -> std::optional<std::string> {
       return b.substr(0, b.size() - g.uniform(1, e - 1));
     }},
    {"cut at an entry boundary (last entry lost)",
     [](const std::string& b, size_t e, RecordGen&) -> std::optional<std::string> {
       return b.substr(0, b.size() - e);
     }},
    {"cut at an entry boundary (half lost)",
     [](const std::string& b, size_t e, RecordGen&) -> std::optional<std::string> {
       return b.substr(0, b.size() / e / 2 * e);
     }},
    {"garbage of the same size",
     [](const std::string& b, size_t, RecordGen& g) -> std::optional<std::string> {
       return g.bytes(b.size());
     }},
    {"zeros of the same size",
     [](const std::string& b, size_t, RecordGen&) -> std::optional<std::string> {
       return std::string(b.size(), '\0');
     }},
    {"last entry's second field off by one",  // position (.index), offset (.timeindex)
     [](const std::string& b, size_t, RecordGen&) -> std::optional<std::string> {
       std::string d = b;
       d[d.size() - 1] = static_cast<char>(d[d.size() - 1] + 1);
       return d;
     }},
};

TEST(IndexRebuildTest, DamagedIndexFilesAreRebuiltByteIdentical) {
  const uint64_t seed = 500;
  SCOPED_TRACE(seed_trace(seed));
  TempDir tmp;
  Golden gd;
  gd.dir = tmp.sub("golden");
  build(gd, seed);
  if (HasFatalFailure()) return;
  const std::string work = tmp.sub("work");
  RecordGen g(seed + 1);
  const size_t active = gd.seg_names.size() - 1;
  for (size_t seg : {size_t{1}, active}) {
    for (const Damage& d : kDamages) {
      for (int which = 0; which < 3; ++which) {  // .index, .timeindex, both
        for (uint64_t rp : {uint64_t{0}, gd.m.end_offset()}) {
          SCOPED_TRACE(std::string(d.name) + " " +
                       (which == 0   ? ".index"
                        : which == 1 ? ".timeindex"
                                     : "index files") +
                       " of segment " + gd.seg_names[seg] + (seg == active ? " (active)" : "") +
                       ", recovery point " + std::to_string(rp));
          test::restore_dir(gd.dir, work);
          for (int k = 0; k < 2; ++k) {
            if (which != 2 && which != k) continue;
            const std::string path =
                work + "/" + gd.seg_names[seg] + (k == 0 ? ".index" : ".timeindex");
            auto damaged = d.apply(test::read_bytes(path), k == 0 ? 8 : 12, g);
            if (damaged)
              test::write_bytes(path, *damaged);
            else
              std::filesystem::remove(path);
          }
          auto log = test::open_log(work, gd.cfg, rp);
          ASSERT_NE(log, nullptr);
          EXPECT_EQ(log->recovery_report().indexes_rebuilt, 1u);
          EXPECT_EQ(log->recovery_report().bytes_truncated, 0u);
          check_log(*log, gd, work, g);
          if (HasFatalFailure()) return;
        }
      }
    }
  }
}

TEST(IndexRebuildTest, IndexesWrittenAcrossRestartsEqualAFullRebuild) {
  const uint64_t seed = 510;
  SCOPED_TRACE(seed_trace(seed));
  RecordGen g(seed, jittery());
  TempDir tmp;
  const std::string dir = tmp.sub("log"), copy = tmp.sub("copy");
  const LogConfig cfg = test::small_config(8192, 256);
  LogModel m;
  for (int restart = 0; restart < 12; ++restart) {
    // Restart with a recovery point anywhere at or below the flushed end.
    const uint64_t rp = restart % 3 == 0 ? 0 : g.uniform(0, m.end_offset());
    auto log = test::open_log(dir, cfg, rp);
    ASSERT_NE(log, nullptr);
    ASSERT_EQ(log->high_watermark(), m.end_offset());
    const size_t n = g.uniform(1, 60);
    for (size_t i = 0; i < n; ++i)
      test::append_batch(*log, test::build_batch(g.records(ts_for(m))), &m, ts_for(m));
    ASSERT_TRUE(log->flush().is_ok());
  }
  // Drop every index file and rebuild from the logs alone.
  test::copy_dir(dir, copy);
  for (const auto& f : test::list_files(copy))
    if (f.find("index") != std::string::npos) std::filesystem::remove(copy + "/" + f);
  auto log = test::open_log(copy, cfg, 0);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->recovery_report().indexes_rebuilt, log->segment_count());
  for (const auto& f : test::list_files(dir))
    EXPECT_TRUE(test::same_bytes(test::read_bytes(copy + "/" + f), test::read_bytes(dir + "/" + f)))
        << f;
}

TEST(IndexRebuildTest, LeftoverTempFilesAreRemovedOnOpen) {
  TempDir tmp;
  const LogConfig cfg = test::small_config(4096, 256);
  RecordGen g(520);
  LogModel m;
  {
    auto log = test::open_log(tmp.path(), cfg, 0);
    ASSERT_NE(log, nullptr);
    while (log->segment_count() < 3)
      test::append_batch(*log, test::build_batch(g.records(ts_for(m))), &m, ts_for(m));
    ASSERT_TRUE(log->flush().is_ok());
  }
  const auto files = test::list_files(tmp.path());
  // What an interrupted index swap or checkpoint write leaves behind.
  test::write_bytes(tmp.sub("00000000000000000000.index.tmp"), g.bytes(100));
  test::write_bytes(tmp.sub("00000000000000000000.timeindex.tmp"), "");
  test::write_bytes(tmp.sub("recovery-point-offset-checkpoint.tmp"), "0\n");
  test::write_bytes(tmp.sub("not-a-temp-file.tmpx"), "keep");
  auto log = test::open_log(tmp.path(), cfg, m.end_offset());
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->recovery_report().temp_files_removed, 3u);
  auto want = files;
  want.push_back("not-a-temp-file.tmpx");
  std::sort(want.begin(), want.end());
  EXPECT_EQ(test::list_files(tmp.path()), want);
  EXPECT_TRUE(test::same_bytes(test::read_to_end(*log, 0), m.bytes_between(0, m.size())));
}

}  // namespace
}  // namespace rustlog

namespace rustlog {
namespace {

// index.interval.bytes = 0 (index every batch) must not make every open
// distrust and rebuild the indexes.
TEST(IndexRebuildTest, IntervalZeroIndexesAreTrustedOnReopen) {
  test::TempDir tmp;
  LogConfig cfg;
  cfg.index_interval_bytes = 0;
  cfg.segment_bytes = 4096;
  {
    auto log = PartitionLog::open(tmp.path(), cfg, 0);
    ASSERT_TRUE(log.is_ok()) << log.status().to_string();
    for (int i = 0; i < 200; ++i) {
      BatchBuilder b((*log)->high_watermark());
      b.add(1000 + i, std::nullopt, std::string(50, 'v'), {});
      std::string bytes = b.finish();
      ASSERT_TRUE((*log)->append(bytes, 1000 + i).is_ok());
    }
    ASSERT_TRUE((*log)->close().is_ok());
  }
  auto log = PartitionLog::open(tmp.path(), cfg, 200);
  ASSERT_TRUE(log.is_ok()) << log.status().to_string();
  EXPECT_EQ((*log)->recovery_report().indexes_rebuilt, 0u);
  EXPECT_GT((*log)->segment_count(), 2u);
  EXPECT_EQ((*log)->high_watermark(), 200u);
}

}  // namespace
}  // namespace rustlog
