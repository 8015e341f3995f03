#pragma once
// Key-based compaction (Kafka's LogCleaner semantics) as a state machine the
// broker's event loop drives in bounded steps. docs/STORAGE.md, "Compaction".
//
//   LogCleaner cleaner({.buffer_bytes = 64 << 20});
//   cleaner.add_log("orders-0", log);            // a log whose config has compaction.enabled
//   ...
//   // each loop turn (or tick) while it is not idle:
//   CleanerStep s = cleaner.step(step_bytes, wall_us());
//   if (s.idle) wait --cleaner-backoff-ms before the next step;
//
// One step handles at most `budget_bytes` of reading plus writing (at least
// one batch, so a batch larger than the budget still makes progress), then
// returns; a pass over one partition takes as many steps as it needs. A
// pass: pick the registered log with the highest dirty ratio at or above its
// min.cleanable.dirty.ratio (or one whose max.compaction.lag.ms is overdue),
// build the key -> latest offset map over its dirty range (bounded by
// buffer_bytes; a map too small for the range covers a prefix of it, and the
// pass cleans up to there), recopy the sealed segments from the log start up
// to the end of the map's range in groups (bounded by segment.bytes and the
// index's 32-bit relative offsets) keeping each key's latest record, swap
// each group in (.cleaned -> .swap -> originals .deleted -> final names),
// then checkpoint the new first dirty offset. Never the active segment, nor
// segments whose newest broker append is younger than min.compaction.lag.ms.
//
// Failure: a corrupt batch or an I/O error marks the partition uncleanable
// (logged, counted, retried after a backoff that doubles up to 32x); the
// partition's data is left as it is, the other partitions go on.
//
// Single-threaded: owned and called by the event loop, like PartitionLog.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "storage/partition_log.h"

namespace rustlog {

struct CleanerOptions {
  uint64_t buffer_bytes = 64ull << 20;   // --cleaner-buffer-bytes: the key map's memory
  int64_t uncleanable_backoff_ms = 15000;  // first retry of an uncleanable partition
  // False: a swap's fsyncs run inside step(). True (the broker): step()
  // hands each one out in CleanerStep::disk_wait, and the pass waits until
  // disk_wait_done() brings its result.
  bool hand_out_disk_waits = false;
};

enum class CleanerState : uint8_t {
  kIdle,         // nothing to clean now, or below min.cleanable.dirty.ratio
  kCleaning,     // a pass is in progress
  kUncleanable,  // the last pass failed (reason, retry_at_us)
};
const char* cleaner_state_name(CleanerState s);

// What the cleaner knows about one registered partition (for describe,
// metrics and the status page).
struct CleanerPartitionInfo {
  std::string name;
  CleanerState state = CleanerState::kIdle;
  uint64_t first_dirty_offset = 0;        // checkpointed; clamped to the log start
  uint64_t first_uncleanable_offset = 0;  // active segment base, or the first segment within min lag
  uint64_t clean_bytes = 0;               // segments below the first dirty offset
  uint64_t cleanable_bytes = 0;           // sealed segments from the first dirty one to the uncleanable
  uint64_t lag_bytes = 0;                 // bytes not yet cleaned: first dirty segment to the log end
  double dirty_ratio = 0;                 // cleanable / (clean + cleanable); 0 when both are 0
  std::string uncleanable_reason;         // kUncleanable: what failed
  int64_t retry_at_us = 0;                // kUncleanable: when it is tried again
  uint64_t passes = 0;                    // completed passes over this partition
  int64_t last_clean_us = 0;              // when the last pass finished (0: never)
};

// Cumulative counters (the rustlog_compaction_* metrics).
struct CleanerCounters {
  uint64_t passes_completed = 0;
  uint64_t passes_aborted = 0;       // failed (uncleanable) or abandoned (log removed)
  uint64_t bytes_read = 0;           // map building and recopying
  uint64_t bytes_written = 0;        // cleaned segment files
  uint64_t records_removed = 0;      // superseded records and expired tombstones
  uint64_t tombstones_removed = 0;   // of records_removed: tombstones past their horizon
  uint64_t groups_swapped = 0;       // segment groups replaced by their cleaned version
  uint64_t segments_cleaned = 0;     // original segments those groups replaced
  uint64_t uncleanable_events = 0;   // passes that marked a partition uncleanable
  uint64_t steps = 0;
};

struct CleanerStep {
  uint64_t bytes = 0;      // read plus written in this step
  bool idle = false;       // nothing to clean now: the caller may back off
  bool swapped = false;    // a segment group was swapped in
  bool pass_done = false;  // a pass finished (or was aborted) in this step
  // hand_out_disk_waits: an fsync to run off the loop; until its result
  // comes back through disk_wait_done(), step() does nothing.
  std::optional<DiskWait> disk_wait;
};

class CleanerPass;    // one pass over one partition (cleaner_pass.h)
class CleanerKeyMap;  // cleaner_key_map.h

class LogCleaner {
 public:
  explicit LogCleaner(CleanerOptions opt = {});
  ~LogCleaner();
  LogCleaner(const LogCleaner&) = delete;
  LogCleaner& operator=(const LogCleaner&) = delete;

