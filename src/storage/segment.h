#pragma once
// One segment of a partition log: `<20-digit base offset>.log` plus its
// `.index` and `.timeindex`. Only the active segment is appended to; once
// sealed it is immutable and read through a lazily created memory mapping;
// its log descriptor is opened lazily too and both are bounded by the
// SegmentCache. The active segment keeps its descriptors open and is read
// with pread, so every byte that append() returned for is readable at once.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/splice.h"
#include "common/status.h"
#include "storage/batch_scanner.h"
#include "storage/file.h"
#include "storage/segment_cache.h"
#include "storage/record_batch.h"
#include "storage/segment_index.h"
#include "storage/verified_ranges.h"

namespace rustlog {

// Suffix of segment files retention or compaction has taken out of the log.
inline constexpr const char* kSegmentDeletedSuffix = ".deleted";

// What recovery and verification found in one segment.
struct SegmentScanReport {
  uint64_t bytes_scanned = 0;
  uint64_t bytes_truncated = 0;  // torn or invalid bytes cut (a zero tail after them not counted)
  uint64_t truncations = 0;      // segments cut at a torn tail
  bool index_rebuilt = false;
  std::vector<std::string> corruptions;  // one line per corrupt range
};

// A located batch: where it starts and its header.
struct BatchLocation {
  uint64_t position = 0;
  BatchHeader header;
};

// How much a read may return: whole batches while the total stays within
// max_bytes, except that the first batch is returned whenever it is at most
// first_batch_max (so a read always makes progress); never a batch whose
// base offset is at or past max_offset (what the reader may not see yet).
struct ReadLimits {
  size_t max_bytes = SIZE_MAX;
  size_t first_batch_max = SIZE_MAX;
  uint64_t max_offset = UINT64_MAX;
};

// Receives one whole stored batch of a read (Segment::visit_batches). The
// view is valid during the call; `pin`, when not empty, keeps it valid for
// as long as it is held (the batch is in a sealed segment's mapping), so an
// answer may send the bytes from there later (common/splice.h).
using BatchVisitor = std::function<void(std::string_view batch, const BytesPin& pin)>;

// A segment's offset index as the batch scanner's anchors: entry (r, p)
// claims that the batch with base offset base + r starts at byte p.
class IndexAnchors final : public BatchAnchors {
 public:
  IndexAnchors(const OffsetIndex& oi, uint64_t base) : oi_(oi), base_(base) {}
  std::optional<BatchAnchor> first_after(uint64_t pos) const override {
    const size_t i = oi_.first_at_or_after_position(pos + 1);
    if (i >= oi_.size()) return std::nullopt;
    return BatchAnchor{oi_.pos_at(i), base_ + oi_.rel_at(i)};
  }

 private:
  const OffsetIndex& oi_;
  uint64_t base_;
};

class Segment final : public CachedSegment {
 public:
  static std::string file_name(uint64_t base_offset, const char* ext);  // 0000...42.log
  static std::optional<uint64_t> parse_log_file_name(const std::string& name);

  // A new, empty segment (the files are created and the directory fsynced).
  static Result<std::unique_ptr<Segment>> create(const std::string& dir, uint64_t base_offset,
                                                 uint32_t index_interval, SegmentCache* cache);
  // Opens an existing segment without validating all its batches: loads and
  // sanity-checks the indexes (marking them for rebuild when they fail) and
  // checks the few batches after the last index entry, regenerating their
  // entries, to learn the segment's end (entries missing from the files mark
  // them for rebuild too). Call recover_from() and/or rebuild_indexes_if_needed().
  // `writable` = false opens the log read-only (for `rustlog verify` on a
  // copy or another user's data): recover_from, rebuild and append then fail.
  static Result<std::unique_ptr<Segment>> open(const std::string& dir, uint64_t base_offset,
                                               uint32_t index_interval, SegmentCache* cache,
                                               SegmentScanReport* report, bool writable = true);
  ~Segment() override;

  // Recovery of the part at or above `from_offset` (the recovery point):
  // validates every batch from the index entry at or below it (length, CRC,
  // offset order) and regenerates their index entries. The first invalid
  // batch at or above from_offset is a torn tail: the file is cut there.
  // Below it every batch was durable: damage there is reported and skipped,
  // never cut, and the segment's offsets reach at least from_offset, so none
  // that was acknowledged is ever assigned again.
  Status recover_from(uint64_t from_offset, SegmentScanReport* report);
  // When open() found an index unusable: rebuilds both from the whole log,
  // reporting (not truncating) corrupt batches, and swaps them in atomically.
  Status rebuild_indexes_if_needed(SegmentScanReport* report);
  bool indexes_need_rebuild() const { return index_bad_; }
  // When no readable batch ends this (sealed) segment, its offsets run up to
  // where the next segment starts: reads there report the damage
  // (kCorruptRecord) instead of skipping to the next segment.
  void extend_unreadable_tail(uint64_t next_base);
  // The last scan ended in bytes holding no proven batch start.
  bool tail_unreadable() const { return tail_unreadable_; }

