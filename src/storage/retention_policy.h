#pragma once
// Which sealed segments retention deletes (policy only; no I/O). Whole
// segments, oldest first, never the active one (the last):
// - time: a segment whose newest broker append time is at least
//   retention_ms old. Broker time, not the producer's timestamps, so a
//   timestamp in the future cannot pin a segment and one in the past cannot
//   expire fresh data. Deletion stops at the first segment still in time.
// - size: while the log minus the oldest segment still exceeds
//   retention_bytes, that segment goes (the log stays within
//   retention_bytes plus at most one segment).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "storage/log_config.h"

namespace rustlog {

struct RetainedSegment {
  uint64_t size_bytes;
  int64_t last_append_us;  // broker clock of its newest append
};

// How many of the oldest segments to delete; `segs` is the whole log, oldest
// first, the last one active.
inline size_t segments_to_delete(const std::vector<RetainedSegment>& segs, int64_t now_us,
                                 const LogConfig& cfg) {
  if (segs.size() < 2) return 0;
  const size_t sealed = segs.size() - 1;
  size_t n = 0;
  if (cfg.retention_ms >= 0)
    while (n < sealed && now_us - segs[n].last_append_us >= cfg.retention_ms * 1000) ++n;
  if (cfg.retention_bytes >= 0) {
    uint64_t total = 0;
    for (const auto& s : segs) total += s.size_bytes;
    for (size_t i = 0; i < n; ++i) total -= segs[i].size_bytes;
    while (n < sealed && total - segs[n].size_bytes >= static_cast<uint64_t>(cfg.retention_bytes)) {
      total -= segs[n].size_bytes;
      ++n;
    }
  }
  return n;
}

}  // namespace rustlog