  // Registers a partition log (not owned: remove it before it is closed or
  // destroyed). `name` is its directory name (`<topic>-<partition>`). Reads
  // the partition's cleaner checkpoint. Only logs whose
  // config().compaction.enabled is set are ever cleaned.
  Status add_log(const std::string& name, PartitionLog* log);
  // Forgets a log; a pass in progress over it is abandoned (its .cleaned
  // files removed; nothing swapped in is undone: every swap is whole).
  void remove_log(const std::string& name);
  bool has_log(const std::string& name) const { return logs_.count(name) != 0; }

  // One bounded step at broker time `now_us` (µs since the epoch).
  CleanerStep step(uint64_t budget_bytes, int64_t now_us);
  // A disk wait handed out is still out (step() is then a no-op).
  bool waiting_for_disk() const { return waiting_; }
  // The result of the disk wait handed out: the pass goes on (and may hand
  // out the next one). A wait whose pass was abandoned meanwhile (its log
  // removed) only ends the waiting.
  CleanerStep disk_wait_done(const Status& result, int64_t now_us);

  // Steps until no partition is cleanable at `now_us` (tests and tools).
  // Returns the number of passes completed.
  uint64_t run_until_idle(int64_t now_us, uint64_t budget_bytes = 1ull << 20);

  std::optional<CleanerPartitionInfo> info(const std::string& name, int64_t now_us) const;
  std::vector<CleanerPartitionInfo> partitions(int64_t now_us) const;
  const CleanerCounters& counters() const { return counters_; }
  size_t uncleanable_partitions() const;
  // The partition a pass is running over ("" when none).
  std::string cleaning() const;
  const CleanerOptions& options() const { return opt_; }

 private:
  struct Entry {
    PartitionLog* log = nullptr;
    uint64_t first_dirty = 0;  // the checkpoint
    CleanerState state = CleanerState::kIdle;
    std::string reason;
    int64_t retry_at_us = 0;
    int backoff_shift = 0;
    uint64_t passes = 0;
    int64_t last_clean_us = 0;
  };
  CleanerPartitionInfo describe(const std::string& name, const Entry& e, int64_t now_us) const;
  // The partition the next pass should clean, if any.
  std::optional<std::string> choose(int64_t now_us);
  void mark_uncleanable(const std::string& name, Entry& e, const Status& why, int64_t now_us);
  // After the pass did some work with result `st`: runs or hands out its
  // disk waits, ends the pass when it failed or is done.
  void after_work(Status st, CleanerStep& out, int64_t now_us);

  CleanerOptions opt_;
  std::map<std::string, Entry> logs_;
  std::unique_ptr<CleanerKeyMap> map_;  // reused by every pass
  std::unique_ptr<CleanerPass> pass_;
  std::string pass_log_;
  bool waiting_ = false;  // a disk wait is out
  CleanerCounters counters_;
};

}  // namespace rustlog
