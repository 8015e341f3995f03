// End to end, a differential test of the v0 Fetch, which the broker reads in
// 64 KiB slices, one per event-loop turn (docs/ARCHITECTURE.md, "A fetch's
// path"), against FetchEx, whose answer (sliced too) is byte for byte that
// of one read of max_bytes (tests/unit/fetch_ex_slices_test.cpp): for random offsets
// and sizes over a log of many segments, with batches both smaller and larger
// than a slice, the v0 answer is exactly FetchEx's records cut by v0's
// value-bytes rule, with the matching next offset.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "support/broker_calls.h"
#include "support/broker_process.h"

namespace rustlog::test {
namespace {

using namespace protocol;

TEST(BrokerFetchSlicesTest, SlicedV0FetchReturnsWhatOneReadOfMaxBytesReturns) {
  BrokerProcess broker;
  ASSERT_TRUE(broker.start());
  auto c = broker.connect();
  call<CreateTopicExResponse>(
      c, CreateTopicExRequest{"t", 1, {{"segment.bytes", "262144"}, {"flush", "never"}}});

  std::mt19937_64 rng(20261201);
  auto uniform = [&](uint64_t lo, uint64_t hi) { return std::uniform_int_distribution<uint64_t>(lo, hi)(rng); };
  uint64_t next = 0;
  for (int b = 0; b < 160; ++b) {
    ProduceExRequest req{"t", 0, -1, {}};
    // Mostly small batches; every tenth one larger than a 64 KiB slice.
    const bool large = b % 10 == 9;
    const uint64_t n = large ? uniform(40, 90) : uniform(1, 30);
    for (uint64_t i = 0; i < n; ++i) {
      ProducerRecord r;
      r.timestamp_us = -1;
      r.value = std::string(large ? uniform(1500, 2500) : uniform(0, 1200), static_cast<char>('a' + (next + i) % 26));
      req.records.push_back(std::move(r));
    }
    auto resp = call<ProduceExResponse>(c, req);
    ASSERT_EQ(resp.base_offset, next);
    next += n;
  }
  const auto d = call<DescribeTopicConfigResponse>(c, DescribeTopicConfigRequest{"t"});
  ASSERT_EQ(d.partitions.size(), 1u);
  ASSERT_GE(d.partitions[0].segment_count, 10u) << "the log should span many segments";

  // FetchEx reads at most max_frame_bytes / 4 (2.5 MiB by default) in one go.
  constexpr double kMaxBytes = 2.5 * 1024 * 1024;
  int multi_slice = 0;  // answers larger than one 64 KiB slice
  for (int k = 0; k < 300; ++k) {
    const uint64_t offset = uniform(0, next);
    // Half spread over every scale, half above one slice.
    const auto max_bytes =
        k % 2 ? static_cast<uint32_t>(std::exp(std::uniform_real_distribution<double>(0, std::log(kMaxBytes))(rng)))
              : static_cast<uint32_t>(uniform(64 * 1024, static_cast<uint64_t>(kMaxBytes)));
    SCOPED_TRACE("fetch " + std::to_string(k) + ": offset " + std::to_string(offset) + ", max_bytes " +
                 std::to_string(max_bytes));
    auto v0 = call<FetchResponse>(c, FetchRequest{"", "t", 0, offset, max_bytes});
    auto ex = call<FetchExResponse>(c, FetchExRequest{"t", 0, offset, max_bytes, 0, 0});
    // The v0 answer is FetchEx's one read, cut by v0's own rule: values while
    // 4 + length each fit in max_bytes, at least one (docs/PROTOCOL.md).
    std::vector<std::string> want;
    uint64_t want_next = offset, bytes = 0;
    for (const auto& r : ex.records) {
      const std::string v = r.value.value_or("");
      if (!want.empty() && bytes + 4 + v.size() > max_bytes) break;
      bytes += 4 + v.size();
      want.push_back(v);
      want_next = r.offset + 1;
    }
    ASSERT_EQ(v0.records.size(), want.size());
    EXPECT_EQ(v0.records, want);
    EXPECT_EQ(v0.next_offset, want_next);
    if (bytes > 64 * 1024) ++multi_slice;
    if (offset < next) {
      EXPECT_FALSE(v0.records.empty()) << "at least one record when one exists";
    }
  }
  EXPECT_GE(multi_slice, 100) << "too few fetches spanned several slices to test the slicing";
}

}  // namespace
}  // namespace rustlog::test
