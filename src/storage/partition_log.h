#pragma once
// A partition's log: an ordered list of segments in one directory, the last
// one active. Single-threaded: the broker's event loop owns it.
//
// Durability contract: append() writes the batch to the file (visible to
// readers at once) and returns its offsets; flush() makes everything
// appended so far durable (fdatasync). The broker acknowledges only after
// flush() when the policy is `always`, so one flush covers many appends.
// A failed fdatasync is never retried: the log turns read-only until the
// process restarts and recovers from what is really on disk.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "storage/log_config.h"
#include "storage/segment_cache.h"
#include "storage/segment.h"
#include "storage/segment_swap.h"
#include "common/status.h"

namespace rustlog {

struct RecoveryReport {
  uint64_t segments = 0;
  uint64_t bytes_scanned = 0;
  uint64_t bytes_truncated = 0;
  uint64_t segments_deleted = 0;
  uint64_t indexes_rebuilt = 0;  // segments whose index files were rewritten
  uint64_t temp_files_removed = 0;
  std::vector<std::string> corruptions;
  double duration_ms = 0;
};

// The partition's durable log start offset: `<dir>/log-start-offset`, one
// decimal number and a newline, written through write_file_atomic before
// any segment below it leaves the log (docs/STORAGE.md, "Retention").
inline constexpr const char* kLogStartFile = "log-start-offset";

struct RetentionResult {
  uint64_t segments_deleted = 0;
  uint64_t bytes_deleted = 0;
};

struct AppendInfo {
  uint64_t base_offset = 0;
  uint64_t last_offset = 0;
  int64_t max_timestamp = 0;
};

struct ReadResult {
  std::string data;          // whole batches, the first one holds (or follows) the offset
  uint64_t next_offset = 0;  // offset after the last batch returned (= request offset if none)
  uint64_t high_watermark = 0;
  uint64_t log_start_offset = 0;
};

// What a read_each() saw besides the batches it handed out.
struct ReadInfo {
  uint64_t next_offset = 0;  // offset after the last batch handed out (= request offset if none)
  uint64_t high_watermark = 0;
  uint64_t log_start_offset = 0;
  size_t bytes = 0;  // the batches' total size
};

class PartitionLog {
 public:
  // Opens (creating if absent) the log in `dir`, recovering everything at or
  // above `recovery_point` (pass 0 when unknown: everything is rescanned).
  static Result<std::unique_ptr<PartitionLog>> open(const std::string& dir, const LogConfig& config,
                                                    uint64_t recovery_point,
                                                    SegmentCache* cache = nullptr);
  ~PartitionLog();

  // Appends one batch built with BatchBuilder (any base offset: it is
  // rewritten). `now_us` drives time-based rolling.
  Result<AppendInfo> append(std::string& batch, int64_t now_us);
  // Appends several batches as append() does, consecutively, into one
  // segment (the roll decision is taken once, for their total size) and in
  // one write: all of them or none. The result spans them all.
  Result<AppendInfo> append_run(std::span<std::string> batches, int64_t now_us);
  // The same for batches already laid end to end in `bytes` (the broker
  // groups a turn's produces to one partition this way): one roll decision,
  // one write, all of them or none; a failed write leaves the log as it was
  // (a partial write is cut back), the log read-only unless the disk is full.
  Result<AppendInfo> append_batches(std::string& bytes, int64_t now_us);
  Status flush();
  // True when the flush policy wants a flush now.
  bool flush_due(int64_t now_ms) const;
  bool has_unflushed() const { return recovery_point_ < next_offset_; }

  // Whole batches from the one holding `offset`, within `limits`
  // (segment.h: by default at least one batch when any exists at or after
  // the offset, then more while they fit in max_bytes; none at or past
  // limits.max_offset, so a caller never gets what it may not serve).
  // kOffsetOutOfRange (message names the valid range) outside
  // [log_start_offset, high_watermark].
  Result<ReadResult> read(uint64_t offset, const ReadLimits& limits);
  Result<ReadResult> read(uint64_t offset, size_t max_bytes, uint64_t max_offset = UINT64_MAX) {
    return read(offset, ReadLimits{.max_bytes = max_bytes, .max_offset = max_offset});
  }
  // read() without copying: the same batches, each handed to `visit` as a
  // view valid during that call only (into a sealed segment's mapping, or a
  // read buffer of the active one), in order.
  Result<ReadInfo> read_each(uint64_t offset, const ReadLimits& limits, const BatchVisitor& visit);
  // First offset whose timestamp >= ts; high_watermark() when none.
  Result<uint64_t> offset_for_time(int64_t ts);

