#pragma once
// The legacy (v0) FetchResponse written straight from record-batch bytes:
// the values are copied once, from the batches read from the log into the
// response frame, with no Record objects or per-record strings in between.
// The bytes on the wire are exactly those of
//   decode_batches(batches, start_offset) -> FetchResponse -> encode_response.
//
// The encoder takes the batches in pieces (LegacyFetchEncoder::add), so the
// broker can read a large fetch a slice at a time, one slice per event-loop
// turn, without holding up the other connections.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace rustlog {

struct LegacyFetchInfo {
  uint32_t records = 0;
  uint64_t next_offset = 0;
};

// Record selection: the records at or after `start_offset`, in order, until
// the next value would take the answer's value bytes (4 + length per record)
// past `max_bytes` (at least one record when there is one); a tombstone is an
// empty value. next_offset = offset after the last record returned, else
// `start_offset` (advance_to() moves it past batches without records).
class LegacyFetchEncoder {
 public:
  LegacyFetchEncoder(uint64_t start_offset, uint32_t max_bytes, bool check_crc)
      : start_offset_(start_offset), max_bytes_(max_bytes), check_crc_(check_crc), next_(start_offset) {}

  // Starts the frame at the end of `out`.
  void begin(std::string& out);
  // Appends the selected records of `batches` (whole batches, following
  // those added before). *full is set once max_bytes stops the answer (later
  // calls add nothing). kCorruptRecord for a malformed batch; the records
  // added before it stay.
  Status add(std::string_view batches, std::string& out, bool* full);
  // Completes the frame; 413 when it exceeds `max_frame_bytes` (then `out`
  // is cut back to where begin() found it).
  Status finish(std::string& out, uint32_t max_frame_bytes);

  // Moves next_offset to `offset` (when it is further and the answer is not
  // full): the batches added hold nothing more below it.
  void advance_to(uint64_t offset) {
    if (!full_ && offset > next_) next_ = offset;
  }
  LegacyFetchInfo info() const { return {count_, next_}; }
  bool full() const { return full_; }

 private:
  uint64_t start_offset_;
  uint32_t max_bytes_;
  bool check_crc_;
  size_t start_ = 0;  // frame start in `out`
  uint32_t count_ = 0;
  uint64_t bytes_ = 0;
  uint64_t next_;
  bool full_ = false;
};

// One-shot: the whole frame for `batches`. On failure `out` is left as it
// was: kCorruptRecord for a malformed batch, 413 when the frame would exceed
// `max_frame_bytes`. `check_crc` re-verifies each batch's CRC (not needed for
// bytes that PartitionLog::read just verified).
Status append_legacy_fetch_response(std::string_view batches, uint64_t start_offset, uint32_t max_bytes,
                                    uint32_t max_frame_bytes, bool check_crc, std::string& out,
                                    LegacyFetchInfo* info = nullptr);

}  // namespace rustlog
