#pragma once
// Bounds two resources of sealed segments, each by its own least-recently-
// used list: memory mappings (--max-mapped-segments) and open `.log`
// descriptors (--max-open-segment-files). A sealed segment maps lazily on its
// first read and opens its log file lazily when it needs a descriptor (to map
// it, or to read the bytes a mapping does not cover); past a cap the least
// recently used one is unmapped or closed, and maps or reopens on its next
// read. The active segment is never registered: its descriptor stays open
// for appends and for the sync workers' fdatasyncs. Sealed segments keep no
// index descriptors (their indexes are read whole into memory).
//
// One cache per broker (or per log in tests); single-threaded like the rest
// of the event loop. The counters are read by the loop, which publishes them.
#include <cstddef>
#include <cstdint>
#include <list>
#include <unordered_map>

namespace rustlog {

class CachedSegment {
 public:
  virtual ~CachedSegment() = default;
  virtual void unmap() = 0;       // drop the mapping (it is made again on demand)
  // Closes the log descriptor (reopened on demand); false when it must stay
  // open for now (bytes not yet fdatasync'ed): it is kept as the least
  // recently used, and the cap is exceeded until then.
  virtual bool close_file() = 0;
};

// An ordered set of segments, most recently used first.
class SegmentLru {
 public:
  void touch(CachedSegment* s);
  void touch_oldest(CachedSegment* s);  // (re)inserts `s` as the least recently used
  bool erase(CachedSegment* s);  // false when it was not there
  // The least recently used one, removed, while more than `cap` are held.
  CachedSegment* pop_past(size_t cap);
  size_t size() const { return lru_.size(); }

 private:
  std::list<CachedSegment*> lru_;  // front = most recent
  std::unordered_map<CachedSegment*, std::list<CachedSegment*>::iterator> where_;
};

class SegmentCache {
 public:
  explicit SegmentCache(size_t max_mapped = 256, size_t max_open_files = 256)
      : max_mapped_(max_mapped == 0 ? 1 : max_mapped), max_open_(max_open_files == 0 ? 1 : max_open_files) {}
  SegmentCache(const SegmentCache&) = delete;
  SegmentCache& operator=(const SegmentCache&) = delete;

  // Marks `s` most recently mapped (registering it), unmapping past the cap.
  void touch_mapped(CachedSegment* s);
  // Marks `s`'s descriptor most recently used (registering it), closing
  // others past the cap. `opened`: the segment has just (re)opened its file.
  void touch_open(CachedSegment* s, bool opened = false);
  // `s` is going away or becoming active: neither list holds it any more
  // (its mapping and descriptor are its own business again).
  void forget(CachedSegment* s);

  size_t mapped() const { return mapped_.size(); }
  size_t open_files() const { return open_.size(); }
  size_t capacity() const { return max_mapped_; }
  size_t open_files_capacity() const { return max_open_; }
  uint64_t file_opens() const { return file_opens_; }          // lazy (re)opens of sealed segments' logs
  uint64_t file_evictions() const { return file_evictions_; }  // descriptors closed past the cap
  uint64_t unmaps() const { return unmaps_; }                  // mappings dropped past the cap

 private:
  size_t max_mapped_;
  size_t max_open_;
  SegmentLru mapped_;
  SegmentLru open_;
  uint64_t file_opens_ = 0;
  uint64_t file_evictions_ = 0;
  uint64_t unmaps_ = 0;
};

}  // namespace rustlog
