#pragma once
// One segment of a partition log: `<20-digit base offset>.log` plus its
// `.index` and `.timeindex`. Only the active segment is appended to; once
// sealed it is immutable and read through a lazily created memory mapping
// (bounded by MmapCache). The active segment is read with pread, so every
// byte that append() returned for is readable at once.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/file.h"
#include "storage/mmap_cache.h"
#include "storage/record_batch.h"
#include "storage/segment_index.h"
#include "common/status.h"

namespace rustlog {

// What recovery and verification found in one segment.
struct SegmentScanReport {
  uint64_t bytes_scanned = 0;
  uint64_t bytes_truncated = 0;
  bool index_rebuilt = false;
  std::vector<std::string> corruptions;  // one line per corrupt range
};

// A located batch: where it starts and its header.
struct BatchLocation {
  uint64_t position = 0;
  BatchHeader header;
};

class Segment final : public MappedSegment {
 public:
  static std::string file_name(uint64_t base_offset, const char* ext);  // 0000...42.log
  static std::optional<uint64_t> parse_log_file_name(const std::string& name);

  // A new, empty segment (the files are created and the directory fsynced).
  static Result<std::unique_ptr<Segment>> create(const std::string& dir, uint64_t base_offset,
                                                 uint32_t index_interval, MmapCache* cache);
  // Opens an existing segment without validating all its batches: loads and
  // sanity-checks the indexes (marking them for rebuild when they fail) and
  // checks the few batches after the last index entry, regenerating their
  // entries, to learn the segment's end (entries missing from the files mark
  // them for rebuild too). Call recover_from() and/or rebuild_indexes_if_needed().
  // `writable` = false opens the log read-only (for `rustlog verify` on a
  // copy or another user's data): recover_from, rebuild and append then fail.
  static Result<std::unique_ptr<Segment>> open(const std::string& dir, uint64_t base_offset,
                                               uint32_t index_interval, MmapCache* cache,
                                               SegmentScanReport* report, bool writable = true);
  ~Segment() override;

  // Recovery of the part at or above `from_offset`: validates every batch
  // (length, CRC, offset order), truncates the file at the first invalid one
  // (a torn tail), and regenerates the index entries for what it scanned.
  Status recover_from(uint64_t from_offset, SegmentScanReport* report);
  // When open() found an index unusable: rebuilds both from the whole log,
  // reporting (not truncating) corrupt batches, and swaps them in atomically.
  Status rebuild_indexes_if_needed(SegmentScanReport* report);
  bool indexes_need_rebuild() const { return index_bad_; }
  // When no readable batch ends this (sealed) segment, its offsets run up to
  // where the next segment starts: reads there report the damage
  // (kCorruptRecord) instead of skipping to the next segment.
  void extend_unreadable_tail(uint64_t next_base);

  // --- writing (active segment only) ---
  // Appends one whole batch whose base offset is already set. On a failed
  // write the file is cut back to its previous size.
  Status append(std::string_view batch, const BatchHeader& h);
  Status flush();  // fdatasync of the log when it has unflushed bytes
  bool dirty() const { return dirty_; }
  // Makes the segment immutable: the index files are fully written; reads
  // go through the mapping from now on.
  Status seal();
  bool sealed() const { return sealed_; }
  // Makes an opened segment the active one (the last of its log).
  Status activate();

  // --- reading ---
  // The batch holding `offset` (or the first one after it when offsets have
  // gaps). kOffsetOutOfRange when offset >= next_offset().
  // kCorruptRecord names the unreadable offset range.
  Result<BatchLocation> locate(uint64_t offset);
  // Appends whole, CRC-checked batches starting at `loc` to `out` while they
  // fit in `max_bytes` (the first one always). Stops before a corrupt batch
  // (returning it as an error only when it is the first).
  Status read_batches(const BatchLocation& loc, size_t max_bytes, bool at_least_one,
                      std::string& out, uint64_t* next_offset);
  // First offset with timestamp >= ts in this segment, if any.
  Result<std::optional<uint64_t>> offset_for_time(int64_t ts);

  uint64_t base_offset() const { return base_; }
  uint64_t next_offset() const { return next_offset_; }
  uint64_t size_bytes() const { return size_; }
  int64_t max_timestamp() const { return max_ts_; }
  // Timestamp of the first batch (INT64_MIN when empty); drives segment.ms.
  int64_t first_timestamp() const { return first_ts_; }
  bool empty() const { return size_ == 0; }
  const OffsetIndex& offset_index() const { return oi_; }
  const TimeIndex& time_index() const { return ti_; }
  std::string log_path() const;
  std::string index_path() const;
  std::string time_index_path() const;

  Status remove_files();
  void unmap() override;

  // Full validation for `rustlog verify` (read-only): every batch's CRC and
  // continuity, and whether the index files equal a rebuild from the log.
  Status verify(SegmentScanReport* report, uint64_t* batches, uint64_t* records);

 private:
  Segment(std::string dir, uint64_t base, uint32_t interval, MmapCache* cache);
  Status load_indexes(SegmentScanReport* report);
  Status scan_tail(SegmentScanReport* report);
  // Validates batches from `pos` on, feeding the index policy. When
  // truncate is set the first invalid batch ends the segment; otherwise it is
  // reported and skipped by resynchronisation.
  Status scan_from(uint64_t pos, uint64_t expected_base, bool exact_base, bool truncate,
                   SegmentScanReport* report, uint64_t* batches, uint64_t* records);
  // Cuts the indexes back to the last entry at or below `rel` that has both
  // an offset and a time entry, and primes the policy there; returns the
  // position to scan from and its base offset.
  uint64_t rewind_indexes_to(uint32_t rel, uint64_t* expected_base);
  // Reads n bytes at pos: from the mapping when sealed, else pread into buf.
  Result<const uint8_t*> bytes_at(uint64_t pos, size_t n, std::string& buf);
  Status ensure_mapped();
  // Reads and validates (header, bounds, CRC if check_crc) the batch at pos.
  enum class BatchState { kOk, kEnd, kInvalid };
  BatchState read_batch_at(uint64_t pos, bool check_crc, BatchLocation* loc, std::string& buf);
  // Finds the next position after `pos` that holds a valid batch whose base
  // offset is >= min_offset (resynchronisation after corruption).
  std::optional<BatchLocation> resync(uint64_t pos, uint64_t min_offset, std::string& buf);
  Status write_indexes_atomically();
  Status append_index_entries(const IndexPolicy::Entry& e);
  std::string corrupt_range(uint64_t first, std::optional<BatchLocation> next) const;
  std::string path_for(const char* ext) const;

  std::string dir_;
  uint64_t base_;
  uint32_t interval_;
  MmapCache* cache_;
  File log_;
  File index_file_;
  File time_index_file_;
  OffsetIndex oi_;
  TimeIndex ti_;
  IndexPolicy policy_;
  uint64_t size_ = 0;
  uint64_t next_offset_;
  int64_t max_ts_ = INT64_MIN;
  int64_t first_ts_ = INT64_MIN;
  bool sealed_ = false;
  bool dirty_ = false;
  bool index_bad_ = false;
  bool scanning_ = false;
  bool index_files_stale_ = false;  // an index write failed; rewrite on seal
  bool tail_unreadable_ = false;    // the last scan ended in bytes holding no valid batch
  const uint8_t* map_ = nullptr;
  size_t map_len_ = 0;
};

}  // namespace rustlog
