// The segment floors of topics/topic_config.h: a new topic's segment.bytes
// and segment.ms below them are refused naming the key, the value, the
// floor and the flag that lowers it; exactly the floor is accepted.
#include "topics/topic_config.h"

#include <gtest/gtest.h>

#include <string>

namespace rustlog {
namespace {

bool mentions(const Status& st, const std::string& s) { return st.message().find(s) != std::string::npos; }

TEST(TopicConfigTest, SegmentBytesBelowTheFloorIsRefusedNamingKeyValueFloorAndFlag) {
  const SegmentFloors floors;  // the broker's defaults: 1 MiB, 60 s
  TopicConfig c;
  ASSERT_TRUE(c.set("segment.bytes", "1048575").is_ok());
  const Status st = check_segment_floors(c, floors);
  ASSERT_FALSE(st.is_ok());
  EXPECT_EQ(st.code(), ErrorCode::kInvalidRequest);
  EXPECT_TRUE(mentions(st, "segment.bytes 1048575")) << st.message();
  EXPECT_TRUE(mentions(st, "floor of 1048576")) << st.message();
  EXPECT_TRUE(mentions(st, "--min-segment-bytes 1048575")) << st.message();
  ASSERT_TRUE(c.set("segment.bytes", "1048576").is_ok());
  EXPECT_TRUE(check_segment_floors(c, floors).is_ok());
}

TEST(TopicConfigTest, SegmentMsBelowTheFloorIsRefusedNamingKeyValueFloorAndFlag) {
  const SegmentFloors floors;
  TopicConfig c;
  ASSERT_TRUE(c.set("segment.ms", "1").is_ok());
  const Status st = check_segment_floors(c, floors);
  ASSERT_FALSE(st.is_ok());
  EXPECT_EQ(st.code(), ErrorCode::kInvalidRequest);
  EXPECT_TRUE(mentions(st, "segment.ms 1 ")) << st.message();
  EXPECT_TRUE(mentions(st, "floor of 60000")) << st.message();
  EXPECT_TRUE(mentions(st, "--min-segment-ms 1")) << st.message();
  ASSERT_TRUE(c.set("segment.ms", "60000").is_ok());
  EXPECT_TRUE(check_segment_floors(c, floors).is_ok());
  // Lowered floors let tiny segments through.
  ASSERT_TRUE(c.set("segment.ms", "1").is_ok());
  ASSERT_TRUE(c.set("segment.bytes", "1024").is_ok());
  EXPECT_TRUE(check_segment_floors(c, SegmentFloors{.bytes = 1024, .ms = 1}).is_ok());
  // The defaults of a new topic are far above the floors.
  EXPECT_TRUE(check_segment_floors(TopicConfig{}, floors).is_ok());
}

}  // namespace
}  // namespace rustlog