  // --- writing (active segment only) ---
  // Appends one whole batch whose base offset is already set. On a failed
  // write the file is cut back to its previous size.
  Status append(std::string_view batch, const BatchHeader& h);
  // Appends consecutive whole batches (`bytes` is their concatenation, `hs`
  // their headers in order) in one write: all of them or, on a failed
  // write, none (the file is cut back to its previous size).
  Status append_run(std::string_view bytes, std::span<const BatchHeader> hs);
  Status flush();  // fdatasync of the log when it has unflushed bytes
  bool dirty() const { return dirty_; }
  // Preallocation of the active segment (preallocation.h): before an append
  // that the file does not hold yet, zeros are written ahead of it, at most
  // max_step bytes at a time (0: never), never past segment_bytes.
  void set_preallocation(uint64_t max_step, uint64_t segment_bytes) {
    prealloc_max_ = max_step;
    prealloc_cap_ = segment_bytes;
  }
  // The file's size on disk: size_bytes() plus the zero tail (rule Z).
  uint64_t file_bytes() const { return file_end_; }
  // Cuts the zero tail off (ftruncate to size_bytes(), then fsync); a
  // no-op without one. seal() does it first; recovery for sealed segments.
  Status trim();
  // Makes the segment immutable: the zero tail is trimmed, the index files
  // are fully written; reads go through the mapping from now on.
  Status seal();
  bool sealed() const { return sealed_; }
  // Makes an opened segment the active one (the last of its log).
  Status activate();

  // --- reading ---
  // The batch holding `offset` (or the first one after it when offsets have
  // gaps). kOffsetOutOfRange when offset >= next_offset().
  // kCorruptRecord names the unreadable offset range. The index entry it
  // starts from must point at a batch with the entry's offset; when it does
  // not, the index (not the log) is at fault and is rebuilt.
  Result<BatchLocation> locate(uint64_t offset);
  // Hands whole, verified batches starting at `loc`, within `limits`, to
  // `visit`, one batch per call; the view points into the mapping (and comes
  // with its pin) or, for the active segment, into a read buffer (valid
  // during the call only: no pin).
  // Stops before a corrupt batch (returning it as an error only when it is
  // the first). *bytes: what was handed out.
  Status visit_batches(const BatchLocation& loc, const ReadLimits& limits, const BatchVisitor& visit,
                       uint64_t* next_offset, size_t* bytes);
  // visit_batches copying the batches to the end of `out`.
  Status read_batches(const BatchLocation& loc, const ReadLimits& limits, std::string& out,
                      uint64_t* next_offset);
  // First offset with timestamp >= ts in this segment, if any.
  Result<std::optional<uint64_t>> offset_for_time(int64_t ts);

  uint64_t base_offset() const { return base_; }
  uint64_t next_offset() const { return next_offset_; }
  uint64_t size_bytes() const { return size_; }  // the data, without a zero tail
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
  // Closes the log descriptor of a sealed, flushed segment (the cache's
  // eviction); the next read that needs it reopens the file.
  bool close_file() override;
  bool file_open() const { return log_.is_open(); }
  // Retention's deletion, in two steps: the files are renamed to
  // `<name>.deleted` (the segment leaves the log; open descriptors and
  // mappings stay valid), then unlinked once nothing reads them.
  Status rename_to_deleted();
  Status unlink_deleted();

  // Broker clock (us) of the newest append; for a segment opened from disk,
  // the log file's modification time (the broker's own last write to it).
  int64_t last_append_us() const { return last_append_us_; }
  void set_last_append_us(int64_t us) { last_append_us_ = us; }

  // The byte ranges whose batches are known good (verified_ranges.h): CRC-
  // checked by a read or recovery of this process, or appended by it. Reads
  // do not check them again; verify() always does.
  const VerifiedRanges& verified() const { return verified_; }

  // Full validation for `rustlog verify` (read-only): every batch's CRC and
  // continuity, and whether the index files equal a rebuild from the log.
  Status verify(SegmentScanReport* report, uint64_t* batches, uint64_t* records);

  class Bytes;  // the segment's bytes as a ByteSource, for the batch scanner (and the cleaner)

