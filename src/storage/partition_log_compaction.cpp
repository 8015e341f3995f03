// PartitionLog's part of compaction: swapping a cleaned segment in for a
// group of sealed segments (segment_swap.h has the file steps and the
// recovery of an interrupted swap; log_cleaner.h decides what to clean).
#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/crash_point.h"
#include "storage/partition_log.h"
#include "storage/segment_swap.h"

namespace rustlog {

Status PartitionLog::swap_in_cleaned(size_t first, size_t count) {
  if (!fatal_.is_ok()) return fatal_;
  if (count == 0 || first + count >= segments_.size())
    return Status(ErrorCode::kInternal, "compaction may only replace sealed segments of " + dir_);
  const uint64_t base = segments_[first]->base_offset();
  int64_t last_append = 0;
  for (size_t i = first; i < first + count; ++i) last_append = std::max(last_append, segments_[i]->last_append_us());
  crash_point("compaction.after_cleaned");
  // 2. The commit: the .log's rename to .swap, made durable.
  if (Status st = rename_cleaned_to_swap(dir_, base); !st) {
    (void)remove_swap_files(dir_, base);
    return st;
  }
  crash_point("compaction.after_swap");
  // 3. The originals out of the log (their descriptors and mappings stay
  //    valid for reads of this turn; purge_deleted unlinks them later).
  for (size_t i = first; i < first + count; ++i) {
    if (Status st = segments_[i]->rename_to_deleted(); !st) return fail(st);
  }
  crash_point("compaction.after_originals_deleted");
  // 4. The final names, the log last; then the directory.
  if (Status st = rename_swap_to_final(dir_, base); !st) return fail(st);
  crash_point("compaction.after_rename");
  if (Status st = fsync_dir(dir_); !st) return fail(st);
  crash_point("compaction.after_dir_sync");
  SegmentScanReport report;
  auto s = Segment::open(dir_, base, config_.index_interval_bytes, cache_, &report);
  if (!s) return fail(s.status());
  Status st = (*s)->rebuild_indexes_if_needed(&report);
  if (!st) return fail(st);
  (*s)->set_last_append_us(last_append);
  for (size_t i = first; i < first + count; ++i) graveyard_.push_back(std::move(segments_[i]));
  segments_.erase(segments_.begin() + static_cast<ptrdiff_t>(first + 1),
                  segments_.begin() + static_cast<ptrdiff_t>(first + count));
  segments_[first] = std::move(*s);
  return Status::ok();
}

}  // namespace rustlog
