#include "storage/mmap_cache.h"

namespace rustlog {

void MmapCache::touch(MappedSegment* s) {
  auto it = where_.find(s);
  if (it != where_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  lru_.push_front(s);
  where_[s] = lru_.begin();
  while (lru_.size() > max_) {
    MappedSegment* victim = lru_.back();
    lru_.pop_back();
    where_.erase(victim);
    victim->unmap();
  }
}

void MmapCache::forget(MappedSegment* s) {
  auto it = where_.find(s);
  if (it == where_.end()) return;
  lru_.erase(it->second);
  where_.erase(it);
}

}  // namespace rustlog
