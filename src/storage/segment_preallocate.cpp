// The active segment's preallocated zero tail: extending it ahead of the
// appends, and trimming it when the segment is sealed (docs/STORAGE.md,
// section 8, "Preallocation"; the policy is preallocation.h).
#include "storage/preallocation.h"
#include "storage/segment.h"

namespace rustlog {

Status Segment::preallocate_for(uint64_t n) {
  const uint64_t target =
      preallocation_target(size_, n, file_end_, prealloc_max_, prealloc_cap_, kMinZeroTail);
  if (target == 0) return Status::ok();
  Status st = log_.write_zeros(file_end_, target - file_end_);
  if (st) {
    file_end_ = target;
    dirty_ = true;  // the next fdatasync commits the new size once
    return Status::ok();
  }
  // The whole zero tail goes (what was written of the new zeros, and the
  // old ones, which may be fewer than a zero tail needs after this append):
  // the append grows the file as without preallocation.
  Status t = log_.truncate(size_);
  if (!t) return Status(ErrorCode::kStorageError, st.message() + "; and " + t.message());
  file_end_ = size_;
  if (st.code() == ErrorCode::kInsufficientSpace) return Status::ok();
  return st;
}

Status Segment::trim() {
  if (file_end_ <= size_) return Status::ok();
  if (!writable_) return Status(ErrorCode::kStorageError, "cannot trim " + log_path() + ": opened read-only");
  RUSTLOG_RETURN_IF_ERROR(ensure_open());
  RUSTLOG_RETURN_IF_ERROR(log_.truncate(size_));
  // The data before the tail is synced with the new size: fsync, not
  // fdatasync, so nothing about the file is left for later.
  RUSTLOG_RETURN_IF_ERROR(log_.sync());
  file_end_ = size_;
  dirty_ = false;
  return Status::ok();
}

}  // namespace rustlog
