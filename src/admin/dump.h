#pragma once
// Offline, read-only walk over one segment's .log file for `rustlog dump`
// (in the manner of kafka-dump-log): every batch with its position, header
// fields and CRC verdict, optionally every record. A damaged region does not
// end the walk: it is reported as a problem and the walk resynchronises on
// the next position that holds a whole, CRC-valid batch, as Segment does.
// The walk streams through callbacks so that a 1 GiB segment never has to be
// held decoded in memory; dump_segment() collects everything for tests.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/record.h"
#include "storage/record_batch.h"
#include "common/status.h"

namespace rustlog::admin {

struct DumpOptions {
  bool records = false;                 // decode and report every record
  uint64_t max_batches = UINT64_MAX;    // stop after this many batches
};

struct DumpedBatch {
  uint64_t position = 0;      // byte position in the .log file
  BatchHeader header;
  uint32_t computed_crc = 0;  // compute_batch_crc() of the bytes as found on disk
  bool crc_ok = false;
  std::vector<Record> records;  // filled with DumpOptions::records when the batch decodes
  std::string decode_error;     // why the records did not decode (CRC-valid batches only)
  uint64_t gap_before = 0;      // offsets between the previous batch and this one (compaction removed them)
};

// A range of the file that does not hold valid batches.
struct DumpProblem {
  uint64_t position = 0;                  // where the damage starts
  std::optional<uint64_t> resume_position;  // the next valid batch, if any
  uint64_t first_offset = 0;              // first offset that is unreadable
  std::optional<uint64_t> resume_offset;  // base offset of the next valid batch
  std::string message;                    // one line naming the file, bytes and offsets
};

struct DumpSummary {
  std::string path;
  uint64_t file_bytes = 0;
  std::optional<uint64_t> base_offset;  // from a 20-digit file name
  uint64_t batches = 0;
  uint64_t records = 0;
  uint64_t problems = 0;
  uint64_t end_position = 0;  // where the walk stopped (file_bytes unless limited)
  bool limited = false;  // stopped by max_batches before the end of the file
  // Zeros from the end of the data to the end of the file: an active
  // segment's preallocated space, never written (docs/STORAGE.md, rule Z).
  uint64_t zero_tail_bytes = 0;
};

struct DumpVisitor {
  std::function<void(const DumpedBatch&)> on_batch;
  std::function<void(const DumpProblem&)> on_problem;
};

// Walks `log_path` (opened O_RDONLY and never written). Errors only when the
// file cannot be read at all; damage inside it goes to on_problem.
Result<DumpSummary> walk_segment(const std::string& log_path, const DumpOptions& options,
                                 const DumpVisitor& visitor);

struct SegmentDump {
  DumpSummary summary;
  std::vector<DumpedBatch> batches;
  std::vector<DumpProblem> problems;
};
Result<SegmentDump> dump_segment(const std::string& log_path, const DumpOptions& options = {});

}  // namespace rustlog::admin
