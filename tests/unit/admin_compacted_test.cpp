// `rustlog verify` and `rustlog dump` (src/admin) on cleaned, sparse
// segments: gaps, header-only batches and delete horizons are normal; an
// interrupted swap's files and a bad cleaner checkpoint are named.
#include <gtest/gtest.h>

#include <filesystem>

#include "admin/dump.h"
#include "admin/dump_format.h"
#include "admin/verify.h"
#include "storage/cleaner_checkpoint.h"
#include "support/compaction_helpers.h"

namespace rustlog {
namespace {

using test::kBaseTimestampUs;

constexpr int64_t kLater = kBaseTimestampUs + 3600ll * 1000 * 1000;

// A cleaned log in <root>/t-0 with gaps, a kept tombstone and a header-only batch.
void write_cleaned_log(const std::string& root) {
  auto log = test::open_log(root + "/t-0", test::compact_config(), 0);
  ASSERT_TRUE(log);
  test::fill_keys(*log, 3, 4);
  test::append_batch(*log, test::keyed_batch({{"gone", "v"}}), nullptr);
  test::append_batch(*log, test::keyed_batch({{"gone", std::nullopt}}), nullptr);
  test::fill_keys(*log, 3, 8);
  LogCleaner cleaner;
  ASSERT_TRUE(cleaner.add_log("t-0", log.get()).is_ok());
  ASSERT_GE(cleaner.run_until_idle(kLater), 1u);
  cleaner.remove_log("t-0");
  ASSERT_TRUE(log->purge_deleted().is_ok());
  ASSERT_TRUE(log->close().is_ok());
}

TEST(AdminVerify, ACleanedSparseLogVerifiesCleanAndSwapLeftoversAreNamed) {
  test::TempDir d;
  write_cleaned_log(d.path());
  admin::VerifyOptions opt;
  opt.index_interval_bytes = 128;
  auto r = admin::verify_data_dir(d.path(), opt);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_EQ(r->partitions.size(), 1u);
  EXPECT_TRUE(r->partitions[0].clean());
  for (const auto& p : r->partitions[0].all_problems()) ADD_FAILURE() << p;
  EXPECT_TRUE(r->partitions[0].warnings.empty());
  // A swap a crash interrupted: named, not a problem (the broker settles it).
  test::write_bytes(d.sub("t-0/00000000000000000000.log.cleaned"), "partial");
  r = admin::verify_data_dir(d.path(), opt);
  ASSERT_TRUE(r.is_ok());
  EXPECT_TRUE(r->partitions[0].clean());
  ASSERT_EQ(r->partitions[0].warnings.size(), 1u);
  EXPECT_NE(r->partitions[0].warnings[0].find("interrupted compaction swap"), std::string::npos);
  // A cleaner checkpoint that holds no offset is a problem.
  test::write_bytes(d.sub(std::string("t-0/") + kCleanerCheckpointFile), "twelve\n");
  r = admin::verify_data_dir(d.path(), opt);
  ASSERT_TRUE(r.is_ok());
  ASSERT_FALSE(r->partitions[0].clean());
  EXPECT_NE(r->partitions[0].all_problems()[0].find(kCleanerCheckpointFile), std::string::npos);
}

TEST(AdminDump, ShowsGapsHeaderOnlyBatchesAndDeleteHorizonsOfACleanedSegment) {
  test::TempDir d;
  write_cleaned_log(d.path());
  admin::DumpOptions opt;
  opt.records = true;
  bool gap = false, horizon = false, empty = false;
  uint64_t records = 0;
  for (const auto& e : std::filesystem::directory_iterator(d.sub("t-0"))) {
    if (!Segment::parse_log_file_name(e.path().filename().string())) continue;
    auto dump = admin::dump_segment(e.path().string(), opt);
    ASSERT_TRUE(dump.is_ok()) << dump.status().to_string();
    EXPECT_EQ(dump->summary.problems, 0u) << e.path();
    for (const auto& b : dump->batches) {
      const std::string line = admin::format_batch_line(b);
      if (b.gap_before > 0) {
        gap = true;
        EXPECT_NE(line.find("gapBefore: " + std::to_string(b.gap_before)), std::string::npos) << line;
      }
      if (b.header.has_delete_horizon()) {
        horizon = true;
        EXPECT_NE(line.find("deleteHorizon: " + std::to_string(b.header.first_timestamp)), std::string::npos) << line;
        EXPECT_EQ(admin::batch_to_json(b, false)["delete_horizon_us"], b.header.first_timestamp);
      }
      if (b.header.record_count == 0) {
        empty = true;
        EXPECT_TRUE(b.records.empty());
        EXPECT_NE(line.find("count: 0"), std::string::npos) << line;
      }
      records += b.records.size();
    }
  }
  EXPECT_TRUE(gap);
  EXPECT_TRUE(horizon);
  EXPECT_TRUE(empty);
  EXPECT_GT(records, 0u);
}

}  // namespace
}  // namespace rustlog
