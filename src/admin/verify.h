#pragma once
// Offline, read-only verification of a data directory for `rustlog verify`.
// Unlike PartitionLog::open (which repairs: truncates torn tails, rewrites
// indexes, deletes temp files) this only looks: each segment goes through
// Segment::open + Segment::verify (every batch's CRC and offset continuity;
// both index files compared byte for byte with a rebuild from the log), and
// the partition is checked across segments and against the recovery-point
// checkpoint. Nothing on disk is created, changed or deleted.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "storage/log_config.h"
#include "common/status.h"

namespace rustlog::admin {

struct VerifyOptions {
  // The index files are compared with a rebuild that uses this interval, so
  // it must be the one the broker wrote them with. Unset: each topic's
  // index.interval.bytes from the data directory's topics.json, or the
  // default (4096) for a partition that file does not list.
  std::optional<uint32_t> index_interval_bytes;
};

struct SegmentSummary {
  std::string log_file;  // full path of the .log
  uint64_t base_offset = 0;
  uint64_t next_offset = 0;  // after the last readable batch
  uint64_t bytes = 0;
  uint64_t batches = 0;
  uint64_t records = 0;
  std::vector<std::string> problems;  // one line each, naming the file (and offsets)
};

struct PartitionSummary {
  std::string name;  // directory name, e.g. orders-0
  std::string path;
  uint32_t index_interval_bytes = 0;  // what the indexes were checked against
  std::vector<SegmentSummary> segments;
  uint64_t batches = 0;
  uint64_t records = 0;
  uint64_t bytes = 0;
  uint64_t first_offset = 0;  // log start offset: the first segment's base offset
  uint64_t next_offset = 0;   // log end offset
  std::optional<uint64_t> recovery_point;  // from the checkpoint file, when listed
  std::vector<std::string> problems;  // partition-level (overlaps, checkpoint past the end)
  std::vector<std::string> warnings;  // harmless leftovers recovery would clean up
  // Every problem of the partition and its segments, in file order.
  std::vector<std::string> all_problems() const;
  bool clean() const { return all_problems().empty(); }
};

struct VerifyReport {
  std::string path;
  std::vector<PartitionSummary> partitions;
  std::vector<std::string> warnings;  // data-directory level (checkpoint, topics.json)
  uint64_t problem_count() const;
  bool clean() const { return problem_count() == 0; }
};

// True when `dir` directly contains at least one <20 digits>.log file.
bool is_partition_dir(const std::string& dir);

// `path` is a data directory (every subdirectory that is a partition
// directory is verified) or a single partition directory. Errors (not
// problems) when the path is missing, not a directory, or holds no partition.
Result<VerifyReport> verify_data_dir(const std::string& path, const VerifyOptions& options = {});

}  // namespace rustlog::admin
