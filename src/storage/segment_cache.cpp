#include "storage/segment_cache.h"

#include <iterator>
#include <vector>

namespace rustlog {

void SegmentLru::touch(CachedSegment* s) {
  auto it = where_.find(s);
  if (it != where_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  lru_.push_front(s);
  where_[s] = lru_.begin();
}

void SegmentLru::touch_oldest(CachedSegment* s) {
  erase(s);
  lru_.push_back(s);
  where_[s] = std::prev(lru_.end());
}

bool SegmentLru::erase(CachedSegment* s) {
  auto it = where_.find(s);
  if (it == where_.end()) return false;
  lru_.erase(it->second);
  where_.erase(it);
  return true;
}

CachedSegment* SegmentLru::pop_past(size_t cap) {
  if (lru_.size() <= cap) return nullptr;
  CachedSegment* victim = lru_.back();
  lru_.pop_back();
  where_.erase(victim);
  return victim;
}

void SegmentCache::touch_mapped(CachedSegment* s) {
  mapped_.touch(s);
  while (CachedSegment* victim = mapped_.pop_past(max_mapped_)) {
    victim->unmap();
    ++unmaps_;
  }
}

void SegmentCache::touch_open(CachedSegment* s, bool opened) {
  if (opened) ++file_opens_;
  open_.touch(s);
  std::vector<CachedSegment*> kept;
  while (CachedSegment* victim = open_.pop_past(max_open_ + kept.size())) {
    if (victim->close_file()) {
      ++file_evictions_;
    } else {
      kept.push_back(victim);
    }
  }
  for (CachedSegment* k : kept) open_.touch_oldest(k);
}

void SegmentCache::forget(CachedSegment* s) {
  mapped_.erase(s);
  open_.erase(s);
}

}  // namespace rustlog
