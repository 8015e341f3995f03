// Compaction and retention on compressed batches: the cleaner decompresses a
// batch to read its keys and rebuilds what it keeps with the batch's codec
// (docs/STORAGE.md, section 17); a batch that loses nothing is copied as it
// is; retention deletes whole segments of compressed batches like any other.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "common/batch_builder.h"
#include "common/byte_order.h"
#include "support/compaction_helpers.h"
#include "support/power_loss_workloads.h"

namespace rustlog {
namespace {

using test::kBaseTimestampUs;
constexpr int64_t kLater = kBaseTimestampUs + 3600ll * 1000 * 1000;

std::string value(int round, int key) {
  std::string v = "round " + std::to_string(round) + " key " + std::to_string(key) + " ";
  while (v.size() < 400) v += "GET /api/v1/orders HTTP/1.1 200 ";
  return v;
}

// Every batch of the log from its start: the codec bits and record count.
std::vector<std::pair<uint16_t, uint32_t>> batches(PartitionLog& log) {
  std::vector<std::pair<uint16_t, uint32_t>> out;
  for (uint64_t at = log.log_start_offset(); at < log.high_watermark();) {
    auto r = log.read(at, 1);
    EXPECT_TRUE(r) << r.status().to_string();
    if (!r) break;
    BatchHeader h;
    EXPECT_EQ(parse_batch_header(reinterpret_cast<const uint8_t*>(r->data.data()), r->data.size(), &h),
              BatchError::kOk);
    out.push_back({static_cast<uint16_t>(h.attributes & kBatchCompressionMask), h.record_count});
    at = r->next_offset;
  }
  return out;
}

TEST(CompressedCompactionTest, TheCleanerKeepsTheLatestPerKeyAndRecompressesWithTheBatchCodec) {
  for (Codec codec : {Codec::kLz4, Codec::kZstd}) {
    SCOPED_TRACE(codec_name(codec));
    test::TempDir d;
    auto log = test::open_log(d.sub("t-0"), test::compact_config(16 * 1024, 512), 0);
    ASSERT_TRUE(log);
    constexpr int kKeys = 12, kRounds = 20;
    for (int round = 0; round < kRounds; ++round) {
      BatchBuilder b(0);
      for (int k = 0; k < kKeys; ++k) {
        // Key 0's last round is a tombstone: kept for delete.retention.ms.
        std::optional<std::string> v = value(round, k);
        if (k == 0 && round == kRounds - 1) v.reset();
        b.add(kBaseTimestampUs + round, "key-" + std::to_string(k), v, {});
      }
      std::string batch = b.finish({codec, 0});
      ASSERT_EQ(get_u16(reinterpret_cast<const uint8_t*>(batch.data()) + kBatchAttributesOffset),
                static_cast<uint16_t>(codec));
      ASSERT_TRUE(log->append(batch, kBaseTimestampUs));
    }
    // Plain batches until a new segment starts, so the tombstone's is sealed.
    const size_t segments = log->segment_count();
    while (log->segment_count() == segments)
      test::append_batch(*log, test::keyed_batch({{"other", std::string(500, 'o')}}), nullptr, kBaseTimestampUs);
    const uint64_t size_before = log->size_bytes();
    LogCleaner cleaner;
    ASSERT_TRUE(cleaner.add_log("t-0", log.get()).is_ok());
    EXPECT_GE(cleaner.run_until_idle(kLater), 1u);
    EXPECT_LT(log->size_bytes(), size_before);
    EXPECT_GT(cleaner.counters().records_removed, 0u);
    const auto recs = test::read_records(*log);
    const auto latest = test::last_per_key(recs);
    ASSERT_EQ(latest.size(), static_cast<size_t>(kKeys + 1));
    EXPECT_FALSE(latest.at("key-0").value.has_value());  // the tombstone, within its horizon
    for (int k = 1; k < kKeys; ++k) EXPECT_EQ(latest.at("key-" + std::to_string(k)).value, value(kRounds - 1, k));
    std::map<std::string, int> seen;
    for (const auto& r : recs)
      if (*r.key != "other") {
        EXPECT_EQ(++seen[*r.key], 1) << *r.key;
      }
    // Every batch of the cleaned range that holds records kept its codec.
    size_t compressed = 0;
    for (const auto& [bits, count] : batches(*log)) {
      if (count == 0 || count == 1) continue;  // header-only, or the plain "other" batches
      EXPECT_EQ(bits, static_cast<uint16_t>(codec));
      ++compressed;
    }
    EXPECT_GE(compressed, 1u);
    ASSERT_TRUE(log->purge_deleted().is_ok());
    log.reset();
    test::expect_verify_clean(d.path(), 512);
  }
}

TEST(CompressedCompactionTest, SizeRetentionDeletesWholeSegmentsOfCompressedBatches) {
  test::TempDir d;
  LogConfig cfg = test::small_config(8 * 1024, 512);
  cfg.retention_bytes = 16 * 1024;
  auto log = test::open_log(d.sub("t-0"), cfg, 0);
  ASSERT_TRUE(log);
  for (int round = 0; round < 200; ++round) {
    BatchBuilder b(0);
    for (int k = 0; k < 10; ++k) b.add(kBaseTimestampUs, std::nullopt, value(round, k), {});
    std::string batch = b.finish({Codec::kZstd, 0});
    ASSERT_TRUE(log->append(batch, kBaseTimestampUs));
  }
  ASSERT_GE(log->segment_count(), 4u);
  auto deleted = log->apply_retention(kLater);
  ASSERT_TRUE(deleted) << deleted.status().to_string();
  EXPECT_GT(log->log_start_offset(), 0u);
  EXPECT_LE(log->size_bytes(), static_cast<uint64_t>(cfg.retention_bytes) + cfg.segment_bytes);
  const auto recs = test::read_records(*log);
  ASSERT_FALSE(recs.empty());
  EXPECT_EQ(recs.front().offset, log->log_start_offset());
  EXPECT_EQ(recs.back().offset, log->high_watermark() - 1);
  EXPECT_EQ(*recs.back().value, value(199, 9));
}

}  // namespace
}  // namespace rustlog
