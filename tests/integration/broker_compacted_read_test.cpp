// End to end: reading a compacted (sparse) partition through a real
// kafka-lite. The partition is written through the broker, cleaned offline
// by the storage engine's LogCleaner (so the test does not depend on when
// the broker's own cleaner runs), then read with the v0 Fetch and FetchEx
// from every offset: both skip the gaps, and next_offset always moves past
// what was read (also past a header-only batch), so no consumer stalls.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "common/clock.h"
#include "storage/log_cleaner.h"
#include "support/broker_calls.h"
#include "support/broker_process.h"
#include "topics/topic_registry.h"

namespace rustlog::test {
namespace {

using namespace protocol;

TEST(BrokerCompactedReadTest, BothFetchesCrossTheGapsOfACleanedPartition) {
  BrokerProcess broker({"--metrics-listen", "off"});
  ASSERT_TRUE(broker.start());
  uint64_t hwm = 0;
  {
    auto c = broker.connect();
    call<CreateTopicExResponse>(c, CreateTopicExRequest{"c", 1, {{"cleanup.policy", "compact"}, {"segment.bytes", "1024"}}});
    for (int round = 0; round < 12; ++round)
      for (int k = 0; k < 4; ++k)
        hwm = 1 + call<ProduceExResponse>(c, ProduceExRequest{"c", 0, kBrokerTimestamp,
                                                               {ProducerRecord{-1, "k" + std::to_string(k),
                                                                               "v" + std::to_string(round) + "." +
                                                                                   std::to_string(k) + std::string(60, 'x'),
                                                                               {}}}})
                      .base_offset;
  }
  ASSERT_EQ(broker.stop(), 0);
  // Clean it offline; what survives, by offset.
  std::map<uint64_t, std::string> survivors;
  {
    LogConfig cfg;
    cfg.segment_bytes = 1024;
    cfg.compaction.enabled = true;
    cfg.compaction.min_cleanable_dirty_ratio = 0;
    auto log = PartitionLog::open(broker.data_dir() + "/" + TopicRegistry::partition_dir_name("c", 0), cfg, 0);
    ASSERT_TRUE(log.is_ok()) << log.status().to_string();
    LogCleaner cleaner;
    ASSERT_TRUE(cleaner.add_log("c-0", log->get()).is_ok());
    ASSERT_GE(cleaner.run_until_idle(wall_us() + 3600ll * 1000 * 1000), 1u);
    ASSERT_GT(cleaner.counters().records_removed, 20u);
    for (uint64_t off = 0; off < (*log)->high_watermark();) {
      auto r = (*log)->read(off, 1 << 20);
      ASSERT_TRUE(r.is_ok());
      std::vector<Record> recs;
      ASSERT_TRUE(decode_batches(r->data, off, &recs).is_ok());
      for (const auto& rec : recs) survivors[rec.offset] = *rec.value;
      off = r->next_offset;
    }
    cleaner.remove_log("c-0");
    ASSERT_TRUE((*log)->purge_deleted().is_ok());
    ASSERT_TRUE((*log)->close().is_ok());
  }
  ASSERT_LT(survivors.size(), hwm);
  ASSERT_TRUE(broker.start());
  auto c = broker.connect();
  for (uint32_t max_bytes : {1u, 200u, 100000u}) {
    SCOPED_TRACE("max_bytes " + std::to_string(max_bytes));
    // From every offset: the records are the survivors from there on, and
    // next_offset moves forward.
    for (uint64_t off = 0; off < hwm; ++off) {
      auto first = survivors.lower_bound(off);
      auto v0 = call<FetchResponse>(c, FetchRequest{"", "c", 0, off, max_bytes});
      EXPECT_GT(v0.next_offset, off) << "v0 at " << off;
      auto it = first;
      for (const auto& value : v0.records) {
        ASSERT_NE(it, survivors.end());
        EXPECT_EQ(value, it->second) << "v0 at " << off;
        ++it;
      }
      if (it != survivors.end()) {
        EXPECT_LE(v0.next_offset, it->first) << "v0 at " << off << " skipped offset " << it->first;
      }
      auto ex = call<FetchExResponse>(c, FetchExRequest{"c", 0, off, max_bytes, 0, 0});
      EXPECT_GT(ex.next_offset, off) << "FetchEx at " << off;
      it = first;
      for (const auto& rec : ex.records) {
        ASSERT_NE(it, survivors.end());
        EXPECT_EQ(rec.offset, it->first);
        EXPECT_EQ(*rec.value, it->second);
        ++it;
      }
      // Nothing was skipped: what was not returned starts at next_offset.
      if (it != survivors.end()) {
        EXPECT_LE(ex.next_offset, it->first) << "FetchEx at " << off << " skipped offset " << it->first;
      }
    }
    // A consumer following next_offset from 0 sees every survivor once, in order.
    std::vector<std::string> got;
    for (uint64_t off = 0; off < hwm;) {
      auto v0 = call<FetchResponse>(c, FetchRequest{"", "c", 0, off, max_bytes});
      ASSERT_GT(v0.next_offset, off);
      got.insert(got.end(), v0.records.begin(), v0.records.end());
      off = v0.next_offset;
    }
    std::vector<std::string> want;
    for (const auto& [o, v] : survivors) want.push_back(v);
    EXPECT_EQ(got, want);
  }
}

}  // namespace
}  // namespace rustlog::test
