// PartitionLog's reads: batches by offset (read, read_each) and offsets by
// time. Every batch handed out was verified (docs/STORAGE.md, section 10).
#include <algorithm>

#include "storage/partition_log.h"

namespace rustlog {

size_t PartitionLog::segment_index_for(uint64_t offset) const {
  // Last segment whose base offset <= offset.
  auto it = std::upper_bound(segments_.begin(), segments_.end(), offset,
                             [](uint64_t o, const auto& s) { return o < s->base_offset(); });
  return it == segments_.begin() ? 0 : static_cast<size_t>(it - segments_.begin()) - 1;
}

Result<ReadResult> PartitionLog::read(uint64_t offset, const ReadLimits& limits) {
  ReadResult r;
  auto info = read_each(offset, limits, [&r](std::string_view b) { r.data.append(b); });
  if (!info) return info.status();
  r.next_offset = info->next_offset;
  r.high_watermark = info->high_watermark;
  r.log_start_offset = info->log_start_offset;
  return r;
}

Result<ReadInfo> PartitionLog::read_each(uint64_t offset, const ReadLimits& limits, const BatchVisitor& visit) {
  ReadInfo r;
  r.high_watermark = next_offset_;
  r.log_start_offset = log_start_offset();
  r.next_offset = offset;
  if (offset < r.log_start_offset || offset > next_offset_)
    return Status(ErrorCode::kOffsetOutOfRange,
                  "offset " + std::to_string(offset) + " is out of range: valid offsets are " +
                      std::to_string(r.log_start_offset) + ".." + std::to_string(next_offset_));
  if (offset == next_offset_ || offset >= limits.max_offset) return r;
  const size_t max_bytes = limits.max_bytes;
  size_t i = segment_index_for(offset);
  uint64_t want = offset;
  for (; i < segments_.size(); ++i) {
    Segment& s = *segments_[i];
    if (want >= s.next_offset()) continue;  // offsets missing at the segment's end (compaction)
    if (want >= limits.max_offset) break;
    auto loc = s.locate(std::max(want, s.base_offset()));
    if (!loc) {
      if (loc.status().code() == ErrorCode::kOffsetOutOfRange) continue;
      if (r.bytes > 0) break;  // return what was good; the next read reports it
      return loc.status();
    }
    const size_t before = r.bytes;
    const size_t budget = before == 0 ? max_bytes : (max_bytes > before ? max_bytes - before : 0);
    if (before > 0 && budget == 0) break;
    ReadLimits seg = limits;
    seg.max_bytes = budget;
    if (before > 0) seg.first_batch_max = budget;  // only the read's first batch may exceed it
    uint64_t next = r.next_offset;
    size_t got = 0;
    Status st = s.visit_batches(*loc, seg, visit, &next, &got);
    r.bytes += got;
    if (got > 0) r.next_offset = next;
    if (!st) {
      if (r.bytes > 0) break;
      return st;
    }
    if (got == 0) break;  // the next batch does not fit
    want = next;
    if (r.bytes >= max_bytes) break;
    // The rest of this segment did not fit (or is unreadable): continuing in
    // the next segment would skip it.
    if (next < s.next_offset()) break;
  }
  return r;
}

Result<uint64_t> PartitionLog::offset_for_time(int64_t ts) {
  for (auto& s : segments_) {
    auto r = s->offset_for_time(ts);
    if (!r) return r.status();
    if (r->has_value()) return **r;
  }
  return next_offset_;
}

}  // namespace rustlog
