// The mmap LRU bound (storage/mmap_cache.h).
#include "storage/mmap_cache.h"

#include <gtest/gtest.h>

#include <vector>

namespace rustlog {
namespace {

class FakeSegment : public MappedSegment {
 public:
  void unmap() override { ++unmaps; }
  int unmaps = 0;
};

TEST(MmapCacheTest, EvictsTheLeastRecentlyUsedPastTheCap) {
  MmapCache cache(3);
  std::vector<FakeSegment> s(5);
  for (int i = 0; i < 3; ++i) cache.touch(&s[i]);
  EXPECT_EQ(cache.mapped(), 3u);
  cache.touch(&s[0]);  // 0 becomes the most recent; 1 is now the oldest
  cache.touch(&s[3]);
  EXPECT_EQ(s[1].unmaps, 1);
  EXPECT_EQ(s[0].unmaps + s[2].unmaps + s[3].unmaps, 0);
  cache.touch(&s[4]);
  EXPECT_EQ(s[2].unmaps, 1);
  EXPECT_EQ(cache.mapped(), 3u);
  cache.forget(&s[4]);
  cache.forget(&s[4]);  // idempotent
  EXPECT_EQ(cache.mapped(), 2u);
  EXPECT_EQ(s[4].unmaps, 0);  // forget does not unmap: the segment does
  EXPECT_EQ(MmapCache(0).capacity(), 1u);
}

}  // namespace
}  // namespace rustlog
