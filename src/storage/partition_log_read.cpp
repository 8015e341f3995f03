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

namespace {

// The loop of read() and read_each(): whole batches from the segment holding
// `offset` on (segments()[first]), within `limits`; `part(segment, location,
// segment_limits, &next, &got)` reads one segment's part (copying, or
// handing out views).
template <class ReadPart>
Result<ReadInfo> read_segments(const PartitionLog& log, uint64_t offset, size_t first, const ReadLimits& limits,
                               ReadPart&& part) {
  ReadInfo r;
  r.high_watermark = log.high_watermark();
  r.log_start_offset = log.log_start_offset();
  r.next_offset = offset;
  if (offset < r.log_start_offset || offset > r.high_watermark)
    return Status(ErrorCode::kOffsetOutOfRange,
                  "offset " + std::to_string(offset) + " is out of range: valid offsets are " +
                      std::to_string(r.log_start_offset) + ".." + std::to_string(r.high_watermark));
  if (offset == r.high_watermark || offset >= limits.max_offset) return r;
  const auto& segs = log.segments();
  const size_t max_bytes = limits.max_bytes;
  uint64_t want = offset;
  for (size_t i = first; i < segs.size(); ++i) {
    Segment& s = *segs[i];
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
    Status st = part(s, *loc, seg, &next, &got);
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

}  // namespace

Result<ReadResult> PartitionLog::read(uint64_t offset, const ReadLimits& limits) {
  ReadResult r;
  // Segment::read_batches reserves what a segment can return at once.
  auto info = read_segments(*this, offset, segment_index_for(offset), limits,
                            [&r](Segment& s, const BatchLocation& loc, const ReadLimits& l, uint64_t* next, size_t* got) {
                              const size_t before = r.data.size();
                              Status st = s.read_batches(loc, l, r.data, next);
                              *got = r.data.size() - before;
                              return st;
                            });
  if (!info) return info.status();
  r.next_offset = info->next_offset;
  r.high_watermark = info->high_watermark;
  r.log_start_offset = info->log_start_offset;
  return r;
}

Result<ReadInfo> PartitionLog::read_each(uint64_t offset, const ReadLimits& limits, const BatchVisitor& visit) {
  return read_segments(*this, offset, segment_index_for(offset), limits,
                       [&visit](Segment& s, const BatchLocation& loc, const ReadLimits& l, uint64_t* next, size_t* got) {
                         return s.visit_batches(loc, l, visit, next, got);
                       });
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
