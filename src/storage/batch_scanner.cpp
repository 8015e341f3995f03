#include "storage/batch_scanner.h"

#include <algorithm>
#include <limits>
#include <string_view>

#include "storage/record_view.h"

namespace rustlog {

BatchScanner::BatchScanner(ByteSource& source, const ScanStart& start)
    : src_(source),
      pos_(start.position),
      next_(start.next_offset),
      base_(start.segment_base),
      exact_(start.exact_first),
      check_crc_(start.check_crc),
      check_records_(start.check_crc && start.check_records),
      anchors_(start.anchors),
      verified_(start.verified),
      on_chain_(start.position == 0 || start.exact_first || start.proven_start) {}

BatchError BatchScanner::check_at(ByteSource& source, uint64_t pos, uint64_t min_offset, bool exact,
                                  uint64_t segment_base, bool check_crc, BatchHeader* h,
                                  const uint8_t** bytes, Status* io, VerifiedRanges* verified,
                                  bool check_records) {
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
  const uint64_t end = pos + h->total_size();
  // A records check is never taken from what a read remembered: recovery
  // and verify decide what the log holds.
  if (check_records || verified == nullptr || !verified->covers(pos, end)) {
    if (!batch_crc_ok(*bp, *h)) return BatchError::kCrcMismatch;
    if (check_records) {
      RecordWalker w(std::string_view(reinterpret_cast<const char*>(*bp), h->total_size()), /*check_crc=*/false);
      RecordView v;
      while (w.next(&v)) {
      }
      if (!w.status()) return BatchError::kBadRecords;
    }
    if (verified) verified->add(pos, end);
  }
  *bytes = *bp;
  return BatchError::kOk;
}

bool BatchScanner::chain_lands(uint64_t pos, uint64_t limit, uint64_t limit_base) {
  uint64_t next = next_;
  while (pos < limit) {
    BatchHeader h;
    const uint8_t* unused = nullptr;
    if (check_at(src_, pos, next, false, base_, true, &h, &unused, &status_, nullptr, check_records_) !=
        BatchError::kOk)
      return false;
    pos += h.total_size();
    next = h.next_offset();
  }
  return pos == limit && next <= limit_base;
}

std::optional<uint64_t> BatchScanner::resync(uint64_t from, const BatchHeader& damaged, BatchError why,
                                             BatchHeader* h) {
  const uint8_t* unused = nullptr;
  std::optional<BatchAnchor> anchor;
  if (anchors_) {
    for (auto a = anchors_->first_after(from); a; a = anchors_->first_after(a->position)) {
      if (a->base_offset < next_) continue;
      BatchHeader ah;
      if (check_at(src_, a->position, a->base_offset, true, base_, true, &ah, &unused, &status_, nullptr,
                   check_records_) == BatchError::kOk) {
        anchor = a;
        break;
      }
      if (!status_) return std::nullopt;
    }
  }
  const uint64_t limit = anchor ? anchor->position : src_.size();
  // The length field was read and is in range (whatever else is wrong): it
  // says where the next batch starts, if the chain from there confirms it.
  const bool length_read = why != BatchError::kBadLength && why != BatchError::kShortHeader &&
                           why != BatchError::kShortBatch;
  if (length_read) {
    const uint64_t q = from + damaged.total_size();
    if (q > from && q < limit && chain_lands(q, limit, anchor ? anchor->base_offset : UINT64_MAX)) {
      check_at(src_, q, next_, false, base_, false, h, &unused, &status_);
      return q;
    }
    if (!status_) return std::nullopt;
  }
  if (!anchor) return std::nullopt;
  check_at(src_, anchor->position, anchor->base_offset, true, base_, false, h, &unused, &status_);
  return anchor->position;
}

namespace {
constexpr uint64_t kZeroScanChunk = 64 << 10;
}  // namespace

Result<uint64_t> BatchScanner::zero_tail_length(ByteSource& source, uint64_t from) {
  // Backwards from the end: a preallocated tail is there, and damaged or
  // torn bytes end it at once.
  for (uint64_t end = source.size(); end > from;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kZeroScanChunk, end - from));
    auto p = source.bytes(end - n, n);
    if (!p) return p.status();
    for (size_t i = n; i > 0; --i)
      if ((*p)[i - 1] != 0) {
        const uint64_t run = source.size() - (end - n + i);
        return run >= kMinZeroTail ? run : 0;
      }
    end -= n;
  }
  const uint64_t run = source.size() - std::min(from, source.size());
  return run >= kMinZeroTail ? run : 0;
}

bool BatchScanner::next(ScanEvent* ev, OnFault on_fault) {
  if (done_ || !status_.is_ok() || pos_ >= src_.size()) return false;
  *ev = ScanEvent{};
  ev->position = pos_;
  const BatchError e =
      check_at(src_, pos_, next_, exact_, base_, check_crc_, &ev->header, &ev->bytes, &status_,
               on_chain_ ? verified_ : nullptr, check_records_);
  if (!status_.is_ok()) return false;
  exact_ = false;
  if (e == BatchError::kOk) {
    // A CRC-checked batch proves where the next one starts.
    if (check_crc_ && verified_ && !on_chain_) verified_->add(pos_, pos_ + ev->header.total_size());
    on_chain_ = true;
    ev->kind = ScanKind::kBatch;
    pos_ += ev->header.total_size();
    next_ = ev->header.next_offset();
    return true;
  }
  ev->bytes = nullptr;
  // Rule Z: nothing but zeros from here on is the end of the data.
  auto zeros = zero_tail_length(src_, pos_);
  if (!zeros) {
    status_ = zeros.status();
    return false;
  }
  if (*zeros == src_.size() - pos_ && *zeros > 0) {
    zero_tail_ = pos_;
    done_ = true;
    return false;
  }
  ev->reason = e;
  ev->first_offset = next_;
  std::optional<uint64_t> resume;
  if (on_fault == OnFault::kResync) {
    resume = resync(pos_, ev->header, e, &ev->resume_header);
    if (!status_.is_ok()) return false;
  }
  if (!resume) {
    ev->kind = ScanKind::kTornTail;
    done_ = true;
    return true;
  }
  ev->kind = ScanKind::kCorrupt;
  on_chain_ = false;  // the resumed batch is checked in full
  ev->resume_position = *resume;
  pos_ = *resume;
  return true;
}

}  // namespace rustlog
