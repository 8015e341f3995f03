// What a read may see (docs/DESIGN_DECISIONS.md, 9; docs/PROTOCOL.md, "The
// high watermark"): with flush `always` only what is fsynced, so a record
// whose fsync failed is never served; with `interval`/`never` everything
// appended. Broker::visible_end is the one bound every fetch, ListOffsets,
// Describe* answer and the high-watermark metric use.
#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "broker/broker.h"
#include "storage/fault_injection.h"
#include "storage/partition_log.h"
#include "storage/record_batch.h"
#include "support/temp_dir.h"

namespace rustlog {
namespace {

using test::TempDir;

constexpr int64_t kT0 = 1'700'000'000'000'000;

std::string one_record_batch(uint64_t base) {
  BatchBuilder b(base);
  b.add(kT0, std::nullopt, std::string("v"), {});
  return b.finish();
}

LogConfig config(const char* flush) {
  LogConfig c;
  auto f = FlushPolicy::parse(flush);
  EXPECT_TRUE(f.is_ok()) << flush;
  c.flush = *f;
  return c;
}

class DurableReadsTest : public ::testing::Test {
 protected:
  void TearDown() override { fault::disarm(); }
};

TEST_F(DurableReadsTest, UnderFlushAlwaysOnlyFsyncedRecordsAreVisible) {
  TempDir tmp;
  auto log = PartitionLog::open(tmp.sub("t-0"), config("always"), 0);
  ASSERT_TRUE(log.is_ok());
  PartitionLog& l = **log;
  std::string b = one_record_batch(0);
  ASSERT_TRUE(l.append(b, kT0).is_ok());
  EXPECT_EQ(l.high_watermark(), 1u);
  EXPECT_EQ(Broker::visible_end(l), 0u) << "appended, not yet fsynced: not visible";
  ASSERT_TRUE(l.flush().is_ok());
  EXPECT_EQ(Broker::visible_end(l), 1u);

  // The next record's fsync fails: it is never visible, and the log is read-only.
  std::string b2 = one_record_batch(1);
  ASSERT_TRUE(l.append(b2, kT0).is_ok());
  fault::arm(fault::Op::kSync, EIO);
  EXPECT_FALSE(l.flush().is_ok());
  EXPECT_TRUE(l.read_only());
  EXPECT_EQ(l.high_watermark(), 2u);
  EXPECT_EQ(Broker::visible_end(l), 1u) << "a record whose fsync failed must never be served";
}

TEST_F(DurableReadsTest, UnderIntervalAndNeverEverythingAppendedIsVisible) {
  for (const char* flush : {"interval:50", "never"}) {
    SCOPED_TRACE(flush);
    TempDir tmp;
    auto log = PartitionLog::open(tmp.sub("t-0"), config(flush), 0);
    ASSERT_TRUE(log.is_ok());
    std::string b = one_record_batch(0);
    ASSERT_TRUE((*log)->append(b, kT0).is_ok());
    EXPECT_EQ((*log)->recovery_point(), 0u);
    EXPECT_EQ(Broker::visible_end(**log), 1u);
  }
}

}  // namespace
}  // namespace rustlog
