#pragma once
// The files of compaction's segment swap (docs/STORAGE.md, "Compaction:
// the swap"): writing a cleaned segment as `<base>.{log,index,timeindex}.cleaned`,
// the renames to `.swap` and to the final names, and, at partition open,
// finishing or undoing a swap a crash interrupted. Every change goes through
// the I/O seam (file.h).
//
// The swap of one group of segments, whose first segment's base is B:
//   1. write the three `B.*.cleaned` files, fsync each
//   2. rename them to `B.*.swap` (the .log last: its rename is the commit
//      point), fsync the directory
//   3. rename each original segment's files to `.deleted`
//   4. rename `B.*.swap` to `B.*` (the .log last), fsync the directory
//   5. unlink the `.deleted` files at a later tick (PartitionLog::purge_deleted)
// The three fsyncs (of step 1, and of the directory in steps 2 and 4) are
// handed out as DiskWaits, so that the event loop need not wait for the
// disk: each step's next part runs once its fsync has returned.
// Directory changes reach the disk in order (a prefix of them survives a
// power loss), so at open: `*.cleaned` and any `.swap` without a
// `B.log.swap` are an uncommitted swap, deleted (the old log); a
// `B.log.swap` is a committed one, finished: every segment with a base in
// (B, end of the swap file) is deleted and the `.swap` files take their
// final names (the new log).
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "storage/file.h"
#include "storage/record_batch.h"
#include "storage/segment_index.h"

namespace rustlog {

// A blocking call that only waits for the disk (an fsync), handed out of a
// loop step: it may run on any thread, touches nothing but what it owns (its
// file descriptors, a directory path), and its result decides what the step
// that handed it out does next.
using DiskWait = std::function<Status()>;

// The directory's fsync, as a DiskWait.
DiskWait dir_sync_wait(const std::string& dir);

inline constexpr const char* kCleanedSuffix = ".cleaned";
inline constexpr const char* kSwapSuffix = ".swap";

// `<dir>/<20-digit base><ext><suffix>`, ext one of ".log", ".index", ".timeindex".
std::string segment_file_path(const std::string& dir, uint64_t base, const char* ext, const char* suffix = "");

// Writes a cleaned segment: whole batches in order, with the index entries
// IndexPolicy gives them (so the index files equal a rebuild from the log).
class CleanedSegmentWriter {
 public:
  CleanedSegmentWriter() = default;
  CleanedSegmentWriter(CleanedSegmentWriter&&) = default;
  CleanedSegmentWriter& operator=(CleanedSegmentWriter&&) = default;
  ~CleanedSegmentWriter();

  // Creates `<dir>/<base>.log.cleaned` (truncating a leftover one).
  static Result<CleanedSegmentWriter> create(const std::string& dir, uint64_t base, uint32_t index_interval);
  Status append(std::string_view batch, const BatchHeader& h);
  // Writes both index files and sets the log's modification time to
  // `last_append_us` (the broker time of the originals' newest append, which
  // retention and min.compaction.lag.ms read after a restart). Returns the
  // fsync of all three files (step 1's end), which owns their descriptors.
  Result<DiskWait> finish_writes(int64_t last_append_us);
  // finish_writes, then its fsync, here.
  Status finish(int64_t last_append_us);
  // Removes whatever .cleaned files were written.
  void abandon();

  uint64_t base() const { return base_; }
  uint64_t size_bytes() const { return size_; }
  uint64_t batches() const { return batches_; }
  uint64_t next_offset() const { return next_offset_; }

 private:
  std::string dir_;
  uint64_t base_ = 0;
  File log_;
  OffsetIndex oi_;
  TimeIndex ti_;
  IndexPolicy policy_{0};
  uint64_t size_ = 0;
  uint64_t batches_ = 0;
  uint64_t next_offset_ = 0;
  bool active_ = false;  // files exist that abandon() must remove
};

// Step 2's renames: `B.*.cleaned` -> `B.*.swap` (the log last); the caller fsyncs.
Status rename_cleaned_to_swap(const std::string& dir, uint64_t base);
// Step 4's renames: `B.*.swap` -> `B.*` (the log last); the caller fsyncs.
Status rename_swap_to_final(const std::string& dir, uint64_t base);
// Removes `B.*.cleaned` and `B.*.swap` (an uncommitted swap given up).
Status remove_swap_files(const std::string& dir, uint64_t base);

struct SwapRecovery {
  int undone = 0;     // uncommitted swaps whose files were deleted
  int finished = 0;   // committed swaps completed
  int segments_removed = 0;  // original segments a finished swap replaced
};
// At partition open, before the segments are listed.
Status finish_interrupted_swaps(const std::string& dir, SwapRecovery* out);

}  // namespace rustlog
