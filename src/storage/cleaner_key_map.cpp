#include "storage/cleaner_key_map.h"

#include <algorithm>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace rustlog {

void CleanerKeyMap::reset(uint64_t budget_bytes, uint64_t max_entries) {
  uint64_t n = std::max<uint64_t>(budget_bytes / kSlotBytes, 2);
  if (max_entries < UINT64_MAX / 2) n = std::min<uint64_t>(n, std::max<uint64_t>(max_entries * 10 / 9 + 2, 2));
  slots_ = static_cast<size_t>(n);
  if (slots_ > allocated_) {
    table_.reset(new Slot[slots_]);  // left uninitialised: prepare() fills it in steps
    allocated_ = slots_;
  }
  prepared_ = 0;
  size_ = 0;
  capacity_ = std::max<size_t>(1, static_cast<size_t>(static_cast<double>(slots_) * kMaxLoad));
  capacity_ = std::min(capacity_, slots_ - 1);  // one slot always stays empty: probes end
}

bool CleanerKeyMap::prepare(size_t n) {
  const size_t end = std::min(slots_, prepared_ + n);
  for (size_t i = prepared_; i < end; ++i) table_[i].offset = kEmpty;
  prepared_ = end;
  return ready();
}

size_t CleanerKeyMap::find(uint64_t hi, uint64_t lo) const {
  size_t i = static_cast<size_t>(lo % slots_);
  while (table_[i].offset != kEmpty && (table_[i].hi != hi || table_[i].lo != lo)) i = (i + 1) % slots_;
  return i;
}

bool CleanerKeyMap::put(std::string_view key, uint64_t offset) {
  const XXH128_hash_t d = XXH3_128bits(key.data(), key.size());
  const size_t i = find(d.high64, d.low64);
  if (table_[i].offset == kEmpty) {
    if (full()) return false;
    table_[i].hi = d.high64;
    table_[i].lo = d.low64;
    ++size_;
  }
  table_[i].offset = offset;
  return true;
}

std::optional<uint64_t> CleanerKeyMap::get(std::string_view key) const {
  if (slots_ == 0) return std::nullopt;
  const XXH128_hash_t d = XXH3_128bits(key.data(), key.size());
  const size_t i = find(d.high64, d.low64);
  if (table_[i].offset == kEmpty) return std::nullopt;
  return table_[i].offset;
}

}  // namespace rustlog