  uint64_t high_watermark() const { return next_offset_; }
  uint64_t log_start_offset() const;
  uint64_t recovery_point() const { return recovery_point_; }
  uint64_t size_bytes() const;
  size_t segment_count() const { return segments_.size(); }
  const std::vector<std::unique_ptr<Segment>>& segments() const { return segments_; }
  const std::string& dir() const { return dir_; }
  const LogConfig& config() const { return config_; }
  const RecoveryReport& recovery_report() const { return report_; }
  // Non-ok after a fatal I/O error: the log refuses writes until restart.
  const Status& fatal_error() const { return fatal_; }
  bool read_only() const { return !fatal_.is_ok(); }

  // Flushes and seals (used on shutdown); the object stays readable.
  Status close();
  // Cuts off the active segment's preallocated zeros (ftruncate + fsync; a
  // clean shutdown leaves no zero tail). Appends after it preallocate again.
  Status release_preallocation();

  // --- periodic work (the broker's loop tick) ---
  // Rolls the active segment when segment.ms has passed since its first
  // append even without a new append, so a quiet log still seals, expires
  // and compacts. True when it rolled.
  Result<bool> roll_if_due(int64_t now_us);
  // Deletes the sealed segments retention_policy.h selects at `now_us`:
  // first the new log start is checkpointed (kLogStartFile), then the
  // segments' files are renamed to `.deleted`, the directory fsynced; the
  // files are unlinked by purge_deleted() at a later tick, once no read of
  // this turn can still use them. A crash at any step leaves either the old
  // log or the new one (recovery removes what lies below the checkpoint).
  Result<RetentionResult> apply_retention(int64_t now_us);
  // Deletes the first `n` segments (n < segment_count()) as apply_retention does.
  Result<RetentionResult> delete_oldest_segments(size_t n);
  // Unlinks the files of segments taken out of the log earlier.
  Status purge_deleted();
  size_t pending_deletes() const { return graveyard_.size(); }

  // --- compaction (log_cleaner.h; partition_log_compaction.cpp) ---
  // Swaps in the cleaned segment whose `.cleaned` files (segment_swap.h,
  // step 1) were written and fsynced for the base of segments()[first], in
  // place of the sealed segments [first, first + count): steps 2-4 of the
  // swap, then the originals wait in the graveyard for purge_deleted().
  // Before the commit rename a failure undoes the swap (the log is as
  // before); after it, the log turns read-only until a restart finishes it.
  // swap_in_cleaned is the three parts below with their fsyncs run inline.
  Status swap_in_cleaned(size_t first, size_t count);
  // Step 2's renames; returns the directory fsync that commits them. Until
  // swap_commit, retention deletes no segment at or above the group's base.
  Result<DiskWait> swap_begin(size_t first, size_t count);
  // With that fsync's result: on failure the swap's files are removed (the
  // log as it was) and the failure returned; else steps 3 and 4's renames,
  // the cleaned segment replaces the group in memory, and the returned
  // directory fsync is the swap's last step.
  Result<DiskWait> swap_commit(const Status& synced);
  // With that fsync's result: a failure turns the log read-only.
  Status swap_finish(const Status& synced);
  // Between swap_begin and swap_commit: the base of the group being swapped.
  std::optional<uint64_t> swap_base() const { return swap_base_; }
  // Compaction swaps the last open found interrupted: finished / undone.
  int swaps_finished_at_open() const { return swaps_finished_; }
  int swaps_undone_at_open() const { return swaps_undone_; }

 private:
  PartitionLog(std::string dir, LogConfig config, SegmentCache* cache);
  Status recover(uint64_t recovery_point);
  // Start-up: removes `.deleted` files and every segment file below the
  // checkpointed log start (a retention step a crash interrupted).
  Status finish_interrupted_deletes();
  Status roll();
  Status fail(Status st);
  Segment* segment_for(uint64_t offset);
  size_t segment_index_for(uint64_t offset) const;

  std::string dir_;
  LogConfig config_;
  SegmentCache* cache_;
  std::unique_ptr<SegmentCache> own_cache_;
  std::vector<std::unique_ptr<Segment>> segments_;
  uint64_t next_offset_ = 0;
  uint64_t recovery_point_ = 0;
  int64_t first_unflushed_ms_ = -1;
  // When the active segment's age for segment.ms starts: the broker's clock
  // at its first append (or, after a restart, the time of the broker's last
  // write to it, the file's mtime), so producer-supplied timestamps can
  // neither force a roll per batch nor prevent one.
  int64_t roll_base_us_ = 0;
  Status fatal_;
  RecoveryReport report_;
  std::vector<std::unique_ptr<Segment>> graveyard_;  // renamed to .deleted, not yet unlinked
  int swaps_finished_ = 0;  // committed compaction swaps the last open completed
  int swaps_undone_ = 0;    // uncommitted ones it deleted
  std::optional<uint64_t> swap_base_;  // between swap_begin and swap_commit: the group's base
  size_t swap_count_ = 0;
};

}  // namespace rustlog
