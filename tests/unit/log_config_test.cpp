// LogConfig / FlushPolicy (log_config.h) and the roll rules (roll_policy.h):
// small policy units without I/O.
#include "storage/log_config.h"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

#include "storage/roll_policy.h"

namespace rustlog {
namespace {

TEST(LogConfigTest, FlushPolicyParsesAndPrints) {
  for (const char* text :
       {"always", "never", "interval:1", "interval:100", "interval:4294967295"}) {
    auto p = FlushPolicy::parse(text);
    ASSERT_TRUE(p.is_ok()) << text;
    EXPECT_EQ(p->to_string(), text);
    EXPECT_EQ(*FlushPolicy::parse(p->to_string()), *p);
  }
  EXPECT_EQ(FlushPolicy::parse("interval:250")->interval_ms, 250u);
  for (const char* text : {"", "Always", "interval:", "interval:0", "interval:-1", "interval:10ms",
                           "interval:4294967296", "sometimes", "interval: 5"}) {
    auto p = FlushPolicy::parse(text);
    ASSERT_FALSE(p.is_ok()) << text;
    EXPECT_EQ(p.status().code(), ErrorCode::kInvalidRequest);
    EXPECT_NE(p.status().message().find("interval:<milliseconds>"), std::string::npos);
  }
}

TEST(LogConfigTest, ValidateNamesTheBadField) {
  LogConfig c;
  EXPECT_TRUE(c.validate().is_ok());
  c.segment_bytes = 1023;
  EXPECT_NE(c.validate().message().find("segment.bytes"), std::string::npos);
  c.segment_bytes = 1024;
  EXPECT_TRUE(c.validate().is_ok());
  c.segment_bytes = 0x7FFFFFFF;
  EXPECT_TRUE(c.validate().is_ok());
  c.segment_bytes = 0x80000000ull;
  EXPECT_NE(c.validate().message().find("segment.bytes"), std::string::npos);
  c = LogConfig{};
  c.segment_ms = 0;
  EXPECT_NE(c.validate().message().find("segment.ms"), std::string::npos);
  c = LogConfig{};
  c.index_interval_bytes = (64u << 20) + 1;
  EXPECT_NE(c.validate().message().find("index.interval.bytes"), std::string::npos);
}

TEST(LogConfigTest, RollRules) {
  LogConfig c;
  c.segment_bytes = 1000;
  c.segment_ms = 10;  // 10 ms = 10'000 µs
  const int64_t t0 = 1'000'000;
  // An empty segment never rolls, whatever the size or age.
  EXPECT_FALSE(should_roll({0, 0, t0}, 5000, 0, t0 + 1'000'000'000, c));
  // Size: the next batch would push it past segment_bytes.
  EXPECT_FALSE(should_roll({0, 500, t0}, 500, 10, t0, c));
  EXPECT_TRUE(should_roll({0, 500, t0}, 501, 10, t0, c));
  // Time: age (broker clock) reaches segment_ms.
  EXPECT_FALSE(should_roll({0, 1, t0}, 1, 10, t0 + 9'999, c));
  EXPECT_TRUE(should_roll({0, 1, t0}, 1, 10, t0 + 10'000, c));
  // Relative offsets must fit the 32-bit index fields.
  const uint64_t base = 1000;
  EXPECT_FALSE(should_roll({base, 1, t0}, 1, base + std::numeric_limits<uint32_t>::max(), t0, c));
  EXPECT_TRUE(
      should_roll({base, 1, t0}, 1, base + std::numeric_limits<uint32_t>::max() + 1ull, t0, c));
}

}  // namespace
}  // namespace rustlog