 private:
  Segment(std::string dir, uint64_t base, uint32_t interval, SegmentCache* cache);
  Status load_indexes(SegmentScanReport* report);
  Status scan_tail(SegmentScanReport* report);
  // The batch scanner's start for this segment at `pos`, remembering and
  // using what is known good (verified_).
  ScanStart scan_start(uint64_t pos, uint64_t next_offset, bool exact_first = false,
                       const BatchAnchors* anchors = nullptr);
  // Validates batches from `start` on, feeding the index policy (indexes in
  // memory only). A fault where the log continues at an offset >= truncate_from
  // is a torn tail: the file is cut there and the scan ends. A fault below it
  // (bytes known durable) is corruption: reported and skipped, never cut.
  static constexpr uint64_t kNeverTruncate = UINT64_MAX;
  Status scan_from(const ScanStart& start, uint64_t truncate_from, SegmentScanReport* report,
                   uint64_t* batches, uint64_t* records);
  // Empties both indexes and starts the index policy at position 0.
  void restart_indexes();
  // Cuts the indexes back to the last entry at or below `rel` that has both
  // an offset and a time entry, and primes the policy there; returns the
  // position to scan from and its base offset. When that time entry, read
  // from the file, does not hold (*entry_bad), the indexes restart at byte 0.
  Result<uint64_t> rewind_indexes_to(uint32_t rel, uint64_t* expected_base, bool* entry_bad);
  // Reads n bytes at pos: from the mapping when sealed, else pread into buf.
  Result<const uint8_t*> bytes_at(uint64_t pos, size_t n, std::string& buf);
  Status ensure_mapped();
  // The log descriptor, reopened (and registered with the cache) when the
  // cache closed it. A failure is a read error naming the file and what to
  // do; nothing else changes.
  Status ensure_open();
  Status write_indexes_atomically();
  // Extends the file with zeros before n bytes are appended, as the policy
  // says. A full disk is not an error here (the file is cut back and the
  // append itself meets the full disk); any other failure is.
  Status preallocate_for(uint64_t n);
  void index_in_memory(const IndexPolicy::Entry& e);
  Status append_index_entries(const IndexPolicy::Entry& e);  // memory and files
  // An index entry did not hold what it claims: the indexes are rebuilt
  // from the log (once per segment), and the damage is reported.
  Status repair_indexes_after_bad_entry(const std::string& what);
  // Whether time-index entry i (loaded from the file) states what the log
  // says: the largest timestamp before its offset, reached exactly where the
  // index policy would have written it, given entry i-1. nullopt when
  // damage in the log leaves it undecided.
  Result<std::optional<bool>> time_entry_holds(size_t i);
  // The kCorruptRecord message for a fault event of the scanner.
  std::string corrupt_range(const ScanEvent& fault) const;
  Status corrupt(const ScanEvent& fault) const {
    return Status(ErrorCode::kCorruptRecord, corrupt_range(fault));
  }
  std::string path_for(const char* ext) const;

  std::string dir_;
  uint64_t base_;
  uint32_t interval_;
  SegmentCache* cache_;
  File log_;
  File index_file_;
  File time_index_file_;
  OffsetIndex oi_;
  TimeIndex ti_;
  IndexPolicy policy_;
  uint64_t size_ = 0;       // the data: whole batches (or a damaged range recovery kept)
  uint64_t file_end_ = 0;   // the file's size: size_ plus the zero tail
  uint64_t prealloc_max_ = 0;
  uint64_t prealloc_cap_ = 0;
  uint64_t next_offset_;
  int64_t max_ts_ = INT64_MIN;
  int64_t first_ts_ = INT64_MIN;
  int64_t last_append_us_ = 0;
  bool sealed_ = false;
  bool writable_ = true;  // false: opened read-only (verify), nothing is written
  bool dirty_ = false;
  bool renamed_ = false;  // the log file is now `<name>.deleted` (reopen by that name)
  bool index_bad_ = false;
  bool index_repaired_ = false;     // an entry failed when used and the indexes were rebuilt
  // The offset index as read from the file, even when open() rejected it:
  // the anchors of the scans that rebuild or recover the indexes (each
  // entry is checked before use). Dropped once those scans are done.
  OffsetIndex file_oi_;
  // Time-index entries read from the file and not checked against the log
  // yet (entries past its end were derived from the log by this process).
  std::vector<bool> time_entry_unchecked_;
  bool index_files_stale_ = false;  // an index write failed; rewrite on seal
  bool tail_unreadable_ = false;    // the last scan ended in bytes holding no valid batch
  // The mapping, shared with the answers that send bytes from it: unmap()
  // drops the segment's hold, the pages go when the last answer is sent.
  BytesPin map_;
  const uint8_t* map_base_ = nullptr;  // map_'s bytes
  size_t map_len_ = 0;
  VerifiedRanges verified_;
};

class Segment::Bytes final : public ByteSource {
 public:
  explicit Bytes(Segment& s) : s_(s) {}
  uint64_t size() const override { return s_.size_; }
  Result<const uint8_t*> bytes(uint64_t pos, size_t n) override { return s_.bytes_at(pos, n, buf_); }

 private:
  Segment& s_;
  std::string buf_;  // pread target while the segment is active
};

}  // namespace rustlog
