#include "storage/verified_ranges.h"

#include <algorithm>
#include <iterator>

namespace rustlog {

bool VerifiedRanges::covers(uint64_t begin, uint64_t end) const {
  auto it = ranges_.upper_bound(begin);  // the first range starting after begin
  if (it == ranges_.begin()) return false;
  --it;
  return it->first <= begin && end <= it->second;
}

void VerifiedRanges::add(uint64_t begin, uint64_t end) {
  if (begin >= end) return;
  auto it = ranges_.upper_bound(begin);  // the first range starting after begin
  if (it != ranges_.begin()) {
    auto prev = std::prev(it);
    if (prev->second >= begin) {
      // Overlaps or touches the range before: extend it in place (a walk
      // front to back only ever does this), absorbing what it now reaches.
      if (end <= prev->second) return;
      prev->second = end;
      while (it != ranges_.end() && it->first <= prev->second) {
        prev->second = std::max(prev->second, it->second);
        it = ranges_.erase(it);
      }
      return;
    }
  }
  while (it != ranges_.end() && it->first <= end) {
    end = std::max(end, it->second);
    it = ranges_.erase(it);
  }
  ranges_.emplace_hint(it, begin, end);
}

void VerifiedRanges::forget_from(uint64_t pos) {
  auto it = ranges_.lower_bound(pos);
  ranges_.erase(it, ranges_.end());
  if (ranges_.empty()) return;
  auto last = std::prev(ranges_.end());
  if (last->second > pos) last->second = pos;
}

uint64_t VerifiedRanges::bytes() const {
  uint64_t n = 0;
  for (const auto& [b, e] : ranges_) n += e - b;
  return n;
}

}  // namespace rustlog
