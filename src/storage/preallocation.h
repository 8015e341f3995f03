#pragma once
// How far ahead of its write position the active segment's file holds
// written zero blocks (docs/STORAGE.md, section 8, "Preallocation"). Policy
// only, no I/O: Segment asks before each append and writes the zeros.
//
// Why: an fdatasync that must also commit a size or extent change costs a
// journal commit more than one that only overwrites blocks already written.
// Appends overwrite preallocated zeros, so their fdatasync is the cheap kind;
// the size change is paid once per step. Zeros are written, not fallocate'd:
// an unwritten extent needs a metadata commit on its first write too.
#include <algorithm>
#include <cstdint>

namespace rustlog {

// The smallest step: a quiet partition keeps at most this much (or as much
// as it holds, whichever is more) of zeros ahead of its data.
inline constexpr uint64_t kPreallocateMinStep = 64 << 10;
inline constexpr uint64_t kPreallocateAlign = 4096;

// The file end to extend to (with zeros) before `n` bytes are written at
// `pos`, or 0 when nothing is to be done: preallocation is off (max_step 0)
// or the file already holds them with at least `min_tail` zeros after them
// (a shorter zero tail could be a torn batch's first bytes: rule Z, batch
// scanner). The step is the data already in the segment, between
// kPreallocateMinStep and max_step, so the zeros ahead never exceed the data
// written (plus the minimum), and never reach past segment_bytes + min_tail
// (the data never passes segment_bytes: the segment rolls first).
inline uint64_t preallocation_target(uint64_t pos, uint64_t n, uint64_t file_end, uint64_t max_step,
                                     uint64_t segment_bytes, uint64_t min_tail) {
  const uint64_t need = pos + n + min_tail;
  if (max_step == 0 || need <= file_end) return 0;
  const uint64_t step = std::clamp(pos, std::min(kPreallocateMinStep, max_step), max_step);
  uint64_t target = (pos + n + step + kPreallocateAlign - 1) / kPreallocateAlign * kPreallocateAlign;
  target = std::min(target, segment_bytes + min_tail);
  return target >= need ? target : 0;
}

}  // namespace rustlog
