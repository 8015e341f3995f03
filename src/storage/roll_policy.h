#pragma once
// When the active segment rolls (policy only; no I/O). Kafka's rules: the
// next batch would push the segment past segment_bytes, the first batch is
// older than segment_ms, or an offset would not fit the 32-bit relative
// offsets of the index. An empty segment never rolls.
#include <cstdint>
#include <limits>

#include "storage/log_config.h"

namespace rustlog {

struct ActiveSegmentState {
  uint64_t base_offset;
  uint64_t size_bytes;
  int64_t age_base_us;  // when its age for segment_ms starts
};

inline bool should_roll(const ActiveSegmentState& s, uint64_t batch_bytes, uint64_t batch_last_offset,
                        int64_t now_us, const LogConfig& cfg) {
  if (s.size_bytes == 0) return false;
  if (s.size_bytes + batch_bytes > cfg.segment_bytes) return true;
  if (s.size_bytes + batch_bytes > std::numeric_limits<uint32_t>::max()) return true;
  if (batch_last_offset - s.base_offset > std::numeric_limits<uint32_t>::max()) return true;
  return now_us - s.age_base_us >= cfg.segment_ms * 1000;
}

}  // namespace rustlog
