#pragma once
// Bytes an answer sends from where they already are (a sealed segment's
// mapping) instead of copying them into its frame. A frame is then its own
// bytes with views spliced in at given positions: the bytes that leave are
// own[0, at1) view1 own[at1, at2) view2 ... own[atN, end). Each view's pin
// keeps what it points into alive (the segment's mapping, even after the
// segment is unmapped, deleted by retention or swapped by compaction) until
// the frame has been sent (broker/output_queue.h).
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace rustlog {

// Keeps the bytes of a view valid while it is held; empty when the bytes
// are only valid for the duration of a call (they must be copied).
using BytesPin = std::shared_ptr<const void>;

struct Splice {
  size_t at = 0;  // position in the frame's own bytes where `bytes` go
  std::string_view bytes;
  BytesPin pin;
};

using Splices = std::vector<Splice>;

// Values at least this large are spliced rather than copied when their bytes
// are pinned: below it, a copy costs less than one more buffer to send.
inline constexpr size_t kSpliceMinBytes = 8 * 1024;

inline size_t spliced_bytes(const Splices& s) {
  size_t n = 0;
  for (const Splice& x : s) n += x.bytes.size();
  return n;
}

// The bytes that leave, as one string (tests, and callers that need a copy).
inline std::string flatten(std::string_view own, const Splices& splices) {
  std::string out;
  out.reserve(own.size() + spliced_bytes(splices));
  size_t pos = 0;
  for (const Splice& s : splices) {
    out.append(own.substr(pos, s.at - pos));
    out.append(s.bytes);
    pos = s.at;
  }
  out.append(own.substr(pos));
  return out;
}

}  // namespace rustlog
