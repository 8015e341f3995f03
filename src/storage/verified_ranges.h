#pragma once
// The byte ranges of one segment whose batches are known good: their CRCs
// were checked by this process (a read or the recovery scan), or this
// process wrote them itself (append). A batch inside a known-good range is
// not checked again: sealed segments are immutable, and the active one is
// only appended to. The set lives in memory with its Segment and is never
// persisted, so every process checks each batch once before serving it
// (docs/STORAGE.md, "Verified once").
//
// Ranges are half-open [begin, end) byte positions on batch boundaries,
// kept disjoint and merged with their neighbours: a reader walking a
// segment front to back leaves one range.
#include <cstdint>
#include <cstddef>
#include <map>

namespace rustlog {

class VerifiedRanges {
 public:
  // Whether [begin, end) lies inside one known-good range.
  bool covers(uint64_t begin, uint64_t end) const;
  // [begin, end) is known good from now on.
  void add(uint64_t begin, uint64_t end);
  // The bytes at or after `pos` are gone (the file was cut there).
  void forget_from(uint64_t pos);
  void clear() { ranges_.clear(); }
  uint64_t bytes() const;    // total known-good bytes
  size_t ranges() const { return ranges_.size(); }

 private:
  std::map<uint64_t, uint64_t> ranges_;  // begin -> end
};

}  // namespace rustlog
