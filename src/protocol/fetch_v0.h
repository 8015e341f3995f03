#pragma once
// The v0 FetchResponse written record by record, straight into the frame:
// each value is copied once, from the stored batch into the answer, with no
// Record objects or per-record strings in between. The bytes are exactly
// those of FetchResponse -> encode_response for the same values.
//
//   FetchV0Encoder enc(start_offset, max_bytes);
//   enc.begin(frame);
//   for each stored record at or after start_offset, in order:
//     if (!enc.add(offset, value, frame)) break;   // max_bytes reached
//   enc.finish(frame, max_frame_bytes);
//
// The caller may add records over several calls (the broker reads a large
// fetch a slice per event-loop turn) before finish(). With splice_into(),
// pinned values of at least kSpliceMinBytes are spliced, not copied
// (common/splice.h; as in fetch_ex.h).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/splice.h"
#include "common/status.h"

namespace rustlog::protocol {

struct FetchV0Info {
  uint32_t records = 0;
  uint64_t next_offset = 0;
};

// Record selection: values in the order added until the next value would
// take the answer's value bytes (4 + length per record) past `max_bytes` (the
// first record always fits). next_offset = offset after the last record
// added, else `start_offset` (advance_to() moves it past batches without
// records).
class FetchV0Encoder {
 public:
  FetchV0Encoder(uint64_t start_offset, uint32_t max_bytes)
      : start_offset_(start_offset), max_bytes_(max_bytes), next_(start_offset) {}

  // Starts the frame at the end of `out`.
  void begin(std::string& out);
  // Pinned values go into `splices` from now on (emptied by begin() and a
  // failed finish()).
  void splice_into(Splices* splices) { splices_ = splices; }
  // Reserves room for the records of `stored_bytes` of whole batches (a
  // record never takes more room in the answer than in its batch).
  void reserve(std::string& out, size_t stored_bytes) const { out.reserve(out.size() + stored_bytes + 16); }
  // Appends one record (a tombstone as an empty value). False, adding
  // nothing, once max_bytes stops the answer; every later call is false too.
  // `value_pin` keeps the value's bytes valid until the frame is sent (may
  // be empty: copied).
  bool add(uint64_t offset, std::string_view value, std::string& out, const BytesPin& value_pin = {});
  // Completes the frame; 413 when it exceeds `max_frame_bytes` (then `out`
  // is cut back to where begin() found it).
  Status finish(std::string& out, uint32_t max_frame_bytes);

  // Moves next_offset to `offset` (when it is further and the answer is not
  // full): the batches added hold nothing more below it (a cleaned log's
  // gaps and header-only batches have no record to move it).
  void advance_to(uint64_t offset) {
    if (!full_ && offset > next_) next_ = offset;
  }
  uint64_t start_offset() const { return start_offset_; }
  FetchV0Info info() const { return {count_, next_}; }
  bool full() const { return full_; }

 private:
  uint64_t start_offset_;
  uint32_t max_bytes_;
  size_t start_ = 0;  // frame start in `out`
  uint32_t count_ = 0;
  uint64_t bytes_ = 0;
  uint64_t next_;
  Splices* splices_ = nullptr;
  size_t spliced_ = 0;  // bytes in *splices_
  bool full_ = false;
};

}  // namespace rustlog::protocol
