// PartitionLog's retention: deleting the oldest sealed segments (and finishing
// a deletion a crash interrupted), time-based rolls on the loop's tick
// (docs/STORAGE.md, section 16). The rest of the log is partition_log.cpp.
#include <charconv>
#include <cstring>
#include <filesystem>

#include "common/crash_point.h"
#include "storage/atomic_file.h"
#include "storage/partition_log.h"
#include "storage/retention_policy.h"

namespace rustlog {

namespace fs = std::filesystem;

namespace {
bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
// The base offset of a segment file name ("<20 digits>.log/.index/.timeindex").
std::optional<uint64_t> segment_file_base(const std::string& name) {
  for (const char* ext : {".log", ".index", ".timeindex"}) {
    if (!ends_with(name, ext) || name.size() != 20 + std::strlen(ext)) continue;
    return Segment::parse_log_file_name(name.substr(0, 20) + ".log");
  }
  return std::nullopt;
}
}  // namespace

Status PartitionLog::finish_interrupted_deletes() {
  uint64_t log_start = 0;
  const std::string cp = dir_ + "/" + kLogStartFile;
  if (path_exists(cp)) {
    auto text = read_file(cp);
    if (!text) return text.status();
    auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), log_start);
    if (ec != std::errc() || p == text->data())
      return Status(ErrorCode::kCorruptRecord, cp + " does not hold an offset (got '" + *text +
                                                   "'); restore it or remove it to keep every segment");
  }
  bool removed = false;
  for (const auto& e : fs::directory_iterator(dir_)) {
    const std::string name = e.path().filename().string();
    bool drop = ends_with(name, kSegmentDeletedSuffix) &&
                segment_file_base(name.substr(0, name.size() - std::strlen(kSegmentDeletedSuffix)));
    if (auto b = segment_file_base(name)) drop = drop || *b < log_start;
    if (!drop) continue;
    RUSTLOG_RETURN_IF_ERROR(remove_file(e.path().string()));
    removed = true;
  }
  if (removed) RUSTLOG_RETURN_IF_ERROR(fsync_dir(dir_));
  return Status::ok();
}

Result<bool> PartitionLog::roll_if_due(int64_t now_us) {
  if (!fatal_.is_ok()) return false;
  const Segment& active = *segments_.back();
  if (active.empty() || now_us - roll_base_us_ < config_.segment_ms * 1000) return false;
  Status st = roll();
  if (!st) {
    if (st.code() == ErrorCode::kInsufficientSpace) return st;
    return fail(st);
  }
  roll_base_us_ = now_us;
  return true;
}

Result<RetentionResult> PartitionLog::apply_retention(int64_t now_us) {
  std::vector<RetainedSegment> segs;
  segs.reserve(segments_.size());
  for (const auto& s : segments_) segs.push_back({s->size_bytes(), s->last_append_us()});
  size_t n = segments_to_delete(segs, now_us, config_);
  // Not the segments of a compaction swap under way: at the next check.
  while (n > 0 && swap_base_ && segments_[n - 1]->base_offset() >= *swap_base_) --n;
  if (n == 0) return RetentionResult{};
  return delete_oldest_segments(n);
}

Result<RetentionResult> PartitionLog::delete_oldest_segments(size_t n) {
  if (n == 0) return RetentionResult{};
  if (n >= segments_.size())
    return Status(ErrorCode::kInternal, "retention may not delete the active segment of " + dir_);
  const uint64_t new_start = segments_[n]->base_offset();
  // 1. The decision, durably: recovery deletes whatever lies below it.
  RUSTLOG_RETURN_IF_ERROR(write_file_atomic(dir_ + "/" + kLogStartFile, std::to_string(new_start) + "\n"));
  crash_point("retention.after_checkpoint");
  // 2. Out of the log: readers see the new start from here on.
  RetentionResult r;
  for (size_t i = 0; i < n; ++i) {
    r.bytes_deleted += segments_[i]->size_bytes();
    Status st = segments_[i]->rename_to_deleted();
    if (!st) {
      // The checkpoint already moved: what was not renamed goes at restart.
      segments_.erase(segments_.begin(), segments_.begin() + static_cast<ptrdiff_t>(i));
      return st;
    }
    crash_point("retention.after_rename");
    graveyard_.push_back(std::move(segments_[i]));
  }
  segments_.erase(segments_.begin(), segments_.begin() + static_cast<ptrdiff_t>(n));
  RUSTLOG_RETURN_IF_ERROR(fsync_dir(dir_));
  crash_point("retention.after_dir_sync");
  r.segments_deleted = n;
  return r;
}

Status PartitionLog::purge_deleted() {
  Status first = Status::ok();
  for (auto& s : graveyard_) {
    Status st = s->unlink_deleted();
    if (!st && first) first = st;
  }
  graveyard_.clear();
  return first;
}

}  // namespace rustlog
