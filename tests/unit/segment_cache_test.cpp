// The LRU bounds of storage/segment_cache.h: mappings and descriptors are
// capped separately, the least recently used goes first, and the counters
// say how often each happened.
#include "storage/segment_cache.h"

#include <gtest/gtest.h>

#include <vector>

namespace rustlog {
namespace {

class FakeSegment : public CachedSegment {
 public:
  void unmap() override { ++unmaps; }
  bool close_file() override {
    ++closes;
    return !keep_open;
  }
  bool keep_open = false;
  int unmaps = 0;
  int closes = 0;
};

TEST(SegmentCacheTest, UnmapsTheLeastRecentlyUsedPastTheMappingCap) {
  SegmentCache cache(3, 100);
  std::vector<FakeSegment> s(5);
  for (int i = 0; i < 3; ++i) cache.touch_mapped(&s[i]);
  EXPECT_EQ(cache.mapped(), 3u);
  cache.touch_mapped(&s[0]);  // 0 becomes the most recent; 1 is now the oldest
  cache.touch_mapped(&s[3]);
  EXPECT_EQ(s[1].unmaps, 1);
  EXPECT_EQ(s[0].unmaps + s[2].unmaps + s[3].unmaps, 0);
  cache.touch_mapped(&s[4]);
  EXPECT_EQ(s[2].unmaps, 1);
  EXPECT_EQ(cache.mapped(), 3u);
  EXPECT_EQ(cache.unmaps(), 2u);
  cache.forget(&s[4]);
  cache.forget(&s[4]);  // idempotent
  EXPECT_EQ(cache.mapped(), 2u);
  EXPECT_EQ(s[4].unmaps, 0);  // forget does not unmap: the segment does
  for (const auto& f : s) EXPECT_EQ(f.closes, 0);  // mappings never close descriptors
  EXPECT_EQ(SegmentCache(0, 0).capacity(), 1u);
  EXPECT_EQ(SegmentCache(0, 0).open_files_capacity(), 1u);
}

TEST(SegmentCacheTest, ClosesTheLeastRecentlyUsedDescriptorPastTheFileCap) {
  constexpr size_t kCap = 4;
  SegmentCache cache(1, kCap);
  std::vector<FakeSegment> s(1000);
  // A thousand segments opened one after another: never more than the cap
  // open, and exactly the oldest ones closed.
  for (size_t i = 0; i < s.size(); ++i) {
    cache.touch_open(&s[i]);
    ASSERT_LE(cache.open_files(), kCap);
  }
  for (size_t i = 0; i < s.size(); ++i) EXPECT_EQ(s[i].closes, i + kCap < s.size() ? 1 : 0) << i;
  EXPECT_EQ(cache.file_evictions(), s.size() - kCap);
  EXPECT_EQ(cache.file_opens(), 0u);  // registering an already open file is not a reopen
  // Reading an old segment again reopens it (counted) and closes the now
  // least recently used of the four.
  cache.touch_open(&s[996]);          // 996 997 998 999 -> 996 is the most recent
  cache.touch_open(&s[0], /*opened=*/true);
  EXPECT_EQ(cache.file_opens(), 1u);
  EXPECT_EQ(s[997].closes, 1);
  EXPECT_EQ(s[996].closes, 0);
  EXPECT_EQ(cache.open_files(), kCap);
  // Mapping is bounded apart: one mapping cap does not close descriptors.
  cache.touch_mapped(&s[1]);
  cache.touch_mapped(&s[2]);
  EXPECT_EQ(s[1].unmaps, 1);
  EXPECT_EQ(cache.open_files(), kCap);
  // A segment that becomes active again leaves both lists.
  cache.forget(&s[0]);
  EXPECT_EQ(cache.open_files(), kCap - 1);
  EXPECT_EQ(s[0].closes, 1);  // from its first eviction only
}

TEST(SegmentCacheTest, ADescriptorThatMustStayOpenIsKeptAndClosedLater) {
  SegmentCache cache(1, 2);
  std::vector<FakeSegment> s(4);
  s[0].keep_open = true;  // e.g. recovered bytes not yet fdatasync'ed
  cache.touch_open(&s[0]);
  cache.touch_open(&s[1]);
  cache.touch_open(&s[2]);  // 0 is asked to close and refuses: it stays, past the cap
  EXPECT_EQ(cache.open_files(), 3u);
  EXPECT_EQ(cache.file_evictions(), 0u);
  EXPECT_EQ(s[1].closes, 0);
  s[0].keep_open = false;
  cache.touch_open(&s[3]);  // now 0 (still the oldest) closes, then 1
  EXPECT_EQ(cache.open_files(), 2u);
  EXPECT_EQ(cache.file_evictions(), 2u);
  EXPECT_EQ(s[1].closes, 1);
  EXPECT_EQ(s[2].closes + s[3].closes, 0);
}

}  // namespace
}  // namespace rustlog
