#include "storage/partition_log.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <chrono>
#include <filesystem>

#include "common/byte_order.h"
#include "common/clock.h"
#include "common/crash_point.h"
#include "storage/atomic_file.h"
#include "storage/retention_policy.h"
#include "storage/roll_policy.h"
#include "storage/segment_swap.h"

namespace rustlog {

namespace fs = std::filesystem;

PartitionLog::PartitionLog(std::string dir, LogConfig config, SegmentCache* cache)
    : dir_(std::move(dir)), config_(config), cache_(cache) {
  if (!cache_) {
    own_cache_ = std::make_unique<SegmentCache>();
    cache_ = own_cache_.get();
  }
}

PartitionLog::~PartitionLog() { segments_.clear(); }

Result<std::unique_ptr<PartitionLog>> PartitionLog::open(const std::string& dir,
                                                         const LogConfig& config,
                                                         uint64_t recovery_point,
                                                         SegmentCache* cache) {
  RUSTLOG_RETURN_IF_ERROR(config.validate());
  RUSTLOG_RETURN_IF_ERROR(make_dirs(dir));
  std::unique_ptr<PartitionLog> log(new PartitionLog(dir, config, cache));
  const auto t0 = std::chrono::steady_clock::now();
  RUSTLOG_RETURN_IF_ERROR(log->recover(recovery_point));
  log->report_.duration_ms = ms_since(t0);
  return log;
}

Status PartitionLog::recover(uint64_t recovery_point) {
  // Step 3 first: temp files of interrupted atomic writes are garbage.
  auto removed = remove_temp_files(dir_);
  if (!removed) return removed.status();
  report_.temp_files_removed = static_cast<uint64_t>(*removed);
  // A compaction swap a crash interrupted is finished or undone first.
  SwapRecovery swaps;
  RUSTLOG_RETURN_IF_ERROR(finish_interrupted_swaps(dir_, &swaps));
  swaps_finished_ = swaps.finished;
  swaps_undone_ = swaps.undone;
  RUSTLOG_RETURN_IF_ERROR(finish_interrupted_deletes());

  std::vector<uint64_t> bases;
  for (const auto& e : fs::directory_iterator(dir_)) {
    if (auto b = Segment::parse_log_file_name(e.path().filename().string())) bases.push_back(*b);
  }
  std::sort(bases.begin(), bases.end());
  if (bases.empty()) {
    auto s = Segment::create(dir_, 0, config_.index_interval_bytes, cache_);
    if (!s) return s.status();
    segments_.push_back(std::move(*s));
    segments_.back()->set_preallocation(config_.preallocate_bytes, config_.segment_bytes);
    report_.segments = 1;
    return Status::ok();
  }

  // Every segment's indexes are sanity-checked on open (cheap: the index
  // files plus about one index interval of batches after the last entry).
  std::vector<SegmentScanReport> opened(bases.size());
  for (size_t i = 0; i < bases.size(); ++i) {
    auto s = Segment::open(dir_, bases[i], config_.index_interval_bytes, cache_, &opened[i]);
    if (!s) return s.status();
    segments_.push_back(std::move(*s));
  }
  // The segment holding the recovery point, and all after it, are rescanned.
  size_t first_dirty = 0;
  for (size_t i = 0; i < segments_.size(); ++i)
    if (segments_[i]->base_offset() <= recovery_point) first_dirty = i;
  // What open() saw in the rescanned segments (a torn tail, typically) is
  // judged by the rescan, which truncates it: only older damage is reported.
  SegmentScanReport sr;
  for (size_t i = 0; i < first_dirty; ++i)
    for (auto& c : opened[i].corruptions) sr.corruptions.push_back(std::move(c));
  for (size_t i = 0; i < first_dirty; ++i) {
    RUSTLOG_RETURN_IF_ERROR(segments_[i]->rebuild_indexes_if_needed(&sr));
    if (sr.index_rebuilt) ++report_.indexes_rebuilt;
    sr.index_rebuilt = false;
  }
  for (size_t i = first_dirty; i < segments_.size(); ++i) {
    Segment& s = *segments_[i];
    const uint64_t before = sr.truncations;
    RUSTLOG_RETURN_IF_ERROR(s.recover_from(std::max(recovery_point, s.base_offset()), &sr));
    // Synced at once when another segment follows: its descriptor may then
    // be closed (--max-open-segment-files) while the rest is recovered.
    if (i + 1 < segments_.size()) RUSTLOG_RETURN_IF_ERROR(s.flush());
    if (sr.index_rebuilt) ++report_.indexes_rebuilt;
    sr.index_rebuilt = false;
    // A torn batch ends the log: later segments hold nothing acknowledged.
    const bool truncated = sr.truncations > before;
    if (truncated && i + 1 < segments_.size()) {
      for (size_t j = i + 1; j < segments_.size(); ++j) {
        sr.bytes_truncated += segments_[j]->size_bytes();
        RUSTLOG_RETURN_IF_ERROR(segments_[j]->remove_files());
        ++report_.segments_deleted;
      }
      segments_.resize(i + 1);
      RUSTLOG_RETURN_IF_ERROR(fsync_dir(dir_));
      break;
    }
  }
  for (size_t i = 0; i + 1 < segments_.size(); ++i) {
    segments_[i]->extend_unreadable_tail(segments_[i + 1]->base_offset());
    // A sealed segment keeps no zero tail (a crash before its roll's trim
    // was durable, or preallocated by an older run): cut and fsynced.
    RUSTLOG_RETURN_IF_ERROR(segments_[i]->trim());
  }
  RUSTLOG_RETURN_IF_ERROR(segments_.back()->activate());
  segments_.back()->set_preallocation(config_.preallocate_bytes, config_.segment_bytes);
  next_offset_ = segments_.back()->next_offset();
  // Damage below the recovery point that no proven batch start follows
  // leaves the end of the active segment unreadable: appends go on in a new
  // segment, where reads find them (nothing could prove where they start
  // after the damaged bytes).
  if (segments_.back()->tail_unreadable() && !segments_.back()->empty())
    RUSTLOG_RETURN_IF_ERROR(roll());
  Segment& active = *segments_.back();
  // What recovery validated is made durable before it counts as recovered.
  for (size_t i = first_dirty; i < segments_.size(); ++i)
    RUSTLOG_RETURN_IF_ERROR(segments_[i]->flush());
  // Broker time only: a producer timestamp (say 42 us, or next year) would
  // roll at once or never. The file's mtime is the broker's last write.
  roll_base_us_ = active.empty() ? 0 : active.last_append_us();
  recovery_point_ = next_offset_;
  report_.segments = segments_.size();
  report_.bytes_scanned = sr.bytes_scanned;
  report_.bytes_truncated = sr.bytes_truncated;
  report_.corruptions = std::move(sr.corruptions);
  if (report_.bytes_truncated > 0)
    spdlog::warn("{}: recovery truncated {} bytes of torn or invalid tail", dir_,
                 report_.bytes_truncated);
  for (const auto& c : report_.corruptions) spdlog::error("{}", c);
  return Status::ok();
}

Status PartitionLog::fail(Status st) {
  fatal_ = Status(ErrorCode::kStorageError,
                  "partition " + dir_ + " is read-only after a failed write or fsync (" +
                      st.message() + "); fix the disk and restart the broker to recover");
  spdlog::error("{}", fatal_.message());
  return fatal_;
}

Status PartitionLog::roll() {
  Segment& old = *segments_.back();
  // The old segment's bytes reach the disk before the new segment's name
  // does: otherwise a power loss could keep the new (empty) segment but lose
  // the old one's unflushed tail, leaving offsets below the high watermark
  // that no segment holds (found by tests/unit/power_loss_test).
  RUSTLOG_RETURN_IF_ERROR(old.flush());
  // seal() trims the zero tail (ftruncate + fsync) before the new name exists.
  RUSTLOG_RETURN_IF_ERROR(old.seal());
  auto s = Segment::create(dir_, next_offset_, config_.index_interval_bytes, cache_);
  if (!s) {
    // E.g. ENOSPC creating the files: the old segment stays the active one
    // (appends go on there once space is freed) and no half-made files stay.
    for (const char* ext : {".log", ".index", ".timeindex"})
      (void)remove_file(dir_ + "/" + Segment::file_name(next_offset_, ext));
    Status st = old.activate();
    if (!st) return st;
    return s.status();
  }
  segments_.push_back(std::move(*s));
  segments_.back()->set_preallocation(config_.preallocate_bytes, config_.segment_bytes);
  return Status::ok();
}

Result<AppendInfo> PartitionLog::append(std::string& batch, int64_t now_us) {
  BatchHeader h;
  if (parse_batch_header(reinterpret_cast<const uint8_t*>(batch.data()), batch.size(), &h) != BatchError::kOk ||
      h.total_size() != batch.size())
    return Status(ErrorCode::kInvalidRequest, "append: not one whole record batch");
  return append_batches(batch, now_us);
}

Result<AppendInfo> PartitionLog::append_run(std::span<std::string> batches, int64_t now_us) {
  if (batches.size() == 1) return append(batches[0], now_us);
  std::string joined;
  size_t total = 0;
  for (const auto& b : batches) total += b.size();
  joined.reserve(total);
  for (const auto& b : batches) joined += b;
  return append_batches(joined, now_us);
}

Result<AppendInfo> PartitionLog::append_batches(std::string& bytes, int64_t now_us) {
  if (!fatal_.is_ok()) return fatal_;
  if (bytes.empty()) return Status(ErrorCode::kInvalidRequest, "append: no batch");
  std::vector<BatchHeader> hs;
  uint64_t next = next_offset_;
  for (size_t pos = 0; pos < bytes.size();) {
    auto* p = reinterpret_cast<uint8_t*>(bytes.data() + pos);
    BatchHeader& h = hs.emplace_back();
    if (parse_batch_header(p, bytes.size() - pos, &h) != BatchError::kOk || h.total_size() > bytes.size() - pos)
      return Status(ErrorCode::kInvalidRequest, "append: not whole record batches");
    // Header-only batches and delete horizons are the cleaner's, never
    // appended; the only attribute an append may carry is a known codec.
    if (h.record_count == 0 || (h.attributes & ~kBatchCompressionMask) != 0 ||
        !codec_from_bits(h.attributes & kBatchCompressionMask))
      return Status(ErrorCode::kInvalidRequest,
                    "append: a batch needs at least one record and no attribute bits but a known codec");
    if (h.base_offset != next) {
      h.base_offset = next;
      assign_base_offset(p, h.total_size(), h.base_offset);
      h.crc = get_u32(p + kBatchCrcOffset);
    }
    next = h.next_offset();
    pos += h.total_size();
  }
  if (bytes.size() > config_.segment_bytes)
    return Status(ErrorCode::kTooLarge, (hs.size() == 1 ? "batch of " : "batches of ") + std::to_string(bytes.size()) +
                                            " bytes exceed" + (hs.size() == 1 ? "s" : "") + " segment.bytes " +
                                            std::to_string(config_.segment_bytes));
  Segment* active = segments_.back().get();
  if (active->empty()) roll_base_us_ = now_us;
  active->set_last_append_us(now_us);
  if (should_roll({active->base_offset(), active->size_bytes(), roll_base_us_}, bytes.size(),
                  hs.back().last_offset(), now_us, config_)) {
    Status st = roll();
    if (!st) {
      if (st.code() == ErrorCode::kInsufficientSpace) return st;
      return fail(st);
    }
    active = segments_.back().get();
    roll_base_us_ = now_us;
    active->set_last_append_us(now_us);
  }
  Status st = active->append_run(bytes, hs);
  if (!st) {
    if (st.code() == ErrorCode::kInsufficientSpace) return st;
    return fail(st);
  }
  if (!has_unflushed()) first_unflushed_ms_ = now_us / 1000;
  next_offset_ = next;
  int64_t max_ts = INT64_MIN;
  for (const auto& h : hs) max_ts = std::max(max_ts, h.max_timestamp);
  return AppendInfo{hs.front().base_offset, hs.back().last_offset(), max_ts};
}

Status PartitionLog::flush() {
  if (!fatal_.is_ok()) return fatal_;
  if (!has_unflushed()) return Status::ok();
  for (auto& s : segments_) {
    if (!s->dirty()) continue;
    Status st = s->flush();
    if (!st) return fail(st);  // never retried: the page cache may have dropped the data
  }
  recovery_point_ = next_offset_;
  first_unflushed_ms_ = -1;
  return Status::ok();
}

bool PartitionLog::flush_due(int64_t now_ms) const {
  if (!has_unflushed() || !fatal_.is_ok()) return false;
  switch (config_.flush.kind) {
    case FlushPolicy::Kind::kAlways: return true;
    case FlushPolicy::Kind::kNever: return false;
    case FlushPolicy::Kind::kInterval:
      return now_ms - first_unflushed_ms_ >= static_cast<int64_t>(config_.flush.interval_ms);
  }
  return true;
}

uint64_t PartitionLog::log_start_offset() const { return segments_.front()->base_offset(); }

uint64_t PartitionLog::size_bytes() const {
  uint64_t n = 0;
  for (const auto& s : segments_) n += s->size_bytes();
  return n;
}

Status PartitionLog::release_preallocation() {
  if (!fatal_.is_ok()) return Status::ok();  // nothing is written on a disk that failed
  Status st = segments_.back()->trim();
  if (!st) return fail(st);
  return Status::ok();
}

Status PartitionLog::close() {
  Status st = flush();
  if (!st) return st;
  return segments_.back()->seal();
}

}  // namespace rustlog
