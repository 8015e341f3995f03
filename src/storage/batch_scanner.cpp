#include "storage/batch_scanner.h"

#include <algorithm>
#include <limits>

namespace rustlog {

BatchScanner::BatchScanner(ByteSource& source, const ScanStart& start)
    : src_(source),
      pos_(start.position),
      next_(start.next_offset),
      base_(start.segment_base),
      exact_(start.exact_first),
      check_crc_(start.check_crc) {}

BatchError BatchScanner::check_at(ByteSource& source, uint64_t pos, uint64_t min_offset, bool exact,
                                  uint64_t segment_base, bool check_crc, BatchHeader* h,
                                  const uint8_t** bytes, Status* io) {
  if (pos >= source.size()) return BatchError::kShortHeader;
  const uint64_t avail = source.size() - pos;
  // The header alone first: a damaged length must not make us read (or
  // checksum) bytes the batch does not have.
  auto hp = source.bytes(pos, static_cast<size_t>(std::min<uint64_t>(avail, kBatchHeaderSize)));
  if (!hp) {
    *io = hp.status();
    return BatchError::kShortHeader;
  }
  const BatchError e =
      parse_batch_header(*hp, static_cast<size_t>(std::min<uint64_t>(avail, SIZE_MAX)), h);
  if (e != BatchError::kOk) return e;
  if (exact && h->base_offset != min_offset) return BatchError::kOffsetMismatch;
  if (h->base_offset < min_offset) return BatchError::kOffsetBackwards;
  if (h->base_offset < segment_base ||
      h->last_offset() - segment_base > std::numeric_limits<uint32_t>::max())
    return BatchError::kOutsideSegment;
  if (!check_crc) return BatchError::kOk;
  auto bp = source.bytes(pos, h->total_size());
  if (!bp) {
    *io = bp.status();
    return BatchError::kCrcMismatch;
  }
  if (!batch_crc_ok(*bp, *h)) return BatchError::kCrcMismatch;
  *bytes = *bp;
  return BatchError::kOk;
}

std::optional<uint64_t> BatchScanner::resync(uint64_t from, BatchHeader* h) {
  for (uint64_t q = from + 1; q + kBatchHeaderSize <= src_.size(); ++q) {
    const uint8_t* unused = nullptr;
    // Cheap header checks at every byte; the CRC only where they pass.
    if (check_at(src_, q, next_, false, base_, false, h, &unused, &status_) != BatchError::kOk) {
      if (!status_) return std::nullopt;
      continue;
    }
    if (check_at(src_, q, next_, false, base_, true, h, &unused, &status_) == BatchError::kOk)
      return q;
    if (!status_) return std::nullopt;
  }
  return std::nullopt;
}

bool BatchScanner::next(ScanEvent* ev, OnFault on_fault) {
  if (done_ || !status_.is_ok() || pos_ >= src_.size()) return false;
  *ev = ScanEvent{};
  ev->position = pos_;
  const BatchError e =
      check_at(src_, pos_, next_, exact_, base_, check_crc_, &ev->header, &ev->bytes, &status_);
  if (!status_.is_ok()) return false;
  exact_ = false;
  if (e == BatchError::kOk) {
    ev->kind = ScanKind::kBatch;
    pos_ += ev->header.total_size();
    next_ = ev->header.next_offset();
    return true;
  }
  ev->bytes = nullptr;
  ev->reason = e;
  ev->first_offset = next_;
  std::optional<uint64_t> resume;
  if (on_fault == OnFault::kResync) {
    resume = resync(pos_, &ev->resume_header);
    if (!status_.is_ok()) return false;
  }
  if (!resume) {
    ev->kind = ScanKind::kTornTail;
    done_ = true;
    return true;
  }
  ev->kind = ScanKind::kCorrupt;
  ev->resume_position = *resume;
  pos_ = *resume;
  return true;
}

}  // namespace rustlog
