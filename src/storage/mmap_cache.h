#pragma once
// Bounds how many sealed segments stay memory-mapped at once. Segments map
// lazily on first read and register here; past the cap the least recently
// used one is unmapped (it maps again on its next read). One cache per
// broker (or per log in tests); single-threaded like the rest of the loop.
#include <cstddef>
#include <list>
#include <unordered_map>

namespace rustlog {

class MappedSegment {
 public:
  virtual ~MappedSegment() = default;
  virtual void unmap() = 0;
};

class MmapCache {
 public:
  explicit MmapCache(size_t max_mapped = 256) : max_(max_mapped == 0 ? 1 : max_mapped) {}
  MmapCache(const MmapCache&) = delete;
  MmapCache& operator=(const MmapCache&) = delete;

  // Marks `s` most recently used (registering it), evicting past the cap.
  void touch(MappedSegment* s);
  void forget(MappedSegment* s);
  size_t mapped() const { return lru_.size(); }
  size_t capacity() const { return max_; }

 private:
  size_t max_;
  std::list<MappedSegment*> lru_;  // front = most recent
  std::unordered_map<MappedSegment*, std::list<MappedSegment*>::iterator> where_;
};

}  // namespace rustlog
