#include "storage/segment_index.h"

#include <algorithm>

#include "common/byte_order.h"

namespace rustlog {

uint32_t OffsetIndex::lookup(uint32_t rel_target) const {
  auto it = std::upper_bound(rel_.begin(), rel_.end(), rel_target);
  if (it == rel_.begin()) return 0;
  return pos_[static_cast<size_t>(it - rel_.begin()) - 1];
}

size_t OffsetIndex::count_at_or_below(uint32_t rel) const {
  return static_cast<size_t>(std::upper_bound(rel_.begin(), rel_.end(), rel) - rel_.begin());
}

size_t OffsetIndex::first_at_or_after_position(uint64_t pos) const {
  return static_cast<size_t>(std::lower_bound(pos_.begin(), pos_.end(), pos) - pos_.begin());
}

void OffsetIndex::serialize_entry(uint32_t rel, uint32_t pos, std::string& out) {
  uint8_t b[kOffsetIndexEntrySize];
  put_u32(b, rel);
  put_u32(b + 4, pos);
  out.append(reinterpret_cast<const char*>(b), sizeof b);
}

std::string OffsetIndex::serialize() const {
  std::string out;
  out.reserve(size() * kOffsetIndexEntrySize);
  for (size_t i = 0; i < size(); ++i) serialize_entry(rel_[i], pos_[i], out);
  return out;
}

Result<OffsetIndex> OffsetIndex::parse(std::string_view bytes) {
  if (bytes.size() % kOffsetIndexEntrySize != 0)
    return Status(ErrorCode::kCorruptRecord, "offset index size " + std::to_string(bytes.size()) +
                                                 " is not a multiple of 8");
  OffsetIndex idx;
  const size_t n = bytes.size() / kOffsetIndexEntrySize;
  idx.rel_.reserve(n);
  idx.pos_.reserve(n);
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  for (size_t i = 0; i < n; ++i, p += kOffsetIndexEntrySize) {
    uint32_t rel = get_u32(p), pos = get_u32(p + 4);
    if (i > 0 && (rel <= idx.rel_.back() || pos <= idx.pos_.back()))
      return Status(ErrorCode::kCorruptRecord,
                    "offset index entry " + std::to_string(i) + " is not increasing");
    idx.add(rel, pos);
  }
  return idx;
}

size_t TimeIndex::count_below(int64_t target) const {
  return static_cast<size_t>(std::lower_bound(ts_.begin(), ts_.end(), target) - ts_.begin());
}

uint32_t TimeIndex::scan_start(int64_t target) const {
  const size_t n = count_below(target);
  return n == 0 ? 0 : rel_[n - 1];
}

size_t TimeIndex::first_at_or_after_offset(uint32_t rel) const {
  return static_cast<size_t>(std::lower_bound(rel_.begin(), rel_.end(), rel) - rel_.begin());
}

void TimeIndex::serialize_entry(int64_t ts, uint32_t rel, std::string& out) {
  uint8_t b[kTimeIndexEntrySize];
  put_u64(b, static_cast<uint64_t>(ts));
  put_u32(b + 8, rel);
  out.append(reinterpret_cast<const char*>(b), sizeof b);
}

std::string TimeIndex::serialize() const {
  std::string out;
  out.reserve(size() * kTimeIndexEntrySize);
  for (size_t i = 0; i < size(); ++i) serialize_entry(ts_[i], rel_[i], out);
  return out;
}

Result<TimeIndex> TimeIndex::parse(std::string_view bytes) {
  if (bytes.size() % kTimeIndexEntrySize != 0)
    return Status(ErrorCode::kCorruptRecord, "time index size " + std::to_string(bytes.size()) +
                                                 " is not a multiple of 12");
  TimeIndex idx;
  const size_t n = bytes.size() / kTimeIndexEntrySize;
  idx.ts_.reserve(n);
  idx.rel_.reserve(n);
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  for (size_t i = 0; i < n; ++i, p += kTimeIndexEntrySize) {
    int64_t ts = static_cast<int64_t>(get_u64(p));
    uint32_t rel = get_u32(p + 8);
    if (i > 0 && (ts <= idx.ts_.back() || rel <= idx.rel_.back()))
      return Status(ErrorCode::kCorruptRecord,
                    "time index entry " + std::to_string(i) + " is not increasing");
    idx.add(ts, rel);
  }
  return idx;
}

void IndexPolicy::resume(uint64_t position, const OffsetIndex& oi, const TimeIndex& ti,
                         int64_t max_ts_before) {
  bytes_since_ = oi.empty() ? position : position - oi.pos_at(oi.size() - 1);
  max_ts_ = max_ts_before;
  last_time_entry_.reset();
  if (!ti.empty()) last_time_entry_ = ti.ts_at(ti.size() - 1);
}

IndexPolicy::Entry IndexPolicy::on_batch(uint32_t rel, uint32_t position, uint32_t size,
                                         int64_t batch_max_ts) {
  Entry e;
  if (bytes_since_ >= interval_) {
    e.offset.emplace(rel, position);
    if (max_ts_ != INT64_MIN && (!last_time_entry_ || max_ts_ > *last_time_entry_)) {
      e.time.emplace(max_ts_, rel);
      last_time_entry_ = max_ts_;
    }
    bytes_since_ = 0;
  }
  bytes_since_ += size;
  max_ts_ = std::max(max_ts_, batch_max_ts);
  return e;
}

}  // namespace rustlog
